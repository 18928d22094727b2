"""`majordome convert-refcat`, then the RTN-103 ingest of the shards into a repository."""

from __future__ import annotations

import math
import pathlib
import subprocess

import numpy as np
import pytest

from conftest import EXIT, SHARED_DATA, datasets

REFCAT_DATA = SHARED_DATA / "refcat"


def shared(name: str) -> pathlib.Path:
    path = REFCAT_DATA / name
    if not path.is_file():
        pytest.skip(f"shared reference catalog data not found at {path}")
    return path


@pytest.fixture
def majordome(butler_exe, base_env):
    """Runs `majordome ARGS…` (the real binary behind the `butler` link)."""
    exe = pathlib.Path(butler_exe).resolve()

    def run(*args, expect: int | None = 0):
        p = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=base_env, timeout=300)
        if expect is not None:
            assert p.returncode == expect, f"majordome {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}"
        assert p.returncode != EXIT["Internal"], p.stderr
        return p
    return run


def read_shards(directory: pathlib.Path):
    from astropy.table import Table, vstack
    files = sorted(directory.glob("*.fits"))
    assert files, f"no shards in {directory}"
    return vstack([Table.read(f) for f in files], metadata_conflicts="silent"), files


def index_rows(directory: pathlib.Path) -> list[tuple[str, int]]:
    from astropy.table import Table
    t = Table.read(directory / "index.ecsv", format="ascii.ecsv")
    assert t.colnames == ["filename", "htm7"]
    return [(str(r["filename"]), int(r["htm7"])) for r in t]


def ab_to_njy(mag: float) -> float:
    return 10 ** ((8.9 - mag) / 2.5) * 1e9


def test_convert_tycho2_then_ingest_as_in_rtn103(majordome, butler, repo, tmp_path):
    source = shared("tycho2_eyuma_field.ecsv")
    out = tmp_path / "tycho2"
    r = majordome("convert-refcat", out, source, "--ra-name", "ra", "--dec-name", "dec",
                  "--mag-column-list", "V:mag_vt", "--dataset-name", "tycho2_test")
    assert "butler register-dataset-type REPO tycho2_test SimpleCatalog htm7" in r.stdout
    stars, files = read_shards(out)
    from astropy.table import Table
    src = Table.read(source, format="ascii.ecsv")
    assert len(stars) == len(src)
    # Positions in radians, fluxes in nJy from AB magnitudes, the format version recorded.
    by_id = {int(row["id"]): row for row in stars}
    for i, row in enumerate(src):
        star = by_id[i]
        assert math.isclose(star["coord_ra"], math.radians(row["ra"]), rel_tol=1e-12)
        assert math.isclose(star["coord_dec"], math.radians(row["dec"]), rel_tol=1e-12)
        assert math.isclose(star["V_flux"], ab_to_njy(row["mag_vt"]), rel_tol=1e-6)  # float32 column
    assert str(stars["V_flux"].unit) == "nJy" and str(stars["coord_ra"].unit) == "rad"
    first = Table.read(files[0])
    assert first.meta["REFCAT_FORMAT_VERSION"] == 1 and first.meta["HTM_DEPTH"] == 7
    index = index_rows(out)
    assert sorted(f for f, _ in index) == sorted(f.name for f in files)

    # RTN-103: register the dataset type, ingest the index with --transfer direct.
    butler("register-dataset-type", repo, "tycho2_test", "SimpleCatalog", "htm7")
    r = butler("ingest-files", repo, "tycho2_test", "refcats", out / "index.ecsv", "--prefix", out,
               "--transfer", "direct")
    assert f"Ingested {len(index)} dataset(s) of type 'tycho2_test'" in r.stderr
    rows = datasets(butler, repo, "tycho2_test", "--collections", "refcats", "--show-uri")
    assert sorted(int(row["htm7"]) for row in rows) == sorted(h for _, h in index)
    for row in rows:
        assert row["URI"].endswith(f"/{row['htm7']}.fits") and str(out) in row["URI"]


