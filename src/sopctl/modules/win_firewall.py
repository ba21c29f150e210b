"""win_firewall: turn Windows Firewall profiles on or off (Ansible's `community.windows.win_firewall`, since
ansible.windows 2.6.0 also `ansible.windows.win_firewall`).

Options:

- `profiles` (list, default `[Domain, Private, Public]`): the profiles to set (any case).
- `state` (str, required): `enabled` or `disabled`.
- `inbound_action`, `outbound_action` (str): `allow`, `block` or `not_configured` (the last one is for
  GPOs): the profile's default for connections no rule matches. As in Ansible, they are applied only with
  `state: enabled`.

The host is read with `Get-NetFirewallProfile -PolicyStore PersistentStore` (the local settings, which
`Set-NetFirewallProfile` writes, as Ansible reads and writes them) and `-PolicyStore RSOP` (what Group
Policy sets). A profile whose wanted state Group Policy contradicts is still set locally, with a warning:
the local setting does not take effect while the policy applies, and the `windows-firewall-*` checks read
the effective state (ActiveStore).

`Enabled` is the GpoBoolean enum: Windows PowerShell 5.1 and 7 both write it as a number in JSON (1 True,
0 False, 2 NotConfigured), and its name is accepted too; the default actions likewise (0 NotConfigured,
2 Allow, 4 Block).

Check mode: full. Diff: one line per chosen profile, `Public: enabled=False inbound=Block outbound=Allow`.

Returns: `profiles`, `state`, and per profile (`Domain`, `Private`, `Public`) `{enabled, considered,
currentstate}` as Ansible does (`enabled` after the change, `currentstate` the GpoBoolean before it).

EXAMPLES:

    - name: Firewall on for every profile, inbound blocked by default
      win_firewall:
        profiles: [Domain, Private, Public]
        state: enabled
        inbound_action: block
"""

from __future__ import annotations

from types import SimpleNamespace

from sopctl.modules.base import ModuleArgError, ModuleSpec, Option, Plan, text_diff
from sopctl.modules.winps import action, gpo_bool, observation, observe
from sopctl.transport.quoting import Command, ps

PROFILES = ("Domain", "Private", "Public")
ACTIONS = ("allow", "block", "not_configured")
#: the NetSecurity Action enum: number or name -> name
_ACTION_NAMES = {"0": "NotConfigured", "2": "Allow", "4": "Block", "notconfigured": "NotConfigured",
                 "allow": "Allow", "block": "Block"}

SPEC = ModuleSpec(
    name="win_firewall",
    options={
        "profiles": Option("list", default=list(PROFILES), elements="str", help="Domain, Private, Public"),
        "state": Option("str", required=True, choices=("enabled", "disabled")),
        "inbound_action": Option("str", choices=ACTIONS, help="default for inbound connections"),
        "outbound_action": Option("str", choices=ACTIONS, help="default for outbound connections"),
    },
    check_mode="full",
    diff=True,
    doc=__doc__,
)

READ = observation(Command("""$o = @{ PersistentStore = @(); RSOP = @() }
foreach ($p in Get-NetFirewallProfile -PolicyStore PersistentStore) {
  $o.PersistentStore += @{ Name = [string]$p.Name; Enabled = $p.Enabled; In = $p.DefaultInboundAction; Out = $p.DefaultOutboundAction } }
try { foreach ($p in Get-NetFirewallProfile -PolicyStore RSOP) {
  $o.RSOP += @{ Name = [string]$p.Name; Enabled = $p.Enabled } } } catch { $o.RSOP = $null }
$o""", "Get-NetFirewallProfile -PolicyStore PersistentStore; Get-NetFirewallProfile -PolicyStore RSOP"))


def action_name(value) -> str | None:
    """The default action as its enum name (from a number or a name); None for an unknown value."""
    return _ACTION_NAMES.get(str(value).strip().lower()) if value is not None else None


def _profile(name: str) -> str:
    for known in PROFILES:
        if str(name).strip().lower() == known.lower():
            return known
    raise ModuleArgError(f"win_firewall: profile {name!r} is not one of: {', '.join(PROFILES)}")


def _line(name: str, enabled, inbound, outbound) -> str:
    return f"{name}: enabled={enabled} inbound={inbound} outbound={outbound}"


def plan(params: dict, host) -> Plan:
    profiles = list(dict.fromkeys(_profile(p) for p in params["profiles"] or []))
    if not profiles:
        raise ModuleArgError("win_firewall: profiles must name at least one of Domain, Private, Public")
    want_on = params["state"] == "enabled"
    want_in = {"allow": "Allow", "block": "Block", "not_configured": "NotConfigured"}.get(params["inbound_action"] or "")
    want_out = {"allow": "Allow", "block": "Block", "not_configured": "NotConfigured"}.get(
        params["outbound_action"] or "")

    found = observe(host, READ)
    local = {str(p.get("Name")): p for p in found.get("PersistentStore") or []}
    policy = {str(p.get("Name")): p for p in (found.get("RSOP") or [])}
    result: dict = {"profiles": profiles, "state": params["state"]}
    actions, before, after, warnings = [], [], [], []
    for name in PROFILES:
        current = local.get(name)
        if current is None:
            if name in profiles:
                raise ModuleArgError(f"win_firewall: the host reported no {name} profile")
            continue
        enabled = gpo_bool(current.get("Enabled"))
        inbound, outbound = action_name(current.get("In")), action_name(current.get("Out"))
        result[name] = {"enabled": enabled is True, "considered": name in profiles,
                        "currentstate": 1 if enabled else 0 if enabled is False else 2}
        if name not in profiles:
            continue
        changes: list[tuple[str, str]] = []
        if enabled is not want_on:
            changes.append(("Enabled", "True" if want_on else "False"))
        if want_on and want_in and inbound != want_in:
            changes.append(("DefaultInboundAction", want_in))
        if want_on and want_out and outbound != want_out:
            changes.append(("DefaultOutboundAction", want_out))
        new = dict(changes)
        before.append(_line(name, {True: "True", False: "False"}.get(enabled, "NotConfigured"), inbound, outbound))
        after.append(_line(name, "True" if want_on else "False", new.get("DefaultInboundAction", inbound),
                           new.get("DefaultOutboundAction", outbound)))
        result[name]["enabled"] = want_on
        if changes:
            actions.append(_set(name, changes))
        ruled = gpo_bool((policy.get(name) or {}).get("Enabled"))
        if ruled is not None and ruled is not want_on:
            warnings.append(f"Group Policy sets the {name} profile {'on' if ruled else 'off'}: the local "
                            f"setting ({params['state']}) does not take effect while that policy applies")
    if warnings:
        result["warnings"] = warnings
    diff = [text_diff("\n".join(before) + "\n", "\n".join(after) + "\n", "firewall profiles")] if actions else []
    return Plan(actions=actions, result=result, diff=diff)


def _set(name: str, changes: list[tuple[str, str]]) -> dict:
    template = "Set-NetFirewallProfile -Name {}" + "".join(f" -{option} {{}}" for option, _ in changes)
    command = ps(template, name, *[value for _, value in changes])
    return action(command)


MODULE = SimpleNamespace(spec=SPEC, plan=plan, windows=True)
