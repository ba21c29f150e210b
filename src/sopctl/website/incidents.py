"""Website incidents (SOP F.6 and F.7): a problem opened, the steps taken, and when it was solved.

    incidents = Incidents(store, minutes=minutes_from_catalog(catalog))
    inc = incidents.open("pa-batulicin", "situs tidak bisa diakses", handled_by="provider", at=...)
    incidents.update(inc.id, "hubungi provider, server di-restart", by="admin", at=...)
    incidents.close(inc.id, by="provider", at=..., resolution="...")

Time standards come from the catalog (the SOP's "Waktu"): F.6 "2 Jam" — the first step must be taken
within 2 hours of opening (the first `update`, or the `close` when it was solved at once); F.7
"1 Jam – 3 Hari" — the incident must be closed within 3 days of opening (the 1-hour lower end of the
SOP's range is how long troubleshooting is expected to take at least, not a limit: closing sooner is
compliant). These are calendar hours: a website is expected to be up at weekends too.

Each event writes, in the register's transaction, workflow evidence rows (kind `incident`, `data.record`
= the incident number) per docs/report.md: F.6 when the first step is recorded, F.7 when the incident is
closed, and `sweep()` a non-compliant row when a deadline passes with nothing done. The row's month is
the month the incident was opened.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..people import os_user, required_text
from ..requests_register import calendar as _cal
from ..requests_register.evidence import insert_evidence
from ..requests_register.register import WorkflowRegister, catalog_times

KIND = "incident"
DEFAULT_MINUTES = {"F.6": 120, "F.7": 4320}
PARTIES = ("admin", "provider")

WORDS = {
    "id": {
        "summary": "Insiden website #{id} ({site}): {problem}",
        "first_on_time": "langkah pertama {after} setelah dibuka (batas {limit}): {step} — oleh {by}",
        "first_late": "langkah pertama terlambat: {after} setelah dibuka (batas {limit}): {step} — oleh {by}",
        "no_step": "belum ada langkah sampai {limit} setelah dibuka ({due})",
        "closed_on_time": "selesai dalam {after} (batas {limit}) oleh {by}: {resolution}",
        "closed_late": "selesai terlambat: {after} (batas {limit}) oleh {by}: {resolution}",
        "not_closed": "belum selesai sampai {limit} setelah dibuka ({due})",
        "none_summary": "Tidak ada insiden website pada {month}",
        "none": "tidak ada masalah website yang tercatat pada {month}",
        "day": "hari", "hour": "jam", "minute": "menit",
    },
    "en": {
        "summary": "Website incident #{id} ({site}): {problem}",
        "first_on_time": "first step {after} after opening (limit {limit}): {step} — by {by}",
        "first_late": "first step late: {after} after opening (limit {limit}): {step} — by {by}",
        "no_step": "no step taken within {limit} of opening ({due})",
        "closed_on_time": "solved in {after} (limit {limit}) by {by}: {resolution}",
        "closed_late": "solved late: {after} (limit {limit}) by {by}: {resolution}",
        "not_closed": "not solved within {limit} of opening ({due})",
        "none_summary": "No website incident in {month}",
        "none": "no website problem was recorded in {month}",
        "day": "day(s)", "hour": "hour(s)", "minute": "minute(s)",
    },
}


def duration_text(minutes: float, lang: str = "id") -> str:
    """`1 hari 4 jam`, `35 menit`, `2 jam` (whole minutes, at most two units)."""
    words = WORDS[lang]
    total = int(round(minutes))
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    parts = [(days, words["day"]), (hours, words["hour"]), (mins, words["minute"])]
    shown = [f"{n} {w}" for n, w in parts if n][:2]
    return " ".join(shown) if shown else f"0 {words['minute']}"


@dataclass(frozen=True)
class IncidentStep:
    at: _dt.datetime
    by: str
    step: str
    recorded_at: _dt.datetime


@dataclass
class Incident:
    id: int
    site: str
    problem: str
    handled_by: str
    opened_at: _dt.datetime
    opened_by: str | None
    closed_at: _dt.datetime | None
    closed_by: str | None
    resolution: str | None
    month: str
    steps: list[IncidentStep] = field(default_factory=list)

    @property
    def first_step(self) -> tuple[_dt.datetime, str, str] | None:
        """(when, by, what) of the first step taken: the first update, else the close."""
        if self.steps:
            first = self.steps[0]
            return first.at, first.by, first.step
        if self.closed_at is not None:
            return self.closed_at, self.closed_by or "", self.resolution or "closed"
        return None

    def minutes_to(self, moment: _dt.datetime) -> float:
        return (moment - self.opened_at).total_seconds() / 60

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "site": self.site, "problem": self.problem, "handled_by": self.handled_by,
                "opened_at": self.opened_at.isoformat(), "opened_by": self.opened_by,
                "closed_at": self.closed_at.isoformat() if self.closed_at else None, "closed_by": self.closed_by,
                "resolution": self.resolution, "month": self.month,
                "steps": [{"at": s.at.isoformat(), "by": s.by, "step": s.step} for s in self.steps]}


def minutes_from_catalog(catalog) -> dict[str, int]:
    """F.6 and F.7's limits in minutes from the catalog's time standards (the upper end of a range)."""
    return catalog_times(catalog, KIND, "duration", "max_minutes", DEFAULT_MINUTES)


class Incidents(WorkflowRegister):
    """The incident register in the store's `website_incidents` / `website_incident_steps` tables
    (`close_month`: an `na` row for F.6 and F.7 for a finished month without any incident)."""

    table, noun, listing, kind, items = "website_incidents", "incident", "incident.list", KIND, ("F.6", "F.7")

    def __init__(self, store, *, minutes: dict[str, int] | None = None, lang: str = "id"):
        self.store = store
        self.minutes = {**DEFAULT_MINUTES, **(minutes or {})}
        self.lang = lang
        self.words = WORDS[lang]

    # ------------------------------------------------------------------------------------------ reading

    def _load(self, conn, incident_id: int) -> Incident | None:
        row = conn.execute("SELECT * FROM website_incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            return None
        steps = [IncidentStep(_cal.from_stored(s["at"]), s["by"], s["step"], _cal.from_stored(s["recorded_at"]))
                 for s in conn.execute("SELECT * FROM website_incident_steps WHERE incident_id = ? ORDER BY at, id",
                                       (incident_id,))]
        closed = _cal.from_stored(row["closed_at"]) if row["closed_at"] else None
        return Incident(row["id"], row["site"], row["problem"], row["handled_by"], _cal.from_stored(row["opened_at"]),
                        row["opened_by"], closed, row["closed_by"], row["resolution"], row["month"], steps)

    def list(self, month: str | None = None, site: str | None = None) -> list[Incident]:
        where, params = [], []
        if month:
            where.append("month = ?")
            params.append(month)
        if site:
            where.append("site = ?")
            params.append(site)
        sql = "SELECT id FROM website_incidents" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        with self.store.transaction() as conn:
            return [self._load(conn, r["id"]) for r in conn.execute(sql, params).fetchall()]

    # ------------------------------------------------------------------------------------------ evidence

    def _limit(self, item: str) -> str:
        return duration_text(self.minutes[item], self.lang)

    def _row(self, conn, incident: Incident, item: str, now: _dt.datetime) -> None:
        """The F.6 or F.7 evidence row for where the incident stands now (nothing if not yet decided)."""
        words, limit = self.words, self.minutes[item]
        due = incident.opened_at + _dt.timedelta(minutes=limit)
        base = {"record": incident.id, "site": incident.site, "problem": incident.problem,
                "handled_by": incident.handled_by, "opened": incident.opened_at.isoformat(),
                "due": due.isoformat(), "limit_minutes": limit}
        if item == "F.6":
            first = incident.first_step
            if first is None:
                if now <= due:
                    return
                data = {**base, "status": "non-compliant", "overdue": True, "done": None, "by": None,
                        "detail": words["no_step"].format(limit=self._limit(item), due=_cal.local_text(due))}
            else:
                at, by, what = first
                minutes = incident.minutes_to(at)
                key = "first_on_time" if minutes <= limit else "first_late"
                data = {**base, "status": "compliant" if minutes <= limit else "non-compliant", "done": at.isoformat(),
                        "by": by, "minutes": round(minutes, 1),
                        "detail": words[key].format(after=duration_text(minutes, self.lang), limit=self._limit(item),
                                                    step=what, by=by)}
        else:
            if incident.closed_at is None:
                if now <= due:
                    return
                data = {**base, "status": "non-compliant", "overdue": True, "done": None, "by": None,
                        "detail": words["not_closed"].format(limit=self._limit(item), due=_cal.local_text(due))}
            else:
                minutes = incident.minutes_to(incident.closed_at)
                key = "closed_on_time" if minutes <= limit else "closed_late"
                data = {**base, "status": "compliant" if minutes <= limit else "non-compliant",
                        "done": incident.closed_at.isoformat(), "by": incident.closed_by, "minutes": round(minutes, 1),
                        "detail": words[key].format(after=duration_text(minutes, self.lang), limit=self._limit(item),
                                                    by=incident.closed_by, resolution=incident.resolution or "-")}
        summary = words["summary"].format(id=incident.id, site=incident.site, problem=incident.problem)[:300]
        insert_evidence(conn, item, KIND, summary, data, time=now, month=incident.month)

    # ------------------------------------------------------------------------------------------- events

    def open(self, site: str, problem: str, *, handled_by: str = "admin", by: str | None = None, at: Any = None,
             now: _dt.datetime | None = None) -> Incident:
        now = now or _dt.datetime.now().astimezone()
        site, problem = required_text("--site", site), required_text("--problem", problem)
        if handled_by not in PARTIES:
            raise UsageError(f"--by {handled_by!r}: use admin (the court's web admin) or provider (a third party)")
        moment = _cal.parse_at(at, "--at", now=now)
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO website_incidents (site, problem, handled_by, opened_at, opened_by, month) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (site, problem, handled_by, _cal.stored(moment), by or os_user("unknown"), _cal.month_of(moment)))
            incident = self._load(conn, int(cursor.lastrowid))
        return incident

    def _open_incident(self, conn, incident_id: int, moment: _dt.datetime, what: str) -> Incident:
        incident = self._require(conn, incident_id)
        if incident.closed_at is not None:
            raise UsageError(f"incident {incident.id}: already closed on {_cal.local_text(incident.closed_at)} by "
                             f"{incident.closed_by}; cannot {what}")
        last = incident.steps[-1].at if incident.steps else incident.opened_at
        if moment < last:
            label = "its last step" if incident.steps else "it was opened"
            raise UsageError(f"incident {incident.id}: cannot {what} at {_cal.local_text(moment)}, before {label} "
                             f"({_cal.local_text(last)})")
        return incident

    def update(self, incident_id: int, step: str, *, by: str, at: Any = None,
               now: _dt.datetime | None = None) -> Incident:
        now = now or _dt.datetime.now().astimezone()
        step, by = required_text("--step", step), required_text("--by", by)
        moment = _cal.parse_at(at, "--at", now=now)
        with self.store.transaction() as conn:
            incident = self._open_incident(conn, incident_id, moment, "record a step")
            first = not incident.steps
            conn.execute("INSERT INTO website_incident_steps (incident_id, at, by, step, recorded_at) "
                         "VALUES (?, ?, ?, ?, ?)", (incident.id, _cal.stored(moment), by, step, _cal.stored(now)))
            incident = self._load(conn, incident.id)
            if first:
                self._row(conn, incident, "F.6", now)
        return incident

    def close(self, incident_id: int, *, by: str, at: Any = None, resolution: str | None = None,
              now: _dt.datetime | None = None) -> Incident:
        now = now or _dt.datetime.now().astimezone()
        by = required_text("--by", by)
        moment = _cal.parse_at(at, "--at", now=now)
        with self.store.transaction() as conn:
            incident = self._open_incident(conn, incident_id, moment, "close it")
            had_step = bool(incident.steps)
            conn.execute("UPDATE website_incidents SET closed_at = ?, closed_by = ?, resolution = ? WHERE id = ?",
                         (_cal.stored(moment), by, resolution, incident.id))
            incident = self._load(conn, incident.id)
            if not had_step:
                self._row(conn, incident, "F.6", now)
            self._row(conn, incident, "F.7", now)
        return incident

    def sweep(self, now: _dt.datetime | None = None) -> list[tuple[int, str]]:
        """A non-compliant row when F.6's or F.7's deadline passed with nothing done (once each)."""
        now = now or _dt.datetime.now().astimezone()
        written = []
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT id FROM website_incidents WHERE closed_at IS NULL ORDER BY id").fetchall()
            for row in rows:
                incident = self._load(conn, row["id"])
                for item in self.items:
                    if item == "F.6" and incident.steps:
                        continue
                    due = incident.opened_at + _dt.timedelta(minutes=self.minutes[item])
                    if now <= due:
                        continue
                    already = conn.execute(
                        "SELECT 1 FROM evidence WHERE kind = ? AND sop_id = ? AND json_extract(data, '$.record') = ? "
                        "AND json_extract(data, '$.overdue') = 1 LIMIT 1", (KIND, item, incident.id)).fetchone()
                    if already:
                        continue
                    self._row(conn, incident, item, now)
                    written.append((incident.id, item))
        return written

    # --------------------------------------------------------------------------------------------- views

    def state(self, incident: Incident, now: _dt.datetime | None = None) -> dict[str, Any]:
        """F.6/F.7 standing of one incident: on-time, late, pending, overdue; durations in minutes."""
        now = now or _dt.datetime.now().astimezone()
        out: dict[str, Any] = {}
        first = incident.first_step
        limit6, limit7 = self.minutes["F.6"], self.minutes["F.7"]
        if first is None:
            waited = incident.minutes_to(now)
            out["F.6"] = {"state": "overdue" if waited > limit6 else "pending", "minutes": None}
        else:
            minutes = incident.minutes_to(first[0])
            out["F.6"] = {"state": "on-time" if minutes <= limit6 else "late", "minutes": round(minutes, 1)}
        if incident.closed_at is None:
            waited = incident.minutes_to(now)
            out["F.7"] = {"state": "overdue" if waited > limit7 else "pending", "minutes": None}
        else:
            minutes = incident.minutes_to(incident.closed_at)
            out["F.7"] = {"state": "on-time" if minutes <= limit7 else "late", "minutes": round(minutes, 1)}
        return out
