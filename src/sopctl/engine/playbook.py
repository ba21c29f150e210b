"""Playbooks: Ansible's YAML format read into plays and tasks, with every mistake located.

A playbook is a list of plays; a play has `hosts`, `vars`, `vars_files`, `become`, `gather_facts`,
`tasks`, `handlers`. A task is one module plus keywords (`when`, `loop`, `register`, `notify`, …). The
loader checks everything that can be checked before touching a host — unknown keywords, unknown modules,
unknown module options (when written literally) — and reports `file:line: field: problem`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..modules.base import ModuleArgError
from ..modules.registry import ACTIONS, resolve
from ..yamlsrc import Node, field_error, load_yaml

PLAY_KEYS = {"name", "hosts", "vars", "vars_files", "become", "become_user", "gather_facts", "tasks",
             "handlers", "pre_tasks", "post_tasks", "tags", "check_mode", "diff", "no_log", "environment",
             "any_errors_fatal", "serial", "strategy", "remote_user", "connection"}
TASK_KEYS = {"name", "when", "loop", "with_items", "with_list", "loop_control", "register", "notify", "tags",
             "become", "become_user", "changed_when", "failed_when", "ignore_errors", "check_mode", "diff",
             "no_log", "sop", "vars", "environment", "listen", "args", "until", "retries", "delay"}
UNSUPPORTED = {"block": "blocks", "rescue": "blocks", "always": "blocks", "include_tasks": "includes",
               "import_tasks": "imports", "import_playbook": "imports", "include_role": "roles",
               "import_role": "roles", "roles": "roles", "delegate_to": "delegation", "run_once": "run_once",
               "local_action": "local_action", "async": "async", "poll": "async"}


@dataclass
class Task:
    """One task: its module, raw (untemplated) arguments and keywords, and where it was written."""

    module: str
    args: dict
    name: str | None = None
    when: Any = None
    loop: Any = None
    loop_var: str = "item"
    label: str | None = None
    register: str | None = None
    notify: list[str] = field(default_factory=list)
    listen: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    become: bool | None = None
    become_user: str | None = None
    changed_when: Any = None
    failed_when: Any = None
    ignore_errors: bool = False
    check_mode: bool | None = None
    diff: bool | None = None
    no_log: bool = False
    sop: list[str] = field(default_factory=list)
    vars: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    path: str = ""
    line: int | None = None

    @property
    def title(self) -> str:
        return self.name or self.module

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class Play:
    name: str
    hosts: str
    tasks: list[Task]
    handlers: list[Task] = field(default_factory=list)
    vars: dict = field(default_factory=dict)
    vars_files: list[str] = field(default_factory=list)
    become: bool = False
    become_user: str = "root"
    gather_facts: bool = True
    tags: list[str] = field(default_factory=list)
    check_mode: bool | None = None
    path: str = ""
    line: int | None = None


@dataclass
class Playbook:
    path: Path
    plays: list[Play]

    @property
    def folder(self) -> Path:
        return self.path.parent


def load_playbook(path: str | Path) -> Playbook:
    """Read and check a whole playbook; nothing is returned unless all of it is valid."""
    path = Path(path)
    data = load_yaml(path)
    if not isinstance(data, list) or not data:
        raise InputError("a playbook is a non-empty list of plays", str(path), getattr(data, "line", 1))
    return Playbook(path, [_play(path, item, i) for i, item in enumerate(data)])


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _bool(path: Path, node: Node, key: str, default):
    value = node.get(key, default)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "true", "no", "false", "on", "off"):
        return value.lower() in ("yes", "true", "on")
    raise field_error(path, node, key, f"must be true or false, not {value!r}")


def _play(path: Path, node: Any, index: int) -> Play:
    if not isinstance(node, Node):
        raise InputError(f"play {index + 1} must be a mapping", str(path), getattr(node, "line", None))
    for key in node:
        if key in UNSUPPORTED:
            raise field_error(path, node, key, f"{UNSUPPORTED[key]} are not supported by sopctl yet")
        if key not in PLAY_KEYS:
            raise field_error(path, node, key, f"unknown play keyword; valid: {', '.join(sorted(PLAY_KEYS))}")
    if "hosts" not in node:
        raise field_error(path, node, "hosts", "every play needs `hosts:` (a host pattern)")
    for key in ("vars",):
        if key in node and not isinstance(node[key], dict):
            raise field_error(path, node, key, "must be a mapping")
    tasks = [*_tasks(path, node, "pre_tasks"), *_tasks(path, node, "tasks"), *_tasks(path, node, "post_tasks")]
    hosts = node["hosts"]
    return Play(
        name=str(node.get("name") or hosts), hosts=",".join(hosts) if isinstance(hosts, list) else str(hosts),
        tasks=tasks, handlers=_tasks(path, node, "handlers"), vars=dict(node.get("vars") or {}),
        vars_files=_as_list(node.get("vars_files")), become=bool(_bool(path, node, "become", False)),
        become_user=str(node.get("become_user") or "root"),
        gather_facts=bool(_bool(path, node, "gather_facts", True)), tags=_as_list(node.get("tags")),
        check_mode=_bool(path, node, "check_mode", None), path=str(path), line=node.line,
    )


def _tasks(path: Path, play: Node, key: str) -> list[Task]:
    items = play.get(key) or []
    if not isinstance(items, list):
        raise field_error(path, play, key, "must be a list of tasks")
    return [_task(path, item, play, key, i) for i, item in enumerate(items)]


def _task(path: Path, node: Any, play: Node, key: str, index: int) -> Task:
    if not isinstance(node, Node):
        raise InputError(f"{key}[{index}] must be a mapping (a task)", str(path), play[key].line_of(index))
    for name in node:
        if name in UNSUPPORTED:
            raise field_error(path, node, name, f"{UNSUPPORTED[name]} are not supported by sopctl yet")
    candidates = [k for k in node if k not in TASK_KEYS]
    if len(candidates) != 1:
        found = ", ".join(candidates) if candidates else "none"
        raise InputError(f"a task needs exactly one module (found: {found})", str(path), node.line,
                         field=f"{key}[{index}]")
    module_key = candidates[0]
    module_name = resolve(module_key)
    if module_name is None:
        raise field_error(path, node, module_key, f"unknown module {module_key!r}; known modules: "
                                                  f"{', '.join(sorted(_known()))}")
    args = _module_args(path, node, module_key, module_name)
    loop = node.get("loop", node.get("with_items", node.get("with_list")))
    loop_control = node.get("loop_control") or {}
    task = Task(
        module=module_name, args=args, name=node.get("name"), when=node.get("when"), loop=loop,
        loop_var=str(loop_control.get("loop_var", "item")), label=loop_control.get("label"),
        register=node.get("register"), notify=_as_list(node.get("notify")), listen=_as_list(node.get("listen")),
        tags=_as_list(node.get("tags")), become=_bool(path, node, "become", None),
        become_user=node.get("become_user"), changed_when=node.get("changed_when"),
        failed_when=node.get("failed_when"), ignore_errors=bool(_bool(path, node, "ignore_errors", False)),
        check_mode=_bool(path, node, "check_mode", None), diff=_bool(path, node, "diff", None),
        no_log=bool(_bool(path, node, "no_log", False)), sop=[str(s) for s in _as_list(node.get("sop"))],
        vars=dict(node.get("vars") or {}), environment=dict(node.get("environment") or {}),
        path=str(path), line=node.line,
    )
    _check_static_options(path, node, module_key, task)
    return task


def _known() -> set[str]:
    from ..modules.registry import REGISTRY

    return {n for n in (*REGISTRY, *ACTIONS) if "." not in n}


def _module_args(path: Path, node: Node, module_key: str, module_name: str) -> dict:
    """A module's arguments: a mapping, or Ansible's free form (`command: ls -l` / `file: path=/x state=touch`)."""
    raw = node[module_key]
    extra = node.get("args") or {}
    if raw is None:
        args: dict = {}
    elif isinstance(raw, dict):
        args = dict(raw)
    elif isinstance(raw, str):
        args = _free_form(path, node, module_key, module_name, raw)
    else:
        raise field_error(path, node, module_key, "module arguments must be a mapping or a string")
    return {**extra, **args}


def _free_form(path: Path, node: Node, module_key: str, module_name: str, text: str) -> dict:
    from ..modules.registry import free_form_option

    free = free_form_option(module_name)
    if free:
        return {"_raw_params": text}
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise field_error(path, node, module_key, f"cannot parse `k=v` arguments: {exc}") from None
    args = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise field_error(path, node, module_key, f"expected key=value, found {word!r}")
        args[key] = value
    return args


def _check_static_options(path: Path, node: Node, module_key: str, task: Task) -> None:
    """Unknown option names are known before any host is touched: report them with the task's line."""
    from ..modules.registry import option_names

    valid = option_names(task.module)
    if valid is None:
        return
    unknown = sorted(k for k in task.args if k not in valid and k != "_raw_params")
    if unknown:
        raise field_error(path, node, module_key,
                          f"{task.module}: unsupported option(s) {', '.join(unknown)}; valid options: "
                          f"{', '.join(sorted(o for o in valid if not o.startswith('_')))}")


__all__ = ["Play", "Playbook", "Task", "load_playbook", "ModuleArgError"]
