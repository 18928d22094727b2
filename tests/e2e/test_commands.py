"""Every `butler` subcommand of the foundation issue, run the way a user runs it."""

import os
import pathlib
import subprocess
import uuid

import pytest
import yaml

from conftest import (EXIT, SOURCE_DIR, assert_consistent, datasets, import_registry, parse_tables, stored_files,
                      table_rows, uri_path)


def collections(butler, repo, *args):
    return {r["Name"]: r["Type"] for r in table_rows(butler("query-collections", repo, "--chains", "no-children",
                                                            *args).stdout)}


def chain(butler, repo, parent, *args):
    out = butler("collection-chain", repo, parent, *args).stdout.strip()
    assert out.startswith("[") and out.endswith("]")
    return [c for c in out[1:-1].split(", ") if c]


def children(butler, repo, parent):
    """A chain's children, in order, from query-collections --chains table."""
    lines = butler("query-collections", repo, parent, "--chains", "table").stdout.splitlines()
    start = lines[0].index("Children")  # one child per line, the first beside the chain's name
    return [line[start:].strip() for line in lines[2:] if line[start:].strip()]


def dataset_type_names(butler, repo, *args):
    return [r["name"] for r in table_rows(butler("query-dataset-types", repo, *args).stdout)]


# ---------------------------------------------------------------------------- create / config

def test_create_and_config_dump(butler, make_repo, tmp_path, backend):
    # A seed config merges over the defaults (here: checksums on); --override is accepted.
    repo = make_repo("seeded", seed={"datastore": {"checksum": True}})
    config = yaml.safe_load(butler("config-dump", repo).stdout)
    assert config["datastore"]["checksum"] is True
    assert config["datastore"]["root"] == str(repo.path)
    if backend == "sqlite":
        assert config["registry"]["db"] == f"sqlite:///{repo.path}/gen3.sqlite3"
    else:
        assert config["registry"]["db"] == repo.url and config["registry"]["namespace"] == repo.namespace
    assert yaml.safe_load(butler("config-dump", repo, "--subset", "datastore.checksum").stdout) is True
    butler("config-dump", repo, "--file", tmp_path / "dump.yaml")
    assert yaml.safe_load((tmp_path / "dump.yaml").read_text()) == config
    r = butler("config-dump", repo, "--subset", "registry.nothing", expect=EXIT["NotFound"])
    assert "registry.nothing" in r.stderr

    seed = tmp_path / "override.yaml"
    seed.write_text(yaml.safe_dump({"datastore": {"checksum": True}}))
    other = make_repo("overridden", create=False)
    if backend == "postgres":
        seed.write_text(yaml.safe_dump({"datastore": {"checksum": True},
                                        "registry": {"db": other.url, "namespace": other.namespace}}))
    butler("create", "--seed-config", seed, "--override", other)
    assert yaml.safe_load(butler("config-dump", other).stdout)["datastore"]["checksum"] is True

    # Creating over an existing repository is refused and leaves it alone.
    before = (repo.path / "butler.yaml").read_text()
    r = butler("create", repo, expect=EXIT["Conflict"])
    assert "butler.yaml" in r.stderr
    assert (repo.path / "butler.yaml").read_text() == before
    # Opening a directory that is not a repository says how to make one.
    r = butler("query-collections", tmp_path / "nothing-here", expect=EXIT["NotFound"])
    assert "butler create" in r.stderr


# ---------------------------------------------------------------------------- dataset types

