"""`lab.*`: start, inspect and stop the built-in lab of real SSH hosts on loopback."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection, task

from ..lazy import lazy_module
from .common import print_table, project_root, reports_errors

# The lab machinery loads when a lab task runs, not for every `sopctl` call.
core = lazy_module("sopctl.lab.core")
_lab_inventory = lazy_module("sopctl.lab.inventory")


def _write_inventories(c, hosts) -> list[Path]:
    """The lab's inventory in the project (inventory/lab.yml) and in the lab's own state folder, each with
    the lab's group_vars beside it (the state folder's copy also gets the project's defaults)."""
    root = project_root(c)
    defaults = root / "inventory" / "group_vars" / "all.yml" if root else None
    targets = [_lab_inventory.write_inventory(core.STATE_DIR / "inventory" / "lab.yml", hosts, defaults)]
    if root:
        targets.insert(0, _lab_inventory.write_inventory(root / "inventory" / "lab.yml", hosts))
    return targets


@task(help={"hosts": "number of hosts (default 3): pc-01 … and srv-01 last",
            "fresh": "replace every host with a new one, even healthy ones"})
@reports_errors
def up(c, hosts=3, fresh=False):
    """Start (or bring back to N healthy hosts) the lab: real sshd hosts on 127.0.1.1 … 127.0.1.N."""
    started = core.up(int(hosts), fresh=fresh)
    written = _write_inventories(c, started)
    print(f"lab: {len(started)} hosts up ({started[0].address} … {started[-1].address}); "
          f"inventory {written[0]}")


@task
@reports_errors
def down(c):
    """Stop every lab host (by pid file), unmount and delete its filesystem."""
    gone = core.down()
    root = project_root(c)
    if root:
        (root / "inventory" / "lab.yml").unlink(missing_ok=True)
    print(f"lab: {len(gone)} hosts removed")


@task
@reports_errors
def status(c):
    """Each lab host's state: running, stopped, or stale (pid file of a dead process)."""
    states = core.status()
    if not states:
        print("lab: no hosts (start them with `invoke lab.up`)")
        return
    print_table([[s.host.name, s.host.address, s.host.group, s.state, s.pid] for s in states],
                ["host", "address", "group", "state", "pid"])


@task(help={"host": "lab host name, e.g. pc-02"})
@reports_errors
def stop(c, host):
    """Stop one lab host's sshd and its processes (its filesystem stays)."""
    core.require_root()
    core.stop_host(core.find(host))


@task(help={"host": "lab host name, e.g. pc-02"})
@reports_errors
def start(c, host):
    """Start a stopped lab host again on its existing filesystem."""
    core.require_root()
    core.start_host(core.find(host))


ns = Collection("lab", up, down, status, stop, start)
