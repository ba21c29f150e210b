"""win_optional_feature planned against a fake Windows host; answers hand-written in the shape of the
module's read script (the FeatureState enum by name): not captured from a real PC."""

from __future__ import annotations

import pytest

from sopctl.modules import win_optional_feature
from sopctl.modules.base import ModuleArgError, render_diff

from .fakewin import FakeWinHost, plan

READ = "Get-WindowsOptionalFeature -Online -FeatureName @('SMB1Protocol')"


def host(state="Enabled", found=True, read=READ, name="SMB1Protocol"):
    return FakeWinHost({read: {"Features": [{"Name": name, "Found": found, "State": state if found else None}]}})


@pytest.mark.parametrize("state, changes", [("Enabled", True), ("EnablePending", True), ("Disabled", False),
                                            ("DisablePending", False), ("DisabledWithPayloadRemoved", False)])
def test_absent(state, changes):
    p = plan(win_optional_feature.MODULE, {"name": "SMB1Protocol", "state": "absent"}, host(state))
    assert p.is_changed is changes
    if changes:
        (act,) = p.actions
        assert act["display"] == "Disable-WindowsOptionalFeature -Online -NoRestart -FeatureName @('SMB1Protocol')"
        assert act["script"].count("$r = Disable-WindowsOptionalFeature") == 1
        assert "@{ RestartNeeded = [bool]$r.RestartNeeded }" in act["script"]
        assert render_diff(p.diff[0]).splitlines()[-2:] == [f"-SMB1Protocol: {state}", "+SMB1Protocol: Disabled"]


def test_the_restart_flag_comes_back_from_the_action():
    p = plan(win_optional_feature.MODULE, {"name": "SMB1Protocol", "state": "absent"}, host("Enabled"))
    ok = [{"ok": True, "result": {"rc": 0, "stdout": "", "stderr": "", "data": {"RestartNeeded": True}}}]
    assert p.finish(ok, {"reboot_required": False, "changed": True}) == {"reboot_required": True, "changed": True}
    bad = [{"ok": False, "kind": "powershell", "error": "Disable-WindowsOptionalFeature: Access is denied"}]
    assert p.finish(bad, {"reboot_required": False, "changed": True}) == {
        "reboot_required": False, "changed": False, "failed": True,
        "msg": "powershell: Disable-WindowsOptionalFeature: Access is denied"}


def test_present_with_parent_and_source():
    read = "Get-WindowsOptionalFeature -Online -FeatureName @('NetFx3', 'TelnetClient')"
    h = FakeWinHost({read: {"Features": [{"Name": "NetFx3", "Found": True, "State": "Disabled"},
                                         {"Name": "TelnetClient", "Found": True, "State": "Enabled"}]}})
    p = plan(win_optional_feature.MODULE, {"name": ["NetFx3", "TelnetClient"], "include_parent": True,
                                           "source": "\\\\srv-files\\win11\\sources\\sxs"}, h)
    (act,) = p.actions
    assert act["display"] == ("Enable-WindowsOptionalFeature -Online -NoRestart -FeatureName @('NetFx3') -All "
                              "-Source '\\\\srv-files\\win11\\sources\\sxs'")
    assert ("if (-not (Test-Path -LiteralPath '\\\\srv-files\\win11\\sources\\sxs')) { throw ('Path could not be "
            "found: ' + '\\\\srv-files\\win11\\sources\\sxs') }") in act["script"]


def test_an_unknown_feature_fails_before_any_change():
    p = plan(win_optional_feature.MODULE, {"name": "SMB1Protocl", "state": "absent"},
             host(found=False, read="Get-WindowsOptionalFeature -Online -FeatureName @('SMB1Protocl')",
                  name="SMB1Protocl"))
    assert p.failed and p.msg == "Failed to find feature 'SMB1Protocl'" and not p.actions


def test_no_name():
    with pytest.raises(ModuleArgError):
        plan(win_optional_feature.MODULE, {"name": []}, FakeWinHost())
