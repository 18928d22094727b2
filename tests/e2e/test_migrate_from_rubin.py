"""butler migrate-from-rubin: a daf_butler repository read in place becomes a majordome repository
with nothing lost.

Each migrated repository is exported (butler export) and the export compared with the Rubin
registry's own tables, read here with sqlite3: every collection and its type, every chain in
order, every dataset type, every dataset (ID, type, run, data ID, file path and size), every
TAGGED association and calibration validity range, and every column of every dimension record
(regions byte for byte, timespans to the nanosecond), save the fields newer universes moved
(checked where they went). A small Rubin repository written here by hand runs in every build;
the six real ones of ../shared/data/registry/rubin_repos run when that checkout is there.

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e/test_migrate_from_rubin.py
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import pathlib
import shutil
import sqlite3
import subprocess

import pytest

from conftest import EXIT, SHARED_DATA, Tagged, export, psql, table_rows

RUBIN_REPOS = SHARED_DATA / "registry" / "rubin_repos"
COLLECTION_TYPES = {1: "RUN", 2: "TAGGED", 3: "CHAINED", 4: "CALIBRATION"}
RUBIN_MIN_NS, RUBIN_MAX_NS = 0, 4102444800000000000
# Columns older universes had that the current one keeps elsewhere (checked separately).
MOVED = {("visit", "visit_system"), ("visit", "seeing"), ("exposure", "group_name"), ("exposure", "group_id"),
         ("visit_definition", "visit_system")}


def tai_ns(value) -> int | None:
    """TAI nanoseconds since 1970 from an export's '!butler_time/tai/iso' text (None: unbounded)."""
    if value is None:
        return None
    text = value.value if isinstance(value, Tagged) else value
    day, _, clock = text.partition(" ")
    whole, _, fraction = clock.partition(".")
    t = datetime.datetime.fromisoformat(f"{day}T{whole}").replace(tzinfo=datetime.timezone.utc)
    seconds = int((t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds())
    return seconds * 10**9 + int((fraction + "000000000")[:9])


def rubin_span(begin, end):
    return (None if begin is None or begin <= RUBIN_MIN_NS else begin,
            None if end is None or end >= RUBIN_MAX_NS else end)


def uuid_of(hex32: str) -> str:
    h = hex32.replace("-", "").lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def compare_with_source(source: pathlib.Path, doc: dict, registry: pathlib.Path | None = None) -> None:
    """Asserts that the export `doc` of a migrated repository holds everything the Rubin
    registry at `source` holds (its SQLite file, or `registry` with the same content)."""
    con = sqlite3.connect(f"file:{registry or source / 'gen3.sqlite3'}?mode=ro", uri=True)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    entries = doc["data"]

    # Collections, types, docs and chains in order.
    names = {cid: name for cid, name, _, _ in q("SELECT collection_id, name, type, doc FROM collection")}
    want = {name: COLLECTION_TYPES[t] for _, name, t, _ in q("SELECT collection_id, name, type, doc FROM collection")}
    got = {e["name"]: ("RUN" if e["type"] == "run" else e["collection_type"])
           for e in entries if e["type"] in ("run", "collection")}
    assert got == want
    chains = {}
    for parent, _, child in q("SELECT parent, position, child FROM collection_chain ORDER BY parent, position"):
        chains.setdefault(names[parent], []).append(names[child])
    assert {e["name"]: e["children"] for e in entries if e.get("collection_type") == "CHAINED"} == chains

    # Dataset types.
    dims = {}
    for key, name in q("SELECT dimension_graph_id, dimension_name FROM dimension_graph_definition"):
        dims.setdefault(key, set()).add(name)
    types = {tid: (name, sc, dims[key], calibs is not None, tags, calibs)
             for tid, name, sc, key, tags, calibs in q("SELECT * FROM dataset_type")}
    got_types = {e["name"]: (e["storage_class"], set(e["dimensions"]), bool(e.get("is_calibration")))
                 for e in entries if e["type"] == "dataset_type"}
    # Rubin stores the required dimensions; the export lists the implied ones too.
    assert {n: (sc, c) for n, (sc, _, c) in got_types.items()} == {n: (sc, c) for n, sc, _, c, _, _ in types.values()}
    for n, _, d, _, _, _ in types.values():
        assert d <= got_types[n][1], n

    # Datasets: ID, type, run, data ID, file.
    runs = {uuid_of(i): (tid, rid) for i, tid, rid in q("SELECT id, dataset_type_id, run_id FROM dataset")}
    files = {uuid_of(i): (p, size) for i, p, size in q("SELECT dataset_id, path, file_size FROM file_datastore_records")}
    want_datasets, want_tagged, want_calibs = {}, {}, {}
    for tid, (name, _, dimensions, _, tags, calibs) in types.items():
        cur = con.execute(f"SELECT * FROM {tags} WHERE dataset_type_id = ?", (tid,))
        cols = [c[0] for c in cur.description]
        for row in cur:
            r = dict(zip(cols, row))
            i = uuid_of(r["dataset_id"])
            if r["collection_id"] == runs[i][1]:
                want_datasets[i] = (name, names[r["collection_id"]], {d: r[d] for d in dimensions})
            else:
                want_tagged.setdefault(names[r["collection_id"]], set()).add(i)
        if calibs:
            for i, cid, b, e in q(f"SELECT dataset_id, collection_id, timespan_begin, timespan_end FROM {calibs} "
                                  f"WHERE dataset_type_id = {tid}"):
                want_calibs.setdefault(names[cid], set()).add((uuid_of(i), rubin_span(b, e)))
    assert set(runs) == set(want_datasets)
    got_datasets, got_files = {}, {}
    for e in entries:
        if e["type"] != "dataset":
            continue
        for rec in e["records"]:
            for i, d in zip(rec["dataset_id"], rec["data_id"]):
                got_datasets[i] = (e["dataset_type"], e["run"], d)
                got_files[i] = rec.get("path")
    assert got_datasets == want_datasets
    for i, (path, _) in files.items():  # the files stay where they are
        assert got_files[i] == (source / path).as_uri(), i
    got_tagged = {e["collection"]: set(e["dataset_ids"]) for e in entries
                  if e["type"] == "associations" and e["collection_type"] == "TAGGED"}
    assert got_tagged == want_tagged
    got_calibs = {}
    for e in entries:
        if e["type"] == "associations" and e["collection_type"] == "CALIBRATION":
            for r in e["validity_ranges"]:
                span = r["timespan"].value if isinstance(r["timespan"], Tagged) else r["timespan"]
                for i in r["dataset_ids"]:
                    got_calibs.setdefault(e["collection"], set()).add((i, (tai_ns(span["begin"]), tai_ns(span["end"]))))
    assert got_calibs == want_calibs

    # Dimension records: every column of every row.
    universe = json.loads(q("SELECT value FROM butler_attributes WHERE name = 'config:dimensions.json'")[0][0])
    records = {}
    for e in entries:
        if e["type"] == "dimension":
            records.setdefault(e["element"], []).extend(e["records"])
    for element in universe["elements"]:
        if not q(f"SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{element}'"):
            continue
        cur = con.execute(f"SELECT * FROM {element}")
        cols = [c[0] for c in cur.description]
        pk = [c[1] for c in sorted(con.execute(f"PRAGMA table_info({element})"), key=lambda c: c[5]) if c[5]] or \
            [c for c in cols if c != "region"]
        rows = [dict(zip(cols, r)) for r in cur]
        if not rows:
            continue
        if element == "band":  # a view of physical_filter.band now, with no records of its own
            assert {r["name"] for r in rows} <= {r["band"] for r in records["physical_filter"]}
            continue
        pk = [k for k in pk if (element, k) not in MOVED]
        ours = {tuple(r[k] for k in pk): r for r in records.get(element, [])}
        assert len(ours) == len(rows), element
        for row in rows:
            mine = ours[tuple(row[k] for k in pk)]
            for col, value in row.items():
                if col in ("timespan_begin", "timespan_end") or (element, col) in MOVED:
                    continue
                if col == "region" and value is not None:
                    assert mine[col].value["encoded"] == base64.b64decode(value).hex(), (element, row)
                elif isinstance(value, bytes):
                    got = mine[col]
                    assert (base64.b64decode(got.value) if isinstance(got, Tagged) else got) == value, (element, col)
                elif isinstance(value, int) and isinstance(mine[col], bool):
                    assert mine[col] == bool(value), (element, col)
                else:
                    assert mine[col] == value, (element, col, row)
            if "timespan_begin" in row:
                want_span = rubin_span(row["timespan_begin"], row["timespan_end"])
                assert (tai_ns(mine.get("datetime_begin")), tai_ns(mine.get("datetime_end"))) == want_span, row
            if element == "visit" and row.get("visit_system") is not None:
                assert {"instrument": row["instrument"], "visit_system": row["visit_system"], "visit": row["id"]} \
                    in records["visit_system_membership"]
            if element == "exposure" and row.get("group_name") is not None:
                assert mine["group"] == row["group_name"]


def digest(path: pathlib.Path) -> dict:
    return {p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------- a Rubin repository by hand

BUTLER_YAML = """datastore:
  cls: lsst.daf.butler.datastores.fileDatastore.FileDatastore
  records:
    table: file_datastore_records
  root: <butlerRoot>
registry:
  db: sqlite:///<butlerRoot>/gen3.sqlite3
"""

MANAGERS = {
    "lsst.daf.butler.registry.attributes.DefaultButlerAttributeManager": "1.0.0",
    "lsst.daf.butler.registry.dimensions.static.StaticDimensionRecordStorageManager": "6.0.1",
    "lsst.daf.butler.registry.collections.synthIntKey.SynthIntKeyCollectionManager": "2.0.0",
    "lsst.daf.butler.registry.datasets.byDimensions._manager.ByDimensionsDatasetRecordStorageManagerUUID": "1.0.0",
    "lsst.daf.butler.registry.opaque.ByNameOpaqueTableStorageManager": "0.2.0",
    "lsst.daf.butler.registry.bridge.monolithic.MonolithicDatastoreRegistryBridgeManager": "0.2.0",
}

# A square around (10°, 20°): a ConvexPolygon (0x70 then 4 unit vectors), as base64.
def _square() -> str:
    import math, struct
    out = b"p"
    for ra, dec in [(9.9, 19.9), (10.1, 19.9), (10.1, 20.1), (9.9, 20.1)]:
        r, d = math.radians(ra), math.radians(dec)
        out += struct.pack("<3d", math.cos(d) * math.cos(r), math.cos(d) * math.sin(r), math.sin(d))
    return base64.b64encode(out).decode()


RAW_ID, RAW2_ID, BIAS_ID = "c6d2bad073ff51e88c2d5bcc1e75c419", "a1d2bad073ff51e88c2d5bcc1e75c420", \
    "f29c577e64944a5092da9ae6515a87ad"


def make_rubin_repo(root: pathlib.Path, manager_versions: dict | None = None) -> pathlib.Path:
    """A universe-1 daf_butler repository: one instrument, two detectors, an exposure (group
    fields of universe 1), a visit with a region and a visit system, raws in a RUN, a bias
    certified in a CALIBRATION collection with a bounded range, a TAGGED collection and a chain;
    one raw's file is on disk, the other's and the bias's are not."""
    root.mkdir(parents=True)
    (root / "butler.yaml").write_text(BUTLER_YAML)
    (root / "raw").mkdir()
    (root / "raw" / "r1.fits").write_bytes(b"SIMPLE  =                    T" + b" " * 2850)
    con = sqlite3.connect(root / "gen3.sqlite3")
    x = con.execute
    x("CREATE TABLE butler_attributes (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for m, v in (manager_versions or MANAGERS).items():
        x("INSERT INTO butler_attributes VALUES (?, ?)", (f"version:{m}", v))
    elements = ["instrument", "band", "physical_filter", "detector", "visit", "exposure", "visit_system",
                "visit_definition", "skymap"]
    x("INSERT INTO butler_attributes VALUES ('config:dimensions.json', ?)",
      (json.dumps({"namespace": "daf_butler", "version": 1, "elements": {e: {} for e in elements}}),))
    x("CREATE TABLE collection (collection_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, type SMALLINT NOT NULL, "
      "doc TEXT)")
    x("CREATE TABLE collection_chain (parent BIGINT, position SMALLINT, child BIGINT NOT NULL)")
    for row in [(1, "Cam/raw/all", 1, None), (2, "Cam/calib", 4, "certified calibs"), (3, "Cam/calib/run", 1, None),
                (4, "Cam/defaults", 3, None), (5, "best", 2, "hand-picked")]:
        x("INSERT INTO collection VALUES (?, ?, ?, ?)", row)
    for row in [(4, 0, 2), (4, 1, 1)]:  # calib first: order matters
        x("INSERT INTO collection_chain VALUES (?, ?, ?)", row)
    x("CREATE TABLE dimension_graph_definition (dimension_graph_id BIGINT, dimension_name TEXT)")
    for row in [(1, "instrument"), (1, "detector"), (1, "exposure"), (2, "instrument"), (2, "detector")]:
        x("INSERT INTO dimension_graph_definition VALUES (?, ?)", row)
    x("CREATE TABLE dataset_type (id INTEGER PRIMARY KEY, name TEXT, storage_class TEXT, dimensions_key BIGINT, "
      "tag_association_table TEXT, calibration_association_table TEXT)")
    x("INSERT INTO dataset_type VALUES (1, 'raw', 'Exposure', 1, 'dataset_tags_00000001', NULL)")
    x("INSERT INTO dataset_type VALUES (2, 'bias', 'ExposureF', 2, 'dataset_tags_00000002', 'dataset_calibs_00000002')")
    x("CREATE TABLE dataset (id CHAR(32) PRIMARY KEY, dataset_type_id BIGINT, ingest_date TIMESTAMP, run_id BIGINT)")
    for row in [(RAW_ID, 1, 1), (RAW2_ID, 1, 1), (BIAS_ID, 2, 3)]:
        x("INSERT INTO dataset VALUES (?, ?, CURRENT_TIMESTAMP, ?)", (row[0], row[1], row[2]))
    x("CREATE TABLE dataset_tags_00000001 (dataset_type_id BIGINT, dataset_id CHAR(32), collection_id BIGINT, "
      "instrument TEXT, detector BIGINT, exposure BIGINT)")
    for row in [(1, RAW_ID, 1, "Cam", 0, 2019053000001), (1, RAW2_ID, 1, "Cam", 1, 2019053000001),
                (1, RAW_ID, 5, "Cam", 0, 2019053000001)]:
        x("INSERT INTO dataset_tags_00000001 VALUES (?, ?, ?, ?, ?, ?)", row)
    x("CREATE TABLE dataset_tags_00000002 (dataset_type_id BIGINT, dataset_id CHAR(32), collection_id BIGINT, "
      "instrument TEXT, detector BIGINT)")
    x("INSERT INTO dataset_tags_00000002 VALUES (2, ?, 3, 'Cam', 0)", (BIAS_ID,))
    x("CREATE TABLE dataset_calibs_00000002 (id INTEGER PRIMARY KEY, dataset_type_id BIGINT, dataset_id CHAR(32), "
      "collection_id BIGINT, instrument TEXT, timespan_begin BIGINT, timespan_end BIGINT)")
    x("INSERT INTO dataset_calibs_00000002 VALUES (1, 2, ?, 2, 'Cam', 1559260000000000000, ?)", (BIAS_ID, RUBIN_MAX_NS))
    x("CREATE TABLE file_datastore_records (dataset_id CHAR(32), path TEXT, formatter TEXT, storage_class TEXT, "
      "component VARCHAR(32), checksum TEXT, file_size BIGINT)")
    for row in [(RAW_ID, "raw/r1.fits", 2880), (RAW2_ID, "raw/r2.fits", 2880), (BIAS_ID, "calib/bias.fits", 1234)]:
        x("INSERT INTO file_datastore_records VALUES (?, ?, 'lsst.obs.base.formatters.fitsExposure.FitsExposureFormatter',"
          " 'Exposure', '__NULL_STRING__', NULL, ?)", row)
    x("CREATE TABLE instrument (name TEXT PRIMARY KEY, visit_max BIGINT, exposure_max BIGINT, detector_max BIGINT, "
      "class_name TEXT)")
    x("INSERT INTO instrument VALUES ('Cam', 99999999999999, 99999999999999, 1000, 'my.Cam')")
    x("CREATE TABLE band (name TEXT PRIMARY KEY)")
    x("INSERT INTO band VALUES ('r')")
    x("CREATE TABLE physical_filter (instrument TEXT, name TEXT, band TEXT, PRIMARY KEY (instrument, name))")
    x("INSERT INTO physical_filter VALUES ('Cam', 'r_03', 'r')")
    x("CREATE TABLE detector (instrument TEXT, id BIGINT, full_name TEXT, name_in_raft TEXT, raft TEXT, purpose TEXT, "
      "PRIMARY KEY (instrument, id))")
    x("INSERT INTO detector VALUES ('Cam', 0, 'R22_S00', 'S00', 'R22', 'SCIENCE')")
    x("INSERT INTO detector VALUES ('Cam', 1, 'R22_S01', 'S01', 'R22', 'SCIENCE')")
    x("CREATE TABLE exposure (instrument TEXT, id BIGINT, physical_filter TEXT, obs_id TEXT, exposure_time FLOAT, "
      "dark_time FLOAT, observation_type TEXT, observation_reason TEXT, day_obs BIGINT, seq_num BIGINT, "
      "group_name TEXT, group_id BIGINT, target_name TEXT, science_program TEXT, tracking_ra FLOAT, "
      "tracking_dec FLOAT, sky_angle FLOAT, zenith_angle FLOAT, timespan_begin BIGINT, timespan_end BIGINT, "
      "PRIMARY KEY (instrument, id))")
    x("INSERT INTO exposure VALUES ('Cam', 2019053000001, 'r_03', 'CC_20190530_000001', 15.0, 15.25, 'science', "
      "'survey', 20190530, 1, '2019-05-30T12:00:00', 2019053000001, 'field', 'prog', 10.000000000000002, "
      "19.999999999999996, 0.1, 35.5, 1559270317383983731, 1559270332383983731)")
    x("CREATE TABLE visit_system (instrument TEXT, id BIGINT, name TEXT, PRIMARY KEY (instrument, id))")
    x("INSERT INTO visit_system VALUES ('Cam', 0, 'one-to-one')")
    x("CREATE TABLE visit (instrument TEXT, id BIGINT, physical_filter TEXT, visit_system BIGINT, name TEXT, "
      "day_obs BIGINT, exposure_time FLOAT, target_name TEXT, observation_reason TEXT, science_program TEXT, "
      "zenith_angle FLOAT, region TEXT, timespan_begin BIGINT, timespan_end BIGINT, PRIMARY KEY (instrument, id))")
    x("INSERT INTO visit VALUES ('Cam', 2019053000001, 'r_03', 0, '2019053000001', 20190530, 15.0, 'field', "
      "'survey', 'prog', 35.5, ?, 1559270317383983731, 1559270332383983731)", (_square(),))
    x("CREATE TABLE visit_definition (instrument TEXT, exposure BIGINT, visit BIGINT)")
    x("INSERT INTO visit_definition VALUES ('Cam', 2019053000001, 2019053000001)")
    x("CREATE TABLE skymap (name TEXT PRIMARY KEY, hash BLOB, tract_max BIGINT, patch_nx_max BIGINT, "
      "patch_ny_max BIGINT)")
    x("INSERT INTO skymap VALUES ('cells', ?, 10, 9, 9)", (bytes(range(20)),))
    con.commit()
    con.close()
    return root


def test_a_hand_made_rubin_repository_migrates_with_nothing_lost(butler, tmp_path):
    source = make_rubin_repo(tmp_path / "rubin")
    before = digest(source)
    r = butler("migrate-from-rubin", source, tmp_path / "mine")
    assert "5 collection(s), 2 dataset type(s), 3 dataset(s)" in r.stdout
    assert "2 file(s) the Rubin registry records are not on disk" in r.stdout
    assert digest(source) == before  # read in place, nothing written to it
    compare_with_source(source, export(butler, tmp_path / "mine", tmp_path / "export"))
    # The migrated repository works: the chain finds the certified bias at the exposure's time,
    # the raw on disk is read where it is, the one not on disk is reported missing.
    rows = table_rows(butler("query-datasets", tmp_path / "mine", "raw", "--collections", "Cam/defaults",
                             "--show-uri").stdout)
    assert {r["id"] for r in rows} == {uuid_of(RAW_ID), uuid_of(RAW2_ID)}
    assert any(r["URI"] == (source / "raw" / "r1.fits").as_uri() for r in rows)
    bias = table_rows(butler("query-datasets", tmp_path / "mine", "bias", "--collections", "Cam/calib",
                             "--where", "exposure = 2019053000001 AND instrument = 'Cam'").stdout)
    assert [b["id"] for b in bias] == [uuid_of(BIAS_ID)]
    # Again: nothing to do.
    again = butler("migrate-from-rubin", source, tmp_path / "mine")
    assert "already a migration" in again.stdout


def test_refusals_leave_no_destination(butler, tmp_path):
    # A registry manager version this majordome does not read: named, and nothing made.
    versions = dict(MANAGERS)
    versions["lsst.daf.butler.registry.collections.synthIntKey.SynthIntKeyCollectionManager"] = "3.0.0"
    source = make_rubin_repo(tmp_path / "newer", versions)
    r = butler("migrate-from-rubin", source, tmp_path / "dest", expect=EXIT["Unsupported"])
    assert "SynthIntKeyCollectionManager version 3.0.0" in r.stderr
    assert not (tmp_path / "dest").exists()
    # Not a repository.
    (tmp_path / "empty").mkdir()
    r = butler("migrate-from-rubin", tmp_path / "empty", tmp_path / "dest", expect=EXIT["NotFound"])
    assert "butler.yaml" in r.stderr
    # A destination in use.
    good = make_rubin_repo(tmp_path / "good")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    r = butler("migrate-from-rubin", good, tmp_path / "busy", expect=EXIT["Conflict"])
    assert "already exists" in r.stderr
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]
    # A registry whose content cannot be imported (a dataset of a detector with no record) fails
    # after the new repository was begun: no destination, no leftover beside it.
    broken = make_rubin_repo(tmp_path / "broken")
    con = sqlite3.connect(broken / "gen3.sqlite3")
    con.execute("UPDATE dataset_tags_00000001 SET detector = 7 WHERE dataset_id = ?", (RAW2_ID,))
    con.commit()
    con.close()
    butler("migrate-from-rubin", broken, tmp_path / "out", expect=EXIT["NotFound"])
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    # A value of the wrong kind where daf_butler writes an integer: named, not a crash.
    garbled = make_rubin_repo(tmp_path / "garbled")
    con = sqlite3.connect(garbled / "gen3.sqlite3")
    con.execute("UPDATE dataset SET run_id = 'one' WHERE id = ?", (RAW_ID,))
    con.commit()
    con.close()
    r = butler("migrate-from-rubin", garbled, tmp_path / "out", expect=EXIT["CorruptFile"])
    assert "'one'" in r.stderr
    assert not (tmp_path / "out").exists()
    # The Rubin repository itself, or another Rubin repository, as DEST: refused, untouched.
    before = digest(good)
    butler("migrate-from-rubin", good, good, expect=EXIT["InvalidArgument"])
    butler("migrate-from-rubin", good, broken, expect=EXIT["Conflict"])
    assert digest(good) == before
    # A datastore records table under another name (butler.yaml datastore.records.table).
    renamed = make_rubin_repo(tmp_path / "renamed")
    con = sqlite3.connect(renamed / "gen3.sqlite3")
    con.execute("ALTER TABLE file_datastore_records RENAME TO posix_datastore_records")
    con.commit()
    con.close()
    r = butler("migrate-from-rubin", renamed, tmp_path / "out", expect=EXIT["Unsupported"])
    assert "file_datastore_records" in r.stderr
    (renamed / "butler.yaml").write_text(BUTLER_YAML.replace("table: file_datastore_records",
                                                             "table: posix_datastore_records"))
    butler("migrate-from-rubin", renamed, f"{tmp_path / 'out'}/")  # a trailing separator is the same folder
    same = make_rubin_repo(tmp_path / "same")  # the same content, with the table under its usual name
    compare_with_source(renamed, export(butler, tmp_path / "out", tmp_path / "exp"), same / "gen3.sqlite3")


# ---------------------------------------------------------------------------- the real ones

def real_repo(name: str) -> pathlib.Path:
    path = RUBIN_REPOS / name
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path} (the sibling shared/data checkout)")
    return path


@pytest.mark.parametrize("name", ["comCam", "comCamSim", "lsstCam", "imsim", "phosim", "bot"])
def test_real_rubin_repositories_migrate_with_nothing_lost(butler, tmp_path, name):
    source = real_repo(name)
    butler("migrate-from-rubin", source, tmp_path / "mine")
    compare_with_source(source, export(butler, tmp_path / "mine", tmp_path / "export"))


@pytest.mark.parametrize("name", ["comCam", "lsstCam"])
def test_ingesting_their_raws_reproduces_their_exposure_rows(butler, tmp_path, name):
    """The raws a Rubin repository holds, ingested afresh, give the exposure rows Rubin wrote
    (save group_id, which universe 6 dropped, and group_name, now the group)."""
    source = real_repo(name)
    con = sqlite3.connect(f"file:{source / 'gen3.sqlite3'}?mode=ro", uri=True)
    cur = con.execute("SELECT * FROM exposure")
    cols = [c[0] for c in cur.description]
    theirs = {row[1]: dict(zip(cols, row)) for row in cur}
    class_name = con.execute("SELECT class_name FROM instrument").fetchone()[0]
    repo = tmp_path / "fresh"
    butler("create", repo)
    butler("register-instrument", repo, class_name)
    butler("ingest-raws", repo, source / "raw", "-t", "direct")
    butler("export", repo, tmp_path / "export")
    from conftest import load_export
    ours = {r["id"]: r for e in load_export(tmp_path / "export" / "export.yaml")["data"]
            if e["type"] == "dimension" and e["element"] == "exposure" for r in e["records"]}
    both = set(ours) & set(theirs)
    assert both, f"none of {sorted(theirs)} was ingested again"
    for eid in both:
        mine, row = ours[eid], theirs[eid]
        for col, value in row.items():
            if col in ("timespan_begin", "timespan_end", "group_id"):
                continue
            got = mine["group"] if col == "group_name" else mine[col]
            if isinstance(value, float):
                assert got == pytest.approx(value, rel=1e-12, abs=1e-9), (eid, col)
            else:
                assert got == value, (eid, col)
        assert (tai_ns(mine["datetime_begin"]), tai_ns(mine["datetime_end"])) == \
            (row["timespan_begin"], row["timespan_end"]), eid


# ---------------------------------------------------------------------------- a Rubin registry in PostgreSQL

def _pg_literal(value, column: str, pg_type: str) -> str:
    if value is None:
        return "NULL"
    if pg_type == "BYTEA":
        return f"'\\x{value.hex()}'::bytea"
    if pg_type == "UUID":
        return f"'{uuid_of(value)}'::uuid"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def copy_to_postgres(sqlite_file: pathlib.Path, url: str, schema: str) -> None:
    """The tables of a daf_butler SQLite registry as daf_butler lays them out in PostgreSQL: dataset
    IDs as UUID, blobs as BYTEA, each timespan_begin/timespan_end pair as one int8range column
    `timespan` (NULL bounds: unbounded, as daf_butler's _RangeTimespanType writes them)."""
    con = sqlite3.connect(sqlite_file)
    statements = [f'CREATE SCHEMA "{schema}"', f'SET search_path TO "{schema}"']
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        info = list(con.execute(f"PRAGMA table_info({table})"))
        columns, types = [], {}
        for _, name, declared, *_ in info:
            declared = declared.upper()
            if name in ("timespan_begin", "timespan_end"):
                continue
            if name in ("dataset_id",) or (table == "dataset" and name == "id"):
                types[name] = "UUID"
            elif "BLOB" in declared:
                types[name] = "BYTEA"
            elif "INT" in declared:
                types[name] = "BIGINT"
            elif "FLOAT" in declared:
                types[name] = "DOUBLE PRECISION"
            elif "BOOL" in declared:
                types[name] = "BOOLEAN"
            elif "TIMESTAMP" in declared:
                types[name] = "TIMESTAMP"
            else:
                types[name] = "TEXT"
            columns.append(name)
        spans = any(c[1] == "timespan_begin" for c in info)
        ddl = [f'"{c}" {types[c]}' for c in columns] + (["timespan INT8RANGE"] if spans else [])
        statements.append(f'CREATE TABLE "{table}" ({", ".join(ddl)})')
        cur = con.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cur.description]
        for row in cur:
            r = dict(zip(names, row))
            values = [_pg_literal(r[c], c, types[c]) for c in columns]
            if spans:
                b, e = rubin_span(r["timespan_begin"], r["timespan_end"])
                values.append(f"'[{'' if b is None else b},{'' if e is None else e})'::int8range")
            names_sql = ", ".join(f'"{c}"' for c in columns) + (", timespan" if spans else "")
            statements.append(f'INSERT INTO "{table}" ({names_sql}) VALUES ({", ".join(values)})')
    con.close()
    psql(url, ";\n".join(statements) + ";")


def test_a_rubin_registry_in_postgresql_migrates_with_nothing_lost(butler, tmp_path, postgres_url):
    source = make_rubin_repo(tmp_path / "rubin")
    schema = f"rubin_{tmp_path.name[-8:].lower().replace('-', '_')}"
    try:
        copy_to_postgres(source / "gen3.sqlite3", postgres_url, schema)
        truth = (source / "gen3.sqlite3").rename(tmp_path / "truth.sqlite3")  # only PostgreSQL is left to read
        (source / "butler.yaml").write_text(BUTLER_YAML.replace("sqlite:///<butlerRoot>/gen3.sqlite3", postgres_url)
                                            + f"  namespace: {schema}\n")
        before = psql(postgres_url, f'SELECT count(*) FROM "{schema}".dataset')
        butler("migrate-from-rubin", source, tmp_path / "mine")
        compare_with_source(source, export(butler, tmp_path / "mine", tmp_path / "export"), truth)
        assert psql(postgres_url, f'SELECT count(*) FROM "{schema}".dataset') == before
    finally:
        psql(postgres_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
