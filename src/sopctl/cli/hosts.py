"""`ping` and `facts`: the first look at the inventory's hosts."""

from __future__ import annotations

from invoke import task

from ..lazy import lazy_module
from .common import HELP, fail_if, open_fleet, print_json, print_table, reports_errors

hostinfo = lazy_module("sopctl.engine.hostinfo")  # loaded when `ping` or `facts` runs


@task(help=HELP)
@reports_errors
def ping(c, inventory=None, limit=None, forks=None, json_=False, accept_new_host_keys=False, timeout=None):
    """Connect to every targeted host and run one command: status, OS and round-trip time."""
    _, _, fleet = open_fleet(c, inventory, limit, forks, timeout, accept_new_host_keys)
    with fleet:
        rows = hostinfo.ping(fleet)
    if json_:
        print_json(rows)
    else:
        print_table([[r.host, r.address, r.status, r.os, r.rtt_ms, r.error] for r in rows],
                    ["host", "address", "status", "os", "rtt ms", "error"])
    bad = [r.host for r in rows if r.status != "ok"]
    fail_if(bool(bad), f"{len(bad)} of {len(rows)} hosts failed: {', '.join(bad)}")


def _fact_row(host: str, outcome) -> list:
    f = outcome.value or {}
    mem = f"{f.get('memavailable_mb')}/{f.get('memtotal_mb')}" if f.get("memtotal_mb") else None
    disk = f"{f.get('disk_root_used_pct')}%" if f.get("disk_root_used_pct") is not None else None
    uptime = f"{f['uptime_seconds'] // 3600}h" if f.get("uptime_seconds") is not None else None
    os_name = " ".join(str(x) for x in (f.get("distribution"), f.get("distribution_version")) if x) or None
    return [host, outcome.status, f.get("os_family"), os_name, f.get("hostname"), f.get("kernel"), uptime,
            f.get("processor_vcpus"), mem, disk, outcome.error]


@task(help=HELP)
@reports_errors
def facts(c, inventory=None, limit=None, forks=None, json_=False, accept_new_host_keys=False, timeout=None):
    """Gather system facts (OS, hostname, kernel, uptime, CPUs, memory, disk of /) in one round trip."""
    _, _, fleet = open_fleet(c, inventory, limit, forks, timeout, accept_new_host_keys)
    with fleet:
        outcomes = hostinfo.facts(fleet)
    if json_:
        print_json([{"host": o.host, "status": o.status, "facts": o.value, "error": o.error}
                    for o in outcomes])
    else:
        print_table([_fact_row(o.host, o) for o in outcomes],
                    ["host", "status", "family", "os", "hostname", "kernel", "uptime", "cpus",
                     "mem avail/total MB", "disk / used", "error"])
    bad = [o.host for o in outcomes if o.status != "ok"]
    fail_if(bool(bad), f"{len(bad)} of {len(outcomes)} hosts failed: {', '.join(bad)}")
