"""SOP C.6 ("oversee software and hardware changes"): each Linux host's installed packages and hardware,
stored monthly, compared with the previous month's.

    outcomes = collect_fleet(fleet, hosts)                 # one round trip per host, Linux hosts only
    for outcome in outcomes:
        if outcome.ok:
            record(store, outcome.host, outcome.value, month="2026-11")

Storage (evidence rows of SOP item C.6, shown in the report beside the `package-inventory` check):

- kind `package-inventory`: this month's snapshot. `data` = {"schema": 1, "collected": ISO time,
  "packages": {name: version}, "hardware": {cpu_model, cpus, memory_mb, disks: {name: "size model serial"},
  interfaces: {name: mac}, system: "vendor product", bios, kernel}}; summary like
  "852 packages; 2 CPUs Intel(R) Xeon(R) ..., 7936 MiB, disks sda 107 GB".
- kind `inventory-diff`: the difference with the newest snapshot of an EARLIER month (normally the previous
  month; if a month was missed, the one before, and the summary says which month). `data` = {"schema": 1,
  "previous": {"month", "evidence_id", "collected"}, "added": {name: version}, "removed": {name: version},
  "upgraded": {name: [old, new]}, "downgraded": {name: [old, new]}, "hardware": {field: [old, new]}};
  summary like "since 2026-10: 3 added, 1 removed, 40 upgraded, 0 downgraded; hardware: memory_mb 7936 -> 16000".
  The first month of a host has no previous snapshot: its diff row says so ("first inventory").

Versions are compared with Debian's rules (`compare_versions`, the algorithm of dpkg --compare-versions),
so an upgrade and a downgrade are told apart. Recording the same month again replaces nothing: the newest
snapshot of a month is the one used, the older rows stay as history.

On the lab, the hardware is the machine's (hosts share its kernel, /proc and /sys): every lab host
reports the same hardware; the package lists are each host's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

SCHEMA = 1
SNAPSHOT_KIND = "package-inventory"
DIFF_KIND = "inventory-diff"
SOP_ID = "C.6"
MEMORY_TOLERANCE = 0.02  # MemTotal moves by a few MiB between kernels: not a hardware change

#: Runs on the host (python3 is there: the agent needs it). Prints one JSON object.
COLLECT_SCRIPT = r'''python3 - <<'PY'
import glob, json, os, subprocess
def read(path):
    try:
        with open(path, errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return None
out = {"packages": {}, "hardware": {}, "errors": []}
done = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${binary:Package}\t${Version}\n"],
                      capture_output=True, text=True)
if done.returncode != 0:
    out["errors"].append("dpkg-query: " + done.stderr.strip())
for line in done.stdout.splitlines():
    parts = line.split("\t")
    if len(parts) == 3 and parts[0].startswith("ii"):
        out["packages"][parts[1]] = parts[2]
hw = out["hardware"]
cpuinfo = read("/proc/cpuinfo") or ""
models = [l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.lower().startswith(("model name", "hardware"))]
hw["cpu_model"] = models[0] if models else None
hw["cpus"] = os.cpu_count()
mem = [l.split()[1] for l in (read("/proc/meminfo") or "").splitlines() if l.startswith("MemTotal:")]
hw["memory_mb"] = int(mem[0]) // 1024 if mem else None
disks = {}
for dev in sorted(glob.glob("/sys/block/*")):
    name = os.path.basename(dev)
    if name.startswith(("loop", "ram", "zram", "dm-", "md", "sr", "nbd")):
        continue
    sectors = read(dev + "/size")
    size = int(sectors) * 512 if sectors and sectors.isdigit() else 0
    if size == 0:
        continue
    model = read(dev + "/device/model") or ""
    serial = read(dev + "/device/serial") or read(dev + "/serial") or ""
    disks[name] = " ".join(x for x in (f"{size // 10**9} GB", model, serial) if x)
hw["disks"] = disks
hw["interfaces"] = {os.path.basename(os.path.dirname(p)): read(p) for p in sorted(glob.glob("/sys/class/net/*/address"))
                    if not p.startswith("/sys/class/net/lo/") and read(p) not in (None, "", "00:00:00:00:00:00")}
vendor, product = read("/sys/class/dmi/id/sys_vendor"), read("/sys/class/dmi/id/product_name")
hw["system"] = " ".join(x for x in (vendor, product) if x) or None
hw["bios"] = read("/sys/class/dmi/id/bios_version")
hw["serial"] = read("/sys/class/dmi/id/product_serial")
hw["kernel"] = os.uname().release
print(json.dumps(out, sort_keys=True))
PY'''


# ----------------------------------------------------------------------------------- Debian versions


def _split(version: str) -> tuple[int, str, str]:
    epoch, colon, rest = version.partition(":")
    if not colon:
        epoch, rest = "0", version
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, "0"
    return int(epoch) if epoch.isdigit() else 0, upstream, revision


def _order(char: str) -> int:
    """dpkg's character order: ~ first, then the end of the string, then letters, then everything else."""
    if char == "~":
        return -1
    if char.isdigit():
        return 0
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return -1 if first_diff < 0 else 1
    return 0


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as Debian version `a` sorts before, equal to or after `b` (dpkg --compare-versions)."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


