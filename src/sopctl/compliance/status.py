"""Where each SOP item stands for one month, and the proof: the data behind the compliance report.

    report = evaluate_month(catalog, store, "2026-11", today=date.today(), inventory_hosts=None)
    for item in report.items:
        item.status            # compliant | partly | non-compliant | waived | not-verified | na
        item.evidence          # EvidenceLine, each check x host, attestation, workflow record ...

Nothing here writes to the store and nothing runs a check: it reads the stored results of complete runs
(`Store.latest_results(month=...)`), evidence rows, waivers and attestations, and applies the rules
below (documented for auditors in docs/report.md).

Rules, by how the catalog says an item is evidenced:

* **auto** (checks): the newest result of each (check, host) among the month's complete runs. A failing
  result covered by an active waiver (`Store.waiver_for(check, host, as_of)`) is *waived*; a waiver
  that expired is shown but the result stays a failure. Per host: fail > error > waived > pass > na.
  Item: no result -> not-verified; some host fails -> partly if another host passes (or is waived),
  else non-compliant; else any error -> not-verified; else any waived -> waived; else any pass ->
  compliant; else (all na) -> na.
* **auto, generated** (C.1, C.8, C.9, F.5): an evidence row of kind `generated` in the month ->
  compliant, else not-verified.
* **auto + attest** (C.4): the checks' status, then the attestation must be fresh too (a failure
  stays a failure; a missing or stale attestation makes an otherwise passing item not-verified).
* **attest**: the newest attestation up to `as_of` is fresh -> compliant, else not-verified (stale,
  with its date). Fresh: yearly = within 365 days of `as_of`; monthly and per-event cadences = dated
  within the report's month.
* **workflow** (B.*, D.2, D.3, D.6, F.6, F.7): evidence rows of the month whose kind is the item's
  `workflow` name, one row per record (the newest row per `data.record` when given), each with
  `data.status` compliant | non-compliant | na (or `data.on_time`: true/false). No record ->
  not-verified; records all compliant -> compliant; some non-compliant -> partly (non-compliant when
  none is compliant); a record without status -> not-verified; only na records -> na.

`as_of` is the day the report describes: `today`, or the month's last day for a past month (waivers
and attestation freshness are judged on that day, so a report for an earlier month sees them as they
were then).
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Mapping, Sequence

from sopctl.compliance.catalog import Catalog, Section, SopHeader, SopItem
from sopctl.errors import UsageError

STATUSES = ("compliant", "partly", "non-compliant", "waived", "not-verified", "na")
SCORED = ("compliant", "partly", "non-compliant")          # the score's denominator
NOT_SCORED = ("waived", "not-verified", "na")              # counted and listed beside it
LINE_KINDS = ("check", "attestation", "workflow", "generated", "record")
CHECK_STATES = ("pass", "fail", "error", "na", "waived")   # a check line's effective state
WORKFLOW_STATUSES = ("compliant", "non-compliant", "na")   # data.status of a workflow record
GENERATED_KIND = "generated"
EVENT_CADENCES = ("per-request", "per-application", "per-publication", "per-incident")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


# ---------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class WaiverInfo:
    """The waiver shown beside a failing result: active (the result is waived) or expired (it is not)."""

    id: int
    hosts: str
    reason: str
    approved_by: str
    expires: str
    created_at: str
    created_by: str | None
    expired: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "hosts": self.hosts, "reason": self.reason, "approved_by": self.approved_by,
                "expires": self.expires, "created_at": self.created_at, "created_by": self.created_by,
                "expired": self.expired}


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of proof behind an item's status.

    kind "check": one check on one host (status pass/fail/error/na/waived, observed vs expected, the
    command and its output, and the waiver if any); "attestation": a person's statement with its file
    (status fresh/stale); "workflow": one workflow record (status compliant/non-compliant/na/invalid);
    "generated": a generated document (status present); "record": other evidence stored for the item
    (status info, shown but not counted).
    """

    kind: str
    status: str
    time: str | None
    check_id: str | None = None
    host: str | None = None
    observed: str | None = None
    expected: str | None = None
    command: str | None = None
    output: str | None = None
    output_trimmed: bool = False
    severity: str | None = None
    run_id: int | None = None
    waiver: WaiverInfo | None = None
    workflow: str | None = None
    record: str | None = None
    summary: str | None = None
    detail: str | None = None
    data: Any = field(default=None, hash=False, compare=False)
    file_name: str | None = None
    file_sha256: str | None = None
    file_size: int | None = None
    stored_path: str | None = None
    by_role: str | None = None
    by_name: str | None = None
    note: str | None = None

    _KEYS: ClassVar[dict[str, tuple[str, ...]]] = {
        "check": ("check_id", "host", "observed", "expected", "command", "output", "output_trimmed",
                  "severity", "run_id"),
        "attestation": ("file_name", "file_sha256", "file_size", "stored_path", "by_role", "by_name", "note"),
        "workflow": ("workflow", "record", "summary", "detail", "data"),
        "generated": ("summary", "file_sha256", "stored_path", "data"),
        "record": ("summary", "host", "file_sha256", "stored_path", "data"),
    }

    def to_dict(self) -> dict[str, Any]:
        """JSON form: kind, status, time, then the fields of that kind (always present, null if unknown)."""
        out: dict[str, Any] = {"kind": self.kind, "status": self.status, "time": self.time}
        for key in self._KEYS[self.kind]:
            out[key] = getattr(self, key)
        if self.kind == "check":
            out["waiver"] = self.waiver.to_dict() if self.waiver else None
        return out


