"""`group_vars/` and `host_vars/` next to an inventory source, found the way Ansible finds them.

For a group or host NAME Ansible looks, in this order, for `NAME`, `NAME.yml`, `NAME.yaml`,
`NAME.json` and uses only the first that exists. If that is a directory, every file in it (and
in extension-less subdirectories) with no extension or one of those extensions is loaded in sorted
order, later files replacing earlier keys. Hidden files and editor backups (`~`) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sopctl.errors import InputError
from sopctl.inventory.model import VarsDir
from sopctl.inventory.yaml_lines import kind, load_yaml_file, node_mark, plain

VARS_EXTENSIONS = (".yml", ".yaml", ".json")


def load_vars_dir(base: Path, groups: Iterable[str], hosts: Iterable[str]) -> tuple[VarsDir, list[str]]:
    """Parse group_vars/ and host_vars/ under `base` for the given names; also return warnings
    for entries that match no group or host (Ansible ignores those silently, which hides typos)."""
    result, warnings = VarsDir(str(base)), []
    for subdir, names, target in (("group_vars", groups, result.group_vars),
                                  ("host_vars", hosts, result.host_vars)):
        directory = base / subdir
        if not directory.is_dir():
            continue
        used: dict[str, str] = {}
        names = list(names)
        for name in names:
            entry = find_vars_entry(directory, name)
            if entry is not None:
                used[entry.name] = name
                target[name] = merge_files(_files_in(entry) if entry.is_dir() else [entry])
        warnings += _unused_entries(directory, used, set(names), subdir)
    return result, warnings


def find_vars_entry(directory: Path, name: str) -> Path | None:
    """Where NAME's vars live: the first existing of NAME, NAME.yml, NAME.yaml, NAME.json.

    Only the first counts (Ansible stops there), so `web/` shadows a `web.yml` beside it.
    """
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        return None
    for extension in ("",) + VARS_EXTENSIONS:
        candidate = directory / f"{name}{extension}"
        if candidate.exists():
            return candidate
    return None


def _files_in(directory: Path) -> list[Path]:
    """Vars files of a NAME/ directory in sorted order, descending into extension-less subdirs."""
    found: list[Path] = []
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if _skipped(entry.name):
            continue
        if entry.is_dir() and not entry.suffix:
            found += _files_in(entry)
        elif entry.is_file() and (not entry.suffix or entry.suffix in VARS_EXTENSIONS):
            found.append(entry)
    return found


def _skipped(name: str) -> bool:
    """Hidden files and editor backups are never vars files."""
    return name.startswith(".") or name.endswith("~")


def merge_files(files: list[Path]) -> dict[str, Any]:
    """Load and replace-merge several vars files; later files win key by key."""
    merged: dict[str, Any] = {}
    for path in files:
        merged.update(load_vars_file(path))
    return merged


def load_vars_file(path: Path) -> dict[str, Any]:
    """One YAML/JSON vars file; empty is fine, anything but a mapping of names is an InputError."""
    data = load_yaml_file(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        line, column = node_mark(data)
        raise InputError(f"a vars file must be a mapping of variable names to values, got {kind(data)}",
                         path=str(path), line=line, column=column)
    for key in data:
        if not isinstance(key, str):
            line, column = data.lines.get(key, (None, None)) if hasattr(data, "lines") else (None, None)
            raise InputError(f"variable names must be strings, got {kind(key)} {key!r}",
                             path=str(path), line=line, column=column)
    return plain(data)


def _unused_entries(directory: Path, used: dict[str, str], names: set[str], subdir: str) -> list[str]:
    """Warn about vars entries that are never read: a typo'd name, or shadowed by another entry."""
    kind_name = "group" if subdir == "group_vars" else "host"
    shadowing = {name: entry for entry, name in used.items()}
    warnings = []
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if entry.name in used or _skipped(entry.name):
            continue
        name = _entity_name(entry)
        if name in shadowing:
            warnings.append(f"{entry}: ignored, {directory / shadowing[name]} is used for {kind_name} {name!r}")
        else:
            warnings.append(f"{entry}: ignored, the inventory has no {kind_name} named {name!r}")
    return warnings


def _entity_name(entry: Path) -> str:
    """The name an entry would serve: the file name without a vars extension."""
    return entry.stem if entry.suffix in VARS_EXTENSIONS else entry.name
