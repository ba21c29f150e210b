"""A 10-task baseline playbook with ansible-core, pyinfra and sopctl against the same lab hosts.

Run as root from the repository: `python3 benchmarks/bench_playbook.py [--sizes 5,30] [--repeats 3]`.
For each size: every tool on hosts reset to fresh (/srv/bench removed) and again on hosts where it was
already applied. 20 parallel hosts for every tool; ansible with pipelining; pyinfra with `-y`.

Two sopctl rows: `sopctl` opens its connections in every run (the default); `sopctl --persist 60` keeps
them in the connection keeper between runs, as ansible-core does by default with OpenSSH's
ControlPersist=60s. Its "fresh" run follows the reset run (which keeps nothing), so it pays for its
connections; its "already applied" run reuses the ones the fresh run kept.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _lab import have, lab_inventory, machine, ratio_table

from sopctl.lab import core

HERE = Path(__file__).parent


def pyinfra_inventory(count: int, folder: Path) -> Path:
    key, known = core.STATE_DIR / "id_ed25519", core.STATE_DIR / "known_hosts"
    data = {"ssh_user": "root", "ssh_key": str(key), "ssh_known_hosts_file": str(known),
            "ssh_strict_host_key_checking": "yes"}
    hosts = [(f"127.0.1.{k}", data) for k in range(1, count + 1)]
    path = folder / f"pyinfra_inventory_{count}.py"
    path.write_text(f"lab = ({hosts!r}, {{}})\n")
    return path


def reset(inventory: Path) -> None:
    subprocess.run([sys.executable, "-m", "sopctl", "play", str(HERE / "reset.yml"), "-i", str(inventory)],
                   check=True, capture_output=True)


def tools(inventory: Path, pyinfra_inv: Path) -> dict[str, list[str]]:
    sopctl = [sys.executable, "-m", "sopctl", "play", str(HERE / "baseline10.yml"), "-i", str(inventory),
              "--forks", "20"]
    commands = {"sopctl": sopctl, "sopctl --persist 60": [*sopctl, "--persist", "60"]}
    if have("pyinfra"):
        commands["pyinfra"] = ["pyinfra", "-y", "--parallel", "20", str(pyinfra_inv),
                               str(HERE / "baseline10_pyinfra.py")]
    if have("ansible-playbook"):
        commands["ansible-core"] = ["ansible-playbook", "-i", str(inventory), "-f", "20",
                                    str(HERE / "baseline10.yml")]
    return commands


ENV = {"ANSIBLE_PIPELINING": "True", "ANSIBLE_HOST_KEY_CHECKING": "True"}


def run(argv: list[str]) -> float | None:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **ENV})
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        print(f"  ! {argv[0]} exited {done.returncode}: {(done.stderr or done.stdout)[-400:]}", file=sys.stderr)
        return None
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5,30")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder, core.exclusive():
        os.environ["SOPCTL_RUNTIME_DIR"] = str(Path(folder) / "keeper")  # this run's own keeper
        for count in (int(s) for s in args.sizes.split(",")):
            inventory = lab_inventory(count, Path(folder))
            commands = tools(inventory, pyinfra_inventory(count, Path(folder)))
            fresh = {name: [] for name in commands}
            applied = {name: [] for name in commands}
            for _ in range(args.repeats):
                for name, argv in commands.items():
                    reset(inventory)
                    fresh[name].append(run(argv))
                    applied[name].append(run(argv))
            for label, times in (("fresh", fresh), ("already applied", applied)):
                rows.append({"case": f"{count} hosts, {label}", "times": {
                    n: statistics.median(t) if None not in t else None for n, t in times.items()}})
        subprocess.run([sys.executable, "-m", "sopctl", "keeper.stop"], capture_output=True)
    print(f"machine: {machine()}; median of {args.repeats} runs\n")
    print(ratio_table(rows, "sopctl"))
    print()
    print(speedups(rows))


def speedups(rows: list[dict]) -> str:
    """How many times faster each sopctl row is than each peer (the issue's targets are stated so)."""
    lines = []
    for row in rows:
        times = row["times"]
        parts = [f"{peer} / {ours} = {times[peer] / times[ours]:.1f}x"
                 for ours in ("sopctl", "sopctl --persist 60") for peer in ("pyinfra", "ansible-core")
                 if times.get(ours) and times.get(peer)]
        lines.append(f"{row['case']}: " + ", ".join(parts))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
