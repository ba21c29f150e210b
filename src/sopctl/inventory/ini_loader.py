"""Ansible's INI inventory format, following ansible-core's ini plugin line by line.

Sections are `[group]` (host lines), `[group:vars]` (key=value) and `[group:children]` (group
names); lines before any section belong to `ungrouped`. Values go through Python's literal parser
as Ansible does, so `port=22` is an int, `flag=True` a bool, and anything unparsable a string.
Every syntax problem is an InputError naming the file and line.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from pathlib import Path
from typing import Any

from sopctl.errors import InputError
from sopctl.inventory.model import Inventory, InventoryGraphError, expand_host_entry
from sopctl.inventory.yaml_lines import read_text

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$")
_GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:[#;].*)?$")
_STATES = ("hosts", "vars", "children")


def load_ini_inventory(path: Path, inventory: Inventory) -> None:
    """Add the groups, hosts and vars of one INI inventory file to `inventory`."""
    _IniInventory(str(path), inventory).parse(read_text(path).splitlines())


def parse_value(text: str) -> Any:
    """Ansible's INI value rule: a Python literal if it parses (22, True, [1, 2]), else the text.

    Unsupported literal types are turned back into text (complex numbers, `...`, bytes) and
    tuples/sets into lists, as ansible-core does, so every value is YAML-representable.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _coerce(value, text)


def _coerce(value: Any, text: str) -> Any:
    """Map literal_eval results onto the YAML-like types the rest of sopctl expects."""
    if isinstance(value, (list, tuple, set)):
        return [_coerce(item, repr(item)) for item in value]
    if isinstance(value, dict):
        return {key: _coerce(item, repr(item)) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if value is ... or isinstance(value, complex):
        return text if value is not ... else "..."
    return value


class _IniInventory:
    """One pass over the lines; forward references are allowed and checked at the end."""

    def __init__(self, path: str, inventory: Inventory):
        self.path, self.inventory = path, inventory
        self.lineno = 0
        self.pending: dict[str, dict[str, Any]] = {}

    def error(self, message: str, line: int | None = None) -> InputError:
        """An InputError at the current (or a remembered) line."""
        return InputError(message, path=self.path, line=line or self.lineno)

    def parse(self, lines: list[str]) -> None:
        """Dispatch each meaningful line on the current section state, then resolve references."""
        group, state = "ungrouped", "hosts"
        for self.lineno, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if _SECTION.match(line) or (line.startswith("[") and line.endswith("]")):
                group, state = self.section(line)
            else:
                getattr(self, f"{state}_line")(group, line)
        self.check_pending()

    def section(self, line: str) -> tuple[str, str]:
        """A `[name]` or `[name:kind]` header; `[x:vars]` alone does not define group x."""
        match = _SECTION.match(line)
        if not match:
            raise self.error(f"invalid section header {line!r}; expected [group], [group:vars] or "
                             "[group:children] with no spaces")
        group, state = match[1], match[2] or "hosts"
        if state not in _STATES:
            raise self.error(f"section [{group}:{state}] has unknown type {state!r}; expected vars or children")
        if group not in self.inventory.groups and state == "vars" and group not in self.pending:
            self.pending[group] = {"line": self.lineno, "state": "vars"}
        self.inventory.add_group(group)
        if state != "vars":
            self.declared(group)
        return group, state

    def declared(self, group: str) -> None:
        """A real declaration resolves earlier forward references to this group."""
        decl = self.pending.pop(group, None)
        if decl and decl["state"] == "children":
            for parent in decl["parents"]:
                self.link(parent, group, decl["line"])

    def hosts_line(self, group: str, line: str) -> None:
        """`name[:port] [key=value ...]`, split like a shell line with `#` comments."""
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise self.error(f"cannot parse host line {line!r}: {exc}") from None
        if not tokens:
            return
        if tokens[0] == "---":
            raise self.error("'---' is not a host; this looks like a YAML file (use a .yml extension)")
        names, port = self.guard(lambda: expand_host_entry(tokens[0]))
        host_vars = dict(self.assignment(token, "host variable") for token in tokens[1:])
        for name in names:
            self.inventory.add_host(name, group, port)
            for key, value in host_vars.items():
                self.inventory.set_host_var(name, key, value)

    def vars_line(self, group: str, line: str) -> None:
        """`key = value`; everything after the first '=' is the value (no shell splitting)."""
        key, value = self.assignment(line, "group variable")
        self.guard(lambda: self.inventory.set_group_var(group, key, value))

    def children_line(self, group: str, line: str) -> None:
        """A child group name; it may be declared later in the file, as Ansible allows."""
        match = _GROUP_NAME.match(line)
        if not match:
            raise self.error(f"expected a group name in [{group}:children], got {line!r}")
        child = match[1]
        if child in self.inventory.groups:
            self.link(group, child, self.lineno)
        else:
            decl = self.pending.setdefault(child, {"line": self.lineno, "state": "children", "parents": []})
            decl.setdefault("parents", []).append(group)

    def assignment(self, text: str, what: str) -> tuple[str, Any]:
        """Split `key=value` and parse the value; a missing '=' or name is a syntax error."""
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise self.error(f"expected key=value {what}, got {text!r}")
        return key.strip(), parse_value(value.strip())

    def link(self, parent: str, child: str, line: int) -> None:
        """Add a children edge, reporting a loop at the line that wrote the edge."""
        try:
            self.inventory.add_child(parent, child)
        except InventoryGraphError as exc:
            raise self.error(str(exc), line) from None

    def check_pending(self) -> None:
        """References to groups never declared are errors in Ansible, reported at their first line."""
        for name, decl in self.pending.items():
            if decl["state"] == "vars":
                raise self.error(f"section [{name}:vars] is for group {name!r}, which is never declared "
                                 f"(add [{name}] or list it under a [parent:children])", decl["line"])
            parent = decl["parents"][-1]
            raise self.error(f"section [{parent}:children] includes group {name!r}, which is never declared "
                             f"(add a [{name}] section, even an empty one)", decl["line"])

    def guard(self, action):
        """Run a model operation, re-raising its complaint at the current line."""
        try:
            return action()
        except InventoryGraphError as exc:
            raise self.error(str(exc)) from None
