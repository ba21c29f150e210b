"""The inventory as data: hosts, groups, and the rules Ansible uses to combine their variables.

Loaders (YAML, INI) only call the small builder API here (`add_group`, `add_child`, `add_host`,
`set_group_var`, `set_host_var`) and then `finalize`; keeping the graph rules and the variable
precedence in one place is what makes a YAML and an INI inventory of the same shape behave the same.
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass, field
from typing import Any

from sopctl.errors import PatternError

#: Group names Ansible always creates; they are never reported in `Host.groups`.
IMPLICIT_GROUPS = ("all", "ungrouped")


class InventoryGraphError(ValueError):
    """A group edge or value the graph cannot hold; loaders re-raise it as InputError with a location."""


@dataclass(frozen=True, repr=False)
class VaultValue:
    """A `!vault` scalar kept encrypted: loading must not need the vault password, using it will."""

    ciphertext: str

    def __repr__(self) -> str:
        """Never dump the blob into logs or diffs; its size is enough to recognise it."""
        return f"VaultValue(<{len(self.ciphertext)} chars encrypted>)"


@dataclass
class Group:
    """A named set of hosts; `vars` are the group's own vars from inventory sources only."""

    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    #: `ansible_group_priority` (default 1): orders groups of equal depth when merging vars.
    priority: int = 1
    #: Longest distance from `all` (0); deeper groups are more specific and win merges.
    depth: int = 0


@dataclass
class Host:
    """A target machine; `vars` is its effective variables after all precedence rules."""

    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    #: Every group the host is in, directly or through a parent, without all/ungrouped; sorted.
    groups: list[str] = field(default_factory=list)
    #: Vars set on the host line/entry in inventory sources (before group_vars/host_vars files).
    inventory_vars: dict[str, Any] = field(default_factory=dict)
    #: Same as `groups` plus the implicit all/ungrouped; what patterns and `groups` match against.
    member_of: frozenset[str] = field(default=frozenset(), repr=False)


