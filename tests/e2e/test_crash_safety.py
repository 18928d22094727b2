"""kill -9 a writer in the middle of a large ingest-files or import, then open the repository:
every dataset has its file, and the files the dead writer left are removed by the next
writing command (or `butler cleanup`), never kept as orphans. Sources are never lost."""

import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import assert_consistent, datasets, dataset_uris, stored_files, uri_path

N_INGEST = 3000   # small files; the kill comes long before the end
N_IMPORT = 1500
HTM7_BASE = 131072  # the first htm7 index (level 7: 8·4^7 … 16·4^7 − 1)


def make_sources(directory, n, prefix="f"):
    directory.mkdir(parents=True, exist_ok=True)
    rows = ["path,htm7"]
    for i in range(n):
        (directory / f"{prefix}{i}.dat").write_text(f"shard {i}\n")
        rows.append(f"{prefix}{i}.dat,{HTM7_BASE + i}")
    (directory / "table.csv").write_text("\n".join(rows) + "\n")
    return directory / "table.csv"


def count_files(directory):
    n = 0
    for _, _, files in os.walk(directory):
        n += len(files)
    return n


def kill_when(proc, directory, at_least, timeout=120):
    """SIGKILLs `proc` once `directory` holds `at_least` files; returns how many there were."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the writer finished before it could be killed (exit {proc.returncode}): {err}")
        if directory.exists() and count_files(directory) >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return count_files(directory)
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no {at_least} files appeared under {directory} in {timeout} s")


def orphans(butler, repo):
    referenced = {uri_path(u) for u in dataset_uris(butler, repo).values()}
    return stored_files(repo) - referenced


@pytest.fixture
def with_refcat(butler, repo, tmp_path):
    """A refcat-like dataset type sharded by htm7 (no dimension records needed), and a run
    that already holds committed datasets with files."""
    butler("register-dataset-type", repo, "refcat", "SimpleCatalog", "htm7")
    table = make_sources(tmp_path / "committed", 20, prefix="c")
    butler("ingest-files", repo, "refcat", "refcats/committed", table, "--prefix", tmp_path / "committed", "-t", "copy")
    return repo


@pytest.mark.parametrize("transfer", ["copy", "move", "symlink"])
def test_kill_during_ingest_files(butler, with_refcat, tmp_path, transfer):
    repo = with_refcat
    table = make_sources(tmp_path / "incoming", N_INGEST)
    proc = butler.popen("ingest-files", repo, "refcat", "refcats/big", table, "--prefix", tmp_path / "incoming",
                        "-t", transfer, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    present = kill_when(proc, repo.path / "refcats" / "big", 50)
    assert present >= 50

    # Straight after the crash: the interrupted run has no datasets, its files are orphans.
    assert {r["run"] for r in datasets(butler, repo)} == {"refcats/committed"}
    assert len(orphans(butler, repo)) >= 50
    # No source is lost (a move removes its sources only once the registry has committed).
    assert all((tmp_path / "incoming" / f"f{i}.dat").exists() for i in range(N_INGEST))

    # The next writing command that touches the run cleans up by itself, then succeeds.
    small = make_sources(tmp_path / "retry", 10, prefix="r")
    r = butler("ingest-files", repo, "refcat", "refcats/big", small, "--prefix", tmp_path / "retry", "-t", transfer)
    assert "interrupted" in r.stderr
    uris = assert_consistent(butler, repo)
    assert len(uris) == 20 + 10
    # Removing the dead writer's links or copies left every source intact.
    assert all((tmp_path / "incoming" / f"f{i}.dat").read_text() == f"shard {i}\n" for i in range(N_INGEST))
    if transfer == "move":
        assert not any((tmp_path / "retry" / f"r{i}.dat").exists() for i in range(10))


def write_export(directory, n, run):
    """An export (format 1.0.2) of `n` refcat shards with their files, laid out as
    `butler export --transfer copy` writes it. Returns index → dataset ID."""
    (directory / run).mkdir(parents=True, exist_ok=True)
    ids = {i: str(uuid.uuid4()) for i in range(n)}
    lines = ["description: Butler Data Repository Export", "version: 1.0.2", "universe_version: 8",
             "universe_namespace: daf_butler", "data:",
             f"- {{type: collection, collection_type: RUN, name: {run}, host: null, timespan_begin: null, "
             "timespan_end: null}",
             "- {type: dataset_type, name: refcat, dimensions: [htm7], storage_class: SimpleCatalog, "
             "is_calibration: false}",
             f"- type: dataset\n  dataset_type: refcat\n  run: {run}\n  records:"]
    for i in range(n):
        name = f"refcat_{HTM7_BASE + i}.dat"
        (directory / run / name).write_text(f"imported shard {i}\n")
        lines.append(f"  - {{dataset_id: [!uuid '{ids[i]}'], data_id: [{{htm7: {HTM7_BASE + i}}}], path: {run}/{name}}}")
    (directory / "export.yaml").write_text("\n".join(lines) + "\n")
    return ids


def test_kill_during_import(butler, with_refcat, tmp_path):
    repo = with_refcat
    ids = write_export(tmp_path / "export", N_IMPORT, "refcats/imported")
    target = repo.path / "refcats" / "imported"
    # Killed three times at different depths; each time a different command cleans up.
    for at_least, recover in ((1, "cleanup"), (150, "write"), (500, "cleanup")):
        proc = butler.popen("import", repo, tmp_path / "export", "-t", "copy",
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        kill_when(proc, target, at_least)
        assert "refcats/imported" not in {r["run"] for r in datasets(butler, repo)}
        left = orphans(butler, repo)
        assert len(left) >= at_least
        if recover == "cleanup":
            r = butler("cleanup", repo)
            assert f"Removed {len(left)} file(s) left by interrupted writes" in r.stdout
        else:
            butler("register-dataset-type", repo, f"other{at_least}", "StructuredDataDict")
        uris = assert_consistent(butler, repo)
        assert len(uris) == 20
        assert stored_files(repo) == {uri_path(u) for u in uris.values()}

    # The import then completes, and every file is there with its content.
    butler("import", repo, tmp_path / "export", "-t", "copy")
    uris = assert_consistent(butler, repo)
    imported = {r["id"] for r in datasets(butler, repo, "--collections", "refcats/imported")}
    assert imported == set(ids.values())
    by_id = {v: k for k, v in ids.items()}
    for dataset_id in imported:
        assert uri_path(uris[dataset_id]).read_text() == f"imported shard {by_id[dataset_id]}\n"


@pytest.mark.parametrize("command", ["ingest-files", "import"])
def test_recovery_spares_a_live_writer(butler, with_refcat, tmp_path, command):
    """`butler cleanup`, and the clean-up every writing command does when it opens the
    repository, must not touch the files of a writer that is still running."""
    repo = with_refcat
    if command == "ingest-files":
        table = make_sources(tmp_path / "incoming", N_IMPORT)
        args = ("ingest-files", repo, "refcat", "refcats/live", table, "--prefix", tmp_path / "incoming", "-t", "copy")
        target = repo.path / "refcats" / "live"
    else:
        write_export(tmp_path / "export", N_IMPORT, "refcats/live")
        args = ("import", repo, tmp_path / "export", "-t", "copy")
        target = repo.path / "refcats" / "live"
    proc = butler.popen(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (target.exists() and count_files(target) >= 50):
        assert proc.poll() is None, f"the writer ended too soon: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    r = butler("cleanup", repo)
    assert "Removed 0 file(s) left by interrupted writes" in r.stdout
    if command == "ingest-files":  # (an import holds the SQLite write lock until it commits)
        butler("register-dataset-type", repo, "unrelated", "StructuredDataDict")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    uris = assert_consistent(butler, repo)
    assert len(uris) == 20 + N_IMPORT


def test_kill_during_remove_runs(butler, with_refcat, tmp_path):
    """Deleting a run commits in the registry first and sends the files to the trash; a
    writer killed while deleting them leaves only trashed files, which the next writing
    command deletes."""
    repo = with_refcat
    table = make_sources(tmp_path / "incoming", N_INGEST)
    butler("ingest-files", repo, "refcat", "refcats/doomed", table, "--prefix", tmp_path / "incoming", "-t", "copy")
    directory = repo.path / "refcats" / "doomed" / "refcat"
    assert len(os.listdir(directory)) == N_INGEST
    proc = butler.popen("remove-runs", repo, "refcats/doomed", "--no-confirm",
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(os.listdir(directory)) > N_INGEST - 20:
        assert proc.poll() is None, "remove-runs ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = len(os.listdir(directory))
    assert 0 < left < N_INGEST
    # The run is gone from the registry; its remaining files are owned by nothing.
    assert {r["run"] for r in datasets(butler, repo)} == {"refcats/committed"}
    assert len(orphans(butler, repo)) == left
    butler("register-dataset-type", repo, "unrelated", "StructuredDataDict")
    assert_consistent(butler, repo)