def test_dataset_types(butler, repo):
    import_registry(butler, repo, "base.yaml")
    butler("register-dataset-type", repo, "calexp", "ExposureF", "instrument", "detector", "visit")
    butler("register-dataset-type", repo, "bias_v2", "ExposureF", "instrument", "detector", "--is-calibration")
    butler("register-dataset-type", repo, "packages", "Packages")  # no dimensions
    # The same definition again is fine; a different one is a conflict naming both.
    butler("register-dataset-type", repo, "calexp", "ExposureF", "instrument", "detector", "visit")
    r = butler("register-dataset-type", repo, "calexp", "ExposureI", "instrument", "detector", "visit",
               expect=EXIT["Conflict"])
    assert "calexp" in r.stderr and "ExposureF" in r.stderr

    assert dataset_type_names(butler, repo) == sorted(["bias", "flat", "calexp", "bias_v2", "packages"])
    assert dataset_type_names(butler, repo, "b*") == ["bias", "bias_v2"]
    verbose = {r["name"]: r for r in table_rows(butler("query-dataset-types", repo, "-v").stdout)}
    # visit implies day_obs and physical_filter; the table shows the required dimensions.
    assert verbose["calexp"]["dimensions"] == "[instrument, detector, visit]"
    assert verbose["calexp"]["storage class"] == "ExposureF"
    assert verbose["packages"]["dimensions"] == "[]"

    # Only types with datasets in the given collections.
    import_registry(butler, repo, "datasets.yaml")
    assert dataset_type_names(butler, repo, "--collections", "imported_g") == ["bias", "flat"]

    # remove-dataset-type: refused while datasets exist, then globs remove several.
    r = butler("remove-dataset-type", repo, "bias", expect=EXIT["Conflict"])
    assert "bias" in r.stderr and ("prune-datasets" in r.stderr or "remove-runs" in r.stderr)
    butler("remove-dataset-type", repo, "calexp", "bias_*")
    assert dataset_type_names(butler, repo) == ["bias", "flat", "packages"]
    r = butler("remove-dataset-type", repo, "nosuch", expect=EXIT["NotFound"])
    assert "nosuch" in r.stderr


# ---------------------------------------------------------------------------- ingest-files

TRANSFERS = ["copy", "move", "symlink", "relsymlink", "hardlink", "link", "direct", "auto"]


def write_ecsv(path, columns):
    from astropy.table import Table  # users make these tables with astropy
    Table(columns).write(path, format="ascii.ecsv", overwrite=True)


@pytest.fixture
def with_thing(butler, repo):
    import_registry(butler, repo, "base.yaml")
    butler("register-dataset-type", repo, "thing", "StructuredDataDict", "instrument", "detector")
    return repo


def test_ingest_files_every_transfer_mode(butler, with_thing, tmp_path):
    repo = with_thing
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    sources = {}
    for mode in TRANSFERS:
        data = f"payload for {mode}\n".encode()
        (incoming / f"{mode}.dat").write_bytes(data)
        sources[mode] = (incoming / f"{mode}.dat", data)
        # ECSV for half the modes, CSV for the others; relative paths with --prefix.
        if TRANSFERS.index(mode) % 2:
            (incoming / f"{mode}.csv").write_text(f"path,detector\n{mode}.dat,1\n")
            table = incoming / f"{mode}.csv"
        else:
            table = incoming / f"{mode}.ecsv"
            write_ecsv(table, {"URI": [f"{mode}.dat"], "detector": [1]})
        r = butler("ingest-files", repo, "thing", f"run/{mode}", table, "--prefix", incoming,
                   "--data-id", "instrument=Cam1", "-t", mode)
        assert "1 dataset" in r.stderr

    rows = {r["run"].split("/")[1]: r for r in datasets(butler, repo, "thing", "--show-uri")}
    assert set(rows) == set(TRANSFERS)
    root = pathlib.Path(repo.path)
    for mode, row in rows.items():
        source, data = sources[mode]
        stored = uri_path(row["URI"])
        assert stored.read_bytes() == data, mode
        if mode == "direct":
            assert stored == source and root not in stored.parents
            continue
        assert root in stored.parents, f"{mode}: {stored} is not under the repository"
        if mode == "move":
            assert not source.exists()
        else:
            assert source.read_bytes() == data, f"{mode} changed its source"
        if mode == "symlink":
            assert stored.is_symlink() and pathlib.Path(os.readlink(stored)).is_absolute()
        if mode == "relsymlink":
            assert stored.is_symlink() and not pathlib.Path(os.readlink(stored)).is_absolute()
            assert stored.resolve() == source.resolve()
        if mode in ("hardlink", "link"):
            assert os.stat(stored).st_ino == os.stat(source).st_ino
        if mode in ("copy", "auto"):
            assert not stored.is_symlink() and os.stat(stored).st_ino != os.stat(source).st_ino

    # Removing every run deletes what the datastore owns, never the files it only points to.
    butler("remove-runs", repo, "run/*", "--no-confirm")
    assert datasets(butler, repo) == []
    assert stored_files(repo) == set()
    for mode in ("symlink", "relsymlink", "hardlink", "link", "direct"):
        assert sources[mode][0].read_bytes() == sources[mode][1], f"removing the {mode} run harmed its source"


