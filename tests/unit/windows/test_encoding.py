"""How the Windows PowerShell travels: exact encodings of our scripts.

`-EncodedCommand` is base64 of the script in UTF-16LE, after a preamble that silences progress records
(Windows PowerShell 5.1 writes them to stderr as CLIXML) and makes output UTF-8; a command line is capped at
8191 characters, so a longer script goes through stdin. These tests compute every encoding independently
(base64 / UTF-16LE in Python) and compare the exact command lines; no PowerShell decodes them here.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from sopctl.compliance.checks import load_checks
from sopctl.compliance.probes import windows_fragment, windows_script
from sopctl.modules import (
    win_firewall,
    win_optional_feature,
    win_regedit,
    win_user,
    winps,
)
from sopctl.transport.quoting import (
    WINDOWS_COMMAND_LINE_MAX,
    Command,
    decode_powershell,
    powershell,
)

from .fakewin import FakeWinHost, plan

ROOT = Path(__file__).resolve().parents[3]
POWERSHELL = "powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass"
PREAMBLE = ("$ProgressPreference='SilentlyContinue';$ErrorActionPreference='Stop';"
            "[Console]::OutputEncoding=[Text.Encoding]::UTF8;")


def encoded(script: str) -> str:
    return base64.b64encode((PREAMBLE + script).encode("utf-16-le")).decode("ascii")


def test_a_golden_command_line():
    script = "Get-SmbServerConfiguration | Select-Object EnableSMB1Protocol | ConvertTo-Json"
    invocation = powershell(script)
    assert invocation.stdin is None
    assert invocation.command.text == (
        POWERSHELL + " -EncodedCommand "
        "JABQAHIAbwBnAHIAZQBzAHMAUAByAGUAZgBlAHIAZQBuAGMAZQA9ACcAUwBpAGwAZQBuAHQAbAB5AEMAbwBuAHQAaQBuAHUAZQAnADsAJABF"
        "AHIAcgBvAHIAQQBjAHQAaQBvAG4AUAByAGUAZgBlAHIAZQBuAGMAZQA9ACcAUwB0AG8AcAAnADsAWwBDAG8AbgBzAG8AbABlAF0AOgA6AE8A"
        "dQB0AHAAdQB0AEUAbgBjAG8AZABpAG4AZwA9AFsAVABlAHgAdAAuAEUAbgBjAG8AZABpAG4AZwBdADoAOgBVAFQARgA4ADsARwBlAHQALQBT"
        "AG0AYgBTAGUAcgB2AGUAcgBDAG8AbgBmAGkAZwB1AHIAYQB0AGkAbwBuACAAfAAgAFMAZQBsAGUAYwB0AC0ATwBiAGoAZQBjAHQAIABFAG4A"
        "YQBiAGwAZQBTAE0AQgAxAFAAcgBvAHQAbwBjAG8AbAAgAHwAIABDAG8AbgB2AGUAcgB0AFQAbwAtAEoAcwBvAG4A")
    assert invocation.command.display == POWERSHELL + " -Command <" + script + ">"


def module_scripts() -> list[tuple[str, Command]]:
    """Every observation and action our win_* modules send in the baseline playbook's cases."""
    out: list[tuple[str, Command]] = []

    def collect(name, module, args, answers):
        host = FakeWinHost(answers)
        p = plan(module, args, host)
        out.extend((f"{name}: read", c) for c in host.asked)
        out.extend((f"{name}: {a['display']}", winps.action_command(a)) for a in p.actions)

    key = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System"
    collect("win_regedit", win_regedit.MODULE,
            {"path": key, "name": "InactivityTimeoutSecs", "data": 900, "type": "dword"},
            {f"Get-ItemProperty -LiteralPath '{key}' -Name 'InactivityTimeoutSecs'": {"key": False}})
    collect("win_firewall", win_firewall.MODULE, {"state": "enabled", "inbound_action": "block"},
            {"Get-NetFirewallProfile -PolicyStore PersistentStore; Get-NetFirewallProfile -PolicyStore RSOP":
             {"PersistentStore": [{"Name": n, "Enabled": 0, "In": 2, "Out": 2} for n in ("Domain", "Private",
                                                                                        "Public")], "RSOP": []}})
    collect("win_optional_feature", win_optional_feature.MODULE, {"name": "SMB1Protocol", "state": "absent"},
            {"Get-WindowsOptionalFeature -Online -FeatureName @('SMB1Protocol')":
             {"Features": [{"Name": "SMB1Protocol", "Found": True, "State": "Enabled"}]}})
    collect("win_user", win_user.MODULE, {"name": "operator-ptsp", "password": "Kata-Sandi'2026",
                                          "description": "Operator PTSP — ruang sidang", "account_disabled": False},
            {"Get-LocalUser -Name 'operator-ptsp'": {"exists": False}})
    return out