def test_convert_atlas_with_proper_motions_and_bands(majordome, tmp_path):
    source = shared("atlas_refcat2_gaiadr2_eyuma_field.ecsv")
    out = tmp_path / "atlas"
    majordome("convert-refcat", out, source, "--ra-name", "RA_ICRS", "--dec-name", "DE_ICRS",
              "--mag-column-list", "g:gmag,r:rmag,i:imag,z:zmag",
              "--mag-err-column-map", "g:e_gmag,r:e_rmag,i:e_imag,z:e_zmag",
              "--pm-ra-name", "pmRA", "--pm-dec-name", "pmDE", "--pm-ra-err-name", "e_pmRA",
              "--pm-dec-err-name", "e_pmDE", "--parallax-name", "Plx", "--parallax-err-name", "e_Plx",
              "--epoch", "2015.5", "--epoch-format", "jyear", "--epoch-scale", "tcb", "--id-name", "id")
    stars, _ = read_shards(out)
    from astropy.table import Table
    src = Table.read(source, format="ascii.ecsv")
    assert len(stars) == len(src)
    mas = math.pi / 180 / 3.6e6
    by_id = {int(row["id"]): row for row in stars}
    src = Table(src, masked=True)
    for i, row in enumerate(src):
        star = by_id[int(row["id"])]  # Gaia source ids (> 2^53) survive exactly
        for band in "griz":
            mag, err = row[f"{band}mag"], row[f"e_{band}mag"]
            flux = ab_to_njy(mag)
            assert math.isclose(star[f"{band}_flux"], flux, rel_tol=1e-6)  # float32 columns
            assert math.isclose(star[f"{band}_fluxErr"], flux * math.log(10) / 2.5 * err, rel_tol=1e-5)
        if src["pmRA"].mask[i] or src["pmDE"].mask[i]:
            assert star["pm_flag"]  # a missing proper motion is flagged
        else:
            assert math.isclose(star["pm_ra"], row["pmRA"] * mas, rel_tol=1e-6)
            assert math.isclose(star["pm_dec"], row["pmDE"] * mas, rel_tol=1e-6)
            assert not star["pm_flag"]
        assert math.isclose(star["parallax"], row["Plx"] * mas, rel_tol=1e-6)
    # J2015.5 (TCB) as MJD TAI, as astropy computes it (Time(2015.5, format="jyear", scale="tcb").tai.mjd).
    assert abs(stars["epoch"][0] - 57205.874409466414) < 1e-8
    assert str(stars["pm_ra"].unit) == "rad / yr"


def test_small_csv_with_rubin_config_py_and_yaml(majordome, tmp_path):
    csv = tmp_path / "stars.csv"
    csv.write_text("name,ra,dec,g,g_err,r,r_err\n"
                   "a,10.0,20.0,15.0,0.01,14.5,0.02\n"
                   "b,10.0001,20.0001,16.0,0.02,15.5,0.03\n"
                   "c,200.0,-45.0,17.0,,16.5,0.05\n")
    config = tmp_path / "convert.py"
    config.write_text(
        "import lsst.meas.algorithms.convertReferenceCatalog\n"
        "# Rubin's ConvertReferenceCatalogConfig fields\n"
        "config.ra_name = 'ra'\n"
        "config.dec_name = 'dec'\n"
        "config.mag_column_list = ['g',\n    'r']\n"
        "config.mag_err_column_map = {'g': 'g_err', 'r': 'r_err'}\n"
        "config.extra_col_names = ['name']\n"
        "config.dataset_config.ref_dataset_name = 'my_refcat'\n"
        "config.dataset_config.indexer['HTM'].depth = 7\n"
        "config.n_processes = 4\n")
    majordome("convert-refcat", tmp_path / "py", csv, "-C", config)
    stars, files = read_shards(tmp_path / "py")
    assert len(files) == 2  # two stars together, one far away
    assert sorted(stars["name"]) == ["a", "b", "c"]
    c = stars[stars["name"] == "c"][0]
    assert math.isclose(c["g_flux"], ab_to_njy(17.0), rel_tol=1e-9)
    assert np.ma.is_masked(c["g_fluxErr"]) or math.isnan(c["g_fluxErr"])  # a missing error stays missing (NaN)
    assert sorted(stars["id"]) == [0, 1, 2]  # no id column: the row number

    yaml_config = tmp_path / "convert.yaml"
    yaml_config.write_text("ra_name: ra\ndec_name: dec\nmag_column_list: [g]\n"
                           "mag_err_column_map: {g: g_err}\ndataset_config:\n  indexer:\n    HTM:\n      depth: 5\n")
    majordome("convert-refcat", tmp_path / "yaml", csv, "-C", yaml_config)
    index = index_rows_depth(tmp_path / "yaml")
    assert index == "htm5"


