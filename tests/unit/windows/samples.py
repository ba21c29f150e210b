"""What a Windows 10/11 office PC answers to checks/baseline-windows.yml, written by hand.

NOT captured from real PCs (none is reachable where these tests run): every value below was written to
the documented output of the cmdlets (Get-MpComputerStatus, root/SecurityCenter2 AntiVirusProduct,
Get-NetFirewallProfile, Win32_EncryptableVolume, Get-SmbServerConfiguration, Win32_UserAccount, the
Terminal Server registry values, secedit's [System Access], Get-WinEvent / Get-HotFix), as the scripts of
checks/baseline-windows.yml shape it, and rendered per edition by `psjson.convert_to_json`
(Windows PowerShell 5.1: "\\/Date(ms)\\/" dates, enums as numbers; PowerShell 7: ISO 8601 dates).

`healthy()` is a compliant PC; each scenario changes what one finding changes. `answer(edition, pc)`
is the stdout of the engine's combined script for that PC: one JSON object keyed by check id, each
powershell check's entry `{"json": <the script's ConvertTo-Json text>}`, the registry check's `{"v": ...}`.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

from sopctl.compliance.checks import Check

from .psjson import convert_to_json

WITA = timezone(timedelta(hours=8))  # Batulicin, South Kalimantan: the PCs' local time
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)  # the tests' "now" (20:00 in Batulicin)
SC2_ABSENT = ("Windows Server has no Security Center (root/SecurityCenter2: Invalid namespace), so a "
              "third-party antivirus cannot be seen here; Microsoft Defender is checked instead")
NO_THIRD_PARTY = ("no third-party antivirus is registered with Windows Security Center; Microsoft Defender "
                  "is checked instead")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=WITA)


def defender_healthy() -> dict:
    return {
        "NotApplicable": None, "Error": None,
        "AMServiceEnabled": True, "AntivirusEnabled": True,
        "RealTimeProtectionEnabled": True, "AMRunningMode": "Normal",
        "AntivirusSignatureLastUpdated": local(2026, 11, 24, 9, 14, 3),
        "AntivirusSignatureAge": 0, "DefenderSignaturesOutOfDate": False,
        "QuickScanAge": 1, "QuickScanEndTime": local(2026, 11, 23, 2, 31, 10),
        "FullScanAge": 12, "FullScanEndTime": local(2026, 11, 12, 21, 5, 44),
        "IsTamperProtected": True,
    }


def product(name: str, state: int) -> dict:
    """A SecurityCenter2 product as the script decodes it (the decoding is the script's documented
    expression; `decode_product_state` in the tests is the same rule, checked against these samples)."""
    scanner = {0x0000: "off", 0x1000: "on", 0x2000: "snoozed", 0x3000: "expired"}.get(state & 0xF000, "unknown")
    signatures = {0x00: "current", 0x10: "out of date"}.get(state & 0x00F0, "unknown")
    return {"Name": name, "ProductState": state, "State": scanner, "Signatures": signatures}


def antivirus(defender: dict | None = None, products: list[dict] | None = None, sc2_note: str | None = None) -> dict:
    products = products or []
    on = [p for p in products if p["State"] == "on"]
    primary = on[0] if on else (products[0] if products else None)
    d = dict(defender or defender_healthy())
    if on:
        d["NotApplicable"] = (", ".join(p["Name"] for p in on) + " is on (Windows Security Center), so "
                              "Microsoft Defender is not the antivirus protecting this PC")
    third_na = sc2_note or (None if products else NO_THIRD_PARTY)
    return {
        "Defender": d,
        "ThirdParty": {
            "NotApplicable": third_na,
            "Name": primary["Name"] if primary else None,
            "ProductState": primary["ProductState"] if primary else None,
            "State": primary["State"] if primary else None,
            "Signatures": primary["Signatures"] if primary else None,
            "Products": products,
        },
    }


def healthy() -> dict:
    """Each topic (the name in its script's first comment line) -> what its script prints, as data."""
    return {
        "antivirus": antivirus(),
        "firewall": {name: {"Enabled": 1, "DefaultInboundAction": 4, "DefaultOutboundAction": 2}
                     for name in ("Domain", "Private", "Public")},
        "bitlocker": {"Drive": "C:", "ProtectionStatus": 1, "Protection": "On", "ConversionStatus": 1,
                      "EncryptionPercentage": 100},
        "smb1": {"EnableSMB1Protocol": False, "EnableSMB2Protocol": True},
        "guest": {"Name": "Guest", "SID": "S-1-5-21-1004336348-1177238915-682003330-501", "Disabled": True},
        "rdp-nla": {"UserAuthentication": 1, "Source": "listener", "Listener": 1, "Policy": None,
                    "RemoteDesktopDenied": 1},
        "password-policy": {"MinimumPasswordAge": 1, "MaximumPasswordAge": 90, "MinimumPasswordLength": 8,
                            "PasswordComplexity": 1, "PasswordHistorySize": 5, "LockoutBadCount": 5,
                            "ResetLockoutCount": 30, "LockoutDuration": 30, "ClearTextPassword": 0},
        "updates": {
            "LastInstalled": local(2026, 11, 13, 10, 2, 51),
            "Title": "2026-11 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5071234)",
            "Source": "System log: WindowsUpdateClient event 19",
            "Build": "26100.7171",
            "Candidates": [
                {"Time": local(2026, 11, 13, 10, 2, 51),
                 "Title": "2026-11 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5071234)",
                 "Source": "System log: WindowsUpdateClient event 19"},
                {"Time": local(2026, 11, 13, 0, 0, 0), "Title": "KB5071234 Security Update",
                 "Source": "Get-HotFix"},
            ],
        },
        # registry probe (not a script): InactivityTimeoutSecs as text, or None when the value is absent
        "registry:windows-screen-lock": "900",
    }


def changed(pc: dict, topic: str, **fields) -> dict:
    """A copy of `pc` with some fields of one topic replaced."""
    out = copy.deepcopy(pc)
    out[topic].update(fields)
    return out


def topic_of(check: Check) -> str:
    """The topic a check reads: its script's first comment word (`# antivirus: ...`), or registry:<id>."""
    if check.probe.kind == "registry":
        return f"registry:{check.id}"
    first = check.probe.target.lstrip().splitlines()[0]
    assert first.startswith("# ") and ":" in first, f"{check.id}: script must start with '# topic: ...'"
    return first[2:].split(":", 1)[0].strip()


def entry(check: Check, pc: dict, edition: str) -> dict:
    """One check's entry of the combined answer."""
    topic = topic_of(check)
    value = pc[topic]
    if isinstance(value, BaseException):  # the script threw: the fragment's catch
        return {"error": str(value)}
    if topic.startswith("registry:"):
        return {"absent": True} if value is None else {"v": value}
    if isinstance(value, str):  # raw text the script printed (not JSON)
        return {"json": value}
    return {"json": convert_to_json(value, edition)}


def answer(edition: str, pc: dict, checks: list[Check]) -> str:
    """The combined script's stdout for `pc`, as `edition` writes it."""
    return convert_to_json({c.id: entry(c, pc, edition) for c in checks}, edition, compress=True) + "\r\n"
