"""What a module is: options it accepts, and a pure planning function.

A module never changes a host itself. `plan(params, host)` reads what it needs through the read-only
`HostView` (stat, read, query, facts) and returns a `Plan`: the primitive actions that would bring the host
to the wanted state (for the agent to apply), a diff, and the values to return. "Changed" is "there are
actions"; check mode is "don't apply them"; diff mode is "show `Plan.diff`". Unit tests give a fake
`HostView` with the facts of the case and compare the plan; end-to-end tests use the real agent.

Modelled on pyinfra operations (yield commands or say why nothing is needed) and ansible-core modules
(documented options, declared check/diff support, compute in memory, write through a temp file).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

# Option types understood by `validate`.
TYPES = ("str", "bool", "int", "float", "path", "list", "dict", "raw")


class ModuleArgError(ValueError):
    """Bad options for a module: the message names the module, the option and what is valid."""


@dataclass(frozen=True)
class Option:
    """One documented option, with Ansible's meaning (type, default, choices, aliases)."""

    type: str = "str"
    default: Any = None
    required: bool = False
    choices: tuple = ()
    aliases: tuple = ()
    elements: str | None = None  # element type of a list
    no_log: bool = False
    help: str = ""


@dataclass(frozen=True)
class ModuleSpec:
    """A module's interface, as its documentation states it."""

    name: str
    options: dict[str, Option]
    check_mode: str = "full"  # full | none | partial (what `--check` can predict)
    diff: bool = False
    doc: str = ""
    mutually_exclusive: tuple[tuple[str, ...], ...] = ()
    required_one_of: tuple[tuple[str, ...], ...] = ()
    required_if: tuple[tuple[str, Any, tuple[str, ...]], ...] = ()
    free_form: str | None = None  # option that receives `module: free text` (command, shell)


@dataclass
class Plan:
    """What a module decided for one host.

    `actions` are agent operations (`{"op": "write", ...}`) applied in order, in one round trip, unless in
    check mode. `finish`, when set, turns the actions' results into the module's return values (e.g.
    `command` turns rc/stdout into its result and failure). `changed` defaults to "there are actions".
    """

    actions: list[dict] = field(default_factory=list)
    result: dict = field(default_factory=dict)
    diff: list[dict] = field(default_factory=list)
    changed: bool | None = None
    failed: bool = False
    skipped: bool = False
    msg: str | None = None
    finish: Callable[[list[dict], dict], dict] | None = None

    @property
    def is_changed(self) -> bool:
        return bool(self.actions) if self.changed is None else self.changed


class HostView(Protocol):
    """Read-only access to a host for planning (the executor backs it with the agent)."""

    facts: dict
    check_mode: bool
    diff_mode: bool

    def stat(self, path: str, checksum: bool = False, follow: bool = False) -> dict: ...

    def read(self, path: str) -> bytes | None: ...

    def query(self, cmd: str | list[str], shell: bool = False) -> dict: ...

    def local_file(self, path: str, kind: str = "files") -> bytes: ...

    def render(self, text: str) -> str: ...


class Module(Protocol):
    spec: ModuleSpec

    def plan(self, params: dict, host: HostView) -> Plan: ...


# --- option validation -----------------------------------------------------------------------------

_TRUE = {"yes", "on", "1", "true", "y", "t"}
_FALSE = {"no", "off", "0", "false", "n", "f", ""}


