"""A repository must survive hostile names, paths and files (issue 11): a journal entry that
names the registry, the repository's own files offered as datasets, names that are paths in
disguise, and relative paths that leave their folder. Each refused command exits non-zero,
says what is wrong and leaves the repository byte-identical; nothing outside the repository
and the folders the user named is read into it, moved or deleted."""

import os
import pathlib
import signal
import sqlite3
import subprocess
import time

import pytest
import yaml

from conftest import EXIT, Unchanged, assert_consistent, datasets, digest_tree, uri_path

TRANSFERS = ["auto", "copy", "move", "link", "hardlink", "symlink", "relsymlink", "direct", "split"]
HTM7 = 131072


def registry_files(repo) -> list[pathlib.Path]:
    files = [repo.path / "butler.yaml"]
    if repo.backend == "sqlite":
        files.append(repo.path / "gen3.sqlite3")
    return files


def assert_registry_alive(butler, repo):
    for f in registry_files(repo):
        assert f.is_file(), f"{f} is gone"
    if repo.backend == "sqlite":
        con = sqlite3.connect(str(repo.path / "gen3.sqlite3"))
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            con.close()
    butler("query-collections", repo)


@pytest.fixture
def refcat_repo(butler, repo, tmp_path):
    """A repository with an htm7-sharded dataset type and one committed dataset with a file."""
    butler("register-dataset-type", repo, "refcat", "SimpleCatalog", "htm7")
    src = tmp_path / "committed"
    src.mkdir()
    (src / "c0.dat").write_text("committed\n")
    (src / "table.csv").write_text(f"path,htm7\nc0.dat,{HTM7}\n")
    butler("ingest-files", repo, "refcat", "refcats/committed", src / "table.csv", "--prefix", src, "-t", "copy")
    return repo


def export_doc(run: str, path: str, dataset_id: str, htm7: int) -> str:
    """An export of one refcat dataset of `run` whose file is `path`."""
    return yaml.safe_dump({
        "description": "Butler Data Repository Export", "version": "1.0.2", "universe_version": 7,
        "universe_namespace": "daf_butler",
        "data": [{"type": "run", "name": run},
                 {"type": "dataset", "dataset_type": "refcat", "run": run,
                  "records": [{"dataset_id": [dataset_id], "data_id": [{"htm7": htm7}], "path": path,
                               "formatter": "x"}]}]})


def table(path: pathlib.Path, rows) -> pathlib.Path:
    path.write_text("path,htm7\n" + "".join(f"{p},{HTM7 + 1 + i}\n" for i, p in enumerate(rows)))
    return path


# ---------------------------------------------------------------------------- 1. the write journal

def dead_writer(repo, token: str, journal: str):
    """What a killed writer leaves: an unlocked lock file and its journal."""
    locks = repo.path / ".majordome" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / f"{token}.lock").write_text("")
    (locks / f"{token}.pending").write_text(journal)


HOSTILE_ENTRIES = ["gen3.sqlite3", "gen3.sqlite3-wal", "gen3.sqlite3-shm", "butler.yaml", ".majordome/locks",
                   "../outside/victim.dat", "refcats/../gen3.sqlite3", "/etc/hostname", "./butler.yaml",
                   "refcats/committed/refcat/c0.dat"]


@pytest.mark.parametrize("command", ["cleanup", "register-dataset-type"])
def test_journal_of_a_dead_writer_never_removes_the_repository(butler, refcat_repo, tmp_path, command):
    repo = refcat_repo
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.dat").write_text("not yours")
    import json
    # The current format, with every entry a path the writer never owned...
    dead_writer(repo, "a" * 32, "majordome-write-journal 1\n" + "".join(json.dumps(e) + "\n" for e in HOSTILE_ENTRIES)
                + '"x\\ngen3.sqlite3\\ny"\nnot json\n')
    # ... and an older majordome's plain lines, which are not trusted at all.
    dead_writer(repo, "b" * 32, "gen3.sqlite3\nbutler.yaml\nrefcats/committed/refcat/c0.dat\n")
    before_files = digest_tree(repo.path)
    args = [repo] if command == "cleanup" else [repo, "other", "SimpleCatalog", "htm7"]
    butler(command, *args)
    assert_registry_alive(butler, repo)
    assert (outside / "victim.dat").read_text() == "not yours"
    after = digest_tree(repo.path)
    keep = lambda k: not k.startswith((".majordome", "gen3.sqlite3"))  # the registry is checked above
    assert {k: v for k, v in after.items() if keep(k)} == {k: v for k, v in before_files.items() if keep(k)}
    assert not list((repo.path / ".majordome" / "locks").iterdir()), "the dead writers' journals were not cleared"
    assert_consistent(butler, repo)


