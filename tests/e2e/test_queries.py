"""The query scenarios of spec/butler.md §9 that the command line reaches, on base.yaml
(+ datasets.yaml). Expected values come from the spec table and the export files."""

import pytest

from conftest import EXIT, datasets, export, import_registry, table_rows

# UUIDs of spec/butler.md §9.
BIAS_G = {1: "e15ab039-bc8b-4135-87c5-90902a7c0b22", 2: "51352db4-a47a-447c-b12d-a50b206b17cd",
          3: "e06b6f3c-5b3e-46d0-bdde-4ef972301116"}
BIAS_R = {2: "87f3e68d-258d-41b7-8ea5-edf3557ccb30", 3: "dc0ef017-dc94-4118-b431-d65b1ef89a5f",
          4: "e255067d-dcc5-4f39-9824-0baa5817d3e5"}
FLAT_R_DET2 = "c1296796-56c5-4acf-9b49-40d920c6f840"


@pytest.fixture
def cam1(butler, repo):
    import_registry(butler, repo, "base.yaml", "datasets.yaml")
    return repo


def detectors(butler, repo, *args):
    r = butler("query-dimension-records", repo, "detector", *args)
    return [int(row["id"]) for row in table_rows(r.stdout)]


def ids_by_detector(rows):
    return {int(r["detector"]): r["id"] for r in rows}


def test_row1_order_by(butler, cam1):
    assert detectors(butler, cam1, "--order-by", "-full_name") == [4, 3, 2, 1]
    assert detectors(butler, cam1, "--order-by", "full_name") == [1, 2, 3, 4]
    # Ties keep the key order; a second term breaks them.
    assert detectors(butler, cam1, "--order-by", "raft,-detector") == [2, 1, 4, 3]
    r = butler("query-dimension-records", cam1, "detector", "--order-by", "-fullname", expect=EXIT["InvalidQuery"])
    assert "fullname" in r.stderr and "full_name" in r.stderr


def test_row2_bind(butler, cam1):
    assert sorted(detectors(butler, cam1, "--where", "detector.raft = :R", "--bind", "R=B")) == [3, 4]
    assert sorted(detectors(butler, cam1, "--where", "instrument = :I AND detector.raft = :R",
                            "--bind", "R=B", "--bind", "I=Cam1")) == [3, 4]
    r = butler("query-dimension-records", cam1, "detector", "--where", "detector.raft = :R", expect=EXIT["InvalidQuery"])
    assert ":R" in r.stderr and "--bind" in r.stderr


@pytest.mark.parametrize("where,count", [
    ("GLOB(full_name, 'A*')", 2), ("GLOB(full_name, 'A?')", 2), ("GLOB(full_name, '??')", 4),
    ("GLOB(full_name, '*a')", 2), ("GLOB(full_name, 'A[ab]')", 0), (r"GLOB(full_name, '\*')", 0),
    ("GLOB(full_name, '%')", 0), ("GLOB(full_name, '')", 0), ("GLOB(purpose, '*EN?E')", 3),
    ("GLOB(instrument, '?a*1') AND GLOB(full_name, '*')", 4),
])
def test_row3_glob(butler, cam1, where, count):
    assert len(detectors(butler, cam1, "--where", where)) == count


def test_row4_ranges(butler, cam1):
    assert detectors(butler, cam1, "--where", "detector IN (1..4:2)") == [1, 3]
    assert detectors(butler, cam1, "--where", "detector IN (2..4:2)") == [2, 4]
    assert detectors(butler, cam1, "--where", "detector IN (1..2)") == [1, 2]
    assert detectors(butler, cam1, "--where", "detector NOT IN (1..2)") == [3, 4]


def test_row5_band_records(butler, cam1):
    # band has no table: its values are the bands of the physical filters (base.yaml: g, r, r).
    r = butler("query-dimension-records", cam1, "band")
    assert sorted(row["name"] for row in table_rows(r.stdout)) == ["g", "r"]
    assert [row["name"] for row in table_rows(butler("query-dimension-records", cam1, "band",
                                                         "--where", "band = 'r'").stdout)] == ["r"]


