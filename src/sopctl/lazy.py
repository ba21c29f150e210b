"""Modules loaded on first use, so that `sopctl ping` does not pay for the backup or UAT machinery."""

from __future__ import annotations

import importlib
from types import ModuleType


class _LazyModule(ModuleType):
    def __getattr__(self, name: str):
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, name)


def lazy_module(name: str) -> ModuleType:
    """A stand-in for `import name` that imports the module when an attribute is first used."""
    return _LazyModule(name)
