"""YAML loading that remembers where each mapping key was written.

PyYAML forgets positions once it builds Python objects, but a useful error has to say "line 12,
column 5". Mappings and sequences are therefore built as `LineDict`/`LineList`, dict and list
subclasses that carry the start mark of the node and of each key. `plain()` strips them again
before values are stored as variables, so nothing downstream sees the wrappers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sopctl.errors import InputError
from sopctl.inventory.model import VaultValue

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Mark = tuple[int, int]


class LineDict(dict):
    """A mapping that knows its own position (`mark`) and each key's (`lines[key]`), 1-based."""

    mark: Mark | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, Mark] = {}


class LineList(list):
    """A sequence that knows where it starts, for "expected a mapping, got a list" errors."""

    mark: Mark | None = None


def _mark(node: yaml.Node) -> Mark:
    """PyYAML marks are 0-based; editors and our messages are 1-based."""
    return node.start_mark.line + 1, node.start_mark.column + 1


class MarkedLoader(_BaseLoader):
    """Safe loader whose mappings and sequences carry source positions, and that reads `!vault`."""


def _construct_map(loader: MarkedLoader, node: yaml.MappingNode):
    """Build a LineDict; yielding first keeps PyYAML's support for recursive anchors."""
    data = LineDict()
    data.mark = _mark(node)
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        data.lines[key] = _mark(key_node)


def _construct_seq(loader: MarkedLoader, node: yaml.SequenceNode):
    """Build a LineList so a misplaced list can be reported at its own line."""
    data = LineList()
    data.mark = _mark(node)
    yield data
    data.extend(loader.construct_sequence(node))


def _construct_vault(loader: MarkedLoader, node: yaml.Node) -> VaultValue:
    """Keep `!vault` ciphertext opaque: loading an inventory must not need the vault password."""
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, "a !vault value must be a scalar (the encrypted text)", node.start_mark)
    return VaultValue(loader.construct_scalar(node))


MarkedLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
MarkedLoader.add_constructor("!vault", _construct_vault)


def load_yaml_text(text: str, path: str) -> Any:
    """Parse one YAML document; any YAML error becomes an InputError at the problem's line/column."""
    try:
        return yaml.load(text, Loader=MarkedLoader)  # noqa: S506 - MarkedLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        raise _yaml_input_error(exc, path) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", path=path) from None


def _yaml_input_error(exc: yaml.MarkedYAMLError, path: str) -> InputError:
    """Locate the error at the problem mark, and mention where the unfinished construct began
    (an unclosed quote is only noticed at the end of the file, far from the typo)."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    reason = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem and exc.context_mark is not None:
        started = exc.context_mark
        reason += f" ({exc.context} started at line {started.line + 1}, column {started.column + 1})"
    return InputError(f"malformed YAML: {reason}", path=path, line=line, column=column)


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML/JSON file, turning unreadable files into InputError too."""
    return load_yaml_text(read_text(path), str(path))


def read_text(path: Path) -> str:
    """Read UTF-8 text; a directory, missing file or bad encoding is the user's input problem."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 text (byte {exc.start})", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(path)) from None


def key_mark(mapping: Any, key: Any) -> Mark | tuple[None, None]:
    """Where `key` was written in `mapping`, or where the mapping starts, or nothing known."""
    if isinstance(mapping, LineDict):
        return mapping.lines.get(key) or mapping.mark or (None, None)
    return (None, None)


def node_mark(value: Any) -> Mark | tuple[None, None]:
    """Where a mapping or sequence value starts, when it is one of ours."""
    return getattr(value, "mark", None) or (None, None)


def plain(value: Any) -> Any:
    """Strip LineDict/LineList recursively so stored variables are ordinary dicts and lists."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def kind(value: Any) -> str:
    """A YAML-ish type name for messages ("a list", "a string"), not Python's class names."""
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    for cls, name in names.items():
        if isinstance(value, cls):
            return name
    return type(value).__name__