def test_row6_datasets_of_a_run(butler, cam1):
    rows = datasets(butler, cam1, "bias", "--collections", "imported_g")
    assert [r["id"] for r in rows] == [BIAS_G[1], BIAS_G[2], BIAS_G[3]]  # sorted by data ID
    assert [int(r["detector"]) for r in rows] == [1, 2, 3]


def test_row7_wildcard_collections(butler, cam1):
    assert len(datasets(butler, cam1, "bias", "--collections", "*")) == 6
    r = butler("query-datasets", cam1, "bias", "--collections", "*", "--find-first", expect=EXIT["InvalidQuery"])
    assert "wildcard" in r.stderr.lower() and "*" in r.stderr


def test_row8_find_first_order(butler, cam1):
    g_then_r = ids_by_detector(datasets(butler, cam1, "bias", "--collections", "imported_g,imported_r", "--find-first"))
    assert g_then_r == {1: BIAS_G[1], 2: BIAS_G[2], 3: BIAS_G[3], 4: BIAS_R[4]}
    r_then_g = ids_by_detector(datasets(butler, cam1, "bias", "--collections", "imported_r", "--collections",
                                        "imported_g", "--find-first"))
    assert r_then_g == {1: BIAS_G[1], 2: BIAS_R[2], 3: BIAS_R[3], 4: BIAS_R[4]}


def test_row9_full_data_id(butler, cam1):
    rows = datasets(butler, cam1, "flat", "--collections", "imported_r", "--where", "detector = 2 AND instrument = 'Cam1'")
    assert [(r["id"], r["physical_filter"], r["band"]) for r in rows] == [(FLAT_R_DET2, "Cam1-R1", "r")]


def test_row10_dataset_id(butler, cam1):
    rows = datasets(butler, cam1, "bias", "--collections", "imported_g",
                    "--where", f"dataset_id = UUID('{BIAS_G[1]}')")
    assert [r["id"] for r in rows] == [BIAS_G[1]]
    rows = datasets(butler, cam1, "bias", "--collections", "imported_r",
                    "--where", "bias.dataset_id IN (:IDS)", "--bind", "IDS=" + ",".join(BIAS_R.values()))
    assert sorted(r["id"] for r in rows) == sorted(BIAS_R.values())
    rows = datasets(butler, cam1, "bias", "--collections", "imported_r", "--where", "dataset_id = :id",
                    "--bind", f"id={BIAS_R[3]}")
    assert [r["id"] for r in rows] == [BIAS_R[3]]


def test_row12_tagged_and_chains(butler, cam1):
    butler("associate", cam1, "tag1", "--collections", "imported_g", "-d", "bias", "--where", "detector IN (1, 2)")
    assert ids_by_detector(datasets(butler, cam1, "bias", "--collections", "tag1")) == {1: BIAS_G[1], 2: BIAS_G[2]}
    assert butler("collection-chain", cam1, "chain1", "tag1", "imported_r").stdout.strip() == "[tag1, imported_r]"
    # Through the chain, tag1 wins for det 1–2, imported_r fills 3–4.
    assert ids_by_detector(datasets(butler, cam1, "bias", "--collections", "chain1", "--find-first")) == \
        {1: BIAS_G[1], 2: BIAS_G[2], 3: BIAS_R[3], 4: BIAS_R[4]}
    # Associating r's det2 while g's det2 is tagged is a conflict that changes nothing.
    r = butler("associate", cam1, "tag1", "--collections", "imported_r", "-d", "bias", "--where", "detector = 2",
               expect=EXIT["Conflict"])
    assert "tag1" in r.stderr and "detector: 2" in r.stderr
    assert ids_by_detector(datasets(butler, cam1, "bias", "--collections", "tag1")) == {1: BIAS_G[1], 2: BIAS_G[2]}
    # Disassociate det2: the chain now finds r's det2.
    butler("prune-datasets", cam1, "tag1", "--datasets", "bias", "--where", "detector = 2", "--disassociate", "tag1",
           "--no-confirm")
    found = ids_by_detector(datasets(butler, cam1, "bias", "--collections", "chain1", "--find-first",
                                     "--where", "detector = 2"))
    assert found == {2: BIAS_R[2]}
    # The dataset itself is still in its run.
    assert BIAS_G[2] in {r["id"] for r in datasets(butler, cam1, "bias", "--collections", "imported_g")}


