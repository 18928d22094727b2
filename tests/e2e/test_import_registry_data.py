"""Every daf_butler registry export in ../shared/data imports into an empty repository
(--without-datastore), and what a user then queries matches the export's content."""

import pytest

from conftest import (dataset_index, datasets, import_registry, load_export, record_count, registry_file,
                      table_rows)

# Elements that have tables in universe 8 (band and skypix dimensions have none).
TABLE_ELEMENTS = {
    "instrument", "physical_filter", "subfilter", "detector", "group", "day_obs", "visit", "exposure", "skymap",
    "tract", "patch", "visit_system", "visit_detector_region", "visit_definition", "visit_system_membership",
}


def records_in(*names):
    """element → number of records in these export files (the input, not our output)."""
    counts = {}
    for name in names:
        for entry in load_export(registry_file(name))["data"]:
            if entry["type"] == "dimension" and entry["element"] in TABLE_ELEMENTS:
                counts[entry["element"]] = counts.get(entry["element"], 0) + len(entry["records"])
    return counts


def check_records_and_datasets(butler, repo, *names):
    for element, n in records_in(*names).items():
        assert record_count(butler, repo, element) == n, f"{element} records after importing {names}"
    expected = {}
    for name in names:
        expected.update(dataset_index(load_export(registry_file(name))))
    found = {r["id"]: r for r in datasets(butler, repo)}
    assert set(found) == set(expected)
    for dataset_id, (dataset_type, run, data_id) in expected.items():
        row = found[dataset_id]
        assert (row["type"], row["run"]) == (dataset_type, run)
        for k, v in data_id.items():
            assert row[k] == str(v), f"{dataset_id}: {k}"


def test_base_then_datasets(butler, repo):
    import_registry(butler, repo, "base.yaml", "datasets.yaml")
    check_records_and_datasets(butler, repo, "base.yaml", "datasets.yaml")
    # spec/butler.md §5: imported_g bias det 1–3, flat det 2–4; imported_r bias det 2–4, flat det 1–4.
    rows = datasets(butler, repo, "bias", "flat")
    by_run = {(r["type"], r["run"]): sorted(int(x["detector"]) for x in rows if (x["type"], x["run"]) == (r["type"], r["run"]))
              for r in rows}
    assert by_run == {("bias", "imported_g"): [1, 2, 3], ("flat", "imported_g"): [2, 3, 4],
                      ("bias", "imported_r"): [2, 3, 4], ("flat", "imported_r"): [1, 2, 3, 4]}
    # Dataset types keep their calibration flag and dimensions.
    types = {r["name"]: r for r in table_rows(butler("query-dataset-types", repo, "-v").stdout)}
    assert set(types) == {"bias", "flat"}
    assert types["bias"]["dimensions"] == "[instrument, detector]"


def test_datasets_before_base_is_refused_cleanly(butler, repo):
    """datasets.yaml must follow base.yaml (its header says so); alone it names what is missing."""
    f = registry_file("datasets.yaml")
    r = butler("import", repo, f.parent, "--export-file", f, "--without-datastore", expect=None)
    assert r.returncode != 0
    assert "bias" in r.stderr and "register" in r.stderr
    assert datasets(butler, repo) == []


def test_spatial_after_base(butler, repo):
    import_registry(butler, repo, "base.yaml", "spatial.yaml")
    check_records_and_datasets(butler, repo, "base.yaml", "spatial.yaml")
    # spec §5: visits 1 (Cam1-G) and 2 (Cam1-R1); 8 visit_detector_regions; SkyMap1 with 2 tracts, 12 patches.
    visits = {r["id"]: r["physical_filter"] for r in table_rows(butler("query-dimension-records", repo, "visit").stdout)}
    assert visits == {"1": "Cam1-G", "2": "Cam1-R1"}
    assert record_count(butler, repo, "visit_detector_region") == 8
    assert record_count(butler, repo, "tract") == 2
    assert record_count(butler, repo, "patch") == 12


def test_ci_hsc_subset(butler, repo):
    import_registry(butler, repo, "ci_hsc-subset.yaml")
    check_records_and_datasets(butler, repo, "ci_hsc-subset.yaml")
    # spec §5: 33 calexp refs in one RUN, 11 visits, 16 detectors, 2 filters.
    rows = datasets(butler, repo, "calexp", "--collections", "HSC/runs/ci_hsc/20240806T180642Z")
    assert len(rows) == 33
    assert record_count(butler, repo, "visit") == 11
    assert record_count(butler, repo, "detector") == 16
    assert record_count(butler, repo, "physical_filter") == 2
    assert record_count(butler, repo, "visit_detector_region") == 33
    # Implied dimensions are filled from the records (a calexp row shows its band and filter).
    assert {r["band"] for r in rows} <= {"g", "r", "i", "z", "y"} and all(r["physical_filter"] for r in rows)


