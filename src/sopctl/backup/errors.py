"""The backup feature's errors: one line a person can act on, and a stable exit code."""

from __future__ import annotations

from ..errors import SopctlError


class BackupError(SopctlError):
    """A backup, restore or key operation could not be done."""

    exit_code = 3


class IdentityError(BackupError):
    """The identity cannot be unlocked or used: wrong passphrase, not an identity file, no matching key."""

    exit_code = 2


class RecipientError(BackupError):
    """A recipients file is missing, empty or holds a line that is not a recipient."""

    exit_code = 2


class ArchiveError(BackupError):
    """An archive is damaged, tampered with, truncated, or not an archive: the restore test fails."""

    exit_code = 1

    def __init__(self, message: str, *, chunk: int | None = None):
        super().__init__(message)
        self.chunk = chunk


class UnsafeEntry(ArchiveError):
    """An archive entry would be written outside the restore target (absolute path, `..`, a symlink)."""


class ScratchFull(BackupError):
    """A restore went past the space it was given (DirectorySink's `limit`): the caller retries elsewhere."""
