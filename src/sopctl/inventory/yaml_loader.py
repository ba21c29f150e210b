"""Ansible's YAML inventory format: groups with `hosts`, `vars` and `children`, recursively.

Unlike Ansible, which warns and skips an unknown key or a malformed group, every problem here is an
InputError naming file, line, column and the field path (`all.children.pcs.hosts`): a typo such
as `host:` for `hosts:` would otherwise silently drop machines from a compliance run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sopctl.errors import InputError
from sopctl.inventory.model import Inventory, InventoryGraphError, expand_host_entry
from sopctl.inventory.yaml_lines import key_mark, kind, load_yaml_file, node_mark, plain

GROUP_KEYS = ("hosts", "vars", "children")


def load_yaml_inventory(path: Path, inventory: Inventory) -> None:
    """Add the groups, hosts and vars of one YAML inventory file to `inventory`."""
    data = load_yaml_file(path)
    _check_top_level(data, str(path))
    parser = _YamlInventory(str(path), inventory)
    for name, body in data.items():
        parser.group(parser.name(name, data, ""), body, data, name, str(name))


def _check_top_level(data: Any, path: str) -> None:
    """The document must map group names to groups; say plainly what it is instead."""
    if data is None:
        raise InputError("empty YAML inventory; expected a mapping of group names such as 'all:'", path=path)
    if not isinstance(data, dict):
        line, column = node_mark(data)
        raise InputError(f"top level must be a mapping of group names such as 'all:', got {kind(data)}",
                         path=path, line=line or 1, column=column)
    if "plugin" in data:
        line, column = key_mark(data, "plugin")
        raise InputError("inventory plugins (a top-level 'plugin:' key) are not supported; list the hosts "
                         "in groups under 'all:'", path=path, line=line, column=column, field="plugin")


class _YamlInventory:
    """Walks the parsed document; each method checks one level so errors can name their field."""

    def __init__(self, path: str, inventory: Inventory):
        self.path, self.inventory = path, inventory

    def error(self, message: str, field: str, where: tuple) -> InputError:
        """An InputError at a key's position; `where` is (line, column) or (None, None)."""
        line, column = where
        return InputError(message, path=self.path, line=line, column=column, field=field or None)

    def name(self, raw: Any, container: dict, field: str) -> str:
        """Group and host names must be scalars; numbers are accepted as their text like YAML keys."""
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        raise self.error(f"expected a name, got {kind(raw)} {raw!r}", field, key_mark(container, raw))

    def group(self, name: str, body: Any, parent: dict, key: Any, field: str) -> None:
        """One group entry: null, or a mapping with only hosts/vars/children (in file order)."""
        self.inventory.add_group(name)
        if body is None:
            return
        if not isinstance(body, dict):
            raise self.error(f"group {name!r} must be a mapping with hosts/vars/children, got {kind(body)}",
                             field, key_mark(parent, key))
        for section, value in body.items():
            sub = f"{field}.{section}"
            if section not in GROUP_KEYS:
                raise self.error(f"unknown key {section!r} in group {name!r}; only hosts, vars and children "
                                 "are allowed", sub, key_mark(body, section))
            getattr(self, section)(name, value, body, section, sub)

    def vars(self, group: str, value: Any, body: dict, section: str, field: str) -> None:
        """`vars:` must be a mapping of variable names (strings) to values."""
        items = self.mapping(value, body, section, field)
        for key, item in items.items():
            where = self.where(items, key, body, section)
            if not isinstance(key, str):
                raise self.error(f"variable names must be strings, got {kind(key)} {key!r}", field, where)
            self.guard(lambda: self.inventory.set_group_var(group, key, plain(item)), f"{field}.{key}", where)

    def hosts(self, group: str, value: Any, body: dict, section: str, field: str) -> None:
        """`hosts:` maps host entries (ranges, host:port) to null or a mapping of host vars."""
        items = self.mapping(value, body, section, field)
        for raw, host_vars in items.items():
            entry = self.name(raw, items, field)
            where = self.where(items, raw, body, section)
            if host_vars is not None and not isinstance(host_vars, dict):
                raise self.error(f"vars of host {entry!r} must be a mapping, got {kind(host_vars)}",
                                 f"{field}.{entry}", where)
            names, port = self.guard(lambda: expand_host_entry(entry), f"{field}.{entry}", where)
            for host in names:
                self.inventory.add_host(host, group, port)
                self.host_vars(host, host_vars or {}, f"{field}.{entry}")

    def host_vars(self, host: str, host_vars: dict, field: str) -> None:
        """Set one host's vars, insisting on string names like group vars."""
        for key, item in host_vars.items():
            if not isinstance(key, str):
                raise self.error(f"variable names must be strings, got {kind(key)} {key!r}", field,
                                 key_mark(host_vars, key))
            self.inventory.set_host_var(host, key, plain(item))

    def children(self, group: str, value: Any, body: dict, section: str, field: str) -> None:
        """`children:` maps group names to group bodies; the edge is added before descending so a
        loop (even one built from YAML anchors) is refused instead of recursing forever."""
        items = self.mapping(value, body, section, field)
        for raw, child_body in items.items():
            child = self.name(raw, items, field)
            sub = f"{field}.{child}"
            self.guard(lambda: self.inventory.add_child(group, child), sub, self.where(items, raw, body, section))
            self.group(child, child_body, items, raw, sub)

    def mapping(self, value: Any, body: dict, section: str, field: str) -> dict:
        """Sections are mappings; null means empty and a bare string means one entry, like Ansible."""
        if value is None:
            return {}
        if isinstance(value, str) and section != "vars":
            return {value: None}
        if not isinstance(value, dict):
            raise self.error(f"{section!r} must be a mapping, got {kind(value)}", field, key_mark(body, section))
        return value

    @staticmethod
    def where(items: dict, key: Any, body: dict, section: str) -> tuple:
        """Position of an entry, falling back to its section key when written as a bare string."""
        found = key_mark(items, key)
        return found if found[0] is not None else key_mark(body, section)

    def guard(self, action, field: str, where: tuple):
        """Run a model operation, re-raising its graph/range complaint at this YAML position."""
        try:
            return action()
        except InventoryGraphError as exc:
            raise self.error(str(exc), field, where) from None
