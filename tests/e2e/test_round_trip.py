"""Export → import into a fresh repository → export again gives the same content; an export
made with --transfer copy carries its files to a repository at another path."""

import datetime
import pathlib
import warnings

import pytest

from conftest import (Tagged, canonical_export, dataset_index, datasets, export, import_registry, load_export,
                      registry_file, uri_path)


def round_trip(butler, make_repo, tmp_path, names, prepare=None):
    first = make_repo("first")
    import_registry(butler, first, *names)
    if prepare:
        prepare(first)
    one = export(butler, first, tmp_path / "export1")
    second = make_repo("second")
    butler("import", second, tmp_path / "export1", "--without-datastore")
    two = export(butler, second, tmp_path / "export2")
    assert canonical_export(two) == canonical_export(one)
    return one


# Primary key fields of each element (spec/butler.md §1).
PRIMARY_KEY = {
    "instrument": ("name",), "physical_filter": ("instrument", "name"), "subfilter": ("band", "id"),
    "detector": ("instrument", "id"), "group": ("instrument", "name"), "day_obs": ("instrument", "id"),
    "visit": ("instrument", "id"), "exposure": ("instrument", "id"), "skymap": ("name",),
    "tract": ("skymap", "id"), "patch": ("skymap", "tract", "id"), "visit_system": ("instrument", "id"),
    "visit_detector_region": ("instrument", "detector", "visit"),
    "visit_definition": ("instrument", "exposure", "visit"),
    "visit_system_membership": ("instrument", "visit_system", "visit"),
}


def records_by_key(doc):
    """(element, primary key values) → record."""
    out = {}
    for entry in doc["data"]:
        if entry["type"] == "dimension" and entry["element"] in PRIMARY_KEY:
            for rec in entry["records"]:
                out[(entry["element"], tuple(str(rec[k]) for k in PRIMARY_KEY[entry["element"]]))] = rec
    return out


def assert_export_holds_input(doc, names):
    """What the input files say survives in our export, value for value. Only universes
    before 6 had fields that universe 8 dropped (they are migrated on import)."""
    exported = records_by_key(doc)
    for name in names:
        source = load_export(registry_file(name))
        migrated = source.get("universe_version", 0) < 6
        for key, rec in records_by_key(source).items():
            assert key in exported, f"{name}: {key} lost on export"
            mine = exported[key]
            for field, value in rec.items():
                if field not in mine:
                    assert migrated, f"{name}: {key}.{field} lost on export"
                    continue
                assert normal(mine[field]) == normal(value), f"{key}.{field}: {mine[field]!r} != {value!r}"
        ours = {e["name"]: e for e in doc["data"] if e["type"] == "dataset_type"}
        for e in source["data"]:
            if e["type"] == "dataset_type":
                assert set(ours[e["name"]]["dimensions"]) == set(e["dimensions"])
                assert ours[e["name"]]["storage_class"] == e["storage_class"]
                assert bool(ours[e["name"]].get("is_calibration")) == bool(e.get("is_calibration"))


def normal(v):
    if isinstance(v, datetime.datetime):
        # Very old exports hold plain YAML timestamps, which are UTC; ours are tagged TAI.
        from astropy.time import Time
        from astropy.utils import iers
        iers.conf.auto_download = False  # the packaged leap seconds cover these dates; no network
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "leap-second file is expired" (only matters after it)
            t = Time(v, scale="utc").tai
        t.precision = 9
        return ("!butler_time/tai/iso", t.iso)
    if isinstance(v, Tagged):
        if isinstance(v.value, dict):
            return (v.tag, {k: str(x).lower() for k, x in v.value.items()})
        return (v.tag, str(v.value))
    return v


