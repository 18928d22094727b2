"""Credentials are never printed: not in a "cannot connect" error (ours or libpq's, which
quotes parts of the URL), not by config-dump; and a broken db-auth file is a clear error
naming the file, never an internal one.

Tests without "postgres" in their name need no server: they point at a port nothing
listens on. The others use the throwaway server of `make test`, whose `postgres` role is
trusted (any password is accepted, so any URL form can connect) and whose `majordome` role
needs its real password."""

import os
import subprocess
import socket
import urllib.parse
import uuid

import pytest
import yaml

from conftest import EXIT, psql

# Distinctive enough that finding it anywhere in the output means it leaked.
SECRET = "Zq7secretXv"
ROLE_PASSWORD = "majordome-test-password"  # scripts/pg-test-server


@pytest.fixture(scope="module")
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Each way a URL (or a connection string) may carry a secret. {port} is filled in, {S} is the secret.
SECRET_URLS = {
    "userinfo": "postgresql://alice:{S}@127.0.0.1:{port}/db",
    "userinfo-at": "postgresql://alice:p@{S}@127.0.0.1:{port}/db",
    "userinfo-two-ats": "postgresql://alice:{S}@x@y@127.0.0.1:{port}/db",
    "userinfo-slash": "postgresql://alice:p/{S}@127.0.0.1:{port}/db",
    "userinfo-percent": "postgresql://alice:{S}%40%2Fx@127.0.0.1:{port}/db",
    "userinfo-bad-escape": "postgresql://alice:{S}%zz@127.0.0.1:{port}/db",
    "userinfo-ipv6-unclosed": "postgresql://alice:{S}@[::1",
    "query-password": "postgresql://alice@127.0.0.1:{port}/db?password={S}",
    "query-password-at": "postgresql://127.0.0.1:{port}?password=p@{S}",
    "query-sslpassword": "postgresql://alice@127.0.0.1:{port}/db?sslmode=prefer&sslpassword={S}",
    "query-sslkey": "postgresql://alice@127.0.0.1:{port}/db?sslkey=/home/alice/{S}.key",
    "query-encoded-name": "postgresql://alice@127.0.0.1:{port}/db?pass%77ord={S}",
    "query-unknown-secret": "postgresql://alice@127.0.0.1:{port}/db?api_token={S}",
    "query-host-user": "postgresql:///db?host=127.0.0.1&port={port}&user=alice&password={S}",
    "other-scheme": "mysql://alice:{S}@127.0.0.1:{port}/db",
    "conninfo": "host=127.0.0.1 port={port} user=alice password='{S} x'",
}


def write_seed(tmp_path, db: str, namespace: str | None = None):
    seed = tmp_path / "seed.yaml"
    registry = {"db": db}
    if namespace:
        registry["namespace"] = namespace
    seed.write_text(yaml.safe_dump({"registry": registry}))
    return seed


@pytest.mark.parametrize("form", list(SECRET_URLS))
def test_cannot_connect_never_prints_the_secret(butler, tmp_path, closed_port, form):
    url = SECRET_URLS[form].format(S=SECRET, port=closed_port)
    path = tmp_path / "repo"
    r = butler("create", "--seed-config", write_seed(tmp_path, url), path, expect=None)
    assert r.returncode not in (0, EXIT["Internal"]), r.output
    assert r.stderr.startswith("Error: "), r.output
    assert SECRET not in r.output, f"the secret leaked:\n{r.output}"
    assert "***" in r.output, f"the URL is not shown (masked):\n{r.output}"
    assert not (path / "butler.yaml").exists()


