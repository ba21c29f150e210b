"""Facts the system modules (apt, service, user, group, sysctl) read from command output, parsed into typed
values, plus the two small things every one of them does with commands: build a `run` action, and read
what came back.

Each parser keeps pyinfra's four answers apart: a thing that is *absent* (None, or missing from a
mapping), *empty* (an empty string or list), *wrong* (a value that does not match), and *could not read*
(`Unreadable`, carrying the command's stderr). A module decides what each means for it; none of these
functions talks to a host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --- actions and their results ------------------------------------------------------------------------


def run(cmd: list[str], env: dict | None = None, stdin: str | None = None) -> dict:
    """A `run` action for the agent: an argv list, no shell, so nothing needs quoting."""
    action: dict = {"op": "run", "cmd": [str(part) for part in cmd], "shell": False}
    if env:
        action["env"] = dict(env)
    if stdin is not None:
        action["stdin"] = stdin
    return action


@dataclass(frozen=True)
class Outcome:
    """What one action did: rc/stdout/stderr for `run`, the op's own fields for others (`error` is set when
    the agent could not perform the op at all)."""

    rc: int = 0
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    data: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.rc == 0

    @property
    def message(self) -> str:
        """The text a person needs when it failed: the agent's error, else stderr, else stdout."""
        return (self.error or self.stderr.strip() or self.stdout.strip() or f"rc={self.rc}")


def outcome(raw: dict | None) -> Outcome:
    """Read one action result, whether the executor hands over the agent's envelope (`{"ok", "result"}`)
    or the op's result itself; a missing result (the action never ran) reads as an error."""
    if raw is None:
        return Outcome(rc=-1, error="the action did not run")
    if "ok" in raw and ("result" in raw or "error" in raw):
        if not raw["ok"]:
            return Outcome(rc=-1, error=f"{raw.get('kind', 'error')}: {raw.get('error', '')}".strip())
        raw = raw.get("result") or {}
    return Outcome(rc=int(raw.get("rc", 0) or 0), stdout=raw.get("stdout", "") or "",
                   stderr=raw.get("stderr", "") or "", data=dict(raw))


def outcomes(action_results: list | None, count: int) -> list[Outcome]:
    """`count` outcomes, padding with "did not run" when the executor stopped early."""
    results = list(action_results or [])
    return [outcome(results[i] if i < len(results) else None) for i in range(count)]


@dataclass(frozen=True)
class Unreadable:
    """A fact that could not be read: the command failed for a reason other than "not there"."""

    command: str
    rc: int
    stderr: str

    def __str__(self) -> str:
        detail = self.stderr.strip() or f"rc={self.rc}"
        return f"could not read ({self.command}): {detail}"


# --- Debian versions ----------------------------------------------------------------------------------

def _order(char: str) -> int:
    """Sort weight of one character in Debian's non-digit comparison: ~ before end, letters before others."""
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    """Compare an upstream version or revision, alternating non-digit and digit runs (deb-version(7))."""
    while a or b:
        text_a = re.match(r"\D*", a).group()
        text_b = re.match(r"\D*", b).group()
        a, b = a[len(text_a):], b[len(text_b):]
        for i in range(max(len(text_a), len(text_b))):
            wa = _order(text_a[i]) if i < len(text_a) else 0
            wb = _order(text_b[i]) if i < len(text_b) else 0
            if wa != wb:
                return -1 if wa < wb else 1
        num_a = re.match(r"\d*", a).group()
        num_b = re.match(r"\d*", b).group()
        a, b = a[len(num_a):], b[len(num_b):]
        if int(num_a or 0) != int(num_b or 0):
            return -1 if int(num_a or 0) < int(num_b or 0) else 1
    return 0


