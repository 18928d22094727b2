"""astropy opens what Butler::put writes, and reads back the values majordome put.

The fixture executable (tests/unit/image/dataset_writer_fixture.cpp) is found through
$MAJORDOME_DATASET_WRITER_FIXTURE, else as build*/bin/dataset_writer_fixture; it creates a
repository, puts one dataset of each image storage class and prints their paths and the
values majordome computed as JSON.
"""

import glob
import json
import os
import pathlib
import subprocess
import warnings

import numpy as np
import pytest
import yaml
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

REPO = pathlib.Path(__file__).resolve().parents[3]


def find_fixture():
    env = os.environ.get("MAJORDOME_DATASET_WRITER_FIXTURE")
    if env:
        return pathlib.Path(env)
    candidates = sorted(glob.glob(str(REPO / "build*" / "bin" / "dataset_writer_fixture")),
                        key=os.path.getmtime, reverse=True)
    return pathlib.Path(candidates[0]) if candidates else None


@pytest.fixture(scope="module")
def put(tmp_path_factory):
    exe = find_fixture()
    if exe is None or not exe.exists():
        reason = "dataset_writer_fixture is not built (cmake --build <dir> --target dataset_writer_fixture)"
        if os.environ.get("MAJORDOME_TEST_STRICT"):
            pytest.fail(f"{reason} (required: MAJORDOME_TEST_STRICT is set)")
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("datasets")
    p = subprocess.run([str(exe), str(out)], check=True, capture_output=True, text=True)
    return json.loads(p.stdout)


def test_exposure_opens_with_named_hdus_pixels_mask_and_wcs(put):
    with fits.open(put["calexp"]["path"]) as hdus:
        assert [h.name for h in hdus[1:4]] == ["IMAGE", "MASK", "VARIANCE"]
        image = hdus["IMAGE"].data
        assert image.shape == (40, 60)
        assert image[3, 5] == pytest.approx((5 + 1000 * 3) * 0.5)
        assert hdus["VARIANCE"].data[7, 0] == pytest.approx(11.0)
        mask = hdus["MASK"]
        sat = 1 << mask.header["MP_SAT"]
        assert mask.header["MP_SAT"] == put["calexp"]["sat_bit"]
        assert mask.data[10, 10] & sat and mask.data[11, 12] & sat
        assert not mask.data[12, 10] & sat
        assert hdus[0].header["FLT_BAND"] == "r"
        assert hdus[0].header["OBJECT"] == "FIELD1"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(hdus["IMAGE"].header)
        # The IMAGE HDU's WCS maps local pixels: parent (110, 230) is local (10, 30).
        ra, dec = wcs.all_pix2world([[10.0, 30.0]], 0)[0]
        want = put["calexp"]["sky_at_110_230"]
        assert ra == pytest.approx(want[0], abs=1e-9)
        assert dec == pytest.approx(want[1], abs=1e-9)


def test_the_same_object_put_twice_gives_the_same_bytes(put):
    a = pathlib.Path(put["calexp"]["path"]).read_bytes()
    b = pathlib.Path(put["calexp_again"]["path"]).read_bytes()
    assert put["calexp"]["path"] != put["calexp_again"]["path"]
    assert a == b


def test_unsigned_image_keeps_values_and_origin(put):
    with fits.open(put["picture"]["path"]) as hdus:
        data = hdus[0].data
        assert data.dtype == np.dtype(">u2") or data.dtype == np.uint16
        assert data.shape == (6, 7)
        assert data[1, 2] == 7 and data[0, 0] == 40000
        assert hdus[0].header["CRVAL1A"] == -3 and hdus[0].header["CRVAL2A"] == 5


def test_catalog_strings_compare_without_padding(put):
    t = Table.read(put["truth"]["path"])
    assert list(t.colnames) == ["id", "type", "mag"]
    stars = t[t["type"] == "star"]
    assert list(stars["id"]) == [1, 3]
    assert str(t["mag"].unit) == "mag"


def test_wcs_file_is_a_header_astropy_reads(put):
    with fits.open(put["solution"]["path"]) as hdus:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = WCS(hdus[0].header)
    ra, dec = wcs.all_pix2world([[110.0, 230.0]], 0)[0]
    want = put["calexp"]["sky_at_110_230"]
    assert ra == pytest.approx(want[0], abs=1e-9)
    assert dec == pytest.approx(want[1], abs=1e-9)


def test_structured_data_is_yaml_with_types_kept(put):
    value = yaml.safe_load(pathlib.Path(put["summary"]["path"]).read_text())
    assert value == {"count": 3, "label": "123", "ratio": 2.0, "flags": [True, None]}
    assert isinstance(value["ratio"], float)


