"""Data-driven query tests: every tests/queries/*.test file, run through the real binary on
SQLite and on PostgreSQL (the `backend` fixture of conftest.py). docs/query_tests.md has the
full description; in short, a .test file is a sequence of blocks separated by blank lines:

    # a comment (lines starting with '#' outside an expected block)
    repo base datasets
        A fresh repository, then `butler import --without-datastore` of each named export:
        tests/queries/data/<name>.yaml if it exists, else <name>.yaml from
        ../shared/data/registry/daf_butler/ (the whole file is skipped, with the reason,
        when the shared data are absent). `repo` alone gives an empty repository.

    query query-dimension-records detector --order-by -full_name
    columns id full_name
    ----
    4 Bb
    3 Ba
        Runs `butler <subcommand> REPO <args…>` (shell-style quoting), expects exit status 0
        and compares the cells of the output tables with the expected rows, in order.
        Cells are separated by whitespace, or by '|' when the line contains ' | '.
        An empty expected block means no rows. Options, one per line before '----':
          columns C1 C2 …   compare only these columns (default: all, as printed)
          unordered         compare as multisets
          contains          the expected rows must all be present (others may be too)
          count             the expected block is the number of rows
          output REGEX      stdout+stderr must match REGEX (re.search, multi-line)
          backend NAME      run this block only on sqlite or postgres

    error query-datasets bias --collections * --find-first
    status InvalidQuery
    ----
    Can not use wildcards
        The command must fail: a non-zero exit status that is not an internal error (or the
        `status` given, a number or a name of conftest.EXIT), and stdout+stderr must match
        every expected line, each a regex (re.search, multi-line: '^' anchors a line).

    run associate tag1 --collections imported_g -d bias
        A write that must succeed (exit 0); optional '----' + regexes as for `error`.

    parse (A or B) And NoT (x+3 > y)
    ----
    (A OR B) AND NOT (x + 3 > y)
        `majordome parse-expression EXPRESSION`: the normalised text (empty block: empty
        expression, prints nothing).
    parse-error (1, 2, 3)
    ----
    Syntax error at or near ','
        The parser must refuse the expression (exit status 6); regexes as for `error`.

In `parse`/`parse-error` expressions `\\n` and `\\t` stand for a newline and a tab. In every
directive `{{repeat TEXT N}}` expands to TEXT repeated N times (for huge inputs). Arguments
longer than the kernel's 128 KiB per-argument limit cannot be passed on a command line;
parse-expression reads such expressions from a file (--file).

A block that fails does not stop the file: all failures are reported together with their
line numbers.
"""

from __future__ import annotations

import pathlib
import re
import shlex
import subprocess
from dataclasses import dataclass, field

import pytest

from conftest import EXIT, REGISTRY_DATA, table_rows

QUERIES_DIR = pathlib.Path(__file__).resolve().parents[1] / "queries"
DATA_DIR = QUERIES_DIR / "data"
TEST_FILES = sorted(QUERIES_DIR.glob("*.test"))
KINDS = ("repo", "query", "error", "run", "parse", "parse-error")
ARG_MAX_BYTES = 100_000  # below Linux's MAX_ARG_STRLEN (128 KiB)


@dataclass
class Block:
    kind: str
    text: str       # the directive's argument text, macros expanded
    line: int       # 1-based line of the directive
    options: list[tuple[str, str]] = field(default_factory=list)
    expected: list[str] | None = None  # None: no '----' section

    def option(self, name: str) -> str | None:
        for k, v in self.options:
            if k == name:
                return v
        return None

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.options)


_REPEAT = re.compile(r"\{\{repeat (\S+) (\d+)\}\}")


def expand(text: str) -> str:
    return _REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), text)


def parse_test_file(path: pathlib.Path) -> list[Block]:
    lines = path.read_text().split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            i += 1
            continue
        kind, _, rest = line.partition(" ")
        if kind not in KINDS:
            raise ValueError(f"{path.name}:{i + 1}: unknown directive '{kind}' (one of {', '.join(KINDS)})")
        block = Block(kind, expand(rest), i + 1)
        i += 1
        while i < len(lines) and lines[i].strip() and lines[i] != "----":
            if not lines[i].startswith("#"):
                name, _, value = lines[i].partition(" ")
                block.options.append((name, value))
            i += 1
        if i < len(lines) and lines[i] == "----":
            i += 1
            block.expected = []
            while i < len(lines) and lines[i].strip():
                block.expected.append(expand(lines[i]))
                i += 1
        blocks.append(block)
    return blocks


