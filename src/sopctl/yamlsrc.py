"""YAML that remembers where each value came from.

Every file a user writes (the SOP catalog, checks, playbooks, inventory) is YAML, and every mistake in one
must be reported as `file:line: field: what is wrong`. PyYAML throws the line numbers away once it has
built Python objects, so this module keeps them: `load_yaml()` returns plain-looking data in which each
mapping is a `Node` (a `dict`) and each sequence a `NodeList` (a `list`), both knowing the line they start
on, the line of each of their keys or items, and their dotted field path from the document root.

Loaders built on top stay short:

    data = load_yaml(path)
    if "id" not in data:
        raise field_error(path, data, "id", "is required")

Lines and columns are 1-based, as editors show them. Scalars stay plain `str`/`int`/`bool`/... (ask the
enclosing `Node` for their line). Duplicate keys in one mapping are an error rather than PyYAML's silent
"last one wins", because a repeated key in a hand-written file is always a mistake.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Hashable, Iterable

import yaml

from sopctl.errors import InputError

# The C loader is ~10x faster; its nodes carry the same marks, and only our constructor (Python) runs.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FieldPath = tuple  # of str keys and int indexes, from the document root


class Node(dict):
    """A YAML mapping: a `dict` that also knows its start line, each key's line and its field path."""

    line: int | None = None
    path: FieldPath = ()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._lines: dict[Hashable, int] = {}

    def line_of(self, key: Hashable) -> int | None:
        """1-based line where `key` is written, or None when the key is absent (or built in code)."""
        return self._lines.get(key)


class NodeList(list):
    """A YAML sequence: a `list` that also knows its start line, each item's line and its field path."""

    line: int | None = None
    path: FieldPath = ()

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._lines: list[int | None] = []

    def line_of(self, index: int) -> int | None:
        """1-based line where item `index` starts, or None when there is no such item."""
        try:
            return self._lines[index] if index >= 0 else None
        except IndexError:
            return None


def load_yaml(path: str | Path) -> Any:
    """Read one YAML document from `path` with line tracking; an empty file gives None.

    Any problem (unreadable file, bad encoding, bad YAML, a duplicate key) is an `InputError` naming the
    file and, when YAML knows it, the line and column.
    """
    text = _read_text(path)
    loader = _TrackingLoader(text)
    loader.source_path = str(path)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(path, exc) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=str(path)) from None
    finally:
        loader.dispose()
    _assign_paths(data, (), set())
    return data


def field_name(parts: Iterable[Any]) -> str:
    """Render a field path like ('items', 12, 'time', 'kind') as 'items[12].time.kind'."""
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def field_error(path: str | Path, node: Any, key: Any, message: str) -> InputError:
    """Build (not raise) the InputError for `node[key]`: file, line of the key and dotted field path.

    `key` may be absent from `node` (a missing required field): the error then points at the line where
    `node` starts. `key=None` blames the node itself. A `node` that is not from `load_yaml()` still gives a
    usable message, just without a line.
    """
    base = tuple(getattr(node, "path", ()))
    parts = base if key is None else base + (key,)
    line = _line_for(node, key)
    return InputError(message, path=str(path), line=line, field=field_name(parts) or None)


def _line_for(node: Any, key: Any) -> int | None:
    """The best line to blame: the key's own line, else the node's start line."""
    line = None
    if key is not None and hasattr(node, "line_of"):
        line = node.line_of(key)
    return line if line is not None else getattr(node, "line", None)


def _read_text(path: str | Path) -> str:
    """Read the file as UTF-8 (a BOM is tolerated), turning OS and encoding failures into InputError."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=str(path)) from None


def _yaml_error(path: str | Path, exc: yaml.MarkedYAMLError) -> InputError:
    """Turn PyYAML's error into one line: its problem, at its problem mark (1-based)."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "malformed YAML"
    if exc.context and exc.problem:
        problem = f"{problem} ({exc.context})"
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return InputError(f"invalid YAML: {problem}", path=str(path), line=line, column=column)


def _assign_paths(data: Any, path: FieldPath, seen: set[int]) -> None:
    """Give every Node/NodeList its field path from the root; shared (aliased) nodes keep the first."""
    if not isinstance(data, (Node, NodeList)) or id(data) in seen:
        return
    seen.add(id(data))
    data.path = path
    children = data.items() if isinstance(data, Node) else enumerate(data)
    for key, value in children:
        _assign_paths(value, path + (key,), seen)


