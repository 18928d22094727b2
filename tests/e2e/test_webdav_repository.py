"""A repository on a WebDAV server with its registry in PostgreSQL, as RTN-103 (seed 001) builds
one: REPO=davs://…/butler/ccms1 and DATA=davs://…/instrument. The procedure end to end, files
written to and removed from the server through the trash, a read-only share, and writes cut by a
stopped server. Against the nginx server `make test` starts and its PostgreSQL.

Run by hand:  see test_webdav.py (also set MAJORDOME_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import threading
import time
import uuid

import pytest
import yaml

from conftest import EXIT, SOURCE_DIR, datasets, psql, table_rows
from test_ingest import raw_files, simulate


@pytest.fixture(scope="module")
def comcam(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("comcam"), "LSSTComCam", 2, "--tiny")


@pytest.fixture
def schemas(postgres_url):
    """PostgreSQL schemas the test makes, dropped afterwards."""
    made: list[str] = []
    yield made
    for s in made:
        try:
            psql(postgres_url, f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
        except AssertionError:
            pass


def seed_config(tmp_path, repo_url: str, postgres_url: str, schemas: list[str]) -> pathlib.Path:
    namespace = f"e2e_{uuid.uuid4().hex[:16]}"
    schemas.append(namespace)
    seed = tmp_path / f"butler-seed-{namespace}.yaml"
    seed.write_text(yaml.safe_dump({"datastore": {"name": "ccms1", "root": repo_url},
                                    "registry": {"db": postgres_url, "namespace": namespace}}))
    return seed


def server_files(server, repo_url: str) -> set[str]:
    """URIs of the files under the repository's folder on the server (butler.yaml aside)."""
    folder = server.served / repo_url.removeprefix(server.url)
    return {f"{repo_url}/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*")
            if p.is_file() and p.name != "butler.yaml"}


def assert_consistent_on_server(butler, server, repo_url: str):
    """Every dataset's file is on the server; every file in the repository's folder is a dataset's."""
    rows = datasets(butler, repo_url, "--show-uri", env=server.env)
    uris = {r["URI"] for r in rows}
    for uri in uris:
        assert uri.startswith(server.url), uri
        assert (server.served / uri.removeprefix(server.url)).is_file(), f"{uri} is missing on the server"
    inside = {u for u in uris if u.startswith(repo_url + "/")}
    orphans = server_files(server, repo_url) - inside
    assert not orphans, f"files on the server that no dataset names: {sorted(orphans)[:3]}"


