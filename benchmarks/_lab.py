"""Shared benchmark plumbing: a lab of N hosts, timing of whole commands, a ratio table."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tabulate import tabulate

from sopctl.lab import core
from sopctl.lab.inventory import inventory_text


def lab_inventory(count: int, folder: Path) -> Path:
    hosts = core.up(count)
    path = folder / f"lab-{count}.yml"
    path.write_text(inventory_text(hosts))
    return path


def timed(argv: list[str], repeats: int, env: dict | None = None) -> float | None:
    """Median wall time of a whole command in seconds; None if it failed (printed, not hidden)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            print(f"  ! {' '.join(argv[:3])}… exited {done.returncode}: {done.stderr.strip()[:300]}",
                  file=sys.stderr)
            return None
        times.append(elapsed)
    return statistics.median(times)


def have(program: str) -> bool:
    return shutil.which(program) is not None


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def ratio_table(rows: list[dict], baseline: str) -> str:
    """One row per (case, tool) with seconds and the ratio to sopctl in that case."""
    out = []
    for row in rows:
        base = row["times"].get(baseline)
        for tool, seconds in row["times"].items():
            ratio = f"{seconds / base:.2f}x" if seconds and base else "-"
            out.append([row["case"], tool, f"{seconds:.3f}" if seconds else "failed", ratio])
    return tabulate(out, headers=["case", "tool", "seconds", f"vs {baseline}"], tablefmt="github")
