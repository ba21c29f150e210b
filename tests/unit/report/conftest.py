"""Fixtures for the compliance report tests: the real SOP catalog and a real SQLite store under tmp_path."""

from __future__ import annotations

import time

import pytest

from sopctl.compliance.catalog import load_catalog
from sopctl.store import Store

from .support import REPO


@pytest.fixture(autouse=True)
def wita(monkeypatch):
    """The court's time zone (WITA, UTC+8): calendar days and months are local, stored times UTC."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset to pin the local time zone")
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


