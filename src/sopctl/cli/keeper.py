"""`keeper.status` and `keeper.stop`: the connection keeper that `play --persist N` starts."""

from __future__ import annotations

import os
import signal
import time

from invoke import Collection, task

from .common import fail_if, print_json, print_table, reports_errors


def _link():
    from ..agent.kept import KeeperLink

    return KeeperLink(persist=0)


@task(help={"json": "print JSON instead of a table"})
@reports_errors
def status(c, json_=False):
    """Show the running connection keeper: its pid, how long it keeps connections, the hosts it holds."""
    link = _link()
    answer = link.ask({"status": True})
    if json_:
        print_json(answer or {"running": False})
        return
    if answer is None:
        print(f"no connection keeper is running ({link.socket_path})")
        return
    print_table([[answer["pid"], f"{answer['persist']:g}s", len(answer["hosts"]), ", ".join(answer["hosts"])]],
                ["pid", "persist", "hosts", "names"])


@task
@reports_errors
def stop(c):
    """Close every kept connection now and stop the keeper (it also stops by itself when idle)."""
    from ..agent.kept import keeper_pid

    link = _link()
    pid = keeper_pid(link.folder)
    if link.ask({"stop": True}) is None:
        print("no connection keeper is running")
        return
    deadline = time.monotonic() + 10
    while pid and keeper_pid(link.folder) == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid and keeper_pid(link.folder) == pid:  # it did not stop on request: end it by its pid, never by name
        os.kill(pid, signal.SIGTERM)
    fail_if(bool(pid) and keeper_pid(link.folder) == pid, f"sopctl: the keeper (pid {pid}) is still running")
    print("connection keeper stopped")


ns = Collection("keeper", status, stop)
