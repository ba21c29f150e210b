"""Expectations: judge an Observation against a check's expectations, all of which must hold.

Three observed outcomes are kept apart, because confusing them is how compliance tools lie:
- a value (and "" is a value: an empty file, an empty output);
- absent (the file, key, package, line or property is not there): a FAIL shown as `(absent)`, unless the
  check expects `absent: true`; never a silent pass;
- error (we could not tell: permission denied, a missing command, a timeout, a non-JSON answer): ERROR.

Comparisons are exact and case-sensitive unless the check says `ignore_case: true`.
"""

from __future__ import annotations

import email.utils
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence

from sopctl.compliance.checks import Expectation
from sopctl.compliance.probes import ABSENT, ERROR, NOT_APPLICABLE, Observation

PASS, FAIL, ERROR_STATUS, NA = "pass", "fail", "error", "na"
ABSENT_SHOWN = "(absent)"
SHOWN_LIMIT = 300


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check on one host: status, observed and expected as people read them, and why."""

    status: str
    observed: str
    expected: str
    reason: str = ""


def describe(expectations: Sequence[Expectation]) -> str:
    """The expected state in words, like `one of: no, prohibit-password`."""
    return "; ".join(_describe_one(e) for e in expectations)


def _describe_one(e: Expectation) -> str:
    value = e.value
    words = {
        "equals": lambda: f"equals: {value}",
        "not_equals": lambda: f"not: {value}",
        "in": lambda: "one of: " + ", ".join(value),
        "not_in": lambda: "none of: " + ", ".join(value),
        "regex": lambda: f"matches /{value}/",
        "not_regex": lambda: f"does not match /{value}/",
        "lt": lambda: f"< {_number(value)}",
        "le": lambda: f"<= {_number(value)}",
        "gt": lambda: f"> {_number(value)}",
        "ge": lambda: f">= {_number(value)}",
        "age_days": lambda: f"at most {_number(value)} days old",
        "absent": lambda: "absent",
        "present": lambda: "present",
    }[e.kind]()
    if e.ignore_case and e.kind not in ("lt", "le", "gt", "ge", "age_days", "absent", "present"):
        words += " (ignoring case)"
    return f"{e.field} {words}" if e.field else words


def _number(value: float | str) -> str:
    if isinstance(value, str):  # a template of host variables, not rendered for a host (an n/a result)
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def shown(value: str | None) -> str:
    """An observed value as the report shows it: `(absent)`, `""` for empty, long text cut."""
    if value is None:
        return ABSENT_SHOWN
    if value == "":
        return '""'
    return value if len(value) <= SHOWN_LIMIT else value[:SHOWN_LIMIT] + f"… ({len(value)} characters)"


def evaluate(observation: Observation, expectations: Sequence[Expectation],
             now: datetime | None = None) -> Verdict:
    """pass when every expectation holds, fail with the reasons when one does not, error when we could
    not observe at all."""
    expected = describe(expectations)
    if observation.state == ERROR:
        return Verdict(ERROR_STATUS, f"(error) {observation.error}", expected, observation.error or "error")
    if observation.state == NOT_APPLICABLE:
        return Verdict(NA, "(not applicable)", expected, f"not applicable: {observation.error}")
    wants_absent = any(e.kind == "absent" and not e.field for e in expectations)
    if observation.state == ABSENT:
        if wants_absent:
            return Verdict(PASS, ABSENT_SHOWN, expected)
        return Verdict(FAIL, ABSENT_SHOWN, expected, f"absent, expected {expected}")
    observed = _observed_text(observation, expectations)
    if wants_absent:
        return Verdict(FAIL, observed, expected, "present, expected absent")
    now = now or datetime.now(timezone.utc)
    failures = []
    for e in expectations:
        if e.kind == "present":
            continue
        value = _value_for(observation, e)
        problem = check_one(e, value, now)
        if problem:
            failures.append(f"{e.field}: {problem}" if e.field else problem)
    if failures:
        return Verdict(FAIL, observed, expected, "; ".join(failures))
    return Verdict(PASS, observed, expected)


def _value_for(observation: Observation, e: Expectation) -> str | None:
    if e.field:
        return (observation.fields or {}).get(e.field)
    return observation.value


def _observed_text(observation: Observation, expectations: Sequence[Expectation]) -> str:
    if observation.fields is not None:
        names = list(dict.fromkeys(e.field for e in expectations if e.field))
        if not names:
            return "exists"
        return " ".join(f"{name}={shown((observation.fields or {}).get(name))}" for name in names)
    return shown(observation.value)


def check_one(e: Expectation, observed: str | None, now: datetime) -> str | None:
    """None when `observed` satisfies `e`, else why not (in words)."""
    if observed is None:
        return f"{ABSENT_SHOWN}, expected {_describe_one(e).removeprefix((e.field or '') + ' ')}"
    kind = e.kind
    if kind in ("equals", "not_equals", "in", "not_in"):
        fold = str.casefold if e.ignore_case else (lambda s: s)
        wanted = [e.value] if kind in ("equals", "not_equals") else list(e.value)
        hit = fold(observed) in {fold(w) for w in wanted}
        if kind in ("equals", "in") and not hit:
            return f"{shown(observed)} is not " + (str(e.value) if kind == "equals" else
                                                   "one of: " + ", ".join(e.value))
        if kind in ("not_equals", "not_in") and hit:
            return f"{shown(observed)} is " + (f"{e.value}, which the check refuses" if kind == "not_equals"
                                               else "one of the refused values: " + ", ".join(e.value))
        return None
    if kind in ("regex", "not_regex"):
        flags = re.MULTILINE | (re.IGNORECASE if e.ignore_case else 0)
        hit = re.search(e.value, observed, flags) is not None
        if kind == "regex" and not hit:
            return f"{shown(observed)} does not match /{e.value}/"
        if kind == "not_regex" and hit:
            return f"{shown(observed)} matches /{e.value}/"
        return None
    if kind in ("lt", "le", "gt", "ge", "age_days") and isinstance(e.value, str):
        return f"the threshold {e.value!r} was not rendered with the host's variables"
    if kind in ("lt", "le", "gt", "ge"):
        number = parse_number(observed)
        if number is None:
            return f"{shown(observed)} is not a number"
        holds = {"lt": number < e.value, "le": number <= e.value,
                 "gt": number > e.value, "ge": number >= e.value}[kind]
        return None if holds else f"{shown(observed)} is not {_describe_one(e)}"
    if kind == "age_days":
        moment = parse_timestamp(observed)
        if moment is None:
            return f"{shown(observed)} is not a timestamp (epoch seconds, ISO 8601, /Date(ms)/, " \
                   f"or like 24 Nov 2026 07:10 +0000)"
        age = (now - moment) / timedelta(days=1)
        if age > e.value:
            return f"{age:.1f} days old ({moment.isoformat()}), more than {_number(e.value)}"
        return None
    if kind == "absent":
        return "present, expected absent"
    return None  # present: any value is present


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def parse_number(text: str) -> float | None:
    """A decimal number (surrounding spaces allowed); anything else, nan and inf included, is None."""
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_SIGTOOL = re.compile(r"^(\d{1,2})[ -]([A-Za-z]{3})[ -](\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4})?$")
_MS_DATE = re.compile(r"^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$")
_PREFIX = re.compile(r"^\s*build time\s*:\s*", re.IGNORECASE)


def parse_timestamp(text: str) -> datetime | None:
    """An aware UTC-comparable datetime from the forms hosts print, or None.

    Epoch seconds (`1732431000`, `1732431000.5`), ISO 8601 (`2026-11-24T07:10:00Z`, `.1234567+07:00`,
    no zone = UTC), .NET JSON `/Date(1574202819000)/`, sigtool's `Build time: 24 Nov 2026 07:10 +0000`
    (English month names, as printed under LC_ALL=C) and HTTP dates (`Tue, 24 Nov 2026 07:10:00 GMT`).
    """
    text = _PREFIX.sub("", text.strip())
    if not text:
        return None
    found = _MS_DATE.match(text)
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, tz=timezone.utc)
    if _NUMBER.match(text):
        try:
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        except (OverflowError, ValueError, OSError):
            return None
    found = _SIGTOOL.match(text)
    if found:
        return _sigtool_time(found)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _sigtool_time(found: re.Match[str]) -> datetime | None:
    day, month, year, hour, minute, second, offset = found.groups()
    month_number = _MONTHS.get(month.lower())
    if month_number is None:
        return None
    zone = timezone.utc
    if offset:
        sign = 1 if offset[0] == "+" else -1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    try:
        return datetime(int(year), month_number, int(day), int(hour), int(minute), int(second or 0), tzinfo=zone)
    except ValueError:
        return None


__all__ = ["ABSENT_SHOWN", "ERROR_STATUS", "FAIL", "NA", "PASS", "Verdict", "check_one", "describe", "evaluate",
           "parse_number", "parse_timestamp", "shown"]