@pytest.mark.parametrize("name, script", module_scripts(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_module_script_fits_one_command_line_exactly_encoded(name, script):
    invocation = powershell(script)
    assert invocation.stdin is None, f"{name}: {len(invocation.command.text)} characters"
    assert invocation.command.text == f"{POWERSHELL} -EncodedCommand {encoded(script.text)}"
    assert len(invocation.command.text) <= WINDOWS_COMMAND_LINE_MAX
    assert decode_powershell(invocation.command.text) == PREAMBLE + script.text
    assert "Kata-Sandi" not in invocation.command.display


@pytest.mark.parametrize("name, script", module_scripts(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_module_script_is_in_its_envelope(name, script):
    """Reads print their JSON (or {"sopctl_error"}), actions print {"ok": ...}: nothing is left to stderr."""
    assert script.text.startswith("try { $sopctlResult = & {\n"), name
    if name.endswith(": read"):
        assert script.text.endswith("catch { ConvertTo-Json -InputObject @{ sopctl_error = $_.Exception.Message } "
                                    "-Compress }")
    else:
        assert "ok = $true; result = $sopctlResult" in script.text and script.text.endswith("; exit 1 }")


def test_non_ascii_survives_utf16():
    (_, script), = [(n, s) for n, s in module_scripts() if "Set-LocalUser" in n]
    assert "'Operator PTSP — ruang sidang'" in script.text
    assert "— ruang sidang" in decode_powershell(powershell(script).command.text)


# --------------------------------------------------------------------- the checks' combined script


def combined_script() -> Command:
    checks = load_checks(ROOT / "checks" / "baseline-windows.yml", None)
    return windows_script((c.id, windows_fragment(c.probe)) for c in checks)


def test_the_checks_script_is_too_long_for_one_command_line_and_goes_through_a_stdin_bootstrap():
    """`-Command -` runs stdin like an interactive prompt (PowerShell #3223/#21808): the combined script's
    multi-line try/catch blocks would never run. transport.quoting.powershell sends a short encoded
    bootstrap that reads all of stdin and runs it as one script block, as Ansible's bootstrap does."""
    script = combined_script()
    assert len(f"{POWERSHELL} -EncodedCommand {encoded(script.text)}") > WINDOWS_COMMAND_LINE_MAX
    for invocation in (powershell(script), winps.powershell_invocation(script)):
        assert len(invocation.command.text) <= WINDOWS_COMMAND_LINE_MAX
        assert decode_powershell(invocation.command.text) == PREAMBLE + (
            "$sopctlIn = @($input) -join ''\n"
            "& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($sopctlIn))))")
        lines = invocation.stdin.split("\n")
        assert lines[-1] == "" and all(0 < len(line) <= 76 and line.isascii() for line in lines[:-1])
        assert base64.b64decode("".join(lines)).decode("utf-8") == PREAMBLE + script.text
        assert invocation.command.display.startswith(f"{POWERSHELL} -EncodedCommand <stdin: <windows probes: ")


def test_winps_leaves_short_scripts_as_quoting_encodes_them():
    script = Command("Get-Date | ConvertTo-Json", "Get-Date")
    assert winps.powershell_invocation(script) == powershell(script)


def test_the_limit_boundary():
    room = (WINDOWS_COMMAND_LINE_MAX - len(f"{POWERSHELL} -EncodedCommand ")) // 4 * 3 // 2 - len(PREAMBLE)
    fits = "x" * room
    while len(f"{POWERSHELL} -EncodedCommand {encoded(fits)}") > WINDOWS_COMMAND_LINE_MAX:
        fits = fits[:-1]
    assert powershell(fits).stdin is None
    assert powershell(fits + "xx").stdin is not None
    assert winps.powershell_invocation(fits + "xx").stdin is not None
