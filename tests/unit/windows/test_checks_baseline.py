"""checks/baseline-windows.yml through the real checks engine (script building -> parsing -> expectations).

Every answer here is HAND-WRITTEN to the documented output shapes (samples.py, data/ps51, data/pwsh7):
no Windows PC and no PowerShell exist where these tests run, so nothing was captured from a real PC.
Each scenario is answered twice, as Windows PowerShell 5.1 writes JSON ("\\/Date(ms)\\/" dates, enums as
numbers, 4-space JavaScriptSerializer layout) and as PowerShell 7 does (ISO 8601 dates with the PC's
offset), and must give the same verdicts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sopctl.compliance import load_catalog
from sopctl.compliance.checks import load_checks
from sopctl.compliance.runner import RecordedExecutor, check_host
from sopctl.transport.ssh import CommandResult

from . import samples
from .psjson import convert_to_json

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data"
CHECKS = load_checks(ROOT / "checks" / "baseline-windows.yml", load_catalog(ROOT / "checks" / "sop.yml"))
BY_ID = {c.id: c for c in CHECKS}
PC = ("pc-kasubag", {"ansible_shell_type": "powershell"}, {}, ["pcs"])
EDITIONS = ("5.1", "7")

DEFENDER = ["defender-service", "defender-status", "defender-running-mode", "defender-signatures-fresh",
            "defender-quick-scan", "defender-full-scan", "defender-tamper-protection"]
THIRD_PARTY = ["antivirus-third-party-on", "antivirus-third-party-signatures"]
ANTIVIRUS = DEFENDER + THIRD_PARTY
IDS = {
    "D.5": ANTIVIRUS,
    "D.1": ["windows-firewall-domain", "windows-firewall-private", "windows-firewall-public"],
    "C.3": ["windows-bitlocker-system-drive", "windows-smb1-disabled", "windows-guest-disabled", "windows-rdp-nla",
            "windows-screen-lock", "windows-password-min-length", "windows-password-complexity",
            "windows-account-lockout", "windows-last-update"],
}


def run(pc: dict, edition: str, host=PC):
    executor = RecordedExecutor(windows=samples.answer(edition, pc, CHECKS))
    results = check_host(CHECKS, host, executor, now=samples.NOW)
    return {r.check_id: r for r in results}, executor


def statuses(results) -> dict:
    return {check_id: r.status for check_id, r in results.items()}


HEALTHY = {check_id: "pass" for check_id in BY_ID} | {check_id: "na" for check_id in THIRD_PARTY}


# ------------------------------------------------------------------------------------------ the file


def test_the_file_has_the_reported_checks_under_their_sop_items():
    assert {sop: [c.id for c in CHECKS if c.sop == (sop,)] for sop in IDS} == IDS
    assert len(CHECKS) == sum(len(ids) for ids in IDS.values())
    for check in CHECKS:
        assert check.applies_to.os == ("windows",), check.id
        if check.probe.kind == "powershell":  # every script names its topic on its first line
            assert samples.topic_of(check) in samples.healthy(), check.id
    # checks reading the same thing share one script: it runs once per host
    assert len({BY_ID[i].probe.target for i in ANTIVIRUS}) == 1
    assert len({BY_ID[i].probe.target for i in IDS["D.1"]}) == 1
    assert len({BY_ID[c].probe.target for c in ("windows-password-min-length", "windows-password-complexity",
                                                "windows-account-lockout")}) == 1


def test_linux_hosts_get_na_and_nothing_is_sent():
    executor = RecordedExecutor()
    results = check_host(CHECKS, ("srv-sipp", {}, {"system": "Linux"}, ["servers"]), executor, now=samples.NOW)
    assert {r.status for r in results} == {"na"} and executor.scripts == [] and executor.batches == []


def test_the_combined_script_runs_each_shared_script_once():
    _, executor = run(samples.healthy(), "5.1")
    assert len(executor.scripts) == 1
    _, script, budget = executor.scripts[0]
    text = script.text
    assert text.count("try { $sopctl[") == len(CHECKS) - (len(ANTIVIRUS) - 1) - 2 - 2
    for copy in ANTIVIRUS[1:]:
        assert f"$sopctl['{copy}'] = $sopctl['defender-service']" in text
    assert "$sopctl['windows-firewall-public'] = $sopctl['windows-firewall-domain']" in text
    # the scripts travel as single-quoted literals, compiled on the host
    assert "[scriptblock]::Create('# antivirus: Microsoft Defender" in text
    assert "-notlike ''windowsdefender://*''" in text  # quotes doubled inside the literal
    assert "Get-Item -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System'" in text
    # the time budget: the sum of the checks' timeouts (10 s by default, 60 s for updates) plus 30 s
    assert budget == 20 * 10 + 60 + 30


# ------------------------------------------------------------------------------------- healthy PC


@pytest.mark.parametrize("edition", EDITIONS)
def test_a_healthy_pc_passes_everything_and_third_party_checks_are_na(edition):
    results, _ = run(samples.healthy(), edition)
    assert statuses(results) == HEALTHY
    for check_id in THIRD_PARTY:
        assert results[check_id].reason == "not applicable: " + samples.NO_THIRD_PARTY
        assert results[check_id].observed == "(not applicable)"
    assert results["defender-quick-scan"].observed == "1"
    assert results["windows-firewall-domain"].observed == "1"        # the GpoBoolean enum, a number
    assert results["windows-screen-lock"].observed == "900"
    assert results["windows-password-min-length"].observed == "8"
    assert results["windows-bitlocker-system-drive"].observed == "On"
    # the same instants, as each edition wrote them (5.1's /Date(ms)/ is shown as ISO 8601 UTC)
    assert results["defender-signatures-fresh"].observed == {
        "5.1": "2026-11-24T01:14:03Z", "7": "2026-11-24T09:14:03+08:00"}[edition]
    assert results["windows-last-update"].observed == {
        "5.1": "2026-11-13T02:02:51Z", "7": "2026-11-13T10:02:51+08:00"}[edition]
    # the report shows what ran and what it printed
    assert results["defender-status"].command.startswith("# antivirus: Microsoft Defender")
    assert '"RealTimeProtectionEnabled"' in results["defender-status"].output


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_written_samples_are_what_the_renderer_writes(edition):
    """data/ps51 and data/pwsh7 hold the healthy PC's answers as files a person can read and compare with
    a real PC's output; the scenarios below render the same data with psjson."""
    folder = DATA / {"5.1": "ps51", "7": "pwsh7"}[edition]
    pc = samples.healthy()
    for topic, value in pc.items():
        if topic.startswith("registry:"):
            continue
        text = (folder / f"{topic}.json").read_bytes().decode("utf-8")
        assert text == convert_to_json(value, edition), topic
        assert "\r\n" in text and ("\\/Date(" in text) == (edition == "5.1" and topic in ("antivirus", "updates"))
    eset_text = (folder / "antivirus-eset.json").read_bytes().decode("utf-8")
    assert eset_text == convert_to_json(eset(266240), edition)


