"""win_regedit planned against a fake Windows host. The host's answers are hand-written in the shape the
module's read script prints (`{key, exists, kind, data}`; .NET's signed Int32/Int64 for dword/qword):
not captured from a real PC."""

from __future__ import annotations

import pytest

from sopctl.modules import win_regedit
from sopctl.modules.base import ModuleArgError, render_diff

from .fakewin import FakeWinHost, plan

KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System"
READ = f"Get-ItemProperty -LiteralPath '{KEY}' -Name 'InactivityTimeoutSecs'"
ARGS = {"path": KEY, "name": "InactivityTimeoutSecs", "data": 900, "type": "dword"}


def host(answer, read=READ):
    return FakeWinHost({read: answer})


def test_a_missing_value_is_created():
    p = plan(win_regedit.MODULE, ARGS, host({"key": True, "exists": False}))
    assert p.is_changed and p.result == {"data_changed": True, "data_type_changed": False}
    (act,) = p.actions
    assert act["op"] == "powershell"
    assert act["display"] == (f"New-ItemProperty -LiteralPath '{KEY}' -Name 'InactivityTimeoutSecs' "
                              f"-PropertyType DWord -Value [int32]900 -Force")
    assert ("$b = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')\n"
            "$k = $b.CreateSubKey('SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System')\n"
            "try { $k.SetValue('InactivityTimeoutSecs', [int32]900, [Microsoft.Win32.RegistryValueKind]::DWord) }"
            " finally { $k.Close() }") in act["script"]
    assert render_diff(p.diff[0]).splitlines()[2:] == [
        "@@ -1 +1,2 @@",
        " [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System]",
        '+"InactivityTimeoutSecs"=dword:00000384']


def test_a_missing_key_shows_as_new_in_the_diff():
    p = plan(win_regedit.MODULE, ARGS, host({"key": False}))
    assert len(p.actions) == 1 and p.diff[0]["before"] == ""


def test_the_same_value_is_left_alone():
    p = plan(win_regedit.MODULE, ARGS, host({"key": True, "exists": True, "kind": "DWord", "data": 900}))
    assert not p.is_changed and p.diff == []
    assert p.result == {"data_changed": False, "data_type_changed": False}


def test_another_type_is_replaced():
    p = plan(win_regedit.MODULE, ARGS, host({"key": True, "exists": True, "kind": "String", "data": "900"}))
    assert p.is_changed and p.result["data_type_changed"] is True
    assert render_diff(p.diff[0]).splitlines()[-2:] == ['-"InactivityTimeoutSecs"="900"',
                                                       '+"InactivityTimeoutSecs"=dword:00000384']


@pytest.mark.parametrize("data", ["0xffffffff", 4294967295, "4294967295"])
def test_a_dword_above_int32_keeps_its_bits(data):
    args = dict(ARGS, data=data)
    same = plan(win_regedit.MODULE, args, host({"key": True, "exists": True, "kind": "DWord", "data": -1}))
    assert not same.is_changed
    p = plan(win_regedit.MODULE, args, host({"key": True, "exists": False}))
    assert "SetValue('InactivityTimeoutSecs', [int32]-1, " in p.actions[0]["script"]


@pytest.mark.parametrize("kind, data, answer, literal", [
    ("qword", "0x8000000000000000", {"kind": "QWord", "data": 1}, "[int64]::MinValue"),
    ("multistring", ["a", "b'c"], {"kind": "MultiString", "data": ["a"]}, "[string[]]@('a', 'b''c')"),
    ("binary", "hex:be,ef", {"kind": "Binary", "data": [190]}, "[byte[]]@(190, 239)"),
    ("binary", [0xbe, "0xef"], {"kind": "Binary", "data": []}, "[byte[]]@(190, 239)"),
    ("binary", "beef", {"kind": "Binary", "data": [1]}, "[byte[]]@(190, 239)"),
    ("expandstring", "%SystemRoot%\\x", {"kind": "ExpandString", "data": "%SystemRoot%"},
     "[string]'%SystemRoot%\\x'"),
    ("string", None, {"kind": "String", "data": "x"}, "[string]''"),
])
def test_types_and_their_literals(kind, data, answer, literal):
    args = {"path": "HKLM:\\SOFTWARE\\Vendor", "name": "V", "data": data, "type": kind}
    read = "Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Vendor' -Name 'V'"
    p = plan(win_regedit.MODULE, args, host({"key": True, "exists": True, **answer}, read))
    assert p.is_changed and f"SetValue('V', {literal}, " in p.actions[0]["script"]


def test_an_expandstring_is_compared_unexpanded():
    read = "Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Vendor' -Name 'V'"
    p = plan(win_regedit.MODULE, {"path": "HKLM:\\SOFTWARE\\Vendor", "name": "V", "data": "%SystemRoot%\\x",
                                  "type": "expandstring"},
             host({"key": True, "exists": True, "kind": "ExpandString", "data": "%SystemRoot%\\x"}, read))
    assert not p.is_changed


