"""The IT service-request register (SOP section B): each request's steps, who took them and when.

    register = Register(store, calendar, days=days_from_catalog(catalog))
    req = register.new("Budi Santoso", "Kepaniteraan", "printer rusak", by="operator", at=when)
    register.act(req.id, "route", by="Kasubag", at=...)      # then verify, consider, approve|reject, done

Steps, in order, with the SOP item each one evidences:

| action | state after | item | time standard (catalog) |
|---|---|---|---|
| new (receive) | received | B.1 | Hari ke 1 |
| route | routed | B.2 | Hari ke 1 |
| verify | verified | B.3 | Hari ke 2 |
| consider | considered | B.4 | Hari ke 2 |
| approve / reject | approved / rejected | B.5 | Hari ke 2 |
| done | done | B.6 | Hari ke 2 (n/a for a rejected request) |

Days are working days counted from the day of receipt (calendar.py). Each step writes, in the same
transaction as the step itself, one workflow evidence row for its item (docs/report.md's contract:
kind `service-request`, `data.record` = the request number, `data.status` compliant when the step was
done by the end of its day, non-compliant when late). `sweep()` writes a non-compliant row for every step
whose day has passed without it, and `close_month()` an `na` row per item for a finished month that
received no request. The row's `time` is when it was recorded, so a later row about the same step
(the step done after all, or back-dated with --at) replaces an earlier one in the report.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import UsageError
from ..people import os_user, required_text
from . import calendar as _cal
from .evidence import insert_evidence

KIND = "service-request"
ITEMS = ("B.1", "B.2", "B.3", "B.4", "B.5", "B.6")
DEFAULT_DAYS = {"B.1": 1, "B.2": 1, "B.3": 2, "B.4": 2, "B.5": 2, "B.6": 2}
BACKDATED = _dt.timedelta(days=1)      # a step recorded longer than this after it happened is marked so

STATES = ("received", "routed", "verified", "considered", "approved", "rejected", "done")
ORDER = {"received": 0, "routed": 1, "verified": 2, "considered": 3, "approved": 4, "rejected": 4, "done": 5}
FINAL = ("done", "rejected")


@dataclass(frozen=True)
class Action:
    name: str          # route, verify, ...
    state: str         # the state it leads to
    index: int         # position in ORDER
    item: str          # SOP item it evidences
    verb: str          # for messages: "cannot <verb> before ..."


ACTIONS = {
    "receive": Action("receive", "received", 0, "B.1", "receive"),
    "route": Action("route", "routed", 1, "B.2", "route"),
    "verify": Action("verify", "verified", 2, "B.3", "verify"),
    "consider": Action("consider", "considered", 3, "B.4", "consider"),
    "approve": Action("approve", "approved", 4, "B.5", "approve"),
    "reject": Action("reject", "rejected", 4, "B.5", "reject"),
    "done": Action("done", "done", 5, "B.6", "complete"),
}
# The state a request is in after each position (for "before it is <...>")
NEEDED = {1: "routed", 2: "verified", 3: "considered", 4: "approved", 5: "done"}
PENDING_ITEMS = {0: ("B.2", "B.3", "B.4", "B.5", "B.6"), 1: ("B.3", "B.4", "B.5", "B.6"),
                 2: ("B.4", "B.5", "B.6"), 3: ("B.5", "B.6"), 4: ("B.6",), 5: ()}
ITEM_ACTION = {"B.1": "receive", "B.2": "route", "B.3": "verify", "B.4": "consider", "B.5": "approve",
               "B.6": "done"}

WORDS = {
    "id": {
        "receive": "diterima", "route": "didisposisi", "verify": "diverifikasi", "consider": "diberi pertimbangan",
        "approve": "disetujui", "reject": "ditolak", "done": "selesai ditangani",
        "summary": "Permintaan layanan TI #{id} dari {requester} ({unit}): {step} {time} oleh {by}",
        "on_time": "tepat waktu: hari kerja ke-{day}, batas hari ke-{allowed} ({due})",
        "late": "terlambat {late} hari kerja: hari kerja ke-{day}, batas hari ke-{allowed} ({due})",
        "skipped": "hari libur/akhir pekan: {days}",
        "backdated": "dicatat {recorded}",
        "overdue_summary": "Permintaan layanan TI #{id} dari {requester} ({unit}): belum {step}",
        "overdue": "belum {step} sampai batas hari ke-{allowed} ({due})",
        "rejected_na": "permintaan ditolak {time} oleh {by}: tidak ada layanan yang ditangani",
        "none_summary": "Tidak ada permintaan layanan TI pada {month}",
        "none": "tidak ada permintaan layanan TI yang diterima pada {month}",
    },
    "en": {
        "receive": "received", "route": "routed", "verify": "verified", "consider": "considered",
        "approve": "approved", "reject": "rejected", "done": "handled (done)",
        "summary": "IT service request #{id} from {requester} ({unit}): {step} {time} by {by}",
        "on_time": "on time: working day {day}, due by day {allowed} ({due})",
        "late": "late by {late} working day(s): working day {day}, due by day {allowed} ({due})",
        "skipped": "weekend/holidays: {days}",
        "backdated": "recorded {recorded}",
        "overdue_summary": "IT service request #{id} from {requester} ({unit}): not yet {step}",
        "overdue": "not {step} by the end of day {allowed} ({due})",
        "rejected_na": "request rejected {time} by {by}: nothing to handle",
        "none_summary": "No IT service request in {month}",
        "none": "no IT service request was received in {month}",
    },
}


@dataclass(frozen=True)
class Step:
    action: str
    at: _dt.datetime
    by: str
    note: str | None
    recorded_at: _dt.datetime


@dataclass
class Request:
    id: int
    received_at: _dt.datetime
    registered_at: _dt.datetime
    requester: str
    unit: str
    need: str
    state: str
    month: str
    data: dict
    steps: list[Step] = field(default_factory=list)

    def step(self, action: str) -> Step | None:
        found = [s for s in self.steps if s.action == action]
        return found[-1] if found else None

    @property
    def decision(self) -> Step | None:
        return self.step("approve") or self.step("reject")

    def done_step(self, item: str) -> Step | None:
        if item == "B.5":
            return self.decision
        return self.step(ITEM_ACTION[item])


def catalog_times(catalog, workflow: str, time_kind: str, value: str, defaults: dict[str, int]) -> dict[str, int]:
    """`defaults` with the catalog's time standard of each item of `workflow` whose time is of `time_kind`:
    the number in its attribute `value` (`day` of "Hari ke N", `max_minutes` of a duration)."""
    times = dict(defaults)
    for item in catalog.items:
        if item.workflow == workflow and item.time.kind == time_kind and getattr(item.time, value):
            times[item.id] = int(getattr(item.time, value))
    return times


def days_from_catalog(catalog) -> dict[str, int]:
    """The day of each B item from the catalog's time standards ("Hari ke N"), for the service-request workflow."""
    return catalog_times(catalog, KIND, "day", "day", DEFAULT_DAYS)


