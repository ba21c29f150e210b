"""backup.prune's policy: restic's keep rules, and the two archives that are never deleted."""

from __future__ import annotations

import datetime as _dt

import pytest

from sopctl.backup import Candidate, Policy, decide

UTC = _dt.UTC


def daily(days: int, tested: set[int] = frozenset()) -> list[Candidate]:
    start = _dt.datetime(2025, 3, 31, 12, tzinfo=UTC)
    return [Candidate(i, start - _dt.timedelta(days=i), i in tested) for i in range(days)]


def test_keep_daily_keeps_the_newest_n_days():
    keep = decide(daily(10), Policy(daily=3))
    assert sorted(keep) == [0, 1, 2]
    assert keep[0] == ["daily", "newest"]


def test_one_archive_per_day_the_newest_of_that_day():
    base = _dt.datetime(2025, 3, 31, 1, tzinfo=UTC).astimezone()
    archives = [Candidate(1, base), Candidate(2, base + _dt.timedelta(hours=2)), Candidate(3, base - _dt.timedelta(days=1))]
    assert sorted(decide(archives, Policy(daily=2))) == [2, 3]


def test_weekly_and_monthly_reach_further_back():
    keep = decide(daily(100), Policy(daily=2, weekly=3, monthly=3))
    months = {_dt.datetime(2025, 3, 31, 12, tzinfo=UTC) - _dt.timedelta(days=i) for i in keep}
    assert 0 in keep and 1 in keep
    assert len([i for i in keep if "weekly" in keep[i]]) == 3
    assert len([i for i in keep if "monthly" in keep[i]]) == 3
    assert max(keep) > 55 and len(months) == len(keep)


def test_never_deletes_the_newest_restore_tested_archive():
    keep = decide(daily(30, tested={17, 25}), Policy(daily=3))
    assert keep[17] == ["newest restore-tested"]
    assert 25 not in keep


def test_never_deletes_the_newest_archive():
    assert list(decide(daily(5), Policy(monthly=0, weekly=0, daily=0))) == [0]


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        Policy(daily=-1)
