"""winps: observation/action envelopes, answer parsing, and the executor hook (run_module) against a fake
SSH session. The session's answers are hand-written (no Windows host here)."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from sopctl.modules import win_regedit, winps
from sopctl.modules.base import ModuleArgError, Plan
from sopctl.transport.quoting import Command, Secret, ps
from sopctl.transport.ssh import CommandResult

from .fakewin import FakeWinHost


def test_observation_and_action_envelopes():
    body = ps("Get-Item -LiteralPath {}", "HKLM:\\SOFTWARE\\It's")
    obs = winps.observation(body)
    assert obs.text == ("try { $sopctlResult = & {\nGet-Item -LiteralPath 'HKLM:\\SOFTWARE\\It''s'\n}\n"
                        "ConvertTo-Json -InputObject $sopctlResult -Depth 6 -Compress }\n"
                        "catch { ConvertTo-Json -InputObject @{ sopctl_error = $_.Exception.Message } -Compress }")
    assert obs.display == "Get-Item -LiteralPath 'HKLM:\\SOFTWARE\\It''s'"
    act = winps.action(ps("Set-LocalUser -Name {} -Password {}", "x", Secret("p4ss'w0rd")))
    assert act["op"] == "powershell"
    assert "-Password 'p4ss''w0rd'" in act["script"] and act["script"].endswith("-Compress; exit 1 }")
    assert act["display"] == "Set-LocalUser -Name 'x' -Password ***"


@pytest.mark.parametrize("stdout, expected", [
    ('{"a":1}', {"a": 1}),
    ("\ufeff{\r\n    \"a\":  \"\\/Date(1795482843000)\\/\"\r\n}\r\n", {"a": "2026-11-24T01:14:03Z"}),
    ('WARNING: something\r\n{"a":[{"t":"\\/Date(0)\\/"}]}\r\n', {"a": [{"t": "1970-01-01T00:00:00Z"}]}),
    ('{"d":{"value":"\\/Date(0)\\/","DisplayHint":2,"DateTime":"Thursday"}}', {"d": "1970-01-01T00:00:00Z"}),
])
def test_parse_json_reads_both_editions(stdout, expected):
    assert winps.parse_json(stdout) == expected


@pytest.mark.parametrize("stdout", ["", "Access is denied.", "#< CLIXML"])
def test_parse_json_refuses_what_is_not_json(stdout):
    with pytest.raises(ValueError, match="PowerShell did not answer JSON"):
        winps.parse_json(stdout)


CLIXML = ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
          '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN>'
          '<MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj>'
          '<S S="Error">Get-LocalUser : Access is denied._x000D__x000A_</S>'
          '<S S="Error">At line:1 char:1 &amp; more_x000D__x000A_</S></Objs>')


def test_stderr_clixml_is_decoded():
    assert winps.stderr_text(CLIXML) == "Get-LocalUser : Access is denied.\r\nAt line:1 char:1 & more"
    assert winps.stderr_text("plain error\r\n") == "plain error"


def test_observe_errors_carry_powershells_words():
    script = Command("x", "Get-Thing")
    host = FakeWinHost({"Get-Thing": {"sopctl_error": "Cannot find path 'HKLM:\\X'"}})
    with pytest.raises(winps.WinError, match=r"Get-Thing: Cannot find path 'HKLM:\\X'"):
        winps.observe(host, script)
    host = FakeWinHost({"Get-Thing": {"rc": 1, "stdout": "", "stderr": CLIXML}})
    with pytest.raises(winps.WinError, match="exit code 1; Get-LocalUser : Access is denied"):
        winps.observe(host, script)
    host = FakeWinHost({"Get-Thing": {"rc": 0, "stdout": "[1, 2]"}})
    with pytest.raises(winps.WinError, match="expected a JSON object"):
        winps.observe(host, script)
    assert winps.observe(FakeWinHost({"Get-Thing": {"a": 1}}), script) == {"a": 1}


def test_action_answers():
    ok = winps.action_answer(CommandResult("x", 0, '{"ok":true,"result":{"RestartNeeded":true}}\r\n', ""), "d")
    assert ok == {"ok": True, "result": {"rc": 0, "stdout": '{"ok":true,"result":{"RestartNeeded":true}}\r\n',
                                         "stderr": "", "data": {"RestartNeeded": True}}}
    bad = winps.action_answer(CommandResult("x", 1, '{"error":"Access is denied","ok":false}', ""), "Set-X")
    assert bad == {"ok": False, "kind": "powershell", "error": "Set-X: Access is denied"}
    crashed = winps.action_answer(CommandResult("x", 1, "", CLIXML), "Set-X")
    assert crashed["ok"] is False and "exit code 1" in crashed["error"] and "Access is denied" in crashed["error"]


@pytest.mark.parametrize("path, ps_path, hive, subkey", [
    ("HKLM:\\SOFTWARE\\Policies\\X\\", "HKLM:\\SOFTWARE\\Policies\\X", "LocalMachine", "SOFTWARE\\Policies\\X"),
    ("HKEY_LOCAL_MACHINE\\SOFTWARE\\X", "HKLM:\\SOFTWARE\\X", "LocalMachine", "SOFTWARE\\X"),
    ("Registry::HKEY_USERS\\.DEFAULT\\Control Panel", "HKU:\\.DEFAULT\\Control Panel", "Users",
     ".DEFAULT\\Control Panel"),
    ("hkcu:/Software//Vendor", "HKCU:\\Software\\Vendor", "CurrentUser", "Software\\Vendor"),
    ("HKCR:", "HKCR:\\", "ClassesRoot", ""),
])
def test_registry_paths(path, ps_path, hive, subkey):
    key = winps.registry_path(path)
    assert (key.ps_path, key.hive, key.subkey) == (ps_path, hive, subkey)


@pytest.mark.parametrize("path", ["C:\\Windows", "HKXX:\\Software", "", "SOFTWARE\\X"])
def test_bad_registry_paths(path):
    with pytest.raises(ModuleArgError, match="is not a registry path"):
        winps.registry_path(path)


@pytest.mark.parametrize("value, expected", [(1, True), (0, False), (2, None), ("True", True), ("False", False),
                                             ("NotConfigured", None), (True, True), (False, False)])
def test_gpo_bool(value, expected):
    assert winps.gpo_bool(value) is expected


def test_refuse_mixed_hosts_and_modules():
    assert winps.refuse("win_regedit", True) is None and winps.refuse("copy", False) is None
    assert "does not run on Windows hosts" in winps.refuse("ansible.builtin.copy", True)
    assert "runs on Windows hosts only" in winps.refuse("ansible.windows.win_user", False)
    assert winps.is_windows_host({"ansible_shell_type": "PowerShell"})
    assert not winps.is_windows_host({})


# ------------------------------------------------------------------------------- executor hook


class Session:
    """A fake HostSession of a Windows host: answers each script from a list, records what ran."""

    def __init__(self, answers, shell="powershell"):
        self.spec = SimpleNamespace(shell=shell, name="pc-kasubag")
        self.answers, self.calls = list(answers), []

    def run(self, command, *, stdin=None, timeout=None):
        self.calls.append((command, stdin))
        stdout = self.answers.pop(0)
        return CommandResult(command.display, 0 if '"ok":false' not in stdout else 1, stdout, "")


SCREEN_LOCK = {"path": "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System",
               "name": "InactivityTimeoutSecs", "data": 900, "type": "dword", "state": "present",
               "delete_key": True}


def test_run_module_plans_then_applies():
    session = Session(['{"key":true,"exists":true,"kind":"DWord","data":1800}', '{"ok":true,"result":null}'])
    result = winps.run_module(win_regedit.MODULE, SCREEN_LOCK, session, {}, check=False, diff=True)
    assert result["changed"] is True and not result.get("failed")
    assert result["data_changed"] is True and result["data_type_changed"] is False
    assert result["_diff"][0].splitlines()[-2:] == ['-"InactivityTimeoutSecs"=dword:00000708',
                                                   '+"InactivityTimeoutSecs"=dword:00000384']
    (read, _), (write, _) = session.calls
    assert "OpenSubKey('SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System')" in read.text
    assert "SetValue('InactivityTimeoutSecs', [int32]900, [Microsoft.Win32.RegistryValueKind]::DWord)" in write.text


def test_run_module_in_check_mode_reads_only():
    session = Session(['{"key":true,"exists":false}'])
    result = winps.run_module(win_regedit.MODULE, SCREEN_LOCK, session, {}, check=True, diff=False)
    assert result["changed"] is True and len(session.calls) == 1 and "_diff" not in result


def test_run_module_reports_a_failed_action_and_a_failed_observation():
    session = Session(['{"key":false}', '{"ok":false,"error":"Requested registry access is not allowed."}'])
    result = winps.run_module(win_regedit.MODULE, SCREEN_LOCK, session, {}, check=False, diff=False)
    assert result["failed"] is True
    assert result["msg"].startswith("powershell: New-ItemProperty -LiteralPath")
    assert result["msg"].endswith(": Requested registry access is not allowed.")
    session = Session(['{"sopctl_error":"Access is denied"}'])
    result = winps.run_module(win_regedit.MODULE, SCREEN_LOCK, session, {}, check=False, diff=False)
    assert result == {"failed": True, "changed": False,
                      "msg": "win_regedit: Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\"
                             "CurrentVersion\\Policies\\System' -Name 'InactivityTimeoutSecs': Access is denied"}


def test_apply_plan_stops_at_the_first_failure_and_refuses_agent_actions():
    ran = []

    def run(command):
        ran.append(command.display)
        return CommandResult("x", 1, '{"ok":false,"error":"no"}', "")
    plan = Plan(actions=[winps.action("A"), winps.action("B")])
    result = winps.apply_plan(plan, run, check=False, diff=False)
    assert ran == ["A"] and result["failed"] and result["msg"] == "powershell: A: no"
    result = winps.apply_plan(Plan(actions=[{"op": "write", "path": "/etc/x"}]), run, False, False)
    assert result["failed"] and "cannot apply a 'write' action" in result["msg"] and len(ran) == 1


def test_a_cmd_exe_host_gets_the_encoded_command_from_winps():
    session = Session(['{"key":true,"exists":true,"kind":"DWord","data":900}'], shell="sh")
    result = winps.run_module(win_regedit.MODULE, SCREEN_LOCK, session, {}, check=False, diff=False)
    assert result["changed"] is False
    command, stdin = session.calls[0]
    assert command.text.startswith("powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ")
    assert stdin is None
    script = base64.b64decode(command.text.rsplit(" ", 1)[1]).decode("utf-16-le")
    assert "$ProgressPreference='SilentlyContinue'" in script and "InactivityTimeoutSecs" in script


def test_registry_entries_point_at_modules():
    import importlib

    for name, (module_name, attribute) in winps.REGISTRY_ENTRIES.items():
        module = getattr(importlib.import_module(f"sopctl.modules.{module_name}"), attribute)
        assert module.spec.name == name and winps.is_windows_module(module)
        assert name in winps.COLLECTIONS
    assert json.dumps(winps.COLLECTIONS)  # plain data the lead can merge into registry.py