# --------------------------------------------------------------------------------------- findings

DEFENDER_DOWN = {key: None for key in samples.defender_healthy()} | {
    "Error": "Operation failed with the following error: 0x800106ba. The Windows Defender service is not running."}


def eset(state: int, defender: dict | None = None) -> dict:
    return samples.antivirus(defender or dict(samples.defender_healthy(), AntivirusEnabled=False,
                                              RealTimeProtectionEnabled=False, AMRunningMode="Passive Mode"),
                             [samples.product("ESET Endpoint Antivirus", state)])


SCENARIOS = {
    # name: (topic, new value or field changes, {check: (status, observed or None, reason part or None)})
    "defender off": ("antivirus", samples.antivirus(dict(samples.defender_healthy(), AntivirusEnabled=False,
                                                         RealTimeProtectionEnabled=False)),
                     {"defender-status": ("fail", "false", "false is not true")}),
    "defender service not running": ("antivirus", samples.antivirus(DEFENDER_DOWN),
                                     {check: ("fail", "(absent)", "absent") for check in DEFENDER}),
    "signatures stale": ("antivirus", samples.antivirus(dict(
        samples.defender_healthy(), AntivirusSignatureLastUpdated=samples.local(2026, 11, 18, 8, 0, 0),
        AntivirusSignatureAge=6, DefenderSignaturesOutOfDate=True)),
        {"defender-signatures-fresh": ("fail", None, "6.5 days old")}),
    "never scanned": ("antivirus", samples.antivirus(dict(samples.defender_healthy(), QuickScanAge="never",
                                                          QuickScanEndTime=None, FullScanAge="never",
                                                          FullScanEndTime=None)),
                      {"defender-quick-scan": ("fail", "never", "never is not a number"),
                       "defender-full-scan": ("fail", "never", "never is not a number")}),
    "quick scan 9 days ago": ("antivirus", samples.antivirus(dict(samples.defender_healthy(), QuickScanAge=9)),
                              {"defender-quick-scan": ("fail", "9", "9 is not <= 7")}),
    "tamper protection off": ("antivirus", samples.antivirus(dict(samples.defender_healthy(),
                                                                  IsTamperProtected=False)),
                              {"defender-tamper-protection": ("fail", "false", None)}),
    "passive without another antivirus": ("antivirus", samples.antivirus(dict(
        samples.defender_healthy(), AMRunningMode="Passive Mode")),
        {"defender-running-mode": ("fail", "Passive Mode", None)}),
    "third-party on": ("antivirus", eset(266240),
                       {**{check: ("na", "(not applicable)", "ESET Endpoint Antivirus is on") for check in DEFENDER},
                        "antivirus-third-party-on": ("pass", "on", None),
                        "antivirus-third-party-signatures": ("pass", "current", None)}),
    "third-party out of date": ("antivirus", eset(266256),
                                {**{check: ("na", None, "ESET") for check in DEFENDER},
                                 "antivirus-third-party-on": ("pass", "on", None),
                                 "antivirus-third-party-signatures": ("fail", "out of date", None)}),
    "third-party off, Defender took over": ("antivirus", eset(262144, samples.defender_healthy()),
                                            {"antivirus-third-party-on": ("fail", "off", "off is not on"),
                                             "antivirus-third-party-signatures": ("pass", "current", None)}),
    "third-party expired and Defender off": ("antivirus", eset(0x43010, dict(
        samples.defender_healthy(), RealTimeProtectionEnabled=False)),
        {"defender-status": ("fail", "false", None),
         "antivirus-third-party-on": ("fail", "expired", None),
         "antivirus-third-party-signatures": ("fail", "out of date", None)}),
    "windows server without SecurityCenter2": ("antivirus", samples.antivirus(sc2_note=samples.SC2_ABSENT),
                                               {check: ("na", "(not applicable)", "Invalid namespace")
                                                for check in THIRD_PARTY}),
    "security center broken on a workstation": ("antivirus", RuntimeError("Invalid namespace "),
                                                {check: ("error", None, "PowerShell error: Invalid namespace")
                                                 for check in ANTIVIRUS}),
    "public firewall off": ("firewall", {"Public": {"Enabled": 0, "DefaultInboundAction": 4,
                                                    "DefaultOutboundAction": 2}},
                            {"windows-firewall-public": ("fail", "0", "0 is not one of: 1, true")}),
    "domain firewall not configured": ("firewall", {"Domain": {"Enabled": 2, "DefaultInboundAction": 0,
                                                               "DefaultOutboundAction": 0}},
                                       {"windows-firewall-domain": ("fail", "2", None)}),
    "bitlocker off": ("bitlocker", {"ProtectionStatus": 0, "Protection": "Off", "ConversionStatus": 0,
                                    "EncryptionPercentage": 0},
                      {"windows-bitlocker-system-drive": ("fail", "Off", "Off is not On")}),
    "bitlocker suspended": ("bitlocker", {"ProtectionStatus": 0, "Protection": "Off"},
                            {"windows-bitlocker-system-drive": ("fail", "Off", None)}),
    "bitlocker unavailable (Home edition)": ("bitlocker", RuntimeError(
        "BitLocker cannot be read here (root/cimv2/Security/MicrosoftVolumeEncryption: Invalid namespace); "
        "Windows Home editions have no BitLocker"),
        {"windows-bitlocker-system-drive": ("error", None, "Windows Home editions have no BitLocker")}),
    "smb1 on": ("smb1", {"EnableSMB1Protocol": True},
                {"windows-smb1-disabled": ("fail", "true", "true is not false")}),
    "guest enabled": ("guest", {"Disabled": False},
                      {"windows-guest-disabled": ("fail", "false", None)}),
    "nla off": ("rdp-nla", {"UserAuthentication": 0, "Listener": 0},
                {"windows-rdp-nla": ("fail", "0", "0 is not 1")}),
    "nla off by policy": ("rdp-nla", {"UserAuthentication": 0, "Source": "policy", "Listener": 1, "Policy": 0},
                          {"windows-rdp-nla": ("fail", "0", None)}),
    "screen lock too long": ("registry:windows-screen-lock", "1800",
                             {"windows-screen-lock": ("fail", "1800", "1800 is not <= 900")}),
    "screen lock never": ("registry:windows-screen-lock", "0",
                          {"windows-screen-lock": ("fail", "0", "0 is not > 0")}),
    "screen lock not set": ("registry:windows-screen-lock", None,
                            {"windows-screen-lock": ("fail", "(absent)", "absent")}),
    "password policy at Windows defaults": ("password-policy", {"MinimumPasswordLength": 0, "PasswordComplexity": 0,
                                                                "LockoutBadCount": 0},
                                            {"windows-password-min-length": ("fail", "0", "0 is not >= 8"),
                                             "windows-password-complexity": ("fail", "0", None),
                                             "windows-account-lockout": ("fail", "0", "0 is not > 0")}),
    "lockout after 50 attempts": ("password-policy", {"LockoutBadCount": 50},
                                  {"windows-account-lockout": ("fail", "50", "50 is not <= 10")}),
    "no update for 75 days": ("updates", {"LastInstalled": samples.local(2026, 9, 10, 9, 30, 0)},
                              {"windows-last-update": ("fail", None, "days old")}),
    "no update found at all": ("updates", {"LastInstalled": None, "Title": None, "Source": None, "Candidates": []},
                               {"windows-last-update": ("fail", "(absent)", "absent")}),
}


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_finding_changes_exactly_its_checks(name, edition):
    topic, change, expected = SCENARIOS[name]
    pc = samples.healthy()
    if isinstance(change, dict) and topic in pc and isinstance(pc[topic], dict) and topic != "antivirus":
        pc = samples.changed(pc, topic, **{k: (dict(pc[topic].get(k) or {}, **v) if isinstance(v, dict) else v)
                                           for k, v in change.items()})
    else:
        pc[topic] = change
    results, _ = run(pc, edition)
    want = dict(HEALTHY)
    if topic == "antivirus" and isinstance(change, dict) and change["ThirdParty"]["Products"]:
        want.update({check: "pass" for check in THIRD_PARTY})
    want.update({check: status for check, (status, _, _) in expected.items()})
    assert statuses(results) == want
    for check, (status, observed, reason) in expected.items():
        if observed is not None:
            assert results[check].observed == observed, check
        if reason is not None:
            assert reason in results[check].reason, (check, results[check].reason)


