"""Transport: SSH connections, quoting and parallel fan-out. Imports nothing else of sopctl."""

from .fanout import FAILED, OK, Fleet, HostOutcome
from .quoting import Command, Secret, powershell, ps, sh
from .ssh import HOSTKEY_REFUSED, TIMEOUT, UNREACHABLE, CommandResult, ConnectionSpec, HostSession, HostUnavailable

__all__ = [
    "FAILED", "OK", "HOSTKEY_REFUSED", "TIMEOUT", "UNREACHABLE", "Command", "CommandResult",
    "ConnectionSpec", "Fleet", "HostOutcome", "HostSession", "HostUnavailable", "Secret", "powershell",
    "ps", "sh",
]