def test_rtn103_procedure_with_repo_and_data_on_webdav(butler, webdav, postgres_url, schemas, comcam, make_repo,
                                                        tmp_path):
    env = webdav.env
    base = f"{webdav.url}rtn103-{uuid.uuid4().hex[:8]}"
    repo, data = f"{base}/butler/ccms1", f"{base}/instrument"
    shutil.copytree(comcam / "raw", webdav.served / data.removeprefix(webdav.url) / "raw" / "LSSTComCam")

    # $ butler create --seed-config butler-seed_ccms1.yaml --override $REPO
    seed = seed_config(tmp_path, repo, postgres_url, schemas)
    butler("create", "--seed-config", seed, "--override", repo, env=env)
    assert (webdav.served / repo.removeprefix(webdav.url) / "butler.yaml").is_file()
    r = butler("create", "--seed-config", seed, repo, expect=EXIT["Conflict"], env=env)
    assert "already holds a repository" in r.stderr

    butler("register-instrument", repo, "lsst.obs.lsst.LsstComCam", env=env)
    r = butler("ingest-raws", "--fail-fast", "--transfer", "direct", repo, f"{data}/raw/LSSTComCam", env=env)
    assert f"Ingested {len(raw_files(comcam))} raw file(s)" in r.stdout
    butler("define-visits", repo, "LSSTComCam", "--collections", "LSSTComCam/raw/all", env=env)
    assert len(table_rows(butler("query-dimension-records", repo, "visit", env=env).stdout)) == 2
    butler("write-curated-calibrations", repo, "lsst.obs.lsst.LsstComCam", "--label", "DM-48650", env=env)

    # $ butler import $REPO $DATA/ancillary --export-file export.yaml --transfer direct
    # (an export of calibrations made elsewhere; its files sit in $DATA/ancillary)
    source = make_repo("calibs")
    butler("register-instrument", source, "lsst.obs.lsst.LsstComCam")
    butler("register-dataset-type", source, "fgcmLookUpTable", "StructuredDataDict", "instrument")
    table_file = tmp_path / "lut.csv"
    (tmp_path / "lut.yaml").write_text("table: [1, 2, 3]\n")
    table_file.write_text("file,instrument\nlut.yaml,LSSTComCam\n")
    butler("ingest-files", source, "fgcmLookUpTable", "LSSTComCam/calib/fgcmcal/DM-48089", table_file,
           "--prefix", tmp_path, "-t", "copy")
    export = tmp_path / "ancillary"
    butler("export", source, export, "--transfer", "copy", "--collections", "LSSTComCam/calib/fgcmcal/DM-48089")
    shutil.copytree(export, webdav.served / data.removeprefix(webdav.url) / "ancillary")
    local_export = tmp_path / "export.yaml"
    shutil.copy(export / "export.yaml", local_export)
    butler("import", repo, f"{data}/ancillary", "--export-file", local_export, "--transfer", "direct", env=env,
           cwd=tmp_path)
    [lut] = datasets(butler, repo, "fgcmLookUpTable", "--show-uri", env=env)  # noqa: one dataset
    assert lut["URI"].startswith(f"{data}/ancillary/")

    butler("collection-chain", repo, "LSSTComCam/calib", "LSSTComCam/calib/DM-48650,LSSTComCam/calib/fgcmcal/DM-48089",
           env=env)

    # $ butler register-dataset-type $REPO the_monster SimpleCatalog htm7
    # $ butler ingest-files $REPO the_monster refcats/... --prefix $DATA/raw/refcats/... --transfer direct x.ecsv
    refcats = webdav.served / data.removeprefix(webdav.url) / "raw" / "refcats" / "the_monster"
    refcats.mkdir(parents=True)
    (refcats / "131072.fits").write_bytes(b"not really a catalog")
    butler("register-dataset-type", repo, "the_monster", "SimpleCatalog", "htm7", env=env)
    (tmp_path / "the_monster.ecsv").write_text("# %ECSV 1.0\n# ---\nfilename htm7\n131072.fits 131072\n")
    butler("ingest-files", repo, "the_monster", "refcats/DM-46370/the_monster", "--prefix",
           f"{data}/raw/refcats/the_monster/", "--transfer", "direct", tmp_path / "the_monster.ecsv", env=env)
    [refcat] = datasets(butler, repo, "the_monster", "--show-uri", env=env)
    assert refcat["URI"] == f"{data}/raw/refcats/the_monster/131072.fits"

    # Files written into the repository go to the server: the curated camera, a copied file.
    [camera_uri] = {r["URI"] for r in datasets(butler, repo, "camera", "--show-uri", env=env)}  # run and calib
    assert camera_uri.startswith(f"{repo}/LSSTComCam/calib/DM-48650/")
    butler("register-dataset-type", repo, "note", "StructuredDataDict", "instrument", env=env)
    (tmp_path / "note.yaml").write_text("a: 1\n")
    (tmp_path / "notes.csv").write_text("file,instrument\nnote.yaml,LSSTComCam\n")
    butler("ingest-files", repo, "note", "u/someone/notes", tmp_path / "notes.csv", "--prefix", tmp_path,
           "-t", "copy", env=env)
    [note] = datasets(butler, repo, "note", "--show-uri", env=env)
    assert note["URI"].startswith(f"{repo}/u/someone/notes/")
    assert (webdav.served / note["URI"].removeprefix(webdav.url)).read_text() == "a: 1\n"
    # Linking is impossible on a server.
    r = butler("ingest-files", repo, "note", "u/someone/linked", tmp_path / "notes.csv", "--prefix", tmp_path,
               "-t", "symlink", expect=EXIT["InvalidArgument"], env=env)
    assert "copy" in r.stderr and "direct" in r.stderr

    # retrieve-artifacts copies the repository's files and the direct ones alike.
    out = tmp_path / "retrieved"
    butler("retrieve-artifacts", repo, out, "--dataset-type", "camera,note,fgcmLookUpTable", env=env)
    assert (out / note["URI"].removeprefix(repo + "/")).read_text() == "a: 1\n"
    assert len(list(out.rglob("*.*"))) == 3
    assert_consistent_on_server(butler, webdav, repo)

    # Removal goes through the trash: the repository's file leaves the server, a direct one stays.
    butler("remove-runs", repo, "u/someone/notes", "--no-confirm", env=env)
    assert not (webdav.served / note["URI"].removeprefix(webdav.url)).exists()
    butler("prune-datasets", repo, "--purge", "refcats/DM-46370/the_monster", "--no-confirm", env=env, expect=None)
    assert (refcats / "131072.fits").exists(), "a file ingested with direct is never the repository's to delete"
    assert_consistent_on_server(butler, webdav, repo)


