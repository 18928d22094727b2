"""Bad input: a non-zero exit, a message that names the thing and the fix, and the repository
left exactly as it was (its full export, a dump of its database, and every file under it)."""

import os
import pathlib
import urllib.parse

import pytest
import yaml

from conftest import (EXIT, Repo, Unchanged, assert_same_state, datasets, import_registry, psql, registry_file,
                      repository_state, table_rows)


@pytest.fixture
def populated(butler, repo, tmp_path):
    """base + datasets, a TAGGED collection, a chain and a dataset with a real file."""
    import_registry(butler, repo, "base.yaml", "datasets.yaml")
    butler("associate", repo, "tag1", "--collections", "imported_g", "-d", "bias")
    butler("collection-chain", repo, "chain1", "tag1", "imported_r")
    butler("register-dataset-type", repo, "thing", "StructuredDataDict", "instrument", "detector")
    (tmp_path / "thing.dat").write_text("a file")
    (tmp_path / "thing.csv").write_text("path,instrument,detector\nthing.dat,Cam1,1\n")
    butler("ingest-files", repo, "thing", "things", tmp_path / "thing.csv", "--prefix", tmp_path, "-t", "copy")
    return repo


@pytest.fixture
def unchanged(butler, populated, tmp_path):
    return lambda: Unchanged(butler, populated, tmp_path / "state")


def cut_mid_line(text: str, fraction: float) -> str:
    cut = int(len(text) * fraction)
    while text[cut - 1] == "\n":  # a cut right after a line break could be a complete file
        cut += 1
    return text[:cut]


@pytest.mark.parametrize("fraction", [0.33, 0.5, 0.8])
def test_truncated_export(butler, populated, unchanged, tmp_path, fraction):
    """A real export (ci_hsc-subset, which has records, a run and datasets) cut short."""
    source = registry_file("ci_hsc-subset.yaml").read_text()
    bad = tmp_path / "truncated.yaml"
    bad.write_text(cut_mid_line(source, fraction))
    with unchanged():
        r = butler("import", populated, tmp_path, "--export-file", bad, "--without-datastore", expect=EXIT["CorruptFile"])
    assert str(bad) in r.stderr and "truncated" in r.stderr and "again" in r.stderr


def test_truncated_export_of_our_own_with_files(butler, populated, unchanged, tmp_path):
    """Our own export with its files, cut in half: no record, dataset or file gets in."""
    butler("export", populated, tmp_path / "full", "--transfer", "copy")
    text = (tmp_path / "full" / "export.yaml").read_text()
    (tmp_path / "full" / "export.yaml").write_text(cut_mid_line(text, 0.5))
    with unchanged():
        r = butler("import", populated, tmp_path / "full", "-t", "copy", expect=EXIT["CorruptFile"])
    assert "export.yaml" in r.stderr and "truncated" in r.stderr


@pytest.mark.parametrize("case", ["syntax", "not-an-export", "wrong-type", "unknown-element"])
def test_corrupt_export(butler, populated, unchanged, tmp_path, case):
    source = registry_file("ci_hsc-subset.yaml").read_text()
    if case == "syntax":
        lines = source.splitlines(keepends=True)
        lines[40] = "  - {instrument: HSC, id: [unclosed\n"
        text, expected = "".join(lines), ["not valid YAML", "line"]
    elif case == "not-an-export":
        text, expected = yaml.safe_dump(["just", "a", "list"]), ["not a butler export", "data"]
    elif case == "wrong-type":
        # A detector id that is not an integer.
        text = source.replace("    id: 0\n    full_name: '1_53'", "    id: zero\n    full_name: '1_53'", 1)
        assert text != source
        expected = ["detector.id", "line"]
    else:
        text = source.replace("element: detector", "element: detectorz", 1)
        expected = ["detectorz", "did you mean 'detector'"]
    bad = tmp_path / "corrupt.yaml"
    bad.write_text(text)
    with unchanged():
        r = butler("import", populated, tmp_path, "--export-file", bad, "--without-datastore", expect=EXIT["CorruptFile"])
    assert str(bad) in r.stderr
    for word in expected:
        assert word in r.stderr, f"'{word}' missing from: {r.stderr}"


def test_export_with_unknown_dataset_type(butler, populated, unchanged, tmp_path):
    """datasets.yaml with its bias entries renamed: nothing of the file is imported."""
    text = registry_file("datasets.yaml").read_text().replace("dataset_type: bias", "dataset_type: biass")
    text = text.replace("name: imported_g", "name: imported_g2").replace("run: imported_g", "run: imported_g2")
    (tmp_path / "unknown.yaml").write_text(text)
    with unchanged():
        r = butler("import", populated, tmp_path, "--export-file", "unknown.yaml", "--without-datastore",
                   expect=EXIT["NotFound"])
    assert "biass" in r.stderr and "'bias'" in r.stderr