def cells(line: str) -> list[str]:
    if " | " in line:
        return [c.strip() for c in line.split("|")]
    return line.split()


def status_of(name: str) -> int:
    return int(name) if name.isdigit() else EXIT[name]


def unescape(expression: str) -> str:
    return expression.replace("\\n", "\n").replace("\\t", "\t")


class FileRun:
    def __init__(self, path, butler, backend, request, tmp_path):
        self.path = path
        self.butler = butler
        self.backend = backend
        self.request = request
        self.tmp_path = tmp_path
        self.repo = None
        self.factory = None
        self.failures: list[str] = []

    def fail(self, block: Block, message: str):
        self.failures.append(f"{self.path.name}:{block.line}: {block.kind} {block.text[:200]}\n    {message}")

    # ---- directives
    def do_repo(self, block: Block):
        names = block.text.split()
        files = []
        for name in names:
            own = DATA_DIR / f"{name}.yaml"
            if own.is_file():
                files.append(own)
                continue
            if not REGISTRY_DATA.is_dir():
                pytest.skip(f"{self.path.name} needs {name}.yaml from the shared test data, not found at "
                            f"{REGISTRY_DATA} (the sibling shared/data checkout)")
            shared = REGISTRY_DATA / f"{name}.yaml"
            assert shared.is_file(), f"{self.path.name}:{block.line}: no export named '{name}' in {DATA_DIR} or {REGISTRY_DATA}"
            files.append(shared)
        if self.factory is None:
            self.factory = self.request.getfixturevalue("make_repo")
        self.repo = self.factory()
        for f in files:
            self.butler("import", self.repo, f.parent, "--export-file", f, "--without-datastore")

    def command(self, block: Block) -> list[str]:
        if self.repo is None:
            raise AssertionError(f"{self.path.name}:{block.line}: a '{block.kind}' block before any 'repo' line")
        args = shlex.split(block.text)
        return [args[0], str(self.repo), *args[1:]]

    def invoke(self, block: Block):
        """Runs the block's command; None (and a recorded failure) if it crashed or reported
        an internal error, which no input may cause."""
        try:
            return self.butler(*self.command(block), expect=None)
        except AssertionError as e:
            self.fail(block, str(e))
            return None

    def check_regexes(self, block: Block, output: str):
        for pattern in block.expected or []:
            if not re.search(pattern, output, re.MULTILINE):
                self.fail(block, f"output does not match /{pattern}/:\n{indent(output)}")

    def do_query(self, block: Block):
        r = self.invoke(block)
        if r is None:
            return
        if r.returncode != 0:
            self.fail(block, f"exit status {r.returncode}:\n{indent(r.output)}")
            return
        if (pattern := block.option("output")) is not None and not re.search(pattern, r.output, re.MULTILINE):
            self.fail(block, f"output does not match /{pattern}/:\n{indent(r.output)}")
        if block.expected is None:
            return
        rows = table_rows(r.stdout)
        columns = block.option("columns")
        if columns:
            names = cells(columns)
            missing = [c for c in names if rows and c not in rows[0]]
            if missing:
                self.fail(block, f"no column {missing} in the output:\n{indent(r.stdout)}")
                return
            actual = [[row.get(c, "") for c in names] for row in rows]
        else:
            actual = [list(row.values()) for row in rows]
        if block.has("count"):
            want = int(block.expected[0]) if block.expected else 0
            if len(actual) != want:
                self.fail(block, f"{len(actual)} rows, expected {want}:\n{indent(r.stdout)}")
            return
        expected = [cells(line) for line in block.expected]
        if block.has("contains"):
            missing = [e for e in expected if e not in actual]
            if missing:
                self.fail(block, f"rows missing: {missing}\n{indent(r.stdout)}")
            return
        if block.has("unordered"):
            actual, expected = sorted(actual), sorted(expected)
        if actual != expected:
            self.fail(block, "rows differ\n    expected:\n" + indent("\n".join(" ".join(e) for e in expected)) +
                      "\n    got:\n" + indent("\n".join(" ".join(a) for a in actual)) +
                      ("\n    output:\n" + indent(r.output) if not actual else ""))

    def do_error(self, block: Block):
        r = self.invoke(block)
        if r is None:
            return
        want = block.option("status")
        if want is not None and r.returncode != status_of(want):
            self.fail(block, f"exit status {r.returncode}, expected {want}:\n{indent(r.output)}")
            return
        if r.returncode == 0:
            self.fail(block, f"succeeded, expected an error:\n{indent(r.output)}")
            return
        self.check_regexes(block, r.output)

    def do_run(self, block: Block):
        r = self.invoke(block)
        if r is None:
            return
        want = status_of(block.option("status") or "0")
        if r.returncode != want:
            self.fail(block, f"exit status {r.returncode}, expected {want}:\n{indent(r.output)}")
            return
        self.check_regexes(block, r.output)

    def parse_expression(self, expression: str):
        exe = pathlib.Path(self.butler.exe).resolve()  # the majordome binary behind the butler link
        if len(expression.encode()) > ARG_MAX_BYTES:
            f = self.tmp_path / "expression.txt"
            f.write_text(expression)
            args = ["parse-expression", "--file", str(f)]
        else:
            args = ["parse-expression", "--", expression]
        p = subprocess.run([str(exe), *args], capture_output=True, text=True, env=self.butler.env, timeout=120)
        assert p.returncode >= 0, f"parse-expression killed by signal {-p.returncode}"
        return p

    def do_parse(self, block: Block):
        p = self.parse_expression(unescape(block.text))
        if p.returncode != 0:
            self.fail(block, f"exit status {p.returncode}:\n{indent(p.stderr)}")
            return
        want = "\n".join(block.expected or [])
        if p.stdout.rstrip("\n") != want:
            self.fail(block, f"printed {p.stdout.rstrip()[:300]!r}, expected {want[:300]!r}")

    def do_parse_error(self, block: Block):
        p = self.parse_expression(unescape(block.text))
        if p.returncode != EXIT["InvalidQuery"]:
            self.fail(block, f"exit status {p.returncode}, expected {EXIT['InvalidQuery']}:\n{indent(p.stdout + p.stderr)}")
            return
        self.check_regexes(block, p.stderr)

    def run(self):
        blocks = parse_test_file(self.path)
        for block in blocks:
            only = block.option("backend")
            if only and only != self.backend:
                continue
            getattr(self, "do_" + block.kind.replace("-", "_"))(block)
        if self.failures:
            pytest.fail(f"{len(self.failures)} failing block(s) in {self.path.name} ({self.backend}):\n\n" +
                        "\n\n".join(self.failures), pytrace=False)


