"""Fixtures for the website tests: WITA time zone, the real SOP catalog, a real store, real local websites."""

from __future__ import annotations

import datetime as _dt
import time
from pathlib import Path

import pytest

from sopctl.compliance.catalog import load_catalog
from sopctl.store import Store

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def wita(monkeypatch):
    """The court's time zone (WITA, UTC+8): calendar days and months are local, stored times UTC."""
    monkeypatch.setenv("TZ", "WITA-8")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(REPO / "checks" / "sop.yml")


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "var" / "sopctl.db")
    yield opened
    opened.close()


@pytest.fixture
def now():
    return _dt.datetime.now(_dt.timezone.utc)