def test_ci_hsc_subset_skymap(butler, repo):
    import_registry(butler, repo, "ci_hsc-subset-skymap.yaml")
    check_records_and_datasets(butler, repo, "ci_hsc-subset-skymap.yaml")
    skymaps = table_rows(butler("query-dimension-records", repo, "skymap").stdout)
    assert [s["name"] for s in skymaps] == ["discrete/ci_hsc"]
    # The hash is bytes (!!binary in the export); the CLI prints bytes as 0x + hex.
    [entry] = [e for e in load_export(registry_file("ci_hsc-subset-skymap.yaml"))["data"]
               if e["type"] == "dimension" and e["element"] == "skymap"]
    assert skymaps[0]["hash"].lower() == "0x" + entry["records"][0]["hash"].hex()


def test_lsstcam_subset(butler, repo):
    import_registry(butler, repo, "lsstcam-subset.yaml")
    check_records_and_datasets(butler, repo, "lsstcam-subset.yaml")
    # spec §9 row 25: visit 2025120200439 has day_obs 20251202, target lowdust, seq_num 439.
    visit = table_rows(butler("query-dimension-records", repo, "visit", "--where", "visit = 2025120200439").stdout)
    assert len(visit) == 1
    assert (visit[0]["day_obs"], visit[0]["target_name"], visit[0]["seq_num"]) == ("20251202", "lowdust", "439")
    exposure = table_rows(butler("query-dimension-records", repo, "exposure", "--where", "exposure = 2025120200439").stdout)
    assert exposure[0]["obs_id"] == "MC_O_20251202_000439"


def test_hsc_rc2_subset(butler, repo):
    import_registry(butler, repo, "hsc-rc2-subset.yaml")
    # spec §5 / §9 row 23: 160 visits, 1,132 visit_detector_regions, detectors ⊇ 0..103.
    assert record_count(butler, repo, "visit") == 160
    out = butler("query-dimension-records", repo, "visit_detector_region", "--limit", "0").stdout
    assert len(out.splitlines()) == 2 + 1132  # header, dashes, one line per region
    detectors = {int(r["id"]) for r in table_rows(butler("query-dimension-records", repo, "detector", "--limit", "0").stdout)}
    assert set(range(104)) <= detectors
    visits = {(int(r["id"]), r["physical_filter"])
              for r in table_rows(butler("query-dimension-records", repo, "visit", "--limit", "0").stdout)}
    assert {(27136, "HSC-Z"), (11694, "HSC-G"), (23910, "HSC-R"), (11720, "HSC-Y"), (1248, "HSC-I"),
            (344, "HSC-Y")} <= visits
    check_records_and_datasets(butler, repo, "hsc-rc2-subset.yaml")


def test_hsc_rc2_subset_v0_migrates(butler, repo):
    f = registry_file("hsc-rc2-subset-v0.yaml")
    r = butler("import", repo, f.parent, "--export-file", f, "--without-datastore")
    # Universe 0 has no day_obs records: they are made, without timespans, and the user is told.
    assert "day_obs" in r.stderr
    # spec §9 row 24.
    expected = {"day_obs": 3, "group": 1, "exposure": 1, "visit": 2, "detector": 3, "visit_system_membership": 2}
    assert {e: record_count(butler, repo, e) for e in expected} == expected


def test_default_limit_warns_and_zero_means_all(butler, repo):
    """hsc-rc2-subset has more regions than a small limit: a negative limit caps and warns,
    0 shows everything, a positive limit caps silently."""
    import_registry(butler, repo, "hsc-rc2-subset.yaml")
    capped = butler("query-dimension-records", repo, "visit_detector_region", "--limit", "-100")
    assert len(table_rows(capped.stdout)) == 100 and "limit" in capped.stderr
    exact = butler("query-dimension-records", repo, "visit_detector_region", "--limit", "100")
    assert len(table_rows(exact.stdout)) == 100
    default = butler("query-dimension-records", repo, "visit_detector_region")
    assert len(table_rows(default.stdout)) == 1132 and "limit" not in default.stderr


@pytest.mark.parametrize("name", ["ci_hsc-subset.yaml", "lsstcam-subset.yaml"])
def test_import_twice_is_harmless(butler, repo, name):
    """Re-importing the same export skips what exists (records and identical datasets)."""
    import_registry(butler, repo, name)
    before = {r["id"] for r in datasets(butler, repo)}
    import_registry(butler, repo, name)
    assert {r["id"] for r in datasets(butler, repo)} == before
    for element, n in records_in(name).items():
        assert record_count(butler, repo, element) == n
