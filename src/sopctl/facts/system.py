"""System facts in one round trip: OS, hostname, kernel, uptime, CPUs, memory, disk of the root drive.

A fact gatherer is a command plus a parser, like pyinfra's facts. The POSIX script prints `key=value`
lines under `LC_ALL=C`; the Windows script prints one JSON object. Parsing keeps "could not read"
apart from a value: a key the host did not print becomes `None` and is listed in `missing`, never a
zero that looks like a reading.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..transport.quoting import Command

POSIX_SCRIPT = r"""export LC_ALL=C
echo "system=$(uname -s)"
echo "kernel=$(uname -r)"
echo "architecture=$(uname -m)"
echo "hostname=$(cat /proc/sys/kernel/hostname 2>/dev/null || hostname)"
if [ -r /etc/os-release ]; then
  ( . /etc/os-release
    echo "distribution_id=$ID"; echo "distribution_like=$ID_LIKE"
    echo "distribution_version=$VERSION_ID"; echo "pretty_name=$PRETTY_NAME" )
fi
[ -r /proc/uptime ] && echo "uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "vcpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null)"
if [ -r /proc/meminfo ]; then
  awk '/^MemTotal:/{print "mem_total_kb=" $2} /^MemAvailable:/{print "mem_available_kb=" $2}' /proc/meminfo
