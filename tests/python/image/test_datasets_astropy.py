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
