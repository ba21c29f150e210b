"""Which module names exist, and where each one lives.

Names are Ansible's: the short name, `ansible.builtin.NAME`, `ansible.legacy.NAME`, and the collection
names of modules that live outside ansible.builtin (`ansible.posix.sysctl`). Host modules are imported on
first use; control-side actions (`debug`, `set_fact`, `assert`, `fail`) run in the executor.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

# name -> (python module under sopctl.modules, attribute)
REGISTRY: dict[str, tuple[str, str]] = {
    "command": ("command", "COMMAND"),
    "shell": ("command", "SHELL"),
    "lineinfile": ("lineinfile", "MODULE"),
    "blockinfile": ("blockinfile", "MODULE"),
    "copy": ("copy", "MODULE"),
    "template": ("template", "MODULE"),
    "file": ("file", "MODULE"),
    "stat": ("stat", "MODULE"),
    "apt": ("apt", "MODULE"),
    "package": ("package", "MODULE"),
    "service": ("service", "MODULE"),
    "systemd": ("service", "SYSTEMD"),
    "systemd_service": ("service", "SYSTEMD"),
    "sysctl": ("sysctl", "MODULE"),
    "user": ("user", "MODULE"),
    "group": ("group", "MODULE"),
}
ACTIONS = {"debug", "set_fact", "assert", "fail", "meta"}
COLLECTIONS: dict[str, tuple[str, ...]] = {"sysctl": ("ansible.posix",)}


def _add_windows() -> None:
    """The win_* family (run through PowerShell on Windows hosts, see winps.py)."""
    from .winps import COLLECTIONS as WIN_COLLECTIONS
    from .winps import REGISTRY_ENTRIES

    REGISTRY.update(REGISTRY_ENTRIES)
    COLLECTIONS.update(WIN_COLLECTIONS)


_add_windows()


def resolve(name: str) -> str | None:
    """The canonical short name of a module written as `copy`, `ansible.builtin.copy`, …; None if unknown."""
    short = name.rsplit(".", 1)[-1]
    prefix = name[: -len(short) - 1] if "." in name else ""
    if short not in REGISTRY and short not in ACTIONS:
        return None
    allowed = set(COLLECTIONS[short]) if short in COLLECTIONS else {"ansible.builtin", "ansible.legacy"}
    if prefix and prefix not in allowed:
        return None
    return short


@lru_cache(maxsize=None)
def load(name: str):
    """The module object for a canonical name."""
    module_path, attribute = REGISTRY[name]
    return getattr(importlib.import_module(f"{__package__}.{module_path}"), attribute)


def option_names(name: str) -> set[str] | None:
    """Every option name and alias a module accepts; None for control-side actions (checked when run)."""
    if name in ACTIONS:
        return None
    spec = load(name).spec
    names = set(spec.options)
    for option in spec.options.values():
        names.update(option.aliases)
    return names


def free_form_option(name: str) -> str | None:
    if name in ACTIONS:
        return "_raw_params" if name == "meta" else None
    return load(name).spec.free_form
