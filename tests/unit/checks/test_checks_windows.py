"""Windows probes: one PowerShell script per host, and its answer parsed from both PowerShell editions.

No Windows host exists here, so nothing in this file ran PowerShell: the script is checked as text, and
the answers (data/windows-ps51-answer.json, data/windows-pwsh7-answer.json) were written by hand to the
documented output shapes: Windows PowerShell 5.1's ConvertTo-Json writes dates as "\\/Date(ms)\\/" (and a
DateTime straight from Get-Date as {value, DisplayHint, DateTime}), enums as numbers, CRLF and 4-space
indents, ' as \\u0027; PowerShell 7 writes ISO 8601 dates with an offset and 2-space indents. What a real
host prints must be checked on one (docs/checks.md lists what is verified only this way).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from sopctl.compliance.checks import load_checks
from sopctl.compliance.probes import normalise_ps_value
from sopctl.compliance.runner import PowerShellExecutor, RecordedExecutor, check_host
from sopctl.transport.quoting import decode_powershell
from sopctl.transport.ssh import TIMEOUT, UNREACHABLE, CommandResult, HostUnavailable

from .util import make_check

DATA = Path(__file__).parent / "data"
CHECKS = load_checks(DATA / "windows-checks.yml", None)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
PC = ("pc-kasubag", {"ansible_shell_type": "powershell"}, {}, ["pcs", "windows"])


def run(answer, checks=CHECKS, host=PC):
    executor = RecordedExecutor(windows=answer)
    results = check_host(checks, host, executor, now=NOW)
    return {r.check_id: r for r in results}, executor


EXPECTED = {  # the same verdicts whichever PowerShell answered
    "defender-status": ("pass", "true"),
    "antivirus-signatures-fresh": ("pass", None),
    "antivirus-installed": ("fail", "397568"),
    "openssh-default-shell": ("pass", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"),
    "smb1-disabled": ("fail", "(absent)"),
    "windefend-service": ("pass", "running"),
    "windefend-start-type": ("pass", "2"),
    "clock-checked": ("pass", None),
    "admin-keys-present": ("pass", "true"),
    "broken-script": ("error", None),
    "chatty-script": ("error", None),
    "misspelt-property": ("error", None),
}


@pytest.mark.parametrize("answer_file", ["windows-ps51-answer.json", "windows-pwsh7-answer.json"])
def test_both_powershell_editions_give_the_same_verdicts(answer_file):
    results, executor = run((DATA / answer_file).read_text())
    assert len(executor.scripts) == 1 and executor.batches == []
    for check_id, (status, observed) in EXPECTED.items():
        result = results[check_id]
        assert result.status == status, (check_id, result)
        if observed is not None:
            assert result.observed == observed, check_id
    # the same instant, as each edition wrote it (5.1's /Date(ms)/ is shown as ISO 8601 UTC)
    assert results["antivirus-signatures-fresh"].observed == {
        "windows-ps51-answer.json": "2026-11-24T03:00:00Z",
        "windows-pwsh7-answer.json": "2026-11-24T10:00:00+07:00"}[answer_file]
    assert results["broken-script"].reason.startswith("PowerShell error: The term 'Get-Nothing' is not recognized")
    assert results["chatty-script"].reason.startswith("the script's output is not JSON: 'WARNING: slow {")
    assert results["misspelt-property"].reason == "the script's JSON has no property RealTimeProtectionEnable"
    assert results["defender-status"].command.startswith("Get-MpComputerStatus | Select-Object")


def test_ps51_dates_become_iso():
    results, _ = run((DATA / "windows-ps51-answer.json").read_text())
    assert results["antivirus-signatures-fresh"].observed == "2026-11-24T03:00:00Z"
    assert results["clock-checked"].observed == "2026-11-24T11:00:00Z"  # the {value, DisplayHint} shape
    assert normalise_ps_value("\\/Date(1574202819000)\\/") == "2019-11-19T22:33:39Z"
    assert normalise_ps_value({"value": "/Date(0)/", "DisplayHint": 2, "DateTime": "x"}) == "1970-01-01T00:00:00Z"
    assert normalise_ps_value(4) == 4 and normalise_ps_value("Normal") == "Normal"


def test_stale_signatures_fail_in_both_date_forms():
    stale51 = json.dumps({"antivirus-signatures-fresh": {"json": '{"AntivirusSignatureLastUpdated": '
                                                                 '"\\/Date(1795000000000)\\/"}'}})
    stale7 = json.dumps({"antivirus-signatures-fresh": {"json": '{"AntivirusSignatureLastUpdated": '
                                                                '"2026-11-18T10:00:00+07:00"}'}})
    check = [c for c in CHECKS if c.id == "antivirus-signatures-fresh"]
    for answer in (stale51, stale7):
        result = run(answer, check)[0]["antivirus-signatures-fresh"]
        assert result.status == "fail" and "days old" in result.reason


def test_the_combined_script():
    _, executor = run((DATA / "windows-ps51-answer.json").read_text())
    host, script, timeout = executor.scripts[0]
    text = script.text
    assert host == "pc-kasubag"
    assert text.startswith("[Threading.Thread]::CurrentThread.CurrentCulture = "
                           "[Globalization.CultureInfo]::InvariantCulture")
    assert text.rstrip().endswith("$sopctl | ConvertTo-Json -Depth 5 -Compress")
    # every fragment in its own try/catch: one failure is that check's error, not the whole host's
    assert text.count("try { $sopctl[") == 10 and text.count("} catch { $sopctl[") == 10
    # identical scripts run once and are copied
    assert "$sopctl['antivirus-signatures-fresh'] = $sopctl['defender-status']" in text
    assert "$sopctl['misspelt-property'] = $sopctl['defender-status']" in text
    # a user's script is parsed at run time, from a single-quoted literal (quotes doubled)
    assert "[scriptblock]::Create('Write-Output ''WARNING: slow''; @{ A = 1 } | ConvertTo-Json')" in text
    assert "Get-Item -LiteralPath 'HKLM:\\SOFTWARE\\OpenSSH' -ErrorAction SilentlyContinue" in text
    assert "$i.LastWriteTimeUtc.ToString('o')" in text
    assert timeout == 12 * 10.0 + 30.0
    assert script.display.startswith("<windows probes: defender-status: Get-MpComputerStatus")


@pytest.mark.parametrize("stdout", ["", "#< CLIXML\r\n<Objs Version=\"1.1.0.1\">", "Access is denied.\r\n",
                                    "[1, 2]"])
def test_a_non_json_answer_is_an_error_for_every_check(stdout):
    results, _ = run(CommandResult("powershell", 1, stdout, "At line:1 char:1\r\n+ ...\r\n"))
    assert {r.status for r in results.values()} == {"error"}
    assert all("the PowerShell answer is not a JSON object" in r.reason for r in results.values())


def test_a_check_missing_from_the_answer_is_an_error():
    answer = json.loads((DATA / "windows-pwsh7-answer.json").read_text())
    del answer["windefend-service"]
    results, _ = run(json.dumps(answer))
    assert results["windefend-service"].status == "error"
    assert results["windefend-service"].reason == "the PowerShell answer has no entry for this check"
    assert results["defender-status"].status == "pass"


def test_a_null_property_is_absent_and_a_missing_one_an_error():
    check = make_check({"powershell": {"script": "Get-X | ConvertTo-Json", "property": "Info.Version"}},
                       {"present": True}, id="nested")
    for inner, status, observed in (('{"Info": {"Version": null}}', "fail", "(absent)"),
                                    ('{"info": {"version": "4.18"}}', "pass", "4.18"),  # PowerShell ignores case
                                    ('{"Info": {}}', "error", None),
                                    ('{"Info": [1]}', "error", None),
                                    ('[{"Info": {"Version": "1"}}]', "error", None),
                                    ("not json", "error", None)):
        result = run(json.dumps({"nested": {"json": inner}}), [check])[0]["nested"]
        assert result.status == status, inner
        if observed:
            assert result.observed == observed


def test_a_list_property_by_index():
    check = make_check({"powershell": {"script": "Get-X | ConvertTo-Json", "property": "0.displayName"}},
                       {"equals": "ESET Endpoint Antivirus"}, id="first-av")
    inner = '[{"displayName": "ESET Endpoint Antivirus"}, {"displayName": "Windows Defender"}]'
    assert run(json.dumps({"first-av": {"json": inner}}), [check])[0]["first-av"].status == "pass"


def test_linux_only_probes_are_na_on_windows_and_unsupported_properties_error():
    sshd = make_check({"sshd": "PermitRootLogin"}, {"equals": "no"}, id="sshd-check")
    owner = make_check({"file": "C:\\x.txt", "property": "owner"}, {"equals": "BUILTIN\\Administrators"},
                       id="owner-check")
    results, _ = run(json.dumps({"owner-check": {"v": "BUILTIN\\Administrators"}}), [sshd, owner])
    assert results["sshd-check"].status == "na"
    assert results["sshd-check"].reason == "not applicable: host OS windows is not one of: linux"
    assert results["owner-check"].status == "pass"


def test_timeout_of_the_script_is_every_windows_checks_error():
    gone = HostUnavailable(TIMEOUT, "command on pc-kasubag timed out after 150s: powershell ...")
    results, _ = run(gone)
    assert {r.status for r in results.values()} == {"error"}
    assert results["defender-status"].reason.startswith("probe timed out after 150s")


def test_a_lost_host_is_not_turned_into_check_errors():
    with pytest.raises(HostUnavailable):
        run(HostUnavailable(UNREACHABLE, "connection to pc-kasubag lost"))


class _Session:
    def __init__(self, shell: str):
        self.spec = SimpleNamespace(shell=shell, name="pc-kasubag")
        self.calls = []

    def run(self, command, *, stdin=None, timeout=None):
        self.calls.append((command, stdin, timeout))
        return CommandResult("x", 0, json.dumps({"windefend-service": {"v": "stopped", "detail": "Stopped"}}), "")


def test_powershell_executor_uses_host_session_run():
    check = [c for c in CHECKS if c.id == "windefend-service"]
    session = _Session("powershell")  # HostSession.run encodes the script itself for such a host
    results = check_host(check, PC, PowerShellExecutor(session), now=NOW)
    assert (results[0].status, results[0].observed) == ("fail", "stopped")
    command, stdin, timeout = session.calls[0]
    assert "Get-Service -Name 'WinDefend'" in command.text and stdin is None and timeout == 40.0
    session = _Session("sh")  # a Windows host still on cmd.exe: the executor encodes it
    check_host(check, ("pc-x", {}, {"system": "Windows"}, []), PowerShellExecutor(session), now=NOW)
    command, stdin, _ = session.calls[0]
    assert command.text.startswith("powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ")
    assert "Get-Service -Name 'WinDefend'" in decode_powershell(command.text)
    assert "$ProgressPreference='SilentlyContinue'" in decode_powershell(command.text)