def _split_version(version: str) -> tuple[int, str, str]:
    epoch, _, rest = version.partition(":") if ":" in version else ("0", "", version)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "0")
    return int(epoch or 0), upstream, revision


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as Debian orders two versions (the same answer as `dpkg --compare-versions`)."""
    epoch_a, up_a, rev_a = _split_version(a.strip())
    epoch_b, up_b, rev_b = _split_version(b.strip())
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _compare_part(up_a, up_b) or _compare_part(rev_a, rev_b)


# --- dpkg and apt -------------------------------------------------------------------------------------

DPKG_FORMAT = "--showformat=${Package}\\t${Status}\\t${Version}\\n"


@dataclass(frozen=True)
class PackageState:
    """One package as dpkg records it (`${Status}` is "want error state", e.g. "install ok installed")."""

    name: str
    status: str
    version: str

    @property
    def installed(self) -> bool:
        return self.status.split()[-1:] == ["installed"]

    @property
    def config_files(self) -> bool:
        """Removed but not purged: only the configuration files are left."""
        return self.status.split()[-1:] == ["config-files"]


def parse_dpkg_status(stdout: str) -> dict[str, PackageState]:
    """`dpkg-query -W --showformat='${Package}\\t${Status}\\t${Version}\\n' …` output, by package name.

    A package dpkg does not know has no line (dpkg-query then exits 1): it is simply absent here. With
    several architectures of one package, the installed one wins.
    """
    states: dict[str, PackageState] = {}
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0]:
            continue
        state = PackageState(parts[0], parts[1].strip(), parts[2].strip() if len(parts) > 2 else "")
        if state.name not in states or state.installed:
            states[state.name] = state
    return states


@dataclass(frozen=True)
class AptPolicy:
    """`apt-cache policy NAME`: the installed and candidate versions (None for "(none)") and every version
    apt knows, newest first as apt lists them."""

    name: str
    installed: str | None
    candidate: str | None
    versions: tuple[str, ...] = ()


_POLICY_VERSION = re.compile(r"^ (?:\*\*\*|   ) (\S+) (-?\d+)$")


def parse_apt_policy(stdout: str) -> dict[str, AptPolicy]:
    """Blocks of `apt-cache policy a b …`; a name apt does not know at all has no block (absent)."""
    policies: dict[str, AptPolicy] = {}
    name = None
    fields: dict = {}
    versions: list[str] = []

    def close():
        if name is not None:
            policies[name] = AptPolicy(name, fields.get("Installed"), fields.get("Candidate"), tuple(versions))

    for line in stdout.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            close()
            name, fields, versions = line[:-1].split(":")[0], {}, []
            continue
        stripped = line.strip()
        for key in ("Installed", "Candidate"):
            if stripped.startswith(key + ":"):
                value = stripped.split(":", 1)[1].strip()
                fields[key] = None if value == "(none)" else value
        match = _POLICY_VERSION.match(line)
        if match:
            versions.append(match.group(1))
    close()
    return policies


APT_GET_NOTHING = re.compile(r"^0 upgraded, 0 newly installed, 0 to remove", re.MULTILINE)


# --- accounts -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    comment: str
    home: str
    shell: str


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class ShadowEntry:
    """The fields of /etc/shadow the modules compare; a number field left empty is None."""

    name: str
    password: str
    min_days: int | None
    max_days: int | None
    warn_days: int | None
    expire_day: int | None  # days since 1970-01-01; None = never

    @property
    def locked(self) -> bool:
        return self.password.startswith("!")


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else None


def parse_passwd(line: str) -> PasswdEntry | None:
    parts = line.rstrip("\n").split(":")
    if len(parts) < 7 or not parts[2].isdigit() or not parts[3].isdigit():
        return None
    return PasswdEntry(parts[0], int(parts[2]), int(parts[3]), parts[4], parts[5], parts[6])


def parse_groups(stdout: str) -> list[GroupEntry]:
    entries = []
    for line in stdout.splitlines():
        parts = line.split(":")
        if len(parts) >= 4 and parts[2].isdigit():
            members = tuple(m for m in parts[3].split(",") if m)
            entries.append(GroupEntry(parts[0], int(parts[2]), members))
    return entries


def parse_shadow(line: str) -> ShadowEntry | None:
    parts = line.rstrip("\n").split(":")
    if len(parts) < 8:
        return None
    return ShadowEntry(parts[0], parts[1], _int_or_none(parts[3]), _int_or_none(parts[4]),
                       _int_or_none(parts[5]), _int_or_none(parts[7]))


def getent(answer: dict, command: str):
    """Classify a `getent DB KEY…` answer: the stdout when found, None when absent (rc 2, per getent(1)),
    `Unreadable` for any other failure (rc 1 = bad arguments or database, 3 = enumeration unsupported)."""
    rc = answer.get("rc", 0)
    if rc == 0:
        return answer.get("stdout", "")
    if rc == 2:
        return None
    return Unreadable(command, rc, answer.get("stderr", ""))
