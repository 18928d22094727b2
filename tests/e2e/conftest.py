"""End-to-end tests of the real `butler` binary on temporary repositories.

Every test that touches a repository runs on SQLite and on PostgreSQL (the `backend`
fixture). The PostgreSQL server is the one `make test` starts (scripts/run-tests exports
MAJORDOME_TEST_POSTGRES_URL); without that variable the PostgreSQL variants are skipped,
and with it set to a server that does not answer they fail.

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import socket
import sqlite3
import subprocess
import urllib.parse
import uuid
from dataclasses import dataclass, field

import pytest
import yaml

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
SHARED_DATA = SOURCE_DIR.parent / "shared" / "data"
REGISTRY_DATA = SHARED_DATA / "registry" / "daf_butler"

# Exit statuses of the CLI (include/majordome/core/error.hpp, src/cli/main.cpp).
EXIT = {
    "usage": 1, "InvalidArgument": 2, "NotFound": 3, "Conflict": 4, "CollectionType": 5,
    "InvalidQuery": 6, "InvalidConfig": 7, "IoError": 8, "CorruptFile": 9, "DatabaseError": 10,
    "PermissionDenied": 11, "Unsupported": 12, "Busy": 13, "Cancelled": 14, "Internal": 20,
}


def registry_file(name: str) -> pathlib.Path:
    """A daf_butler registry export from ../shared/data; skips the test if the data are absent."""
    if not REGISTRY_DATA.is_dir():
        pytest.skip(f"shared test data not found at {REGISTRY_DATA} (the sibling shared/data checkout)")
    path = REGISTRY_DATA / name
    assert path.is_file(), f"{path} is missing from the shared data"
    return path


# ---------------------------------------------------------------------------- the binary

def _butler_path(tmp_root: pathlib.Path) -> pathlib.Path:
    given = os.environ.get("MAJORDOME_BIN")
    binary = pathlib.Path(given) if given else SOURCE_DIR / "build" / "bin" / "majordome"
    if not binary.exists():
        pytest.exit(f"majordome binary not found at {binary}; build it (make build) or set MAJORDOME_BIN", 2)
    if binary.name == "butler":
        return binary
    beside = binary.parent / "butler"
    if beside.exists() and beside.resolve() == binary.resolve():
        return beside
    # The binary behaves as `butler` when started through a link of that name.
    link = tmp_root / "bin" / "butler"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(binary.resolve())
    return link


@pytest.fixture(scope="session")
def butler_exe(tmp_path_factory) -> pathlib.Path:
    return _butler_path(tmp_path_factory.mktemp("exe"))


@dataclass
class Result:
    args: list
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Butler:
    """Runs `butler SUBCOMMAND …` and checks the exit status."""

    def __init__(self, exe: pathlib.Path, env: dict):
        self.exe = exe
        self.env = env

    def __call__(self, *args, expect: int | None = 0, input: str | None = None, env: dict | None = None,
                 cwd=None, timeout: float = 300) -> Result:
        argv = [str(self.exe)] + [str(a) for a in args]
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        p = subprocess.run(argv, capture_output=True, text=True, input=input if input is not None else "",
                           env=full_env, cwd=cwd, timeout=timeout)
        r = Result(argv, p.returncode, p.stdout, p.stderr)
        if expect is not None:
            assert p.returncode == expect, (
                f"`butler {' '.join(argv[1:])}` exited {p.returncode}, expected {expect}\n"
                f"--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")
        # Whatever went wrong, the binary must never crash or report an internal error.
        assert p.returncode >= 0, f"`butler {' '.join(argv[1:])}` was killed by signal {-p.returncode}\n{p.stderr}"
        assert p.returncode != EXIT["Internal"], f"internal error from `butler {' '.join(argv[1:])}`:\n{p.stderr}"
        return r

    def popen(self, *args, env: dict | None = None, **kw) -> subprocess.Popen:
        return subprocess.Popen([str(self.exe)] + [str(a) for a in args], env={**self.env, **(env or {})}, **kw)


@pytest.fixture(scope="session")
def base_env(tmp_path_factory) -> dict:
    env = dict(os.environ)
    # No credentials from the user's own ~/.lsst/db-auth.yaml leak into the tests.
    env["HOME"] = str(tmp_path_factory.mktemp("home"))
    env.pop("LSST_DB_AUTH", None)
    return env


@pytest.fixture
def butler(butler_exe, base_env) -> Butler:
    return Butler(butler_exe, base_env)


# ---------------------------------------------------------------------------- PostgreSQL

def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(pathlib.Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def skip_unless_strict(reason: str):
    """Skips a test whose requirement is missing — unless MAJORDOME_TEST_STRICT is set, as
    `make test` sets it, where the requirement is part of the suite and its absence fails."""
    if os.environ.get("MAJORDOME_TEST_STRICT"):
        pytest.fail(f"{reason} (required: MAJORDOME_TEST_STRICT is set)")
    pytest.skip(reason)


@dataclass
class WebDav:
    """A WebDAV server over TLS (scripts/webdav-test-server): its URL, the folder it serves,
    and the environment that trusts it and authenticates to it as Rubin's tools do."""
    url: str      # "davs://127.0.0.1:PORT/"
    dir: pathlib.Path
    env: dict

    @property
    def served(self) -> pathlib.Path:
        return self.dir / "root"

    def access_log(self) -> list[str]:
        return (self.dir / "access.log").read_text().splitlines()