class _TrackingLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader whose maps and sequences become Node/NodeList with line marks."""

    source_path = "<yaml>"

    def construct_tracked_map(self, node: yaml.MappingNode):
        """Build a Node, noting each key's line; yields first so recursive structures work as in PyYAML."""
        data = Node()
        data.line = node.start_mark.line + 1
        yield data
        written = {id(key_node) for key_node, _ in node.value}
        self.flatten_mapping(node)  # resolves `<<` merge keys like SafeLoader does
        explicit: dict[Hashable, int] = {}  # keys written here (merged ones may be overridden)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=False)
            line = key_node.start_mark.line + 1
            if id(key_node) in written:
                self._check_key(explicit, key, key_node)
                explicit[key] = line
            data[key] = self.construct_object(value_node, deep=False)
            data._lines[key] = line

    def construct_tracked_seq(self, node: yaml.SequenceNode):
        """Build a NodeList, noting each item's line."""
        data = NodeList()
        data.line = node.start_mark.line + 1
        yield data
        for item_node in node.value:
            data.append(self.construct_object(item_node, deep=False))
            data._lines.append(item_node.start_mark.line + 1)

    def _check_key(self, seen: dict[Hashable, int], key: Any, key_node: yaml.Node) -> None:
        """Refuse unhashable and repeated keys (`seen`: key -> line), naming both lines for a repeat."""
        mark = key_node.start_mark
        try:
            hash(key)
        except TypeError:
            raise InputError("a mapping key must be a plain value", path=self.source_path,
                             line=mark.line + 1, column=mark.column + 1) from None
        if key in seen:
            raise InputError(f"duplicate key {key!r} (first at line {seen[key]})",
                             path=self.source_path, line=mark.line + 1, column=mark.column + 1)


_TrackingLoader.add_constructor("tag:yaml.org,2002:map", _TrackingLoader.construct_tracked_map)
_TrackingLoader.add_constructor("tag:yaml.org,2002:seq", _TrackingLoader.construct_tracked_seq)


# --------------------------------------------------------------------------------- typed field reads

TYPE_NAMES = {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a list",
              dict: "a mapping", type(None): "empty", _dt.date: "a date"}


def describe(value: Any, names: dict | None = None) -> str:
    """Name a YAML value's type the way the file's author thinks of it."""
    for kind, name in (names or TYPE_NAMES).items():
        if type(value) is kind or (kind is not bool and isinstance(value, kind)):
            return name
    return type(value).__name__


class Fields:
    """Typed, line-aware reads of one mapping of a file: each failure names file, line and field.

    The SOP catalog and the check files read their mappings through this, so a wrong type, a missing or
    misspelt field reads the same in both: `file:line: field: must be an integer, not a string`.
    Subclasses may name types in their own words (`type_names`).
    """

    type_names = TYPE_NAMES

    def __init__(self, path: str | Path, node: Any):
        self.path, self.node = str(path), node

    def error(self, key: Any, message: str) -> InputError:
        return field_error(self.path, self.node, key, message)

    def only(self, *allowed: str) -> None:
        """Refuse unknown keys: a misspelt optional field must not silently vanish."""
        for key in self.node:
            if key not in allowed:
                raise self.error(key, f"unknown field; expected one of: {', '.join(allowed)}")

    def get(self, key: str, kind: type | tuple[type, ...], required: bool = True) -> Any:
        """The value of `key` if it has (one of) type `kind`; None when optional and absent (or null)."""
        value = self.node.get(key)
        if value is None:
            if required:
                raise self.error(key, "is required")
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            want = " or ".join(self.type_names.get(k, k.__name__) for k in kinds)
            found = describe(value, self.type_names)
            hint = f" (YAML read {value!r} as {found}: quote it)" if str in kinds and isinstance(
                value, (bool, int, float, _dt.date)) else ""
            raise self.error(key, f"must be {want}, not {found}{hint}")
        return value

    def text(self, key: str, required: bool = True) -> str | None:
        """A non-empty string."""
        value = self.get(key, str, required)
        if value is not None and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def integer(self, key: str, required: bool = True, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        """An integer within [minimum, maximum]."""
        value = self.get(key, int, required)
        if value is not None and ((minimum is not None and value < minimum)
                                  or (maximum is not None and value > maximum)):
            raise self.error(key, f"must be between {minimum} and {maximum}" if maximum is not None
                             else f"must be at least {minimum}")
        return value

    def flag(self, key: str) -> bool:
        """An optional true/false, false when absent."""
        return bool(self.get(key, bool, required=False))

    def choice(self, key: str, choices: tuple[str, ...], required: bool = True) -> str | None:
        """A string that must be one of `choices`."""
        value = self.get(key, str, required)
        if value is not None and value not in choices:
            raise self.error(key, f"{value!r} is not one of: {', '.join(choices)}")
        return value

    def mapping(self, key: str, required: bool = True):
        """A nested mapping, read with the same class."""
        value = self.get(key, dict, required)
        return None if value is None else type(self)(self.path, value)

    def list_of(self, key: str, required: bool = True) -> list | None:
        """A list (items are checked by the caller)."""
        return self.get(key, list, required)

    def texts(self, key: str, required: bool = False) -> tuple[str, ...]:
        """A list of non-empty strings."""
        values = self.list_of(key, required) or []
        for index, value in enumerate(values):
            if not isinstance(value, str) or not value.strip():
                raise field_error(self.path, values, index,
                                  f"must be a non-empty string, not {describe(value, self.type_names)}")
        return tuple(values)
