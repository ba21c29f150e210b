"""Fixtures for the results store tests: a real SQLite file under tmp_path, never :memory:."""

from __future__ import annotations

import time

import pytest

from sopctl.store import Store


@pytest.fixture(autouse=True)
def wita(monkeypatch):
    """Run every store test in the court's time zone (WITA, UTC+8), whatever the machine's is: calendar
    days and months are local, stored times are UTC, and the tests check both sides of that line."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset to pin the local time zone")
    monkeypatch.setenv("TZ", "WITA-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "var" / "sopctl.db"


@pytest.fixture
def store(db_path):
    opened = Store.open(db_path)
    yield opened
    opened.close()
