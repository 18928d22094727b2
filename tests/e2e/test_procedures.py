"""The seed procedures, replayed command by command on simulated data, on SQLite and PostgreSQL:

* RTN-103 — how the Rubin France Data Facility builds the LSSTComCam repository (create with a seed
  config, register-instrument, register-skymap, ingest-raws --transfer direct, define-visits,
  write-curated-calibrations, import of the calibration archive, refcat register-dataset-type +
  ingest-files, the chains, `query-collections --chains=tree` and the `query-datasets … | wc -l` check);
* the AuxTel notes — a LATISS repository (seed config + db-auth file, register-instrument, refcats by
  ingest-files -t direct, calibrations by `import --transfer copy … -s instrument -s detector -s
  physical_filter`, ingest-raws --transfer symlink -j 4 night by night, define-visits -C config.txt
  with one-to-one grouping, and the data ID expression of the pipetask command that follows).

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e/test_procedures.py
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import urllib.parse

import pytest
import yaml
from astropy.table import Table

from conftest import EXIT, Butler, datasets, record_count, table_rows

COMCAM_EXPOSURES = 6      # science exposures of the simulated night (g, g, r, r, i, i)
COMCAM_CALIB_RAWS = 5     # one raw bias, one dark and one flat per band (--calib-exposures 1)
FIELD = ("--ra", "150.0", "--dec", "-30.0")


def majordome_exe(butler: Butler) -> str:
    return str(pathlib.Path(butler.exe).resolve())


def simulate(butler_exe, out: pathlib.Path, camera: str, *args: str) -> pathlib.Path:
    exe = str(pathlib.Path(butler_exe).resolve())
    p = subprocess.run([exe, "sim", "--camera", camera, "--out", str(out), "-j", "2", "--seed", "7", *args],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"majordome sim failed:\n{p.stderr}"
    return out


def seed_config(repo, tmp: pathlib.Path, **extra) -> pathlib.Path:
    """The seed file of the procedures: the PostgreSQL server and schema, or nothing for SQLite."""
    config = dict(extra)
    if repo.backend == "postgres":
        config["registry"] = {"db": repo.url, "namespace": repo.namespace}
    path = tmp / "butler-seed.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# ---------------------------------------------------------------------------- RTN-103 on LSSTComCam

@pytest.fixture(scope="module")
def comcam_night(butler_exe, tmp_path_factory) -> pathlib.Path:
    """A simulated LSSTComCam night: raws with real-sized headers and tiny pixels, calibration raws first."""
    return simulate(butler_exe, tmp_path_factory.mktemp("comcam_night"), "LSSTComCam", "--tiny",
                    "--exposures", str(COMCAM_EXPOSURES), "--calibs", "--calib-exposures", "1", *FIELD)


@pytest.fixture(scope="module")
def comcam_ancillary(butler_exe, tmp_path_factory) -> pathlib.Path:
    """One full-pixel sensor of the same field: its combined calibrations with their export.yaml (the
    calibration archive) and the reference catalog of the sky it sees."""
    return simulate(butler_exe, tmp_path_factory.mktemp("comcam_ancillary"), "LSSTComCam", "--exposures", "1",
                    "--detectors", "R22_S11", "--calibs", "--calib-exposures", "0", "--calib-label", "DM-48520",
                    "--no-galaxies", "--no-truth-images", *FIELD)


SKYMAP_CONFIG = """\
# lsst_cells_v1's tract builder, coarser so that registering it takes a moment.
config.name = "lsst_cells_test"
config.skyMap.name = "rings"
config.skyMap["rings"].numRings = 12
config.skyMap["rings"].projection = "TAN"
config.skyMap["rings"].pixelScale = 10.0
config.skyMap["rings"].tractOverlap = 1.0/60
config.skyMap["rings"].tractBuilder = "cells"
"""


def test_rtn103_procedure(butler, make_repo, comcam_night, comcam_ancillary, tmp_path):
    repo = make_repo("ccms1", create=False)
    REPO = repo.path
    night, ancillary = comcam_night, comcam_ancillary

    # Create an empty repository; register instrument and skymap.
    butler("create", "--seed-config", seed_config(repo, tmp_path, datastore={"name": "ccms1"}), "--override", REPO)
    butler("register-instrument", REPO, "lsst.obs.lsst.LsstComCam")
    skymap_config = tmp_path / "lsst_cells_test.skymap.config"
    skymap_config.write_text(SKYMAP_CONFIG)
    r = butler("register-skymap", "--config-file", skymap_config, REPO)
    assert "Registered skymap 'lsst_cells_test'" in r.stdout

    # Ingest raw exposures; define visits.
    r = butler("ingest-raws", "--fail-fast", "--transfer", "direct", REPO, night / "raw")
    raw_files = sorted((night / "raw").rglob("*.fits"))
    n_raws = (COMCAM_EXPOSURES + COMCAM_CALIB_RAWS) * 9
    assert len(raw_files) == n_raws
    assert f"Ingested {n_raws} raw file(s) into LSSTComCam/raw/all; 0 already present; 0 failed" in r.stdout
    r = butler("define-visits", REPO, "LSSTComCam", "--collections", "LSSTComCam/raw/all")
    assert record_count(butler, REPO, "visit") == COMCAM_EXPOSURES  # science exposures only

    # Curated calibrations, then the calibration archive, then the global calibration chain.
    butler("write-curated-calibrations", REPO, "lsst.obs.lsst.LsstComCam", "--label", "DM-48650")
    butler("import", REPO, ancillary / "calib", "--export-file", ancillary / "calib" / "export.yaml",
           "--transfer", "direct")
    butler("collection-chain", REPO, "LSSTComCam/calib",
           "LSSTComCam/calib/DM-48520,LSSTComCam/calib/DM-48650,LSSTComCam/calib/DM-48650/unbounded")

    # The reference catalog.
    butler("register-dataset-type", REPO, "the_monster_20240904", "SimpleCatalog", "htm7")
    butler("ingest-files", REPO, "the_monster_20240904", "refcats/DM-46370/the_monster_20240904",
           "--prefix", f"{ancillary}/refcat/", "--transfer", "direct", "index.ecsv", cwd=ancillary / "refcat")
    butler("collection-chain", REPO, "refcats", "refcats/DM-46370/the_monster_20240904")

    # The global collection, and the checks of the note.
    butler("collection-chain", REPO, "LSSTComCam/DP1/defaults", "LSSTComCam/raw/all,LSSTComCam/calib,refcats,skymaps")
    r = butler("query-collections", "--chains=tree", REPO, "LSSTComCam/DP1/defaults")
    tree = [(row["Name"], row["Type"]) for row in table_rows(r.stdout)]
    assert tree == [
        ("LSSTComCam/DP1/defaults", "CHAINED"),
        ("LSSTComCam/raw/all", "RUN"),
        ("LSSTComCam/calib", "CHAINED"),
        ("LSSTComCam/calib/DM-48520", "CHAINED"),
        ("LSSTComCam/calib/DM-48520/bias.20241126a", "CALIBRATION"),
        ("LSSTComCam/calib/DM-48520/dark.20241126a", "CALIBRATION"),
        ("LSSTComCam/calib/DM-48520/defects.20241126a", "CALIBRATION"),
        ("LSSTComCam/calib/DM-48520/flat-g.20241126a", "CALIBRATION"),
        ("LSSTComCam/calib/DM-48650", "CALIBRATION"),
        ("LSSTComCam/calib/DM-48650/unbounded", "RUN"),
        ("refcats", "CHAINED"),
        ("refcats/DM-46370/the_monster_20240904", "RUN"),
        ("skymaps", "RUN"),
    ], r.stdout
    # Children are indented under their chain, as Rubin prints the tree.
    assert "\n  LSSTComCam/raw/all" in r.stdout and "\n    LSSTComCam/calib/DM-48520 " in r.stdout

    wc = subprocess.run(f'"{butler.exe}" query-datasets "{REPO}" raw --collections LSSTComCam/raw/all '
                        f'--where "exposure.observation_type=\'science\'" --limit 0 | wc -l',
                        shell=True, capture_output=True, text=True, env=butler.env, check=True)
    # One line per science raw plus, as Rubin prints it, a blank line, the table's header and its dashes.
    assert int(wc.stdout) == COMCAM_EXPOSURES * 9 + 3
    assert len(datasets(butler, REPO, "raw", "--collections", "LSSTComCam/raw/all")) == n_raws

    # What the repository is for: every input of processing one science detector is found through
    # the defaults chain, the calibrations by the exposure's time.
    first = table_rows(butler("query-dimension-records", REPO, "exposure", "--where",
                              "observation_type='science'", "--order-by", "seq_num", "--limit", "1").stdout)[0]
    where = f"instrument='LSSTComCam' and exposure={first['id']} and detector=4"
    for dataset_type, path in [("bias", "bias/R22_S11.fits"), ("dark", "dark/R22_S11.fits"),
                               ("defects", "defects/R22_S11.ecsv"), ("flat", "flat/g_01/R22_S11.fits")]:
        [found] = datasets(butler, REPO, dataset_type, "--collections", "LSSTComCam/DP1/defaults", "--find-first",
                           "--where", where, "--show-uri")
        # --transfer direct: the repository points at the archive's own file.
        assert found["URI"] == (ancillary / "calib" / path).as_uri(), found
    [camera] = datasets(butler, REPO, "camera", "--collections", "LSSTComCam/DP1/defaults", "--find-first",
                        "--where", where)
    assert camera["run"] == "LSSTComCam/calib/DM-48650/unbounded"
    # The reference catalog shards that overlap this detector's visit region: exactly the shards the
    # simulator wrote for the stars it placed there.
    shards = datasets(butler, REPO, "the_monster_20240904", "--collections", "LSSTComCam/DP1/defaults",
                      "--where", f"instrument='LSSTComCam' and visit={first['id']} and detector=4")
    written = {int(row["htm7"]) for row in Table.read(ancillary / "refcat" / "index.ecsv", format="ascii.ecsv")}
    assert shards and {int(s["htm7"]) for s in shards} <= written
    # And the skymap: the visit lands on patches of the registered skymap.
    r = butler("query-data-ids", REPO, "tract", "patch", "--where",
               f"skymap='lsst_cells_test' and instrument='LSSTComCam' and visit={first['id']}")
    assert table_rows(r.stdout), r.stdout


def test_rtn103_import_errors_leave_nothing(butler, repo, comcam_ancillary, tmp_path):
    """Importing the calibration archive before the instrument exists fails whole and names the fix."""
    calib = comcam_ancillary / "calib"
    r = butler("import", repo, calib, "--export-file", calib / "export.yaml", "--transfer", "direct",
               expect=EXIT["NotFound"])
    assert "'LSSTComCam'" in r.stderr and "register-instrument" in r.stderr, r.stderr
    assert not table_rows(butler("query-collections", repo).stdout)  # no collection, no dataset type left
    assert not table_rows(butler("query-dataset-types", repo).stdout)
    # Importing twice is refused as a conflict (the validity ranges would overlap), not a second copy.
    butler("register-instrument", repo, "LSSTComCam")
    butler("import", repo, calib, "--export-file", calib / "export.yaml", "--transfer", "direct")
    before = datasets(butler, repo, "bias", "--collections", "LSSTComCam/calib/DM-48520/run")
    r = butler("import", repo, calib, "--export-file", calib / "export.yaml", "--transfer", "direct",
               expect=EXIT["Conflict"])
    assert "already certified in 'LSSTComCam/calib/DM-48520/bias." in r.stderr, r.stderr
    assert datasets(butler, repo, "bias", "--collections", "LSSTComCam/calib/DM-48520/run") == before


# ---------------------------------------------------------------------------- AuxTel (LATISS)

NIGHTS = [("2022-03-16", "2022-03-17T01:00:00", 327), ("2022-03-17", "2022-03-18T01:00:00", 1),
          ("2022-03-18", "2022-03-19T01:00:00", 1)]
LATISS_EXPOSURES = 4


@pytest.fixture(scope="module")
def auxtel_data(butler_exe, tmp_path_factory) -> pathlib.Path:
    """raw_ncsa/<date>/<exposure>/… for three nights (tiny pixels), plus import-calibs/ and a refcat."""
    root = tmp_path_factory.mktemp("auxtel")
    for date, start, first_seq in NIGHTS:
        sim = simulate(butler_exe, root / "sim" / date, "LATISS", "--tiny", "--exposures", str(LATISS_EXPOSURES),
                       "--start", start, "--first-seq", str(first_seq), *FIELD)
        [day_dir] = (sim / "raw").iterdir()
        (root / "raw_ncsa").mkdir(exist_ok=True)
        day_dir.rename(root / "raw_ncsa" / date)
    cal = simulate(butler_exe, root / "sim" / "calibs", "LATISS", "--exposures", "1", "--calibs",
                   "--calib-exposures", "0", "--calib-label", "DM-33000", "--start", "2022-03-16T20:00:00",
                   "--no-galaxies", "--no-truth-images", *FIELD)
    (cal / "calib").rename(root / "import-calibs")
    (cal / "refcat").rename(root / "gaia_dr2_20191105")
    # The refcat table as handed around: absolute file names, one per shard.
    index = Table.read(root / "gaia_dr2_20191105" / "index.ecsv", format="ascii.ecsv")
    index["filename"] = [str(root / "gaia_dr2_20191105" / f) for f in index["filename"]]
    index.write(root / "gaia_dr2_20191105.ecsv", format="ascii.ecsv")
    return root


def test_auxtel_procedure(butler, make_repo, auxtel_data, tmp_path, base_env):
    data = auxtel_data
    work = tmp_path / "work"
    work.mkdir()
    repo = make_repo("data", create=False)
    env = {}
    if repo.backend == "postgres":
        # Credentials from $HOME/.lsst/db-auth.yaml (mode 600), none in the seed.
        parts = urllib.parse.urlsplit(repo.url)
        server = f"postgresql://{parts.hostname}:{parts.port}{parts.path}"
        home = tmp_path / "home"
        (home / ".lsst").mkdir(parents=True)
        auth = home / ".lsst" / "db-auth.yaml"
        auth.write_text(yaml.safe_dump([{"url": server, "username": "majordome",
                                         "password": "majordome-test-password"}]))
        auth.chmod(0o600)
        env["HOME"] = str(home)
        (work / "butler-seed.yaml").write_text(yaml.safe_dump(
            {"registry": {"db": server, "namespace": repo.namespace}}))
    else:
        (work / "butler-seed.yaml").write_text(yaml.safe_dump({}))
    run = Butler(butler.exe, {**base_env, **env})

    def b(*args, **kw):
        return run(*args, cwd=work, **kw)

    b("create", "--seed-config", "butler-seed.yaml", "--override", "./data")
    b("register-instrument", "./data", "lsst.obs.lsst.Latiss")

    # Reference catalogs: the first attempts of the chat fail with errors that say what is wrong.
    r = b("ingest-files", "-t", "direct", "./data", data / "gaia_dr2_20191105", "refcats",
          "gaia_dr2_20191105.ecsv", expect=None)
    assert r.returncode != 0 and "register-dataset-type" in r.stderr, r.stderr
    b("register-dataset-type", "./data", "gaia_dr2_20191105", "SimpleCatalog", "htm7")
    b("ingest-files", "-t", "direct", "./data", "gaia_dr2_20191105", "refcats", data / "gaia_dr2_20191105.ecsv")
    n_shards = len(Table.read(data / "gaia_dr2_20191105.ecsv", format="ascii.ecsv"))
    assert len(datasets(run, work / "data", "gaia_dr2_20191105", "--collections", "refcats")) == n_shards

    # Detector calibrations.
    b("import", "--transfer", "copy", "--export-file", data / "import-calibs" / "export.yaml", "./data",
      data / "import-calibs", "-s", "instrument", "-s", "detector", "-s", "physical_filter")
    b("collection-chain", "./data", "LATISS/calib", "LATISS/calib/DM-33000")

    # Raws night by night, visits after each.
    config = work / "config.txt"
    config.write_text('config.groupExposures.name="one-to-one"\n')
    ingested = 0
    for i, (date, _, _) in enumerate(NIGHTS):
        exposures = sorted(str(p) for p in (data / "raw_ncsa" / date).iterdir())  # the shell's glob
        r = b("ingest-raws", "--transfer", "symlink", "-j", "4", "./data", *exposures)
        assert f"Ingested {LATISS_EXPOSURES} raw file(s) into LATISS/raw/all" in r.stdout
        ingested += LATISS_EXPOSURES
        b("define-visits", "-C", "config.txt", "--collections", "LATISS/raw/all", "./data", "LATISS")
        assert record_count(run, work / "data", "visit") == ingested
    # symlink: the repository holds links to the files where they were.
    raws = datasets(run, work / "data", "raw", "--collections", "LATISS/raw/all", "--show-uri")
    assert len(raws) == ingested
    for row in raws:
        path = pathlib.Path(urllib.parse.urlsplit(row["URI"]).path)
        assert path.is_symlink() and str(path.resolve()).startswith(str(data / "raw_ncsa")), row
    # --transfer copy: the calibrations are the repository's own files now.
    for row in datasets(run, work / "data", "bias", "--collections", "LATISS/calib", "--show-uri"):
        path = pathlib.Path(urllib.parse.urlsplit(row["URI"]).path)
        assert path.is_file() and not path.is_symlink() and str(path).startswith(str(work / "data")), row

    # The pipetask data query of the notes selects exactly one exposure, whose inputs are all found.
    query = "exposure.day_obs=20220316 and exposure.seq_num=330 and instrument='LATISS'"
    [raw] = datasets(run, work / "data", "raw", "--collections", "LATISS/raw/all,refcats,LATISS/calib",
                     "--where", query)
    assert raw["exposure"] == "2022031600330"
    [visit] = table_rows(b("query-data-ids", "./data", "visit", "detector", "--where", query).stdout)
    assert visit["visit"] == raw["exposure"]  # one-to-one: the visit has the exposure's id
    for dataset_type in ("bias", "dark", "defects"):
        [found] = datasets(run, work / "data", dataset_type, "--collections", "LATISS/raw/all,refcats,LATISS/calib",
                           "--find-first", "--where", query)
        assert found["run"] == "LATISS/calib/DM-33000/run"
    shards = datasets(run, work / "data", "gaia_dr2_20191105", "--collections", "refcats", "--where",
                      f"instrument='LATISS' and visit={raw['exposure']} and detector=0")
    assert shards, "no refcat shard overlaps the visit"

    # Ingesting a night again is a no-op; defining visits again too.
    exposures = sorted(str(p) for p in (data / "raw_ncsa" / NIGHTS[0][0]).iterdir())
    r = b("ingest-raws", "--transfer", "symlink", "-j", "4", "./data", *exposures)
    assert f"Ingested 0 raw file(s) into LATISS/raw/all; {LATISS_EXPOSURES} already present; 0 failed" in r.stdout
    b("define-visits", "-C", "config.txt", "--collections", "LATISS/raw/all", "./data", "LATISS")
    assert record_count(run, work / "data", "visit") == ingested