def test_export_with_conflicting_dataset(butler, populated, unchanged, tmp_path):
    """datasets.yaml again, but its imported_g datasets claim a new run: their IDs already
    belong to imported_g, so the whole file is refused (the new run is not created)."""
    text = registry_file("datasets.yaml").read_text()
    text = text.replace("name: imported_g", "name: new_run").replace("run: imported_g", "run: new_run")
    (tmp_path / "conflict.yaml").write_text(text)
    with unchanged():
        r = butler("import", populated, tmp_path, "--export-file", "conflict.yaml", "--without-datastore",
                   expect=EXIT["Conflict"])
    assert "imported_g" in r.stderr and "new_run" in r.stderr
    assert any(i in r.stderr for i in ("e15ab039-bc8b-4135-87c5-90902a7c0b22", "51352db4-a47a-447c-b12d-a50b206b17cd",
                                       "e06b6f3c-5b3e-46d0-bdde-4ef972301116", "60c8a65c-7290-4c38-b1de-e3b1cdcf872d",
                                       "84239e7f-c41f-46d5-97b9-a27976b98ceb", "fd51bce1-2848-49d6-a378-f8a122f5139a"))


def test_import_with_missing_file(butler, populated, unchanged, tmp_path):
    """An export whose file is not at hand: nothing imported, and the message says how to
    import the registry content alone."""
    butler("export", populated, tmp_path / "exp", "--transfer", "copy", "--collections", "things")
    [f] = [p for p in (tmp_path / "exp").rglob("*.dat")]
    f.unlink()
    butler("remove-runs", populated, "things", "--no-confirm")
    with unchanged():
        r = butler("import", populated, tmp_path / "exp", "-t", "copy", expect=EXIT["NotFound"])
    assert f.name in r.stderr and "--without-datastore" in r.stderr


def test_unknown_dataset_type_in_query(butler, populated, unchanged):
    with unchanged():
        r = butler("query-datasets", populated, "calexpp", expect=EXIT["NotFound"])
    assert "calexpp" in r.stderr and "register-dataset-type" in r.stderr
    r = butler("query-datasets", populated, "biass", expect=EXIT["NotFound"])
    assert "'bias'" in r.stderr


def test_certify_into_a_run(butler, populated, unchanged):
    with unchanged():
        r = butler("certify-calibrations", populated, "imported_g", "imported_r", "bias",
                   expect=EXIT["CollectionType"])
    assert "imported_r" in r.stderr and "RUN" in r.stderr and "CALIBRATION" in r.stderr
    with unchanged():
        r = butler("certify-calibrations", populated, "imported_g", "tag1", "bias", expect=EXIT["CollectionType"])
        assert "tag1" in r.stderr and "TAGGED" in r.stderr
        r = butler("associate", populated, "imported_r", "--collections", "imported_g", expect=EXIT["CollectionType"])
        assert "imported_r" in r.stderr and "TAGGED" in r.stderr


def test_chain_cycle(butler, populated, unchanged):
    butler("collection-chain", populated, "outer", "chain1", "imported_g")
    with unchanged():
        r = butler("collection-chain", populated, "chain1", "outer", "--mode", "extend", expect=EXIT["Conflict"])
        assert "cycle" in r.stderr and "chain1" in r.stderr and "outer" in r.stderr
        r = butler("collection-chain", populated, "chain1", "chain1", expect=EXIT["Conflict"])
        assert "chain1" in r.stderr
        r = butler("collection-chain", populated, "chain1", "outer", "--mode", "prepend", expect=EXIT["Conflict"])


def test_ingest_missing_file(butler, populated, unchanged, tmp_path):
    """The table names three files, the last of which does not exist: none is ingested or copied."""
    src = tmp_path / "incoming"
    src.mkdir()
    for d in (2, 3):
        (src / f"f{d}.dat").write_text(f"detector {d}")
    (src / "t.csv").write_text("path,detector\nf2.dat,2\nf3.dat,3\nf4.dat,4\n")
    with unchanged():
        r = butler("ingest-files", populated, "thing", "things", src / "t.csv", "--prefix", src,
                   "--data-id", "instrument=Cam1", "-t", "copy", expect=EXIT["NotFound"])
        assert str(src / "f4.dat") in r.stderr
        r = butler("ingest-files", populated, "thing", "things", tmp_path / "no-table.csv", expect=EXIT["NotFound"])
        assert "no-table.csv" in r.stderr


