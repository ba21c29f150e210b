"""What the win_* modules share: PowerShell observations and actions, and how they run on a Windows host.

Windows hosts have no sopctl agent (`ansible_shell_type: powershell`), so a win_* module is planned against a
`WinHostView` whose one question is `host.powershell(script) -> {"rc", "stdout", "stderr"}`: a read-only
PowerShell script, sent encoded over the host's SSH session. Modules build those scripts with
`observation()` and read them with `observe()`, which returns the JSON object the script printed
(Windows PowerShell 5.1's `/Date(ms)/` dates made ISO 8601 like PowerShell 7's) or raises `WinError` with
what PowerShell said. A module stays a pure planner: the fake hosts of the unit tests answer these
questions from recorded output.

An action is `{"op": "powershell", "script": TEXT, "display": SHOWN}` made by `action()`: the body runs
inside a try/catch that prints `{"ok": true, "result": ...}` or `{"ok": false, "error": ...}` (and exits 1),
so the outcome never depends on how PowerShell 5.1 formats an error on stderr (CLIXML). `display` is what
logs may show (a `Secret` is `***` there); `script` is what runs.

All values become PowerShell text through `transport.quoting.ps()` (single-quoted literals), nowhere else.

The executor's side is `run_module()`: plan against the session, then apply the plan's actions one script
at a time, with the same result dict as `HostRun._apply` (changed / check mode / diff / finish / failed).
`powershell_invocation()` is the encoding to use for scripts too long for one command line (see its note).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol, Sequence

from sopctl.modules.base import ModuleArgError, Plan
from sopctl.modules.base import apply_plan as base_apply_plan
from sopctl.transport.quoting import (
    Command,
    PowerShellInvocation,
    as_command,
    powershell,
    ps,
    ps_quote,
)

#: registry.py entries for the win_* modules (name -> (python module, attribute)) and their collections
REGISTRY_ENTRIES: dict[str, tuple[str, str]] = {
    "win_regedit": ("win_regedit", "MODULE"),
    "win_firewall": ("win_firewall", "MODULE"),
    "win_optional_feature": ("win_optional_feature", "MODULE"),
    "win_user": ("win_user", "MODULE"),
}
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "win_regedit": ("ansible.windows",),
    "win_firewall": ("community.windows", "ansible.windows"),  # moved to ansible.windows in 2.6.0
    "win_optional_feature": ("ansible.windows",),
    "win_user": ("ansible.windows",),
}


class WinError(Exception):
    """A PowerShell observation that could not be made: the message says what PowerShell said."""


class WinHostView(Protocol):
    """Read-only access to a Windows host for planning: one PowerShell script, its raw result."""

    facts: dict
    check_mode: bool
    diff_mode: bool

    def powershell(self, script: Command) -> dict: ...  # {"rc": int, "stdout": str, "stderr": str}


# ------------------------------------------------------------------------------------------- scripts

_OBSERVE = ("try {{ $sopctlResult = & {{\n{body}\n}}\n"
            "ConvertTo-Json -InputObject $sopctlResult -Depth 6 -Compress }}\n"
            "catch {{ ConvertTo-Json -InputObject @{{ sopctl_error = $_.Exception.Message }} -Compress }}")
_ACTION = ("try {{ $sopctlResult = & {{\n{body}\n}}\n"
           "ConvertTo-Json -InputObject @{{ ok = $true; result = $sopctlResult }} -Depth 6 -Compress }}\n"
           "catch {{ ConvertTo-Json -InputObject @{{ ok = $false; error = $_.Exception.Message }} -Compress; exit 1 }}")


def observation(body: "Command | str", display: str | None = None) -> Command:
    """A read-only script: `body` outputs ONE hashtable/object, printed as compressed JSON; any exception
    becomes `{"sopctl_error": message}`. Values in `body` must come from `ps()`."""
    body = as_command(body)
    return Command(_OBSERVE.format(body=body.text), display or body.display)


def action(body: "Command | str", display: str | None = None) -> dict:
    """A change to apply: `body` runs in a try/catch; the answer is `{"ok": true, "result": <body's
    output>}`, or `{"ok": false, "error": message}` with exit code 1."""
    body = as_command(body)
    return {"op": "powershell", "script": _ACTION.format(body=body.text), "display": display or body.display}


def action_command(act: dict) -> Command:
    """The Command an action runs (its text) and shows (its display)."""
    return Command(act["script"], act.get("display") or "<powershell>")


# ------------------------------------------------------------------------------------------- answers

_MS_DATE = re.compile(r"^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$")


def normalise(value: Any) -> Any:
    """Windows PowerShell 5.1's JSON shapes made like PowerShell 7's, all the way down: `/Date(ms)/` ->
    ISO 8601 UTC; a DateTime serialised with its note properties ({value, DisplayHint, DateTime}) -> its
    value."""
    from sopctl.compliance.probes import normalise_ps_value

    value = normalise_ps_value(value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def parse_json(stdout: str) -> Any:
    """The JSON a script printed (the whole output, else its last line that parses); ValueError if none."""
    text = (stdout or "").strip().lstrip("\ufeff")
    candidates = [text] + [line.strip() for line in reversed(text.splitlines())
                           if line.strip().startswith(("{", "["))]
    for candidate in candidates:
        try:
            return normalise(json.loads(candidate))
        except ValueError:
            continue
    raise ValueError(f"PowerShell did not answer JSON: {preview(text)}")


def preview(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return repr(text[:limit] + ("…" if len(text) > limit else "")) if text else "(no output)"


_CLIXML_ERROR = re.compile(r'<S S="Error">(.*?)</S>', re.DOTALL)
_CLIXML_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")


def stderr_text(stderr: str) -> str:
    """stderr as a person reads it: PowerShell 5.1's `#< CLIXML` error records decoded (progress records
    dropped), anything else as is."""
    text = (stderr or "").strip()
    if not text.startswith("#< CLIXML"):
        return text
    parts = [_CLIXML_CHAR.sub(lambda m: chr(int(m.group(1), 16)), part) for part in _CLIXML_ERROR.findall(text)]
    return html.unescape("".join(parts)).strip()


def observe(host: WinHostView, script: Command) -> dict:
    """Run an `observation()` script and return its JSON object; WinError when PowerShell failed, printed
    no JSON object, or the script threw (its message)."""
    answer = host.powershell(script)
    rc, stdout, stderr = answer.get("rc"), answer.get("stdout") or "", answer.get("stderr") or ""
    try:
        data = parse_json(stdout)
    except ValueError as exc:
        err = stderr_text(stderr)
        raise WinError(f"{script.display}: {exc} (exit code {rc}{'; ' + err[:300] if err else ''})") from None
    if not isinstance(data, dict):
        raise WinError(f"{script.display}: expected a JSON object, got {preview(stdout)}")
    if "sopctl_error" in data:
        raise WinError(f"{script.display}: {data['sopctl_error']}")
    if rc not in (0, None):
        raise WinError(f"{script.display}: PowerShell exited with code {rc}: {stderr_text(stderr)[:300]}")
    return data


def action_answer(result: Any, display: str) -> dict:
    """An action's CommandResult (or {"rc","stdout","stderr"}) as an agent-style answer:
    `{"ok": True, "result": {"rc", "stdout", "stderr", "data"}}` or `{"ok": False, "kind", "error"}`."""
    rc = _get(result, "rc")
    stdout, stderr = _get(result, "stdout") or "", _get(result, "stderr") or ""
    try:
        data = parse_json(stdout)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("ok") is True and rc in (0, None):
        return {"ok": True, "result": {"rc": rc, "stdout": stdout, "stderr": stderr, "data": data.get("result")}}
    if isinstance(data, dict) and data.get("ok") is False:
        return {"ok": False, "kind": "powershell", "error": f"{display}: {data.get('error')}"}
    err = stderr_text(stderr)
    return {"ok": False, "kind": "powershell",
            "error": f"{display}: no result from PowerShell (exit code {rc}): {err[:300] or preview(stdout)}"}


def _get(result: Any, key: str) -> Any:
    return result.get(key) if isinstance(result, dict) else getattr(result, key, None)


# ------------------------------------------------------------------------------------ executor hook


def is_windows_host(hostvars: dict) -> bool:
    """A host planned with win_* modules: `ansible_shell_type: powershell` (no agent there)."""
    return str(hostvars.get("ansible_shell_type", "")).lower() == "powershell"


def is_windows_module(module: Any) -> bool:
    return bool(getattr(module, "windows", False))


def run_powershell(session: Any, script: Command, timeout: float | None = None) -> Any:
    """One script on the host's session: `HostSession.run` encodes it for a `powershell` shell host; a
    host whose SSH default shell is still cmd.exe gets the encoded command line here."""
    if getattr(session.spec, "shell", "sh") == "powershell":
        return session.run(script, timeout=timeout)
    invocation = powershell_invocation(script)
    return session.run(invocation.command, stdin=invocation.stdin, timeout=timeout)


@dataclass
class SessionWinHostView:
    """The `WinHostView` of a real host: each question is one PowerShell run over the SSH session."""

    session: Any
    facts: dict
    check_mode: bool = False
    diff_mode: bool = False
    timeout: float | None = None

    def powershell(self, script: Command) -> dict:
        result = run_powershell(self.session, script, self.timeout)
        return {"rc": result.rc, "stdout": result.stdout, "stderr": result.stderr}


def apply_actions(run: Callable[[Command], Any], actions: Sequence[dict]) -> list[dict]:
    """Apply actions in order, one PowerShell run each, stopping at the first failure; the answers are
    agent-style (`{"ok": ...}`), so `Plan.finish` reads them as it reads the agent's."""
    answers: list[dict] = []
    for act in actions:
        if act.get("op") != "powershell":
            answers.append({"ok": False, "kind": "unsupported",
                            "error": f"a Windows host cannot apply a {act.get('op')!r} action"})
            break
        command = action_command(act)
        answers.append(action_answer(run(command), command.display))
        if not answers[-1]["ok"]:
            break
    return answers


