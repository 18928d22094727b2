"""astropy's Table.read of the simulator's truth tables gives strings a user can compare:
`t[t['type'] == 'star']` selects the stars (docs/image.md, Catalogs: strings are NUL-padded).

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/python/sim
"""

import os
import pathlib
import subprocess

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

REPO = pathlib.Path(__file__).resolve().parents[3]


def majordome() -> str:
    given = os.environ.get("MAJORDOME_BIN")
    binary = pathlib.Path(given) if given else REPO / "build" / "bin" / "majordome"
    if not binary.exists():
        pytest.exit(f"majordome binary not found at {binary}; build it (make build) or set MAJORDOME_BIN", 2)
    return str(binary)


@pytest.fixture(scope="module")
def truth_tables(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "out"
    r = subprocess.run([majordome(), "sim", "--camera", "TestCam", "--out", str(out), "--exposures", "1",
                        "--bands", "r", "--seed", "11", "--no-truth-images", "--no-refcat", "-j", "2"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    tables = sorted((out / "truth").glob("*_sources.fits"))
    assert tables, f"no truth tables under {out / 'truth'}"
    return tables


def test_select_stars_by_type(truth_tables):
    stars = galaxies = 0
    for path in truth_tables:
        t = Table.read(path, hdu="SOURCES")
        # What the type column holds, whatever the padding: the reference for the selections.
        kinds = np.array([str(v).strip() for v in t["type"]])
        assert set(kinds) <= {"star", "galaxy"}, path
        selected = t[t["type"] == "star"]
        assert len(selected) == np.count_nonzero(kinds == "star"), path
        assert list(selected["id"]) == list(t["id"][kinds == "star"]), path
        assert len(t[t["type"] == "galaxy"]) == np.count_nonzero(kinds == "galaxy"), path
        # The values themselves carry no padding.
        assert {str(v) for v in t["type"]} <= {"star", "galaxy"}, path
        stars += len(selected)
        galaxies += np.count_nonzero(kinds == "galaxy")
    assert stars > 0 and galaxies > 0, (stars, galaxies)


def test_strings_end_with_nul_not_blanks(truth_tables):
    # The bytes on disk: a NUL ends a short string (the FITS standard allows it in character
    # fields); blanks would be part of the value for astropy.
    with fits.open(truth_tables[0]) as hdul:
        raw = hdul["SOURCES"].data.field("type")  # numpy 'S6': trailing NULs dropped, blanks kept
        assert hdul["SOURCES"].columns["type"].format == "6A"
        assert {bytes(v) for v in np.asarray(raw, dtype="S6")} <= {b"star", b"galaxy"}
