"""The backup feature's rows in the results store: `archives` and `restore_tests` (migration 1).

archives.status: `complete` (the file was written and renamed into place), `pruned` (deleted by
backup.prune; the row stays for history and for the restore tests that point at it).
restore_tests.status: `pass` or `fail`; `detail` is the RestoreReport as JSON.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any

from ..store import Store
from ..store.values import now

COMPLETE, PRUNED = "complete", "pruned"
PASS, FAIL = "pass", "fail"


@dataclass(frozen=True)
class ArchiveRow:
    id: int
    run_id: int | None
    host: str
    path: str
    created_at: str
    size: int
    file_count: int
    sha256: str
    recipients: tuple[str, ...]
    status: str
    last_test_time: str | None = None
    last_test_status: str | None = None

    @property
    def created(self) -> _dt.datetime:
        return _dt.datetime.strptime(self.created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_dt.UTC)


def add_archive(store: Store, run_id: int | None, host: str, path: str, created_at: str, size: int, file_count: int,
                sha256: str, recipients: list[str]) -> int:
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO archives (run_id, host, path, created_at, size, file_count, sha256, recipients, status) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (run_id, host, path, created_at, size, file_count, sha256, json.dumps(recipients), COMPLETE))
        return cursor.lastrowid


def add_restore_test(store: Store, run_id: int | None, archive_id: int, status: str, detail: dict[str, Any]) -> int:
    with store.transaction() as conn:
        cursor = conn.execute("INSERT INTO restore_tests (run_id, archive_id, time, status, detail) VALUES (?,?,?,?,?)",
                              (run_id, archive_id, now(), status, json.dumps(detail, default=str)))
        return cursor.lastrowid


_SELECT = """
    SELECT a.*, t.time AS last_test_time, t.status AS last_test_status
    FROM archives a LEFT JOIN restore_tests t ON t.id = (
        SELECT id FROM restore_tests WHERE archive_id = a.id ORDER BY time DESC, id DESC LIMIT 1)
"""


def _row(row) -> ArchiveRow:
    return ArchiveRow(row["id"], row["run_id"], row["host"], row["path"], row["created_at"], row["size"] or 0,
                      row["file_count"] or 0, row["sha256"] or "", tuple(json.loads(row["recipients"] or "[]")),
                      row["status"], row["last_test_time"], row["last_test_status"])


def archives(store: Store, hosts: list[str] | None = None, status: str | None = COMPLETE) -> list[ArchiveRow]:
    """Archives (of these hosts, with this status), oldest first, each with its latest restore test."""
    where, params = [], []
    if hosts is not None:
        where.append(f"a.host IN ({','.join('?' * len(hosts))})")
        params.extend(hosts)
    if status is not None:
        where.append("a.status = ?")
        params.append(status)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.created_at, a.id"
    return [_row(row) for row in store.query(sql, params)]


def newest_passed(store: Store, host: str) -> int | None:
    """The id of the host's newest archive that passed a restore test (whatever its later tests said)."""
    rows = store.query("SELECT a.id FROM archives a WHERE a.host = ? AND a.status = ? AND EXISTS ("
                        "SELECT 1 FROM restore_tests t WHERE t.archive_id = a.id AND t.status = ?) "
                        "ORDER BY a.created_at DESC, a.id DESC LIMIT 1", (host, COMPLETE, PASS))
    return rows[0]["id"] if rows else None


def mark_pruned(store: Store, archive_id: int) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE archives SET status = ? WHERE id = ?", (PRUNED, archive_id))