def test_the_read_script_reads_unexpanded_in_the_64_bit_view():
    h = host({"key": True, "exists": True, "kind": "DWord", "data": 900})
    plan(win_regedit.MODULE, ARGS, h)
    script = h.asked[0].text
    assert "OpenBaseKey('LocalMachine', 'Registry64')" in script
    assert "$k.GetValue($n, $null, 'DoNotExpandEnvironmentNames')" in script
    assert "$n = 'InactivityTimeoutSecs'" in script


def test_the_default_value():
    read = "Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Vendor' -Name '(default)'"
    p = plan(win_regedit.MODULE, {"path": "HKLM:\\SOFTWARE\\Vendor", "name": "", "data": "x"},
             host({"key": True, "exists": False}, read))
    assert "SetValue('', [string]'x', [Microsoft.Win32.RegistryValueKind]::String)" in p.actions[0]["script"]
    assert render_diff(p.diff[0]).splitlines()[-1] == '+@="x"'
    # data without a name is the (Default) value too, and (as Ansible) always a string
    p = plan(win_regedit.MODULE, {"path": "HKLM:\\SOFTWARE\\Vendor", "data": 1, "type": "dword"},
             host({"key": True, "exists": False}, read))
    assert "RegistryValueKind]::String" in p.actions[0]["script"] and p.result["warnings"]


def test_a_key_without_a_value():
    read = "Get-Item -LiteralPath 'HKLM:\\SOFTWARE\\Vendor'"
    p = plan(win_regedit.MODULE, {"path": "HKLM:\\SOFTWARE\\Vendor"}, host({"key": False}, read))
    assert p.actions[0]["display"] == "New-Item -Path 'HKLM:\\SOFTWARE\\Vendor' -Force"
    assert "$b.CreateSubKey('SOFTWARE\\Vendor').Close()" in p.actions[0]["script"]
    assert not plan(win_regedit.MODULE, {"path": "HKLM:\\SOFTWARE\\Vendor"}, host({"key": True}, read)).is_changed


def test_absent_value_and_key():
    p = plan(win_regedit.MODULE, dict(ARGS, state="absent"),
             host({"key": True, "exists": True, "kind": "DWord", "data": 900}))
    assert p.actions[0]["display"] == f"Remove-ItemProperty -LiteralPath '{KEY}' -Name 'InactivityTimeoutSecs'"
    assert "$k.DeleteValue('InactivityTimeoutSecs', $false)" in p.actions[0]["script"]
    assert render_diff(p.diff[0]).splitlines()[-1] == '-"InactivityTimeoutSecs"=dword:00000384'
    assert not plan(win_regedit.MODULE, dict(ARGS, state="absent"), host({"key": True, "exists": False})).is_changed
    assert not plan(win_regedit.MODULE, dict(ARGS, state="absent"), host({"key": False})).is_changed
    read = "Get-Item -LiteralPath 'HKLM:\\SOFTWARE\\OldVendor'"
    p = plan(win_regedit.MODULE, {"path": "HKLM:\\SOFTWARE\\OldVendor", "state": "absent"}, host({"key": True}, read))
    assert "$b.DeleteSubKeyTree('SOFTWARE\\OldVendor', $false)" in p.actions[0]["script"]
    assert p.diff[0]["after"] == ""


def test_absent_without_delete_key_clears_the_default_value():
    h = FakeWinHost({"Get-Item -LiteralPath 'HKLM:\\SOFTWARE\\Vendor'": {"key": True, "exists": False},
                     "Get-ItemProperty -LiteralPath 'HKLM:\\SOFTWARE\\Vendor' -Name '(default)'":
                         {"key": True, "exists": True, "kind": "String", "data": "old"}})
    p = plan(win_regedit.MODULE, {"path": "HKLM:\\SOFTWARE\\Vendor", "state": "absent", "delete_key": False}, h)
    assert "$k.DeleteValue('', $false)" in p.actions[0]["script"]


@pytest.mark.parametrize("args, message", [
    (dict(ARGS, data="abc"), "is not a number"),
    (dict(ARGS, data=2 ** 32), "does not fit a dword"),
    (dict(ARGS, data=-1), "does not fit a dword"),
    (dict(ARGS, type="binary", data="hex:1g"), "is not hex bytes"),
    (dict(ARGS, type="binary", data=[256]), "outside 0-255"),
    (dict(ARGS, type="string", data={"a": 1}), "must be text"),
    ({"path": "HKLM:", "state": "absent"}, "will not delete the hive"),
    ({"path": "C:\\Windows", "name": "x"}, "is not a registry path"),
    (dict(ARGS, hive="C:\\Users\\Default\\NTUSER.DAT"), "unsupported option"),
    (dict(ARGS, type="reg_sz"), "is not one of"),
])
def test_bad_options(args, message):
    with pytest.raises(ModuleArgError, match=message):
        plan(win_regedit.MODULE, args, FakeWinHost())


def test_ansible_aliases():
    p = plan(win_regedit.MODULE, {"key": KEY, "entry": "InactivityTimeoutSecs", "data": 900, "datatype": "dword"},
             host({"key": True, "exists": True, "kind": "DWord", "data": 900}))
    assert not p.is_changed