def test_journal_still_removes_what_the_dead_writer_placed(butler, refcat_repo):
    repo = refcat_repo
    orphan = repo.path / "refcats" / "dead" / "refcat" / "odd 'name' with é.dat"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("left by a killed writer")
    import json
    dead_writer(repo, "c" * 32, "majordome-write-journal 1\n" + json.dumps(str(orphan.relative_to(repo.path))) + "\n")
    butler("cleanup", repo)
    assert not orphan.exists()
    assert_consistent(butler, repo)


def test_interrupted_ingest_with_odd_names_then_cleanup(butler, refcat_repo, tmp_path):
    """Ctrl-C in the middle of an ingest whose run and file names hold spaces, quotes and
    non-ASCII letters; the next cleanup removes the placed files and nothing else."""
    repo = refcat_repo
    src = tmp_path / "incoming"
    src.mkdir()
    names = [f"f {i} 'é.dat" for i in range(2000)]
    for n in names:
        (src / n).write_text("x")
    rows = "".join(f'"{n}",{HTM7 + 1 + i}\n' for i, n in enumerate(names))
    (src / "t.csv").write_text("path,htm7\n" + rows)
    proc = butler.popen("ingest-files", repo, "refcat", "u/some one/run é", src / "t.csv", "--prefix", src,
                        "-t", "copy", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    target = repo.path / "u" / "some one" / "run é"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if target.exists() and sum(len(f) for _, _, f in os.walk(target)) >= 20:
            break
        time.sleep(0.01)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    butler("cleanup", repo)
    assert_registry_alive(butler, repo)
    assert_consistent(butler, repo)
    assert len(list(src.iterdir())) == len(names) + 1, "a source file of a copy was touched"


# ---------------------------------------------------------------------------- 2. the repository's own files

def own_files(repo, tmp_path) -> dict:
    """Names for the repository's own files, as a hostile user may spell them."""
    out = {"butler.yaml": repo.path / "butler.yaml", "dot-spelled": repo.path / "." / "butler.yaml",
           "dotdot-spelled": repo.path / "refcats" / ".." / "butler.yaml"}
    link = tmp_path / "link-to-config.yaml"
    link.symlink_to(repo.path / "butler.yaml")
    out["symlink"] = link
    locks = repo.path / ".majordome" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "note.txt").write_text("private")
    out["private folder"] = locks / "note.txt"
    if repo.backend == "sqlite":
        out["registry"] = repo.path / "gen3.sqlite3"
        hard = tmp_path / "hardlink-to-registry"
        os.link(repo.path / "gen3.sqlite3", hard)
        out["hard link"] = hard
    return out


@pytest.mark.parametrize("transfer", TRANSFERS)
def test_ingest_files_refuses_the_repository_own_files(butler, refcat_repo, tmp_path, transfer):
    repo = refcat_repo
    files = own_files(repo, tmp_path)
    for label, path in files.items():
        t = table(tmp_path / f"t-{label}.csv", [path])
        with Unchanged(butler, repo, tmp_path / "state"):
            r = butler("ingest-files", repo, "refcat", "victim", t, "-t", transfer, expect=EXIT["InvalidArgument"])
        assert "can never be datasets" in r.stderr, (label, r.stderr)
    assert_registry_alive(butler, repo)