# ------------------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class Inventory:
    """One host's packages (name -> version, installed only) and hardware facts at one moment."""

    packages: Mapping[str, str]
    hardware: Mapping[str, Any]
    collected: str = ""
    errors: tuple[str, ...] = ()

    def to_data(self) -> dict:
        return {"schema": SCHEMA, "collected": self.collected, "packages": dict(sorted(self.packages.items())),
                "hardware": dict(self.hardware), "errors": list(self.errors)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> "Inventory":
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
            raise ValueError(f"not a schema-{SCHEMA} inventory snapshot")
        return cls(dict(data.get("packages") or {}), dict(data.get("hardware") or {}),
                   str(data.get("collected") or ""), tuple(data.get("errors") or ()))

    def summary(self) -> str:
        hw = self.hardware
        disks = ", ".join(f"{name} {desc.split(' ')[0]} {desc.split(' ')[1]}" if len(desc.split(" ")) > 1 else name
                          for name, desc in (hw.get("disks") or {}).items())
        parts = [f"{len(self.packages)} packages"]
        if hw.get("cpus"):
            parts.append(f"{hw['cpus']} CPUs {hw.get('cpu_model') or ''}".strip())
        if hw.get("memory_mb"):
            parts.append(f"{hw['memory_mb']} MiB")
        if disks:
            parts.append("disks " + disks)
        return "; ".join(parts)


@dataclass(frozen=True)
class InventoryDiff:
    """What changed between two snapshots of one host."""

    added: Mapping[str, str] = field(default_factory=dict)
    removed: Mapping[str, str] = field(default_factory=dict)
    upgraded: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    downgraded: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    hardware: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.upgraded or self.downgraded or self.hardware)

    def counts(self) -> str:
        return (f"{len(self.added)} added, {len(self.removed)} removed, {len(self.upgraded)} upgraded, "
                f"{len(self.downgraded)} downgraded")

    def to_data(self) -> dict:
        return {"added": dict(self.added), "removed": dict(self.removed),
                "upgraded": {k: list(v) for k, v in self.upgraded.items()},
                "downgraded": {k: list(v) for k, v in self.downgraded.items()},
                "hardware": {k: list(v) for k, v in self.hardware.items()}}


def diff(previous: Inventory, current: Inventory) -> InventoryDiff:
    """Packages added, removed, upgraded, downgraded (Debian version order) and hardware fields changed."""
    old, new = previous.packages, current.packages
    added = {name: new[name] for name in sorted(new.keys() - old.keys())}
    removed = {name: old[name] for name in sorted(old.keys() - new.keys())}
    upgraded, downgraded = {}, {}
    for name in sorted(old.keys() & new.keys()):
        order = compare_versions(old[name], new[name])
        if order < 0:
            upgraded[name] = (old[name], new[name])
        elif order > 0:
            downgraded[name] = (old[name], new[name])
    return InventoryDiff(added, removed, upgraded, downgraded, _hardware_changes(previous.hardware,
                                                                                   current.hardware))


def _hardware_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if key == "memory_mb" and isinstance(a, int) and isinstance(b, int) and a and \
                abs(a - b) <= MEMORY_TOLERANCE * a:
            continue
        if isinstance(a, Mapping) or isinstance(b, Mapping):
            a, b = dict(a or {}), dict(b or {})
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    changes[f"{key}.{sub}"] = (a.get(sub), b.get(sub))
        elif a != b:
            changes[key] = (a, b)
    return changes


