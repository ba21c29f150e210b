"""Helpers for the Linux baseline lab tests (tests/lab/test_baseline_linux.py, test_monitoring_lab.py,
test_antivirus_lab.py). Kept beside the unit tests of the same feature; nothing here runs by itself.

Everything goes through the real CLI (`sopctl play`, `sopctl audit --json`, `sopctl report`) or the plain
OpenSSH client, as an admin would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO, sopctl

DEFAULTS = REPO / "inventory" / "group_vars" / "all.yml"
LAB_VARS = REPO / "src" / "sopctl" / "lab" / "group_vars_lab.yml"
BASELINE = REPO / "playbooks" / "baseline-linux.yml"
ANTIVIRUS = REPO / "playbooks" / "antivirus-linux.yml"


def inventory_with_group_vars(lab, folder: Path) -> Path:
    """The lab inventory with the project's defaults and the lab overrides as group_vars/all/ beside it
    (what `lab.up` writes next to inventory/lab.yml)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "lab.yml"
    shutil.copyfile(lab.inventory, target)
    group_all = folder / "group_vars" / "all"
    group_all.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULTS, group_all / "00-defaults.yml")
    shutil.copyfile(LAB_VARS, group_all / "90-lab.yml")
    return target


def host_name(lab, index: int) -> str:
    """The index-th lab host, wrapping around when the lab is small (SOPCTL_TEST_LAB_HOSTS)."""
    return lab.hosts[index % len(lab.hosts)].name


def address(lab, name: str) -> str:
    return lab.host(name).address


def reset(lab, *names: str) -> None:
    """Make hosts fresh again: a new, empty overlay (every change and process of the host gone)."""
    from sopctl.lab import core

    for name in names:
        host = lab.host(name)
        core.destroy(host)
        core.start_host(host)
    core.write_known_hosts(lab.hosts)


def inventory_fixture(folder: str):
    """A module-scoped `inventory` fixture: inventory_with_group_vars() in a fresh temporary `folder`.
    Use as `inventory = labkit.inventory_fixture("antivirus-inventory")` in a test module."""

    @pytest.fixture(scope="module")
    def inventory(lab, tmp_path_factory):
        return inventory_with_group_vars(lab, tmp_path_factory.mktemp(folder))

    return inventory


def fresh_host_fixture(index: int):
    """A module-scoped `host` fixture: the name of host_name(lab, index), reset before the module's tests
    and again after them. Use as `host = labkit.fresh_host_fixture(3)` in a test module."""

    @pytest.fixture(scope="module")
    def host(lab):
        name = host_name(lab, index)
        reset(lab, name)
        yield name
        reset(lab, name)

    return host


def ssh_argv(lab, name: str, command: str) -> list[str]:
    from sopctl.lab import core

    return ["ssh", "-i", str(core.STATE_DIR / "id_ed25519"), "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={core.STATE_DIR / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
            f"root@{address(lab, name)}", command]


def ssh(lab, name: str, command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a command on a lab host with the plain OpenSSH client (the login banner goes to stderr)."""
    done = subprocess.run(ssh_argv(lab, name, command), text=True, capture_output=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"ssh {name} {command!r} exited {done.returncode}: {done.stderr}")
    return done


def copy_to(lab, name: str, local: Path, remote: str) -> None:
    """Put a local file on a lab host (through ssh's stdin)."""
    subprocess.run(ssh_argv(lab, name, f"cat > {remote}"), input=Path(local).read_bytes(), check=True,
                   capture_output=True, timeout=60)


def play(inventory: Path, playbook: Path, limit: str, *args: str) -> dict:
    done = sopctl("play", str(playbook), "-i", str(inventory), "--limit", limit, "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    data["returncode"] = done.returncode
    data["stderr"] = done.stderr
    return data


def failed_tasks(data: dict) -> list[tuple[str, str, str]]:
    return [(t["host"], t["task"], t["msg"]) for p in data["plays"] for t in p["tasks"] if t["status"] == "failed"]


def audit(inventory: Path, limit: str, checks: str, store: Path, env: dict | None = None) -> dict:
    """`sopctl audit --json`: {(host, check): row}."""
    done = sopctl("audit", "-i", str(inventory), "--limit", limit, "--checks", checks, "--json",
                  "--store", str(store), env=env)
    assert done.returncode in (0, 1), done.stderr
    return {(row["host"], row["check"]): row for row in json.loads(done.stdout)}


def report(store: Path, month: str) -> dict:
    """`sopctl report --format json`: {item id: item}."""
    done = sopctl("report", "--month", month, "--format", "json", "--store", str(store), "--lang", "en")
    assert done.returncode == 0, done.stderr
    return {item["id"]: item for item in json.loads(done.stdout)["items"]}


def evidence(item: dict, check: str, host: str) -> dict:
    return next(line for line in item["evidence"] if line.get("check_id") == check and line.get("host") == host)


def this_month() -> str:
    import datetime

    today = datetime.date.today()
    return f"{today.year:04d}-{today.month:02d}"


def statuses(rows: dict, host: str) -> dict[str, str]:
    return {check: row["status"] for (h, check), row in rows.items() if h == host}
