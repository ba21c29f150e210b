"""Errors a person can act on.

Each error is a type whose message says what went wrong, where, and what to do; each carries a stable
exit code so scripts and CI can tell a bad input (2) from a failed host (1) or a broken run (3).
The CLI layer turns them into one line on stderr; nothing below the CLI prints.
"""

from __future__ import annotations


class SopctlError(Exception):
    """Base of every error sopctl reports to a user."""

    exit_code = 3


class UsageError(SopctlError):
    """The command line or configuration asks for something impossible."""

    exit_code = 2


class InputError(SopctlError):
    """A file the user gave is malformed; the message names file, line and field."""

    exit_code = 2

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 column: int | None = None, field: str | None = None):
        self.path, self.line, self.column, self.field = path, line, column, field
        where = ""
        if path:
            where = str(path)
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        if field:
            where += f"{field}: "
        super().__init__(where + message)
        self.reason = message


class PatternError(UsageError):
    """A host pattern names a host or group the inventory does not have."""


class LabError(SopctlError):
    """The built-in lab could not be started, inspected or stopped."""

    exit_code = 3
