#!/usr/bin/python3
"""Generate tests/unit/image/data/wcs_reference.json: WCS reference values from astropy.

Run with Debian's python3 (astropy 5.2, numpy):

    /usr/bin/python3 tests/python/image/make_wcs_reference.py [SHARED_DATA_DIR]

SHARED_DATA_DIR defaults to ../shared/data next to the repository. The C++ test
tests/unit/image/wcs_test.cpp compares majordome's Wcs with these values (1 mas on the
sky, 1e-6 pixel for round trips). Rerun and commit the JSON when a case is added.

Conventions: pixel coordinates are 0-based (astropy origin=0), sky in degrees.
For TNX, astropy delegates to wcslib, so an independent reference is computed here from
the IRAF TNX definition (the WAT1/WAT2 polynomial surfaces added to the CD-projected
coordinates before the gnomonic deprojection) and stored as "independent_sky".
"""

import json
import math
import pathlib
import sys
import warnings

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS, FITSFixedWarning

REPO = pathlib.Path(__file__).resolve().parents[3]
OUT = REPO / "tests" / "unit" / "image" / "data" / "wcs_reference.json"

# name, width, height (header-only files lack NAXISn), projection as named in CTYPE1
CASES = [
    ("fitsregistry_tpv.fits", 512, 512, "TPV"),
    ("fitsregistry_sipsample.fits", 256, 256, "TAN-SIP"),
    ("fitsregistry_tnx.fits", 400, 400, "TNX"),
    ("feder_eyuma_thumbnail-wcs-sol.fit", 256, 256, "TAN-SIP"),
    ("astrometrynet_test-wcs-sol.fit", 4109, 4096, "TAN-SIP"),
    ("galsim_DECam_00154912_12_header.fits", 2048, 4096, "TPV"),
    ("afw_HSC-0908120-056-small.fits[1]", 200, 200, "TAN-SIP"),
]


def grid(width, height):
    """A 5x5 grid over the image plus fixed interior points (0-based pixel centres)."""
    xs = np.linspace(0, width - 1, 5)
    ys = np.linspace(0, height - 1, 5)
    pts = [(float(x), float(y)) for y in ys for x in xs]
    rng = np.random.default_rng(20261121)
    for _ in range(10):
        pts.append((float(rng.uniform(0, width - 1)), float(rng.uniform(0, height - 1))))
    return pts


def header_cards(header):
    """The header as a list of [keyword, value] pairs restricted to plain cards."""
    return header.tostring(sep="\n").splitlines()


def evaluate(wcs, pixels):
    pix = np.array(pixels, dtype=float)
    sky = wcs.all_pix2world(pix, 0)
    back = wcs.all_world2pix(sky, 0, tolerance=1e-12, maxiter=200, quiet=True)
    return sky.tolist(), back.tolist()


# ---- independent TNX (IRAF) --------------------------------------------------------

def wat_string(header, axis):
    parts = []
    i = 1
    while f"WAT{axis}_{i:03d}" in header:
        # The raw card text: astropy would strip significant trailing blanks.
        image = header.cards[f"WAT{axis}_{i:03d}"].image
        value = image[10:].strip()
        assert value.startswith("'")
        end = value.rfind("'")
        parts.append(value[1:end].ljust(68))
        i += 1
    return "".join(parts)


def parse_surface(wat, name):
    start = wat.index(name)
    start = wat.index('"', start) + 1
    end = wat.index('"', start)
    numbers = [float(t) for t in wat[start:end].split()]
    kind, xorder, yorder, xterms = (int(v) for v in numbers[:4])
    xmin, xmax, ymin, ymax = numbers[4:8]
    return dict(kind=kind, xorder=xorder, yorder=yorder, xterms=xterms, xmin=xmin, xmax=xmax,
                ymin=ymin, ymax=ymax, coeffs=numbers[8:])


def basis(kind, value, order, vmin, vmax):
    if kind == 3:  # plain polynomial
        return [value ** i for i in range(order)]
    n = (2.0 * value - (vmax + vmin)) / (vmax - vmin)
    b = [1.0, n][:order]
    for k in range(2, order):
        if kind == 1:  # Chebyshev
            b.append(2.0 * n * b[k - 1] - b[k - 2])
        else:  # Legendre
            b.append(((2 * k - 1) * n * b[k - 1] - (k - 1) * b[k - 2]) / k)
    return b


def surface(s, x, y):
    bx = basis(s["kind"], x, s["xorder"], s["xmin"], s["xmax"])
    by = basis(s["kind"], y, s["yorder"], s["ymin"], s["ymax"])
    limit = max(s["xorder"], s["yorder"]) - 1
    total, c = 0.0, 0
    for j in range(s["yorder"]):
        for i in range(s["xorder"]):
            if s["xterms"] == 0 and i > 0 and j > 0:
                continue  # no cross terms
            if s["xterms"] == 2 and i + j > limit:
                continue  # half cross terms
            total += s["coeffs"][c] * bx[i] * by[j]
            c += 1
    assert c == len(s["coeffs"]), "TNX coefficient count does not match the surface"
    return total