@dataclass(frozen=True)
class Due:
    """What is due by when, from the item's cadence and the SOP's time standard.

    `date` is the last day the month's (or year's) obligation may be met; None for per-event items,
    which are due per record (each record carries its own due date in the workflow contract).
    """

    cadence: str
    time_text: str
    date: _dt.date | None
    kind: str               # "by" (monthly), "year" (yearly), "record" (per event)
    overdue: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat() if self.date else None, "kind": self.kind,
                "cadence": self.cadence, "time": self.time_text, "overdue": self.overdue}


@dataclass
class ItemStatus:
    """One line of the report: an SOP item, its status, why, and the proof."""

    item: SopItem
    status: str
    reasons: list[tuple[str, dict[str, Any]]]
    due: Due
    evidence: list[EvidenceLine]
    hosts_passing: list[str] = field(default_factory=list)
    hosts_failing: list[str] = field(default_factory=list)
    hosts_waived: list[str] = field(default_factory=list)
    hosts_error: list[str] = field(default_factory=list)
    last_evidence: str | None = None

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def title_id(self) -> str:
        return self.item.title_id

    @property
    def title_en(self) -> str:
        return self.item.title_en

    @property
    def section(self) -> str:
        return self.item.section


@dataclass(frozen=True)
class ReportHeader:
    """What the report is about and how it was made (OpenSCAP-style run header)."""

    sop: SopHeader
    month: str
    as_of: _dt.date
    generated_at: str
    first_run: str | None
    last_run: str | None
    runs: int
    performed_by: tuple[str, ...]
    inventory_files: tuple[str, ...]
    inventory_hosts: tuple[str, ...] | None
    hosts_seen: tuple[str, ...]
    hosts_not_audited: tuple[str, ...]
    hosts_ignored: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    """compliant / (compliant + partly + non-compliant); the other statuses counted and listed beside it.

    `checks` is the same idea one level down (Wazuh): pass / (pass + fail) over the distinct
    (check, host) pairs, waived, error and na counted separately.
    """

    counts: Mapping[str, int]
    items: Mapping[str, tuple[str, ...]]
    checks: Mapping[str, int]

    @property
    def denominator(self) -> int:
        return sum(self.counts[s] for s in SCORED)

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.counts["compliant"] / self.denominator, 1) if self.denominator else None

    @property
    def checks_percent(self) -> float | None:
        counted = self.checks["pass"] + self.checks["fail"]
        return round(100.0 * self.checks["pass"] / counted, 1) if counted else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "percent": self.percent,
            "formula": "compliant / (compliant + partly + non-compliant)",
            "numerator": self.counts["compliant"],
            "denominator": self.denominator,
            "counts": dict(self.counts),
            "items": {status: list(ids) for status, ids in self.items.items()},
            "excluded": list(NOT_SCORED),
            "checks": {**self.checks, "percent": self.checks_percent, "formula": "pass / (pass + fail)"},
        }