def same_bytes(put, name):
    a = pathlib.Path(put[name]["path"]).read_bytes()
    b = pathlib.Path(put[name + "_again"]["path"]).read_bytes()
    assert put[name]["path"] != put[name + "_again"]["path"]
    return a == b


def test_integer_exposure_keeps_32_bit_pixels(put):
    with fits.open(put["counts"]["path"]) as hdus:
        assert [h.name for h in hdus[1:4]] == ["IMAGE", "MASK", "VARIANCE"]
        image = hdus["IMAGE"].data
        assert hdus["IMAGE"].header["BITPIX"] == 32
        assert image.dtype.kind == "i" and image.shape == (4, 5)
        assert int(image[3, 4]) == 2_000_000_001 + 3000 + 4  # not representable as float32
        assert hdus["VARIANCE"].data[0, 0] == pytest.approx(3.0)
        assert hdus["IMAGE"].header["CRVAL1A"] == 10 and hdus["IMAGE"].header["CRVAL2A"] == 20
        assert hdus[0].header["OBJECT"] == "COUNTS"
    assert same_bytes(put, "counts")


def test_background_bins_and_bbox_as_astropy_sees_them(put):
    with fits.open(put["sky"]["path"]) as hdus:
        assert hdus[0].header["MJDKIND"] == "BACKGROUND" and hdus[0].header["NBKG"] == 2
        values = hdus["BKG_VALUES", 1]
        assert values.data.shape == (2, 3)
        assert values.data[1, 2] == pytest.approx(121.0)
        h = values.header
        assert (h["BKGD_X0"], h["BKGD_Y0"], h["BKGD_WIDTH"], h["BKGD_HEIGHT"]) == (5, 6, 30, 20)
        assert h["INTERPSTYLE"] == "LINEAR"
        assert hdus["BKG_VARIANCE", 1].data[0, 0] == pytest.approx(0.5)
        assert hdus["BKG_VALUES", 2].header["INTERPSTYLE"] == "CONSTANT"
        assert ("BKG_VARIANCE", 2) not in hdus
        # Bilinear between bin centres (bins of 10 x 10 pixels: centres at 9.5, 19.5, 29.5 in x
        # and 10.5, 20.5 in y), plus the constant.
        x, y = 12, 9
        cx = np.array([9.5, 19.5, 29.5])
        cy = np.array([10.5, 20.5])
        rows = [np.interp(x, cx, values.data[j]) for j in range(2)]
        # beyond the first centre in y the line continues with its slope
        want = rows[0] + (rows[1] - rows[0]) * (y - cy[0]) / (cy[1] - cy[0]) - 2.5
        assert put["sky"]["at_12_9"] == pytest.approx(want, abs=1e-4)
    assert same_bytes(put, "sky")


def test_defects_are_a_simple_table_astropy_reads(put):
    t = Table.read(put["defects"]["path"])
    assert t.colnames == ["x0", "y0", "width", "height"]
    assert list(t["x0"]) == [0, 1023] and list(t["height"]) == [40, 30]
    assert str(t["width"].unit) == "pix"
    assert t.meta["DEFECTS_SCHEMA"] == "Simple" and t.meta["DEFECTS_SCHEMA_VERSION"] == 1
    assert t.meta["INSTRUME"] == "Cam1" and t.meta["DETECTOR"] == 1
    assert t.meta["OBSTYPE"] == "defects"  # no padding
    assert same_bytes(put, "defects")


def test_config_values_are_python_literals(put):
    import ast
    import math
    values = {}
    for line in pathlib.Path(put["isr_config"]["path"]).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        assert line.startswith("config.")
        name, _, value = line[len("config."):].partition("=")
        values[name] = ast.literal_eval(value)
    assert values["doWrite"] is True
    assert values["gain"] == 1.0 / 3.0
    assert values["saturation"] == 65535.0 and isinstance(values["saturation"], float)
    assert values["doc"] == "it's \"quoted\"\nand é"
    assert values["planes"] == ["BAD", "SAT"]
    assert values["byAmp"] == {"C00": 1.5, 7: None}
    assert values["maxFlux"] == math.inf
    assert values["big"] == -2**63


def test_task_metadata_and_logs_are_json(put):
    m = json.loads(pathlib.Path(put["isr_metadata"]["path"]).read_text())
    assert set(m) == {"scalars", "arrays", "metadata"}
    assert m["scalars"] == {"label": "isr", "n": 7, "one": 1.0, "t": 0.25}
    assert isinstance(m["scalars"]["one"], float)
    assert m["arrays"] == {"ids": [1, 2]}
    assert m["metadata"]["sub"] == {"scalars": {"ok": True}, "arrays": {}, "metadata": {}}
    lines = pathlib.Path(put["isr_log"]["path"]).read_text().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert record["name"] == "lsst.isr" and record["message"] == "two\nlines"
    assert record["MDC"] == {"LABEL": "isr"} and record["funcName"] is None
