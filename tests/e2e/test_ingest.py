"""register-instrument, ingest-raws, define-visits and write-curated-calibrations through the real binary
(on SQLite and PostgreSQL), on simulated TestCam/LSSTComCam raws and, when ../shared is there, real Rubin raws.

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e/test_ingest.py
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest
from astropy.io import fits
from astropy.table import Table

from conftest import EXIT, SHARED_DATA, SOURCE_DIR, table_rows

REAL_RAWS = SHARED_DATA / "headers" / "obs_lsst" / "raw_header_only_fits"


def majordome() -> str:
    given = os.environ.get("MAJORDOME_BIN")
    binary = pathlib.Path(given) if given else SOURCE_DIR / "build" / "bin" / "majordome"
    if not binary.exists():
        pytest.exit(f"majordome binary not found at {binary}; build it (make build) or set MAJORDOME_BIN", 2)
    return str(binary)


def simulate(out: pathlib.Path, camera: str, exposures: int, *extra: str) -> pathlib.Path:
    p = subprocess.run([majordome(), "sim", "--camera", camera, "--out", str(out), "--exposures", str(exposures),
                        "-j", "2", *extra], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture(scope="module")
def testcam(tmp_path_factory) -> pathlib.Path:
    """3 TestCam exposures x 4 detectors with pixels and truth tables (for the spatial check)."""
    return simulate(tmp_path_factory.mktemp("testcam"), "TestCam", 3, "--no-galaxies", "--no-refcat")


@pytest.fixture(scope="module")
def comcam(tmp_path_factory) -> pathlib.Path:
    """4 LSSTComCam exposures x 9 detectors, real-sized headers and 1x1-pixel amplifiers."""
    return simulate(tmp_path_factory.mktemp("comcam"), "LSSTComCam", 4, "--tiny")


def raw_files(sim: pathlib.Path) -> list[pathlib.Path]:
    return sorted((sim / "raw").rglob("*.fits"))


def rows(result) -> list[list[str]]:
    """Data rows of a CLI table (after the header and dashes)."""
    lines = [l for l in result.stdout.splitlines() if l.strip()]
    if not lines or lines[0].startswith("No results"):
        return []
    return [l.split() for l in lines[2:]]


def test_register_instrument_rubin_class_names(butler, repo):
    r = butler("register-instrument", repo, "lsst.obs.lsst.LsstComCam", "lsst.obs.lsst.Latiss", "lsst.obs.lsst.LsstCam")
    assert "Registered instrument LSSTComCam" in r.stdout
    recs = rows(butler("query-dimension-records", repo, "instrument"))
    assert {r[0] for r in recs} == {"LATISS", "LSSTCam", "LSSTComCam"}
    assert "lsst.obs.lsst.LsstComCam" in butler("query-dimension-records", repo, "instrument").stdout
    dets = rows(butler("query-dimension-records", repo, "detector", "--where", "instrument='LSSTComCam'"))
    assert len(dets) == 9
    # Again: a no-op.
    assert "already registered" in butler("register-instrument", repo, "LSSTComCam").stdout
    for rubin_class, name, detectors in [("lsst.obs.subaru.HyperSuprimeCam", "HSC", 112),
                                         ("lsst.obs.cfht.MegaPrime", "MegaPrime", 36),
                                         ("lsst.obs.decam.DarkEnergyCamera", "DECam", 62)]:
        r = butler("register-instrument", repo, rubin_class)
        assert f"Registered instrument {name} ({rubin_class}): {detectors} detectors" in r.stdout
        assert len(rows(butler("query-dimension-records", repo, "detector", "--where", f"instrument='{name}'"))) \
            == detectors
    r = butler("register-instrument", repo, "lsst.obs.nowhere.Nothing", expect=EXIT["NotFound"])
    assert "lsst.obs.lsst.Latiss" in r.stderr


@pytest.mark.parametrize("transfer", ["direct", "symlink", "copy"])
def test_ingest_raws_transfers_and_reingest_is_a_no_op(butler, repo, comcam, transfer):
    butler("register-instrument", repo, "lsst.obs.lsst.LsstComCam")
    r = butler("ingest-raws", "-t", transfer, "-j", "2", repo, comcam / "raw")
    assert "Ingested 36 raw file(s) into LSSTComCam/raw/all" in r.stdout
    datasets = rows(butler("query-datasets", repo, "raw", "--collections", "LSSTComCam/raw/all", "--show-uri"))
    assert len(datasets) == 36
    uris = [d[-1] for d in datasets]
    if transfer == "direct":
        assert all(str(comcam) in u for u in uris)
    else:
        assert all(str(repo) in u for u in uris)
        path = pathlib.Path(uris[0].removeprefix("file://"))
        assert path.is_symlink() == (transfer == "symlink")
    assert len(rows(butler("query-dimension-records", repo, "exposure"))) == 4
    again = butler("ingest-raws", "-t", transfer, repo, comcam / "raw")
    assert "Ingested 0 raw file(s)" in again.stdout and "36 already present" in again.stdout
    assert len(rows(butler("query-datasets", repo, "raw", "--collections", "LSSTComCam/raw/all"))) == 36


def test_conflicting_and_bad_files_are_reported_one_by_one(butler, repo, comcam, tmp_path):
    butler("register-instrument", repo, "LSSTComCam")
    files = raw_files(comcam)
    butler("ingest-raws", "-t", "direct", repo, files[0])
    bad = tmp_path / "bad"
    bad.mkdir()
    # The same data ID as an ingested file, different bytes.
    with fits.open(files[0]) as hdus:
        hdus[0].header["EXTRAKEY"] = 1
        hdus.writeto(bad / "clash.fits")
    (bad / "notfits.fits").write_text("not a FITS file\n")
    (bad / "truncated.fits").write_bytes(files[1].read_bytes()[:2000])
    with fits.open(files[2]) as hdus:
        del hdus[0].header["EXPTIME"]
        del hdus[0].header["SHUTTIME"]
        hdus.writeto(bad / "noexptime.fits")
    with fits.open(files[3]) as hdus:
        hdus[0].header["INSTRUME"] = "NoSuchCam"
        hdus[0].header["CAMCODE"] = "ZZ"
        hdus.writeto(bad / "unknown.fits")
    shutil.copy(files[4], bad / "good.fits")
    r = butler("ingest-raws", "-t", "direct", repo, bad, expect=None)
    assert r.returncode != 0
    failed = [l for l in r.stderr.splitlines() if l.startswith("Failed:")]
    assert len(failed) == 5, r.stderr
    for name in ["clash", "notfits", "truncated", "noexptime", "unknown"]:
        assert any(f"{name}.fits" in l for l in failed), (name, r.stderr)
    assert any("clash.fits" in l and "already ingested" in l for l in failed)
    assert any("noexptime.fits" in l and "exposure_time" in l for l in failed)
    assert "Ingested 1 raw file(s)" in r.stdout
    assert len(rows(butler("query-datasets", repo, "raw", "--collections", "LSSTComCam/raw/all"))) == 2

    # --fail-fast stops at the first bad file and ingests nothing more.
    (bad / "good.fits").unlink()
    shutil.copy(files[5], bad / "good.fits")
    r = butler("ingest-raws", "--fail-fast", "-t", "direct", repo, bad, expect=None)
    assert r.returncode != 0 and "--fail-fast" in r.stderr
    assert len(rows(butler("query-datasets", repo, "raw", "--collections", "LSSTComCam/raw/all"))) == 2


def test_define_visits_one_to_one_and_by_group_metadata(butler, repo, comcam, tmp_path):
    butler("register-instrument", repo, "LSSTComCam")
    butler("ingest-raws", "-t", "direct", repo, comcam / "raw")
    config = tmp_path / "config.txt"
    config.write_text('config.groupExposures.name="one-to-one"\n')
    r = butler("define-visits", "-C", config, "--collections", "LSSTComCam/raw/all", repo, "LSSTComCam")
    assert "Defined 4 new visit(s)" in r.stdout
    ids = rows(butler("query-data-ids", repo, "visit,detector"))
    assert len(ids) == 36
    visits = rows(butler("query-dimension-records", repo, "visit"))
    exposures = rows(butler("query-dimension-records", repo, "exposure"))
    assert sorted(v[1] for v in visits) == sorted(e[1] for e in exposures)  # visit id = exposure id
    systems = butler("query-dimension-records", repo, "visit_system").stdout
    assert "one-to-one" in systems
    # Again: nothing new.
    assert "Defined 0 new visit(s)" in butler("define-visits", repo, "lsst.obs.lsst.LsstComCam").stdout

    config.write_text("config.groupExposures.name='nonsense'\n")
    r = butler("define-visits", "-C", config, repo, "LSSTComCam", expect=EXIT["InvalidConfig"])
    assert "one-to-one, by-group-metadata, one-to-one-and-by-counter" in r.stderr


def test_define_visits_default_where_and_conflicts(butler, repo, comcam, tmp_path):
    """Rubin's default grouping (one-to-one-and-by-counter), --where, and what happens to visits a
    different grouping would define differently."""
    butler("register-instrument", repo, "LSSTComCam")
    butler("ingest-raws", "-t", "direct", repo, comcam / "raw")
    exposures = table_rows(butler("query-dimension-records", repo, "exposure", "--order-by", "id").stdout)
    first = exposures[0]["id"]
    r = butler("define-visits", repo, "LSSTComCam", "--where", f"exposure.id = {first}")
    assert "Defined 1 new visit(s)" in r.stdout
    assert "visit systems 0 'one-to-one' and 2 'by-seq-start-end'" in r.stdout
    # A lone snap: its visit belongs to both systems.
    members = table_rows(butler("query-dimension-records", repo, "visit_system_membership").stdout)
    assert sorted((m["visit_system"], m["visit"]) for m in members) == [("0", first), ("2", first)]
    r = butler("define-visits", repo, "LSSTComCam", "--where", "exposure.id = 1")
    assert "Defined 0 new visit(s)" in r.stdout and "from 0 exposure(s)" in r.stdout
    butler("define-visits", repo, "LSSTComCam")
    assert len(table_rows(butler("query-dimension-records", repo, "visit").stdout)) == len(exposures)

    # by-group-metadata names visits by their group: each existing visit is now a conflict.
    config = tmp_path / "config.txt"
    config.write_text('config.groupExposures.name="by-group-metadata"\n')
    r = butler("define-visits", "-C", config, repo, "LSSTComCam", expect=EXIT["Conflict"])
    assert "--update-records" in r.stderr and "--skip-conflicting" in r.stderr
    r = butler("define-visits", "-C", config, "--skip-conflicting", repo, "LSSTComCam")
    assert f"{len(exposures)} conflicting left" in r.stdout and "Warning:" in r.stderr
    names = {v["name"] for v in table_rows(butler("query-dimension-records", repo, "visit").stdout)}
    assert names == {e["obs_id"] for e in exposures}
    r = butler("define-visits", "-C", config, "--update-records", repo, "LSSTComCam")
    assert f"{len(exposures)} updated" in r.stdout
    names = {v["name"] for v in table_rows(butler("query-dimension-records", repo, "visit").stdout)}
    assert names == {e["group"] for e in exposures}
    butler("define-visits", "--update-records", "--skip-conflicting", repo, "LSSTComCam", expect=EXIT["InvalidArgument"])
    butler("define-visits", "--no-update-records", "--skip-conflicting", repo, "LSSTComCam")  # the negated forms


def test_define_visits_by_group_metadata(butler, repo, comcam, tmp_path):
    butler("register-instrument", repo, "LSSTComCam")
    butler("ingest-raws", "-t", "direct", repo, comcam / "raw")
    config = tmp_path / "config.txt"
    config.write_text('config.groupExposures.name="by-group-metadata"\n')
    r = butler("define-visits", "-C", config, repo, "LSSTComCam")
    assert "visit system 1 'by-group-metadata'" in r.stdout
    assert "by-group-metadata" in butler("query-dimension-records", repo, "visit_system").stdout
    assert len(rows(butler("query-dimension-records", repo, "visit"))) >= 1


def test_spatial_query_finds_the_detector_that_saw_a_star(butler, repo, testcam):
    butler("register-instrument", repo, "TestCam")
    butler("ingest-raws", "-t", "symlink", repo, testcam / "raw")
    butler("define-visits", "-c", "computeVisitRegions.padding=0", repo, "TestCam")
    checked = 0
    for sources in sorted((testcam / "truth").glob("*_sources.fits"))[:4]:
        obs_id = "_".join(sources.name.split("_")[:4])
        detector_name = "_".join(sources.name.split("_")[4:6])
        t = Table.read(sources)
        t = t[(abs(t["x"] - 256) < 150) & (abs(t["y"] - 256) < 150)]
        if len(t) == 0:
            continue
        ra, dec = float(t["ra"][0]), float(t["dec"][0])
        found = rows(butler("query-data-ids", repo, "visit,detector", "--where",
                            f"visit_detector_region.region OVERLAPS POINT({ra}, {dec}) AND visit.name='{obs_id}'"))
        dets = rows(butler("query-dimension-records", repo, "detector", "--where", "instrument='TestCam'"))
        expected = [d[1] for d in dets if d[2] == detector_name]
        assert [f[1] for f in found] == expected, (sources.name, ra, dec, found)
        checked += 1
    assert checked > 0


def test_write_curated_calibrations(butler, repo):
    butler("register-instrument", repo, "lsst.obs.lsst.Latiss")
    r = butler("write-curated-calibrations", repo, "lsst.obs.lsst.Latiss", "--label", "DM-48650")
    assert "LATISS/calib/DM-48650" in r.stdout
    colls = {c[0]: c[1] for c in rows(butler("query-collections", repo))}
    assert colls["LATISS/calib/DM-48650"] == "CALIBRATION"
    assert colls["LATISS/calib/DM-48650/unbounded"] == "RUN"
    assert colls["LATISS/calib/DM-48650/curated/19700101T000000Z"] == "RUN"
    assert colls["LATISS/calib/DM-48650/curated/20180101T000000Z"] == "RUN"
    assert len(rows(butler("query-datasets", repo, "defects", "--collections", "LATISS/calib/DM-48650"))) == 2
    assert len(rows(butler("query-datasets", repo, "camera", "--collections", "LATISS/calib/DM-48650"))) == 1
    butler("write-curated-calibrations", repo, "LATISS", "--label", "DM-48650", expect=EXIT["Conflict"])
    butler("write-curated-calibrations", repo, "LATISS", expect=EXIT["InvalidArgument"])
    # Rubin's positional labels, and --prefix instead of the instrument name.
    r = butler("write-curated-calibrations", repo, "LATISS", "DM-1", "--prefix", "u/me")
    assert "u/me/calib/DM-1" in r.stdout
    assert len(rows(butler("query-datasets", repo, "defects", "--collections", "u/me/calib/DM-1"))) == 2


def test_real_rubin_raws(butler, repo):
    if not REAL_RAWS.is_dir():
        pytest.skip(f"shared data not found at {REAL_RAWS}")
    butler("register-instrument", repo, "lsst.obs.lsst.Latiss", "lsst.obs.lsst.LsstComCam", "LSSTComCamSim")
    r = butler("ingest-raws", "-t", "direct", repo, REAL_RAWS / "3018092000065-det000.fits",
               REAL_RAWS / "3019053000001-R22-S00-det000.fits", REAL_RAWS / "CC_S_20240404_000780_R22_S01.fits")
    assert "Ingested 3 raw file(s)" in r.stdout
    assert "LATISS" in butler("query-datasets", repo, "raw", "--collections", "LATISS/raw/all").stdout
    r = butler("define-visits", repo, "LSSTComCamSim", "--collections", "LSSTComCamSim/raw/all")
    assert "Defined 1 new visit(s)" in r.stdout


def test_ingest_raws_regex_selects_files_in_directories(butler, repo, comcam):
    butler("register-instrument", repo, "LSSTComCam")
    r = butler("ingest-raws", "-t", "direct", "--regex", r"_R22_S11\.fits$", repo, comcam / "raw")
    assert "Ingested 4 raw file(s)" in r.stdout  # one detector of each of the 4 exposures
    assert {row[4] for row in rows(butler("query-datasets", repo, "raw", "--collections", "LSSTComCam/raw/all"))} \
        == {"4"}
    r = butler("ingest-raws", "--regex", "(", repo, comcam / "raw", expect=EXIT["InvalidArgument"])
    assert "--regex '('" in r.stderr and "not a valid regular expression" in r.stderr


def test_define_visits_as_rubin_defines_them(butler, repo, comcam):
    """Visits come from the exposure records, every camera detector gets its region, and
    --collections names where Rubin looks for the camera (checked to exist)."""
    butler("register-instrument", repo, "LSSTComCam")
    butler("ingest-raws", "-t", "direct", "--regex", r"_R22_S11\.fits$", repo, comcam / "raw")  # one detector
    r = butler("define-visits", repo, "LSSTComCam", "--collections", "nosuch", expect=EXIT["NotFound"])
    assert "nosuch" in r.stderr
    butler("write-curated-calibrations", repo, "LSSTComCam", "DM-1")
    butler("define-visits", repo, "LSSTComCam", "--collections", "LSSTComCam/calib/DM-1")
    visits = {v["id"] for v in table_rows(butler("query-dimension-records", repo, "visit").stdout)}
    assert len(visits) == 4
    regions = table_rows(butler("query-dimension-records", repo, "visit_detector_region").stdout)
    assert len(regions) == 4 * 9  # all nine ComCam detectors, not only the one with raws


def test_update_exposures_from_raws(butler, repo, tmp_path_factory):
    sim = simulate(tmp_path_factory.mktemp("update"), "LSSTComCam", 2, "--tiny")
    butler("register-instrument", repo, "LSSTComCam")
    butler("ingest-raws", repo, sim / "raw", "-t", "direct")
    everything = ("--where", "exposure.day_obs > 0")
    r = butler("update-exposures-from-raws", repo, "lsst.obs.lsst.LsstComCam", *everything)
    assert "Updated 0 exposure record(s); 2 unchanged; 0 failed (of 2 exposure(s))." in r.stdout
    r = butler("update-exposures-from-raws", repo, "LSSTComCam", expect=EXIT["InvalidArgument"])
    assert "--where" in r.stderr  # as Rubin's, which refuses to touch every exposure unasked
    # A header fixed after ingest, with a new target and a new group: its exposure's record
    # follows (the group record is made), the other stays.
    files = raw_files(sim)
    first = files[0]
    for f in files:
        if f.parent == first.parent:
            fits.setval(f, "OBJECT", value="fixed target", ext=0)
            fits.setval(f, "GROUPID", value="2024-11-26T09:09:09.000", ext=0)
    r = butler("update-exposures-from-raws", repo, "LSSTComCam", "LSSTComCam/raw/all", *everything)
    assert "Updated 1 exposure record(s); 1 unchanged" in r.stdout
    after = butler("query-dimension-records", repo, "exposure").stdout
    fixed = [l for l in after.splitlines()[2:] if "fixed target" in l]
    assert len(fixed) == 1 and "2024-11-26T09:09:09.000" in fixed[0]
    assert "2024-11-26T09:09:09.000" in butler("query-dimension-records", repo, "group").stdout
    # --where narrows; a raw that is gone is named, and its exposure kept as it was.
    r = butler("update-exposures-from-raws", repo, "LSSTComCam", "--where", "exposure.target_name = 'fixed target'")
    assert "(of 1 exposure(s))" in r.stdout
    for f in files:
        if f.parent == first.parent:
            f.unlink()
    r = butler("update-exposures-from-raws", repo, "LSSTComCam", *everything, expect=EXIT["NotFound"])
    assert "Failed: " in r.stderr and first.parent.name in r.stderr
    assert butler("query-dimension-records", repo, "exposure").stdout == after