@pytest.mark.parametrize("transfer", ["auto", "move", "direct", "split", "copy", "symlink"])
def test_import_refuses_the_repository_own_files(butler, refcat_repo, tmp_path, transfer):
    repo = refcat_repo
    export = tmp_path / "export.yaml"
    for name in (["gen3.sqlite3"] if repo.backend == "sqlite" else []) + ["butler.yaml", ".majordome/locks/x"]:
        (repo.path / ".majordome" / "locks").mkdir(parents=True, exist_ok=True)
        (repo.path / ".majordome" / "locks" / "x").write_text("")
        export.write_text(export_doc("victim", name, "a5c9c1b0-d5d0-4c4d-9e7b-6f0e2e6a1c11", HTM7 + 5))
        with Unchanged(butler, repo, tmp_path / "state"):
            r = butler("import", repo, repo.path, "--export-file", export, "-t", transfer, expect=EXIT["InvalidArgument"])
        assert "can never be datasets" in r.stderr, (name, r.stderr)
    assert_registry_alive(butler, repo)


def test_move_never_takes_a_stored_dataset_file(butler, refcat_repo, tmp_path):
    repo = refcat_repo
    stored = repo.path / "refcats" / "committed" / "refcat"
    (f,) = list(stored.rglob("*.dat"))
    t = table(tmp_path / "t.csv", [f])
    with Unchanged(butler, repo, tmp_path / "state"):
        r = butler("ingest-files", repo, "refcat", "thief", t, "--prefix", repo.path, "-t", "move",
                   expect=EXIT["InvalidArgument"])
    assert "already inside the repository" in r.stderr


# ---------------------------------------------------------------------------- 3. names

BAD_NAMES = {
    "newline": "x\ngen3.sqlite3\ny", "tab": "a\tb", "carriage return": "a\rb", "nul-like \\x01": "a\x01b",
    "escape": "a\x1b[31mred", "delete": "a\x7fb", "C1 next-line": "a\u0085b",
    "dotdot": "x/../victim", "dot": ".", "trailing dotdot": "victim/..", "absolute": "/abs/run",
    "double slash": "a//b", "trailing slash": "a/", "leading dot": "./a", "only dotdot": "..", "empty": "",
}


@pytest.mark.parametrize("label", list(BAD_NAMES))
def test_bad_run_and_collection_names_are_refused(butler, refcat_repo, tmp_path, label):
    repo = refcat_repo
    name = BAD_NAMES[label]
    src = tmp_path / "in"
    src.mkdir()
    (src / "f.dat").write_text("x")
    t = table(tmp_path / "t.csv", ["f.dat"])
    with Unchanged(butler, repo, tmp_path / "state"):
        r = butler("ingest-files", repo, "refcat", name, t, "--prefix", src, "-t", "copy", expect=None)
        assert r.returncode in (EXIT["InvalidArgument"], 1), r.output
        if name:
            assert "not a valid collection name" in r.stderr, r.stderr
            assert "\n" not in r.stderr.strip(), "the message broke a line: the name must be shown escaped"
        butler("collection-chain", repo, name or "", "refcats/committed", expect=None)
        butler("associate", repo, name or "", "--collections", "refcats/committed", "-d", "refcat", expect=None)
    assert (src / "f.dat").exists()


def test_valid_names_from_real_repositories_still_work(butler, refcat_repo, tmp_path):
    repo = refcat_repo
    src = tmp_path / "in"
    src.mkdir()
    (src / "f.dat").write_text("x")
    t = table(tmp_path / "t.csv", ["f.dat"])
    for run in ["LSSTComCam/runs/DRP/DP1/w_2025_05/DM-48666/20250210T000000Z", "u/jdoe/tickets/DM-1234+fix@v2",
                "HSC/raw/all", "refcats/gaia_dr3_20230707", "2.2i/runs/test-med-1/w_2021_40/DM-31722",
                "name with spaces", "étoile", "a.b/c..d/...e"]:
        butler("ingest-files", repo, "refcat", run, t, "--prefix", src, "-t", "copy")
    assert_consistent(butler, repo)
    assert len(datasets(butler, repo)) == 9