@dataclass
class VarsDir:
    """The group_vars/ and host_vars/ found next to one inventory source, already parsed."""

    path: str
    group_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Inventory:
    """Hosts and groups from one or more sources, with Ansible's implicit `all` and `ungrouped`."""

    sources: list[str] = field(default_factory=list)
    hosts: dict[str, Host] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    vars_dirs: list[VarsDir] = field(default_factory=list)
    _groups_cache: dict[str, list[str]] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Every inventory has `all` and `ungrouped`, even an empty one, so patterns can rely on them."""
        for name in IMPLICIT_GROUPS:
            self.add_group(name)
        self.add_child("all", "ungrouped")

    # -- builder API used by the loaders -------------------------------------------------------

    def add_group(self, name: str) -> Group:
        """Create the group once; repeated declarations in several places are normal."""
        if name not in self.groups:
            self.groups[name] = Group(name)
        return self.groups[name]

    def add_child(self, parent: str, child: str) -> None:
        """Link two groups, refusing a loop because a group inside itself has no defined vars order."""
        parent_group, child_group = self.add_group(parent), self.add_group(child)
        if parent == child or child in self.ancestors(parent):
            loop = " -> ".join(self._path(child, parent) + [child])
            raise InventoryGraphError(f"group {child!r} would become its own ancestor ({loop})")
        if child not in parent_group.children:
            parent_group.children.append(child)
            child_group.parents.append(parent)

    def add_host(self, name: str, group: str | None = None, port: int | None = None) -> Host:
        """Add or reuse a host; first appearance fixes its place in inventory order."""
        host = self.hosts.setdefault(name, Host(name))
        if group is not None:
            members = self.add_group(group).hosts
            if name not in members:
                members.append(name)
        if port is not None:
            host.inventory_vars["ansible_port"] = port
        return host

    def set_group_var(self, group: str, key: str, value: Any) -> None:
        """Set a group var from an inventory source; `ansible_group_priority` is consumed like Ansible."""
        target = self.add_group(group)
        if key == "ansible_group_priority":
            try:
                target.priority = int(value)
            except (TypeError, ValueError):
                raise InventoryGraphError(f"ansible_group_priority must be an integer, got {value!r}") from None
            return
        target.vars[key] = value

    def set_host_var(self, host: str, key: str, value: Any) -> None:
        """Set a host var from an inventory source; a later source replaces an earlier value."""
        self.add_host(host).inventory_vars[key] = value

    def finalize(self, vars_dirs: list[VarsDir] | None = None) -> None:
        """Apply Ansible's reconcile step, then compute depths, memberships and effective vars."""
        self.vars_dirs = list(vars_dirs or [])
        self._groups_cache = None
        self._reconcile()
        self._compute_depths()
        for host in self.hosts.values():
            host.member_of = frozenset(self._host_groups(host.name))
            host.groups = sorted(host.member_of.difference(IMPLICIT_GROUPS))
            host.vars = merge_layers(layer for _, layer in self.var_layers(host.name))
        self._check_name_clashes()

    # -- queries ---------------------------------------------------------------------------------

    def ancestors(self, group: str) -> set[str]:
        """All groups above `group`; used for membership and for refusing cycles."""
        seen: set[str] = set()
        stack = list(self.groups[group].parents) if group in self.groups else []
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(self.groups[name].parents)
        return seen

    def group_hosts(self, group: str) -> list[Host]:
        """Hosts in `group` or any descendant, in inventory order (what `groups[...]` shows)."""
        return [host for host in self.hosts.values() if group in host.member_of]

    def select(self, pattern: str | list[str] | None = None) -> list[Host]:
        """Hosts matching an Ansible host pattern (see patterns.py), in inventory order."""
        from sopctl.inventory.patterns import select_hosts

        return select_hosts(self, pattern)

    def sorted_groups(self, host: str) -> list[Group]:
        """The host's groups except `all`, in merge order: (depth, priority, name) like Ansible."""
        groups = [self.groups[name] for name in self.hosts[host].member_of if name != "all"]
        return sorted(groups, key=lambda g: (g.depth, g.priority, g.name))

    def var_layers(self, host: str) -> list[tuple[str, dict[str, Any]]]:
        """Every source of the host's vars, lowest precedence first, labelled to explain a value."""
        groups = self.sorted_groups(host)
        layers = [("inventory group all", self.groups["all"].vars)]
        layers += [(f"inventory group {g.name}", g.vars) for g in groups]
        layers += [(f"{vd.path}/group_vars/all", vd.group_vars["all"])
                   for vd in self.vars_dirs if "all" in vd.group_vars]
        layers += [(f"{vd.path}/group_vars/{g.name}", vd.group_vars[g.name])
                   for vd in self.vars_dirs for g in groups if g.name in vd.group_vars]
        layers.append((f"inventory host {host}", self.hosts[host].inventory_vars))
        layers += [(f"{vd.path}/host_vars/{host}", vd.host_vars[host])
                   for vd in self.vars_dirs if host in vd.host_vars]
        return layers

    def groups_dict(self) -> dict[str, list[str]]:
        """The `groups` magic var: every group and the host names in it or its descendants.

        Computed once per finalize because every host's vars include it; callers get fresh lists.
        """
        if self._groups_cache is None:
            self._groups_cache = {name: [h.name for h in self.group_hosts(name)] for name in self.groups}
        return {name: list(members) for name, members in self._groups_cache.items()}

    def host_vars(self, name: str) -> dict[str, Any]:
        """Effective vars plus Ansible's inventory magic vars, which always win over user vars."""
        if name not in self.hosts:
            raise PatternError(f"no host named {name!r} in the inventory")
        host = self.hosts[name]
        result = dict(host.vars)
        result.update(
            inventory_hostname=name,
            inventory_hostname_short=short_hostname(name),
            group_names=sorted(host.member_of - {"all"}),
            groups=self.groups_dict(),
        )
        return result

    # -- internals -------------------------------------------------------------------------------

    def _reconcile(self) -> None:
        """Hang parentless groups under `all`; put hosts without a real group in `ungrouped` only."""
        for name, group in self.groups.items():
            if name != "all" and not group.parents:
                self.add_child("all", name)
        ungrouped = self.groups["ungrouped"]
        for name in self.hosts:
            real = self._host_groups(name) - set(IMPLICIT_GROUPS)
            if real and name in ungrouped.hosts:
                ungrouped.hosts.remove(name)
            elif not real and name not in ungrouped.hosts:
                ungrouped.hosts.append(name)

    def _compute_depths(self) -> None:
        """Depth = longest path from `all`, as Ansible's add_child propagates it."""
        memo: dict[str, int] = {}

        def depth(name: str) -> int:
            if name not in memo:
                parents = self.groups[name].parents
                memo[name] = 1 + max(depth(p) for p in parents) if parents else 0
            return memo[name]

        for name, group in self.groups.items():
            group.depth = depth(name)

    def _host_groups(self, host: str) -> set[str]:
        """Direct groups of a host plus all their ancestors, always including `all`."""
        direct = {g.name for g in self.groups.values() if host in g.hosts}
        result = set(direct) | {"all"}
        for name in direct:
            result |= self.ancestors(name)
        return result

    def _path(self, start: str, goal: str) -> list[str]:
        """One descent path start -> ... -> goal, to show the user the loop they wrote."""
        if start == goal:
            return [start]
        for child in self.groups[start].children:
            rest = self._path(child, goal)
            if rest:
                return [start] + rest
        return []

    def _check_name_clashes(self) -> None:
        """Ansible warns when a host and a group share a name: patterns then pick the group."""
        for name in self.hosts:
            if name in self.groups:
                self.warnings.append(f"found both a group and a host named {name!r}")


