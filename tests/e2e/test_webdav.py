"""Raws on a WebDAV server (davs://, as RTN-103 keeps DATA): ingest-raws -t direct|copy from the
server, the URIs a user sees, retrieve-artifacts, the errors of a user without credentials or
trust, and a server killed in the middle of an ingest. Against the real nginx server over TLS that
`make test` starts (scripts/webdav-test-server).

Run by hand:  MAJORDOME_TEST_WEBDAV_URL=$(scripts/webdav-test-server start /tmp/wd) \\
              MAJORDOME_TEST_WEBDAV_DIR=/tmp/wd MAJORDOME_BIN=build/bin/majordome \\
              /usr/bin/python3 -m pytest -q tests/e2e/test_webdav.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from conftest import EXIT, SOURCE_DIR, assert_consistent, datasets, table_rows, uri_path
from test_ingest import raw_files, simulate

RAW_DIMENSIONS = ("instrument", "detector", "exposure")


@pytest.fixture(scope="module")
def comcam(tmp_path_factory):
    """2 LSSTComCam exposures x 9 detectors: real-sized headers, 1x1-pixel amplifiers."""
    return simulate(tmp_path_factory.mktemp("comcam"), "LSSTComCam", 2, "--tiny")


def publish(server, sim) -> str:
    """Copies the simulated raws into a fresh folder the server serves; returns its URL."""
    folder = f"data-{uuid.uuid4().hex[:8]}"
    shutil.copytree(sim / "raw", server.served / folder / "raw")
    return f"{server.url}{folder}/raw"


def exposure_rows(butler, repo) -> list[str]:
    return sorted(butler("query-dimension-records", repo, "exposure").stdout.splitlines())


def fresh_repo(butler, make_repo, name):
    repo = make_repo(name)
    butler("register-instrument", repo, "lsst.obs.lsst.LsstComCam")
    return repo


def test_ingest_raws_direct_from_webdav(butler, make_repo, webdav, comcam, tmp_path):
    data = publish(webdav, comcam)
    folder = data.split("/", 3)[3]
    files = raw_files(comcam)

    local = fresh_repo(butler, make_repo, "local")
    butler("ingest-raws", local, comcam / "raw", "-t", "direct")

    repo = fresh_repo(butler, make_repo, "remote")
    log_before = len(webdav.access_log())
    r = butler("ingest-raws", repo, data, "-t", "direct", "-j", "2", env=webdav.env)
    assert f"Ingested {len(files)} raw file(s)" in r.stdout
    # The same exposure records as from the same files on local disk.
    assert exposure_rows(butler, repo) == exposure_rows(butler, local)

    # Only the headers were fetched: ranged GETs, well under 64 KB per file.
    log = webdav.access_log()[log_before:]
    # Each folder is asked once for its _index.json (there is none: 404); the raws' own reads
    # are ranged.
    probes = [line for line in log if f'"GET /{folder}/' in line and "/_index.json " in line]
    assert probes and all(line.split('"')[2].split()[0] == "404" for line in probes)
    gets = [line for line in log if f'"GET /{folder}/' in line and "/_index.json " not in line]
    fetched = sum(int(line.split('"')[2].split()[1]) for line in gets)
    assert all(line.split('"')[2].split()[0] == "206" for line in gets), "every read is a ranged read"
    assert fetched / len(files) < 64 * 1024
    assert len(gets) <= 2 * len(files)
    assert fetched < sum(f.stat().st_size for f in files) / 3  # even of these 1x1-pixel raws (~100 KB each)

    # Files stay on the server: the URIs a user sees are the server's.
    rows = datasets(butler, repo, "raw", "--show-uri")
    assert len(rows) == len(files)
    assert all(r["URI"].startswith(f"{data}/") for r in rows)
    local_rows = datasets(butler, local, "raw", "--show-uri")
    assert all(r["URI"].startswith("file:///") for r in local_rows)

    # retrieve-artifacts copies them down, byte for byte.
    out = tmp_path / "retrieved"
    butler("retrieve-artifacts", repo, out, "--dataset-type", "raw", "--where", "detector = 4", env=webdav.env)
    got = sorted(out.rglob("*.fits"))
    assert len(got) == 2
    by_name = {f.name: f for f in files}
    for g in got:
        assert g.read_bytes() == by_name[g.name].read_bytes()

    # A re-run finds everything there already; nothing is fetched twice for that.
    r = butler("ingest-raws", repo, data, "-t", "direct", env=webdav.env)
    assert f"{len(files)} already present" in r.stdout


def test_ingest_raws_copy_from_webdav(butler, make_repo, webdav, comcam):
    data = publish(webdav, comcam)
    repo = fresh_repo(butler, make_repo, "copied")
    butler("ingest-raws", repo, data, "-t", "copy", "-j", "2", env=webdav.env)
    rows = datasets(butler, repo, "raw", "--show-uri")
    by_name = {f.name: f for f in raw_files(comcam)}
    assert len(rows) == len(by_name)
    for r in rows:
        path = uri_path(r["URI"])
        assert r["URI"].startswith("file:///") and path.is_relative_to(repo.path)
        original = by_name[re.sub(r"^raw_.*?(CC_O_\d+_\d+_R\d\d_S\d\d)_.*", r"\1", path.stem) + ".fits"]
        assert path.read_bytes() == original.read_bytes()
    assert_consistent(butler, repo)


def test_webdav_errors_name_the_url_and_the_fix(butler, make_repo, webdav, comcam, tmp_path):
    data = publish(webdav, comcam)
    repo = fresh_repo(butler, make_repo, "errors")
    token = (webdav.dir / "token").read_text().strip()

    # No credentials: 401, the URL, the variables to set; never a token.
    r = butler("ingest-raws", repo, data, "-t", "direct", expect=EXIT["PermissionDenied"],
               env={"LSST_HTTP_CACERT_BUNDLE": webdav.env["LSST_HTTP_CACERT_BUNDLE"]})
    assert "401" in r.stderr and data.replace("davs://", "https://") in r.stderr
    assert "LSST_HTTP_AUTH_BEARER_TOKEN" in r.stderr
    # A wrong token is refused the same way, and not printed.
    r = butler("ingest-raws", repo, data, "-t", "direct", expect=EXIT["PermissionDenied"],
               env={**webdav.env, "LSST_HTTP_AUTH_BEARER_TOKEN": "wrong-" + token})
    assert "wrong-" not in r.output and token not in r.output
    # A token file others can read is refused before any request.
    loose = tmp_path / "token"
    loose.write_text(token)
    loose.chmod(0o644)
    r = butler("ingest-raws", repo, data, "-t", "direct", expect=EXIT["PermissionDenied"],
               env={**webdav.env, "LSST_HTTP_AUTH_BEARER_TOKEN": str(loose)})
    assert "chmod 600" in r.stderr and token not in r.output
    # A server whose CA is not trusted.
    r = butler("ingest-raws", repo, data, "-t", "direct", expect=EXIT["IoError"],
               env={"LSST_HTTP_AUTH_BEARER_TOKEN": webdav.env["LSST_HTTP_AUTH_BEARER_TOKEN"],
                    "LSST_HTTP_CACERT_BUNDLE": ""})
    assert "LSST_HTTP_CACERT_BUNDLE" in r.stderr
    # The client certificate works in place of the token.
    r = butler("ingest-raws", repo, data, "-t", "direct",
               env={"LSST_HTTP_CACERT_BUNDLE": webdav.env["LSST_HTTP_CACERT_BUNDLE"],
                    "LSST_HTTP_AUTH_CLIENT_CERT": str(webdav.dir / "client.pem"),
                    "LSST_HTTP_AUTH_CLIENT_KEY": str(webdav.dir / "client.key")})
    assert "Ingested 18 raw file(s)" in r.stdout
    # A folder that is not there; a mode that needs a local file; credentials in the URL.
    r = butler("ingest-raws", repo, f"{webdav.url}no/such/folder", expect=EXIT["NotFound"], env=webdav.env)
    assert "no/such/folder" in r.stderr
    r = butler("ingest-raws", repo, data, "-t", "symlink", expect=EXIT["InvalidArgument"], env=webdav.env)
    assert "copy" in r.stderr and "direct" in r.stderr
    r = butler("ingest-raws", repo, data.replace("davs://", "davs://alice:secret@"), expect=EXIT["InvalidArgument"],
               env=webdav.env)
    assert "secret" not in r.output and ".netrc" in r.stderr


def test_server_killed_mid_ingest_leaves_the_repository_consistent(butler, make_repo, private_webdav,
                                                                   tmp_path_factory):
    sim = simulate(tmp_path_factory.mktemp("many"), "LSSTComCam", 8, "--tiny")
    files = raw_files(sim)
    data = publish(private_webdav, sim)
    repo = fresh_repo(butler, make_repo, "killed")
    script = SOURCE_DIR / "scripts" / "webdav-test-server"
    env = {**private_webdav.env, "MAJORDOME_HTTP_RETRIES": "0"}

    # Stop the server once the copy has fetched some files (after every header was read).
    def kill_when_copying():
        deadline = time.time() + 120
        while time.time() < deadline:
            log = private_webdav.access_log() if (private_webdav.dir / "access.log").exists() else []
            if sum('"GET ' in l and '" 200 ' in l for l in log) >= 20:
                subprocess.run([str(script), "stop", str(private_webdav.dir)], timeout=60)
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_when_copying)
    killer.start()
    r = butler("ingest-raws", repo, data, "-t", "copy", env=env, expect=None)
    killer.join()
    assert r.returncode != 0, "the ingest cannot have succeeded with the server gone"
    assert "127.0.0.1" in r.stderr  # the error names the server's URL
    assert_consistent(butler, repo)  # every dataset has its file, no file without a dataset
    ingested_before = len(datasets(butler, repo, "raw"))
    assert ingested_before < len(files)

    subprocess.run([str(script), "start", str(private_webdav.dir)], check=True, timeout=60)  # at full speed
    r = butler("ingest-raws", repo, data, "-t", "copy", env=env)
    assert f"Ingested {len(files) - ingested_before} raw file(s)" in r.stdout
    assert len(datasets(butler, repo, "raw")) == len(files)
    assert_consistent(butler, repo)


def test_import_and_ingest_files_from_webdav(butler, make_repo, webdav, comcam, tmp_path):
    """An export folder on the server imports with --transfer direct (files stay there) or copy;
    ingest-files takes davs:// URIs in its table."""
    source = fresh_repo(butler, make_repo, "source")
    butler("ingest-raws", source, comcam / "raw", "-t", "copy")
    export = tmp_path / "export"
    butler("export", source, export, "--transfer", "copy")
    folder = f"export-{uuid.uuid4().hex[:8]}"
    shutil.copytree(export, webdav.served / folder)
    url = f"{webdav.url}{folder}"
    originals = {r["id"]: uri_path(r["URI"]).read_bytes() for r in datasets(butler, source, "raw", "--show-uri")}

    direct = make_repo("direct")
    butler("import", direct, url, "--transfer", "direct", env=webdav.env)
    rows = datasets(butler, direct, "raw", "--show-uri")
    assert {r["id"] for r in rows} == set(originals)
    assert all(r["URI"].startswith(f"{url}/") for r in rows)
    assert exposure_rows(butler, direct) == exposure_rows(butler, source)
    out = tmp_path / "back"
    butler("retrieve-artifacts", direct, out, env=webdav.env)
    assert sorted(f.read_bytes() for f in out.rglob("*.fits")) == sorted(originals.values())

    copied = make_repo("copied")
    butler("import", copied, url, "--transfer", "copy", env=webdav.env)
    rows = datasets(butler, copied, "raw", "--show-uri")
    assert all(r["URI"].startswith("file:///") for r in rows)
    assert {r["id"]: uri_path(r["URI"]).read_bytes() for r in rows} == originals
    assert_consistent(butler, copied)

    # A mode that needs a local file, and a path that leaves the export's folder.
    refused = make_repo("refused")
    r = butler("import", refused, url, "--transfer", "hardlink", expect=EXIT["InvalidArgument"], env=webdav.env)
    assert "copy" in r.stderr and "direct" in r.stderr
    assert "raw" not in butler("query-dataset-types", refused).stdout  # nothing of the export went in

    # ingest-files with URIs in its table.
    files = make_repo("files")
    butler("register-dataset-type", files, "blob", "StructuredDataDict", "instrument", "detector")
    butler("register-instrument", files, "lsst.obs.lsst.LsstComCam")
    (webdav.served / folder / "blob.yaml").write_text("a: 1\n")
    table = tmp_path / "files.csv"
    table.write_text(f"file,instrument,detector\n{url}/blob.yaml,LSSTComCam,4\n")
    butler("ingest-files", files, "blob", "blobs", table, "-t", "direct", env=webdav.env)
    [row] = datasets(butler, files, "blob", "--show-uri")
    assert row["URI"] == f"{url}/blob.yaml"
    # ... and paths inside a --prefix folder on the server, as RTN-103 ingests its refcats.
    table = tmp_path / "relative.csv"
    table.write_text("file,instrument,detector\nblob.yaml,LSSTComCam,5\n")
    butler("ingest-files", files, "blob", "prefixed", table, "--prefix", url, "-t", "direct", env=webdav.env)
    [row] = datasets(butler, files, "blob", "--collections", "prefixed", "--show-uri")
    assert row["URI"] == f"{url}/blob.yaml"
    table.write_text("file,instrument,detector\n../elsewhere.yaml,LSSTComCam,6\n")
    r = butler("ingest-files", files, "blob", "escaped", table, "--prefix", url, "-t", "direct",
               expect=EXIT["InvalidArgument"], env=webdav.env)
    assert "--prefix" in r.stderr


def test_ingest_raws_reads_metadata_indexes_on_the_server(butler, make_repo, webdav, comcam):
    data = publish(webdav, comcam)
    folder = webdav.served / data.removeprefix(webdav.url)
    p = subprocess.run(["/usr/bin/python3", str(SOURCE_DIR / "bench" / "ingest" / "write_index.py"), str(folder)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    local = fresh_repo(butler, make_repo, "headers")
    butler("ingest-raws", local, comcam / "raw", "-t", "direct")
    repo = fresh_repo(butler, make_repo, "indexed")
    before = len(webdav.access_log())
    r = butler("ingest-raws", repo, data, "-t", "direct", env=webdav.env)
    files = raw_files(comcam)
    assert f"{len(files)} from _index.json" in r.stdout
    gets = [l for l in webdav.access_log()[before:] if '"GET ' in l]
    assert gets and all("_index.json" in l for l in gets), "one GET per folder, no header reads"
    assert exposure_rows(butler, repo) == exposure_rows(butler, local)