def webdav_at(url: str, directory: pathlib.Path) -> WebDav:
    return WebDav(url, directory, {"LSST_HTTP_AUTH_BEARER_TOKEN": str(directory / "token"),
                                   "LSST_HTTP_CACERT_BUNDLE": str(directory / "ca.pem")})


@pytest.fixture(scope="session")
def webdav() -> WebDav:
    """The server `make test` starts (shared by every test: never stop it; see private_webdav)."""
    url, directory = os.environ.get("MAJORDOME_TEST_WEBDAV_URL"), os.environ.get("MAJORDOME_TEST_WEBDAV_DIR")
    if not url or not directory:
        skip_unless_strict("MAJORDOME_TEST_WEBDAV_URL is not set; `make test` (scripts/run-tests) starts a throwaway "
                           "WebDAV server and sets it")
    return webdav_at(url, pathlib.Path(directory))


@pytest.fixture
def private_webdav(tmp_path, webdav):
    """A server of this test's own, which it may stop and restart; it sends at most 400 KB/s
    per response after the first 64 KB."""
    script = SOURCE_DIR / "scripts" / "webdav-test-server"
    directory = tmp_path / "webdav"
    # Responses slowed after their first 64 KB: a test can stop the server mid-transfer.
    url = subprocess.run([str(script), "start", str(directory)], capture_output=True, text=True, check=True,
                         timeout=60, env={**os.environ, "WEBDAV_LIMIT_RATE": "400k"}).stdout.strip()
    yield webdav_at(url, directory)
    subprocess.run([str(script), "stop", str(directory)], timeout=60)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("MAJORDOME_TEST_POSTGRES_URL")
    if not url:
        skip_unless_strict("MAJORDOME_TEST_POSTGRES_URL is not set; `make test` (scripts/run-tests) starts a "
                    "throwaway PostgreSQL server and sets it")
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as e:
        pytest.fail(f"MAJORDOME_TEST_POSTGRES_URL={url} is set but the server does not answer at {host}:{port}: {e}")
    return url


