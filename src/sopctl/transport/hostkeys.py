"""Host-key policies for paramiko: no silent trust of an unknown key, OpenSSH's accept-new on request.

Kept apart from `ssh.py` so that paramiko is imported only when a connection is really opened.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

import paramiko

from .ssh import ConnectionSpec, fingerprint


class UnknownHostKey(paramiko.SSHException):
    pass


class RefuseUnknown(paramiko.MissingHostKeyPolicy):
    """No silent trust: an unknown key is an error that says how to record it."""

    def __init__(self, spec: ConnectionSpec):
        self.spec = spec

    def missing_host_key(self, client, hostname, key):
        raise UnknownHostKey(
            f"host key {key.get_name()} {fingerprint(key)} of {self.spec.name} ({hostname}) is not in "
            f"{self.spec.known_hosts or 'any known_hosts file'}; check it and re-run with "
            f"--accept-new-host-keys to record it"
        )


class AcceptNew(paramiko.MissingHostKeyPolicy):
    """Record a first-seen key in the known_hosts file (never replaces a changed one)."""

    def __init__(self, spec: ConnectionSpec):
        self.spec = spec

    def missing_host_key(self, client, hostname, key):
        if not self.spec.known_hosts:
            raise UnknownHostKey(f"{self.spec.name}: no known_hosts file configured to record keys in")
        line = f"{self.spec.known_hosts_name} {key.get_name()} {key.get_base64()}\n"
        path = Path(self.spec.known_hosts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="ascii") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(line)
        client.get_host_keys().add(self.spec.known_hosts_name, key.get_name(), key)
