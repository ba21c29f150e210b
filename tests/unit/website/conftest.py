"""Fixtures for the website tests: WITA time zone, the real SOP catalog, a real store, real local websites."""

from __future__ import annotations

from tests.fixtures import catalog, clock, db_path, now, store, wita  # noqa: F401
