"""astropy reads the reference catalog shards majordome writes (docs/refcat.md).

The shards are made by `majordome convert-refcat` (found beside the image writer fixture,
build*/bin/majordome); the test is skipped, with the reason, when it is not built.
"""

import glob
import math
import os
import pathlib
import subprocess

import numpy as np
import pytest
from astropy.table import Table

REPO = pathlib.Path(__file__).resolve().parents[3]


def find_majordome():
    env = os.environ.get("MAJORDOME_IMAGE_WRITER_FIXTURE")
    if env and (pathlib.Path(env).parent / "majordome").exists():
        return pathlib.Path(env).parent / "majordome"
    env = os.environ.get("MAJORDOME_BIN")
    if env and pathlib.Path(env).exists():
        return pathlib.Path(env)
    candidates = sorted(glob.glob(str(REPO / "build*" / "bin" / "majordome")), key=os.path.getmtime, reverse=True)
    return pathlib.Path(candidates[0]) if candidates else None



def _missing(reason: str):
    """A missing build product fails under `make test` (MAJORDOME_TEST_STRICT), which builds it."""
    if os.environ.get("MAJORDOME_TEST_STRICT"):
        pytest.fail(f"{reason} (required: MAJORDOME_TEST_STRICT is set)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    exe = find_majordome()
    if exe is None:
        _missing("the majordome binary is not built (cmake --build <dir> --target majordome)")
    tmp = tmp_path_factory.mktemp("refcat")
    csv = tmp / "stars.csv"
    csv.write_text("id,ra,dec,g,g_err,pmra,pmdec\n"
                   "11,150.0,2.2,18.0,0.05,10.0,-5.0\n"
                   "12,150.001,2.201,19.0,0.10,,\n"
                   "13,10.0,-80.0,17.5,0.02,1.0,2.0\n")
    out = tmp / "refcat"
    subprocess.run([str(exe), "convert-refcat", str(out), str(csv), "--ra-name", "ra", "--dec-name", "dec",
                    "--mag-column-list", "g", "--mag-err-column-map", "g:g_err", "--id-name", "id",
                    "--pm-ra-name", "pmra", "--pm-dec-name", "pmdec", "--epoch", "57000",
                    "--epoch-format", "mjd", "--epoch-scale", "tai"], check=True, capture_output=True)
    return out


def test_astropy_reads_every_shard_with_units(shards):
    files = sorted(shards.glob("*.fits"))
    assert len(files) == 2
    rows = {}
    for f in files:
        t = Table.read(f)
        assert t.meta["REFCAT_FORMAT_VERSION"] == 1
        assert t.meta["HTM_DEPTH"] == 7
        assert int(f.stem) == t.meta["HTM_ID"]
        assert str(t["coord_ra"].unit) == "rad" and str(t["g_flux"].unit) == "nJy"
        assert str(t["pm_ra"].unit) == "rad / yr"
        assert t["id"].dtype.kind == "i" and t["id"].dtype.itemsize == 8 and t["coord_ra"].dtype.itemsize == 8
        assert t["coord_raErr"].dtype.itemsize == 4 and t["pm_flag"].dtype == bool
        for row in t:
            rows[int(row["id"])] = row
    assert sorted(rows) == [11, 12, 13]
    assert math.isclose(rows[11]["coord_dec"], math.radians(2.2), rel_tol=1e-14)
    assert math.isclose(rows[11]["g_flux"], 10 ** ((8.9 - 18.0) / 2.5) * 1e9, rel_tol=1e-12)
    assert math.isclose(rows[11]["pm_ra"], 10.0 * math.pi / 180 / 3.6e6, rel_tol=1e-6)
    assert not rows[11]["pm_flag"] and rows[12]["pm_flag"]
    assert rows[13]["epoch"] == 57000.0


def test_index_is_an_ecsv_table(shards):
    t = Table.read(shards / "index.ecsv", format="ascii.ecsv")
    assert t.colnames == ["filename", "htm7"]
    assert t["htm7"].dtype.kind == "i"
    assert sorted(t["filename"]) == sorted(f.name for f in shards.glob("*.fits"))
    for row in t:
        assert row["filename"] == f"{row['htm7']}.fits"