def index_rows_depth(directory: pathlib.Path) -> str:
    from astropy.table import Table
    return Table.read(directory / "index.ecsv", format="ascii.ecsv").colnames[1]


def test_fits_table_input(majordome, tmp_path):
    from astropy.table import Table
    t = Table({"RA": [150.0, 150.01], "DEC": [2.2, 2.21], "FLUX_G": [1000.0, 2000.0], "ERR_G": [10.0, 20.0],
               "SOURCE_ID": [7, 9]})
    t.write(tmp_path / "in.fits")
    majordome("convert-refcat", tmp_path / "out", tmp_path / "in.fits", "--ra-name", "RA", "--dec-name", "DEC",
              "--flux-column-list", "g:FLUX_G", "--flux-err-column-map", "g:ERR_G", "--flux-unit", "uJy",
              "--id-name", "SOURCE_ID")
    stars, _ = read_shards(tmp_path / "out")
    assert sorted(stars["id"]) == [7, 9]
    assert sorted(stars["g_flux"]) == [1e6, 2e6]  # µJy → nJy


def test_errors_name_the_problem(majordome, tmp_path):
    csv = tmp_path / "stars.csv"
    csv.write_text("ra,dec,g\n10,20,15\n11,oops,16\n")
    # A column that does not exist: named, with the columns there are.
    r = majordome("convert-refcat", tmp_path / "a", csv, "--ra-name", "ra", "--dec-name", "decl",
                  "--mag-column-list", "g", expect=EXIT["NotFound"])
    assert "no column 'decl'" in r.stderr and "ra, dec, g" in r.stderr
    # A bad value: the file, line and column.
    r = majordome("convert-refcat", tmp_path / "b", csv, "--ra-name", "ra", "--dec-name", "dec",
                  "--mag-column-list", "g", expect=EXIT["InvalidArgument"])
    assert "stars.csv line 3, column 'dec': 'oops' is not a number" in r.stderr
    assert not (tmp_path / "b" / "index.ecsv").exists()
    # An output directory that already holds something.
    good = tmp_path / "good.csv"
    good.write_text("ra,dec,g\n10,20,15\n")
    majordome("convert-refcat", tmp_path / "c", good, "--ra-name", "ra", "--dec-name", "dec", "--mag-column-list", "g")
    r = majordome("convert-refcat", tmp_path / "c", good, "--ra-name", "ra", "--dec-name", "dec",
                  "--mag-column-list", "g", expect=EXIT["Conflict"])
    assert "already exists" in r.stderr
    # Missing required settings and unknown config fields say what to set.
    r = majordome("convert-refcat", tmp_path / "d", good, "--ra-name", "ra", expect=EXIT["InvalidConfig"])
    assert "dec_name" in r.stderr
    r = majordome("convert-refcat", tmp_path / "d", good, "--ra-name", "ra", "--dec-name", "dec",
                  "--mag-column-list", "g", "-c", "ra_nmae=ra", expect=EXIT["InvalidConfig"])
    assert "unknown field 'ra_nmae'" in r.stderr
    r = majordome("convert-refcat", tmp_path / "d", good, "--ra-name", "ra", "--dec-name", "dec",
                  "--mag-column-list", "g", "--pm-ra-name", "ra", "--pm-dec-name", "dec", expect=EXIT["InvalidConfig"])
    assert "epoch" in r.stderr
