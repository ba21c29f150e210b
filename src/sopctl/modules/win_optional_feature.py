"""win_optional_feature: install or remove optional Windows features on Windows 10/11 (Ansible's
`ansible.windows.win_optional_feature`), e.g. SMB1Protocol.

Options:

- `name` (list, required): feature names as `Get-WindowsOptionalFeature -Online` lists them (case as
  written there; DISM itself ignores case).
- `state` (str, default `present`): `present` or `absent`.
- `include_parent` (bool, default false): also enable the parent features (`-All`).
- `source` (str): where to install from (`D:\\sources\\sxs`, `\\\\server\\share\\sources\\sxs`); a path the
  host cannot see fails the task, as in Ansible.

A feature counts as present when its state starts with `Enable` (Enabled, EnablePending) and absent when
it starts with `Disable` (Disabled, DisablePending, DisabledWithPayloadRemoved): the state is read as the
enum's name (`[string]$f.State`), never its number. An unknown feature fails the task ("Failed to find
feature 'X'"), before anything changes. Changes run `Enable-WindowsOptionalFeature` /
`Disable-WindowsOptionalFeature -Online -NoRestart` for all changed features at once; the host is never
restarted by the module.

DISM is slow: reading a feature takes seconds, changing one can take minutes (give the task time).

Check mode: full. Diff: `NAME: Disabled` -> `NAME: Enabled` per changed feature.

Returns: `reboot_required` (bool; always false in check mode or without a change), `changed`.

EXAMPLES:

    - name: Remove SMBv1 (client and server); a reboot finishes it
      win_optional_feature:
        name: SMB1Protocol
        state: absent
      register: smb1
"""

from __future__ import annotations

from types import SimpleNamespace

from sopctl.modules.base import ModuleArgError, ModuleSpec, Option, Plan, text_diff
from sopctl.modules.winps import action, observation, observe, ps_list
from sopctl.transport.quoting import Command, ps

SPEC = ModuleSpec(
    name="win_optional_feature",
    options={
        "name": Option("list", required=True, elements="str", help="feature names"),
        "state": Option("str", default="present", choices=("present", "absent")),
        "include_parent": Option("bool", default=False, help="enable parent features too (-All)"),
        "source": Option("str", help="install source (sources\\sxs)"),
    },
    check_mode="full",
    diff=True,
    doc=__doc__,
)

_READ = """if (-not (Get-Command -Name Enable-WindowsOptionalFeature -ErrorAction SilentlyContinue)) {
  throw 'This version of Windows does not support the Enable-WindowsOptionalFeature.' }
$r = @()
foreach ($n in {}) {
  $f = $null
  try { $f = Get-WindowsOptionalFeature -Online -FeatureName $n } catch [System.Runtime.InteropServices.COMException] { $f = $null }
  $r += @{ Name = $n; Found = ($null -ne $f); State = $(if ($null -ne $f) { [string]$f.State } else { $null }) }
}
@{ Features = $r }"""


def read_script(names: list[str]) -> Command:
    return observation(ps(_READ, ps_list(names)),
                       ps("Get-WindowsOptionalFeature -Online -FeatureName {}", ps_list(names)).display)


def is_present(state: str | None) -> bool:
    return str(state or "").lower().startswith("enable")


def plan(params: dict, host) -> Plan:
    names = [str(n).strip() for n in params["name"] or [] if str(n).strip()]
    if not names:
        raise ModuleArgError("win_optional_feature: name must list at least one feature")
    names = list(dict.fromkeys(names))
    want_present = params["state"] == "present"
    found = observe(host, read_script(names))
    states = {str(f.get("Name")): f for f in found.get("Features") or []}
    changed, before, after = [], [], []
    for name in names:
        entry = states.get(name)
        if entry is None or not entry.get("Found"):
            return Plan(failed=True, msg=f"Failed to find feature '{name}'", result={"reboot_required": False})
        state = str(entry.get("State"))
        if is_present(state) != want_present:
            changed.append(name)
            before.append(f"{name}: {state}")
            after.append(f"{name}: {'Enabled' if want_present else 'Disabled'}")
    result = {"reboot_required": False}
    if not changed:
        return Plan(result=result)
    features = ps_list(changed)
    if want_present:
        lines, args = [], []
        if params["source"]:
            lines.append("if (-not (Test-Path -LiteralPath {})) { throw ('Path could not be found: ' + {}) }")
            args += [params["source"], params["source"]]
        line = "$r = Enable-WindowsOptionalFeature -Online -NoRestart -FeatureName {}"
        args.append(features)
        if params["include_parent"]:
            line += " -All"
        if params["source"]:
            line += " -Source {}"
            args.append(params["source"])
        lines.append(line)
        body = ps("\n".join(lines), *args)
        shown = ps(line.removeprefix("$r = "), *args[-(2 if params["source"] else 1):]).display
    else:
        body = ps("$r = Disable-WindowsOptionalFeature -Online -NoRestart -FeatureName {}", features)
        shown = body.display.removeprefix("$r = ")
    body = Command(body.text + "\n@{ RestartNeeded = [bool]$r.RestartNeeded }", body.display)

    def finish(answers: list, res: dict) -> dict:
        answer = answers[0] if answers else {"ok": False, "kind": "powershell", "error": "no answer"}
        if not answer.get("ok"):
            res.update(failed=True, changed=False, msg=f"{answer.get('kind')}: {answer.get('error')}")
            return res
        data = (answer.get("result") or {}).get("data") or {}
        res["reboot_required"] = bool(data.get("RestartNeeded"))
        return res

    diff = [text_diff("\n".join(before) + "\n", "\n".join(after) + "\n", "optional features")]
    return Plan(actions=[action(body, shown)], result=result, diff=diff, finish=finish)


MODULE = SimpleNamespace(spec=SPEC, plan=plan, windows=True)
