"""win_user: a local Windows account (Ansible's `ansible.windows.win_user`), e.g. the Guest account disabled.

Options:

- `name` (str, required): the account's name, or its SID (`S-1-5-21-...-501`): built-in accounts have
  localised names on some Windows languages, their SIDs end the same way everywhere (500 Administrator,
  501 Guest).
- `state` (str, default `present`): `present`, `absent` or `query` (report only).
- `account_disabled` (bool): disable or enable the account.
- `fullname`, `description` (str): compared exactly (case-sensitive), as Ansible does.
- `password` (str, secret): the clear-text password. Creating an account without one makes an account with
  no password (`New-LocalUser -NoPassword`), which Windows keeps disabled until one is set.
- `update_password` (str, default `always`): `always` tests the given password against the account
  (`PrincipalContext.ValidateCredentials`, a network logon) and sets it when it does not match; a disabled
  account cannot be tested, so its password is set on every run (Ansible does the same). `on_create` sets
  it only when creating the account.
- `password_never_expires` (bool): the account's "password never expires" flag (UF_DONT_EXPIRE_PASSWD).

The host is read with `Get-LocalUser` (Windows PowerShell 5.1's Microsoft.PowerShell.LocalAccounts) and
the account's WinNT flags; changes use New-LocalUser / Set-LocalUser / Enable-LocalUser /
Disable-LocalUser / Remove-LocalUser. The password reaches the host inside the encoded script only; every
displayed form shows `***`.

Check mode: full. Diff: the account's fields before and after (`password: REDACTED`).

Returns: `name`, `sid`, `fullname`, `description`, `state`, `account_disabled`, `password_never_expires`,
and `msg` for absent/query ("User 'X' was not found").

Not supported (deliberately; an unknown option is an error): `groups`, `groups_action`, `account_locked`,
`password_expired`, `user_cannot_change_password`, `home_directory`, `login_script`, `profile`.

EXAMPLES:

    - name: The Guest account stays disabled
      win_user:
        name: Guest
        account_disabled: true
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from sopctl.modules.base import ModuleSpec, Option, Plan
from sopctl.modules.winps import action, observation, observe
from sopctl.transport.quoting import Command, Secret, ps

DONT_EXPIRE_PASSWD = 0x10000
SID = re.compile(r"^S-1-[0-9-]+$", re.IGNORECASE)

SPEC = ModuleSpec(
    name="win_user",
    options={
        "name": Option("str", required=True, help="account name or SID"),
        "state": Option("str", default="present", choices=("present", "absent", "query")),
        "account_disabled": Option("bool", help="disable (true) or enable (false) the account"),
        "fullname": Option("str"),
        "description": Option("str"),
        "password": Option("str", no_log=True, help="clear-text password"),
        "update_password": Option("str", default="always", choices=("always", "on_create")),
        "password_never_expires": Option("bool"),
    },
    check_mode="full",
    diff=True,
    doc=__doc__,
)

_READ = """$n = {}
$u = $null
if ($n -match '^S-1-') { $u = Get-LocalUser -SID $n -ErrorAction SilentlyContinue }
else { $u = Get-LocalUser -Name $n -ErrorAction SilentlyContinue }
if ($null -eq $u) { return @{ exists = $false } }
$a = [ADSI]('WinNT://' + $env:COMPUTERNAME + '/' + $u.Name + ',user')
$o = @{ exists = $true; name = $u.Name; sid = $u.SID.Value; fullname = $u.FullName; description = $u.Description;
  enabled = $u.Enabled; flags = [int]$a.UserFlags.Value }
"""
_TEST_PASSWORD = """if ($u.Enabled) {
  Add-Type -AssemblyName System.DirectoryServices.AccountManagement
  $c = New-Object System.DirectoryServices.AccountManagement.PrincipalContext('Machine')
  try { $o.password_ok = $c.ValidateCredentials($u.Name, {}) } finally { $c.Dispose() } }