def psql(url: str, sql: str) -> str:
    exe = _tool("psql")
    assert exe, "psql not found (it comes with the postgresql package that scripts/setup-deps installs)"
    p = subprocess.run([exe, url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"psql failed: {p.stderr}"
    return p.stdout


# ---------------------------------------------------------------------------- repositories

@dataclass
class Repo:
    path: pathlib.Path
    backend: str
    url: str | None = None        # PostgreSQL server URL (without credentials)
    namespace: str | None = None  # PostgreSQL schema
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return str(self.path)

    def __fspath__(self) -> str:
        return str(self.path)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


class RepoFactory:
    def __init__(self, butler: Butler, tmp: pathlib.Path, backend: str, url: str | None):
        self.butler = butler
        self.tmp = tmp
        self.backend = backend
        self.url = url
        self.schemas: list[str] = []
        self.count = 0

    def seed(self, namespace: str, url: str | None = None) -> dict:
        return {"registry": {"db": url or self.url, "namespace": namespace}}

    def __call__(self, name: str | None = None, *, create: bool = True, seed: dict | None = None) -> Repo:
        self.count += 1
        path = self.tmp / (name or f"repo{self.count}")
        if self.backend == "sqlite":
            repo = Repo(path, "sqlite")
            if create:
                if seed:
                    seed_file = self.tmp / f"seed{self.count}.yaml"
                    seed_file.write_text(yaml.safe_dump(seed))
                    self.butler("create", "--seed-config", seed_file, path)
                else:
                    self.butler("create", path)
            return repo
        namespace = f"e2e_{uuid.uuid4().hex[:16]}"
        self.schemas.append(namespace)
        repo = Repo(path, "postgres", url=self.url, namespace=namespace)
        if create:
            config = self.seed(namespace)
            for k, v in (seed or {}).items():
                config.setdefault(k, {}).update(v)
            seed_file = self.tmp / f"seed{self.count}.yaml"
            seed_file.write_text(yaml.safe_dump(config))
            self.butler("create", "--seed-config", seed_file, path)
        return repo

    def drop_schemas(self):
        for s in self.schemas:
            try:
                psql(self.url, f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
            except AssertionError:
                pass


@pytest.fixture
def make_repo(request, backend, butler, tmp_path):
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    factory = RepoFactory(butler, tmp_path, backend, url)
    yield factory
    if backend == "postgres":
        factory.drop_schemas()


@pytest.fixture
def repo(make_repo) -> Repo:
    return make_repo("repo")


def import_registry(butler: Butler, repo, *names: str):
    """Imports daf_butler registry exports with --without-datastore, in order."""
    for name in names:
        f = registry_file(name)
        butler("import", repo, f.parent, "--export-file", f, "--without-datastore")


# ---------------------------------------------------------------------------- output parsing

def parse_tables(text: str) -> list[list[dict]]:
    """The tables in a command's output (header, dashes, rows), as lists of {column: cell}."""
    lines = text.splitlines()
    tables = []
    i = 0
    while i + 1 < len(lines):
        dashes = lines[i + 1]
        if dashes and set(dashes) <= {"-", " "} and "-" in dashes and lines[i].strip():
            spans, pos = [], 0
            for run in dashes.split(" "):
                spans.append((pos, pos + len(run)))
                pos += len(run) + 1
            spans = [s for s in spans if s[1] > s[0]]
            header = [lines[i][a:b].strip() for a, b in spans]
            rows = []
            j = i + 2
            while j < len(lines) and lines[j].strip():
                line = lines[j]
                cells = []
                for k, (a, b) in enumerate(spans):
                    # The last column of a left-aligned table may run past its dashes.
                    cells.append((line[a:] if k == len(spans) - 1 else line[a:b]).strip())
                rows.append(dict(zip(header, cells)))
                j += 1
            tables.append(rows)
            i = j
        else:
            i += 1
    return tables


def table_rows(text: str) -> list[dict]:
    """All rows of all tables in the output."""
    return [row for t in parse_tables(text) for row in t]


def record_count(butler: Butler, repo, element: str) -> int:
    r = butler("query-dimension-records", repo, element, "--limit", "0")
    if "No results" in r.stdout:
        return 0
    return len(table_rows(r.stdout))


def datasets(butler: Butler, repo, *args, env: dict | None = None) -> list[dict]:
    r = butler("query-datasets", repo, "--limit", "0", *args, env=env)
    return table_rows(r.stdout)


# ---------------------------------------------------------------------------- export YAML

class Tagged:
    """A value with an application tag (!uuid, !butler_time/…, !<lsst.sphgeom.…>)."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __eq__(self, other):
        return isinstance(other, Tagged) and (self.tag, self.value) == (other.tag, other.value)

    def __hash__(self):
        return hash((self.tag, json.dumps(self.value, sort_keys=True, default=str)))

    def __repr__(self):
        return f"{self.tag} {self.value!r}"


class ExportLoader(yaml.SafeLoader):
    pass


def _construct_tagged(loader, tag_suffix, node):
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_sequence(node, deep=True)
    if tag in ("!uuid",):
        return str(value).lower()
    return Tagged(tag, value)


ExportLoader.add_multi_constructor("!", _construct_tagged)
ExportLoader.add_multi_constructor("tag:yaml.org,2002:python", _construct_tagged)
ExportLoader.add_multi_constructor("lsst.", _construct_tagged)


def load_export(path) -> dict:
    with open(path) as f:
        return yaml.load(f, Loader=ExportLoader)


def _canon(value):
    """A hashable, order-free rendering of a YAML value (for sorting and comparing)."""
    return json.dumps(value, sort_keys=True, default=repr)


def canonical_export(doc: dict) -> dict:
    """The content of an export, with order removed where the format gives it no meaning.

    Kept ordered: the children of a CHAINED collection. Everything else (records, datasets,
    association IDs) becomes sorted lists keyed by what identifies them.
    """
    out = {"dimension": {}, "collection": {}, "dataset_type": {}, "dataset": {}, "tagged": {}, "calibration": {}}
    for entry in doc["data"]:
        kind = entry["type"]
        if kind == "dimension":
            out["dimension"].setdefault(entry["element"], []).extend(_canon(r) for r in entry["records"])
        elif kind in ("collection", "run"):
            e = dict(entry)
            e.pop("type")
            e.setdefault("collection_type", "RUN")
            out["collection"][e["name"]] = e
        elif kind == "dataset_type":
            out["dataset_type"][entry["name"]] = {k: v for k, v in entry.items() if k not in ("type",)}
        elif kind == "dataset":
            key = f"{entry['dataset_type']}@{entry['run']}"
            for rec in entry["records"]:
                ids = rec["dataset_id"] if isinstance(rec["dataset_id"], list) else [rec["dataset_id"]]
                dids = rec["data_id"] if isinstance(rec["data_id"], list) else [rec["data_id"]]
                for i, d in zip(ids, dids):
                    out["dataset"].setdefault(key, []).append(
                        _canon({"id": i, "data_id": d, "path": rec.get("path"), "formatter": rec.get("formatter")}))
        elif kind == "associations":
            if entry["collection_type"] == "TAGGED":
                out["tagged"].setdefault(entry["collection"], []).extend(entry["dataset_ids"])
            else:
                for r in entry["validity_ranges"]:
                    out["calibration"].setdefault(entry["collection"], []).extend(
                        _canon({"timespan": r["timespan"], "id": i}) for i in r["dataset_ids"])
    for section in ("dimension", "dataset", "tagged", "calibration"):
        out[section] = {k: sorted(v) for k, v in out[section].items()}
    return out


def dataset_index(doc: dict) -> dict:
    """dataset ID → (dataset type, run, data ID) from an export."""
    index = {}
    for entry in doc["data"]:
        if entry["type"] != "dataset":
            continue
        for rec in entry["records"]:
            ids = rec["dataset_id"] if isinstance(rec["dataset_id"], list) else [rec["dataset_id"]]
            dids = rec["data_id"] if isinstance(rec["data_id"], list) else [rec["data_id"]]
            for i, d in zip(ids, dids):
                index[i] = (entry["dataset_type"], entry["run"], d)
    return index


def export(butler: Butler, repo, directory: pathlib.Path, *args) -> dict:
    butler("export", repo, directory, *args)
    return load_export(directory / "export.yaml")


# ---------------------------------------------------------------------------- repository state

def repository_state(butler: Butler, repo: Repo, scratch: pathlib.Path) -> dict:
    """Everything a failed command must leave untouched: the registry (a full export, and a dump
    of the database itself) and every file under the repository."""
    scratch.mkdir(parents=True, exist_ok=True)
    where = scratch / f"state-{uuid.uuid4().hex[:8]}"
    state = {"export": canonical_export(export(butler, repo, where))}
    shutil.rmtree(where)
    if repo.backend == "sqlite":
        con = sqlite3.connect(str(repo.path / "gen3.sqlite3"))
        try:
            state["database"] = list(con.iterdump())
        finally:
            con.close()
    else:
        exe = _tool("pg_dump")
        assert exe, "pg_dump not found"
        p = subprocess.run([exe, "--schema", repo.namespace, repo.url], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        # Sequences are not transactional: a rolled-back insert still advances them. Recent
        # pg_dump versions also wrap the dump in \restrict lines with a random key.
        state["database"] = [line for line in p.stdout.splitlines()
                             if not line.startswith(("SELECT pg_catalog.setval", "\\restrict", "\\unrestrict"))]
    files = {}
    for p in sorted(repo.path.rglob("*")):
        rel = p.relative_to(repo.path).as_posix()
        if rel.startswith("gen3.sqlite3"):
            continue  # compared through the dump; the raw pages may move without a change
        if p.is_symlink():
            files[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            files[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    state["files"] = files
    return state


def assert_same_state(before: dict, after: dict):
    assert after["files"] == before["files"], "files under the repository changed"
    assert after["export"] == before["export"], "the registry content (export) changed"
    if before["database"] != after["database"]:
        diff = sorted(set(before["database"]) ^ set(after["database"]))
        raise AssertionError("the database changed:\n" + "\n".join(diff[:20]))


class Unchanged:
    """with Unchanged(butler, repo, scratch): the block must leave the repository as it found it
    (registry export, database dump, every file under it)."""

    def __init__(self, butler: Butler, repo: Repo, scratch: pathlib.Path):
        self.butler, self.repo, self.scratch = butler, repo, scratch

    def __enter__(self):
        self.before = repository_state(self.butler, self.repo, self.scratch)
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            assert_same_state(self.before, repository_state(self.butler, self.repo, self.scratch))
        return False


def digest_tree(root: pathlib.Path, skip: pathlib.Path | None = None) -> dict:
    """Every file (content hash) and link (target) under root, except under `skip`."""
    out = {}
    for p in sorted(root.rglob("*")):
        if skip and (p == skip or skip in p.parents):
            continue
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ---------------------------------------------------------------------------- datastore checks

IGNORED_TOP = {"butler.yaml", ".majordome"}


def stored_files(repo) -> set[pathlib.Path]:
    """Files (and links) under the datastore root, other than the repository's own."""
    out = set()
    root = pathlib.Path(repo)
    for dirpath, dirnames, filenames in os.walk(root):
        rel = pathlib.Path(dirpath).relative_to(root)
        if rel == pathlib.Path("."):
            dirnames[:] = [d for d in dirnames if d not in IGNORED_TOP]
            filenames = [f for f in filenames if f not in IGNORED_TOP and not f.startswith("gen3.sqlite3")]
        for f in filenames:
            out.add(pathlib.Path(dirpath) / f)
    return out


def dataset_uris(butler: Butler, repo) -> dict[str, str]:
    """dataset ID → URI of its file, for every dataset in every collection."""
    rows = datasets(butler, repo, "--show-uri")
    return {r["id"]: r.get("URI", "") for r in rows}


def uri_path(uri: str) -> pathlib.Path:
    return pathlib.Path(urllib.parse.unquote(uri[len("file://"):]) if uri.startswith("file://") else uri)


def assert_consistent(butler: Butler, repo) -> dict[str, str]:
    """Every dataset has its file and every file under the root belongs to a dataset."""
    uris = dataset_uris(butler, repo)
    for dataset_id, uri in uris.items():
        assert uri, f"dataset {dataset_id} has no file"
        assert uri_path(uri).exists(), f"dataset {dataset_id}'s file {uri} does not exist"
    referenced = {uri_path(u) for u in uris.values()}
    orphans = stored_files(repo) - referenced
    assert not orphans, f"{len(orphans)} file(s) under the root belong to no dataset, e.g. {sorted(orphans)[:3]}"
    return uris
