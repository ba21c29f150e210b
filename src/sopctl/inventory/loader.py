"""Load one or more inventory sources into a single Inventory, all or nothing.

A source is a YAML file (.yml/.yaml/.json), an INI file (any other file), or a directory whose
entries are loaded as sources in sorted order (recursively; hidden entries, group_vars/,
host_vars/ and Ansible's ignored extensions are skipped). The group_vars/ and host_vars/ that
apply are those beside each source given on the command line (the directory of a file source, or
the directory source itself), again as Ansible does. Nothing is returned unless everything loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from sopctl.errors import InputError
from sopctl.inventory.ini_loader import load_ini_inventory
from sopctl.inventory.model import Inventory, VarsDir
from sopctl.inventory.vars_dirs import load_vars_dir
from sopctl.inventory.yaml_loader import load_yaml_inventory

YAML_EXTENSIONS = (".yml", ".yaml", ".json")
#: Ansible's INVENTORY_IGNORE_EXTS default (REJECT_EXTS + .orig, .cfg, .retry).
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst",
                    ".orig", ".cfg", ".retry")
IGNORED_NAMES = ("group_vars", "host_vars", "vars_plugins")

PathLike = str | Path


def load_inventory(paths: PathLike | Iterable[PathLike]) -> Inventory:
    """Build the Inventory for `paths` (one path or several); raise InputError on any problem."""
    sources = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    inventory = Inventory(sources=[str(p) for p in sources])
    for source in sources:
        if not source.exists():
            raise InputError("inventory source not found", path=str(source))
        load_source(source, inventory)
    inventory.finalize(_vars_dirs(sources, inventory))
    return inventory


def load_source(path: Path, inventory: Inventory) -> None:
    """Load a file by its extension, or every eligible entry of a directory in sorted order."""
    if path.is_dir():
        for entry in sorted(path.iterdir(), key=lambda p: p.name):
            if not ignored_entry(entry.name):
                load_source(entry, inventory)
    elif path.suffix.lower() in YAML_EXTENSIONS:
        load_yaml_inventory(path, inventory)
    else:
        load_ini_inventory(path, inventory)


def ignored_entry(name: str) -> bool:
    """Entries of an inventory directory that are not inventory sources (Ansible's defaults)."""
    return name.startswith(".") or name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)


def _vars_dirs(sources: list[Path], inventory: Inventory) -> list[VarsDir]:
    """group_vars/host_vars per source, in source order; each directory is parsed only once."""
    parsed: dict[Path, VarsDir] = {}
    result = []
    for source in sources:
        base = source if source.is_dir() else source.parent
        key = base.resolve()
        if key not in parsed:
            parsed[key], warnings = load_vars_dir(base, inventory.groups, inventory.hosts)
            inventory.warnings.extend(warnings)
        result.append(parsed[key])
    return result