@dataclass(frozen=True)
class ItemChange:
    id: str
    before: str
    after: str


@dataclass(frozen=True)
class CheckChange:
    check_id: str
    host: str
    before: str | None      # None: no result for that pair last month
    after: str


@dataclass(frozen=True)
class Changes:
    """Since the previous month: every item whose status changed, and (check, host) pairs that turned."""

    previous_month: str
    items: tuple[ItemChange, ...]
    newly_non_compliant: tuple[str, ...]
    fixed: tuple[str, ...]
    newly_failing: tuple[CheckChange, ...]
    checks_fixed: tuple[CheckChange, ...]

    def to_dict(self) -> dict[str, Any]:
        pair = lambda c: {"check_id": c.check_id, "host": c.host, "before": c.before, "after": c.after}  # noqa: E731
        return {
            "previous_month": self.previous_month,
            "items": [{"id": c.id, "before": c.before, "after": c.after} for c in self.items],
            "newly_non_compliant": list(self.newly_non_compliant),
            "fixed": list(self.fixed),
            "checks": {"newly_failing": [pair(c) for c in self.newly_failing],
                       "fixed": [pair(c) for c in self.checks_fixed]},
        }


@dataclass
class MonthReport:
    """Everything the renderers need for one month: header, 40 items in SOP order, score, changes."""

    month: str
    header: ReportHeader
    sections: Mapping[str, Section]
    items: list[ItemStatus]
    score: Score
    changes: Changes | None
    pairs: Mapping[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def item(self, item_id: str) -> ItemStatus:
        for entry in self.items:
            if entry.id == item_id:
                return entry
        raise KeyError(f"no SOP item {item_id!r} in the report")

    def by_section(self) -> dict[str, list[ItemStatus]]:
        groups: dict[str, list[ItemStatus]] = {}
        for entry in self.items:
            groups.setdefault(entry.section, []).append(entry)
        return groups


# -------------------------------------------------------------------------------------------- helpers


def check_month(month: str) -> str:
    """`YYYY-MM` or UsageError."""
    if not isinstance(month, str) or not _MONTH.match(month):
        raise UsageError(f"month: {month!r} is not a month (YYYY-MM)")
    return month


def month_bounds(month: str) -> tuple[_dt.date, _dt.date]:
    year, number = (int(part) for part in check_month(month).split("-"))
    return _dt.date(year, number, 1), _dt.date(year, number, calendar.monthrange(year, number)[1])


def previous_month(month: str) -> str:
    first, _ = month_bounds(month)
    before = first - _dt.timedelta(days=1)
    return f"{before.year:04d}-{before.month:02d}"


def natural_key(name: str) -> list:
    """pc-2 before pc-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def local_day(stored_time: str) -> _dt.date:
    """The local calendar day of a stored UTC time."""
    moment = _dt.datetime.fromisoformat(stored_time.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone().date()


def _utc_now() -> str:
    moment = _dt.datetime.now(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


def due_for(item: SopItem, month: str) -> Due:
    """The item's due date in `month` (overdue is set later, once the status is known)."""
    first, last = month_bounds(month)
    if item.cadence == "monthly":
        day = last.day
        if item.time.kind == "deadline" and item.time.day_of_month:
            day = min(item.time.day_of_month, last.day)   # "30 Setiap Bulan" is 28/29 February
        return Due(item.cadence, item.time.text, first.replace(day=day), "by")
    if item.cadence == "yearly":
        return Due(item.cadence, item.time.text, _dt.date(first.year, 12, 31), "year")
    return Due(item.cadence, item.time.text, None, "record")


# --------------------------------------------------------------------------------------- evaluation


class _Context:
    """What one month's evaluation reads from the store, fetched once."""

    def __init__(self, catalog: Catalog, store: Any, month: str, today: _dt.date,
                 inventory_hosts: Sequence[str] | None):
        self.catalog, self.store, self.month, self.today = catalog, store, month, today
        self.as_of = _as_of(month, today)
        self.month_first, self.month_last = month_bounds(month)
        inventory = set(inventory_hosts) if inventory_hosts is not None else None
        results = store.latest_results(month=month)
        self.hosts_seen = sorted({r.host for r in results}, key=natural_key)
        if inventory is not None:
            self.hosts_ignored = sorted({r.host for r in results if r.host not in inventory}, key=natural_key)
            results = [r for r in results if r.host in inventory]
            self.hosts_not_audited = sorted(inventory - {r.host for r in results}, key=natural_key)
        else:
            self.hosts_ignored, self.hosts_not_audited = [], []
        self.results_by_check: dict[str, list] = {}
        self.results_by_item: dict[str, list] = {}
        for result in results:
            self.results_by_check.setdefault(result.check_id, []).append(result)
            for sop_id in result.sop_ids:
                self.results_by_item.setdefault(sop_id, []).append(result)
        self.waivers_by_check: dict[str, list] = {}
        for waiver in store.all_waivers():
            self.waivers_by_check.setdefault(waiver.check_id, []).append(waiver)
        self.attestations: dict[str, list] = {}
        for attestation in store.attestations():
            self.attestations.setdefault(attestation.sop_id, []).append(attestation)
        self.pairs: dict[tuple[str, str], str] = {}   # (check, host) -> effective state

    def evidence(self, sop_id: str) -> list:
        return self.store.evidence_for(sop_id, month=self.month)

    def results_for(self, item: SopItem) -> list:
        """The newest result of each (check, host) that evidences the item: its catalog checks, plus any
        result that names the item in its sop_ids."""
        seen: dict[int, Any] = {}
        for check in item.checks:
            for result in self.results_by_check.get(check, ()):
                seen[result.id] = result
        for result in self.results_by_item.get(item.id, ()):
            seen[result.id] = result
        order = {check: index for index, check in enumerate(item.checks)}
        return sorted(seen.values(), key=lambda r: (order.get(r.check_id, len(order)), r.check_id,
                                                    natural_key(r.host)))

    def expired_waiver(self, check_id: str, host: str):
        """The waiver that covered this pair until it expired before `as_of` (the latest such), or None.
        A revoked waiver is not shown: it was withdrawn, not outlived."""
        day = self.as_of.isoformat()
        best = None
        for waiver in self.waivers_by_check.get(check_id, ()):
            if waiver.expires >= day or waiver.revoked_at is not None or not waiver.covers(host):
                continue
            if local_day(waiver.created_at).isoformat() > waiver.expires:
                continue
            if best is None or (waiver.expires, waiver.id) > (best.expires, best.id):
                best = waiver
        return best


def _waiver_info(waiver, expired: bool) -> WaiverInfo:
    return WaiverInfo(waiver.id, waiver.hosts, waiver.reason, waiver.approved_by, waiver.expires,
                      waiver.created_at, waiver.created_by, expired)


def _check_line(ctx: _Context, result) -> EvidenceLine:
    """One result as an evidence line, with its waiver applied (fail + active waiver = waived)."""
    status, waiver = result.status, None
    if status == "fail" and result.check_id in ctx.waivers_by_check:
        active = ctx.store.waiver_for(result.check_id, result.host, ctx.as_of)
        if active is not None:
            status, waiver = "waived", _waiver_info(active, expired=False)
        else:
            old = ctx.expired_waiver(result.check_id, result.host)
            if old is not None:
                waiver = _waiver_info(old, expired=True)
    ctx.pairs[(result.check_id, result.host)] = status
    return EvidenceLine("check", status, result.time, check_id=result.check_id, host=result.host,
                        observed=result.observed, expected=result.expected, command=result.command,
                        output=result.output, output_trimmed=result.output_trimmed, severity=result.severity,
                        run_id=result.run_id, waiver=waiver)


def _host_state(states: Iterable[str]) -> str:
    states = set(states)
    for state in ("fail", "error", "waived", "pass"):
        if state in states:
            return state
    return "na"


def _eval_checks(ctx: _Context, item: SopItem, entry: ItemStatus) -> str:
    lines = [_check_line(ctx, result) for result in ctx.results_for(item)]
    entry.evidence.extend(lines)
    if not lines:
        entry.reasons.append(("no_results", {}))
        return "not-verified"
    per_host: dict[str, list[str]] = {}
    for line in lines:
        per_host.setdefault(line.host, []).append(line.status)
    hosts = {host: _host_state(states) for host, states in per_host.items()}
    pick = lambda state: sorted((h for h, s in hosts.items() if s == state), key=natural_key)  # noqa: E731
    entry.hosts_passing, entry.hosts_failing = pick("pass"), pick("fail")
    entry.hosts_waived, entry.hosts_error = pick("waived"), pick("error")
    count = lambda state: sum(1 for line in lines if line.status == state)  # noqa: E731
    expired = sum(1 for line in lines if line.waiver is not None and line.waiver.expired)
    failing_checks = sorted({line.check_id for line in lines if line.status == "fail"})
    if entry.hosts_failing:
        ok_hosts = len(entry.hosts_passing) + len(entry.hosts_waived)
        if ok_hosts:
            entry.reasons.append(("some_fail", {"failing": len(entry.hosts_failing), "passing": ok_hosts}))
            status = "partly"
        else:
            entry.reasons.append(("all_fail", {"failing": len(entry.hosts_failing)}))
            status = "non-compliant"
        entry.reasons.append(("failing_checks", {"checks": ", ".join(failing_checks)}))
    elif entry.hosts_error:
        status = "not-verified"
    elif entry.hosts_waived:
        status = "waived"
    elif entry.hosts_passing:
        entry.reasons.append(("all_pass", {"lines": count("pass"), "hosts": len(entry.hosts_passing)}))
        status = "compliant"
    else:
        entry.reasons.append(("all_na", {}))
        status = "na"
    if count("error"):
        entry.reasons.append(("error_lines", {"errors": count("error")}))
    if count("waived"):
        entry.reasons.append(("waived_lines", {"waived": count("waived")}))
    if expired:
        entry.reasons.append(("expired_waivers", {"count": expired}))
    return status


def _fresh(ctx: _Context, item: SopItem, attested_at: str) -> bool:
    day = local_day(attested_at)
    if item.cadence == "yearly":
        return (ctx.as_of - day).days <= 365
    return ctx.month_first <= day <= ctx.month_last   # monthly and per-event: within the report's month


def _eval_attest(ctx: _Context, item: SopItem, entry: ItemStatus) -> str:
    """Fresh attestations of the item (or the newest stale one) as lines; compliant when one is fresh."""
    known = [a for a in ctx.attestations.get(item.id, ()) if local_day(a.attested_at) <= ctx.as_of]
    fresh = [a for a in known if _fresh(ctx, item, a.attested_at)]
    shown = fresh or known[-1:]
    for attestation in shown:
        entry.evidence.append(EvidenceLine(
            "attestation", "fresh" if attestation in fresh else "stale", attestation.attested_at,
            file_name=attestation.file_name, file_sha256=attestation.file_sha256, file_size=attestation.file_size,
            stored_path=attestation.stored_path, by_role=attestation.by_role, by_name=attestation.by_name,
            note=attestation.note))
    window = "365 days" if item.cadence == "yearly" else "the month"
    if fresh:
        newest = fresh[-1]
        entry.reasons.append(("attest_fresh", {"date": newest.attested_at,
                                               "by": f"{newest.by_name} ({newest.by_role})"}))
        return "compliant"
    if known:
        entry.reasons.append(("attest_stale", {"date": known[-1].attested_at, "window": window}))
    else:
        entry.reasons.append(("attest_none", {}))
    return "not-verified"


def _record_line(row) -> EvidenceLine:
    return EvidenceLine("record", "info", row.time, host=row.host, summary=row.summary, data=row.data,
                        file_sha256=row.sha256, stored_path=row.path)


def _eval_generated(entry: ItemStatus, rows: list) -> str:
    generated = [row for row in rows if row.kind == GENERATED_KIND]
    for row in generated:
        entry.evidence.append(EvidenceLine("generated", "present", row.time, summary=row.summary, data=row.data,
                                           file_sha256=row.sha256, stored_path=row.path))
    if generated:
        entry.reasons.append(("generated_present", {"date": generated[-1].time}))
        return "compliant"
    entry.reasons.append(("generated_none", {}))
    return "not-verified"


def workflow_record_status(data: Any) -> str:
    """A workflow record's status under the contract: data.status, else data.on_time, else invalid."""
    if isinstance(data, Mapping):
        status = data.get("status")
        if status in WORKFLOW_STATUSES:
            return status
        if status is None and isinstance(data.get("on_time"), bool):
            return "compliant" if data["on_time"] else "non-compliant"
    return "invalid"


def _eval_workflow(item: SopItem, entry: ItemStatus, rows: list) -> str:
    newest: dict[str, Any] = {}
    for row in rows:   # oldest first: a later row about the same record replaces the earlier one
        if row.kind != item.workflow:
            continue
        record = row.data.get("record") if isinstance(row.data, Mapping) else None
        newest[str(record) if record is not None else f"#{row.id}"] = row
    counts = dict.fromkeys((*WORKFLOW_STATUSES, "invalid"), 0)
    for key, row in newest.items():
        state = workflow_record_status(row.data)
        counts[state] += 1
        data = row.data if isinstance(row.data, Mapping) else {}
        detail = data.get("detail")
        entry.evidence.append(EvidenceLine(
            "workflow", state, row.time, workflow=row.kind, record=None if key.startswith("#") else key,
            summary=row.summary, detail=None if detail is None else str(detail), data=row.data))
    if not newest:
        entry.reasons.append(("workflow_none", {"workflow": item.workflow}))
        return "not-verified"
    total = len(newest)
    if counts["compliant"] or counts["non-compliant"]:
        entry.reasons.append(("workflow_counts", {"compliant": counts["compliant"], "total": total,
                                                  "non_compliant": counts["non-compliant"]}))
    if counts["invalid"]:
        entry.reasons.append(("workflow_invalid", {"invalid": counts["invalid"]}))
    if counts["non-compliant"]:
        return "partly" if counts["compliant"] else "non-compliant"
    if counts["invalid"]:
        return "not-verified"
    if counts["compliant"]:
        return "compliant"
    entry.reasons.append(("workflow_na", {}))
    return "na"


def _combine_with_attestation(auto: str, attest: str) -> str:
    """C.4: checks and an attestation. A failure stays; missing proof on either side is not-verified."""
    if auto in ("non-compliant", "partly"):
        return auto
    if auto == "not-verified" or attest != "compliant":
        return "not-verified"
    return "waived" if auto == "waived" else "compliant"


def _evaluate_item(ctx: _Context, item: SopItem) -> ItemStatus:
    entry = ItemStatus(item, "not-verified", [], due_for(item, ctx.month), [])
    rows = ctx.evidence(item.id)
    if item.evidence == "attest":
        status = _eval_attest(ctx, item, entry)
    elif item.evidence == "workflow":
        status = _eval_workflow(item, entry, rows)
        rows = [row for row in rows if row.kind != item.workflow]
    elif item.generated:
        status = _eval_generated(entry, rows)
        rows = [row for row in rows if row.kind != GENERATED_KIND]
    else:
        status = _eval_checks(ctx, item, entry)
        if item.attest:
            status = _combine_with_attestation(status, _eval_attest(ctx, item, entry))
    entry.evidence.extend(_record_line(row) for row in rows)   # other evidence: shown, not counted
    entry.status = status
    times = [line.time for line in entry.evidence if line.time]
    entry.last_evidence = max(times) if times else None
    due = entry.due
    overdue = due.date is not None and ctx.today > due.date and status not in ("compliant", "waived", "na")
    entry.due = Due(due.cadence, due.time_text, due.date, due.kind, overdue)
    return entry


def _score(items: list[ItemStatus], pairs: Mapping[tuple[str, str], str]) -> Score:
    counts = {status: 0 for status in STATUSES}
    ids: dict[str, list[str]] = {status: [] for status in STATUSES}
    for entry in items:
        counts[entry.status] += 1
        ids[entry.status].append(entry.id)
    checks = {state: 0 for state in CHECK_STATES}
    for state in pairs.values():
        checks[state] += 1
    return Score(counts, {status: tuple(v) for status, v in ids.items()}, checks)


def _changes(now: MonthReport, before: MonthReport) -> Changes:
    old = {entry.id: entry.status for entry in before.items}
    items = tuple(ItemChange(entry.id, old[entry.id], entry.status) for entry in now.items
                  if old.get(entry.id, entry.status) != entry.status)
    newly = tuple(c.id for c in items if c.after == "non-compliant")
    fixed = tuple(c.id for c in items if c.after == "compliant" and c.before in ("non-compliant", "partly"))
    order = lambda pair: (pair[0], natural_key(pair[1]))  # noqa: E731
    failing, repaired = [], []
    for pair in sorted(now.pairs, key=order):
        state, prior = now.pairs[pair], before.pairs.get(pair)
        if state == "fail" and prior != "fail":
            failing.append(CheckChange(pair[0], pair[1], prior, state))
        elif state == "pass" and prior == "fail":
            repaired.append(CheckChange(pair[0], pair[1], prior, state))
    return Changes(before.month, items, newly, fixed, tuple(failing), tuple(repaired))


def _as_of(month: str, today: _dt.date) -> _dt.date:
    _, last = month_bounds(month)
    return min(today, last)


def _evaluate(catalog: Catalog, store: Any, month: str, today: _dt.date,
              inventory_hosts: Sequence[str] | None, generated_at: str) -> MonthReport:
    ctx = _Context(catalog, store, month, today, inventory_hosts)
    as_of = ctx.as_of
    items = [_evaluate_item(ctx, item) for item in catalog.items]
    runs = [r for r in store.runs(month=month, status="complete") if not r.step]  # steps: bookkeeping
    header = ReportHeader(
        sop=catalog.header, month=month, as_of=as_of, generated_at=generated_at,
        first_run=min((r.started_at for r in runs), default=None),
        last_run=max((r.finished_at or r.started_at for r in runs), default=None),
        runs=len(runs),
        performed_by=tuple(sorted({r.who for r in runs if r.who})),
        inventory_files=tuple(sorted({r.inventory for r in runs if r.inventory})),
        inventory_hosts=tuple(sorted(inventory_hosts, key=natural_key)) if inventory_hosts is not None else None,
        hosts_seen=tuple(ctx.hosts_seen), hosts_not_audited=tuple(ctx.hosts_not_audited),
        hosts_ignored=tuple(ctx.hosts_ignored))
    return MonthReport(month, header, catalog.sections, items, _score(items, ctx.pairs), None, ctx.pairs)


def evaluate_month(catalog: Catalog, store: Any, month: str, today: _dt.date,
                   inventory_hosts: Sequence[str] | None = None, *, compare: bool = True,
                   generated_at: str | _dt.datetime | None = None) -> MonthReport:
    """Every SOP item's status for `month` (YYYY-MM) as of `today`, with its proof, the score and
    (with `compare`) the changes since the previous month.

    `inventory_hosts`: when given, only those hosts' results count; inventory hosts with no result in
    the month are listed in the header (`hosts_not_audited`), results of other hosts in `hosts_ignored`.
    `generated_at` (default now) is written in the header.
    """
    check_month(month)
    if isinstance(today, _dt.datetime):
        today = today.date()
    if isinstance(generated_at, _dt.datetime):
        moment = generated_at.astimezone(_dt.timezone.utc) if generated_at.tzinfo else generated_at
        generated_at = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"
    stamp = generated_at or _utc_now()
    report = _evaluate(catalog, store, month, today, inventory_hosts, stamp)
    if compare:
        before = _evaluate(catalog, store, previous_month(month), today, inventory_hosts, stamp)
        report.changes = _changes(report, before)
    return report