def test_ingest_files_table_forms(butler, with_thing, tmp_path):
    """Absolute paths without --prefix, a file:// URI, instrument as a column, several rows."""
    repo = with_thing
    files = []
    for det in (1, 2, 3):
        f = tmp_path / f"abs{det}.dat"
        f.write_bytes(f"det {det}".encode())
        files.append(f)
    write_ecsv(tmp_path / "abs.ecsv", {"URI": [str(files[0]), f"file://{files[1]}", str(files[2])],
                                        "instrument": ["Cam1"] * 3, "detector": [1, 2, 3]})
    butler("ingest-files", repo, "thing", "abs", tmp_path / "abs.ecsv", "-t", "copy")
    rows = datasets(butler, repo, "thing", "--collections", "abs", "--show-uri")
    assert {int(r["detector"]): uri_path(r["URI"]).read_bytes() for r in rows} == \
        {1: b"det 1", 2: b"det 2", 3: b"det 3"}
    assert_consistent(butler, repo)

    # Ingesting the same data IDs into the same run again is a conflict and adds no file.
    before = stored_files(repo)
    r = butler("ingest-files", repo, "thing", "abs", tmp_path / "abs.ecsv", "-t", "copy", expect=EXIT["Conflict"])
    assert "thing" in r.stderr
    assert stored_files(repo) == before
    # Reproducible IDs follow daf_butler's recipe exactly (spec §2): uuid5 of
    # "dataset_type=<name>[,run=<run>],k=v…" over the required dimensions sorted by key.
    namespace = uuid.UUID("840b31d9-05cd-5161-b2c8-00d32b280d0f")
    for mode, run in (("DATAID_TYPE_RUN", "HSC/raw/all"), ("DATAID_TYPE", "other/run")):
        butler("ingest-files", repo, "thing", run, tmp_path / "abs.ecsv", "-t", "copy", "--id-generation-mode", mode)
        for r in datasets(butler, repo, "thing", "--collections", run):
            text = "dataset_type=thing" + (f",run={run}" if mode == "DATAID_TYPE_RUN" else "") + \
                f",detector={r['detector']},instrument=Cam1"
            assert r["id"] == str(uuid.uuid5(namespace, text)), (mode, text)


# ---------------------------------------------------------------------------- collections

def test_collection_chain_modes(butler, repo):
    import_registry(butler, repo, "base.yaml", "datasets.yaml")
    for t in ("ta", "tb", "tc", "td"):
        butler("associate", repo, t, "--collections", "imported_g", "-d", "bias", "--where", "detector = 1")
    assert chain(butler, repo, "ch", "ta", "tb", "--doc", "a chain") == ["ta", "tb"]
    assert chain(butler, repo, "ch", "tc", "--mode", "extend") == ["ta", "tb", "tc"]
    # As Rubin: a child extended again moves to the end.
    assert chain(butler, repo, "ch", "ta", "--mode", "extend") == ["tb", "tc", "ta"]
    assert chain(butler, repo, "ch", "ta,tb,tc", "--mode", "redefine") == ["ta", "tb", "tc"]
    assert chain(butler, repo, "ch", "td", "--mode", "prepend") == ["td", "ta", "tb", "tc"]
    assert chain(butler, repo, "ch", "tb", "--mode", "remove") == ["td", "ta", "tc"]
    assert chain(butler, repo, "ch", "--mode", "pop") == ["ta", "tc"]          # default: position 0
    assert chain(butler, repo, "ch", "--mode", "pop", "--", "-1") == ["ta"]    # from the end
    assert chain(butler, repo, "ch", "ta,tb,tc", "--mode", "redefine") == ["ta", "tb", "tc"]
    assert chain(butler, repo, "inner", "tb", "imported_r") == ["tb", "imported_r"]
    assert chain(butler, repo, "outer", "inner", "tc") == ["inner", "tc"]
    # --flatten stores the children's own collections, depth first, first occurrence wins.
    assert chain(butler, repo, "flat", "outer", "ta", "--flatten") == ["tb", "imported_r", "tc", "ta"]
    # As Rubin, removing a collection that is not a child changes nothing (and says so).
    r = butler("collection-chain", repo, "ch", "td", "--mode", "remove")
    assert "td" in r.stderr and "not a child" in r.stderr and r.stdout.strip() == "[ta, tb, tc]"
    # Bad requests name the problem and change nothing.
    r = butler("collection-chain", repo, "ch", "--mode", "pop", "7", expect=EXIT["InvalidArgument"])
    assert "7" in r.stderr
    r = butler("collection-chain", repo, "ch", "nosuch", expect=EXIT["NotFound"])
    assert "nosuch" in r.stderr
    for mode in ("redefine", "extend", "prepend"):  # no children: refused, as Rubin does
        r = butler("collection-chain", repo, "ch", "--mode", mode, expect=EXIT["InvalidArgument"])
        assert "Must provide children" in r.stderr
    r = butler("collection-chain", repo, "ch", "ta", "--mode", "remove", "--flatten", expect=EXIT["InvalidArgument"])
    assert "--flatten" in r.stderr
    assert children(butler, repo, "ch") == ["ta", "tb", "tc"]