def test_dataset_type_names_with_control_characters(butler, refcat_repo):
    for name in ["a\nb", "a\tb", "ab\n", "a\x00b"[:1] + "\x02"]:
        r = butler("register-dataset-type", refcat_repo, name, "StructuredDataDict", "instrument",
                   expect=EXIT["InvalidArgument"])
        assert "not a valid dataset type name" in r.stderr and "\n" not in r.stderr.strip()


def test_data_id_values_cannot_steer_a_file_out_of_its_run(butler, repo, tmp_path):
    """String dimension values go into the file template: '../../x' stays inside the run's
    folder ('/' becomes '_'), and a control character is refused with the path."""
    butler("register-dataset-type", repo, "thing", "StructuredDataDict", "instrument")
    src = tmp_path / "in"
    src.mkdir()
    (src / "f.dat").write_text("x")
    export = tmp_path / "records.yaml"
    instrument = {"visit_max": 10, "visit_system": 0, "exposure_max": 10, "detector_max": 10, "class_name": "x"}
    export.write_text(yaml.safe_dump({
        "description": "Butler Data Repository Export", "version": "1.0.2", "universe_version": 7,
        "universe_namespace": "daf_butler",
        "data": [{"type": "dimension", "element": "instrument",
                  "records": [dict(instrument, name="../../escape"), dict(instrument, name="bad\tname")]}]}))
    butler("import", repo, tmp_path, "--export-file", export, "--without-datastore")
    (tmp_path / "t.csv").write_text("path,instrument\nf.dat,../../escape\n")
    butler("ingest-files", repo, "thing", "run", tmp_path / "t.csv", "--prefix", src, "-t", "copy")
    (uri,) = assert_consistent(butler, repo).values()
    assert (repo.path / "run") in uri_path(uri).parents, uri
    assert not (repo.path.parent / "escape").exists()
    (tmp_path / "t2.csv").write_text('path,instrument\nf.dat,bad\tname\n')
    with Unchanged(butler, repo, tmp_path / "state"):
        r = butler("ingest-files", repo, "thing", "run2", tmp_path / "t2.csv", "--prefix", src, "-t", "copy",
                   expect=EXIT["InvalidArgument"])
    assert "cannot be used" in r.stderr and "control character" in r.stderr, r.stderr


# ---------------------------------------------------------------------------- 4. reads outside the folder

ESCAPES = ["../secret.dat", "sub/../../secret.dat", "./../secret.dat", "sub/../../folder/../secret.dat"]


@pytest.mark.parametrize("transfer", ["copy", "auto", "move", "direct", "symlink"])
def test_export_paths_stay_inside_the_import_folder(butler, refcat_repo, tmp_path, transfer):
    repo = refcat_repo
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    secret = tmp_path / "secret.dat"
    secret.write_text("outside")
    export = folder / "export.yaml"
    for path in ESCAPES:
        export.write_text(export_doc("stolen", path, "a5c9c1b0-d5d0-4c4d-9e7b-6f0e2e6a1c12", HTM7 + 9))
        with Unchanged(butler, repo, tmp_path / "state"):
            r = butler("import", repo, folder, "-t", transfer, expect=EXIT["InvalidArgument"])
        assert "leaves the folder" in r.stderr, r.stderr
        assert secret.read_text() == "outside"


def test_move_import_never_takes_a_file_from_outside(butler, refcat_repo, tmp_path):
    repo = refcat_repo
    folder = tmp_path / "folder"
    folder.mkdir()
    secret = tmp_path / "secret.dat"
    secret.write_text("outside")
    (folder / "link.dat").symlink_to(secret)
    for path in [str(secret), "file://" + str(secret), "link.dat"]:
        (folder / "export.yaml").write_text(export_doc("stolen", path, "a5c9c1b0-d5d0-4c4d-9e7b-6f0e2e6a1c13", HTM7 + 9))
        with Unchanged(butler, repo, tmp_path / "state"):
            r = butler("import", repo, folder, "-t", "move", expect=EXIT["InvalidArgument"])
        assert "'move' takes only files inside" in r.stderr, r.stderr
        assert secret.read_text() == "outside"
    # Absolute paths stay allowed where nothing is taken away.
    butler("import", repo, folder, "-t", "copy")
    assert secret.read_text() == "outside"
    assert_consistent(butler, repo)


