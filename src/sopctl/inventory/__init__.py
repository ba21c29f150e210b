"""Inventory: which hosts exist, how they are grouped, and their variables, with Ansible's semantics.

Use `load_inventory(paths)` to read YAML/INI files or directories (plus their group_vars/ and
host_vars/), then `Inventory.select(pattern)` for `--limit`/`hosts:` and `Inventory.host_vars(name)`
for the variables a play sees. See docs/inventory.md.
"""

from sopctl.inventory.loader import load_inventory
from sopctl.inventory.model import Group, Host, Inventory, VarsDir, VaultValue
from sopctl.inventory.patterns import select_hosts

__all__ = ["Group", "Host", "Inventory", "VarsDir", "VaultValue", "load_inventory", "select_hosts"]