def test_query_collections_views(butler, repo):
    import_registry(butler, repo, "base.yaml", "datasets.yaml")
    butler("associate", repo, "tag1", "--collections", "imported_g", "-d", "bias")
    butler("collection-chain", repo, "chain1", "tag1", "imported_r")
    butler("collection-chain", repo, "chain2", "imported_r", "chain1")

    assert collections(butler, repo) == {"chain1": "CHAINED", "chain2": "CHAINED", "imported_g": "RUN",
                                         "imported_r": "RUN", "tag1": "TAGGED"}
    assert collections(butler, repo, "imp*") == {"imported_g": "RUN", "imported_r": "RUN"}
    assert collections(butler, repo, "--collection-type", "TAGGED") == {"tag1": "TAGGED"}

    # TREE (the default) indents children two spaces per level, under each chain.
    tree = butler("query-collections", repo, "chain2").stdout.splitlines()[2:]
    assert [line.split()[0] for line in tree] == ["chain2", "imported_r", "chain1", "tag1", "imported_r"]
    assert [len(line) - len(line.lstrip()) for line in tree] == [0, 2, 2, 4, 4]

    table = parse_tables(butler("query-collections", repo, "chain1", "--chains", "table").stdout)[0]
    assert [(r["Name"], r["Children"]) for r in table] == [("chain1", "tag1"), ("", "imported_r")]

    inverse = parse_tables(butler("query-collections", repo, "imported_r", "--chains", "inverse-table").stdout)[0]
    assert sorted(r["Parents"] for r in inverse) == ["chain1", "chain2"]
    inverse_tree = butler("query-collections", repo, "tag1", "--chains", "inverse-tree").stdout.splitlines()[2:]
    assert [line.strip().split()[0] for line in inverse_tree] == ["tag1", "chain1", "chain2"]

    # FLATTEN lists the collections a search through chain2 visits, first occurrence wins (spec §3).
    flat = table_rows(butler("query-collections", repo, "chain2", "--chains", "flatten").stdout)
    assert [r["Name"] for r in flat] == ["imported_r", "tag1"]
    assert [r["Name"] for r in table_rows(butler("query-collections", repo, "--chains", "no-children").stdout)] == \
        sorted(["chain1", "chain2", "imported_g", "imported_r", "tag1"])
    r = butler("query-collections", repo, "--chains", "sideways", expect=EXIT["InvalidArgument"])
    assert "sideways" in r.stderr and "TREE" in r.stderr


