"""`majordome sim` checked by independent tools: astropy opens every file it writes, raws
assembled by their DETSEC keywords show the stars where the truth says, the truth WCS (SIP)
agrees with astropy, and Debian's source-extractor finds the simulated stars at their truth
positions.

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e/test_sim.py
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest

from conftest import skip_unless_strict
import yaml
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
SEXTRACTOR = shutil.which("source-extractor") or "/usr/bin/source-extractor"
SEXTRACTOR_SHARE = pathlib.Path("/usr/share/source-extractor")


def majordome() -> str:
    given = os.environ.get("MAJORDOME_BIN")
    binary = pathlib.Path(given) if given else SOURCE_DIR / "build" / "bin" / "majordome"
    if not binary.exists():
        pytest.exit(f"majordome binary not found at {binary}; build it (make build) or set MAJORDOME_BIN", 2)
    return str(binary)


def run_sim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([majordome(), "sim", *args], capture_output=True, text=True, timeout=600)


class TaggedLoader(yaml.SafeLoader):
    """Butler export files tag some values (e.g. !lsst.daf.butler.Timespan): read them plainly."""


def _tagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


TaggedLoader.add_multi_constructor("!", _tagged)


def as_str(values) -> list[str]:
    # No rstrip(): strings are NUL-padded, so astropy gives 'star', not 'star  ' (docs/image.md).
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


@pytest.fixture(scope="module")
def testcam(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("sim_testcam") / "out"
    r = run_sim("--camera", "TestCam", "--out", str(out), "--exposures", "2", "--bands", "g,r",
                "--calibs", "--seed", "5", "-j", "2")
    assert r.returncode == 0, r.stderr
    assert "raw files: 56" in r.stdout, r.stdout
    return out


@pytest.fixture(scope="module")
def comcam(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("sim_comcam") / "out"
    r = run_sim("--camera", "LSSTComCam", "--out", str(out), "--exposures", "1", "--bands", "r",
                "--detectors", "R22_S11", "--seed", "7", "--seeing", "0.8", "-j", "2")
    assert r.returncode == 0, r.stderr
    return out


def test_astropy_opens_every_file(testcam: pathlib.Path):
    kinds = {"raw": 0, "calib": 0, "refcat": 0, "truth": 0, "ecsv": 0}
    for path in sorted(testcam.rglob("*")):
        if not path.is_file():
            continue
        top = path.relative_to(testcam).parts[0]
        if path.suffix == ".fits":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # astropy does not know the unit 'electron'
                with fits.open(path) as hdus:
                    for hdu in hdus:
                        _ = hdu.data  # decompress / read every HDU
                    hdus.verify("exception")
            kinds[top] += 1
        elif path.suffix == ".ecsv":
            Table.read(path, format="ascii.ecsv")
            kinds["ecsv"] += 1
        elif path.suffix == ".yaml":
            yaml.load(path.read_text(), Loader=TaggedLoader)
    assert kinds["raw"] == 56
    assert kinds["calib"] == 16  # bias, dark, 2 flats × 4 detectors
    assert kinds["truth"] == 2 * 4 * 3
    assert kinds["refcat"] >= 1
    assert kinds["ecsv"] >= 5  # 4 defect lists + the refcat index

    raw = fits.open(testcam / "raw/20241125/TC_O_20241125_000013/TC_O_20241125_000013_R00_S01.fits")
    assert raw[0].header["INSTRUME"] == "TestCam"
    assert raw[0].header["DETECTOR"] == 1
    assert raw[0].header["OBSID"] == "TC_O_20241125_000013"
    assert [h.header["EXTNAME"] for h in raw[1:]] == ["Segment10", "Segment11"]
    assert raw[1].data.dtype.kind == "i" and raw[1].data.shape == (520, 275)

    shard = next(p for p in (testcam / "refcat").glob("*.fits"))
    ref = Table.read(shard)
    for col in ("id", "coord_ra", "coord_dec", "r_flux", "r_fluxErr", "pm_ra", "epoch"):
        assert col in ref.colnames
    summary = yaml.safe_load((testcam / "summary.yaml").read_text())
    assert summary["raw_files"] == 56 and summary["camera"] == "TestCam"

    defects = Table.read(testcam / "calib/defects/R00_S00.ecsv", format="ascii.ecsv")
    assert defects.colnames == ["x0", "y0", "width", "height"] and len(defects) >= 3
    flat = fits.getdata(testcam / "calib/flat/r_test/R00_S00.fits")
    assert 0.85 < np.median(flat) < 1.05


def test_truth_wcs_agrees_with_astropy(testcam: pathlib.Path):
    for table in sorted((testcam / "truth").glob("*_sources.fits")):
        truth = Table.read(table)
        image = table.with_name(table.name.replace("_sources", "_image"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = fits.getheader(image, 1)
        wcs = WCS(header)
        assert wcs.sip is not None
        x, y = wcs.all_world2pix(truth["ra"], truth["dec"], 0)
        assert np.max(np.abs(x - truth["x"])) < 1e-3
        assert np.max(np.abs(y - truth["y"])) < 1e-3
        assert set(as_str(truth["type"])) <= {"star", "galaxy"}


def parse_section(text: str) -> tuple[int, int, int, int]:
    x1, x2, y1, y2 = map(int, re.match(r"\[(\d+):(\d+),(\d+):(\d+)\]", text).groups())
    return x1, x2, y1, y2


def assemble_by_detsec(path: pathlib.Path) -> np.ndarray:
    """What an independent tool does with DATASEC/DETSEC/BIASSEC: overscan-subtract and mosaic."""
    with fits.open(path) as hdus:
        nx, _, ny, _ = (0, 0, 0, 0)
        _, nx, _, ny = parse_section(hdus[0].header["DETSIZE"])
        out = np.zeros((ny, nx))
        for hdu in hdus[1:]:
            h = hdu.header
            dx1, dx2, dy1, dy2 = parse_section(h["DATASEC"])
            bx1, bx2, by1, by2 = parse_section(h["BIASSEC"])
            data = hdu.data[dy1 - 1:dy2, dx1 - 1:dx2].astype(float)
            data -= np.median(hdu.data[by1 - 1:by2, bx1 - 1:bx2])
            x1, x2, y1, y2 = parse_section(h["DETSEC"])
            if x1 > x2:
                data = data[:, ::-1]
            if y1 > y2:
                data = data[::-1, :]
            out[min(y1, y2) - 1:max(y1, y2), min(x1, x2) - 1:max(x1, x2)] = data
    return out


def test_raws_assembled_by_detsec_show_the_truth(comcam: pathlib.Path):
    raw_path = next((comcam / "raw").rglob("*_R22_S11.fits"))
    assembled = assemble_by_detsec(raw_path)
    truth = Table.read(next((comcam / "truth").glob("*_sources.fits")))
    stars = truth[(np.array(as_str(truth["type"])) == "star") & (truth["snr"] > 200) & ~truth["saturated"]
                  & (truth["x"] > 20) & (truth["x"] < 4050) & (truth["y"] > 20) & (truth["y"] < 3980)]
    assert len(stars) >= 10
    for s in stars[:30]:
        cx, cy = int(round(s["x"])), int(round(s["y"]))
        cut = assembled[cy - 6:cy + 7, cx - 6:cx + 7]
        py, px = np.unravel_index(np.argmax(cut), cut.shape)
        assert abs(cx - 6 + px - s["x"]) <= 1.0 and abs(cy - 6 + py - s["y"]) <= 1.0, (s["x"], s["y"])
    # Same orientation as the truth image: correlate the two.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scene = fits.getdata(next((comcam / "truth").glob("*_image.fits")), 1)
    a = assembled[100:3900, 100:3900].ravel()
    b = scene[100:3900, 100:3900].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.5


def test_source_extractor_finds_the_stars(comcam: pathlib.Path, tmp_path: pathlib.Path):
    if not pathlib.Path(SEXTRACTOR).exists():
        skip_unless_strict("source-extractor is not installed (scripts/setup-deps installs it)")
    image_path = next((comcam / "truth").glob("*_image.fits"))
    truth = Table.read(next((comcam / "truth").glob("*_sources.fits")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(image_path) as hdus:
            scene = hdus[1].data.astype(np.float64)
            header = hdus[1].header.copy()
    # The truth image is noiseless: add the photon and read noise a real exposure would have.
    rng = np.random.default_rng(11)
    noisy = rng.poisson(np.clip(scene, 0, None)).astype(np.float32) + rng.normal(0, 8.0, scene.shape).astype(np.float32)
    for key in list(header):
        if key.startswith("Z") or key in ("XTENSION", "PCOUNT", "GCOUNT", "TFIELDS"):
            del header[key]
    noisy_path = tmp_path / "noisy.fits"
    fits.PrimaryHDU(noisy, header=header).writeto(noisy_path)
    params = tmp_path / "sim.param"
    params.write_text("NUMBER\nXWIN_IMAGE\nYWIN_IMAGE\nFLUX_AUTO\nFLAGS\n")
    catalog = tmp_path / "sim.cat"
    r = subprocess.run([SEXTRACTOR, str(noisy_path), "-c", str(SEXTRACTOR_SHARE / "default.sex"),
                        "-CATALOG_NAME", str(catalog), "-CATALOG_TYPE", "ASCII_HEAD",
                        "-PARAMETERS_NAME", str(params), "-FILTER_NAME", str(SEXTRACTOR_SHARE / "default.conv"),
                        "-DETECT_THRESH", "5", "-ANALYSIS_THRESH", "5", "-GAIN", "1.0", "-BACK_SIZE", "128",
                        "-CHECKIMAGE_TYPE", "NONE", "-VERBOSE_TYPE", "QUIET"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    found = np.loadtxt(catalog, comments="#", ndmin=2)
    assert len(found) > 100
    fx, fy = found[:, 1] - 1.0, found[:, 2] - 1.0  # SExtractor counts pixels from 1
    types = np.array(as_str(truth["type"]))
    bright = truth[(types == "star") & (truth["snr"] > 50) & ~truth["saturated"]
                   & (truth["x"] > 3) & (truth["x"] < 4068) & (truth["y"] > 3) & (truth["y"] < 3996)]
    assert len(bright) >= 30, len(bright)
    matched = 0
    for s in bright:
        d = np.hypot(fx - s["x"], fy - s["y"])
        matched += d.min() < 1.0
    fraction = matched / len(bright)
    print(f"source-extractor matched {matched} of {len(bright)} truth stars with S/N > 50 within 1 pixel")
    assert fraction >= 0.9, f"{matched} of {len(bright)} stars with S/N > 50 matched within 1 pixel"


def test_command_line_errors(tmp_path: pathlib.Path):
    r = run_sim("--camera", "NoSuchCam", "--out", str(tmp_path / "x"))
    assert r.returncode == 3, r.stderr
    assert "LSSTComCam" in r.stderr and "NoSuchCam" in r.stderr
    pointings = tmp_path / "p.yaml"
    pointings.write_text("pointings:\n  - {ra: 10, dec: -5, band: r, time: '2024-11-26T02:00:00'}\n")
    r = run_sim("--camera", "TestCam", "--out", str(tmp_path / "y"), "--pointings", str(pointings), "--exposures", "3")
    assert r.returncode == 1, r.stderr  # usage: the options exclude each other
    r = run_sim("--camera", "TestCam", "--out", str(tmp_path / "z"), "--detectors", "R42_S42", "--exposures", "1")
    assert r.returncode == 3 and "R00_S00" in r.stderr, r.stderr
    r = run_sim("--camera", "TestCam", "--out", str(tmp_path / "w"), "--pointings", str(pointings), "--tiny")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "w" / "raw").rglob("*.fits"))) == 4