def tnx_pix2world(header, pixels):
    lng = parse_surface(wat_string(header, 1), "lngcor")
    lat = parse_surface(wat_string(header, 2), "latcor")
    cd = np.array([[header["CD1_1"], header["CD1_2"]], [header["CD2_1"], header["CD2_2"]]])
    crpix = np.array([header["CRPIX1"], header["CRPIX2"]])
    ra0, dec0 = math.radians(header["CRVAL1"]), math.radians(header["CRVAL2"])
    out = []
    for x, y in pixels:
        xi, eta = cd @ (np.array([x + 1.0, y + 1.0]) - crpix)
        xi, eta = xi + surface(lng, xi, eta), eta + surface(lat, xi, eta)
        xi, eta = math.radians(xi), math.radians(eta)
        ra = ra0 + math.atan2(xi, math.cos(dec0) - eta * math.sin(dec0))
        dec = math.atan2((eta * math.cos(dec0) + math.sin(dec0)) * math.cos(ra - ra0),
                         math.cos(dec0) - eta * math.sin(dec0))
        out.append([math.degrees(ra) % 360.0, math.degrees(dec)])
    return out


# ---- synthetic headers ----------------------------------------------------------------

def synthetic_cases():
    zpn = fits.Header()
    for key, value in [
        ("NAXIS", 2), ("NAXIS1", 1000), ("NAXIS2", 1000),
        ("CTYPE1", "RA---ZPN"), ("CTYPE2", "DEC--ZPN"),
        ("CRPIX1", 500.5), ("CRPIX2", 480.25), ("CRVAL1", 150.1), ("CRVAL2", 2.2),
        ("CD1_1", -1.5e-4), ("CD1_2", 2.0e-6), ("CD2_1", 1.0e-6), ("CD2_2", 1.5e-4),
        ("PV2_0", 0.0), ("PV2_1", 1.0), ("PV2_2", 0.0), ("PV2_3", 40.0),
        ("RADESYS", "ICRS"),
    ]:
        zpn[key] = value
    sip = fits.Header()
    for key, value in [
        ("NAXIS", 2), ("NAXIS1", 2000), ("NAXIS2", 4000),
        ("CTYPE1", "RA---TAN-SIP"), ("CTYPE2", "DEC--TAN-SIP"),
        ("CRPIX1", 1000.5), ("CRPIX2", 2000.5), ("CRVAL1", 10.5), ("CRVAL2", -45.25),
        ("CD1_1", -5.5e-5), ("CD1_2", 1.0e-7), ("CD2_1", -2.0e-7), ("CD2_2", 5.5e-5),
        ("CUNIT1", "deg"), ("CUNIT2", "deg"), ("RADESYS", "ICRS"),
        ("A_ORDER", 3), ("A_2_0", 1.0e-6), ("A_1_1", -2.0e-6), ("A_0_2", 5.0e-7),
        ("A_3_0", 1.0e-10), ("A_1_2", -3.0e-10),
        ("B_ORDER", 3), ("B_2_0", -4.0e-7), ("B_1_1", 1.5e-6), ("B_0_2", 2.0e-6),
        ("B_0_3", 2.0e-10), ("B_2_1", 1.0e-10),
    ]:
        sip[key] = value
    return [("synthetic_zpn", zpn, 1000, 1000, "ZPN"), ("synthetic_tan_sip", sip, 2000, 4000, "TAN-SIP")]


def main():
    shared = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data"
    images = shared / "images"
    warnings.simplefilter("ignore", AstropyWarning)
    warnings.simplefilter("ignore", FITSFixedWarning)
    cases = []
    for name, width, height, projection in CASES:
        file, _, hdu = name.partition("[")
        hdu = int(hdu.rstrip("]")) if hdu else 0
        header = fits.getheader(images / file, hdu)
        pixels = grid(width, height)
        wcs = WCS(header)
        sky, back = evaluate(wcs, pixels)
        case = dict(file=file, hdu=hdu, projection=projection, width=width, height=height,
                    pixels=pixels, astropy_sky=sky, astropy_pixels_from_sky=back)
        if projection == "TNX":
            case["independent_sky"] = tnx_pix2world(header, pixels)
        cases.append(case)
    for name, header, width, height, projection in synthetic_cases():
        pixels = grid(width, height)
        sky, back = evaluate(WCS(header), pixels)
        cases.append(dict(file=name, hdu=-1, projection=projection, width=width, height=height,
                          header=[[c.keyword, c.value] for c in header.cards],
                          pixels=pixels, astropy_sky=sky, astropy_pixels_from_sky=back))
    import astropy
    document = {
        "generator": "tests/python/image/make_wcs_reference.py",
        "astropy_version": astropy.__version__,
        "convention": "0-based pixels (astropy origin=0), degrees",
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
