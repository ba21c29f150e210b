"""Fixtures for the compliance report tests: the real SOP catalog and a real SQLite store under tmp_path."""

from __future__ import annotations

from tests.fixtures import catalog, db_path, store, wita  # noqa: F401