def test_remove_runs_and_collections(butler, repo):
    import_registry(butler, repo, "base.yaml", "datasets.yaml")
    butler("associate", repo, "tag1", "--collections", "imported_r", "-d", "bias")
    butler("collection-chain", repo, "chain1", "imported_g", "tag1")

    # A run inside a chain: refused, with the way out.
    r = butler("remove-runs", repo, "imported_g", "--no-confirm", expect=EXIT["Conflict"])
    assert "chain1" in r.stderr
    # Answering no to the prompt changes nothing.
    r = butler("remove-runs", repo, "imported_r", input="n\n")
    assert "Aborted" in r.stdout
    assert "imported_r" in collections(butler, repo)
    # Answering yes removes the run, its datasets, and their tags.
    r = butler("remove-runs", repo, "imported_r", input="y\n")
    assert table_rows(r.stdout)[0] == {"Run": "imported_r", "Datasets": "7"}  # datasets.yaml: 3 bias + 4 flat
    assert "imported_r" not in collections(butler, repo)
    assert datasets(butler, repo, "bias", "--collections", "tag1") == []
    # As Rubin, a confirmed removal takes the run out of its chains (they are named first); without
    # the question, --force must say so (refused above).
    r = butler("remove-runs", repo, "imported_g", input="y\n")
    assert "removed from these chains: chain1" in r.stdout
    assert children(butler, repo, "chain1") == ["tag1"]
    assert datasets(butler, repo) == []

    # remove-collections: non-RUN only; a chain member needs --remove-from-parents.
    r = butler("remove-collections", repo, "tag1", "--no-confirm", expect=None)
    assert r.returncode != 0 and "chain1" in r.stderr
    butler("remove-collections", repo, "tag1", "--no-confirm", "--remove-from-parents")
    assert collections(butler, repo) == {"chain1": "CHAINED"}
    butler("remove-collections", repo, "chain1", "--no-confirm")
    assert collections(butler, repo) == {}


def test_prune_datasets(butler, with_thing, tmp_path):
    repo = with_thing
    (tmp_path / "t.csv").write_text("path,detector\n" + "".join(f"f{d}.dat,{d}\n" for d in (1, 2, 3, 4)))
    for d in (1, 2, 3, 4):
        (tmp_path / f"f{d}.dat").write_text(f"file {d}")
    butler("ingest-files", repo, "thing", "run1", tmp_path / "t.csv", "--prefix", tmp_path, "--data-id",
           "instrument=Cam1", "-t", "copy")
    butler("associate", repo, "tag", "--collections", "run1", "-d", "thing")
    uris = {int(r["detector"]): uri_path(r["URI"]) for r in datasets(butler, repo, "--collections", "run1", "--show-uri")}

    # --dry-run shows and does nothing.
    r = butler("prune-datasets", repo, "run1", "--purge", "run1", "--where", "detector = 1", "--dry-run")
    assert len(table_rows(r.stdout)) == 1
    assert len(datasets(butler, repo, "--collections", "run1")) == 4
    # --disassociate removes tags only.
    butler("prune-datasets", repo, "tag", "--datasets", "thing", "--where", "detector = 2", "--disassociate", "tag",
           "--no-confirm")
    assert sorted(int(r["detector"]) for r in datasets(butler, repo, "--collections", "tag")) == [1, 3, 4]
    assert uris[2].exists()
    # --unstore deletes the file, keeps the dataset.
    butler("prune-datasets", repo, "run1", "--datasets", "thing", "--where", "detector = 3", "--unstore",
           "--no-confirm")
    assert not uris[3].exists()
    assert 3 in {int(r["detector"]) for r in datasets(butler, repo, "--collections", "run1")}
    # --purge deletes dataset and file, and its tags.
    butler("prune-datasets", repo, "run1", "--purge", "run1", "--where", "detector = 1", "--no-confirm")
    assert not uris[1].exists()
    assert sorted(int(r["detector"]) for r in datasets(butler, repo, "--collections", "run1")) == [2, 3, 4]
    assert sorted(int(r["detector"]) for r in datasets(butler, repo, "--collections", "tag")) == [3, 4]
    # --purge of a dataset from another run is refused.
    r = butler("prune-datasets", repo, "tag", "--purge", "elsewhere", "--no-confirm", expect=EXIT["InvalidArgument"])
    assert "elsewhere" in r.stderr and "run1" in r.stderr
    r = butler("prune-datasets", repo, "run1", expect=EXIT["InvalidArgument"])
    assert "--purge" in r.stderr
    assert uris[2].exists() and uris[4].exists()


