"""Turning Python values into what the store writes: times, dates, months, JSON, trimmed output.

Every value that goes into the database passes through here, which is also where the store refuses a
`Secret` (a TypeError naming the field): callers must pass display (masked) forms, and a `Command` is
stored as its `display`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import PurePath
from typing import Any

from sopctl.errors import UsageError
from sopctl.transport.quoting import Command, Secret

OUTPUT_CAP = 4096  # bytes of command output kept per result (UTF-8)
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


# --------------------------------------------------------------------------------------------- secrets


def refuse_secret(field: str, value: Any) -> None:
    if isinstance(value, Secret):
        raise TypeError(f"{field}: refusing to store a Secret; pass the masked display form instead")


def text(field: str, value: Any, *, required: bool = False) -> str | None:
    """A text column: None stays None (unless required), a Command becomes its display form."""
    refuse_secret(field, value)
    if value is None:
        if required:
            raise UsageError(f"{field}: a value is required")
        return None
    if isinstance(value, Command):
        value = value.display
    elif isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif isinstance(value, PurePath):
        value = str(value)
    elif not isinstance(value, str):
        value = str(value)
    if required and not value.strip():
        raise UsageError(f"{field}: must not be empty")
    return value


def to_json(field: str, value: Any) -> str:
    """JSON text for a JSON column; a Secret anywhere inside is refused, naming the field."""

    def default(obj: Any) -> Any:
        refuse_secret(field, obj)
        if isinstance(obj, Command):
            return obj.display
        if isinstance(obj, (_dt.datetime, _dt.date)):
            return obj.isoformat()
        if isinstance(obj, PurePath):
            return str(obj)
        if isinstance(obj, (set, frozenset, tuple)):
            return list(obj)
        raise TypeError(f"{field}: cannot store a {type(obj).__name__} as JSON")

    refuse_secret(field, value)
    return json.dumps(value, default=default, ensure_ascii=False, sort_keys=True)


# ----------------------------------------------------------------------------------------------- times


def format_time(moment: _dt.datetime) -> str:
    """UTC, millisecond precision, trailing Z: fixed width, so stored times sort as text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    moment = moment.astimezone(_dt.timezone.utc)
    return moment.strftime(_TIME_FORMAT) + f".{moment.microsecond // 1000:03d}Z"


def now() -> str:
    return format_time(_dt.datetime.now(_dt.timezone.utc))


def parse_time(value: str) -> _dt.datetime:
    """A stored (or any ISO 8601) time as an aware UTC datetime; naive text is taken as UTC."""
    moment = _dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc)


def time_value(field: str, value: Any) -> str:
    """A time column from a datetime (naive = UTC) or ISO 8601 text; None means now."""
    refuse_secret(field, value)
    if value is None:
        return now()
    if isinstance(value, _dt.datetime):
        return format_time(value)
    if isinstance(value, str):
        try:
            return format_time(parse_time(value))
        except ValueError:
            raise UsageError(f"{field}: {value!r} is not an ISO 8601 time") from None
    raise TypeError(f"{field}: expected a datetime or ISO 8601 text, not {type(value).__name__}")


def date_value(field: str, value: Any) -> str:
    """A date column (YYYY-MM-DD) from a date or text."""
    refuse_secret(field, value)
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise UsageError(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None
    raise TypeError(f"{field}: expected a date or YYYY-MM-DD text, not {type(value).__name__}")


def upper_bound(field: str, value: Any) -> str:
    """`as_of` as a stored-time bound (inclusive): a time as is; a date means the end of that local day."""
    refuse_secret(field, value)
    if isinstance(value, _dt.datetime):
        return format_time(value)
    if isinstance(value, _dt.date) or (isinstance(value, str) and len(value.strip()) == 10):
        day = _dt.date.fromisoformat(date_value(field, value))
        return format_time(_dt.datetime.combine(day, _dt.time(23, 59, 59, 999000)).astimezone())
    return time_value(field, value)


def month_value(field: str, value: Any) -> str:
    refuse_secret(field, value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    if not isinstance(value, str) or not _MONTH.match(value):
        raise UsageError(f"{field}: {value!r} is not a month (YYYY-MM)")
    return value


def local_date(stored_time: str) -> str:
    """The calendar day (YYYY-MM-DD) of a stored UTC time in this machine's local time zone."""
    return parse_time(stored_time).astimezone().date().isoformat()


def local_month(stored_time: str) -> str:
    """The month (YYYY-MM) of a stored UTC time in this machine's local time zone."""
    local = parse_time(stored_time).astimezone()
    return f"{local.year:04d}-{local.month:02d}"


def sha256_value(field: str, value: Any) -> str | None:
    refuse_secret(field, value)
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.match(value.lower()):
        raise UsageError(f"{field}: {value!r} is not a SHA-256 hex digest")
    return value.lower()


def int_value(field: str, value: Any) -> int | None:
    refuse_secret(field, value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field}: expected an integer, not {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------------------------- output


def _cut_head(data: bytes, size: int) -> bytes:
    return data[:size].decode("utf-8", "ignore").encode("utf-8")


def _cut_tail(data: bytes, size: int) -> bytes:
    return data[len(data) - size:].decode("utf-8", "ignore").encode("utf-8") if size else b""


def trim_output(value: Any, cap: int = OUTPUT_CAP) -> tuple[str | None, int | None, bool]:
    """(kept text, original size in bytes, trimmed?) for a result's output.

    Output over `cap` UTF-8 bytes keeps its first and last cap/2 bytes (cut at character boundaries,
    so the start and the error at the end both survive) with a marker line between them saying how
    many bytes were left out.
    """
    value = text("output", value)
    if value is None:
        return None, None, False
    data = value.encode("utf-8", "replace")  # a lone surrogate (from surrogateescape) becomes '?'
    if len(data) <= cap:
        return data.decode("utf-8"), len(data), False
    head, tail = _cut_head(data, cap // 2), _cut_tail(data, cap - cap // 2)
    left_out = len(data) - len(head) - len(tail)
    marker = f"\n[... sopctl trimmed {left_out} of {len(data)} bytes of output ...]\n"
    kept = head.decode("utf-8") + marker + tail.decode("utf-8")
    return kept, len(data), True