@pytest.mark.parametrize("edition", EDITIONS)
def test_stale_signatures_say_how_old_in_both_date_forms(edition):
    pc = samples.healthy()
    pc["antivirus"]["Defender"]["AntivirusSignatureLastUpdated"] = samples.local(2026, 11, 18, 8, 0, 0)
    result = run(pc, edition)[0]["defender-signatures-fresh"]
    assert result.status == "fail"
    assert result.reason == {"5.1": "6.5 days old (2026-11-18T00:00:00+00:00), more than 2",
                             "7": "6.5 days old (2026-11-18T08:00:00+08:00), more than 2"}[edition]


# ---------------------------------------------------------------------- never a pass by accident


@pytest.mark.parametrize("edition", EDITIONS)
def test_a_missing_field_is_an_error_never_a_pass(edition):
    pc = samples.healthy()
    del pc["antivirus"]["Defender"]["IsTamperProtected"]   # an old Defender platform without the property
    del pc["firewall"]["Public"]                           # a profile the host did not report
    del pc["password-policy"]["LockoutBadCount"]
    results, _ = run(pc, edition)
    assert results["defender-tamper-protection"].status == "error"
    assert results["defender-tamper-protection"].reason == \
        "the script's JSON has no property Defender.IsTamperProtected"
    assert results["windows-firewall-public"].status == "error"
    assert results["windows-account-lockout"].status == "error"
    assert results["defender-status"].status == "pass" and results["windows-firewall-domain"].status == "pass"