@pytest.mark.parametrize("transfer", ["copy", "move", "direct", "symlink", "auto"])
def test_ingest_table_rows_stay_inside_the_prefix(butler, refcat_repo, tmp_path, transfer):
    repo = refcat_repo
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    secret = tmp_path / "secret.dat"
    secret.write_text("outside")
    for path in ESCAPES:
        t = table(tmp_path / "t.csv", [path])
        with Unchanged(butler, repo, tmp_path / "state"):
            r = butler("ingest-files", repo, "refcat", "stolen", t, "--prefix", folder, "-t", transfer,
                       expect=EXIT["InvalidArgument"])
        assert "leaves the folder" in r.stderr, r.stderr
        # Without --prefix the current directory is the folder.
        with Unchanged(butler, repo, tmp_path / "state"):
            butler("ingest-files", repo, "refcat", "stolen", t, "-t", transfer, cwd=folder / "sub",
                   expect=EXIT["InvalidArgument"])
        assert secret.read_text() == "outside"


def test_ingest_move_of_an_absolute_path_outside_the_prefix(butler, refcat_repo, tmp_path):
    repo = refcat_repo
    folder = tmp_path / "folder"
    folder.mkdir()
    secret = tmp_path / "secret.dat"
    secret.write_text("outside")
    t = table(tmp_path / "t.csv", [secret])
    with Unchanged(butler, repo, tmp_path / "state"):
        r = butler("ingest-files", repo, "refcat", "stolen", t, "--prefix", folder, "-t", "move",
                   expect=EXIT["InvalidArgument"])
    assert "'move' takes only files inside" in r.stderr
    assert secret.read_text() == "outside"
    for transfer in ["direct", "copy", "symlink"]:  # absolute paths stay allowed where nothing is taken
        butler("ingest-files", repo, "refcat", f"abs/{transfer}", t, "--prefix", folder, "-t", transfer)
    assert secret.read_text() == "outside"
    # A move inside the folder still moves.
    (folder / "mine.dat").write_text("mine")
    butler("ingest-files", repo, "refcat", "moved", table(tmp_path / "t2.csv", ["mine.dat"]), "--prefix", folder,
           "-t", "move")
    assert not (folder / "mine.dat").exists()
    assert_consistent(butler, repo)


# ---------------------------------------------------------------------------- found by review

def test_killed_in_place_ingest_keeps_the_files_it_did_not_create(butler, refcat_repo):
    """`-t auto` of files already in the datastore uses them in place: a killed writer's
    journal must not name them, or recovery would delete the user's files."""
    repo = refcat_repo
    folder = repo.path / "runY" / "refcat"
    folder.mkdir(parents=True)
    rows = []
    for i in range(3000):
        n = HTM7 + 10 + i
        (folder / f"refcat_{n}_runY.dat").write_text("mine")
        rows.append(f"runY/refcat/refcat_{n}_runY.dat,{n}")
    t = repo.path.parent / "inplace.csv"
    t.write_text("path,htm7\n" + "\n".join(rows) + "\n")
    proc = butler.popen("ingest-files", repo, "refcat", "runY", t, "--prefix", repo.path, "-t", "auto",
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    locks = repo.path / ".majordome" / "locks"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not list(locks.glob("*.pending")):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)  # once the journal is written: the files are being registered
    proc.wait(timeout=60)
    butler("cleanup", repo)
    assert len(list(folder.iterdir())) == 3000, "recovery removed files the killed writer never created"
    assert_registry_alive(butler, repo)


