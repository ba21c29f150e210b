"""Ansible host patterns, as used by `--limit` and a play's `hosts:`.

A pattern is terms separated by ',' (or ':' when there is no comma). A term is a host or group
name, an fnmatch wildcard (`web*`, `pc-0?`), or a regex after `~` (matched from the start, like
re.match), optionally followed by a subscript (`web[0]`, `web[1:3]`). A term prefixed `&` narrows
to hosts also in it, `!` removes its hosts. As in Ansible, plain terms are applied first in the
order written, then every `&` term, then every `!` term, whatever order they were written in.

Where Ansible only warns, a plain name that matches nothing is a PatternError here: a typo in
`--limit` must not silently run a compliance job against nothing, or, with `!`, against too much.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from sopctl.errors import PatternError
from sopctl.inventory.model import Host, Inventory, is_ipv6

_TERM = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+):([0-9]*))\]$")
_WILDCARD_CHARS = "*?["


def select_hosts(inventory: Inventory, pattern: str | list[str] | tuple[str, ...] | None) -> list[Host]:
    """Hosts matching `pattern`, in inventory order without duplicates; None/''/all/* mean all."""
    terms = order_terms(split_pattern(pattern))
    selected: dict[str, None] = {}
    for term in terms:
        if term[0] == "!":
            for name in _match_term(inventory, term[1:], pattern):
                selected.pop(name, None)
        elif term[0] == "&":
            keep = set(_match_term(inventory, term[1:], pattern))
            selected = {name: None for name in selected if name in keep}
        elif term in inventory.hosts:
            selected[term] = None  # Ansible: an exact host name wins over a same-named group here
        else:
            selected.update((name, None) for name in _match_term(inventory, term, pattern))
    return [host for name, host in inventory.hosts.items() if name in selected]


def split_pattern(pattern: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Terms of a pattern: a list is taken as given; a string splits on ',' else on ':' outside [..]."""
    if pattern is None:
        return []
    if isinstance(pattern, (list, tuple)):
        return [term for part in pattern for term in split_pattern(part)]
    if "," in pattern:
        terms = pattern.split(",")
    elif is_ipv6(pattern):
        terms = [pattern]
    else:
        terms = _TERM.findall(pattern) if ":" in pattern else [pattern]
    return [term.strip() for term in terms if term.strip()]


def order_terms(terms: list[str]) -> list[str]:
    """Unions, then intersections, then exclusions; only `&`/`!` terms imply `all` first."""
    unions = [t for t in terms if t[0] not in "&!"]
    intersections = [t for t in terms if t[0] == "&"]
    exclusions = [t for t in terms if t[0] == "!"]
    return (unions or ["all"]) + intersections + exclusions


def _match_term(inventory: Inventory, term: str, pattern) -> list[str]:
    """Host names one term selects, in inventory order, subscript applied."""
    if not term:
        raise PatternError(f"host pattern {_show(pattern)} has an empty term after '&' or '!'")
    expression, subscript = _split_subscript(term)
    names = _enumerate(inventory, expression, pattern)
    return _apply_subscript(names, subscript, term, pattern)


def _enumerate(inventory: Inventory, expression: str, pattern) -> list[str]:
    """Like Ansible: groups first; hosts too when no group matched or the term is a glob/regex."""
    matcher = _compile(expression, pattern)
    groups = [name for name in inventory.groups if matcher(name)]
    wanted: set[str] = set()
    for group in groups:
        wanted.update(h.name for h in inventory.group_hosts(group))
    if not groups or expression[0] == "~" or any(c in expression for c in _WILDCARD_CHARS + "."):
        wanted.update(name for name in inventory.hosts if matcher(name))
    if not groups and not wanted and _is_plain(expression):
        raise _unknown(inventory, expression, pattern)
    return [name for name in inventory.hosts if name in wanted]


def _compile(expression: str, pattern):
    """A match function: `~` is a regex anchored at the start (re.match), else fnmatch, both
    case-sensitive as in Ansible."""
    source = expression[1:] if expression[0] == "~" else fnmatch.translate(expression)
    try:
        return re.compile(source).match
    except re.error as exc:
        raise PatternError(
            f"host pattern {_show(pattern)}: invalid regular expression {expression!r}: {exc}") from None


def _is_plain(expression: str) -> bool:
    """A bare name (no glob, no regex) that matches nothing is a mistake, not an empty selection."""
    return expression[0] != "~" and not any(c in expression for c in _WILDCARD_CHARS)


def _split_subscript(term: str) -> tuple[str, tuple[int, int | None] | None]:
    """`web[0]` -> ('web', (0, None)); `web[1:3]` -> ('web', (1, 3)); `web[2:]` -> to the end."""
    if term[0] == "~":
        return term, None
    match = _SUBSCRIPT.match(term)
    if not match:
        return term, None
    expression, index, start, end = match.groups()
    if index is not None:
        return expression, (int(index), None)
    return expression, (int(start), int(end) if end else -1)


def _apply_subscript(names: list[str], subscript, term: str, pattern) -> list[str]:
    """Index or inclusive slice of the term's hosts; out of range is an error, as in Ansible."""
    if not names or subscript is None:
        return names
    start, end = subscript
    try:
        if end is None:
            return [names[start]]
        if end == -1:
            end = len(names) - 1
        if start >= len(names):
            raise IndexError(start)
        return names[start:end + 1]
    except IndexError:
        raise PatternError(f"host pattern {_show(pattern)}: subscript in {term!r} is out of range "
                           f"({len(names)} hosts)") from None


def _unknown(inventory: Inventory, name: str, pattern) -> PatternError:
    """Name the unknown term, suggest the closest names, and list a few groups to choose from."""
    known = list(inventory.groups) + list(inventory.hosts)
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    groups = [g for g in inventory.groups if g not in ("all", "ungrouped")]
    shown = ", ".join(groups[:8]) + (f", ... ({len(groups)} groups)" if len(groups) > 8 else "")
    return PatternError(f"host pattern {_show(pattern)}: no host or group named {name!r} in the inventory"
                        f"{hint} (groups: {shown or 'none besides all'})")


def _show(pattern) -> str:
    """The pattern as the user wrote it, for messages."""
    return repr(",".join(pattern) if isinstance(pattern, (list, tuple)) else pattern)