def test_a_script_printing_something_else_than_json_is_an_error():
    pc = samples.healthy()
    pc["smb1"] = "Get-SmbServerConfiguration : Access denied\r\n"   # raw text, not JSON
    results, _ = run(pc, "5.1")
    assert results["windows-smb1-disabled"].status == "error"
    assert results["windows-smb1-disabled"].reason.startswith("the script's output is not JSON")


@pytest.mark.parametrize("stdout", ["", "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" />", "Access is denied.\r\n",
                                    "[]"])
def test_a_non_json_answer_makes_every_windows_check_an_error(stdout):
    executor = RecordedExecutor(windows=CommandResult("powershell", 1, stdout, "boom"))
    results = check_host(CHECKS, PC, executor, now=samples.NOW)
    assert {r.status for r in results} == {"error"}
    assert all("the PowerShell answer is not a JSON object" in r.reason for r in results)


def test_a_check_missing_from_the_answer_is_an_error():
    answer = json.loads(samples.answer("7", samples.healthy(), CHECKS))
    del answer["windows-guest-disabled"]
    results = {r.check_id: r for r in check_host(CHECKS, PC, RecordedExecutor(windows=json.dumps(answer)),
                                                 now=samples.NOW)}
    assert results["windows-guest-disabled"].status == "error"
    assert results["windows-bitlocker-system-drive"].status == "pass"