def apply_plan(plan: Plan, run: Callable[[Command], Any], check: bool, diff: bool) -> dict:
    """`base.apply_plan` for a Windows host: actions applied one PowerShell run each (`apply_actions`)."""
    return base_apply_plan(plan, lambda actions: apply_actions(run, actions), check, diff)


def run_module(module: Any, params: dict, session: Any, facts: dict, check: bool, diff: bool,
               timeout: float | None = None) -> dict:
    """Plan and apply one win_* module task on a Windows host (the executor's hook; see docs/windows.md).

    `params` are already validated (`validate(module.spec, raw)`). A failed observation is the task's
    failure with PowerShell's message; HostUnavailable (the host is gone) propagates like the agent's."""
    view = SessionWinHostView(session, facts, check, diff, timeout)
    try:
        plan = module.plan(params, view)
    except WinError as exc:
        return {"failed": True, "changed": False, "msg": f"{module.spec.name}: {exc}"}
    return apply_plan(plan, lambda command: run_powershell(session, command, timeout), check, diff)


def refuse(module_name: str, windows_host: bool) -> str | None:
    """Why a module cannot run on this kind of host (None when it can): Linux modules need the agent,
    which Windows hosts do not have; win_* modules need PowerShell."""
    windows_module = module_name.rsplit(".", 1)[-1].startswith("win_")
    if windows_host and not windows_module:
        return (f"{module_name} does not run on Windows hosts (ansible_shell_type: powershell); "
                f"use a win_* module")
    if windows_module and not windows_host:
        return f"{module_name} runs on Windows hosts only (ansible_shell_type: powershell)"
    return None