@pytest.mark.parametrize("form", ["userinfo", "userinfo-at", "userinfo-slash", "query-password"])
def test_cannot_connect_names_the_server(butler, tmp_path, closed_port, form):
    """Masking keeps what the user needs to find the problem: the user, the host, the port."""
    url = SECRET_URLS[form].format(S=SECRET, port=closed_port)
    r = butler("create", "--seed-config", write_seed(tmp_path, url), tmp_path / "repo",
               expect=EXIT["DatabaseError"])
    assert f"127.0.0.1:{closed_port}" in r.stderr, r.stderr
    assert "alice" in r.stderr and SECRET not in r.output


def test_password_read_as_written_postgres(butler, postgres_url, tmp_path):
    """A password holding '@' or '/' reaches the server as written (libpq alone would take the
    part after the first '@' for the host name, or the part before a '/' for a port)."""
    parts = urllib.parse.urlsplit(postgres_url)
    namespace = f"e2e_secret_{uuid.uuid4().hex[:12]}"
    # The trusted `postgres` role ignores the password; the host and port must be read right.
    for n, password in enumerate([f"p@{SECRET}", f"p/{SECRET}", f"a/b@{SECRET}"]):
        url = f"postgresql://postgres:{password}@{parts.hostname}:{parts.port}/postgres"
        path = tmp_path / f"repo{n}"
        try:
            seed = write_seed(tmp_path, url, f"{namespace}_{n}")
            r = butler("create", "--seed-config", seed, path)
            assert SECRET not in r.output
            r = butler("config-dump", path)
            assert SECRET not in r.output and "postgres:***@" in r.stdout, r.stdout
        finally:
            psql(postgres_url, f'DROP SCHEMA IF EXISTS "{namespace}_{n}" CASCADE')


def secret_forms(host: str, port: int, password: str) -> dict:
    """URLs that connect as `majordome` with `password`, each carrying it (or another secret) differently."""
    return {
        "userinfo": f"postgresql://majordome:{password}@{host}:{port}/postgres",
        "query-password": f"postgresql://majordome@{host}:{port}/postgres?password={password}",
        "query-host-user": f"postgresql:///postgres?host={host}&port={port}&user=majordome&password={password}",
        "ssl-params": f"postgresql://majordome:{password}@{host}:{port}/postgres?sslmode=disable"
                      f"&sslpassword=k{SECRET}&sslkey=/nonexistent/{SECRET}.key",
    }


