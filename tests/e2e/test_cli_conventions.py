"""Rubin's command-line conventions where scripts and users notice them (../shared/spec/cli_compat.md,
"Cross-cutting parser differences"): mistyped commands and options named with the nearest valid
one, one value per occurrence of a repeatable option, -@/--options-file, enumerations in any case,
and the global logging and progress options.

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e/test_cli_conventions.py
"""

from __future__ import annotations

import json
import pathlib

import pytest

from conftest import EXIT, table_rows

HTM7_BASE = 131072


def shard_table(folder: pathlib.Path, n: int, first: int = 0, file_column: str = "path") -> pathlib.Path:
    """`n` small files in `folder` and the ingest-files table naming them with htm7 pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [f"{file_column},htm7"]
    for i in range(first, first + n):
        (folder / f"s{i}.dat").write_text(f"shard {i}\n")
        rows.append(f"s{i}.dat,{HTM7_BASE + i}")
    (folder / "table.csv").write_text("\n".join(rows) + "\n")
    return folder / "table.csv"


@pytest.fixture
def refcats(butler, tmp_path) -> pathlib.Path:
    """A SQLite repository with two refcat shards in run 'refcats'."""
    repo = tmp_path / "repo"
    butler("create", repo)
    table = shard_table(tmp_path / "src", 2)
    butler("register-dataset-type", repo, "refcat", "SimpleCatalog", "htm7")
    butler("ingest-files", repo, "refcat", "refcats", table, "--prefix", table.parent, "-t", "copy")
    return repo


def test_a_mistyped_command_is_named_with_the_nearest_one(butler):
    r = butler("query-dataset", "REPO", expect=EXIT["usage"])
    assert "no command 'query-dataset'" in r.stderr and "did you mean 'query-datasets'?" in r.stderr, r.stderr
    r = butler("colection-chain", "REPO", "a", expect=EXIT["usage"])
    assert "did you mean 'collection-chain'?" in r.stderr
    r = butler("frobnicate", expect=EXIT["usage"])
    assert "no command 'frobnicate'" in r.stderr and "butler --help" in r.stderr
    # The global options before the command are skipped over, with their values.
    r = butler("--log-level", "info", "query-colections", "REPO", expect=EXIT["usage"])
    assert "did you mean 'query-collections'?" in r.stderr


def test_a_mistyped_option_is_named_with_the_nearest_one(butler, refcats):
    r = butler("query-datasets", refcats, "refcat", "--colections", "refcats", expect=EXIT["usage"])
    assert "no option '--colections'" in r.stderr and "did you mean '--collections'?" in r.stderr, r.stderr


def test_a_repeatable_option_takes_one_value_per_occurrence(butler, refcats):
    # click reads `--collections refcats refcat` as one collection, then the GLOB.
    rows = table_rows(butler("query-datasets", refcats, "--collections", "refcats", "refcat").stdout)
    assert len(rows) == 2 and {r["type"] for r in rows} == {"refcat"}
    # Several collections: the option again, or commas.
    butler("collection-chain", refcats, "chain", "refcats")
    both = butler("query-datasets", refcats, "refcat", "--collections", "refcats", "--collections", "chain")
    assert len(table_rows(both.stdout)) == 2
    commas = butler("query-datasets", refcats, "refcat", "--collections", "refcats,chain")
    assert len(table_rows(commas.stdout)) == 2


def test_enumerations_in_any_case(butler, refcats, tmp_path):
    src = tmp_path / "more"
    src.mkdir()
    (src / "x.dat").write_text("x\n")
    (src / "t.csv").write_text(f"path,htm7\nx.dat,{HTM7_BASE + 9}\n")
    butler("ingest-files", refcats, "refcat", "upper", src / "t.csv", "--prefix", src, "-t", "DIRECT",
           "--id-generation-mode", "dataid_type_run")
    rows = table_rows(butler("query-datasets", refcats, "refcat", "--collections", "upper", "--show-uri").stdout)
    assert len(rows) == 1 and rows[0]["URI"] == (src / "x.dat").as_uri()


def test_options_file(butler, refcats, tmp_path):
    options = tmp_path / "options.yaml"
    options.write_text("query-datasets:\n  collections: refcats\n  limit: 1\n  find_first: false\n"
                       "query-collections:\n  collection-type: CHAINED\n")
    r = butler("query-datasets", "-@", options, refcats, "refcat")
    assert len(table_rows(r.stdout)) == 1  # limit 1, from the file
    # The command line wins over the file.
    r = butler("query-datasets", "--options-file", options, refcats, "refcat", "--limit", "0")
    assert len(table_rows(r.stdout)) == 2
    # Only the command's own section applies: query-collections takes its type from the file.
    butler("collection-chain", refcats, "chain", "refcats")
    r = butler("query-collections", "-@", options, refcats)
    top_level = [line.split()[0] for line in r.stdout.splitlines()[2:] if line and not line.startswith(" ")]
    assert top_level == ["chain"], r.stdout  # its child is shown under it, not as a collection of its own
    # An option the command does not have is named, with the nearest one; nothing runs.
    bad = tmp_path / "bad.yaml"
    bad.write_text("query-datasets:\n  colections: refcats\n")
    r = butler("query-datasets", "-@", bad, refcats, "refcat", expect=EXIT["InvalidArgument"])
    assert "has no option '--colections'" in r.stderr and "did you mean '--collections'?" in r.stderr
    bad.write_text("query-datasets:\n  collections: [{a: b}]\n")
    r = butler("query-datasets", "-@", bad, refcats, "refcat", expect=EXIT["InvalidArgument"])
    assert "--collections" in r.stderr
    r = butler("query-datasets", "-@", tmp_path / "nowhere.yaml", refcats, "refcat", expect=EXIT["NotFound"])
    assert "nowhere.yaml" in r.stderr
    # Every command that runs something takes it.
    for command in ("query-datasets", "ingest-raws", "migrate-from-rubin", "collection-chain", "create"):
        assert "--options-file" in butler(command, "--help").stdout, command


def test_global_logging_options(butler, tmp_path):
    # A command that logs a warning: importing an old-universe export made by hand.
    export = tmp_path / "export.yaml"
    export.write_text("description: old\nversion: 1.0.0\nuniverse_version: 1\nuniverse_namespace: daf_butler\ndata:\n"
                      "- type: dimension\n  element: instrument\n  records:\n  - name: Cam\n    visit_max: 10\n"
                      "    exposure_max: 10\n    detector_max: 4\n    class_name: my.Cam\n"
                      "- type: dimension\n  element: physical_filter\n  records:\n  - instrument: Cam\n"
                      "    name: r_1\n    band: r\n"
                      "- type: dimension\n  element: exposure\n  records:\n  - instrument: Cam\n    id: 1\n"
                      "    obs_id: e1\n    physical_filter: r_1\n    group_name: g1\n    group_id: 1\n"
                      "    datetime_begin: !butler_time/tai/iso "
                      "'2020-01-01 00:00:00.000000000'\n    datetime_end: !butler_time/tai/iso "
                      "'2020-01-01 00:00:30.000000000'\n")
    for i, args in enumerate([["--log-level", "VERBOSE"], ["--log-level", "lsst.daf.butler=DEBUG"],
                              ["--long-log"], ["--log-level", "ERROR"], ["--log-level", "other.package=DEBUG"]]):
        repo = tmp_path / f"r{i}"
        butler("create", repo)
        r = butler(*args, "import", repo, tmp_path, "--export-file", export)
        warned = "constructing day_obs records" in r.stderr
        assert warned == (args != ["--log-level", "ERROR"]), (args, r.stderr)
        if args == ["--long-log"]:
            line = next(l for l in r.stderr.splitlines() if "day_obs" in l)
            assert line.startswith("W 20") and " majordome: " in line, line
    # --log-file (JSON lines with the labels), --no-log-tty.
    repo = tmp_path / "files"
    butler("create", repo)
    log = tmp_path / "log.json"
    r = butler("--log-file", log, "--log-label", "run=7", "--log-label", "who=me", "--no-log-tty", "import", repo,
               tmp_path, "--export-file", export)
    assert "day_obs" not in r.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert any("day_obs" in rec["message"] and rec["levelname"] == "WARNING" and rec["run"] == "7"
               and rec["who"] == "me" for rec in records), records
    # Bad values are named.
    r = butler("--log-level", "LOUD", "query-collections", repo, expect=EXIT["InvalidArgument"])
    assert "LOUD" in r.stderr
    r = butler("--log-label", "nokey", "query-collections", repo, expect=EXIT["InvalidArgument"])
    assert "nokey" in r.stderr
    (tmp_path / "a_folder.log").mkdir()
    r = butler("--log-file", tmp_path / "a_folder.log", "query-collections", repo, expect=EXIT["IoError"])
    assert "a_folder.log" in r.stderr


def test_global_progress_options(butler, tmp_path):
    repo = tmp_path / "repo"
    butler("create", repo)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.dat").write_text("a\n")
    (src / "t.csv").write_text(f"path,htm7\na.dat,{HTM7_BASE}\n")
    butler("register-dataset-type", repo, "refcat", "SimpleCatalog", "htm7")
    # Standard error is a pipe here: a bar only when asked, globally or by the command (which wins).
    bar = butler("--progress", "ingest-files", repo, "refcat", "a", src / "t.csv", "--prefix", src)
    assert "[" in bar.stderr and "/s" in bar.stderr, bar.stderr
    quiet = butler("--progress", "ingest-files", "--no-progress", repo, "refcat", "b", src / "t.csv", "--prefix", src)
    assert "/s" not in quiet.stderr, quiet.stderr
    none = butler("--no-progress", "ingest-files", repo, "refcat", "c", src / "t.csv", "--prefix", src)
    assert "/s" not in none.stderr


def test_procedure_steps_as_rubin_writes_them(butler, refcats, tmp_path):
    """Table D of cli_compat.md: the commands of the user procedures, spelled as Rubin spells them."""
    # ingest-files: the file column is the first one, whatever its name.
    src = tmp_path / "first"
    src.mkdir()
    (src / "f.dat").write_text("f\n")
    (src / "t.csv").write_text(f"myfile,htm7\nf.dat,{HTM7_BASE + 5}\n")
    butler("ingest-files", refcats, "refcat", "firstcol", src / "t.csv", "--prefix", src, "--no-track-file-attrs")
    assert len(table_rows(butler("query-datasets", refcats, "refcat", "--collections", "firstcol").stdout)) == 1
    # config-dump --subset with Rubin's leading delimiter, and -s.
    assert butler("config-dump", refcats, "--subset", ".datastore.root").stdout.strip() == str(refcats)
    assert butler("config-dump", refcats, "-s", "/datastore/root").stdout.strip() == str(refcats)
    # The negated forms scripts spell out.
    butler("register-dataset-type", refcats, "other", "SimpleCatalog", "htm7", "--no-is-calibration")
    assert "other" in butler("query-dataset-types", refcats).stdout
    butler("associate", refcats, "tagged", "--collections", "refcats", "-d", "refcat", "--no-find-first")
    assert len(table_rows(butler("query-datasets", refcats, "refcat", "--collections", "tagged").stdout)) == 2
    butler("collection-chain", refcats, "flatchain", "refcats", "--no-flatten")
    out = tmp_path / "out"
    butler("retrieve-artifacts", refcats, out, "--collections", "refcats", "--no-clobber")
    r = butler("retrieve-artifacts", refcats, out, "--collections", "refcats", "--no-clobber", expect=EXIT["Conflict"])
    assert "exists" in r.stderr
    for command, flag in [("import", "--track-file-attrs"), ("ingest-raws", "--no-track-file-attrs"),
                          ("ingest-raws", "--search-indexes"), ("define-visits", "--no-update-records"),
                          ("define-visits", "--no-skip-conflicting")]:
        assert flag in butler(command, "--help").stdout, (command, flag)


def test_query_collections_shows_dataset_types_and_associate_limits(butler, refcats):
    r = butler("query-collections", refcats, "-t", "--chains", "no-children")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["Name", "Type", "Dataset", "Types"]
    assert any(line.split() == ["refcats", "RUN", "refcat"] for line in lines), r.stdout
    hidden = butler("query-collections", refcats, "-t", "--exclude-dataset-types", "ref*", "--chains", "no-children")
    assert "refcat\n" not in hidden.stdout and not any(l.split()[-1:] == ["refcat"] for l in hidden.stdout.splitlines())
    r = butler("query-collections", refcats, "--exclude-dataset-types", "x", expect=EXIT["InvalidArgument"])
    assert "--show-dataset-types" in r.stderr
    butler("associate", refcats, "one", "--collections", "refcats", "-d", "refcat", "--limit", "1")
    assert len(table_rows(butler("query-datasets", refcats, "refcat", "--collections", "one").stdout)) == 1


def test_export_calibs_exports_what_an_import_needs(butler, tmp_path):
    """Rubin's export-calibs: the certified datasets, their runs and validity ranges, importable
    into an empty repository; and `export` of a CALIBRATION or TAGGED collection alone brings
    the runs of its datasets too."""
    repo = tmp_path / "repo"
    butler("create", repo)
    table = shard_table(tmp_path / "src", 3)
    butler("register-dataset-type", repo, "calibcat", "SimpleCatalog", "htm7", "--is-calibration")
    butler("ingest-files", repo, "calibcat", "calib/run1", table, "--prefix", table.parent, "-t", "copy")
    # Two of the three are certified, in a CALIBRATION collection reached through a chain.
    butler("associate", repo, "two", "--collections", "calib/run1", "-d", "calibcat", "--limit", "2")
    butler("certify-calibrations", repo, "two", "calib", "calibcat", "--begin-date", "2020-01-01T00:00:00",
           "--end-date", "2030-01-01T00:00:00")
    butler("collection-chain", repo, "defaults", "calib")
    butler("associate", repo, "picked", "--collections", "calib/run1", "-d", "calibcat", "--limit", "1")
    for command, collection, n in [("export-calibs", "defaults", 2), ("export", "picked", 1)]:
        out = tmp_path / f"{command}-out"
        args = [command, repo, out, collection] if command == "export-calibs" else \
            [command, repo, out, "--collections", collection, "-t", "copy"]
        butler(*args)
        fresh = tmp_path / f"{command}-fresh"
        butler("create", fresh)
        butler("import", fresh, out)
        shown = "calib" if command == "export-calibs" else collection
        rows = table_rows(butler("query-datasets", fresh, "calibcat", "--collections", shown).stdout)
        assert len(rows) == n, (command, rows)
        assert all(r["run"] == "calib/run1" for r in rows)
        # The run comes with those datasets only, not all three of its own.
        assert len(table_rows(butler("query-datasets", fresh, "calibcat", "--collections", "calib/run1").stdout)) == n
    r = butler("export-calibs", repo, tmp_path / "bad", "calib/run1", expect=EXIT["InvalidArgument"])
    assert "no CALIBRATION collection" in r.stderr