# ---------------------------------------------------------------------------------- long scripts

def powershell_invocation(script: "Command | str") -> PowerShellInvocation:
    """How a script goes out: `transport.quoting.powershell` (long scripts through a stdin bootstrap)."""
    return powershell(script)


# ------------------------------------------------------------------------------------------- values

_HIVES = {
    "HKLM": ("HKEY_LOCAL_MACHINE", "LocalMachine"), "HKEY_LOCAL_MACHINE": ("HKEY_LOCAL_MACHINE", "LocalMachine"),
    "HKCU": ("HKEY_CURRENT_USER", "CurrentUser"), "HKEY_CURRENT_USER": ("HKEY_CURRENT_USER", "CurrentUser"),
    "HKCR": ("HKEY_CLASSES_ROOT", "ClassesRoot"), "HKEY_CLASSES_ROOT": ("HKEY_CLASSES_ROOT", "ClassesRoot"),
    "HKU": ("HKEY_USERS", "Users"), "HKEY_USERS": ("HKEY_USERS", "Users"),
    "HKCC": ("HKEY_CURRENT_CONFIG", "CurrentConfig"), "HKEY_CURRENT_CONFIG": ("HKEY_CURRENT_CONFIG", "CurrentConfig"),
}
_SHORT = {"HKEY_LOCAL_MACHINE": "HKLM", "HKEY_CURRENT_USER": "HKCU", "HKEY_CLASSES_ROOT": "HKCR",
          "HKEY_USERS": "HKU", "HKEY_CURRENT_CONFIG": "HKCC"}


