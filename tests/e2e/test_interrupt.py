"""Ctrl-C (SIGINT) during a long command: the command stops at its next unit of work,
exits with status 14 (Cancelled) saying so, and leaves the repository consistent.

To interrupt ingest-raws at a known point, the first file it reads is a named pipe: the
ingest blocks reading that "raw" until the test writes into it, so the SIGINT arrives while
the headers are being read, every time.

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e/test_interrupt.py
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import time

import pytest

from conftest import EXIT, assert_consistent, datasets, record_count
from test_ingest import simulate


@pytest.fixture(scope="module")
def comcam(tmp_path_factory) -> pathlib.Path:
    """2 LSSTComCam exposures x 9 detectors, real-sized headers and 1x1-pixel amplifiers."""
    return simulate(tmp_path_factory.mktemp("comcam"), "LSSTComCam", 2, "--tiny")


def read_until(stream, text: str, timeout: float = 60) -> str:
    """What the process wrote to `stream` until `text` appeared (no newline needed: a bar)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        assert time.monotonic() < deadline, f"'{text}' not written within {timeout} s: {seen!r}"
        chunk = os.read(stream.fileno(), 4096)
        assert chunk, f"the process closed its output before writing '{text}': {seen!r}"
        seen += chunk
    return seen.decode(errors="replace")


def wait_for_fifo_open(pid: int, timeout: float = 30):
    """Waits until the process is blocked opening a named pipe (Linux; elsewhere returns)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pathlib.Path(f"/proc/{pid}/wchan").read_text() in ("wait_for_partner", "fifo_open"):
                return
        except OSError:
            return
        time.sleep(0.05)


def test_sigint_stops_ingest_raws_with_exit_14_and_a_consistent_repository(butler, repo, comcam, tmp_path):
    butler("register-instrument", repo, "LSSTComCam")
    pipe = tmp_path / "interrupt.fits"
    os.mkfifo(pipe)
    # --progress draws the bar on the pipe too: its first frame says the headers are being read.
    proc = butler.popen("ingest-raws", "--progress", "-j", "1", "-t", "copy", repo, pipe, comcam / "raw",
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        read_until(proc.stderr, "reading headers")
        wait_for_fifo_open(proc.pid)
        proc.send_signal(signal.SIGINT)
        # Let the blocked read end (the process checks for the cancel before the next file).
        while proc.poll() is None:
            try:
                fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader yet
                time.sleep(0.05)
                continue
            os.write(fd, b"not a raw\n")
            os.close(fd)
            break
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err.decode()
    assert proc.returncode == EXIT["Cancelled"], err
    assert "Error: interrupted (SIGINT) while reading headers" in err, err
    assert "run the same command again" in err, err
    assert b"Ingested" not in out  # no summary: the command did not finish

    # Nothing was ingested (no dataset, no exposure), and no file is left behind.
    butler("cleanup", repo)
    assert assert_consistent(butler, repo) == {}
    assert record_count(butler, repo, "exposure") == 0
    # The same ingest without the pipe then does everything.
    again = butler("ingest-raws", "--no-progress", "-t", "copy", repo, comcam / "raw")
    assert "Ingested 18 raw file(s)" in again.stdout, again.output
    assert len(datasets(butler, repo, "raw", "--collections", "LSSTComCam/raw/all")) == 18
    assert len(assert_consistent(butler, repo)) == 18
    assert record_count(butler, repo, "exposure") == 2


def test_progress_options(butler, repo, comcam):
    butler("register-instrument", repo, "LSSTComCam")
    # Standard error is a pipe here: a bar only with --progress; quick commands print no log line.
    quiet = butler("ingest-raws", "-t", "copy", repo, comcam / "raw")
    assert "reading headers" not in quiet.stderr and "ingesting" not in quiet.stderr, quiet.stderr
    bar = butler("define-visits", "--progress", repo, "LSSTComCam")
    assert "defining visits [" in bar.stderr and "/s" in bar.stderr, bar.stderr
    none = butler("define-visits", "--progress", "--no-progress", repo, "LSSTComCam")
    assert "defining visits" not in none.stderr, none.stderr
    for command in ("ingest-raws", "define-visits", "register-skymap", "import", "ingest-files"):
        help_text = butler(command, "--help").stdout
        assert "--progress" in help_text and "--no-progress" in help_text, command


def test_log_lines_when_standard_error_is_not_a_terminal(butler, repo, comcam, tmp_path):
    """A phase that lasts more than 5 s gets periodic log lines, and one when it ends."""
    butler("register-instrument", repo, "LSSTComCam")
    pipe = tmp_path / "slow.fits"
    os.mkfifo(pipe)
    proc = butler.popen("ingest-raws", "-j", "1", "-t", "copy", repo, pipe, comcam / "raw",
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_fifo_open(proc.pid)
        time.sleep(6)  # the first file takes longer than the 5 s between log lines
        with open(pipe, "wb") as w:
            w.write(b"not a raw\n")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err.decode()
    assert proc.returncode != 0 and f"Failed: {pipe}" in err, err  # the pipe is no raw
    assert "\r" not in err and "\033" not in err, err  # no bar
    lines = [l for l in err.splitlines() if l.startswith("info reading headers: ")]
    assert len(lines) == 2, err
    assert lines[0].startswith("info reading headers: 1/19 (") and "ETA" in lines[0], err
    assert lines[1].startswith("info reading headers: 19/19 done ("), err
    assert "info ingesting" not in err  # a quick phase prints nothing
    assert b"Ingested 18 raw file(s)" in out
