"""The whole monthly cycle on 5 lab hosts, timed step by step (issue target: under a minute).

Run as root from the repository: `python3 benchmarks/bench_maintain.py [--hosts 5]`. It makes a throwaway
project (inventory with backup paths, backup keys, store) so the real project's data is not touched, and
runs `maintain --month` there as a fresh process, twice: a first run, and a forced re-run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml
from _lab import machine

from sopctl.lab import core
from sopctl.lab.inventory import write_inventory

REPO = Path(__file__).resolve().parents[1]


def project(folder: Path, hosts) -> Path:
    (folder / "tasks.py").write_text("from sopctl.cli import ns  # noqa: F401\n")
    inventory = write_inventory(folder / "inventory" / "lab.yml", hosts, REPO / "inventory" / "group_vars" / "all.yml")
    data = yaml.safe_load(inventory.read_text())
    data["all"]["vars"]["backup_paths"] = ["/etc"]
    inventory.write_text(yaml.safe_dump(data))
    (folder / "invoke.yaml").write_text(textwrap.dedent(f"""\
        sopctl:
          inventory: inventory/lab.yml
          store: var/sopctl.db
          backup: {{identity: {folder / 'offline' / 'identity'}}}
        """))
    return folder


def run(folder: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "SOPCTL_BACKUP_PASSPHRASE": "bench", "CI": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=folder, env=env, text=True,
                          capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--month", default=time.strftime("%Y-%m"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, core.exclusive():
        hosts = core.up(args.hosts)
        root = project(Path(folder), hosts)
        run(root, "backup.keygen")
        rows = []
        for label, extra in (("first run", []), ("forced re-run", ["--force"])):
            seconds, out = run(root, "maintain", "--month", args.month, *extra)
            steps = re.findall(r"\] (\w+): .*\((\d+\.\d)s\)", out)
            rows.append((label, seconds, steps))
    print(f"machine: {machine()}; {args.hosts} lab hosts\n")
    print("| run | seconds | steps (seconds) |\n|---|---|---|")
    for label, seconds, steps in rows:
        print(f"| {label} | {seconds:.1f} | {', '.join(f'{n} {s}' for n, s in steps)} |")


if __name__ == "__main__":
    main()
