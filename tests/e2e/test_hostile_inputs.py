"""Hostile inputs (issue 11) through the real binary: FITS headers that crashed cfitsio, files that
are not FITS at all, tables with a repeated column. Every one must end in a clear error naming the
file and the problem, never a crash, and ingest-raws must list a bad file and ingest the others.

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e/test_hostile_inputs.py
"""

from __future__ import annotations

import gzip
import pathlib
import shutil
import subprocess

import pytest

from conftest import EXIT
from test_ingest import raw_files, rows, simulate


# ---------------------------------------------------------------------------- FITS by hand

def card(keyword: str, value: str | None = None) -> bytes:
    text = keyword.ljust(8) if value is None else keyword.ljust(8) + "= " + value.rjust(20)
    return text.ljust(80).encode()


def block(data: bytes, fill: bytes) -> bytes:
    return data + fill * (-len(data) % 2880)


def hdu(cards: list[bytes], data_bytes: int = 0) -> bytes:
    return block(b"".join(cards) + card("END"), b" ") + block(b"\0" * data_bytes, b"\0")


def image_cards(first: bytes, axes: list[int], bitpix: int = 8) -> list[bytes]:
    return [first, card("BITPIX", str(bitpix)), card("NAXIS", str(len(axes)))] + \
        [card(f"NAXIS{i + 1}", str(n)) for i, n in enumerate(axes)]


def primary(axes: list[int], bitpix: int = 8) -> list[bytes]:
    return image_cards(card("SIMPLE", "T"), axes, bitpix)


def extension(axes: list[int]) -> list[bytes]:
    return image_cards(card("XTENSION", "'IMAGE   '"), axes) + [card("PCOUNT", "0"), card("GCOUNT", "1")]


EMPTY_PRIMARY = hdu([card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "0"), card("EXTEND", "T")])

# name → (bytes, words the error must hold)
HOSTILE = {
    "naxis104": (hdu(primary([1] * 104), 1), ["HDU 0", "NAXIS = 104", "at most 99"]),
    "naxis120": (hdu(primary([1] * 120), 1), ["HDU 0", "NAXIS = 120", "at most 99"]),
    "naxis999": (hdu(primary([1] * 999), 1), ["HDU 0", "NAXIS = 999"]),
    "naxis_minus1": (hdu([card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "-1")]), ["NAXIS = -1"]),
    "naxis1_huge": (hdu(primary([2 ** 62, 2 ** 62])), ["NAXIS1 = 4611686018427387904", "2^63"]),
    "bitpix7": (hdu(primary([], bitpix=7)), ["BITPIX = 7"]),
    "naxis2_missing": (hdu([card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "2"), card("NAXIS1", "1")]),
                       ["NAXIS2 is missing"]),
    "extension_naxis200": (EMPTY_PRIMARY + hdu(extension([1] * 200), 1), ["HDU 1", "NAXIS = 200"]),
    "truncated": (hdu(primary([2, 2]) + [card("HISTORY")] * 100, 4)[:2880], ["END", "truncated"]),
    "truncated_naxis120": (hdu(primary([1] * 120), 1)[:2880], ["NAXIS = 120"]),
    "zero_bytes": (b"", ["empty"]),
    "not_fits": (b"#!/bin/sh\necho hello\n" * 200, ["not a FITS file"]),
}


@pytest.fixture
def majordome(butler_exe, base_env):
    """Runs `majordome ARGS…`; a crash (negative status) or an internal error fails the test."""
    exe = pathlib.Path(butler_exe).resolve()

    def run(*args, expect: int | None = 0):
        p = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=base_env, timeout=300)
        assert p.returncode >= 0, f"majordome {args[0]} died with signal {-p.returncode}:\n{p.stderr}"
        assert p.returncode != EXIT["Internal"], p.stderr
        if expect is not None:
            assert p.returncode == expect, f"majordome {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}"
        return p
    return run


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_image_info_refuses_hostile_fits(majordome, tmp_path, name):
    data, words = HOSTILE[name]
    path = tmp_path / f"{name}.fits"
    path.write_bytes(data)
    r = majordome("image-info", path, expect=EXIT["CorruptFile"])
    assert str(path) in r.stderr
    for word in words:
        assert word in r.stderr, (word, r.stderr)