def test_retrieve_artifacts(butler, with_thing, tmp_path):
    repo = with_thing
    (tmp_path / "src").mkdir()
    for d in (1, 2):
        (tmp_path / "src" / f"f{d}.dat").write_bytes(bytes(range(d * 10)))
    (tmp_path / "t.csv").write_text("path,detector\nf1.dat,1\nf2.dat,2\n")
    butler("ingest-files", repo, "thing", "run1", tmp_path / "t.csv", "--prefix", tmp_path / "src",
           "--data-id", "instrument=Cam1", "-t", "copy")
    rows = datasets(butler, repo, "--show-uri")
    dest = tmp_path / "retrieved"
    r = butler("retrieve-artifacts", repo, dest, "--collections", "run1", "--where", "detector = 2", "-v")
    lines = r.stdout.splitlines()
    assert lines[-1] == f"Number of artifacts retrieved into destination {dest}: 1"  # as Rubin
    got = [pathlib.Path(line) for line in lines[:-1]]  # the paths only with -v, as Rubin
    assert len(got) == 1 and got[0].read_bytes() == bytes(range(20))
    r = butler("retrieve-artifacts", repo, tmp_path / "quiet", "--collections", "run1", "--limit", "1",
               "--order-by", "-detector")
    assert r.stdout == f"Number of artifacts retrieved into destination {tmp_path / 'quiet'}: 1\n"
    assert [p.read_bytes() for p in (tmp_path / "quiet").rglob("*.*")] == [bytes(range(20))]  # detector 2 first
    # By default the datastore path is kept below the destination.
    [row2] = [x for x in rows if x["detector"] == "2"]
    assert got[0] == dest / uri_path(row2["URI"]).relative_to(repo.path)
    flat = tmp_path / "flat"
    butler("retrieve-artifacts", repo, flat, "--no-preserve-path")
    assert sorted(p.read_bytes() for p in flat.iterdir()) == sorted([bytes(range(10)), bytes(range(20))])
    # An existing file is not overwritten without --clobber.
    r = butler("retrieve-artifacts", repo, flat, "--no-preserve-path", expect=None)
    assert r.returncode != 0
    butler("retrieve-artifacts", repo, flat, "--no-preserve-path", "--clobber")


def test_query_datasets_limits_and_data_ids(butler, repo):
    import_registry(butler, repo, "base.yaml", "datasets.yaml")
    everything = datasets(butler, repo)  # --limit 0: all 13 of datasets.yaml
    assert len(everything) == 13
    r = butler("query-datasets", repo, "--limit", "-5")
    assert len(table_rows(r.stdout)) == 5 and "--limit 0" in r.stderr
    r = butler("query-datasets", repo, "--limit", "5")
    assert len(table_rows(r.stdout)) == 5 and r.stderr == ""
    assert len(table_rows(butler("query-datasets", repo).stdout)) == 13  # default -20000
    r = butler("query-datasets", repo, "flat", "--collections", "imported_r", "--where", "detector = 9")
    assert "No results" in r.stdout

    ids = table_rows(butler("query-data-ids", repo, "detector").stdout)
    assert [(r["instrument"], r["detector"]) for r in ids] == [("Cam1", str(d)) for d in (1, 2, 3, 4)]
    ids = table_rows(butler("query-data-ids", repo, "detector", "physical_filter", "--datasets", "flat",
                            "--collections", "imported_g").stdout)
    assert sorted((r["detector"], r["physical_filter"], r["band"]) for r in ids) == \
        [("2", "Cam1-G", "g"), ("3", "Cam1-G", "g"), ("4", "Cam1-G", "g")]
    assert len(table_rows(butler("query-data-ids", repo, "detector", "--limit", "2", "--offset", "1").stdout)) == 2

    records = table_rows(butler("query-dimension-records", repo, "physical_filter").stdout)
    assert sorted((r["name"], r["band"]) for r in records) == [("Cam1-G", "g"), ("Cam1-R1", "r"), ("Cam1-R2", "r")]


def test_cleanup_on_a_clean_repository(butler, repo):
    import_registry(butler, repo, "base.yaml")
    r = butler("cleanup", repo)
    assert "Removed 0 file(s)" in r.stdout


def test_register_dcr_subfilters(butler, repo):
    r = butler("register-dcr-subfilters", repo, "3", "g", "r")
    assert "Added subfilters 0, 1, 2 for band g." in r.stdout
    r = butler("register-dcr-subfilters", repo, "2", "g,i")
    assert "Band g already has subfilters 0, 1, 2; nothing to do." in r.stdout
    assert "Added subfilters 0, 1 for band i." in r.stdout
    recs = table_rows(butler("query-dimension-records", repo, "subfilter").stdout)
    assert sorted((x["band"], x["id"]) for x in recs) == [("g", "0"), ("g", "1"), ("g", "2"), ("i", "0"), ("i", "1"),
                                                          ("r", "0"), ("r", "1"), ("r", "2")]
    r = butler("register-dcr-subfilters", repo, "0", "z", expect=EXIT["InvalidArgument"])
    assert "NUM_SUBFILTERS" in r.stderr
    assert "z" not in {x["band"] for x in table_rows(butler("query-dimension-records", repo, "subfilter").stdout)}


