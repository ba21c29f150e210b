"""Fixtures shared by several test folders: the court's time zone, the real SOP catalog, a real store.

They are not registered for the whole tree (`wita` is autouse and would pin the time zone of every test):
a folder's conftest.py, or a test module, imports the ones it uses, e.g.
`from tests.fixtures import catalog, store, wita  # noqa: F401`.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import time

import pytest

from sopctl.compliance.catalog import load_catalog
from sopctl.store import Store
from tests.helpers import REPO


@pytest.fixture(autouse=True)
def wita(monkeypatch):
    """Run in the court's time zone (WITA, UTC+8), whatever the machine's is: calendar days and months are
    local, stored times are UTC, and the tests check both sides of that line."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset to pin the local time zone")
    monkeypatch.setenv("TZ", "WITA-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def catalog():
    """The real SOP catalog, checks/sop.yml."""
    return load_catalog(REPO / "checks" / "sop.yml")


@pytest.fixture
def db_path(tmp_path):
    """Where the store's SQLite file goes: a real file under tmp_path, never :memory:."""
    return tmp_path / "var" / "sopctl.db"


@pytest.fixture
def store(db_path):
    """A real results store at db_path, closed after the test."""
    opened = Store.open(db_path)
    yield opened
    opened.close()


@pytest.fixture
def now():
    return _dt.datetime.now(_dt.timezone.utc)


def at(text: str) -> _dt.datetime:
    """An ISO date and time without an offset, read as local (WITA under `wita`), as an aware datetime."""
    return _dt.datetime.fromisoformat(text).astimezone()


@pytest.fixture
def clock():
    """Increasing "now" values (late November, after every step of the tests), one minute apart."""
    start = at("2026-11-28 18:00")
    ticks = itertools.count()
    return lambda: start + _dt.timedelta(minutes=next(ticks))
