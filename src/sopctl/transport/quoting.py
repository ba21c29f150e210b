"""The one place where values become shell text.

Every value that reaches a remote shell goes through `sh()` (POSIX) or `ps()` (PowerShell), so quoting
is decided once, here, and nowhere else. A `Secret` is quoted like any other value in the command that
runs, but shows as `***` in the command's display form, which is the only form that reaches output,
reports and logs. That is pyinfra's `MaskString` idea: secrets are masked by their type, not by
remembering to hide them.
"""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass

MASK = "***"


class Secret:
    """A value that must never be printed; `reveal()` is the only way to get the text back."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Command:
    """A command line in two forms: `text` runs, `display` is what people and logs may see."""

    text: str
    display: str

    def __str__(self) -> str:
        return self.display

    def __add__(self, other: "Command | str") -> "Command":
        other = as_command(other)
        return Command(self.text + other.text, self.display + other.display)


def as_command(value: "Command | str") -> Command:
    """Treat a plain string as trusted shell syntax (written by us, never by a user)."""
    return value if isinstance(value, Command) else Command(value, value)


_FIELD = re.compile(r"\{\}")


def _render(template: str, args: tuple, quote) -> Command:
    parts = _FIELD.split(template)
    if len(parts) - 1 != len(args):
        raise ValueError(f"template has {len(parts) - 1} fields for {len(args)} values: {template!r}")
    text, shown = [parts[0]], [parts[0]]
    for arg, tail in zip(args, parts[1:]):
        if isinstance(arg, Command):
            text.append(arg.text)
            shown.append(arg.display)
        elif isinstance(arg, Secret):
            text.append(quote(arg.reveal()))
            shown.append(MASK)
        else:
            text.append(quote(str(arg)))
            shown.append(quote(str(arg)))
        text.append(tail)
        shown.append(tail)
    return Command("".join(text), "".join(shown))


def sh(template: str, *args) -> Command:
    """Fill each `{}` in a POSIX shell template with a quoted value (a `Command` is spliced as is)."""
    return _render(template, args, shlex.quote)


def ps_quote(value: str) -> str:
    """PowerShell single-quoted literal: nothing inside is expanded; a quote is doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def ps(template: str, *args) -> Command:
    """Fill each `{}` in a PowerShell template with a single-quoted literal."""
    return _render(template, args, ps_quote)


# Windows caps a command line at 8191 characters; leave room for the executable and flags.
WINDOWS_COMMAND_LINE_MAX = 8191
_PS_PREAMBLE = (
    "$ProgressPreference='SilentlyContinue';"
    "$ErrorActionPreference='Stop';"
    "[Console]::OutputEncoding=[Text.Encoding]::UTF8;"
)
POWERSHELL = "powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass"


@dataclass(frozen=True)
class PowerShellInvocation:
    """How a PowerShell script goes out: a command line, and the script on stdin when too long."""

    command: Command
    stdin: str | None


# `powershell -Command -` reads stdin like an interactive prompt (PowerShell #3223, #21808): multi-line
# statements need an empty line, an unfinished one is dropped, $ErrorActionPreference is ignored. So a long
# script goes as Ansible's bootstrap does it: a short encoded command reads all of stdin and runs it as one
# script block; stdin carries the script's UTF-8 bytes in base64, so no console code page can alter it.
_STDIN_BOOTSTRAP = ("$sopctlIn = @($input) -join ''\n"
                    "& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString("
                    "[Convert]::FromBase64String($sopctlIn))))")


def _encoded(text: str) -> str:
    return base64.b64encode(text.encode("utf-16-le")).decode("ascii")


def powershell(script: "Command | str") -> PowerShellInvocation:
    """Encode a script the way Ansible does: UTF-16LE, base64, `-EncodedCommand`.

    Progress records are silenced (PowerShell 5.1 writes them to stderr as CLIXML) and output is UTF-8.
    A script whose encoded form would not fit on one command line goes through stdin (see above).
    """
    script = as_command(script)
    full = _PS_PREAMBLE + script.text
    line = f"{POWERSHELL} -EncodedCommand {_encoded(full)}"
    if len(line) <= WINDOWS_COMMAND_LINE_MAX:
        return PowerShellInvocation(Command(line, f"{POWERSHELL} -Command <{script.display}>"), None)
    boot = f"{POWERSHELL} -EncodedCommand {_encoded(_PS_PREAMBLE + _STDIN_BOOTSTRAP)}"
    payload = base64.b64encode(full.encode("utf-8")).decode("ascii")
    lines = "".join(payload[i:i + 76] + "\n" for i in range(0, len(payload), 76))
    return PowerShellInvocation(Command(boot, f"{POWERSHELL} -EncodedCommand <stdin: {script.display}>"), lines)


def decode_stdin_script(stdin: str) -> str:
    """The script a long invocation carries on stdin (for tests and for showing what ran)."""
    return base64.b64decode("".join(stdin.split())).decode("utf-8")


def decode_powershell(command_line: str) -> str:
    """The script inside an `-EncodedCommand` line (for tests and for showing what ran)."""
    encoded = command_line.rsplit("-EncodedCommand ", 1)[1].strip()
    return base64.b64decode(encoded).decode("utf-16-le")