def test_config_validate_names_each_problem(butler, make_repo, tmp_path):
    repo = make_repo("validate", seed={"datastore": {"templates": {"default": "{run}/{datasetType}/{instrument:?}"}}})
    butler("register-dataset-type", repo, "versions", "Packages")
    r = butler("config-validate", repo)
    assert r.stdout == "No problems encountered with configuration.\n"
    assert butler("config-validate", "-q", repo).stdout == "No problems encountered with configuration.\n"
    butler("register-dataset-type", repo, "summary", "StructuredDataDict", "instrument", "detector")
    butler("register-dataset-type", repo, "mystery", "NoSuchStorageClass", "instrument")
    r = butler("config-validate", repo, expect=EXIT["InvalidConfig"])
    assert "dataset type summary: file template" in r.stderr and "{'detector'} are not used" in r.stderr
    assert "dataset type mystery: storage class NoSuchStorageClass is not known" in r.stderr
    assert "2 problem(s)" in r.stderr
    r = butler("config-validate", "-q", repo, expect=EXIT["InvalidConfig"])  # as Rubin: -q hides the list
    assert "2 problem(s)" in r.stderr and "mystery" not in r.stderr
    r = butler("config-validate", repo, "-d", "nosuchtype", expect=EXIT["NotFound"])
    assert "nosuchtype" in r.stderr
    # -d checks only some types; -i skips by name, storage class or dimension.
    r = butler("config-validate", repo, "-d", "mystery", expect=EXIT["InvalidConfig"])
    assert "summary" not in r.stderr
    butler("config-validate", repo, "-i", "detector", "-i", "NoSuchStorageClass")


def test_transfer_datasets_between_repositories(butler, make_repo, tmp_path):
    source = make_repo("source")
    butler("register-instrument", source, "lsst.obs.lsst.LsstComCam")
    butler("register-dataset-type", source, "note", "StructuredDataDict", "instrument", "detector")
    lines = ["file,instrument,detector"]
    for d in range(4):
        (tmp_path / f"n{d}.yaml").write_text(f"d: {d}\n")
        lines.append(f"n{d}.yaml,LSSTComCam,{d}")
    (tmp_path / "notes.csv").write_text("\n".join(lines) + "\n")
    butler("ingest-files", source, "note", "u/a/notes", tmp_path / "notes.csv", "--prefix", tmp_path, "-t", "copy")
    originals = {r["id"]: (r["detector"], uri_path(r["URI"]).read_text())
                 for r in datasets(butler, source, "note", "--show-uri")}

    dest = make_repo("dest")
    # The type is missing there: named, with the flag that registers it; nothing written.
    r = butler("transfer-datasets", source, dest, "-d", "note", expect=EXIT["NotFound"])
    assert "--register-dataset-types" in r.stderr
    r = butler("transfer-datasets", source, dest, "-d", "note", "--where", "detector < 2", "--register-dataset-types",
               "--dry-run")
    assert "Number of datasets that would be transferred: 2" in r.stdout
    assert "note" not in butler("query-dataset-types", dest).stdout
    r = butler("transfer-datasets", source, dest, "-d", "note", "--where", "detector < 2", "--register-dataset-types")
    assert "Number of datasets transferred: 2" in r.stdout
    got = {r["id"]: (r["detector"], uri_path(r["URI"]).read_text()) for r in datasets(butler, dest, "note", "--show-uri")}
    assert got == {k: v for k, v in originals.items() if int(v[0]) < 2}  # same IDs, same content, own copies
    assert all(uri_path(r["URI"]).is_relative_to(dest.path) for r in datasets(butler, dest, "note", "--show-uri"))
    # The records the data IDs name came along (instrument, detectors 0 and 1 only).
    assert len(table_rows(butler("query-dimension-records", dest, "detector").stdout)) == 2
    # Again: what is there is skipped, the rest comes.
    # Modes that would leave the files the source's, or take them away from it, are refused.
    for mode in ("move", "direct", "split"):
        r = butler("transfer-datasets", source, dest, "-d", "note", "-t", mode, expect=EXIT["InvalidArgument"])
        assert "belong to the source" in r.stderr
    assert all(uri_path(u).exists() for u in (r_["URI"] for r_ in datasets(butler, source, "note", "--show-uri")))
    # A dataset whose file is gone is skipped and counted, the rest comes.
    gone = next(r_ for r_ in datasets(butler, source, "note", "--show-uri") if r_["detector"] == "3")
    uri_path(gone["URI"]).unlink()
    r = butler("transfer-datasets", source, dest, "-d", "note")
    assert "Number of datasets transferred: 1" in r.stdout and "2 dataset(s) were in" in r.stderr
    assert "1 dataset(s) have no file" in r.stderr
    assert {r["id"] for r in datasets(butler, dest, "note")} == set(originals) - {gone["id"]}
    assert_consistent(butler, dest)


