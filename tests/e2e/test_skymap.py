"""`butler register-skymap`: records, idempotence, conflicts and config errors."""

from __future__ import annotations

import pathlib

import yaml

from conftest import EXIT, SOURCE_DIR, datasets, record_count, table_rows

SKYMAPS = SOURCE_DIR / "data" / "skymaps"


def records(butler, repo, element, *args) -> list[dict]:
    r = butler("query-dimension-records", repo, element, "--limit", "0", *args)
    return [] if "No results" in r.stdout else table_rows(r.stdout)


def test_register_ci_hsc_discrete_skymap(butler, repo):
    r = butler("register-skymap", repo, "-C", SKYMAPS / "ci_hsc.yaml")
    assert "Registered skymap 'discrete/ci_hsc': 1 tracts, 256 patches (at most 16x16 per tract)" in r.stdout

    [skymap] = records(butler, repo, "skymap")
    # Rubin's own registry record for this skymap (daf_butler's ci_hsc export) has this hash.
    assert skymap == {"name": "discrete/ci_hsc", "hash": "0x2adeecc10f5ee735227fb7e8d4e9e3ddecc7f93b",
                      "tract_max": "1", "patch_nx_max": "16", "patch_ny_max": "16"}
    assert record_count(butler, repo, "tract") == 1
    patches = records(butler, repo, "patch")
    assert len(patches) == 256
    cells = {(int(p["cell_x"]), int(p["cell_y"])): int(p["id"]) for p in patches}
    assert cells[(0, 0)] == 0 and cells[(15, 0)] == 15 and cells[(0, 1)] == 16 and cells[(15, 15)] == 255

    # The definition is stored as the skyMap dataset of RUN skymaps, at Rubin's path.
    stored = pathlib.Path(repo.path) / "skymaps" / "skyMap" / "skyMap_discrete_ci_hsc_skymaps.yaml"
    assert stored.is_file()
    definition = yaml.safe_load(stored.read_text())
    assert definition["name"] == "discrete/ci_hsc" and definition["raList"] == [320.36749197602893]
    [dataset] = datasets(butler, repo, "skyMap", "--collections", "skymaps", "--show-uri")
    assert dataset["skymap"] == "discrete/ci_hsc" and dataset["URI"].endswith(str(stored.relative_to(repo.path)))


def test_register_again_is_a_no_op_and_a_changed_definition_a_conflict(butler, repo):
    butler("register-skymap", repo, "-C", SKYMAPS / "ci_hsc.yaml")
    r = butler("register-skymap", repo, "-C", SKYMAPS / "ci_hsc.yaml")
    assert "already registered with this definition" in r.stdout
    assert record_count(butler, repo, "patch") == 256

    r = butler("register-skymap", repo, "-C", SKYMAPS / "ci_hsc.yaml", "-c", "pixelScale=0.2",
               expect=EXIT["Conflict"])
    assert "'discrete/ci_hsc' is already registered with a different definition" in r.stderr
    assert "new name" in r.stderr
    assert record_count(butler, repo, "patch") == 256  # nothing of the refused skymap

    # Under a new name, the changed definition is its own skymap.
    r = butler("register-skymap", repo, "-C", SKYMAPS / "ci_hsc.yaml", "-c", "pixelScale=0.2",
               "-c", "name=discrete/ci_hsc_0.2")
    assert "Registered skymap 'discrete/ci_hsc_0.2'" in r.stdout
    assert len(records(butler, repo, "skymap")) == 2


def test_several_discrete_tracts(butler, repo, tmp_path):
    config = tmp_path / "fields.yaml"
    config.write_text("name: my_fields\nskyMap: discrete\nraList: [10.0, 150.0]\ndecList: [-30.0, 2.2]\n"
                      "radiusList: [0.2, 0.3]\nprojection: TAN\npixelScale: 0.2\ntractOverlap: 0.0\n"
                      "patchInnerDimensions: [2000, 2000]\npatchBorder: 100\n")
    butler("register-skymap", repo, "--config-file", config)
    tracts = records(butler, repo, "tract")
    assert sorted(int(t["id"]) for t in tracts) == [0, 1]
    per_tract = {}
    for p in records(butler, repo, "patch"):
        per_tract[int(p["tract"])] = per_tract.get(int(p["tract"]), 0) + 1
    # 0.4 deg at 0.2"/px = 7200 px → 4x4 patches of 2000; 0.6 deg = 10800 px → 6x6.
    assert per_tract == {0: 16, 1: 36}


def test_bad_config_key_names_the_fix(butler, repo, tmp_path):
    config = tmp_path / "typo.yaml"
    config.write_text("name: typo\nskyMap: rings\nnumRings: 120\npixelscale: 0.2\n")
    r = butler("register-skymap", repo, "-C", config, expect=EXIT["InvalidConfig"])
    assert "unknown skymap field 'pixelscale' (did you mean 'pixelScale'?)" in r.stderr
    assert str(config) in r.stderr
    assert record_count(butler, repo, "skymap") == 0

    config.write_text("name: nope\nskyMap: healpix\n")
    r = butler("register-skymap", repo, "-C", config, expect=EXIT["InvalidConfig"])
    assert "rings or discrete" in r.stderr
    r = butler("register-skymap", repo, "-C", tmp_path / "absent.yaml", expect=EXIT["NotFound"])
    assert "absent.yaml" in r.stderr


def test_rubin_python_config_as_in_the_ffdf_procedure(butler, repo, tmp_path):
    """RTN-103 runs `butler register-skymap --config-file <name>.skymap.config $REPO` on a Rubin config."""
    config = tmp_path / "ci_hsc.skymap.config"
    config.write_text(
        "import lsst.skymap.discreteSkyMap\n"
        "config.name = 'discrete/ci_hsc'\n"
        "config.skyMap.name = 'discrete'\n"
        "config.skyMap['discrete'].raList = [320.36749197602893]\n"
        "config.skyMap['discrete'].decList = [0.3131554006070023]\n"
        "config.skyMap['discrete'].radiusList = [1.4388796242707318]\n"
        "config.skyMap['discrete'].projection = 'TAN'\n"
        "config.skyMap['discrete'].pixelScale = 0.168\n"
        "config.skyMap['discrete'].tractOverlap = 0.0\n"
        "config.skyMap['discrete'].patchInnerDimensions = [4000, 4000]\n"
        "config.skyMap['discrete'].patchBorder = 100\n"
        "config.skyMap['rings'].numRings = 120  # another kind: ignored\n")
    butler("register-skymap", "--config-file", config, repo)
    [skymap] = records(butler, repo, "skymap")
    assert skymap["hash"] == "0x2adeecc10f5ee735227fb7e8d4e9e3ddecc7f93b"  # the same skymap as Rubin's
    assert record_count(butler, repo, "patch") == 256
