"""playbooks/baseline-windows.yml: loads through the real playbook loader once the win_* modules are in
the module registry (the lead wires registry.py; here the entries winps.REGISTRY_ENTRIES are patched in),
names the tasks the checks' remediations point at, and is idempotent on a PC already at the baseline.

The PCs' answers are hand-written in the shape of each module's read script (no Windows host here)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from sopctl.compliance.checks import load_checks
from sopctl.engine.playbook import load_playbook
from sopctl.modules import registry, winps
from sopctl.modules.base import validate
from sopctl.transport.ssh import CommandResult

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = ROOT / "playbooks" / "baseline-windows.yml"


@pytest.fixture
def win_registry(monkeypatch):
    for name, entry in winps.REGISTRY_ENTRIES.items():
        monkeypatch.setitem(registry.REGISTRY, name, entry)
    registry.load.cache_clear()
    yield
    registry.load.cache_clear()


def test_the_registry_knows_the_win_modules_by_their_collection_names():
    assert registry.resolve("ansible.windows.win_regedit") == "win_regedit"
    assert registry.resolve("community.windows.win_firewall") == "win_firewall"
    assert registry.resolve("ansible.builtin.win_user") is None


def test_the_playbook_loads_and_its_options_are_valid(win_registry):
    book = load_playbook(PLAYBOOK)
    (play,) = book.plays
    assert play.hosts == "pcs" and play.gather_facts is False
    modules = [task.module for task in play.tasks]
    assert modules == ["win_firewall", "win_regedit", "win_optional_feature", "win_user", "win_regedit",
                       "win_regedit", "debug"]
    for task in play.tasks:
        if task.module.startswith("win_"):
            validate(registry.load(task.module).spec, task.args)
            assert winps.refuse(task.module, windows_host=True) is None
            assert task.sop, task.title


def test_every_remediation_task_exists(win_registry):
    titles = {task.title for task in load_playbook(PLAYBOOK).plays[0].tasks}
    for check in load_checks(ROOT / "checks" / "baseline-windows.yml", None):
        if check.remediation.playbook:
            assert check.remediation.playbook == "playbooks/baseline-windows.yml"
            assert check.remediation.task in titles, check.id


# A PC at the baseline, as each task's read script would answer (hand-written).
AT_BASELINE = {
    "Get-NetFirewallProfile": {"PersistentStore": [{"Name": n, "Enabled": 1, "In": 0, "Out": 0}
                                                   for n in ("Domain", "Private", "Public")], "RSOP": []},
    "LanmanServer": {"key": True, "exists": True, "kind": "DWord", "data": 0},
    "Get-WindowsOptionalFeature": {"Features": [{"Name": "SMB1Protocol", "Found": True,
                                                 "State": "DisabledWithPayloadRemoved"}]},
    "Get-LocalUser": {"exists": True, "name": "Guest", "sid": "S-1-5-21-1-2-3-501", "fullname": "",
                      "description": "", "enabled": False, "flags": 0x10221},
    "RDP-Tcp": {"key": True, "exists": True, "kind": "DWord", "data": 1},
    "InactivityTimeoutSecs": {"key": True, "exists": True, "kind": "DWord", "data": 900},
}
DRIFTED = dict(AT_BASELINE, **{
    "Get-NetFirewallProfile": {"PersistentStore": [{"Name": n, "Enabled": int(n != "Public"), "In": 0, "Out": 0}
                                                   for n in ("Domain", "Private", "Public")], "RSOP": []},
    "LanmanServer": {"key": True, "exists": False},
    "Get-WindowsOptionalFeature": {"Features": [{"Name": "SMB1Protocol", "Found": True, "State": "Enabled"}]},
    "Get-LocalUser": dict(AT_BASELINE["Get-LocalUser"], enabled=True),
    "RDP-Tcp": {"key": True, "exists": True, "kind": "DWord", "data": 0},
    "InactivityTimeoutSecs": {"key": True, "exists": False},
})


class Session:
    """A fake SSH session of a PC: read scripts answered from `state` by a word of their display form;
    every action succeeds (and says a restart is needed)."""

    def __init__(self, state):
        self.spec = SimpleNamespace(shell="powershell", name="pc-kasubag")
        self.state, self.actions = state, []

    def run(self, command, *, stdin=None, timeout=None):
        if "$sopctlResult = & {" in command.text and "ok = $true" in command.text:
            self.actions.append(command.display)
            return CommandResult(command.display, 0, '{"ok":true,"result":{"RestartNeeded":true}}', "")
        key = next(k for k in self.state if k in command.display)
        return CommandResult(command.display, 0, json.dumps(self.state[key]), "")


def run_play(state, check=False):
    session = Session(state)
    results = []
    for task in load_playbook(PLAYBOOK).plays[0].tasks:
        if task.module == "debug":
            continue
        module = registry.load(task.module)
        results.append(winps.run_module(module, validate(module.spec, task.args), session, {}, check, diff=True))
    return results, session


def test_a_pc_at_the_baseline_is_not_changed(win_registry):
    results, session = run_play(AT_BASELINE)
    assert [r["changed"] for r in results] == [False] * 6 and session.actions == []
    assert not any(r.get("failed") for r in results)


def test_a_drifted_pc_is_brought_back(win_registry):
    results, session = run_play(DRIFTED)
    assert [r["changed"] for r in results] == [True] * 6 and not any(r.get("failed") for r in results)
    assert session.actions == [
        "Set-NetFirewallProfile -Name 'Public' -Enabled 'True'",
        ("New-ItemProperty -LiteralPath 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters' "
         "-Name 'SMB1' -PropertyType DWord -Value [int32]0 -Force"),
        "Disable-WindowsOptionalFeature -Online -NoRestart -FeatureName @('SMB1Protocol')",
        "Disable-LocalUser -SID 'S-1-5-21-1-2-3-501'",
        ("New-ItemProperty -LiteralPath 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\"
         "RDP-Tcp' -Name 'UserAuthentication' -PropertyType DWord -Value [int32]1 -Force"),
        ("New-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System' "
         "-Name 'InactivityTimeoutSecs' -PropertyType DWord -Value [int32]900 -Force"),
    ]
    assert results[2]["reboot_required"] is True
    assert all(r.get("_diff") for r in results)


def test_check_mode_predicts_without_changing(win_registry):
    results, session = run_play(DRIFTED, check=True)
    assert [r["changed"] for r in results] == [True] * 6 and session.actions == []
    assert results[2]["reboot_required"] is False  # nothing ran, so nothing is known to need a restart
