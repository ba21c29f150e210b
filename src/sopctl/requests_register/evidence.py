"""Writing workflow evidence rows inside a register's own transaction.

A register that changes its tables and writes the matching evidence must do both at once (a crash
between the two would leave a step without its proof), so the row goes through `Store.insert_evidence`
on the connection of `store.transaction()`, with the store's own value rules (UTC time text, month, JSON
without secrets). The row follows the workflow evidence contract of docs/report.md: `data.status`
compliant / non-compliant / na, `data.record` the record's id.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..store import Store

STATUSES = ("compliant", "non-compliant", "na")


def insert_evidence(conn: sqlite3.Connection, sop_id: str, kind: str, summary: str, data: dict[str, Any], *,
                    time: Any, month: str | None = None) -> None:
    """Insert one run-less workflow evidence row (it counts at once)."""
    if data.get("status") not in STATUSES:
        raise ValueError(f"workflow evidence needs data.status in {STATUSES}, got {data.get('status')!r}")
    Store.insert_evidence(conn, sop_id, kind, summary, data=data, time=time, month=month)
