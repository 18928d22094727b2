"""astropy reads what majordome writes: Exposure files and catalogs.

Run (after building the fixture, e.g. `cmake --build build --target image_writer_fixture`):

    /usr/bin/python3 -m pytest tests/python/image -q

The fixture executable is found through $MAJORDOME_IMAGE_WRITER_FIXTURE, else as
build*/bin/image_writer_fixture under the repository; the tests are skipped (with the
reason) when it is not built. It writes an Exposure, its tile-compressed twin, a catalog
and expected.json (values computed by majordome) into a temporary directory.
"""

import glob
import json
import os
import pathlib
import subprocess
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

REPO = pathlib.Path(__file__).resolve().parents[3]


def find_fixture():
    env = os.environ.get("MAJORDOME_IMAGE_WRITER_FIXTURE")
    if env:
        return pathlib.Path(env)
    candidates = sorted(glob.glob(str(REPO / "build*" / "bin" / "image_writer_fixture")),
                        key=os.path.getmtime, reverse=True)
    return pathlib.Path(candidates[0]) if candidates else None



def _missing(reason: str):
    """A missing build product fails under `make test` (MAJORDOME_TEST_STRICT), which builds it."""
    if os.environ.get("MAJORDOME_TEST_STRICT"):
        pytest.fail(f"{reason} (required: MAJORDOME_TEST_STRICT is set)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    exe = find_fixture()
    if exe is None or not exe.exists():
        _missing("image_writer_fixture is not built (cmake --build <dir> --target "
                    "image_writer_fixture, or set MAJORDOME_IMAGE_WRITER_FIXTURE)")
    out = tmp_path_factory.mktemp("image_fixture")
    subprocess.run([str(exe), str(out)], check=True)
    expected = json.loads((out / "expected.json").read_text())
    return out, expected


@pytest.mark.parametrize("name", ["exposure.fits", "exposure_compressed.fits"])
def test_exposure_layout_and_pixels(written, name):
    out, expected = written
    with fits.open(out / name) as hdul:
        hdul.verify("exception")
        names = [h.name for h in hdul]
        assert names == ["PRIMARY", "IMAGE", "MASK", "VARIANCE", "PSF"]
        primary = hdul[0].header
        assert primary["MJDFMTV"] == 1
        assert primary["MJDKIND"] == "EXPOSURE"
        assert primary["OBJECT"] == "fixture"
        assert primary["ESO DET OUT1 PRSCX"] == 50
        assert primary["LONGTEXT"] == "z" * 150
        assert primary["FLT_BAND"] == "r"
        assert primary["VI_EXPT"] == 30.0
        assert primary["PC_MEAN"] == pytest.approx(expected["photo_calib_mean"], rel=1e-15)
        image, mask, variance = hdul["IMAGE"], hdul["MASK"], hdul["VARIANCE"]
        shape = tuple(expected["shape"])
        assert image.data.shape == shape and image.data.dtype.kind == "f"
        assert mask.data.shape == shape and mask.data.dtype == np.uint32
        assert np.all(variance.data == 4.0)
        x0, y0 = expected["xy0"]
        assert image.header["LTV1"] == -x0 and image.header["CRVAL2A"] == y0
        for plane, bit in expected["mask_planes"].items():
            assert mask.header["MP_" + plane] == bit
        for p in expected["points"]:
            x, y = p["local"]
            assert image.data[y, x] == np.float32(p["image"])
            assert mask.data[y, x] == p["mask"]
        psf = Table.read(hdul["PSF"])
        assert psf["sigma"][0] == 1.8


@pytest.mark.parametrize("name", ["exposure.fits", "exposure_compressed.fits"])
def test_exposure_wcs_matches_majordome(written, name):
    out, expected = written
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(out / name) as hdul:
            for ext in ("IMAGE", "MASK", "VARIANCE"):
                wcs = WCS(hdul[ext].header)
                assert wcs.wcs.ctype[0] == "RA---TAN-SIP"
                for p in expected["points"]:
                    x, y = p["local"]  # the file's WCS is for the HDU's own (local) grid
                    ra, dec = wcs.all_pix2world([[x, y]], 0)[0]
                    exp_ra, exp_dec = p["sky"]
                    assert abs(ra - exp_ra) * np.cos(np.radians(dec)) * 3.6e6 < 1.0
                    assert abs(dec - exp_dec) * 3.6e6 < 1.0


def test_compressed_exposure_is_tile_compressed(written):
    out, _ = written
    with fits.open(out / "exposure_compressed.fits") as hdul:
        assert isinstance(hdul["IMAGE"], fits.CompImageHDU)
        assert hdul["IMAGE"]._header["ZCMPTYPE"] == "GZIP_2"
        assert hdul["MASK"]._header["ZCMPTYPE"] == "RICE_1"
    with fits.open(out / "exposure.fits") as a, fits.open(out / "exposure_compressed.fits") as b:
        assert np.array_equal(a["IMAGE"].data, b["IMAGE"].data)  # lossless
        assert np.array_equal(a["MASK"].data, b["MASK"].data)


def same_type(column, numpy_type):
    """dtype equality ignoring byte order (FITS tables are big-endian)."""
    return column.dtype.kind == np.dtype(numpy_type).kind and \
        column.dtype.itemsize == np.dtype(numpy_type).itemsize


def test_catalog_reads_with_table_read(written):
    out, _ = written
    t = Table.read(out / "catalog.fits", hdu="SOURCES")
    assert t.colnames == ["id", "ra", "dec", "flux", "n_pix", "is_star", "band", "ap_flux"]
    assert same_type(t["id"], np.int64) and t["id"][4] == 1_000_000_000_004
    assert same_type(t["ra"], np.float64) and str(t["ra"].unit) == "deg"
    assert same_type(t["flux"], np.float32) and str(t["flux"].unit) == "nJy"
    assert same_type(t["n_pix"], np.int32) and str(t["n_pix"].unit) == "pix"
    assert t["is_star"].dtype == bool and list(t["is_star"]) == [False, True, False, True, False]
    assert list(t["band"]) == ["r", "r", "r", "r", "i"]
    assert t["ap_flux"].shape == (5, 3) and t["ap_flux"][2, 1] == 21.0
    assert t["ap_flux"].format == "{:12.3f}"
    assert t["ra"].description == "right ascension"
    assert t["band"].description == "band, with a 'quoted' word"
    assert t.meta["TRACT"] == 9813
    # Round trip through astropy and back keeps the values.
    t.write(out / "astropy_copy.fits", overwrite=True)
    again = Table.read(out / "astropy_copy.fits")
    assert np.array_equal(again["ap_flux"], t["ap_flux"])
