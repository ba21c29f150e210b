"""Time `sopctl ping` over 3 and 20 lab hosts, beside ansible-core's ping and bare parallel OpenSSH.

Run as root from the repository: `python3 benchmarks/bench_ping.py [--repeats 5]`. Every tool runs as a
fresh process (what a user waits for), with 20 parallel connections, against the same lab hosts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _lab import have, lab_inventory, machine, ratio_table, timed

from sopctl.lab import core


def tools(inventory: Path, count: int) -> dict[str, list[str]]:
    key, known = core.STATE_DIR / "id_ed25519", core.STATE_DIR / "known_hosts"
    addresses = " ".join(f"127.0.1.{k}" for k in range(1, count + 1))
    ssh = (f"ssh -i {key} -o BatchMode=yes -o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes "
           f"root@{{}} true")
    commands = {
        "sopctl": [sys.executable, "-m", "sopctl", "ping", "-i", str(inventory), "--forks", "20"],
        "openssh (parallel ssh true)": ["sh", "-c", f"printf '%s\\n' {addresses} | xargs -P20 -I{{}} {ssh}"],
    }
    if have("ansible"):
        commands["ansible-core (-m ping)"] = ["ansible", "all", "-i", str(inventory), "-m", "ping", "-f", "20"]
    return commands


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="3,20")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder, core.exclusive():
        for count in (int(s) for s in args.sizes.split(",")):
            inventory = lab_inventory(count, Path(folder))
            env = {"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_PIPELINING": "True"}
            times = {name: timed(argv, args.repeats, env) for name, argv in tools(inventory, count).items()}
            rows.append({"case": f"ping, {count} hosts", "times": times})
    print(f"machine: {machine()}; median of {args.repeats} runs\n")
    print(ratio_table(rows, "sopctl"))


if __name__ == "__main__":
    main()
