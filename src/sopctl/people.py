"""Who did a step, and what a person must have typed: shared by the registers and the CLI tasks."""

from __future__ import annotations

import getpass
from typing import Any

from .errors import UsageError


def os_user(default: str | None = None) -> str | None:
    """The logged-in user's name (recorded as "who" when --by is not given); `default` when unknown."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry, no LOGNAME: the caller's default stands
        return default


def required_text(name: str, value: Any) -> str:
    """A value a person had to give, stripped; a clear error naming it when it is missing or blank."""
    if value is None or not str(value).strip():
        raise UsageError(f"{name} is required")
    return str(value).strip()