def to_bool(value: Any, name: str = "value") -> bool:
    """Ansible's boolean: yes/no/true/false/on/off/1/0, any case."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ModuleArgError(f"{name}: {value!r} is not a boolean (use true/false, yes/no)")


def _convert(spec: ModuleSpec, name: str, option: Option, value: Any) -> Any:
    where = f"{spec.name}: option {name!r}"
    if value is None:
        return None
    try:
        if option.type in ("str", "path"):
            if isinstance(value, (dict, list)):
                raise ModuleArgError(f"{where} must be a string, not a {type(value).__name__}")
            value = str(value)
        elif option.type == "bool":
            value = to_bool(value, where)
        elif option.type == "int":
            value = int(value)
        elif option.type == "float":
            value = float(value)
        elif option.type == "list":
            value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        elif option.type == "dict" and not isinstance(value, dict):
            raise ModuleArgError(f"{where} must be a mapping")
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ModuleArgError):
            raise
        raise ModuleArgError(f"{where}: {value!r} is not a valid {option.type}") from None
    if option.choices and value not in option.choices:
        choices = ", ".join(str(c) for c in option.choices)
        raise ModuleArgError(f"{where}: {value!r} is not one of: {choices}")
    return value


def validate(spec: ModuleSpec, raw: dict) -> dict:
    """Check options against the spec, resolve aliases, apply defaults and types.

    An unknown option is an error naming the valid ones, as Ansible's "Unsupported parameters" is.
    """
    names = {alias: name for name, opt in spec.options.items() for alias in opt.aliases}
    names.update({name: name for name in spec.options})
    params: dict[str, Any] = {}
    unknown = sorted(k for k in raw if k not in names)
    if unknown:
        valid = ", ".join(sorted(spec.options))
        raise ModuleArgError(f"{spec.name}: unsupported option(s) {', '.join(unknown)}; valid options: {valid}")
    for key, value in raw.items():
        canonical = names[key]
        if canonical in params:
            raise ModuleArgError(f"{spec.name}: option {canonical!r} given twice (once as {key!r})")
        params[canonical] = value
    for name, option in spec.options.items():
        if params.get(name) is None:
            if option.required:
                raise ModuleArgError(f"{spec.name}: missing required option {name!r}")
            params[name] = option.default
        params[name] = _convert(spec, name, option, params[name])
    _check_relations(spec, raw, params)
    return params


def _check_relations(spec: ModuleSpec, raw: dict, params: dict) -> None:
    for group in spec.mutually_exclusive:
        given = [n for n in group if params.get(n) is not None and n in _given(spec, raw)]
        if len(given) > 1:
            raise ModuleArgError(f"{spec.name}: options are mutually exclusive: {', '.join(given)}")
    for group in spec.required_one_of:
        if all(params.get(n) is None for n in group):
            raise ModuleArgError(f"{spec.name}: one of these options is required: {', '.join(group)}")
    for name, value, needed in spec.required_if:
        if params.get(name) == value:
            missing = [n for n in needed if params.get(n) is None]
            if missing:
                raise ModuleArgError(f"{spec.name}: {name} is {value!r} but missing: {', '.join(missing)}")


def _given(spec: ModuleSpec, raw: dict) -> set[str]:
    names = {alias: name for name, opt in spec.options.items() for alias in opt.aliases}
    return {names.get(k, k) for k in raw}


# --- applying a plan -------------------------------------------------------------------------------

def apply_plan(plan: Plan, apply: Callable[[list[dict]], list[dict]], check: bool, diff: bool) -> dict:
    """A plan's outcome as the task's result: failed/skipped as planned, the diff rendered in diff mode,
    and the actions applied through `apply` (the agent's batch, or PowerShell on Windows) unless in check
    mode. `finish` turns the answers into the result; otherwise the first failed answer fails the task."""
    result = dict(plan.result)
    result.setdefault("changed", plan.is_changed)
    if plan.msg:
        result["msg"] = plan.msg
    if plan.failed or plan.skipped:
        result.update({"failed" if plan.failed else "skipped": True, "changed": False})
        return result
    if diff and plan.diff:
        result["_diff"] = [render_diff(d) for d in plan.diff]
    if check or not plan.actions:
        return result
    answers = apply(plan.actions)
    for answer in answers:
        backup = (answer.get("result") or {}).get("backup_file") if answer.get("ok") else None
        if backup:
            result["backup_file"] = backup
    if plan.finish:
        return plan.finish(answers, result)
    bad = next((a for a in answers if not a.get("ok")), None)
    if bad is not None:
        result.update(failed=True, msg=f"{bad.get('kind')}: {bad.get('error')}")
    return result


# --- helpers modules share -------------------------------------------------------------------------

def text_diff(before: str, after: str, before_header: str, after_header: str | None = None) -> dict:
    """A diff entry in Ansible's shape (the executor renders it as a unified diff)."""
    return {"before": before, "after": after, "before_header": before_header,
            "after_header": after_header or before_header}


def render_diff(entry: dict) -> str:
    """Unified diff text of one diff entry, headed like Ansible's `--- before: PATH` / `+++ after: PATH`."""
    before, after = entry.get("before", ""), entry.get("after", "")
    if isinstance(before, dict) or isinstance(after, dict):
        before = "".join(f"{k}: {v}\n" for k, v in sorted((before or {}).items()))
        after = "".join(f"{k}: {v}\n" for k, v in sorted((after or {}).items()))
    lines = difflib.unified_diff(
        str(before).splitlines(keepends=True), str(after).splitlines(keepends=True),
        fromfile=f"before: {entry.get('before_header', '')}", tofile=f"after: {entry.get('after_header', '')}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
