"""Fixtures for the results store tests: a real SQLite file under tmp_path, never :memory:, in the court's
time zone (WITA, UTC+8)."""

from __future__ import annotations

from tests.fixtures import db_path, store, wita  # noqa: F401
