"""Fuzz-style: generated hostile names and paths thrown at create, ingest-files, import,
remove-runs, prune-datasets and cleanup. After every command, whatever it answered:
butler.yaml and the registry exist and work, every dataset's file exists, and nothing
outside the repository and the folder the command was given changed (a move may take only
the files it was told to, from that folder, and only when it succeeded).

The generator is seeded (MAJORDOME_FUZZ_SEED, MAJORDOME_FUZZ_ROUNDS to explore further);
a failure prints the seed, the round and the command to replay it."""

import os
import pathlib
import random
import signal
import sqlite3
import subprocess
import time

import pytest
import yaml

from conftest import EXIT, dataset_uris, digest_tree, uri_path

SEED = int(os.environ.get("MAJORDOME_FUZZ_SEED", "20261207"))
ROUNDS = int(os.environ.get("MAJORDOME_FUZZ_ROUNDS", "40"))
HTM7 = 131072

NAME_PARTS = ["..", ".", "", "x", "victim", "gen3.sqlite3", "butler.yaml", ".majordome", "locks", "a b", "é",
              "\n", "\t", "\r", "\x01", "\x7f", "\u0085", "*", "~", "$HOME", "-rf", "'", '"', ";", "%2e%2e", "\\",
              "file:", "//"]
PATH_PARTS = ["..", ".", "", "in", "f0.dat", "f1.dat", "gen3.sqlite3", "butler.yaml", ".majordome", "locks",
              "outside.dat", "sub", "link-out.dat", "link-config.yaml", "\n", "a b", "é"]
TRANSFERS = ["auto", "copy", "move", "link", "hardlink", "symlink", "relsymlink", "direct", "split"]


# Names and paths aimed at what a repository must never lose (found by a hostile test).
TARGET_NAMES = ["x\ngen3.sqlite3\ny", "x\nbutler.yaml", "x/../victim", ".", "..", "victim/..", "/abs/run", "a//b",
                "gen3.sqlite3", "butler.yaml", ".majordome", ".majordome/locks", "victim", "refcats"]


def hostile_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(TARGET_NAMES)
    return "/".join(rng.choice(NAME_PARTS) for _ in range(rng.randint(1, 4)))


def hostile_path(rng: random.Random, repo: pathlib.Path, folder: pathlib.Path) -> str:
    kind = rng.random()
    if kind < 0.35:
        stored = sorted(p for p in repo.rglob("*.dat") if ".majordome" not in p.parts)
        targets = [repo / "gen3.sqlite3", repo / "butler.yaml", repo / "." / "butler.yaml",
                   repo / "refcats" / ".." / "gen3.sqlite3", "file://" + str(repo / "gen3.sqlite3"),
                   repo / ".majordome" / "locks", "link-config.yaml", "link-out.dat", "../outside/precious.dat",
                   "sub/../../outside/precious.dat", folder.parent / "outside" / "precious.dat",
                   "gen3.sqlite3", "butler.yaml"] + stored[:5]
        return str(rng.choice(targets))
    rel = "/".join(rng.choice(PATH_PARTS) for _ in range(rng.randint(1, 4)))
    if kind < 0.6:
        return rel
    if kind < 0.7:
        return str(repo / rel)
    if kind < 0.75:
        return "file://" + str(repo / rel)
    if kind < 0.8:
        return str(folder / rel)
    return rng.choice(["f0.dat", "f1.dat", "sub/f2.dat"])  # sometimes a plain valid one


def csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class World:
    """The repository, the folder commands are given, and everything else around them."""

    def __init__(self, butler, repo, tmp_path):
        self.butler, self.repo, self.tmp = butler, repo, tmp_path
        self.outside = tmp_path / "outside"
        self.outside.mkdir()
        (self.outside / "precious.dat").write_text("must survive")
        self.folder = tmp_path / "folder"
        self.refill()
        # Many small files for the writers that get killed (outside the folder checked for losses).
        self.bulk = tmp_path / "bulk"
        self.bulk.mkdir()
        rows = []
        for i in range(600):
            (self.bulk / f"b{i}.dat").write_text(str(i))
            rows.append(f"b{i}.dat,{HTM7 + 50000 + i}")
        self.bulk_table = tmp_path / "bulk.csv"
        self.bulk_table.write_text("path,htm7\n" + "\n".join(rows) + "\n")
        butler("register-dataset-type", repo, "refcat", "SimpleCatalog", "htm7")

    def refill(self):
        f = self.folder
        (f / "sub").mkdir(parents=True, exist_ok=True)
        for name in ["f0.dat", "f1.dat", "sub/f2.dat"]:
            if not (f / name).exists():
                (f / name).write_text(name)
        (f / "outside.dat").unlink(missing_ok=True)
        for link, target in [("link-out.dat", self.outside / "precious.dat"),
                             ("link-config.yaml", self.repo.path / "butler.yaml")]:
            if not (f / link).is_symlink():
                (f / link).symlink_to(target)

    def check(self, context: str):
        repo = self.repo
        assert (repo.path / "butler.yaml").is_file(), f"butler.yaml is gone after {context}"
        if repo.backend == "sqlite":
            db = repo.path / "gen3.sqlite3"
            assert db.is_file(), f"the registry is gone after {context}"
            con = sqlite3.connect(str(db))
            try:
                assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", context
            finally:
                con.close()
        for dataset_id, uri in dataset_uris(self.butler, repo).items():
            assert uri and uri_path(uri).exists(), f"dataset {dataset_id} lost its file {uri} after {context}"
        assert (self.outside / "precious.dat").read_text() == "must survive", context
        assert os.path.realpath(self.folder / "link-config.yaml") == str((repo.path / "butler.yaml").resolve())