@pytest.mark.parametrize("name", ["naxis120", "extension_naxis200"])
def test_gzip_compressed_hostile_fits_is_refused_too(majordome, tmp_path, name):
    data, words = HOSTILE[name]
    path = tmp_path / f"{name}.fits.gz"
    path.write_bytes(gzip.compress(data))
    r = majordome("image-info", path, expect=EXIT["CorruptFile"])
    assert str(path) in r.stderr and words[0] in r.stderr and words[1] in r.stderr


def test_ninety_nine_axes_still_read(majordome, tmp_path):
    path = tmp_path / "naxis99.fits"
    path.write_bytes(hdu(primary([1] * 99), 1))
    r = majordome("image-info", path)
    assert " x ".join(["1"] * 99) in r.stdout  # all 99 axes, each of length 1


@pytest.fixture(scope="module")
def comcam_raws(tmp_path_factory) -> list[pathlib.Path]:
    sim = simulate(tmp_path_factory.mktemp("comcam"), "LSSTComCam", 2, "--tiny")
    return raw_files(sim)


def test_translate_header_lists_hostile_files_and_translates_the_others(majordome, comcam_raws, tmp_path):
    for name in ("naxis120", "extension_naxis200", "zero_bytes"):
        (tmp_path / f"{name}.fits").write_bytes(HOSTILE[name][0])
    good = comcam_raws[0]
    r = majordome("translate-header", tmp_path / "naxis120.fits", good, tmp_path / "extension_naxis200.fits",
                  tmp_path / "zero_bytes.fits", expect=EXIT["CorruptFile"])
    assert f"{good} (translator LSSTComCam" in r.stdout  # translated
    assert "3 of 4 files could not be translated" in r.stderr
    for name, word in (("naxis120", "NAXIS = 120"), ("extension_naxis200", "NAXIS = 200"), ("zero_bytes", "empty")):
        line = next(l for l in r.stderr.splitlines() if f"{name}.fits" in l)
        assert line.startswith("FAILED ") and word in line, r.stderr


def test_ingest_raws_lists_bad_files_and_ingests_the_good_ones(butler, repo, comcam_raws, tmp_path):
    butler("register-instrument", repo, "LSSTComCam")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for raw in comcam_raws[:3]:
        shutil.copy(raw, incoming / raw.name)
    (incoming / "naxis120.fits").write_bytes(HOSTILE["naxis120"][0])
    (incoming / "zero_bytes.fits").write_bytes(b"")
    (incoming / "ext200.fits.gz").write_bytes(gzip.compress(HOSTILE["extension_naxis200"][0]))
    r = butler("ingest-raws", "-t", "copy", "-j", "2", repo, incoming, expect=None)
    assert r.returncode == EXIT["CorruptFile"], r.stderr
    failed = [l for l in r.stderr.splitlines() if l.startswith("Failed:")]
    assert len(failed) == 3, r.stderr
    assert any("naxis120.fits" in l and "NAXIS = 120" in l and "[CorruptFile]" in l for l in failed), failed
    assert any("zero_bytes.fits" in l and "empty" in l for l in failed), failed
    assert any("ext200.fits.gz" in l and "NAXIS = 200" in l for l in failed), failed
    assert "Ingested 3 raw file(s) into LSSTComCam/raw/all; 0 already present; 3 failed (6 file(s)" in r.stdout
    # The registry holds exactly the good files, with their exposure.
    ingested = rows(butler("query-datasets", repo, "raw", "--collections", "LSSTComCam/raw/all"))
    assert len(ingested) == 3
    assert len(rows(butler("query-dimension-records", repo, "exposure"))) == 1
    # Again, without the bad files: a no-op.
    for name in ("naxis120.fits", "zero_bytes.fits", "ext200.fits.gz"):
        (incoming / name).unlink()
    again = butler("ingest-raws", "-t", "copy", repo, incoming)
    assert "Ingested 0 raw file(s)" in again.stdout and "3 already present" in again.stdout