def indent(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    if len(lines) > 40:
        lines = lines[:40] + [f"… ({len(lines) - 40} more lines)"]
    return "\n".join("      " + line[:300] for line in lines)


def test_files_exist():
    assert TEST_FILES, f"no .test files in {QUERIES_DIR}"


def test_format_errors_are_reported(tmp_path):
    bad = tmp_path / "bad.test"
    bad.write_text("select 1\n")
    with pytest.raises(ValueError, match="bad.test:1: unknown directive 'select'"):
        parse_test_file(bad)


def uses_repository(path: pathlib.Path) -> bool:
    return any(b.kind == "repo" for b in parse_test_file(path))


# Files with a repository run on both backends; parse-only files (grammar) need no database
# and run once, named like the sqlite half so ctest's `-k "not postgres"` selection takes them.
REPO_FILES = [p for p in TEST_FILES if uses_repository(p)]
PARSE_FILES = [p for p in TEST_FILES if not uses_repository(p)]


@pytest.mark.parametrize("path", REPO_FILES, ids=[p.name for p in REPO_FILES])
def test_query_file(path, butler, backend, request, tmp_path):
    FileRun(path, butler, backend, request, tmp_path).run()


@pytest.mark.parametrize("path", PARSE_FILES, ids=[p.name + "-sqlite" for p in PARSE_FILES])
def test_parse_file(path, butler, request, tmp_path):
    FileRun(path, butler, "sqlite", request, tmp_path).run()