def test_repository_on_webdav_refuses_what_cannot_work(butler, webdav, postgres_url, schemas, tmp_path):
    env = webdav.env
    # A read-only share: the server's 403 and the fix, and nothing made.
    readonly = f"{webdav.url}readonly/repo-{uuid.uuid4().hex[:8]}"
    r = butler("create", "--seed-config", seed_config(tmp_path, readonly, postgres_url, schemas), readonly,
               expect=EXIT["PermissionDenied"], env=env)
    assert "403" in r.stderr and "read-only" in r.stderr
    r = butler("query-collections", readonly, expect=EXIT["NotFound"], env=env)
    assert "no repository" in r.stderr
    # SQLite cannot live on a server.
    elsewhere = f"{webdav.url}sqlite-{uuid.uuid4().hex[:8]}"
    r = butler("create", elsewhere, expect=EXIT["InvalidConfig"], env=env)
    assert "PostgreSQL" in r.stderr
    assert not (webdav.served / elsewhere.removeprefix(webdav.url)).exists()


def blobs(tmp_path, n: int) -> tuple[pathlib.Path, pathlib.Path]:
    """n small files and their ingest-files table (data IDs: htm7 pixels)."""
    incoming = tmp_path / f"incoming{n}"
    incoming.mkdir()
    lines = ["file,htm7"]
    for i in range(n):
        (incoming / f"b{i}.yaml").write_text(f"i: {i}\n")
        lines.append(f"b{i}.yaml,{131072 + i}")
    (tmp_path / f"blobs{n}.csv").write_text("\n".join(lines) + "\n")
    return incoming, tmp_path / f"blobs{n}.csv"


def remote_repo(butler, server, postgres_url, schemas, tmp_path) -> str:
    repo = f"{server.url}butler/repo-{uuid.uuid4().hex[:8]}"
    butler("create", "--seed-config", seed_config(tmp_path, repo, postgres_url, schemas), repo, env=server.env)
    butler("register-dataset-type", repo, "blob", "StructuredDataDict", "htm7", env=server.env)
    return repo


def test_failed_write_to_the_server_leaves_nothing_behind(butler, webdav, postgres_url, schemas, tmp_path):
    repo = remote_repo(butler, webdav, postgres_url, schemas, tmp_path)
    incoming, table = blobs(tmp_path, 9)
    # The third MOVE into place fails (as a server answering 5xx would, retries spent).
    r = butler("ingest-files", repo, "blob", "blobs", table, "--prefix", incoming, "-t", "copy",
               env={**webdav.env, "MAJORDOME_TEST_FAIL_IO": "rename:3"}, expect=EXIT["IoError"])
    assert "injected I/O fault" in r.stderr
    assert not datasets(butler, repo, "blob", env=webdav.env)
    assert_consistent_on_server(butler, webdav, repo)  # the files already placed were removed again
    assert not server_files(webdav, repo)
    butler("ingest-files", repo, "blob", "blobs", table, "--prefix", incoming, "-t", "copy", env=webdav.env)
    assert len(datasets(butler, repo, "blob", env=webdav.env)) == 9
    assert_consistent_on_server(butler, webdav, repo)


def test_writer_killed_mid_ingest_to_the_server_is_recovered(butler, webdav, postgres_url, schemas, tmp_path):
    repo = remote_repo(butler, webdav, postgres_url, schemas, tmp_path)
    incoming, table = blobs(tmp_path, 1500)
    folder = webdav.served / repo.removeprefix(webdav.url)
    proc = butler.popen("ingest-files", repo, "blob", "blobs", table, "--prefix", incoming, "-t", "copy",
                        env=webdav.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(1 for _ in folder.rglob("b*.yaml")) >= 50:
            proc.kill()
            break
        time.sleep(0.002)
    proc.wait()
    assert proc.returncode == -9, "the writer ended before it could be killed; give it more files"
    placed = len(list(folder.rglob("b*.yaml")))
    assert placed >= 50
    assert not datasets(butler, repo, "blob", env=webdav.env), "nothing was committed"
    # The next writing command recovers: the dead writer's files leave the server.
    butler("cleanup", repo, env=webdav.env)
    assert_consistent_on_server(butler, webdav, repo)
    butler("ingest-files", repo, "blob", "blobs", table, "--prefix", incoming, "-t", "copy", env=webdav.env)
    assert len(datasets(butler, repo, "blob", env=webdav.env)) == 1500
    assert_consistent_on_server(butler, webdav, repo)
