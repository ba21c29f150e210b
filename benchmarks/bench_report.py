"""Time the compliance report over a year of synthetic audits: evaluate_month and every output format.

Run from the repository: `python3 benchmarks/bench_report.py [--months 12 --hosts 50 --checks 60
--audits 4 --repeats 3]`. It builds a store in a temporary folder through the store's API: each month
`--audits` complete audit runs of checks x hosts results (the catalog's 36 checks plus synthetic ones
filed under SOP items, ~5% failing, some errors, n/a and waivers), attestations, generated documents
and workflow records; then reports the last month. Prints seconds (median of the repeats) per step.
Target: the full report (evaluate_month with the month-over-month comparison, plus rendering) under 2 s.
Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from sopctl.compliance.catalog import load_catalog  # noqa: E402
from sopctl.compliance.report import FORMATS, render  # noqa: E402
from sopctl.compliance.status import evaluate_month  # noqa: E402
from sopctl.store import Store  # noqa: E402

TARGET_SECONDS = 2.0
OUTPUT = ("PermitRootLogin no\nPasswordAuthentication no\nMaxAuthTries 4\nX11Forwarding no\n"
          "# sshd -T effective configuration, trimmed to the keys this check reads\n") * 2


def machine() -> str:
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), platform.processor())
    except OSError:
        cpu = platform.processor()
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def months_of(count: int, last: str) -> list[str]:
    year, month = (int(x) for x in last.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def build(store: Store, catalog, months: list[str], hosts: int, checks: int, audits: int, seed: int) -> int:
    """Fill the store; returns the number of results written."""
    rng = random.Random(seed)
    refs = catalog.referenced_checks()
    auto_items = [item.id for item in catalog.items if item.checks]
    check_items = list(refs.items())
    for extra in range(max(0, checks - len(check_items))):
        check_items.append((f"bench-extra-{extra:02d}", (auto_items[extra % len(auto_items)],)))
    check_items = check_items[:checks]
    names = [f"pc-{n:02d}" for n in range(1, hosts)] + ["srv-01"]
    for check, _ in check_items[::7]:
        store.add_waiver(check, "pc-0*", "synthetic waiver", "Kasubag", "2099-12-31",
                         created_at="2000-01-01T00:00:00Z")
    written = 0
    for month in months:
        year, number = (int(x) for x in month.split("-"))
        for audit in range(audits):
            day = 1 + audit * (27 // max(1, audits))
            at = dt.datetime(year, number, day, 2, 0, tzinfo=dt.timezone.utc)
            rows = []
            for check, items in check_items:
                for host in names:
                    roll = rng.random()
                    status = "fail" if roll < 0.05 else "error" if roll < 0.06 else "na" if roll < 0.08 else "pass"
                    rows.append({"check_id": check, "host": host, "status": status, "sop_ids": list(items),
                                 "observed": "yes" if status == "fail" else "no", "expected": "no",
                                 "command": f"sshd -T | grep -i {check}", "output": OUTPUT, "time": at})
            with store.run("audit", who="operator", month=month, inventory="inventory/office.yml") as run:
                run.add_results(rows)
                for item in ("C.1", "C.8", "C.9", "F.5"):
                    run.add_evidence(item, "generated", f"{item} {month}", data={"pages": 3}, time=at)
            written += len(rows)
        for item in catalog.items:
            if item.evidence == "attest" or item.attest:
                store.add_attestation(item.id, "operator", "Rahmat", file_name=f"{item.id}-{month}.pdf",
                                      file_sha256="ab" * 32, file_size=40_000,
                                      attested_at=dt.datetime(year, number, 10, 3, tzinfo=dt.timezone.utc))
            if item.workflow:
                for record in range(3):
                    store.add_evidence(item.id, item.workflow, f"record {month}/{record}",
                                       data={"record": f"{month}/{record}", "on_time": rng.random() > 0.1},
                                       time=dt.datetime(year, number, 5 + record, 1, tzinfo=dt.timezone.utc))
    return written


def timed(fn, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--checks", type=int, default=60)
    parser.add_argument("--audits", type=int, default=4, help="complete audit runs per month")
    parser.add_argument("--last-month", default="2026-11")
    parser.add_argument("--lang", default="id")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=32)
    args = parser.parse_args()

    catalog = load_catalog(REPO / "checks" / "sop.yml")
    months = months_of(args.months, args.last_month)
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "sopctl.db")
        start = time.perf_counter()
        results = build(store, catalog, months, args.hosts, args.checks, args.audits, args.seed)
        built = time.perf_counter() - start
        size = (Path(folder) / "sopctl.db").stat().st_size
        last = months[-1]
        year, number = (int(x) for x in last.split("-"))
        today = dt.date(year, number, 28)
        evaluate, report = timed(lambda: evaluate_month(catalog, store, last, today), args.repeats)
        rows = [["evaluate_month (with previous month)", f"{evaluate:.3f}", ""]]
        renders = {}
        for fmt in FORMATS:
            seconds, text = timed(lambda fmt=fmt: render(report, fmt, args.lang), args.repeats)
            renders[fmt] = seconds
            rows.append([f"render {fmt}", f"{seconds:.3f}", f"{len(text.encode('utf-8')) / 1e6:.1f} MB"])
        rows.append(["evaluate + all six formats", f"{evaluate + sum(renders.values()):.3f}", ""])
        slowest = max(renders, key=renders.get)
        full = evaluate + renders[slowest]
        rows.append([f"full report (evaluate + {slowest})", f"{full:.3f}",
                     "within target" if full < TARGET_SECONDS else f"OVER the {TARGET_SECONDS:g} s target"])
        store.close()
    lines = sum(len(entry.evidence) for entry in report.items)
    print(f"machine: {machine()}")
    print(f"store: {args.months} months x {args.audits} audits x {args.hosts} hosts x {args.checks} checks = "
          f"{results:,} results ({size / 1e6:.0f} MB, built in {built:.0f} s); report {last}: {lines:,} evidence "
          f"lines; median of {args.repeats}\n")
    print(tabulate(rows, headers=["step", "seconds", "note"], tablefmt="github"))


if __name__ == "__main__":
    main()