def test_symlinks_into_and_out_of_the_repository(butler, refcat_repo, tmp_path):
    repo = refcat_repo
    (stored,) = [p for p in repo.path.rglob("*.dat")]
    # A move through a link to the repository still sees a stored dataset's file.
    alias = tmp_path / "alias"
    alias.symlink_to(repo.path)
    rel = stored.relative_to(repo.path)
    t = table(tmp_path / "m.csv", [rel])
    with Unchanged(butler, repo, tmp_path / "state"):
        r = butler("ingest-files", repo, "refcat", "thief", t, "--prefix", alias, "-t", "move",
                   expect=EXIT["InvalidArgument"])
    assert "already inside the repository" in r.stderr
    # A run folder that is a link to elsewhere: nothing is written (or later deleted) there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (repo.path / "runO").symlink_to(elsewhere)
    src = tmp_path / "in"
    src.mkdir()
    (src / "f.dat").write_text("x")
    r = butler("ingest-files", repo, "refcat", "runO", table(tmp_path / "o.csv", ["f.dat"]), "--prefix", src,
               "-t", "copy", expect=EXIT["InvalidArgument"])
    assert "symbolic link" in r.stderr
    assert not list(elsewhere.iterdir())
    # A folder link back to the root: registering another dataset's file in place under the
    # alias and removing that run keeps the file (one file, one relative path).
    (repo.path / "runS").symlink_to(".")
    butler("ingest-files", repo, "refcat", "runAlias", table(tmp_path / "a.csv", [f"runS/{rel}"]),
           "--prefix", repo.path, "-t", "auto")
    butler("remove-runs", repo, "runAlias", "--no-confirm")
    assert stored.read_text() == "committed\n"
    (repo.path / "runO").unlink()
    (repo.path / "runS").unlink()
    assert_consistent(butler, repo)


def test_retrieve_artifacts_never_takes_or_overwrites_repository_files(butler, refcat_repo, tmp_path):
    repo = refcat_repo
    (stored,) = [p for p in repo.path.rglob("*.dat")]
    with Unchanged(butler, repo, tmp_path / "state"):
        r = butler("retrieve-artifacts", repo, tmp_path / "out", "-t", "move", expect=EXIT["InvalidArgument"])
        assert "cannot use transfer mode 'move'" in r.stderr
        for dest in [repo.path, repo.path / "sub", repo.path.parent]:
            r = butler("retrieve-artifacts", repo, dest, "--clobber", expect=EXIT["InvalidArgument"])
            assert "inside the repository" in r.stderr
    butler("retrieve-artifacts", repo, tmp_path / "out")
    assert (tmp_path / "out" / stored.relative_to(repo.path)).read_text() == "committed\n"


@pytest.mark.parametrize("config", ["checksum-maybe", "db-list", "no-db", "no-registry", "scalar"])
def test_damaged_butler_yaml_is_a_clear_error(butler, repo, config):
    path = repo.path / "butler.yaml"
    text = yaml.safe_load(path.read_text())
    if config == "checksum-maybe":
        text.setdefault("datastore", {})["checksum"] = "maybe"
    elif config == "db-list":
        text["registry"]["db"] = [1]
    elif config == "no-db":
        text["registry"] = {}
    elif config == "no-registry":
        text.pop("registry")
    else:
        text = "just a string"
    path.write_text(yaml.safe_dump(text))
    r = butler("query-collections", repo, expect=EXIT["InvalidConfig"])
    assert "butler.yaml" in r.stderr


def test_export_with_values_of_the_wrong_kind(butler, refcat_repo, tmp_path):
    export = tmp_path / "export.yaml"
    export.write_text(yaml.safe_dump({"description": "Butler Data Repository Export", "version": "1.0.2",
                                      "universe_version": "x", "universe_namespace": "daf_butler", "data": []}))
    with Unchanged(butler, refcat_repo, tmp_path / "state"):
        butler("import", refcat_repo, tmp_path, expect=EXIT["CorruptFile"])


def test_export_never_leaves_a_foreign_file_in_the_bundle(butler, refcat_repo, tmp_path):
    repo = refcat_repo
    (stored,) = [p for p in repo.path.rglob("*.dat")]
    out = tmp_path / "bundle"
    foreign = out / stored.relative_to(repo.path)
    foreign.parent.mkdir(parents=True)
    foreign.write_text("someone else's")
    r = butler("export", repo, out, "-t", "copy", expect=EXIT["Conflict"])
    assert str(foreign) in r.stderr
    assert foreign.read_text() == "someone else's"
    butler("export", repo, tmp_path / "fresh", "-t", "copy")
    assert (tmp_path / "fresh" / stored.relative_to(repo.path)).read_text() == "committed\n"
