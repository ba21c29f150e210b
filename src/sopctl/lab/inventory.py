"""The lab's inventory: a valid Ansible inventory pointing at the lab hosts."""

from __future__ import annotations

import yaml

from .core import STATE_DIR, LabHost, client_key

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
            "backup_paths": ["/etc/ssh", "/etc/hostname", "/root"],
        },
        "children": groups,
    }}


def inventory_text(hosts: list[LabHost]) -> str:
    return HEADER + yaml.safe_dump(inventory_data(hosts), sort_keys=False)
