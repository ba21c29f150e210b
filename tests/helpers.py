"""Small helpers for tests: run the real CLI, talk to lab hosts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def sopctl(*args: str, cwd: Path | None = None, check: bool = False, env: dict | None = None):
    """Run the installed `sopctl` program as a user would, capturing its output."""
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run([sys.executable, "-m", "sopctl", *args], cwd=cwd or REPO, text=True,
                          capture_output=True, env=full_env, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"sopctl {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def sopctl_json(*args: str, **kw):
    done = sopctl(*args, "--json", **kw)
    return done, json.loads(done.stdout)


def write_project_config(root: Path, inventory: str) -> None:
    """A project's invoke.yaml: its `inventory` (relative to root), the store var/sopctl.db, and the backup
    identity kept offline in root/offline/identity."""
    (root / "invoke.yaml").write_text(textwrap.dedent(f"""\
        sopctl:
          inventory: {inventory}
          store: var/sopctl.db
          backup:
            identity: {root / 'offline' / 'identity'}
        """))


def ssh_run(lab, host_name: str, command: str) -> str:
    """Run a command on a lab host with the plain OpenSSH client (independent of our transport)."""
    from sopctl.lab import core

    host = lab.host(host_name)
    argv = ["ssh", "-i", str(core.STATE_DIR / "id_ed25519"), "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={core.STATE_DIR / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
            f"root@{host.address}", command]
    done = subprocess.run(argv, text=True, capture_output=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"ssh {host_name} {command!r} exited {done.returncode}: {done.stderr}")
    return done.stdout


# A play that runs one task as `nobody` through sudo and one as the login user (root), and checks both.
BECOME_BOOK = """\
- hosts: pc-01
  gather_facts: false
  tasks:
    - command: id -un
      become: true
      become_user: nobody
      register: who
    - command: id -un
      register: me
    - assert: {that: ["who.stdout == 'nobody'", "me.stdout == 'root'"]}
"""