def merge_layers(layers) -> dict[str, Any]:
    """Replace-merge (Ansible's default hash_behaviour=replace): a later layer's key wins whole."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    return merged


def short_hostname(name: str) -> str:
    """`inventory_hostname_short`: up to the first dot, except IP addresses which stay whole."""
    try:
        ipaddress.ip_address(name)
        return name
    except ValueError:
        return name.split(".")[0]


# -- host entries shared by the YAML and INI loaders -------------------------------------------

_PORT_SUFFIX = re.compile(r"^(?P<host>.+):(?P<port>[0-9]+)$")
_BRACKETED_V6 = re.compile(r"^\[(?P<host>[^\]]+)\]:(?P<port>[0-9]+)$")


def split_host_port(entry: str) -> tuple[str, int | None]:
    """Separate Ansible's `host:port` shorthand, without mistaking IPv6 or `[a:b]` ranges for it."""
    if is_ipv6(entry):
        return entry, None
    match = _BRACKETED_V6.match(entry)
    if match and is_ipv6(match["host"]):
        return match["host"], int(match["port"])
    match = _PORT_SUFFIX.match(entry)
    if match and ":" not in _outside_brackets(match["host"]):
        return match["host"], int(match["port"])
    return entry, None


def is_ipv6(text: str) -> bool:
    """True for a bare IPv6 address, whose colons are not a port separator."""
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv6Address)
    except ValueError:
        return False


def _outside_brackets(text: str) -> str:
    """The text with every `[...]` removed, so a range's colon is not seen as a port colon."""
    return re.sub(r"\[[^\]]*\]", "", text)


def expand_host_entry(entry: str) -> tuple[list[str], int | None]:
    """Turn one inventory host entry (`pc-[01:20]:2222`) into host names and an optional port."""
    pattern, port = split_host_port(entry.strip())
    if pattern.endswith(":"):
        raise InventoryGraphError(f"host {entry!r} ends in ':'; that character is reserved for a port")
    return (expand_hostname_range(pattern) if "[" in pattern else [pattern]), port


def expand_hostname_range(pattern: str) -> list[str]:
    """Expand the first `[start:end(:step)]` (numeric with zero padding, or letters), recursively."""
    head, sep, rest = pattern.partition("[")
    body, close, tail = rest.partition("]")
    if not sep or not close:
        raise InventoryGraphError(f"host range in {pattern!r} is missing its closing ']'")
    values = _range_values(body, pattern)
    names: list[str] = []
    for value in values:
        name = f"{head}{value}{tail}"
        names.extend(expand_hostname_range(name) if "[" in name else [name])
    return names


def _range_values(body: str, pattern: str) -> list[str]:
    """The values of one range body; `[01:10]` keeps the width of its start like Ansible."""
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise InventoryGraphError(f"host range [{body}] in {pattern!r} must be [start:end] or [start:end:step]")
    begin, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise InventoryGraphError(f"host range [{body}] in {pattern!r} has no end value")
    step = _int(step_text, body, pattern)
    if step <= 0:
        raise InventoryGraphError(f"host range [{body}] in {pattern!r} needs a positive step")
    if begin in string.ascii_letters and end in string.ascii_letters:
        return _alpha_range(begin, end, step, body, pattern)
    return _numeric_range(begin, end, step, body, pattern)


def _alpha_range(begin: str, end: str, step: int, body: str, pattern: str) -> list[str]:
    """Letters in Ansible's order (a-z then A-Z), inclusive of the end letter."""
    first, last = string.ascii_letters.index(begin), string.ascii_letters.index(end)
    if first > last:
        raise InventoryGraphError(f"host range [{body}] in {pattern!r} must have start <= end")
    return list(string.ascii_letters[first:last + 1:step])


def _numeric_range(begin: str, end: str, step: int, body: str, pattern: str) -> list[str]:
    """Numbers inclusive of the end; a leading zero pads every value to the start's width."""
    start, stop = _int(begin, body, pattern), _int(end, body, pattern)
    if start > stop:
        raise InventoryGraphError(f"host range [{body}] in {pattern!r} must have start <= end")
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise InventoryGraphError(f"host range [{body}] in {pattern!r} needs start and end of equal width")
    return [str(n).zfill(width) for n in range(start, stop + 1, step)]


def _int(text: str, body: str, pattern: str) -> int:
    """Parse a range bound, naming the range on failure."""
    try:
        return int(text)
    except ValueError:
        raise InventoryGraphError(f"host range [{body}] in {pattern!r} has a non-numeric bound {text!r}") from None
