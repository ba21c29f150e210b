"""From inventory hosts to connection specs, reading Ansible's own connection variables.

One inventory serves both Ansible and sopctl, so the names are Ansible's: `ansible_host`, `ansible_port`,
`ansible_user`, `ansible_ssh_private_key_file`, `ansible_password`, `ansible_shell_type`,
`ansible_ssh_timeout`. The known_hosts file comes from `sopctl_known_hosts`, else from a
`UserKnownHostsFile=` inside `ansible_ssh_common_args`/`ansible_ssh_extra_args` (what Ansible would
use), else the user's `~/.ssh/known_hosts`.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

from ..transport.quoting import Secret
from ..transport.ssh import ConnectionSpec


@dataclass(frozen=True)
class RunSettings:
    """Run-wide defaults that host variables may override."""

    connect_timeout: float = 10.0
    command_timeout: float | None = 300.0
    forks: int = 20
    accept_new_host_keys: bool = False


def _known_hosts_from_args(hostvars: dict) -> str | None:
    for var in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        words = shlex.split(str(hostvars.get(var) or ""))
        for i, word in enumerate(words):
            option = word[2:] if word.startswith("-o") and len(word) > 2 else (
                words[i + 1] if word == "-o" and i + 1 < len(words) else "")
            key, _, value = option.partition("=")
            if key.strip().lower() == "userknownhostsfile" and value:
                return value.split()[0]
    return None


def _secret(value) -> Secret | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Secret) else Secret(str(value))


def connection_spec(name: str, hostvars: dict, settings: RunSettings = RunSettings()) -> ConnectionSpec:
    """The connection for one host, from its effective variables."""
    known_hosts = (hostvars.get("sopctl_known_hosts") or _known_hosts_from_args(hostvars)
                   or os.path.expanduser("~/.ssh/known_hosts"))
    key_file = hostvars.get("ansible_ssh_private_key_file") or hostvars.get("ansible_private_key_file")
    timeout = hostvars.get("ansible_ssh_timeout") or hostvars.get("ansible_timeout") or settings.connect_timeout
    windows = str(hostvars.get("ansible_shell_type", "")).lower() == "powershell"
    return ConnectionSpec(
        name=name,
        address=str(hostvars.get("ansible_host") or name),
        port=int(hostvars.get("ansible_port") or 22),
        user=str(hostvars.get("ansible_user") or ("Administrator" if windows else "root")),
        key_file=os.path.expanduser(str(key_file)) if key_file else None,
        password=_secret(hostvars.get("ansible_password") or hostvars.get("ansible_ssh_pass")),
        known_hosts=os.path.expanduser(str(known_hosts)),
        shell="powershell" if windows else "sh",
        connect_timeout=float(timeout),
        command_timeout=settings.command_timeout,
    )