def test_not_applicable_needs_a_reason_text():
    """Only a non-empty NotApplicable text makes a check na; null, "" or a non-text value do not."""
    for value in (None, "", "   ", True, 1):
        pc = samples.healthy()
        pc["antivirus"]["Defender"]["NotApplicable"] = value
        assert run(pc, "7")[0]["defender-status"].status == "pass", value


# ------------------------------------------------------------------------ productState decoding


def decode_product_state(state: int) -> tuple[str, str]:
    """The rule the antivirus script writes in PowerShell (bits 0xF000 scanner, 0x00F0 signatures)."""
    return ({0x0000: "off", 0x1000: "on", 0x2000: "snoozed", 0x3000: "expired"}.get(state & 0xF000, "unknown"),
            {0x00: "current", 0x10: "out of date"}.get(state & 0x00F0, "unknown"))


@pytest.mark.parametrize("state, decoded", [
    (266240, ("on", "current")),        # 0x41000: FACTS' example, on and up to date
    (266256, ("on", "out of date")),    # 0x41010
    (262144, ("off", "current")),       # 0x40000
    (270336, ("snoozed", "current")),   # 0x42000
    (274448, ("expired", "out of date")),  # 0x43010: licence ran out
    (397568, ("on", "current")),        # 0x61100: Defender's own entry (left out by the script)
    (393488, ("off", "out of date")),   # 0x60110
])
def test_product_state_bits(state, decoded):
    assert decode_product_state(state) == decoded
    assert (samples.product("x", state)["State"], samples.product("x", state)["Signatures"]) == decoded


def test_the_script_decodes_product_state_with_those_masks():
    script = BY_ID["antivirus-third-party-on"].probe.target
    assert ("$(switch ($s -band 0xF000) { 0x0000 { 'off' } 0x1000 { 'on' } 0x2000 { 'snoozed' } "
            "0x3000 { 'expired' } default { 'unknown' } })") in script
    assert "$(switch ($s -band 0x00F0) { 0x0000 { 'current' } 0x0010 { 'out of date' } default { 'unknown' } })" \
        in script
    assert "Where-Object { $_.pathToSignedProductExe -notlike 'windowsdefender://*' }" in script
    # Security Center missing is na only on a server (ProductType 2/3); on a workstation it is rethrown
    assert "if ($os.ProductType -eq 1) { throw }" in script
    assert "elseif ([uint64]$d -eq [uint32]::MaxValue) { 'never' }" in script   # 4294967295 = never


def test_not_applicable_anywhere_on_the_property_path():
    from tests.unit.checks.util import make_check

    check = make_check({"powershell": {"script": "Get-X | ConvertTo-Json", "property": "A.B.C"}},
                       {"equals": "1"}, id="nested", applies_to={"os": ["windows"]})
    for inner, status, reason in (
            ('{"NotApplicable": "not on a server", "A": {"B": {"C": 1}}}', "na", "not applicable: not on a server"),
            ('{"A": {"B": {"NotApplicable": "no B here", "C": null}}}', "na", "not applicable: no B here"),
            ('{"A": {"B": {"C": 1, "NotApplicable": null}}}', "pass", ""),
            ('{"A": {"NotApplicable": ""}}', "error", "the script's JSON has no property A.B.C")):
        executor = RecordedExecutor(windows=json.dumps({"nested": {"json": inner}}))
        (result,) = check_host([check], PC, executor, now=samples.NOW)
        assert (result.status, result.reason) == (status, reason), inner
        if status == "na":
            assert result.observed == "(not applicable)" and result.command == "Get-X | ConvertTo-Json"