fi
df -Pk / 2>/dev/null | awk 'NR==2{print "disk_total_kb=" $2; print "disk_used_kb=" $3; print "disk_avail_kb=" $4}'
"""

WINDOWS_SCRIPT = r"""$os = Get-CimInstance Win32_OperatingSystem
$cs = Get-CimInstance Win32_ComputerSystem
$disk = Get-CimInstance Win32_LogicalDisk -Filter "DeviceID='$($env:SystemDrive)'"
[pscustomobject]@{
  caption = $os.Caption; version = $os.Version; build = $os.BuildNumber; arch = $os.OSArchitecture
  hostname = $env:COMPUTERNAME
  last_boot = $os.LastBootUpTime.ToUniversalTime().ToString('o')
  now = (Get-Date).ToUniversalTime().ToString('o')
  vcpus = $cs.NumberOfLogicalProcessors
  mem_total_kb = $os.TotalVisibleMemorySize; mem_free_kb = $os.FreePhysicalMemory
  disk_total = $disk.Size; disk_free = $disk.FreeSpace
} | ConvertTo-Json -Compress
"""

# Ansible's os_family for the distributions an office is likely to run.
_FAMILIES = {"debian": "Debian", "ubuntu": "Debian", "raspbian": "Debian", "linuxmint": "Debian",
             "rhel": "RedHat", "centos": "RedHat", "fedora": "RedHat", "rocky": "RedHat",
             "almalinux": "RedHat", "sles": "Suse", "opensuse": "Suse", "alpine": "Alpine", "arch": "Archlinux"}
_DISTRIBUTION_NAMES = {"debian": "Debian", "ubuntu": "Ubuntu", "rhel": "RedHat", "centos": "CentOS",
                       "fedora": "Fedora", "rocky": "Rocky", "almalinux": "AlmaLinux", "alpine": "Alpine"}


@dataclass
class SystemFacts:
    """Typed system facts; `None` means the host did not say (see `missing`)."""

    system: str | None = None
    os_family: str | None = None
    distribution: str | None = None
    distribution_version: str | None = None
    distribution_major_version: str | None = None
    os_name: str | None = None
    hostname: str | None = None
    kernel: str | None = None
    architecture: str | None = None
    uptime_seconds: int | None = None
    processor_vcpus: int | None = None
    memtotal_mb: int | None = None
    memavailable_mb: int | None = None
    disk_root_total_mb: int | None = None
    disk_root_used_mb: int | None = None
    disk_root_used_pct: float | None = None
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def command(shell: str) -> Command:
    """The single command that gathers every fact for a host of this shell type."""
    script = WINDOWS_SCRIPT if shell == "powershell" else POSIX_SCRIPT
    return Command(script, "<gather system facts>")


def parse(shell: str, stdout: str) -> SystemFacts:
    return parse_windows(stdout) if shell == "powershell" else parse_posix(stdout)


def _kv(stdout: str) -> dict[str, str]:
    pairs = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and value.strip():
            pairs[key.strip()] = value.strip()
    return pairs


def _int(value, divisor: int = 1) -> int | None:
    try:
        return int(float(value)) // divisor
    except (TypeError, ValueError):
        return None


def parse_posix(stdout: str) -> SystemFacts:
    raw = _kv(stdout)
    dist_id = raw.get("distribution_id", "").lower() or None
    like = raw.get("distribution_like", "").lower().split()
    family = _FAMILIES.get(dist_id or "") or next((_FAMILIES[x] for x in like if x in _FAMILIES), None)
    version = raw.get("distribution_version")
    facts = SystemFacts(
        system=raw.get("system"),
        os_family=family,
        distribution=_DISTRIBUTION_NAMES.get(dist_id or "", dist_id.capitalize() if dist_id else None),
        distribution_version=version,
        distribution_major_version=version.split(".")[0] if version else None,
        os_name=raw.get("pretty_name"),
        hostname=raw.get("hostname"),
        kernel=raw.get("kernel"),
        architecture=raw.get("architecture"),
        uptime_seconds=_int(raw.get("uptime")),
        processor_vcpus=_int(raw.get("vcpus")),
        memtotal_mb=_int(raw.get("mem_total_kb"), 1024),
        memavailable_mb=_int(raw.get("mem_available_kb"), 1024),
    )
    _set_disk(facts, _int(raw.get("disk_total_kb"), 1024), _int(raw.get("disk_used_kb"), 1024))
    facts.missing = _missing(facts)
    return facts


def _set_disk(facts: SystemFacts, total_mb: int | None, used_mb: int | None) -> None:
    facts.disk_root_total_mb, facts.disk_root_used_mb = total_mb, used_mb
    if total_mb and used_mb is not None:
        facts.disk_root_used_pct = round(100.0 * used_mb / total_mb, 1)


def _missing(facts: SystemFacts) -> list[str]:
    return [k for k, v in facts.as_dict().items() if v is None and k != "missing"]


def parse_windows(stdout: str) -> SystemFacts:
    """Parse the Windows script's JSON; dates come as ISO 8601 because the script uses ToString('o')."""
    from datetime import datetime

    try:
        raw = json.loads(stdout.strip().lstrip("\ufeff") or "null")
    except json.JSONDecodeError as exc:
        raise ValueError(f"facts: the host did not answer JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(raw, dict):
        raise ValueError("facts: the host answered JSON that is not an object")
    version = raw.get("version")
    facts = SystemFacts(
        system="Win32NT", os_family="Windows", distribution=raw.get("caption"),
        distribution_version=version,
        distribution_major_version=version.split(".")[0] if version else None,
        os_name=raw.get("caption"), hostname=raw.get("hostname"), kernel=version,
        architecture=raw.get("arch"), processor_vcpus=_int(raw.get("vcpus")),
        memtotal_mb=_int(raw.get("mem_total_kb"), 1024), memavailable_mb=_int(raw.get("mem_free_kb"), 1024),
    )
    try:
        boot, now = (datetime.fromisoformat(raw[k]) for k in ("last_boot", "now"))
        facts.uptime_seconds = int((now - boot).total_seconds())
    except (KeyError, TypeError, ValueError):
        facts.uptime_seconds = None
    total, free = _int(raw.get("disk_total"), 2**20), _int(raw.get("disk_free"), 2**20)
    _set_disk(facts, total, total - free if total is not None and free is not None else None)
    facts.missing = _missing(facts)
    return facts


_OS_NAME_POSIX = ('export LC_ALL=C; if [ -r /etc/os-release ]; then (. /etc/os-release; echo "$PRETTY_NAME"); '
                  'else uname -sr; fi')
_OS_NAME_WINDOWS = "(Get-CimInstance Win32_OperatingSystem).Caption"


def os_name_command(shell: str) -> Command:
    """The cheapest command that still proves a shell runs and says which OS it is (for ping)."""
    return Command(_OS_NAME_WINDOWS if shell == "powershell" else _OS_NAME_POSIX, "<os name>")
