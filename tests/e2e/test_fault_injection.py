"""Every write path, failed at each of its I/O steps, leaves the repository consistent.

MAJORDOME_TEST_FAIL_IO=<step>:<n> makes the n-th datastore I/O step of that kind in the
process fail as a full disk would (EIO/ENOSPC); steps: write, sync, rename, link, mkdir,
remove. Each command below is run with the fault at n = 1, 2, … until it gets through
without reaching it. After every failed run the command reports the error (non-zero exit,
no crash), and once `butler cleanup` has run: every dataset has its file, no file under the
root belongs to no dataset, and the command's datasets are there all or not at all. Then the
same command succeeds without the fault (nothing half-done stands in its way)."""

import pathlib
import subprocess

import pytest

from conftest import EXIT, assert_consistent, datasets

STEPS = ["write", "sync", "rename", "link", "mkdir", "remove"]
MAX_RUNS = 400  # per step: far more I/O steps than these small commands make
HTM7_BASE = 131072


def make_sources(directory: pathlib.Path, n: int) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    rows = ["path,htm7"]
    for i in range(n):
        (directory / f"s{i}.dat").write_text(f"shard {i}\n" * 100)
        rows.append(f"s{i}.dat,{HTM7_BASE + i}")
    (directory / "table.csv").write_text("\n".join(rows) + "\n")
    return directory / "table.csv"


def ids(butler, repo) -> set:
    return {r["id"] for r in datasets(butler, repo)}


def sweep(butler, make_repo, tmp_path, step, prepare, command):
    """Runs `command(repo, env)` with the fault at every n of `step`; returns how many runs failed."""
    repo = make_repo(f"{step}")
    prepare(repo)
    before = ids(butler, repo)
    failures = 0
    for n in range(1, MAX_RUNS + 1):
        result = command(repo, {"MAJORDOME_TEST_FAIL_IO": f"{step}:{n}"})
        butler("cleanup", repo)
        after = ids(butler, repo)
        assert_consistent(butler, repo)
        if result.returncode == 0:
            assert after != before or not before, "the command succeeded but changed nothing"
            return failures
        failures += 1
        assert result.returncode in (EXIT["IoError"], EXIT["Conflict"]), result.output
        assert "injected" in result.stderr, result.stderr
        assert after == before, f"{step}:{n}: a failed command left {len(after - before)} new dataset(s)"
    pytest.fail(f"{step}: the command still failed after {MAX_RUNS} runs")


@pytest.mark.parametrize("step", STEPS)
def test_ingest_files_copy(butler, make_repo, tmp_path, step):
    table = make_sources(tmp_path / "src", 4)

    def prepare(repo):
        butler("register-dataset-type", repo, "refcat", "SimpleCatalog", "htm7")

    def command(repo, env):
        return butler("ingest-files", repo, "refcat", "run", table, "--prefix", tmp_path / "src", "-t", "copy",
                      expect=None, env=env)

    failures = sweep(butler, make_repo, tmp_path, step, prepare, command)
    if step in ("write", "sync", "rename", "mkdir"):
        assert failures > 0, f"no {step} step was failed: the hook is not on this path"


@pytest.mark.parametrize("step", STEPS)
def test_import_copy(butler, make_repo, tmp_path, step):
    source = make_repo("source")
    table = make_sources(tmp_path / "src", 4)
    butler("register-dataset-type", source, "refcat", "SimpleCatalog", "htm7")
    butler("ingest-files", source, "refcat", "run", table, "--prefix", tmp_path / "src", "-t", "copy")
    butler("export", source, tmp_path / "export", "--transfer", "copy")

    def command(repo, env):
        return butler("import", repo, tmp_path / "export", "-t", "copy", expect=None, env=env)

    failures = sweep(butler, make_repo, tmp_path, step, lambda repo: None, command)
    if step in ("write", "sync", "rename"):
        assert failures > 0, f"no {step} step was failed: the hook is not on this path"


@pytest.mark.parametrize("step", ["remove", "rename", "sync"])
def test_prune_purge(butler, make_repo, tmp_path, step):
    """A removal whose file deletion fails keeps the file in the trash for the next clean-up:
    the datasets are gone either way, and no file is left behind once cleanup succeeds."""
    repo = make_repo("prune")
    table = make_sources(tmp_path / "src", 3)
    butler("register-dataset-type", repo, "refcat", "SimpleCatalog", "htm7")
    butler("ingest-files", repo, "refcat", "run", table, "--prefix", tmp_path / "src", "-t", "copy")
    result = butler("prune-datasets", repo, "run", "--purge", "run", "--no-confirm", expect=None,
                    env={"MAJORDOME_TEST_FAIL_IO": f"{step}:1"})
    assert result.returncode in (0, EXIT["IoError"]), result.output
    butler("cleanup", repo)
    if result.returncode == 0:
        assert not ids(butler, repo)
    assert_consistent(butler, repo)


@pytest.fixture(scope="module")
def comcam_raws(butler_exe, tmp_path_factory) -> pathlib.Path:
    """One simulated LSSTComCam exposure: 9 raw files with real-sized headers, tiny pixels."""
    out = tmp_path_factory.mktemp("comcam")
    p = subprocess.run([str(butler_exe.resolve()), "sim", "--camera", "LSSTComCam", "--out", str(out),
                        "--exposures", "1", "--tiny"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return out / "raw"


@pytest.mark.parametrize("step", STEPS)
def test_ingest_raws_copy(butler, make_repo, tmp_path, step, comcam_raws):
    def prepare(repo):
        butler("register-instrument", repo, "LSSTComCam")

    def command(repo, env):
        return butler("ingest-raws", repo, comcam_raws, "-t", "copy", "-j", "2", expect=None, env=env)

    # ingest-raws places a failed batch's files again one by one, so a fault that fires once
    # may be absorbed: every run must then either fail cleanly or ingest all nine raws, and the
    # faults must be reached (the binary logs each one it injects).
    repo = make_repo(step)
    prepare(repo)
    reached = 0
    for n in range(1, MAX_RUNS + 1):
        result = command(repo, {"MAJORDOME_TEST_FAIL_IO": f"{step}:{n}"})
        butler("cleanup", repo)
        assert_consistent(butler, repo)
        present = ids(butler, repo)
        if "injected I/O fault" not in result.stderr:  # every step of the command done before n
            assert result.returncode == 0, result.output
            assert len(present) == 9
            break
        reached += 1
        if result.returncode == 0:
            assert len(present) == 9, f"{step}:{n}: the command succeeded with {len(present)} of 9 raws"
        else:
            assert result.returncode in (EXIT["IoError"], EXIT["Conflict"]), result.output
        butler("prune-datasets", repo, "LSSTComCam/raw/all", "--purge", "LSSTComCam/raw/all", "--no-confirm",
               expect=None)
        butler("cleanup", repo)
        assert not ids(butler, repo)
    else:
        pytest.fail(f"{step}: faults still reached after {MAX_RUNS} runs")
    if step in ("write", "sync", "rename", "mkdir"):
        assert reached > 0, f"no {step} step was failed: the hook is not on this path"
