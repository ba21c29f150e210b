"""Control-side actions: `debug`, `set_fact`, `assert`, `fail`, `meta`. They touch no host.

Their arguments are templated here rather than before, because `assert: that:` and `debug: var:` take
bare expressions, exactly as in Ansible.
"""

from __future__ import annotations

from ..modules.base import ModuleArgError, to_bool
from .templating import TemplateError, Templar

_OPTIONS = {
    "debug": {"msg", "var", "verbosity"},
    "set_fact": None,  # any variable name
    "assert": {"that", "fail_msg", "msg", "success_msg", "quiet"},
    "fail": {"msg"},
    "meta": {"_raw_params"},
}


def _check(name: str, args: dict) -> None:
    valid = _OPTIONS[name]
    unknown = sorted(set(args) - valid) if valid is not None else []
    if unknown:
        raise ModuleArgError(f"{name}: unsupported option(s) {', '.join(unknown)}; valid options: "
                             f"{', '.join(sorted(v for v in valid if not v.startswith('_')))}")


def run(name: str, args: dict, templar: Templar, host_run) -> dict:
    _check(name, args)
    return globals()[f"_{name}"](args, templar, host_run)


def _debug(args: dict, templar: Templar, host_run) -> dict:
    if "var" in args:
        expr = str(args["var"])
        try:
            value = templar.evaluate(expr)
        except TemplateError:
            value = "VARIABLE IS NOT DEFINED!"
        return {"changed": False, expr: value}
    return {"changed": False, "msg": templar.render(args.get("msg", "Hello world!"))}


def _set_fact(args: dict, templar: Templar, host_run) -> dict:
    facts = {k: templar.render(v) for k, v in args.items() if k != "cacheable"}
    host_run.host_level.update(facts)
    return {"changed": False, "ansible_facts": facts}


def _assert(args: dict, templar: Templar, host_run) -> dict:
    that = args.get("that")
    conditions = that if isinstance(that, list) else [that]
    for condition in conditions:
        if not templar.is_true(condition):
            msg = args.get("fail_msg", args.get("msg"))
            return {"failed": True, "changed": False, "assertion": condition, "evaluated_to": False,
                    "msg": templar.render(msg) if msg else f"Assertion failed: {condition}"}
    quiet = to_bool(args.get("quiet", False))
    return {"changed": False, "msg": "" if quiet else templar.render(args.get("success_msg", "All assertions passed"))}


def _fail(args: dict, templar: Templar, host_run) -> dict:
    return {"failed": True, "changed": False, "msg": templar.render(args.get("msg", "Failed as requested from task"))}


def _meta(args: dict, templar: Templar, host_run) -> dict:
    action = str(args.get("_raw_params", "")).strip()
    if action in ("noop", "flush_handlers", "refresh_inventory", "clear_facts"):
        return {"changed": False, "skipped": action == "noop", "msg": f"meta: {action}"}
    raise ModuleArgError(f"meta: {action!r} is not supported (supported: noop, flush_handlers)")
