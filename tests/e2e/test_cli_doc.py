"""docs/cli.md stays true: its table of butler commands lists every command the binary has and
every flag each command's --help shows (and, in its flags column, no flag it lacks: the
differences column may name Rubin's missing ones), and every Rubin butler command
(../shared/spec/cli_compat.md, Table A) is either there or listed as not here yet.

Run by hand:  MAJORDOME_BIN=build/bin/majordome /usr/bin/python3 -m pytest -q tests/e2e/test_cli_doc.py
"""

from __future__ import annotations

import re

from conftest import SOURCE_DIR

DOC = SOURCE_DIR / "docs" / "cli.md"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMON = {"--help", "--options-file"}  # every command has them (docs/cli.md says so once)

# Table A of cli_compat.md: daf_butler, obs_base, pipe_base and pipe_tasks butler subcommands.
RUBIN_COMMANDS = """associate certify-calibrations collection-chain config-dump config-validate create export-calibs
import ingest-files ingest-zip prune-datasets query-collections query-data-ids query-dataset-types query-datasets
query-dimension-records register-dataset-type retrieve-artifacts remove-collections remove-runs remove-dataset-type
transfer-datasets define-visits ingest-raws update-dimension-regions update-exposures-from-raws
write-curated-calibrations register-instrument transfer-from-graph zip-from-graph retrieve-artifacts-for-quanta
aggregate-graph ingest-graph provenance-report register-skymap make-discrete-skymap register-dcr-subfilters""".split()


def doc_rows() -> dict[str, str]:
    """command → the text of its row in the `butler` table of docs/cli.md."""
    text = DOC.read_text()
    section = text.split("## `butler` subcommands", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| `([a-z][a-z-]*)[^`]*` \|", line)
        if m:
            rows[m.group(1)] = line
    return rows


def not_here(text: str) -> set[str]:
    section = text.split("### Rubin commands not here yet", 1)[1].split("\n\n", 2)[1]
    return set(re.findall(r"`([a-z][a-z-]+)`", section)) & set(RUBIN_COMMANDS)


def commands(butler) -> list[str]:
    listed = butler("--help").stdout.split("Subcommands:", 1)[1]
    return re.findall(r"^  ([a-z][a-z-]+)\s", listed, re.M)


def cells(row: str) -> list[str]:
    r"""The cells of a table row ('\|' inside a cell is not a separator)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_every_command_has_a_row_and_every_row_a_command(butler):
    rows = doc_rows()
    assert set(commands(butler)) == set(rows)


def test_each_row_lists_exactly_the_flags_of_its_command(butler):
    problems = []
    for command, row in doc_rows().items():
        helped = set(FLAG.findall(butler(command, "--help").stdout)) - COMMON
        # The second column lists the flags; the third may name Rubin flags that are missing.
        documented = set(FLAG.findall(cells(row)[1])) - COMMON
        helped_in_row = set(FLAG.findall(row))
        for flag in sorted(helped - helped_in_row):
            problems.append(f"{command}: {flag} is in --help, not in docs/cli.md")
        for flag in sorted(documented - helped):
            problems.append(f"{command}: docs/cli.md names {flag}, which --help does not show")
    assert not problems, "\n".join(problems)


def test_every_rubin_command_is_here_or_said_not_to_be(butler):
    text = DOC.read_text()
    here, missing = set(doc_rows()), not_here(text)
    assert not (here & missing), f"listed as both present and missing: {here & missing}"
    assert set(RUBIN_COMMANDS) <= here | missing, sorted(set(RUBIN_COMMANDS) - here - missing)