def test_ingest_raws_lists_a_file_whose_records_the_database_refuses(butler, repo, comcam_raws, tmp_path):
    """A header that translates but gives an exposure record the registry refuses (obs_id longer
    than its 64 characters) fails that file alone, not the batch it was written in."""
    from astropy.io import fits
    butler("register-instrument", repo, "LSSTComCam")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    first, second = comcam_raws[0], comcam_raws[-1]  # two exposures
    shutil.copy(first, incoming / first.name)
    shutil.copy(second, incoming / second.name)
    with fits.open(second) as hdus:
        hdus[0].header["OBSID"] = "X" * 68
        hdus.writeto(incoming / "long_obsid.fits")
    (incoming / second.name).unlink()
    r = butler("ingest-raws", "-t", "copy", repo, incoming, expect=None)
    assert r.returncode not in (0, EXIT["Internal"]) and r.returncode > 0, r.stderr
    failed = [l for l in r.stderr.splitlines() if l.startswith("Failed:")]
    assert len(failed) == 1 and "long_obsid.fits" in failed[0] and "obs_id" in failed[0], r.stderr
    assert "Ingested 1 raw file(s)" in r.stdout and "1 new exposure(s)" in r.stdout, r.stdout
    assert len(rows(butler("query-datasets", repo, "raw", "--collections", "LSSTComCam/raw/all"))) == 1
    assert len(rows(butler("query-dimension-records", repo, "exposure"))) == 1


def test_ingest_raws_fail_fast_on_a_hostile_file(butler, repo, comcam_raws, tmp_path):
    butler("register-instrument", repo, "LSSTComCam")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    shutil.copy(comcam_raws[0], incoming / comcam_raws[0].name)
    (incoming / "naxis999.fits").write_bytes(HOSTILE["naxis999"][0])
    r = butler("ingest-raws", "--fail-fast", "-t", "copy", repo, incoming, expect=EXIT["CorruptFile"])
    assert "naxis999.fits" in r.stderr and "NAXIS = 999" in r.stderr and "--fail-fast" in r.stderr
    assert rows(butler("query-dimension-records", repo, "exposure")) == []


# ---------------------------------------------------------------------------- repeated columns

def test_ingest_files_refuses_a_repeated_column(butler, repo, tmp_path):
    butler("register-dataset-type", repo, "thing", "StructuredDataDict", "instrument", "detector")
    (tmp_path / "f.dat").write_text("x")
    for name, text in {"t.csv": "path,instrument,detector,detector\nf.dat,Cam1,1,2\n",
                       "t.ecsv": "# %ECSV 1.0\npath instrument detector instrument\nf.dat Cam1 1 Cam2\n"}.items():
        table = tmp_path / name
        table.write_text(text)
        r = butler("ingest-files", repo, "thing", "things", table, "--prefix", tmp_path, "-t", "copy",
                   expect=EXIT["CorruptFile"])
        assert str(table) in r.stderr and "appears twice" in r.stderr, r.stderr
        assert ("'detector'" if name == "t.csv" else "'instrument'") in r.stderr
    assert rows(butler("query-datasets", repo, "thing", "--collections", "*")) == []


def test_convert_refcat_refuses_a_repeated_column(majordome, tmp_path):
    csv = tmp_path / "stars.csv"
    csv.write_text("ra,dec,g,dec\n10,20,15,21\n")
    r = majordome("convert-refcat", tmp_path / "out", csv, "--ra-name", "ra", "--dec-name", "dec",
                  "--mag-column-list", "g", expect=EXIT["CorruptFile"])
    assert str(csv) in r.stderr and "column 'dec' appears twice" in r.stderr and "columns 2 and 4" in r.stderr
    # A FITS table with two columns of one name.
    from astropy.io import fits
    cols = [fits.Column(name=n, format="D", array=[v]) for n, v in (("ra", 10.0), ("dec", 20.0), ("g", 15.0))]
    path = tmp_path / "stars.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    data = path.read_bytes()  # astropy keeps column names unique: rename g to dec in the file itself
    assert data.count(b"TTYPE3  = 'g       '") == 1
    path.write_bytes(data.replace(b"TTYPE3  = 'g       '", b"TTYPE3  = 'dec     '"))
    r = majordome("convert-refcat", tmp_path / "out2", path, "--ra-name", "ra", "--dec-name", "dec",
                  "--mag-column-list", "dec", expect=EXIT["CorruptFile"])
    assert str(path) in r.stderr and "'dec' appears twice (TTYPE2 and TTYPE3)" in r.stderr
