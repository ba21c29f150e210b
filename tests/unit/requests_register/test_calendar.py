"""Working days, holidays and typed times."""

from __future__ import annotations

import datetime as _dt

import pytest

from sopctl.errors import InputError, UsageError
from sopctl.requests_register.calendar import WorkCalendar, load_calendar, parse_at, parse_holidays

D = _dt.date


def test_working_days_skip_weekends_and_holidays():
    cal = WorkCalendar({D(2026, 11, 16): "Cuti bersama"})
    assert cal.working_day(D(2026, 11, 13), 1) == D(2026, 11, 13)          # Friday
    assert cal.working_day(D(2026, 11, 13), 2) == D(2026, 11, 17)          # Sat, Sun, holiday Monday skipped
    assert cal.working_day(D(2026, 11, 14), 1) == D(2026, 11, 17)          # received on a Saturday
    assert WorkCalendar().working_day(D(2026, 11, 13), 2) == D(2026, 11, 16)
    assert cal.day_number(_dt.datetime(2026, 11, 13, 9).astimezone(), _dt.datetime(2026, 11, 17, 9).astimezone()) == 2
    assert cal.day_number(_dt.datetime(2026, 11, 13, 9).astimezone(), _dt.datetime(2026, 11, 16, 9).astimezone()) == 2
    assert cal.skipped(D(2026, 11, 13), D(2026, 11, 17)) == [
        "2026-11-14 Saturday", "2026-11-15 Sunday", "2026-11-16 holiday Cuti bersama"]
    due = cal.due(_dt.datetime(2026, 11, 13, 15).astimezone(), 2)
    assert (due.date(), due.hour, due.minute) == (D(2026, 11, 17), 23, 59)


def test_holidays_from_config_and_file(tmp_path):
    path = tmp_path / "holidays.yml"
    path.write_text("- 2026-12-25\n- {date: 2026-12-24, name: Cuti bersama Natal}\n")
    cal = load_calendar(["2026-11-16"], [path, tmp_path / "missing.yml"])
    assert set(cal.holidays) == {D(2026, 11, 16), D(2026, 12, 25), D(2026, 12, 24)}
    assert cal.holidays[D(2026, 12, 24)] == "Cuti bersama Natal"
    assert parse_holidays({"2026-08-17": "Hari Kemerdekaan"}) == {D(2026, 8, 17): "Hari Kemerdekaan"}
    path.write_text("holidays:\n  - 2027-01-01\n")
    assert D(2027, 1, 1) in load_calendar(None, [path]).holidays
    path.write_text("- 17 Agustus\n")
    with pytest.raises(InputError, match=r"holidays\[0\]: expected a date"):
        load_calendar(None, [path])


def test_parse_at():
    now = _dt.datetime(2026, 11, 24, 12, 0).astimezone()
    assert parse_at(None, now=now) == now
    moment = parse_at("2026-11-20 09:30", now=now)
    assert moment.tzinfo is not None and (moment.hour, moment.minute) == (9, 30)
    assert parse_at("2026-11-20T09:30:00+08:00", now=now).utcoffset() == _dt.timedelta(hours=8)
    with pytest.raises(UsageError, match="give a time too"):
        parse_at("2026-11-20", now=now)
    with pytest.raises(UsageError, match="not an ISO 8601 time"):
        parse_at("kemarin", now=now)
    with pytest.raises(UsageError, match="has not come yet"):
        parse_at("2026-11-25 12:00", now=now)
