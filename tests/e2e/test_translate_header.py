"""End-to-end tests of `majordome translate-header` (header translation of raw files)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest
import yaml

from conftest import EXIT, SHARED_DATA, SOURCE_DIR

HEADERS = SHARED_DATA / "headers"


def majordome(*args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
    given = os.environ.get("MAJORDOME_BIN")
    binary = pathlib.Path(given) if given else SOURCE_DIR / "build" / "bin" / "majordome"
    if not binary.exists():
        pytest.exit(f"majordome binary not found at {binary}; build it (make build) or set MAJORDOME_BIN", 2)
    proc = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, timeout=120)
    if expect is not None:
        assert proc.returncode == expect, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def require_headers():
    if not (HEADERS / "expected.yaml").is_file():
        pytest.skip(f"shared header data not found at {HEADERS}")


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


UNIT_KEYS = {  # expected.yaml key -> (our key, factor, offset)
    "exposure_time_s": ("exposure_time_s", 1, 0), "dark_time_s": ("dark_time_s", 1, 0),
    "exposure_time_requested_s": ("exposure_time_requested_s", 1, 0),
    "observing_day_offset_s": ("observing_day_offset_s", 1, 0),
    "boresight_rotation_angle_deg": ("boresight_rotation_angle_deg", 1, 0),
    "focus_z_mm": ("focus_z_mm", 1, 0), "focus_z_um": ("focus_z_mm", 1000, 0),
    "pressure_Pa": ("pressure_Pa", 1, 0), "pressure_hPa": ("pressure_Pa", 0.01, 0),
    "pressure_mmHg": ("pressure_Pa", 1 / 133.322387415, 0),
    "temperature_degC": ("temperature_degC", 1, 0), "temperature_K": ("temperature_degC", 1, 273.15),
}
NULL_KEYS = {"pressure": "pressure_Pa", "temperature": "temperature_degC",
             "observing_day_offset": "observing_day_offset_s"}


def test_json_matches_expected_values_for_major_instruments():
    require_headers()
    expected = yaml.safe_load((HEADERS / "expected.yaml").read_text())
    wanted = {name: props for name, props in expected.items()
              if props.get("_translator") in {"LatissTranslator", "LsstCamTranslator", "LsstComCamTranslator",
                                               "LsstComCamSimTranslator", "HscTranslator", "MegaPrimeTranslator",
                                               "DecamTranslator", "LsstTS3Translator", "LsstTS8Translator",
                                               "LsstUCDCamTranslator"}
              and "_expect_error" not in props and "observation_id" in props}
    assert len(wanted) >= 30
    proc = majordome("translate-header", "--json", *(HEADERS / name for name in wanted))
    objects = json_lines(proc.stdout)
    assert len(objects) == len(wanted)
    for obj, (name, props) in zip(objects, wanted.items()):
        assert obj["_file"].endswith(name)
        assert obj["_translator_name"] == props["_translator_name"], name
        for key, value in props.items():
            if key.startswith("_"):
                continue
            if key in UNIT_KEYS:
                ours, factor, offset = UNIT_KEYS[key]
                if value is None:
                    assert obj[ours] is None, (name, key)
                else:
                    assert obj[ours] is not None, (name, key)
                    assert abs(obj[ours] * factor + offset - value) < 5e-8, (name, key, obj[ours], value)
            elif value is None:
                assert obj[NULL_KEYS.get(key, key)] is None, (name, key)
            elif isinstance(value, float):
                assert abs(obj[key] - value) < 5e-8, (name, key)
            else:
                assert obj[key] == value, (name, key, obj[key], value)


def test_test_stand_header_dump_without_shared_data(tmp_path):
    # A 2018 TS8 dump: no TSTAND, recognised by its raft controller; the detector comes from the
    # serial table shipped in data/instruments/serials/.
    dump = tmp_path / "ts8.yaml"
    dump.write_text("DATE-OBS: '2018-07-24T10:41:56.807'\nMJD-OBS: 58323.44579637749\nRUNNUM: 6006D\n"
                    "CONTNUM: 000018910e0c\nLSST_NUM: E2V-CCD250-179-Dev\nRAFTNAME: LCA-11021_RTM-010-Dev\n"
                    "REBNAME: R00.Reb1\nTESTTYPE: LAMBDA\nIMGTYPE: BIAS\nSEQNUM: 24\nEXPTIME: 0.0\n"
                    "FILTPOS: 6\nFILENAME: E2V-CCD250-179_lambda_bias_024_6006D_20180724104156.fits\n")
    obj = json_lines(majordome("translate-header", "--json", dump).stdout)[0]
    assert obj["_translator_name"] == "LSST-TS8"
    assert (obj["detector_group"], obj["detector_name"], obj["detector_num"]) == ("RTM-010", "S11", 67)
    assert obj["detector_serial"] == "E2V-CCD250-179"
    assert obj["exposure_id"] == 201807241041568
    assert obj["physical_filter"] == "y"
    assert obj["can_see_sky"] is False and obj["telescope"] is None

    # A CCD the table does not know: the failure names the serial and the table to extend.
    dump.write_text(dump.read_text().replace("E2V-CCD250-179-Dev", "E2V-CCD250-999"))
    proc = majordome("translate-header", "--pedantic", dump, expect=None)
    assert proc.returncode != 0
    assert "E2V-CCD250-999" in proc.stderr and "serials/LSST-TS8.yaml" in proc.stderr

    # A broken detector table stops the command (even without --pedantic), naming the file.
    table = tmp_path / "data" / "instruments" / "serials" / "LSST-TS8.yaml"
    table.parent.mkdir(parents=True)
    table.write_text("format_version: 1\ninstrument: LSST-TS8\ndetectors:\n"
                     "  - {serial: E2V-CCD250-179, group: RTM-010, name: S11, id: 67}\n"
                     "  - {serial: E2V-CCD250-179, group: RTM-011, name: S11, id: 76}\n")
    env = dict(os.environ, MAJORDOME_DATA_DIR=str(tmp_path / "data"))
    binary = os.environ.get("MAJORDOME_BIN") or str(SOURCE_DIR / "build" / "bin" / "majordome")
    broken = subprocess.run([binary, "translate-header", str(dump)], capture_output=True, text=True, env=env,
                            timeout=60)
    assert broken.returncode != 0
    assert str(table) in broken.stderr and "listed twice" in broken.stderr


def test_table_output_and_raw_multi_extension_files():
    require_headers()
    raw = sorted((HEADERS / "obs_lsst" / "raw_header_only_fits").glob("*.fits"))
    assert len(raw) == 4
    proc = majordome("translate-header", *raw)
    for f in raw:
        assert str(f) in proc.stdout
    assert "translator LSST_LATISS" in proc.stdout  # the gzip-compressed LATISS raw
    assert "translator LSSTComCamSim" in proc.stdout  # tile-compressed amplifiers
    objects = json_lines(majordome("translate-header", "--json", *raw).stdout)
    by_name = {pathlib.Path(o["_file"]).name: o for o in objects}
    latiss = by_name["3018092000065-det000.fits"]
    assert latiss["exposure_id"] == 3018092000065
    assert latiss["detector_exposure_id"] == 164148297984
    assert by_name["3019031900001-R10-S02-det029.fits"]["detector_num"] == 29
    assert by_name["CC_S_20240404_000780_R22_S01.fits"]["detector_num"] == 1


def test_forced_visit_info_translator():
    require_headers()
    path = HEADERS / "astro_metadata_translator" / "visit_info.yaml"
    proc = majordome("translate-header", path, expect=None)
    assert proc.returncode == EXIT["NotFound"]
    assert "no header translator recognises" in proc.stderr
    assert "INSTRUME='VisitInfo'" in proc.stderr
    obj = json_lines(majordome("translate-header", "--json", "--translator", "VisitInfo", path).stdout)[0]
    assert obj["exposure_id"] == 2025052000177
    assert obj["detector_num"] == 85
    assert obj["physical_filter"] is None


def test_failures_are_reported_after_the_other_files(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({
        "INSTRUME": "TestCam", "TELESCOP": "Simonyi Survey Telescope", "OBSID": "TC_O_20250101_000001",
        "DAYOBS": "20250101", "SEQNUM": 1, "CONTRLLR": "O", "DATE-BEG": "2025-01-02T01:00:00.000",
        "TIMESYS": "TAI", "EXPTIME": 15.0, "DARKTIME": 15.2, "FILTER": "r", "IMGTYPE": "OBJECT",
        "RASTART": 10.0, "DECSTART": -30.0, "ROTPA": 0.0, "AZSTART": 10.0, "ELSTART": 70.0,
        "RAFTBAY": "R22", "CCDSLOT": "S00", "DETECTOR": 0}))
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("INSTRUME: MysteryCam\nTELESCOP: Backyard\n")
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("INSTRUME: [unclosed\n")
    corrupt = tmp_path / "corrupt.fits"
    corrupt.write_bytes(b"SIMPLE  =                    T" + b" " * 60)
    missing = tmp_path / "missing.fits"
    proc = majordome("translate-header", "--json", unknown, good, malformed, corrupt, missing, expect=None)
    assert proc.returncode == EXIT["NotFound"]  # the first failure's kind
    objects = json_lines(proc.stdout)
    assert [o["instrument"] for o in objects] == ["TestCam"]
    assert objects[0]["exposure_id"] == 2025010100001
    assert objects[0]["observing_day"] == 20250101
    assert objects[0]["has_simulated_content"] is True
    lines = [line for line in proc.stderr.splitlines() if line.startswith("FAILED")]
    assert len(lines) == 4
    assert str(unknown) in lines[0] and "MysteryCam" in lines[0]
    assert str(malformed) in lines[1] and "malformed YAML" in lines[1]
    assert str(corrupt) in lines[2]
    assert str(missing) in lines[3] and "no such file" in lines[3]
    assert "4 of 5 files could not be translated" in proc.stderr


def test_pedantic_mode_names_the_missing_keyword(tmp_path):
    header = tmp_path / "h.yaml"
    header.write_text("INSTRUME: TestCam\nTELESCOP: LSST\nOBSID: TC_O_20250101_000002\nDAYOBS: '20250101'\n"
                      "DATE-BEG: '2025-01-02T01:00:00.000'\nEXPTIME: 1.0\nFILTER: r\nIMGTYPE: BIAS\n"
                      "RAFTBAY: R22\nCCDSLOT: S00\nDETECTOR: 0\n")
    lenient = majordome("translate-header", header)
    assert "not translated: exposure_id (header keywords: SEQNUM)" in lenient.stdout
    proc = majordome("translate-header", "--pedantic", header, expect=None)
    assert proc.returncode == EXIT["NotFound"]
    assert "SEQNUM" in proc.stderr


def test_correction_directory_option(tmp_path):
    require_headers()
    src = HEADERS / "obs_lsst" / "lsstCam-MC_O_20250422_000250_R01_S01.yaml"
    (tmp_path / "LSSTCam-MC_O_20250422_000250.yaml").write_text("FILTER: z_20\n")
    obj = json_lines(majordome("translate-header", "--json", "--corrections", tmp_path, src).stdout)[0]
    assert obj["physical_filter"] == "z_20"
    plain = json_lines(majordome("translate-header", "--json", "--no-fix", src).stdout)[0]
    assert plain["physical_filter"] == "r_57"