def describe(change: InventoryDiff, previous_month: str | None) -> str:
    """The one-line summary of a diff row, naming the month it compares with."""
    if previous_month is None:
        return "first inventory of this host: nothing to compare with"
    text = f"since {previous_month}: {change.counts()}"
    if change.hardware:
        shown = "; ".join(f"{k} {_short(a)} -> {_short(b)}" for k, (a, b) in list(change.hardware.items())[:4])
        more = f" (+{len(change.hardware) - 4} more)" if len(change.hardware) > 4 else ""
        text += f"; hardware: {shown}{more}"
    else:
        text += "; hardware unchanged"
    return text


def _short(value: Any) -> str:
    return "none" if value is None else str(value)


# ------------------------------------------------------------------------------------- collecting


def parse_collected(stdout: str, collected: str | None = None) -> Inventory:
    """The host script's JSON as an Inventory; ValueError when it is not that JSON."""
    text = (stdout or "").strip()
    try:
        data = json.loads(text.splitlines()[-1] if text else "")
    except (ValueError, IndexError):
        raise ValueError(f"the inventory script did not print JSON: {text[:200]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("packages"), dict):
        raise ValueError("the inventory script's JSON has no packages")
    when = collected or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Inventory(data["packages"], data.get("hardware") or {}, when, tuple(data.get("errors") or ()))


def collect(agent: Any, timeout: float = 120.0) -> Inventory:
    """One host's inventory through its sopctl agent (one operation)."""
    (answer,) = agent.batch([{"op": "run", "cmd": COLLECT_SCRIPT, "shell": True, "timeout": timeout,
                              "locale_c": True}], stop_on_error=False)
    if not answer.get("ok"):
        raise RuntimeError(f"inventory could not run: {answer.get('error')}")
    result = answer["result"]
    if result.get("rc") != 0:
        raise RuntimeError(f"inventory script failed (exit code {result.get('rc')}): "
                           f"{(result.get('stderr') or '').strip()[:300]}")
    return parse_collected(result.get("stdout") or "")


def collect_fleet(fleet: Any, hosts: Iterable[Any]) -> list:
    """`collect` on every Linux host of `hosts` (HostContext or (name, hostvars, facts, groups)) in
    parallel; returns Fleet HostOutcomes whose values are Inventories. Windows hosts are left out."""
    from sopctl.agent.client import Agent
    from sopctl.compliance.runner import HostContext

    contexts = {ctx.name: ctx for ctx in map(HostContext.of, hosts) if ctx.os == "linux"}

    def one(session: Any) -> Inventory:
        ctx = contexts[session.spec.name]
        agent = Agent.start(session, str(ctx.hostvars.get("ansible_python_interpreter") or "python3"))
        try:
            return collect(agent)
        finally:
            agent.close()

    return fleet.map_some(list(contexts), one, label="inventory")


# -------------------------------------------------------------------------------------- recording


def previous_snapshot(store: Any, host: str, month: str) -> Any | None:
    """The newest `package-inventory` row of `host` in the latest month before `month`, or None."""
    best = None
    for row in store.evidence_for(SOP_ID):
        if row.kind != SNAPSHOT_KIND or row.host != host or row.month >= month:
            continue
        if best is None or (row.month, row.time, row.id) > (best.month, best.time, best.id):
            best = row
    return best


def record(store: Any, host: str, inventory: Inventory, month: str) -> tuple[Any, Any]:
    """Store this month's snapshot and its diff with the previous month's; returns both evidence rows.

    `store` is a `sopctl.store.Store` (rows count at once). The diff is computed before the snapshot is
    stored, against an earlier month only, so recording a month twice compares with the same basis.
    """
    before = previous_snapshot(store, host, month)
    if before is not None:
        previous = Inventory.from_data(before.data)
        change = diff(previous, inventory)
        basis = {"month": before.month, "evidence_id": before.id, "collected": previous.collected}
        summary = describe(change, before.month)
        data = {"schema": SCHEMA, "previous": basis, **change.to_data()}
    else:
        summary = describe(InventoryDiff(), None)
        data = {"schema": SCHEMA, "previous": None, **InventoryDiff().to_data()}
    snapshot = store.add_evidence(SOP_ID, SNAPSHOT_KIND, inventory.summary(), data=inventory.to_data(),
                                  host=host, month=month)
    changes = store.add_evidence(SOP_ID, DIFF_KIND, summary, data=data, host=host, month=month)
    return snapshot, changes


__all__ = ["COLLECT_SCRIPT", "DIFF_KIND", "Inventory", "InventoryDiff", "SNAPSHOT_KIND", "collect",
           "collect_fleet", "compare_versions", "describe", "diff", "parse_collected", "previous_snapshot",
           "record"]