@pytest.mark.parametrize("seed", [SEED, SEED + 1])
def test_fuzz_names_and_paths(butler, repo, tmp_path, seed):
    rng = random.Random(seed)
    world = World(butler, repo, tmp_path)
    runs: list[str] = []
    for round_ in range(ROUNDS):
        action = rng.choice(["ingest", "ingest", "import", "import", "remove-runs", "remove-runs", "prune",
                             "cleanup", "create", "interrupt"])
        world.refill()
        around = digest_tree(tmp_path, skip=repo.path)
        folder_before = digest_tree(world.folder)
        named: set[str] = set()
        transfer = rng.choice(TRANSFERS)
        run = hostile_name(rng) if rng.random() < 0.7 else f"ok/run{round_}"
        if action == "ingest":
            paths = [hostile_path(rng, repo.path, world.folder) for _ in range(rng.randint(1, 3))]
            named = set(paths)
            table = tmp_path / "t.csv"
            table.write_text("path,htm7\n" + "".join(f"{csv_field(p)},{HTM7 + 100 * round_ + i}\n"
                                                     for i, p in enumerate(paths)))
            args = ["ingest-files", repo, "refcat", run, table, "--prefix", world.folder, "-t", transfer]
        elif action == "import":
            paths = [hostile_path(rng, repo.path, world.folder) for _ in range(rng.randint(1, 3))]
            named = set(paths)
            export = tmp_path / "export.yaml"
            export.write_text(yaml.safe_dump({
                "description": "Butler Data Repository Export", "version": "1.0.2", "universe_version": 7,
                "universe_namespace": "daf_butler",
                "data": [{"type": "run", "name": run},
                         {"type": "dataset", "dataset_type": "refcat", "run": run,
                          "records": [{"dataset_id": [f"00000000-0000-4000-8000-{seed % 1000:03d}{round_:03d}{i:06d}"],
                                       "data_id": [{"htm7": HTM7 + 100 * round_ + i}], "path": p, "formatter": "x"}
                                      for i, p in enumerate(paths)]}]}))
            # The folder may be the repository itself, as in `butler import REPO REPO`.
            base = repo.path if rng.random() < 0.3 else world.folder
            args = ["import", repo, base, "--export-file", export, "-t", transfer]
        elif action == "remove-runs":
            target = rng.choice(runs) if runs and rng.random() < 0.5 else hostile_name(rng)
            args = ["remove-runs", repo, target, "--no-confirm", "--force"]
        elif action == "prune":
            target = rng.choice(runs) if runs and rng.random() < 0.5 else hostile_name(rng)
            args = ["prune-datasets", repo, target, "--purge", target, "--no-confirm"]
        elif action == "create":
            args = ["create", tmp_path / "created" / hostile_name(rng).replace("..", "__")]
        elif action == "interrupt":
            # A writer killed midway leaves its journal for the next command to act on.
            args = ["ingest-files", repo, "refcat", run, world.bulk_table, "--prefix", world.bulk,
                    "-t", rng.choice(["copy", "move", "symlink"])]
        else:
            args = ["cleanup", repo]
        context = f"seed {seed} round {round_}: butler {' '.join(repr(str(a)) for a in args)}"
        if action == "interrupt":
            proc = butler.popen(*args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 0.4))
            proc.send_signal(rng.choice([signal.SIGKILL, signal.SIGINT]))
            proc.wait(timeout=60)
            transfer = "interrupted"
            r = butler("cleanup", repo, expect=None)
        else:
            r = butler(*args, expect=None)
        assert r.returncode in (0, 1) or r.returncode in EXIT.values(), context
        world.check(context)
        # Nothing outside the repository and the given folder changed (created repositories aside).
        after = digest_tree(tmp_path, skip=repo.path)
        changed = {k for k in set(around) | set(after) if around.get(k) != after.get(k)}
        changed = {k for k in changed if not k.startswith(("folder/", "created/", "bulk/", "t.csv", "export.yaml"))}
        assert not changed, f"{context} changed files outside: {sorted(changed)[:5]}"
        # The folder lost files only through a successful move of files named in the command.
        folder_after = digest_tree(world.folder)
        lost = set(folder_before) - set(folder_after)
        if lost:
            assert r.returncode == 0 and transfer == "move" and action in ("ingest", "import"), \
                f"{context} removed {sorted(lost)} from the folder (exit {r.returncode})"
            base = world.folder if action == "ingest" else pathlib.Path(args[2])
            named_files = {os.path.normpath(os.path.join(base, p.removeprefix("file://"))) for p in named}
            for k in lost:
                assert str(world.folder / k) in named_files, f"{context} moved {k}, which it was not given"
        for k in set(folder_before) & set(folder_after):
            assert folder_before[k] == folder_after[k], f"{context} changed {k} in the folder"
        if r.returncode == 0 and action in ("ingest", "import"):
            runs.append(run)
        if action == "interrupt":
            runs.append(run)
            # A killed move may have finished: give the bulk folder its files back.
            for i in range(600):
                if not (world.bulk / f"b{i}.dat").exists():
                    (world.bulk / f"b{i}.dat").write_text(str(i))