def test_transfer_datasets_brings_the_records_a_visit_stands_on(butler, make_repo, tmp_path):
    sim = tmp_path / "sim"
    p = subprocess.run([str(SOURCE_DIR / "build" / "bin" / "majordome") if not os.environ.get("MAJORDOME_BIN")
                        else os.environ["MAJORDOME_BIN"], "sim", "--camera", "LSSTComCam", "--out", str(sim),
                        "--exposures", "2", "--tiny"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    source = make_repo("visits")
    butler("register-instrument", source, "LSSTComCam")
    butler("ingest-raws", source, sim / "raw", "-t", "direct")
    butler("define-visits", source, "LSSTComCam")
    butler("register-dataset-type", source, "summary", "StructuredDataDict", "instrument", "visit", "detector")
    visit = table_rows(butler("query-dimension-records", source, "visit").stdout)[0]["id"]
    (tmp_path / "s.yaml").write_text("a: 1\n")
    (tmp_path / "s.csv").write_text(f"file,instrument,visit,detector\ns.yaml,LSSTComCam,{visit},4\n")
    butler("ingest-files", source, "summary", "u/a/run", tmp_path / "s.csv", "--prefix", tmp_path, "-t", "copy")
    dest = make_repo("visits_dest")
    butler("transfer-datasets", source, dest, "-d", "summary", "--register-dataset-types")
    # The visit came with its definition, its regions (every detector's) and its systems, so
    # spatial and exposure queries work in DEST as in the source.
    for element in ("visit_definition", "visit_detector_region", "visit_system_membership"):
        src_rows = [r for r in table_rows(butler("query-dimension-records", source, element).stdout)
                    if r.get("visit") == visit]
        dst_rows = table_rows(butler("query-dimension-records", dest, element).stdout)
        assert len(dst_rows) == len(src_rows) > 0, element
    r = butler("query-datasets", dest, "summary", "--where", "exposure.obs_id != 'x'")
    assert "summary" in r.stdout


def test_register_skymap_from_rubin_config_paths_without_a_file(butler, repo):
    # As Rubin: -C is optional, -c takes pex_config paths.
    r = butler("register-skymap", repo, "-c", "name=tiny_rings", "-c", "skyMap=rings",
               "-c", 'skyMap["rings"].numRings=3', "-c", 'skyMap["rings"].pixelScale=10.0',
               "-c", 'skyMap["rings"].projection="TAN"', "-c", 'skyMap["rings"].patchInnerDimensions=[4000,4000]',
               "-c", 'skyMap["rings"].patchBorder=100', "-c", 'skyMap["rings"].tractOverlap=0.0166')
    assert "Registered skymap 'tiny_rings': 26 tracts" in r.stdout
    # A file, with Rubin-path overrides on top.
    r = butler("register-skymap", repo, "-C", SOURCE_DIR / "data" / "skymaps" / "hsc_rings_v1.yaml",
               "-c", 'name="hsc_small"', "-c", 'skyMap["rings"].numRings=4', "-c", 'skyMap["rings"].pixelScale=20.0')
    assert "Registered skymap 'hsc_small': 42 tracts" in r.stdout
    r = butler("register-skymap", repo, expect=EXIT["InvalidArgument"])
    assert "-C FILE" in r.stderr
