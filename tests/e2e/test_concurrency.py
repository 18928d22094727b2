"""Two processes writing to one repository at the same time.

SQLite: each write succeeds (the second waits for the first) or fails cleanly with Busy,
and the database is never corrupted. PostgreSQL: both succeed, or one gets a Conflict.
Either way every successful write is visible afterwards and nothing else is."""

import sqlite3
import subprocess
import threading

from conftest import EXIT, assert_consistent, datasets, import_registry, table_rows, uri_path


def clean_failures(backend):
    return {EXIT["Busy"]} if backend == "sqlite" else {EXIT["Conflict"]}


def check_integrity(repo):
    if repo.backend == "sqlite":
        con = sqlite3.connect(str(repo.path / "gen3.sqlite3"))
        try:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            con.close()


def run_many(butler, commands):
    """Runs each list of commands in its own thread, commands of one list one after the other."""
    results = [[] for _ in commands]

    def worker(i):
        for args in commands[i]:
            r = butler(*args, expect=None)
            results[i].append((args, r))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(commands))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_writers_register_and_ingest(butler, repo, tmp_path, backend):
    """2 × 20 rounds of register-dataset-type + ingest-files (4 files each) into one RUN."""
    import_registry(butler, repo, "base.yaml")
    commands = []
    for w in ("a", "b"):
        cmds = []
        for i in range(20):
            src = tmp_path / f"src_{w}_{i}"
            src.mkdir()
            for d in (1, 2, 3, 4):
                (src / f"d{d}.dat").write_text(f"{w} {i} {d}")
            (src / "t.csv").write_text("path,detector\n" + "".join(f"d{d}.dat,{d}\n" for d in (1, 2, 3, 4)))
            cmds.append(("register-dataset-type", repo, f"t_{w}_{i}", "StructuredDataDict", "instrument", "detector"))
            cmds.append(("ingest-files", repo, f"t_{w}_{i}", "shared", src / "t.csv", "--prefix", src,
                         "--data-id", "instrument=Cam1", "-t", "copy"))
        commands.append(cmds)
    results = run_many(butler, commands)

    registered, ingested = set(), set()
    for worker in results:
        for args, r in worker:
            assert r.returncode == 0 or r.returncode in clean_failures(backend), \
                f"{args[0]} failed uncleanly ({r.returncode}): {r.stderr}"
            if r.returncode == 0:
                (registered if args[0] == "register-dataset-type" else ingested).add(args[2])
    check_integrity(repo)
    types = {r["name"] for r in table_rows(butler("query-dataset-types", repo).stdout)}
    assert types == registered | {"bias", "flat"}
    rows = datasets(butler, repo, "--collections", "shared", "--show-uri")
    assert {r["type"] for r in rows} == ingested
    assert len(rows) == 4 * len(ingested)
    assert len(ingested) >= 20, "most writes should succeed by waiting"  # a busy timeout, not instant failure
    uris = assert_consistent(butler, repo)
    for r in rows:
        _, w, i = r["type"].split("_")
        with open(uri_path(uris[r["id"]])) as f:
            assert f.read() == f"{w} {i} {r['detector']}"


def test_racing_for_the_same_name(butler, repo, backend):
    """Both register the same dataset type at once: with the same definition both succeed
    (the command is idempotent); with different ones exactly one wins and the other gets a
    Conflict naming the type. New dimension groups make both also race to create tables."""
    import_registry(butler, repo, "base.yaml")
    groups = [("instrument",), ("instrument", "detector"), ("instrument", "physical_filter"), ("detector", "band"),
              ("instrument", "visit"), ("instrument", "exposure"), ("skymap", "tract"), ("htm7",),
              ("instrument", "day_obs"), ("instrument", "group")]
    for i, dims in enumerate(groups):
        procs = [butler.popen("register-dataset-type", repo, f"same_{i}", "StructuredDataDict", *dims,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        codes = [p.wait() for p in procs]
        assert codes == [0, 0], [p.stderr.read() for p in procs]
    for i in range(10):
        procs = [butler.popen("register-dataset-type", repo, f"diff_{i}", sc, "instrument",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for sc in ("StructuredDataDict", "Packages")]
        codes = [p.wait() for p in procs]
        errors = [p.stderr.read() for p in procs]
        assert sorted(codes) == [0, EXIT["Conflict"]], errors
        assert f"diff_{i}" in errors[codes.index(EXIT["Conflict"])]
        winner = ("StructuredDataDict", "Packages")[codes.index(0)]
        verbose = {r["name"]: r for r in table_rows(butler("query-dataset-types", repo, "-v", f"diff_{i}").stdout)}
        assert verbose[f"diff_{i}"]["storage class"] == winner
    check_integrity(repo)


def test_racing_for_the_same_data_id(butler, repo, tmp_path, backend):
    """Two processes ingest different files for the same data ID into the same run: one
    wins, the other fails cleanly and leaves no file behind."""
    import_registry(butler, repo, "base.yaml")
    butler("register-dataset-type", repo, "thing", "StructuredDataDict", "instrument", "detector")
    for i in range(8):
        procs = []
        for w in ("a", "b"):
            src = tmp_path / f"{w}{i}"
            src.mkdir()
            (src / "f.dat").write_text(f"{w}{i}")
            (src / "t.csv").write_text("path,instrument,detector\nf.dat,Cam1,1\n")
            procs.append(butler.popen("ingest-files", repo, "thing", f"run{i}", src / "t.csv", "--prefix", src,
                                      "-t", "copy", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        codes = [p.wait() for p in procs]
        errors = [p.stderr.read() for p in procs]
        assert sorted(codes) == [0, EXIT["Conflict"]] or (backend == "sqlite" and sorted(codes) == [0, EXIT["Busy"]]), \
            errors
        winner = "ab"[codes.index(0)]
        [row] = datasets(butler, repo, "thing", "--collections", f"run{i}", "--show-uri")
        with open(uri_path(row["URI"])) as f:
            assert f.read() == f"{winner}{i}"
    check_integrity(repo)
    assert_consistent(butler, repo)