@pytest.mark.parametrize("form", ["userinfo", "query-password", "query-host-user", "ssl-params"])
def test_config_dump_masks_credentials_postgres(butler, postgres_url, tmp_path, form):
    parts = urllib.parse.urlsplit(postgres_url)
    url = secret_forms(parts.hostname, parts.port, ROLE_PASSWORD)[form]
    namespace = f"e2e_secret_{uuid.uuid4().hex[:12]}"
    path = tmp_path / "repo"
    try:
        r = butler("create", "--seed-config", write_seed(tmp_path, url, namespace), path)
        owner = psql(postgres_url, f"SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = '{namespace}'")
        assert owner.strip() == "majordome", "the credentials in the URL were not used"
        assert ROLE_PASSWORD in (path / "butler.yaml").read_text()  # the user's own file keeps them
        for args in ([], ["--subset", "registry"], ["--subset", "registry.db"]):
            r = butler("config-dump", path, *args)
            for secret in (ROLE_PASSWORD, SECRET):
                assert secret not in r.output, f"config-dump {args} printed a secret:\n{r.output}"
            assert "***" in r.stdout and str(parts.port) in r.stdout
        r = butler("config-dump", path, "--file", tmp_path / "dump.yaml")
        assert ROLE_PASSWORD not in (tmp_path / "dump.yaml").read_text()

        # A schema that does not exist: the message names the server, not the password.
        config = yaml.safe_load((path / "butler.yaml").read_text())
        config["registry"]["namespace"] = namespace + "_missing"
        (path / "butler.yaml").write_text(yaml.safe_dump(config))
        r = butler("query-collections", path, expect=EXIT["NotFound"])
        assert ROLE_PASSWORD not in r.output and SECRET not in r.output and "***" in r.stderr, r.stderr
    finally:
        psql(postgres_url, f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')


@pytest.mark.parametrize("form", ["userinfo", "query-password", "query-host-user"])
def test_wrong_password_in_url_is_not_printed_postgres(butler, postgres_url, tmp_path, form):
    parts = urllib.parse.urlsplit(postgres_url)
    url = secret_forms(parts.hostname, parts.port, f"wrong-{SECRET}")[form]
    r = butler("create", "--seed-config", write_seed(tmp_path, url, "e2e_never_created"), tmp_path / "repo",
               expect=EXIT["DatabaseError"])
    assert "password authentication failed" in r.stderr and "majordome" in r.stderr, r.stderr
    assert SECRET not in r.output, r.output


# ---------------------------------------------------------------------------- db-auth files

def auth_env(path) -> dict:
    return {"LSST_DB_AUTH": str(path)}


def private(path, text: str):
    path.write_text(text)
    path.chmod(0o600)
    return path


BROKEN_AUTH = {
    # name: (file content, words the message must contain)
    "password-list": ("- url: postgresql://127.0.0.1/db\n  username: alice\n  password: [" + SECRET + ", b]\n",
                      ["entry 1", "password", "a list"]),
    "password-map": ("- url: postgresql://127.0.0.1/db\n  username: alice\n  password: {" + SECRET + ": b}\n",
                     ["entry 1", "password", "a mapping"]),
    "password-empty": ("- url: postgresql://127.0.0.1/db\n  username: alice\n  password:\n", ["password", "empty"]),
    "url-list": ("- url: [postgresql://127.0.0.1/db]\n  password: " + SECRET + "\n", ["entry 1", "url", "a list"]),
    "username-map": ("- url: postgresql://127.0.0.1/db\n  username: {a: b}\n  password: " + SECRET + "\n",
                     ["username", "a mapping"]),
    "no-url": ("- url: postgresql://other/db\n  password: x\n- username: alice\n  password: " + SECRET + "\n",
               ["entry 2", "line 3", "no url"]),
    "entry-not-a-map": ("- postgresql://127.0.0.1/db " + SECRET + "\n", ["entry 1", "not a mapping"]),
    "not-a-list": ("url: postgresql://127.0.0.1/db\npassword: " + SECRET + "\n", ["a mapping", "list"]),
    "not-yaml": ("- url: [unclosed\n  password: " + SECRET + "\n", ["cannot read"]),
}


@pytest.mark.parametrize("case", list(BROKEN_AUTH))
def test_broken_db_auth_file_is_a_clear_error(butler, tmp_path, closed_port, case):
    content, words = BROKEN_AUTH[case]
    auth = private(tmp_path / "db-auth.yaml", content)
    seed = write_seed(tmp_path, f"postgresql://127.0.0.1:{closed_port}/db")
    path = tmp_path / "repo"
    r = butler("create", "--seed-config", seed, path, env=auth_env(auth), expect=EXIT["InvalidConfig"])
    assert str(auth) in r.stderr and "Internal error" not in r.output, r.stderr
    for word in words:
        assert word in r.stderr, f"{word!r} not in: {r.stderr}"
    assert SECRET not in r.output, r.output
    assert not path.exists()


@pytest.mark.parametrize("mode", [0o700, 0o755])
def test_db_auth_path_is_a_directory(butler, tmp_path, closed_port, mode):
    auth = tmp_path / "lsst"
    auth.mkdir()
    auth.chmod(mode)
    (auth / "db-auth.yaml").write_text(f"- url: postgresql://127.0.0.1/db\n  password: {SECRET}\n")
    seed = write_seed(tmp_path, f"postgresql://127.0.0.1:{closed_port}/db")
    r = butler("create", "--seed-config", seed, tmp_path / "repo", env=auth_env(auth), expect=EXIT["InvalidConfig"])
    assert str(auth) in r.stderr and "directory" in r.stderr and "LSST_DB_AUTH" in r.stderr, r.stderr
    assert "chmod" not in r.stderr and "Internal error" not in r.output


def test_unreadable_db_auth_file(butler, tmp_path_factory, closed_port):
    """As root (CI) the command runs as `nobody`: root reads files whatever their mode."""
    work = tmp_path_factory.mktemp("unreadable")
    work.chmod(0o777)
    auth = private(work / "db-auth.yaml", f"- url: postgresql://127.0.0.1/db\n  password: {SECRET}\n")
    auth.chmod(0o000)
    seed = write_seed(work, f"postgresql://127.0.0.1:{closed_port}/db")
    seed.chmod(0o644)
    args = ["create", "--seed-config", seed, work / "repo"]
    if os.geteuid() == 0:
        os.chown(auth, 65534, 65534)
        for parent in list(work.parents)[:-1]:
            parent.chmod(parent.stat().st_mode | 0o711)  # let nobody reach the files
        # The binary itself (the `butler` link lives in a private temporary folder).
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(butler.exe.resolve()),
                            "butler", *map(str, args)], capture_output=True, text=True,
                           env={**butler.env, **auth_env(auth)}, timeout=60)
        r_code, stderr = p.returncode, p.stderr
    else:
        r = butler(*args, env=auth_env(auth), expect=None)
        r_code, stderr = r.returncode, r.stderr
    assert r_code == EXIT["PermissionDenied"], stderr
    assert str(auth) in stderr and "chmod 600" in stderr, stderr
    assert SECRET not in stderr