class WorkflowRegister:
    """What the workflow registers share (this one and sopctl.website.incidents): records numbered in one
    table, loaded by number, and the `na` evidence rows of a finished month that received no record.

    A subclass sets `table` (its records' table), `noun` (a record in messages: "request"), `listing` (the
    task that lists the records), `kind` (the evidence kind), `items` (the SOP items it evidences) and
    `words` (with `none_summary` and `none`), and reads one record with `_load(conn, number)` (None when
    there is none).
    """

    table: str
    noun: str
    listing: str
    kind: str
    items: tuple[str, ...]
    store: Any
    words: dict[str, str]

    def _load(self, conn, number: int) -> Any:
        raise NotImplementedError

    def _require(self, conn, number: Any) -> Any:
        """The record `number`, read on `conn`; a UsageError naming it when there is none."""
        record = self._load(conn, int(number))
        if record is None:
            raise UsageError(f"{self.noun} {number}: no such {self.noun}; `invoke {self.listing}` shows the numbers")
        return record

    def get(self, number: int) -> Any:
        with self.store.transaction() as conn:
            return self._require(conn, number)

    def close_month(self, month: str, now: _dt.datetime | None = None) -> bool:
        """For a finished month without any record: an `na` row per item (once). True when written."""
        now = now or _dt.datetime.now().astimezone()
        year, number = (int(x) for x in month.split("-"))
        first_next = _dt.date(year + number // 12, number % 12 + 1, 1)
        if now.astimezone().date() < first_next:
            raise UsageError(f"--month {month}: the month is not over yet; an empty month is recorded after it ends")
        record = f"none-{month}"
        with self.store.transaction() as conn:
            if conn.execute(f"SELECT 1 FROM {self.table} WHERE month = ? LIMIT 1", (month,)).fetchone():
                return False
            if conn.execute("SELECT 1 FROM evidence WHERE kind = ? AND month = ? AND json_extract(data, '$.record') = ?"
                            " LIMIT 1", (self.kind, month, record)).fetchone():
                return False
            for item in self.items:
                insert_evidence(conn, item, self.kind, self.words["none_summary"].format(month=month),
                                {"status": "na", "record": record, "detail": self.words["none"].format(month=month)},
                                time=now, month=month)
        return True


class Register(WorkflowRegister):
    """Service requests kept in the store's `service_requests` / `service_request_steps` tables
    (`close_month`: an `na` row per B item for a finished month without any request)."""

    table, noun, listing, kind, items = "service_requests", "request", "request.list", KIND, ITEMS

    def __init__(self, store, calendar: _cal.WorkCalendar | None = None, *, days: dict[str, int] | None = None,
                 lang: str = "id"):
        self.store = store
        self.calendar = calendar or _cal.WorkCalendar()
        self.days = {**DEFAULT_DAYS, **(days or {})}
        self.words = WORDS[lang]

    # ------------------------------------------------------------------------------------------ reading

    def _load(self, conn, request_id: int) -> Request | None:
        row = conn.execute("SELECT * FROM service_requests WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            return None
        steps = [Step(s["step"], _cal.from_stored(s["at"]), s["by"], s["note"], _cal.from_stored(s["recorded_at"]))
                 for s in conn.execute("SELECT * FROM service_request_steps WHERE request_id = ? ORDER BY at, id",
                                       (request_id,))]
        return Request(row["id"], _cal.from_stored(row["received_at"]), _cal.from_stored(row["registered_at"]),
                       row["requester"], row["unit"], row["need"], row["state"], row["month"],
                       json.loads(row["data"] or "{}"), steps)

    def list(self, month: str | None = None) -> list[Request]:
        with self.store.transaction() as conn:
            if month:
                ids = [r["id"] for r in conn.execute("SELECT id FROM service_requests WHERE month = ? ORDER BY id",
                                                     (month,))]
            else:
                ids = [r["id"] for r in conn.execute("SELECT id FROM service_requests ORDER BY id")]
            return [self._load(conn, i) for i in ids]

    # ------------------------------------------------------------------------------------------- timing

    def due(self, request: Request, item: str) -> _dt.datetime:
        return self.calendar.due(request.received_at, self.days[item])

    def step_status(self, request: Request, item: str, now: _dt.datetime | None = None) -> dict[str, Any]:
        """Where one item stands for a request: done on time / late, pending, overdue, or n/a."""
        now = now or _dt.datetime.now().astimezone()
        due = self.due(request, item)
        allowed = self.days[item]
        if item == "B.6" and request.state == "rejected":
            return {"item": item, "state": "na", "due": due, "allowed": allowed}
        step = request.done_step(item)
        if step is None:
            return {"item": item, "state": "overdue" if now > due else "pending", "due": due, "allowed": allowed}
        day = self.calendar.day_number(request.received_at, step.at)
        on_time = step.at <= due
        return {"item": item, "state": "on-time" if on_time else "late", "due": due, "allowed": allowed,
                "done": step.at, "by": step.by, "day": day, "late_days": max(0, day - allowed),
                "action": step.action, "recorded": step.recorded_at}

    # ------------------------------------------------------------------------------------------ evidence

    def _evidence(self, conn, request: Request, item: str, now: _dt.datetime) -> None:
        info = self.step_status(request, item, now)
        words = self.words
        base = {"record": request.id, "step": ITEM_ACTION[item], "requester": request.requester,
                "unit": request.unit, "received": request.received_at.isoformat(),
                "due": info["due"].isoformat(), "allowed_day": info["allowed"]}
        due_text = _cal.local_text(info["due"])
        if info["state"] == "na":
            decision = request.decision
            detail = words["rejected_na"].format(time=_cal.local_text(decision.at), by=decision.by)
            data = {**base, "status": "na", "detail": detail, "done": None, "by": decision.by}
            summary = words["summary"].format(id=request.id, requester=request.requester, unit=request.unit,
                                              step=words["reject"], time=_cal.local_text(decision.at),
                                              by=decision.by)
        elif info["state"] in ("on-time", "late"):
            action = info["action"]
            if info["state"] == "on-time":
                detail = words["on_time"].format(day=info["day"], allowed=info["allowed"], due=due_text)
            else:
                detail = words["late"].format(late=info["late_days"], day=info["day"], allowed=info["allowed"],
                                              due=due_text)
                skipped = self.calendar.skipped(request.received_at.astimezone().date(),
                                                info["done"].astimezone().date())
                if skipped:
                    detail += "; " + words["skipped"].format(days=", ".join(skipped))
            if info["recorded"] - info["done"] > BACKDATED:
                detail += "; " + words["backdated"].format(recorded=_cal.local_text(info["recorded"]))
            data = {**base, "status": "compliant" if info["state"] == "on-time" else "non-compliant",
                    "detail": detail, "done": info["done"].isoformat(), "by": info["by"], "day": info["day"],
                    "recorded": info["recorded"].isoformat()}
            summary = words["summary"].format(id=request.id, requester=request.requester, unit=request.unit,
                                              step=words[action], time=_cal.local_text(info["done"]),
                                              by=info["by"])
        else:  # overdue
            step_word = words[ITEM_ACTION[item]]
            detail = words["overdue"].format(step=step_word, allowed=info["allowed"], due=due_text)
            data = {**base, "status": "non-compliant", "detail": detail, "done": None, "by": None,
                    "overdue": True}
            summary = words["overdue_summary"].format(id=request.id, requester=request.requester,
                                                      unit=request.unit, step=step_word)
        insert_evidence(conn, item, KIND, summary, data, time=now, month=request.month)

    # -------------------------------------------------------------------------------------------- steps

    def new(self, requester: str, unit: str, need: str, *, by: str | None = None, at: Any = None,
            received: Any = None, note: str | None = None, now: _dt.datetime | None = None) -> Request:
        """Register a request (B.1). `at`: when it was registered; `received`: when it arrived (default `at`)."""
        now = now or _dt.datetime.now().astimezone()
        requester, unit, need = required_text("--from", requester), required_text("--unit", unit), required_text("--need", need)
        by = (by or os_user("unknown")).strip()
        registered = _cal.parse_at(at, "--at", now=now)
        arrived = _cal.parse_at(received, "--received", now=now) if received else registered
        if arrived > registered:
            raise UsageError(f"--received {_cal.local_text(arrived)} is after --at {_cal.local_text(registered)}: "
                             "a request is registered after it arrives")
        month = _cal.month_of(arrived)
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO service_requests (received_at, registered_at, requester, unit, need, state, month, data) "
                "VALUES (?, ?, ?, ?, ?, 'received', ?, '{}')",
                (_cal.stored(arrived), _cal.stored(registered), requester, unit, need, month))
            request_id = int(cursor.lastrowid)
            conn.execute("INSERT INTO service_request_steps (request_id, step, at, by, note, recorded_at) "
                         "VALUES (?, 'receive', ?, ?, ?, ?)",
                         (request_id, _cal.stored(registered), by, note, _cal.stored(now)))
            request = self._load(conn, request_id)
            self._evidence(conn, request, "B.1", now)
        return request

    def act(self, request_id: int, action: str, *, by: str | None = None, at: Any = None, note: str | None = None,
            now: _dt.datetime | None = None) -> Request:
        """Record a step (route, verify, consider, approve, reject, done) after checking the order."""
        if action not in ACTIONS or action == "receive":
            raise UsageError(f"unknown step {action!r}: use route, verify, consider, approve, reject or done")
        now = now or _dt.datetime.now().astimezone()
        spec = ACTIONS[action]
        by = (by or os_user("unknown")).strip()
        moment = _cal.parse_at(at, "--at", now=now)
        with self.store.transaction() as conn:
            request = self._require(conn, request_id)
            self._check_order(request, spec, moment)
            conn.execute("INSERT INTO service_request_steps (request_id, step, at, by, note, recorded_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (request.id, action, _cal.stored(moment), by, note, _cal.stored(now)))
            conn.execute("UPDATE service_requests SET state = ? WHERE id = ?", (spec.state, request.id))
            request = self._load(conn, request.id)
            self._evidence(conn, request, spec.item, now)
            if action == "reject":
                self._evidence(conn, request, "B.6", now)
        return request

    def _check_order(self, request: Request, spec: Action, moment: _dt.datetime) -> None:
        current = ORDER[request.state]
        where = f"request {request.id}"
        if request.state == "rejected" and spec.index >= 4:
            decision = request.decision
            raise UsageError(f"{where}: was rejected on {_cal.local_text(decision.at)} by {decision.by}; "
                             f"it cannot be {'approved' if spec.name == 'approve' else spec.state} "
                             f"(current step: rejected)")
        if current >= spec.index:
            done = request.decision if spec.index == 4 else request.step(spec.name)
            what = f"decided ({request.state})" if spec.index == 4 else spec.state
            when = f" on {_cal.local_text(done.at)} by {done.by}" if done else ""
            raise UsageError(f"{where}: already {what}{when} (current step: {request.state})")
        if current < spec.index - 1:
            raise UsageError(f"{where}: cannot {spec.verb} before it is {NEEDED[current + 1]} "
                             f"(current step: {request.state})")
        last = request.steps[-1] if request.steps else None
        if last is not None and moment < last.at:
            raise UsageError(f"{where}: cannot be {spec.state} at {_cal.local_text(moment)}, before it was "
                             f"{ACTIONS[last.action].state} ({_cal.local_text(last.at)})")
        if moment < request.received_at:
            raise UsageError(f"{where}: cannot be {spec.state} at {_cal.local_text(moment)}, before it was "
                             f"received ({_cal.local_text(request.received_at)})")

    # -------------------------------------------------------------------------------------------- sweeps

    def sweep(self, now: _dt.datetime | None = None) -> list[tuple[int, str]]:
        """A non-compliant row for every step whose day has passed without it (once per step); returns them."""
        now = now or _dt.datetime.now().astimezone()
        written = []
        with self.store.transaction() as conn:
            open_ids = [r["id"] for r in conn.execute(
                "SELECT id FROM service_requests WHERE state NOT IN ('done', 'rejected') ORDER BY id")]
            for request_id in open_ids:
                request = self._load(conn, request_id)
                marked = set(request.data.get("overdue", []))
                new = []
                for item in PENDING_ITEMS[ORDER[request.state]]:
                    if item in marked or now <= self.due(request, item):
                        continue
                    self._evidence(conn, request, item, now)
                    new.append(item)
                    written.append((request.id, item))
                if new:
                    request.data["overdue"] = sorted(marked | set(new))
                    conn.execute("UPDATE service_requests SET data = ? WHERE id = ?",
                                 (json.dumps(request.data, sort_keys=True), request.id))
        return written

    # --------------------------------------------------------------------------------------------- views

    def overview(self, request: Request, now: _dt.datetime | None = None) -> dict[str, Any]:
        """One request with every item's status, as JSON values."""
        now = now or _dt.datetime.now().astimezone()
        items = {}
        for item in ITEMS:
            info = self.step_status(request, item, now)
            items[item] = {k: (v.isoformat() if isinstance(v, _dt.datetime) else v) for k, v in info.items()}
        return {"id": request.id, "received": request.received_at.isoformat(),
                "registered": request.registered_at.isoformat(), "from": request.requester, "unit": request.unit,
                "need": request.need, "state": request.state, "month": request.month,
                "steps": [{"step": s.action, "at": s.at.isoformat(), "by": s.by, "note": s.note,
                           "recorded": s.recorded_at.isoformat()} for s in request.steps],
                "items": items}


def summarise(register: Register, requests: Iterable[Request], now: _dt.datetime | None = None) -> dict[str, Any]:
    """Per B item: how many requests met its time standard, were late, are pending/overdue or n/a."""
    counts = {item: {"on-time": 0, "late": 0, "pending": 0, "overdue": 0, "na": 0} for item in ITEMS}
    for request in requests:
        for item in ITEMS:
            counts[item][register.step_status(request, item, now)["state"]] += 1
    return counts