"""


def read_script(name: str, password: Secret | None) -> Command:
    body = ps(_READ, name)
    if password is not None:
        body = body + ps(_TEST_PASSWORD, password)
    body = body + "$o"
    return observation(body, ps("Get-LocalUser -Name {}", name).display)


def _who(user: str) -> Command:
    """`-SID 'S-1-…'` or `-Name 'x'`, for the cmdlets that take either."""
    return ps("-SID {}", user) if SID.match(user) else ps("-Name {}", user)


def plan(params: dict, host) -> Plan:
    name = params["name"].strip()
    password = Secret(params["password"]) if params["password"] is not None else None
    state = params["state"]
    test_password = password if (state == "present" and params["update_password"] == "always") else None
    found = observe(host, read_script(name, test_password))
    exists = bool(found.get("exists"))
    before = _shown(found) if exists else {}
    result = {"name": found.get("name", name) if exists else name}

    if state == "query" or (state == "absent" and not exists):
        result.update(_returned(found) if exists else {}, state="present" if exists else "absent")
        if not exists:
            result["msg"] = f"User '{name}' was not found"
        return Plan(result=result)
    if state == "absent":
        act = action(Command("Remove-LocalUser ", "Remove-LocalUser ") + _who(found.get("sid") or name))
        result.update(state="absent", msg=f"User '{found.get('name')}' deleted successfully")
        return Plan(actions=[act], result=result, diff=[_diff(before, {}, name)])

    actions: list[dict] = []
    after = dict(before)
    target = found.get("sid") or name
    if not exists:
        if SID.match(name):
            return Plan(failed=True, msg=f"win_user: no account has the SID {name}, and an account cannot be "
                                         f"created from a SID", result=result)
        create = ps("New-LocalUser -Name {}", name)
        create = create + (ps(" -Password (ConvertTo-SecureString -String {} -AsPlainText -Force)", password)
                           if password is not None else Command(" -NoPassword", " -NoPassword"))
        actions.append(action(Command("$null = ", "") + create))
        after = {"name": name, "fullname": "", "description": "", "account_disabled": password is None,
                 "password_never_expires": False}
        if password is not None:
            after["password"] = "REDACTED"
        target = name
    settings: list[Command] = []
    if params["fullname"] is not None and params["fullname"] != (found.get("fullname") or ""):
        settings.append(ps(" -FullName {}", params["fullname"]))
        after["fullname"] = params["fullname"]
    if params["description"] is not None and params["description"] != (found.get("description") or ""):
        settings.append(ps(" -Description {}", params["description"]))
        after["description"] = params["description"]
    never = bool(int(found.get("flags") or 0) & DONT_EXPIRE_PASSWD) if exists else False
    if params["password_never_expires"] is not None and params["password_never_expires"] != never:
        value = "$true" if params["password_never_expires"] else "$false"
        settings.append(Command(f" -PasswordNeverExpires {value}", f" -PasswordNeverExpires {value}"))
        after["password_never_expires"] = params["password_never_expires"]
    if exists and test_password is not None and found.get("password_ok") is not True:
        settings.append(ps(" -Password (ConvertTo-SecureString -String {} -AsPlainText -Force)", password))
        after["password"] = "CHANGED REDACTED"
    if settings:
        command = Command("Set-LocalUser ", "Set-LocalUser ") + _who(target)
        for setting in settings:
            command = command + setting
        actions.append(action(command))
    disabled_now = (not found.get("enabled")) if exists else after["account_disabled"]
    if params["account_disabled"] is not None and params["account_disabled"] != disabled_now:
        verb = "Disable-LocalUser " if params["account_disabled"] else "Enable-LocalUser "
        actions.append(action(Command(verb, verb) + _who(target)))
        after["account_disabled"] = params["account_disabled"]
    result.update(_returned(found) if exists else {"name": name}, state="present")
    result.update(account_disabled=after["account_disabled"], password_never_expires=after["password_never_expires"])
    for key in ("fullname", "description"):
        result[key] = after.get(key, "")
    diff = [_diff(before, after, name)] if actions else []
    return Plan(actions=actions, result=result, diff=diff)


def _shown(found: dict) -> dict:
    return {"name": found.get("name"), "fullname": found.get("fullname") or "",
            "description": found.get("description") or "", "account_disabled": not found.get("enabled"),
            "password_never_expires": bool(int(found.get("flags") or 0) & DONT_EXPIRE_PASSWD)}


def _returned(found: dict) -> dict:
    return {**_shown(found), "sid": found.get("sid")}


def _diff(before: dict, after: dict, name: str) -> dict:
    return {"before": before, "after": after, "before_header": f"user {name}", "after_header": f"user {name}"}


MODULE = SimpleNamespace(spec=SPEC, plan=plan, windows=True)