def test_db_auth_password_never_printed_postgres(butler, postgres_url, tmp_path, base_env):
    """A good file works; with a password in the URL too, the URL's wins (and neither is printed)."""
    parts = urllib.parse.urlsplit(postgres_url)
    server = f"postgresql://{parts.hostname}:{parts.port}/postgres"
    namespace = f"e2e_secret_{uuid.uuid4().hex[:12]}"
    auth = private(tmp_path / "db-auth.yaml",
                   yaml.safe_dump([{"url": "postgresql://elsewhere/db", "username": "x", "password": "y"},
                                   {"url": server, "username": "majordome", "password": ROLE_PASSWORD}]))
    path = tmp_path / "repo"
    try:
        r = butler("create", "--seed-config", write_seed(tmp_path, server, namespace), path, env=auth_env(auth))
        owner = psql(postgres_url, f"SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = '{namespace}'")
        assert owner.strip() == "majordome"
        r = butler("query-collections", path, env=auth_env(auth))
        r = butler("config-dump", path, env=auth_env(auth))
        assert ROLE_PASSWORD not in r.output

        # A wrong password given as a query parameter wins over the file's right one.
        config = yaml.safe_load((path / "butler.yaml").read_text())
        config["registry"]["db"] = f"postgresql://majordome@{parts.hostname}:{parts.port}/postgres?password=wrong-{SECRET}"
        (path / "butler.yaml").write_text(yaml.safe_dump(config))
        r = butler("query-collections", path, env=auth_env(auth), expect=EXIT["DatabaseError"])
        assert "password authentication failed" in r.stderr, r.stderr
        assert SECRET not in r.output and ROLE_PASSWORD not in r.output
    finally:
        psql(postgres_url, f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')


@pytest.mark.parametrize("url", ["postgresql://alice:{S}@127.0.0.1:{port}/db?bogus=1",
                                 "postgresql://alice:{S}@127.0.0.1:{port}/db%zz"])
def test_malformed_url_is_a_configuration_error(butler, tmp_path, closed_port, url):
    r = butler("create", "--seed-config", write_seed(tmp_path, url.format(S=SECRET, port=closed_port)),
               tmp_path / "repo", expect=EXIT["InvalidConfig"])
    assert "not a valid PostgreSQL URL" in r.stderr and SECRET not in r.output, r.output
