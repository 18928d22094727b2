"""Exports written by old daf_butler versions (universe 1, storage format 1.0.0–1.0.2), made by hand
where ../shared/data has none, import as Rubin's YAML importer takes them: visit_system leaves
the visit records (visit_system_membership made from them) and the dimensions of dataset types
that also hold visit (and their data IDs); exposures get their group and day_obs records."""

from __future__ import annotations

import pytest

from conftest import datasets, table_rows

EXPORT = """description: Butler Data Repository Export
version: {version}
universe_version: 1
universe_namespace: daf_butler
data:
- type: dimension
  element: instrument
  records:
  - name: Cam
    visit_max: 100
    exposure_max: 100
    detector_max: 4
    class_name: my.Cam
- type: dimension
  element: physical_filter
  records:
  - {{instrument: Cam, name: r_1, band: r}}
- type: dimension
  element: detector
  records:
  - {{instrument: Cam, id: 1, full_name: D1, purpose: SCIENCE}}
- type: dimension
  element: visit_system
  records:
  - {{instrument: Cam, id: 0, name: one-to-one}}
- type: dimension
  element: exposure
  records:
  - instrument: Cam
    id: 7
    obs_id: e7
    physical_filter: r_1
    group_name: g7
    group_id: 7
    datetime_begin: !butler_time/tai/iso '2020-01-02 03:00:00.000000000'
    datetime_end: !butler_time/tai/iso '2020-01-02 03:00:30.000000000'
- type: dimension
  element: visit
  records:
  - instrument: Cam
    id: 7
    name: v7
    physical_filter: r_1
    visit_system: 0
    seeing: 0.7
    datetime_begin: !butler_time/tai/iso '2020-01-02 03:00:00.000000000'
    datetime_end: !butler_time/tai/iso '2020-01-02 03:00:30.000000000'
- type: dimension
  element: visit_definition
  records:
  - {{instrument: Cam, exposure: 7, visit: 7, visit_system: 0}}
- type: collection
  collection_type: RUN
  name: old/run
- type: dataset_type
  name: summary
  dimensions: [instrument, visit, visit_system, detector]
  storage_class: StructuredDataDict
  is_calibration: false
- type: dataset
  dataset_type: summary
  run: old/run
  records:
  - dataset_id: [!uuid 'a83d850a-0094-417c-ac9c-64d0f7b98048']
    data_id: [{{instrument: Cam, visit: 7, visit_system: 0, detector: 1}}]
    path: old/run/summary_7_1.yaml
    formatter: lsst.daf.butler.formatters.yaml.YamlFormatter
"""


@pytest.mark.parametrize("version", ["1.0.0", "1.0.1", "1.0.2"])
def test_universe_1_export_imports_with_rubins_migrations(butler, make_repo, tmp_path, version):
    folder = tmp_path / "export"
    (folder / "old" / "run").mkdir(parents=True)
    (folder / "old" / "run" / "summary_7_1.yaml").write_text("seeing: 0.7\n")
    (folder / "export.yaml").write_text(EXPORT.format(version=version))
    repo = make_repo("old")
    butler("import", repo, folder, "--transfer", "copy")

    # visit_system left the dataset type (it also holds visit) and its data IDs.
    types = butler("query-dataset-types", repo, "-v").stdout
    assert "summary" in types and "visit_system" not in types, types
    [row] = datasets(butler, repo, "summary")
    assert row["id"] == "a83d850a-0094-417c-ac9c-64d0f7b98048"
    assert row["visit"] == "7" and "visit_system" not in row
    # The visit's system became a membership; seeing was dropped; day_obs and group were made.
    [m] = table_rows(butler("query-dimension-records", repo, "visit_system_membership").stdout)
    assert (m["instrument"], m["visit_system"], m["visit"]) == ("Cam", "0", "7")
    [visit] = table_rows(butler("query-dimension-records", repo, "visit").stdout)
    assert "seeing" not in visit and visit["day_obs"] == "20200102"
    [exposure] = table_rows(butler("query-dimension-records", repo, "exposure").stdout)
    assert exposure["group"] == "g7" and exposure["day_obs"] == "20200102"
    assert [g["name"] for g in table_rows(butler("query-dimension-records", repo, "group").stdout)] == ["g7"]
    assert len(table_rows(butler("query-dimension-records", repo, "visit_definition").stdout)) == 1
    # The dataset reads back through the query system with the new dimensions.
    r = butler("query-datasets", repo, "summary", "--where", "visit.day_obs = 20200102 AND detector = 1")
    assert "a83d850a-0094-417c-ac9c-64d0f7b98048" in r.stdout
