"""The same playbooks through ansible-core and through sopctl, on two lab hosts that start identical.

For each playbook: a check-mode run, a real run and a second real run with each tool. Compared: the
changed/ok/skipped status of every task in each run (check-mode predictions included) and the resulting
files (type, content, mode, owner, group, link target). sysctl is left out: it lives in the ansible.posix
collection, which the `ansible-core` package does not carry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ssh_run

HERE = Path(__file__).parent
ANSIBLE_HOST, SOPCTL_HOST = "pc-01", "pc-02"

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None,
                                reason="ansible-core (test extra) is not installed")


def _fresh(lab, base: str) -> None:
    for host in (ANSIBLE_HOST, SOPCTL_HOST):
        ssh_run(lab, host, f"rm -rf {base} && mkdir -p {base}")


def _ansible(lab, playbook: Path, base: str, check: bool) -> list[str]:
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "record", "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
           "ANSIBLE_HOST_KEY_CHECKING": "True",
           "ANSIBLE_PIPELINING": "True", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0"}
    argv = ["ansible-playbook", "-i", str(lab.inventory), "--limit", ANSIBLE_HOST, "-e", f"base={base}",
            str(playbook)] + (["--check"] if check else [])
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=HERE, timeout=300)
    assert done.returncode in (0, 2), done.stdout[-3000:] + done.stderr[-2000:]  # 2: a task failed
    data = json.loads(done.stdout)
    recap = data["recap"][ANSIBLE_HOST]
    counts = {k: recap[a] for k, a in (("ok", "ok"), ("changed", "changed"), ("failed", "failures"),
                                        ("skipped", "skipped"), ("ignored", "ignored"))}
    return [t["status"] for t in data["tasks"] if t["task"] != "Gathering Facts"], counts


def _sopctl(lab, playbook: Path, base: str, check: bool) -> list[str]:
    argv = [sys.executable, "-m", "sopctl", "play", str(playbook), "-i", str(lab.inventory), "--limit",
            SOPCTL_HOST, "--extra-vars", f"base={base}", "--json"] + (["--check"] if check else [])
    done = subprocess.run(argv, capture_output=True, text=True, cwd=HERE, timeout=300)
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-2000:]  # 1: a task failed
    data = json.loads(done.stdout)
    recap = data["recap"][SOPCTL_HOST]
    counts = {k: recap[k] for k in ("ok", "changed", "failed", "skipped", "ignored")}
    return [t["status"] for play in data["plays"] for t in play["tasks"] if t["task"] != "Gathering Facts"], counts


def _tree(lab, host: str, base: str) -> dict:
    listing = ssh_run(lab, host, f"cd {base} && find . -mindepth 1 -printf '%p|%y|%m|%u|%g|%l\\n' | sort")
    tree = {}
    for line in listing.splitlines():
        path, kind, mode, owner, group, target = line.split("|")
        content = ssh_run(lab, host, f"cat {base}/{path}") if kind == "f" else None
        tree[path] = (kind, mode, owner, group, target, content)
    return tree


@pytest.mark.parametrize("name", ["lineinfile", "files"])
def test_same_result_as_ansible(lab, name):
    playbook = HERE / f"{name}.yml"
    base = f"/srv/sopctl-diff/{name}"
    _fresh(lab, base)
    runs = {}
    for label, check in (("check on a fresh host", True), ("apply", False), ("check when applied", True),
                         ("apply again", False)):
        runs[label] = (_ansible(lab, playbook, base, check), _sopctl(lab, playbook, base, check))
    for label, ((theirs, their_recap), (ours, our_recap)) in runs.items():
        assert ours == theirs, f"{label}: task statuses differ\nansible: {theirs}\nsopctl:  {ours}"
        assert our_recap == their_recap, f"{label}: PLAY RECAP differs"
    assert "failed" not in runs["apply"][1][0]
    assert _tree(lab, SOPCTL_HOST, base) == _tree(lab, ANSIBLE_HOST, base)
