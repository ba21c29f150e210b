"""What every task shares: finding the project and inventory, building a fleet, printing, exit codes.

Tasks stay thin: they parse options, call the engine, and print. Errors from below arrive as
`SopctlError`s and leave as one line on stderr with the error's exit code (see `errors.py`).
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path

from invoke import Exit

from ..engine.targets import RunSettings, connection_spec
from ..errors import SopctlError, UsageError
from ..inventory import load_inventory
from ..lab.core import STATE_DIR
from ..transport import Fleet

LAB_INVENTORY = STATE_DIR / "inventory" / "lab.yml"

HELP = {
    "inventory": "inventory file or folder (default: sopctl.inventory from invoke.yaml)",
    "limit": "host pattern: names, groups, * wildcards, a:b union, a:&b intersection, a:!b exclusion",
    "forks": "hosts worked on in parallel (default 20)",
    "json": "print JSON instead of a table",
    "accept-new-host-keys": "record host keys seen for the first time (changed keys are still refused)",
    "timeout": "connect timeout in seconds",
}


def reports_errors(task_fn):
    """Turn a SopctlError into one line on stderr and its exit code, instead of a traceback."""

    @functools.wraps(task_fn)
    def wrapper(*args, **kwargs):
        try:
            return task_fn(*args, **kwargs)
        except SopctlError as exc:
            raise Exit(f"sopctl: error: {exc}", code=exc.exit_code) from None

    return wrapper


def project_root(ctx) -> Path | None:
    """The sopctl project in use: `sopctl.root` from config, else the nearest folder with tasks.py."""
    configured = ctx.config.get("sopctl", {}).get("root")
    if configured:
        return Path(configured)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "tasks.py").is_file() and (folder / "inventory").is_dir():
            return folder
    return None


def inventory_path(ctx, given: str | None) -> Path:
    """`-i` if given; else config's `sopctl.inventory` under the project; else the running lab's."""
    if given:
        return Path(given)
    configured = ctx.config.get("sopctl", {}).get("inventory") or "inventory/lab.yml"
    root = project_root(ctx)
    candidates = [Path(configured)] if Path(configured).is_absolute() else (
        [root / configured] if root else [])
    candidates.append(LAB_INVENTORY)
    for path in candidates:
        if path.exists():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise UsageError(f"no inventory found (tried {tried}): give -i FILE, set sopctl.inventory in "
                     f"invoke.yaml, or start the lab with `invoke lab.up`")


def record_number(value, what: str, option: str = "--id") -> int:
    """A record's number given as `option` (`--id 7`): a UsageError when it is missing or not a number."""
    if value is None:
        raise UsageError(f"{option} is required (the {what} number)")
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"{option} {value!r}: give the {what} number") from None


def settings(ctx, forks=None, timeout=None, accept_new_host_keys=False) -> RunSettings:
    conf = ctx.config.get("sopctl", {})
    return RunSettings(
        connect_timeout=float(timeout if timeout is not None else conf.get("connect_timeout", 10)),
        command_timeout=float(conf.get("command_timeout", 300)),
        forks=int(forks if forks is not None else conf.get("forks", 20)),
        accept_new_host_keys=bool(accept_new_host_keys),
    )


def open_fleet(ctx, inventory=None, limit=None, forks=None, timeout=None, accept_new_host_keys=False):
    """Load the inventory, select the hosts, and give back (inventory, hosts, fleet)."""
    inv = load_inventory(inventory_path(ctx, inventory))
    hosts = inv.select(limit)
    if not hosts:
        raise UsageError(f"no hosts match {limit!r}" if limit else "the inventory has no hosts")
    run = settings(ctx, forks, timeout, accept_new_host_keys)
    specs = [connection_spec(h.name, inv.host_vars(h.name), run) for h in hosts]
    return inv, hosts, Fleet(specs, forks=run.forks, accept_new_host_keys=run.accept_new_host_keys)


def plain(value):
    """Dataclasses and paths as JSON-ready values."""
    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, default=plain, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(rows: list[list], headers: list[str]) -> None:
    from tabulate import tabulate  # ~40 ms with wcwidth: loaded when a table is printed, not at start

    print(tabulate(rows, headers=headers, tablefmt="simple", missingval="-"))


def fail_if(condition: bool, message: str) -> None:
    """Exit 1 (some host failed) after the output has been printed; the message goes to stderr."""
    if condition:
        raise Exit(message.rstrip() + "\n", code=1)