T = {k: f"2020-01-01T0{k}:00:00" for k in range(1, 6)}  # t_k of spec §9 row 13


def calibration_ranges(butler, repo, tmp_path, collection):
    """dataset ID → (begin, end) of its validity in a CALIBRATION collection, read from an export."""
    doc = export(butler, repo, tmp_path / f"calib-export-{len(list(tmp_path.iterdir()))}", "--collections", collection)
    out = {}
    for e in doc["data"]:
        if e["type"] == "associations" and e["collection"] == collection:
            for r in e["validity_ranges"]:
                span = r["timespan"].value
                for i in r["dataset_ids"]:
                    out[i] = tuple(None if span[k] is None else span[k].value.replace(" ", "T")[:19]
                                   for k in ("begin", "end"))
    return out


def test_row13_certify_calibrations(butler, cam1, tmp_path):
    """Certify bias 2a [t2,t4), 3a [t1,t3), 2b+3b [t4,∞) in Cam1/calibs via the CLI (one TAGGED
    collection per group as the input); an overlapping certification is refused."""
    butler("associate", cam1, "in/2a", "--collections", "imported_g", "-d", "bias", "--where", "detector = 2")
    butler("associate", cam1, "in/3a", "--collections", "imported_g", "-d", "bias", "--where", "detector = 3")
    butler("associate", cam1, "in/b", "--collections", "imported_r", "-d", "bias", "--where", "detector IN (2, 3)")
    butler("certify-calibrations", cam1, "in/2a", "Cam1/calibs", "bias", "--begin-date", T[2], "--end-date", T[4])
    butler("certify-calibrations", cam1, "in/3a", "Cam1/calibs", "bias", "--begin-date", T[1], "--end-date", T[3])
    butler("certify-calibrations", cam1, "in/b", "Cam1/calibs", "bias", "--begin-date", T[4])
    expected = {BIAS_G[2]: (T[2], T[4]), BIAS_G[3]: (T[1], T[3]), BIAS_R[2]: (T[4], None), BIAS_R[3]: (T[4], None)}
    assert calibration_ranges(butler, cam1, tmp_path, "Cam1/calibs") == expected
    assert sorted(r["id"] for r in datasets(butler, cam1, "bias", "--collections", "Cam1/calibs")) == sorted(expected)
    types = {r["Name"]: r["Type"] for r in table_rows(butler("query-collections", cam1, "--chains", "no-children").stdout)}
    assert types["Cam1/calibs"] == "CALIBRATION"

    # 2b again from t3 overlaps [t4, ∞): a conflict naming the dataset type, data ID and range.
    r = butler("certify-calibrations", cam1, "in/b", "Cam1/calibs", "bias", "--begin-date", T[3],
               expect=EXIT["Conflict"])
    assert "bias" in r.stderr and "Cam1/calibs" in r.stderr and "decertify" in r.stderr
    assert calibration_ranges(butler, cam1, tmp_path, "Cam1/calibs") == expected


def test_certify_search_all_inputs(butler, cam1, tmp_path):
    """A CHAINED input: only its first child is searched unless --search-all-inputs."""
    butler("collection-chain", cam1, "inputs", "imported_g", "imported_r")
    butler("certify-calibrations", cam1, "inputs", "calib/first", "bias")
    assert set(calibration_ranges(butler, cam1, tmp_path, "calib/first")) == set(BIAS_G.values())
    butler("certify-calibrations", cam1, "inputs", "calib/all", "bias", "--search-all-inputs")
    assert set(calibration_ranges(butler, cam1, tmp_path, "calib/all")) == {BIAS_G[1], BIAS_G[2], BIAS_G[3], BIAS_R[4]}
