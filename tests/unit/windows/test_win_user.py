"""win_user planned against a fake Windows host; answers hand-written in the shape of the module's read
script (Get-LocalUser plus the WinNT UserFlags): not captured from a real PC."""

from __future__ import annotations

import pytest

from sopctl.modules import win_user
from sopctl.modules.base import render_diff

from .fakewin import FakeWinHost, plan

GUEST = {"exists": True, "name": "Guest", "sid": "S-1-5-21-1004336348-1177238915-682003330-501",
         "fullname": "", "description": "Built-in account for guest access to the computer/domain",
         "enabled": True, "flags": 0x10221}


def host(answer, name="Guest"):
    return FakeWinHost({f"Get-LocalUser -Name '{name}'": answer})


def test_an_enabled_guest_is_disabled():
    p = plan(win_user.MODULE, {"name": "Guest", "account_disabled": True}, host(GUEST))
    (act,) = p.actions
    assert act["display"] == "Disable-LocalUser -SID 'S-1-5-21-1004336348-1177238915-682003330-501'"
    assert p.result["account_disabled"] is True and p.result["sid"] == GUEST["sid"]
    assert render_diff(p.diff[0]).splitlines()[3:5] == ["-account_disabled: False", "+account_disabled: True"]


def test_a_disabled_guest_is_left_alone():
    p = plan(win_user.MODULE, {"name": "Guest", "account_disabled": True}, host(dict(GUEST, enabled=False)))
    assert not p.is_changed and p.result["state"] == "present"


def test_by_sid_whatever_the_localised_name():
    sid = GUEST["sid"]
    h = FakeWinHost({f"Get-LocalUser -Name '{sid}'": dict(GUEST, name="Tamu")})
    p = plan(win_user.MODULE, {"name": sid, "account_disabled": True}, h)
    assert "if ($n -match '^S-1-') { $u = Get-LocalUser -SID $n" in h.asked[0].text
    assert p.actions[0]["display"] == f"Disable-LocalUser -SID '{sid}'" and p.result["name"] == "Tamu"


def test_create_with_a_password_that_is_never_shown():
    p = plan(win_user.MODULE, {"name": "operator-ptsp", "password": "S3cret'Pass", "fullname": "Operator PTSP",
                               "password_never_expires": False, "account_disabled": False},
             host({"exists": False}, "operator-ptsp"))
    create, settings = p.actions
    assert create["display"] == ("New-LocalUser -Name 'operator-ptsp' -Password (ConvertTo-SecureString -String *** "
                                 "-AsPlainText -Force)")
    assert "-String 'S3cret''Pass' -AsPlainText" in create["script"]
    assert settings["display"] == "Set-LocalUser -Name 'operator-ptsp' -FullName 'Operator PTSP'"
    assert p.diff[0]["after"]["password"] == "REDACTED"
    assert "S3cret" not in repr(p.result) + repr(p.diff) + "".join(a["display"] for a in p.actions)


def test_update_password_always_tests_it_and_on_create_does_not():
    h = host(dict(GUEST, name="operator", password_ok=True), "operator")
    p = plan(win_user.MODULE, {"name": "operator", "password": "S3cret"}, h)
    assert not p.is_changed
    assert "$c.ValidateCredentials($u.Name, 'S3cret')" in h.asked[0].text and "S3cret" not in h.asked[0].display
    p = plan(win_user.MODULE, {"name": "operator", "password": "S3cret"},
             host(dict(GUEST, name="operator", password_ok=False), "operator"))
    assert p.actions[0]["display"].endswith("-Password (ConvertTo-SecureString -String *** -AsPlainText -Force)")
    h = host(dict(GUEST, name="operator"), "operator")
    p = plan(win_user.MODULE, {"name": "operator", "password": "S3cret", "update_password": "on_create"}, h)
    assert not p.is_changed and "ValidateCredentials" not in h.asked[0].text


def test_password_never_expires_and_description():
    p = plan(win_user.MODULE, {"name": "Guest", "password_never_expires": False, "description": "Tamu"},
             host(GUEST))
    assert p.actions[0]["display"] == ("Set-LocalUser -SID 'S-1-5-21-1004336348-1177238915-682003330-501' "
                                       "-Description 'Tamu' -PasswordNeverExpires $false")


def test_absent_and_query():
    p = plan(win_user.MODULE, {"name": "Guest", "state": "absent"}, host(GUEST))
    assert p.actions[0]["display"] == f"Remove-LocalUser -SID '{GUEST['sid']}'"
    assert p.result["msg"] == "User 'Guest' deleted successfully"
    p = plan(win_user.MODULE, {"name": "nobody", "state": "absent"}, host({"exists": False}, "nobody"))
    assert not p.is_changed and p.result == {"name": "nobody", "state": "absent", "msg": "User 'nobody' was not found"}
    p = plan(win_user.MODULE, {"name": "Guest", "state": "query", "account_disabled": False}, host(GUEST))
    assert not p.is_changed and p.result["account_disabled"] is False


def test_an_account_cannot_be_created_from_a_sid():
    sid = "S-1-5-21-1-2-3-1001"
    p = plan(win_user.MODULE, {"name": sid}, FakeWinHost({f"Get-LocalUser -Name '{sid}'": {"exists": False}}))
    assert p.failed and "cannot be created from a SID" in p.msg


@pytest.mark.parametrize("option", ["groups", "account_locked", "password_expired", "home_directory"])
def test_options_left_out_are_errors(option):
    from sopctl.modules.base import ModuleArgError

    with pytest.raises(ModuleArgError, match="unsupported option"):
        plan(win_user.MODULE, {"name": "Guest", option: "x"}, FakeWinHost())
