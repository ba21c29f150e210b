"""Working days (Monday to Friday, minus holidays) and the times a workflow step is given.

The SOP counts service-request steps in days of the procedure ("Hari ke 1", "Hari ke 2"), counted from
the day the request is received. sopctl reads that as *working* days: day 1 is the day of receipt when
it is a working day (else the next working day), day 2 the working day after, and a step is on time
when it is done by the end of its day (23:59:59 local time). Holidays come from the Invoke config
`sopctl.holidays` (a list of YYYY-MM-DD) and/or the file `inventory/holidays.yml` (a list of dates, or a
mapping date -> name, or a list of {date, name}); both are used when both exist.

Times a person types (`--at`) are ISO 8601: `2026-11-24 09:30`, `2026-11-24T09:30:00+08:00`. Without an
offset they are local time (the court's WITA on its server).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import InputError, UsageError

END_OF_DAY = _dt.time(23, 59, 59, 999000)
FUTURE_SLACK = _dt.timedelta(minutes=5)


@dataclass(frozen=True)
class WorkCalendar:
    """Monday-Friday minus `holidays` (dates with an optional name)."""

    holidays: dict = field(default_factory=dict)      # date -> name ("" when unnamed)

    def is_working_day(self, day: _dt.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def working_day(self, start: _dt.date, n: int) -> _dt.date:
        """The n-th working day counted from `start` (day 1 = `start` if it is a working day)."""
        if n < 1:
            raise ValueError("n counts from 1")
        day, count = start, 0
        while True:
            if self.is_working_day(day):
                count += 1
                if count == n:
                    return day
            day += _dt.timedelta(days=1)

    def due(self, received: _dt.datetime, n: int) -> _dt.datetime:
        """The end (local time, aware) of the n-th working day counted from the day `received` falls on."""
        local = received.astimezone()
        day = self.working_day(local.date(), n)
        return _dt.datetime.combine(day, END_OF_DAY).astimezone()

    def working_days_between(self, start: _dt.date, end: _dt.date) -> int:
        """Working days in [start, end] (the day number of `end` counted from `start`); 0 if end < start."""
        count, day = 0, start
        while day <= end:
            count += self.is_working_day(day)
            day += _dt.timedelta(days=1)
        return count

    def day_number(self, received: _dt.datetime, at: _dt.datetime) -> int:
        """Which working day of the procedure `at` falls on (1 = the first working day from receipt)."""
        start, end = received.astimezone().date(), at.astimezone().date()
        number = self.working_days_between(start, end)
        if not self.is_working_day(end):
            number += 1        # done on a weekend/holiday: counts as the next working day
        return max(number, 1)

    def skipped(self, start: _dt.date, end: _dt.date) -> list[str]:
        """The non-working days in [start, end], named ("2026-11-28 Saturday", "2026-11-30 holiday X")."""
        out, day = [], start
        while day <= end:
            if day in self.holidays:
                name = self.holidays[day]
                out.append(f"{day.isoformat()} holiday{' ' + name if name else ''}")
            elif day.weekday() >= 5:
                out.append(f"{day.isoformat()} {day.strftime('%A')}")
            day += _dt.timedelta(days=1)
        return out


def _date(value: Any, where: str, source: str | None) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD, got {value!r}", path=source, field=where) from None


def parse_holidays(raw: Any, source: str | None = None) -> dict:
    """Holidays from config/YAML: a list of dates, a list of {date, name}, or a mapping date -> name."""
    out: dict = {}
    if raw is None:
        return out
    if isinstance(raw, dict):
        for key, name in raw.items():
            out[_date(key, f"holidays[{key}]", source)] = "" if name is None else str(name)
        return out
    if not isinstance(raw, (list, tuple)):
        raise InputError(f"expected a list of dates YYYY-MM-DD, got {type(raw).__name__}", path=source,
                         field="holidays")
    for index, entry in enumerate(raw):
        if isinstance(entry, dict):
            if "date" not in entry:
                raise InputError("expected a date (or {date: YYYY-MM-DD, name: ...})", path=source,
                                 field=f"holidays[{index}]")
            out[_date(entry["date"], f"holidays[{index}].date", source)] = str(entry.get("name") or "")
        else:
            out[_date(entry, f"holidays[{index}]", source)] = ""
    return out


def load_calendar(config_holidays: Any = None, files: Iterable[Path] = ()) -> WorkCalendar:
    """The working calendar from config holidays plus any holiday files that exist."""
    holidays = parse_holidays(config_holidays, "invoke config sopctl.holidays")
    for path in files:
        path = Path(path)
        if not path.is_file():
            continue
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML: {exc}", path=str(path)) from None
        if isinstance(raw, dict) and "holidays" in raw and len(raw) == 1:
            raw = raw["holidays"]
        for day, name in parse_holidays(raw, str(path)).items():
            holidays[day] = name or holidays.get(day, "")
    return WorkCalendar(holidays)


# ----------------------------------------------------------------------------------------------- times


def parse_at(value: Any, option: str = "--at", *, now: _dt.datetime | None = None) -> _dt.datetime:
    """A time a person gave (aware, local zone when no offset); default now. Not in the future."""
    current = now or _dt.datetime.now().astimezone()
    if value is None or value == "":
        return current
    if isinstance(value, _dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if len(text) == 10:
            raise UsageError(f"{option} {text!r}: give a time too (YYYY-MM-DD HH:MM), not only a day")
        try:
            moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"{option} {text!r} is not an ISO 8601 time (YYYY-MM-DD HH:MM[:SS][+08:00])") \
                from None
    moment = moment.astimezone() if moment.tzinfo is None else moment
    if moment > current + FUTURE_SLACK:
        raise UsageError(f"{option} {value}: that time has not come yet")
    return moment


def stored(moment: _dt.datetime) -> str:
    """A time as the store writes it (UTC, milliseconds, Z)."""
    moment = moment.astimezone(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_stored(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_text(text_or_time: Any) -> str:
    """`2026-11-24 09:30` in local time, for messages and tables."""
    moment = from_stored(text_or_time) if isinstance(text_or_time, str) else text_or_time
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def month_of(moment: _dt.datetime) -> str:
    local = moment.astimezone()
    return f"{local.year:04d}-{local.month:02d}"