@dataclass(frozen=True)
class RegistryPath:
    """A registry key: `hive` as .NET names it (LocalMachine), `subkey` without leading/trailing `\\`."""

    long_hive: str  # HKEY_LOCAL_MACHINE
    hive: str       # LocalMachine (Microsoft.Win32.RegistryHive)
    subkey: str

    @property
    def ps_path(self) -> str:
        """The PowerShell drive form people write: HKLM:\\SOFTWARE\\X."""
        return f"{_SHORT[self.long_hive]}:\\{self.subkey}" if self.subkey else f"{_SHORT[self.long_hive]}:\\"

    @property
    def reg_path(self) -> str:
        """The .reg file form: HKEY_LOCAL_MACHINE\\SOFTWARE\\X."""
        return f"{self.long_hive}\\{self.subkey}" if self.subkey else self.long_hive


def registry_path(path: str) -> RegistryPath:
    """`HKLM:\\SOFTWARE\\X`, `HKLM:SOFTWARE\\X`, `HKLM\\SOFTWARE\\X`, `HKEY_LOCAL_MACHINE\\SOFTWARE\\X` or
    `Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\X` (forward slashes too) as a RegistryPath."""
    text = str(path or "").strip().replace("/", "\\")
    if text.lower().startswith("registry::"):
        text = text[len("registry::"):]
    found = re.match(r"^([A-Za-z_]+):?(?:\\+(.*))?$", text)
    hive = found.group(1).upper() if found else ""
    if not found or hive not in _HIVES:
        raise ModuleArgError(f"path: {path!r} is not a registry path (like HKLM:\\SOFTWARE\\MyCompany; hives: "
                             f"HKLM, HKCU, HKCR, HKU, HKCC)")
    subkey = re.sub(r"\\+", "\\\\", (found.group(2) or "")).strip("\\")
    long_hive, dotnet = _HIVES[hive]
    return RegistryPath(long_hive, dotnet, subkey)


def gpo_bool(value: Any) -> bool | None:
    """A firewall `Enabled` as each PowerShell writes it: the GpoBoolean enum as a number (1 True, 0 False,
    2 NotConfigured) or its name, or a JSON boolean; None for NotConfigured/unknown."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false"):
        return False
    return None


def ps_list(values: Iterable[str]) -> Command:
    """A PowerShell array literal of single-quoted strings: @('a', 'b')."""
    return Command("@(" + ", ".join(ps_quote(v) for v in values) + ")",
                   "@(" + ", ".join(ps_quote(v) for v in values) + ")")


__all__ = [
    "COLLECTIONS", "REGISTRY_ENTRIES", "RegistryPath", "SessionWinHostView", "WinError", "WinHostView",
    "action", "action_answer", "apply_actions", "apply_plan", "gpo_bool", "is_windows_host",
    "is_windows_module", "normalise", "observation", "observe", "parse_json", "powershell_invocation", "ps",
    "ps_list", "refuse", "registry_path", "run_module", "run_powershell", "stderr_text",
]
