"""The lab's inventory: a valid Ansible inventory pointing at the lab hosts."""

from __future__ import annotations

import yaml

from pathlib import Path

from .core import STATE_DIR, LabHost, _write, client_key

HEADER = "# Written by `invoke lab.up`; do not edit (it is rewritten). A valid Ansible inventory.\n"


def inventory_data(hosts: list[LabHost]) -> dict:
    known_hosts = STATE_DIR / "known_hosts"
    groups: dict[str, dict] = {}
    for host in hosts:
        groups.setdefault(host.group, {"hosts": {}})["hosts"][host.name] = {"ansible_host": host.address}
    return {"all": {
        "vars": {
            "ansible_user": "root",
            "ansible_port": 22,
            "ansible_ssh_private_key_file": str(client_key()),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes",
            "ansible_python_interpreter": "/usr/bin/python3",
            "sopctl_known_hosts": str(known_hosts),
            "sopctl_lab": True,
            # what `invoke backup` and the monthly cycle back up on every lab host (D.7)
            "backup_paths": ["/etc"],
        },
        # every lab host is also in group `lab`, whose group_vars (written beside the inventory by
        # `write_inventory`) override the project's group_vars/all for the lab's peculiarities
        "children": {"lab": {"children": groups}},
    }}


def inventory_text(hosts: list[LabHost]) -> str:
    return HEADER + yaml.safe_dump(inventory_data(hosts), sort_keys=False)


LAB_VARS = Path(__file__).with_name("group_vars_lab.yml")


def write_inventory(path: Path, hosts: list[LabHost], defaults: Path | None = None) -> Path:
    """The lab inventory at `path`, with `group_vars/lab.yml` (the lab overrides) beside it, and, when
    given, the project's `group_vars/all.yml` defaults copied beside it too (a folder of its own)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, inventory_text(hosts))
    group_vars = path.parent / "group_vars"
    group_vars.mkdir(exist_ok=True)
    _write(group_vars / "lab.yml", LAB_VARS.read_text())
    if defaults is not None and defaults.is_file() and defaults.resolve() != (group_vars / "all.yml").resolve():
        _write(group_vars / "all.yml", defaults.read_text())
    return path