def test_unknown_transfer_mode(butler, populated, unchanged, tmp_path):
    (tmp_path / "f.dat").write_text("x")
    (tmp_path / "t.csv").write_text("path,instrument,detector\nf.dat,Cam1,2\n")
    with unchanged():
        r = butler("ingest-files", populated, "thing", "things", tmp_path / "t.csv", "--prefix", tmp_path,
                   "-t", "teleport", expect=EXIT["InvalidArgument"])
        assert "teleport" in r.stderr and "copy" in r.stderr and "symlink" in r.stderr
        r = butler("import", populated, tmp_path, "--export-file", registry_file("datasets.yaml"), "-t", "teleport",
                   expect=EXIT["InvalidArgument"])
        assert "teleport" in r.stderr
        r = butler("retrieve-artifacts", populated, tmp_path / "out", "-t", "teleport", expect=EXIT["InvalidArgument"])
        assert "teleport" in r.stderr
    r = butler("export", populated, tmp_path / "exp", "-t", "teleport", expect=EXIT["InvalidArgument"])
    assert "teleport" in r.stderr and "copy" in r.stderr


@pytest.mark.parametrize("where,typo,fix", [
    ("instrument = 'Cam1' AND detectr = 1", "detectr", "detector"),
    ("detector IN (1, 2) AND bias.datset_id = UUID('e15ab039-bc8b-4135-87c5-90902a7c0b22')", "bias.datset_id", None),
    ("instrument = 'Cam1' AND raftt = 'A'", "raftt", "raft"),
])
def test_where_typo(butler, populated, unchanged, where, typo, fix):
    with unchanged():
        r = butler("query-datasets", populated, "bias", "--collections", "imported_g", "--where", where,
                   expect=EXIT["InvalidQuery"])
        # The expression is shown with a caret under the mistake.
        lines = r.stderr.splitlines()
        [shown] = [i for i, line in enumerate(lines) if line.strip() == where]
        caret = lines[shown + 1]
        assert caret.index("^") == lines[shown].index(where) + where.index(typo), r.stderr
        if fix:
            assert f"did you mean '{fix}'" in caret
        # The same typo in prune-datasets (a writer) changes nothing either.
        butler("prune-datasets", populated, "imported_g", "--purge", "imported_g", "--where", where, "--no-confirm",
               expect=EXIT["InvalidQuery"])


# ---------------------------------------------------------------------------- db-auth (PostgreSQL)

def test_db_auth_file_postgres(butler, postgres_url, tmp_path, base_env):
    """The `majordome` role's password comes from the db-auth file; the file must be mode 600."""
    parts = urllib.parse.urlsplit(postgres_url)
    server = f"postgresql://{parts.hostname}:{parts.port}{parts.path}"  # no user: the file supplies it
    namespace = f"e2e_auth_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**8}"
    auth = tmp_path / "db-auth.yaml"
    auth.write_text(yaml.safe_dump([{"url": server, "username": "majordome", "password": "majordome-test-password"}]))
    env = {"LSST_DB_AUTH": str(auth)}
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump({"registry": {"db": server, "namespace": namespace}}))
    path = tmp_path / "repo"
    try:
        # World-readable: refused before anything is created, with the command that fixes it.
        auth.chmod(0o644)
        r = butler("create", "--seed-config", seed, path, env=env, expect=EXIT["PermissionDenied"])
        assert str(auth) in r.stderr and "chmod 600" in r.stderr
        assert not (path / "butler.yaml").exists()
        assert psql(postgres_url, f"SELECT count(*) FROM pg_namespace WHERE nspname = '{namespace}'").strip() == "0"

        # Mode 600: it works, as the majordome role.
        auth.chmod(0o600)
        butler("create", "--seed-config", seed, path, env=env)
        owner = psql(postgres_url, f"SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = '{namespace}'")
        assert owner.strip() == "majordome"
        repo = Repo(path, "postgres", url=postgres_url, namespace=namespace)
        authed = type(butler)(butler.exe, {**base_env, **env})
        import_registry(authed, repo, "base.yaml")
        assert len(table_rows(authed("query-dimension-records", repo, "detector").stdout)) == 4

        before = repository_state(authed, repo, tmp_path / "state")
        for mode in (0o644, 0o640, 0o604):
            auth.chmod(mode)
            r = butler("register-dataset-type", repo, "thing", "StructuredDataDict", "instrument", env=env,
                       expect=EXIT["PermissionDenied"])
            assert "chmod 600" in r.stderr
        auth.chmod(0o600)
        assert_same_state(before, repository_state(authed, repo, tmp_path / "state"))

        # A wrong password, or none at all, is a database error naming the server.
        wrong = tmp_path / "wrong.yaml"
        wrong.write_text(yaml.safe_dump([{"url": server, "username": "majordome", "password": "nope"}]))
        wrong.chmod(0o600)
        r = butler("query-collections", repo, env={"LSST_DB_AUTH": str(wrong)}, expect=EXIT["DatabaseError"])
        assert "majordome" in r.stderr and str(parts.port) in r.stderr
        butler("query-collections", repo, expect=EXIT["DatabaseError"])
        assert_same_state(before, repository_state(authed, repo, tmp_path / "state"))
    finally:
        psql(postgres_url, f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
