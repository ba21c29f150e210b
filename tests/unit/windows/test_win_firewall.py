"""win_firewall planned against a fake Windows host. Answers are hand-written in the shape of the module's
read script (Get-NetFirewallProfile, PersistentStore and RSOP), with the GpoBoolean and Action enums as
numbers (how both PowerShell editions write enums in JSON) or as names: not captured from a real PC."""

from __future__ import annotations

import pytest

from sopctl.modules import win_firewall
from sopctl.modules.base import ModuleArgError, render_diff

from .fakewin import FakeWinHost, plan

READ = "Get-NetFirewallProfile -PolicyStore PersistentStore; Get-NetFirewallProfile -PolicyStore RSOP"


def profiles(public_enabled=1, inbound=0, rsop=None, names=False):
    def profile(name, enabled):
        if names:
            return {"Name": name, "Enabled": {1: "True", 0: "False", 2: "NotConfigured"}[enabled],
                    "In": {0: "NotConfigured", 2: "Allow", 4: "Block"}[inbound], "Out": "NotConfigured"}
        return {"Name": name, "Enabled": enabled, "In": inbound, "Out": 0}
    return FakeWinHost({READ: {
        "PersistentStore": [profile("Domain", 1), profile("Private", 1), profile("Public", public_enabled)],
        "RSOP": rsop if rsop is not None else [{"Name": n, "Enabled": 2} for n in ("Domain", "Private", "Public")]}})


@pytest.mark.parametrize("names", [False, True])
def test_all_on_is_left_alone(names):
    p = plan(win_firewall.MODULE, {"state": "enabled"}, profiles(names=names))
    assert not p.is_changed
    assert p.result == {"profiles": ["Domain", "Private", "Public"], "state": "enabled",
                        "Domain": {"enabled": True, "considered": True, "currentstate": 1},
                        "Private": {"enabled": True, "considered": True, "currentstate": 1},
                        "Public": {"enabled": True, "considered": True, "currentstate": 1}}


@pytest.mark.parametrize("names", [False, True])
def test_a_profile_that_is_off_is_turned_on(names):
    p = plan(win_firewall.MODULE, {"state": "enabled"}, profiles(public_enabled=0, names=names))
    (act,) = p.actions
    assert act["display"] == "Set-NetFirewallProfile -Name 'Public' -Enabled 'True'"
    assert p.result["Public"] == {"enabled": True, "considered": True, "currentstate": 0}
    assert render_diff(p.diff[0]).splitlines()[-2:] == [
        "-Public: enabled=False inbound=NotConfigured outbound=NotConfigured",
        "+Public: enabled=True inbound=NotConfigured outbound=NotConfigured"]


def test_inbound_action_and_profile_selection():
    p = plan(win_firewall.MODULE, {"state": "enabled", "profiles": ["public", "Private"], "inbound_action": "block"},
             profiles(public_enabled=0))
    assert [a["display"] for a in p.actions] == [
        "Set-NetFirewallProfile -Name 'Private' -DefaultInboundAction 'Block'",
        "Set-NetFirewallProfile -Name 'Public' -Enabled 'True' -DefaultInboundAction 'Block'"]
    assert p.result["Domain"]["considered"] is False and p.result["profiles"] == ["Public", "Private"]
    already = plan(win_firewall.MODULE, {"state": "enabled", "inbound_action": "block"}, profiles(inbound=4))
    assert not already.is_changed


def test_disabled_ignores_the_actions_as_ansible_does():
    p = plan(win_firewall.MODULE, {"state": "disabled", "profiles": ["Domain"], "inbound_action": "allow"},
             profiles())
    assert [a["display"] for a in p.actions] == ["Set-NetFirewallProfile -Name 'Domain' -Enabled 'False'"]


def test_a_group_policy_that_overrides_is_a_warning():
    rsop = [{"Name": "Domain", "Enabled": 2}, {"Name": "Private", "Enabled": 2}, {"Name": "Public", "Enabled": 0}]
    p = plan(win_firewall.MODULE, {"state": "enabled"}, profiles(public_enabled=0, rsop=rsop))
    assert len(p.actions) == 1
    assert p.result["warnings"] == [("Group Policy sets the Public profile off: the local setting (enabled) does "
                                     "not take effect while that policy applies")]


def test_rsop_unreadable_is_no_warning():
    h = profiles()
    h.answers[READ]["RSOP"] = None
    assert "warnings" not in plan(win_firewall.MODULE, {"state": "enabled"}, h).result


def test_the_read_script():
    h = profiles()
    plan(win_firewall.MODULE, {"state": "enabled"}, h)
    assert "Get-NetFirewallProfile -PolicyStore PersistentStore" in h.asked[0].text
    assert "Enabled = $p.Enabled" in h.asked[0].text  # the enum as PowerShell serialises it


@pytest.mark.parametrize("args, message", [
    ({}, "missing required option 'state'"),
    ({"state": "on"}, "is not one of"),
    ({"state": "enabled", "profiles": ["Work"]}, "profile 'Work' is not one of"),
    ({"state": "enabled", "inbound_action": "deny"}, "is not one of"),
])
def test_bad_options(args, message):
    from sopctl.modules.base import validate

    with pytest.raises(ModuleArgError, match=message):
        win_firewall.plan(validate(win_firewall.SPEC, args), profiles())
