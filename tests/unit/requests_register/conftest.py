"""Fixtures for the service-request register tests: WITA time zone, the real SOP catalog, a real store."""

from __future__ import annotations

from tests.fixtures import catalog, clock, db_path, now, store, wita  # noqa: F401