def test_base_and_datasets_with_every_collection_type(butler, make_repo, tmp_path):
    """Adds a TAGGED collection, a CHAINED one and CALIBRATION certifications before the
    round trip, so every collection type and association kind travels."""
    def prepare(repo):
        butler("associate", repo, "tag1", "--collections", "imported_g", "-d", "bias", "--where", "detector IN (1, 2)")
        butler("collection-chain", repo, "chain1", "tag1", "imported_r")
        butler("collection-chain", repo, "chain2", "chain1", "imported_g")
        butler("certify-calibrations", repo, "imported_g", "Cam1/calibs", "bias",
               "--begin-date", "2020-01-01T02:00:00", "--end-date", "2020-01-01T04:00:00")
        butler("certify-calibrations", repo, "imported_r", "Cam1/calibs", "flat", "--begin-date", "2020-01-01T04:00:00")

    doc = round_trip(butler, make_repo, tmp_path, ["base.yaml", "datasets.yaml"], prepare)
    content = canonical_export(doc)
    assert content["collection"]["chain1"]["children"] == ["tag1", "imported_r"]
    assert content["collection"]["chain2"]["children"] == ["chain1", "imported_g"]
    assert content["collection"]["Cam1/calibs"]["collection_type"] == "CALIBRATION"
    assert sorted(content["tagged"]["tag1"]) == sorted(["e15ab039-bc8b-4135-87c5-90902a7c0b22",
                                                         "51352db4-a47a-447c-b12d-a50b206b17cd"])
    assert len(content["calibration"]["Cam1/calibs"]) == 3 + 4  # g's bias det 1–3, r's flats det 1–4
    assert_export_holds_input(doc, ["base.yaml", "datasets.yaml"])


@pytest.mark.parametrize("names", [["ci_hsc-subset.yaml"], ["lsstcam-subset.yaml"], ["ci_hsc-subset-skymap.yaml"],
                                   ["base.yaml", "spatial.yaml"], ["hsc-rc2-subset.yaml"], ["hsc-rc2-subset-v0.yaml"]],
                         ids=lambda n: "+".join(x[:-5] for x in n))
def test_shared_exports(butler, make_repo, tmp_path, names):
    doc = round_trip(butler, make_repo, tmp_path, names)
    assert_export_holds_input(doc, names)
    # Every dataset of the input, with its type, run and data ID, is in the export.
    expected = {}
    for name in names:
        expected.update(dataset_index(load_export(registry_file(name))))
    assert dataset_index(doc) == expected


def make_files(directory: pathlib.Path, n: int) -> dict[str, bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    contents = {}
    for i in range(n):
        data = f"detector payload {i}\n".encode() * (i + 1)
        (directory / f"d{i}.dat").write_bytes(data)
        contents[f"d{i}.dat"] = data
    return contents


def test_export_with_files_to_another_path(butler, make_repo, tmp_path):
    src = make_repo("source")
    import_registry(butler, src, "base.yaml")
    butler("register-dataset-type", src, "thing", "StructuredDataDict", "instrument", "detector")
    contents = make_files(tmp_path / "incoming", 4)
    (tmp_path / "incoming" / "table.csv").write_text(
        "path,instrument,detector\n" + "".join(f"d{i}.dat,Cam1,{i + 1}\n" for i in range(4)))
    butler("ingest-files", src, "thing", "run/ingested", tmp_path / "incoming" / "table.csv",
           "--prefix", tmp_path / "incoming", "-t", "copy")
    butler("associate", src, "tagged", "--collections", "run/ingested", "-d", "thing", "--where", "detector > 2")
    src_uris = {r["id"]: r["URI"] for r in datasets(butler, src, "--show-uri")}
    assert len(src_uris) == 4

    doc = export(butler, src, tmp_path / "exported", "--transfer", "copy")
    # The files travel with the export, at the paths it names.
    for e in doc["data"]:
        if e["type"] == "dataset":
            for r in e["records"]:
                assert (tmp_path / "exported" / r["path"]).is_file()

    dest = make_repo("elsewhere/dest")
    butler("import", dest, tmp_path / "exported", "-t", "copy")
    rows = datasets(butler, dest, "--show-uri")
    assert {r["id"] for r in rows} == set(src_uris)
    by_detector = {}
    for r in rows:
        path = uri_path(r["URI"])
        assert path.is_file()
        assert pathlib.Path(dest.path) in path.parents, f"{path} is not inside the new repository"
        by_detector[int(r["detector"])] = path.read_bytes()
    assert by_detector == {i + 1: contents[f"d{i}.dat"] for i in range(4)}
    # The TAGGED association came along.
    assert sorted(int(r["detector"]) for r in datasets(butler, dest, "thing", "--collections", "tagged")) == [3, 4]
    # Removing the source repository's files does not affect the copy.
    for uri in src_uris.values():
        uri_path(uri).unlink()
    assert {int(r["detector"]): uri_path(r["URI"]).read_bytes() for r in datasets(butler, dest, "--show-uri")} == \
        {i + 1: contents[f"d{i}.dat"] for i in range(4)}
