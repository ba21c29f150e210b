"""The results store: one SQLite file holding every run, result, evidence, waiver and attestation.

Connection settings: WAL journal (readers never block the writer, and two sopctl processes can share
the file), foreign keys on, `busy_timeout` (a writer waits for another's transaction instead of failing
at once), synchronous=NORMAL (safe with WAL: a power cut may lose the last commits, never corrupt).

Threads: a `Store` holds ONE connection, opened with `check_same_thread=False`, and every use of it
takes the store's lock, so threads of one process may share a Store (and a Run) freely; statements are
short and a run's results are written once at its end, so the lock is never held for long.

Every write transaction is `BEGIN IMMEDIATE`: it takes the write lock up front, so a second process
waits (busy_timeout) rather than failing on a lock upgrade halfway through.

See docs/store.md for the schema, the transaction rules and what "counted" means.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import socket
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from sopctl.compliance.catalog import SOP_ID
from sopctl.errors import SopctlError, UsageError
from sopctl.store import migrations as _migrations
from sopctl.store.models import (COUNTED, RESULT_STATUSES, Attestation, EvidenceRow, ResultRow, RunRow,
                                 Waiver, split_hosts)
from sopctl.store.values import (date_value, format_time, int_value, local_month, month_value, now,
                                 refuse_secret, sha256_value, text, time_value, to_json, trim_output,
                                 upper_bound)

DEFAULT_BUSY_TIMEOUT = 15.0  # seconds a writer waits for another process's transaction
MEMORY = ":memory:"


class StoreError(SopctlError):
    """The results database cannot be used: newer schema, not a sopctl database, failed migration."""

    exit_code = 3


# -------------------------------------------------------------------------------------------- helpers


def _current_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): record nothing rather than guess
        return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of a Linux process, or None without /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _process_alive(pid: int, start: int | None) -> bool:
    """Whether the process that opened a run still exists (a reused pid with another start time does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    stat = _proc_stat(pid)
    if stat is None:
        return True
    state, started = stat
    if state == "Z":  # killed, not yet reaped: gone for our purposes
        return False
    return start is None or started == start


def _display(field: str, value: Any) -> str | None:
    """observed/expected: text as is; other values (numbers, lists) as JSON."""
    refuse_secret(field, value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return text(field, value)
    return to_json(field, value)


def _sop_ids(field: str, value: Any) -> str:
    refuse_secret(field, value)
    if value is None:
        ids: list[str] = []
    elif isinstance(value, str):
        ids = [value]
    else:
        ids = list(value)
    for sop_id in ids:
        refuse_secret(field, sop_id)
        if not isinstance(sop_id, str) or not SOP_ID.match(sop_id):
            raise ValueError(f"{field}: {sop_id!r} is not an SOP item id like C.3")
    return json.dumps(ids)


def _sop_id(field: str, value: Any) -> str:
    refuse_secret(field, value)
    if not isinstance(value, str) or not SOP_ID.match(value):
        raise UsageError(f"{field}: {value!r} is not an SOP item id like C.3")
    return value


def _filters(*conditions: tuple[str, Any]) -> tuple[list[str], list[Any]]:
    """The SQL conditions (`kind = ?` ...) whose value is given, and their parameters: None means any."""
    given = [(condition, value) for condition, value in conditions if value is not None]
    return [condition for condition, _ in given], [value for _, value in given]


def _given(convert: Callable[[str, Any], Any], field: str, value: Any) -> Any:
    """`convert(field, value)`, or None (no filter) when the value is None."""
    return None if value is None else convert(field, value)


def _run_row(row: sqlite3.Row) -> RunRow:
    return RunRow(row["id"], row["kind"], row["started_at"], row["finished_at"], row["status"], row["who"],
                  row["what"], row["inventory"], row["month"], json.loads(row["meta"]))


def _result_row(row: sqlite3.Row) -> ResultRow:
    return ResultRow(row["id"], row["run_id"], row["check_id"], row["host"], tuple(json.loads(row["sop_ids"])),
                     row["status"], row["observed"], row["expected"], row["command"], row["output"],
                     row["output_size"], bool(row["output_trimmed"]), row["severity"], row["time"])


def _evidence_row(row: sqlite3.Row) -> EvidenceRow:
    return EvidenceRow(row["id"], row["run_id"], row["sop_id"], row["host"], row["kind"], row["summary"],
                       json.loads(row["data"]), row["sha256"], row["path"], row["time"], row["month"])


def _waiver(row: sqlite3.Row) -> Waiver:
    return Waiver(row["id"], row["check_id"], row["hosts"], row["reason"], row["approved_by"], row["expires"],
                  row["created_at"], row["created_by"], row["revoked_at"], row["revoked_by"])


def _attestation(row: sqlite3.Row) -> Attestation:
    return Attestation(row["id"], row["sop_id"], row["by_role"], row["by_name"], row["note"], row["file_name"],
                       row["file_sha256"], row["file_size"], row["stored_path"], row["attested_at"])


_RESULT_COLUMNS = ("run_id, check_id, host, sop_ids, status, observed, expected, command, output, output_size, "
                   "output_trimmed, severity, time")
_EVIDENCE_COLUMNS = "run_id, sop_id, host, kind, summary, data, sha256, path, time, month"


def _evidence_values(run_id: int | None, sop_id: Any, kind: Any, summary: Any, *, data: Any, host: Any,
                     sha256: Any, path: Any, time: Any, month: Any) -> tuple:
    stored_time = time_value("time", time)
    return (run_id, _sop_id("sop_id", sop_id), text("host", host), text("kind", kind, required=True),
            text("summary", summary, required=True), to_json("data", data), sha256_value("sha256", sha256),
            text("path", path), stored_time,
            month_value("month", month) if month is not None else local_month(stored_time))


# ---------------------------------------------------------------------------------------------- store


class Store:
    """An open results database. Create with `Store.open(path)`; close with `close()` or `with`."""

    def __init__(self, connection: sqlite3.Connection, path: str):
        self._conn = connection
        self._lock = threading.RLock()
        self.path = path

    # ----------------------------------------------------------------------------------- open / close

    @classmethod
    def open(cls, path: str | os.PathLike, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
             migrations: Sequence[_migrations.Migration] | None = None) -> "Store":
        """Open (creating it and its parent folders if needed) and migrate the database at `path`.

        `":memory:"` gives a private in-memory database (tests). Raises StoreError when the file is not
        a sopctl database, its schema is newer than this sopctl, or a migration fails.
        """
        path = str(path)
        if path != MEMORY:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create the folder for the results database: "
                                 f"{exc.strerror or exc}") from None
        try:
            connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the results database: {exc}") from None
        connection.row_factory = sqlite3.Row
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA journal_mode = WAL").fetchone()
            store = cls(connection, path)
            store._migrate(list(_migrations.MIGRATIONS if migrations is None else migrations))
        except sqlite3.DatabaseError as exc:
            connection.close()
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StoreError(f"{path}: the results database stayed locked by another process for "
                                 f"{busy_timeout:g}s; try again when it has finished") from None
            raise StoreError(f"{path}: not a usable SQLite database ({exc})") from None
        except BaseException:
            connection.close()
            raise
        return store

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _pragma(self, name: str) -> Any:
        with self._lock:
            return self._conn.execute(f"PRAGMA {name}").fetchone()[0]

    @property
    def schema_version(self) -> int:
        return self._pragma("user_version")

    def _check_ours(self, version: int, known: int) -> None:
        if version > known:
            raise StoreError(f"{self.path}: database schema {version} is newer than this sopctl ({known}): "
                             "upgrade sopctl")
        application_id = self._pragma("application_id")
        if application_id == _migrations.APPLICATION_ID:
            return
        if version == 0 and application_id == 0:
            with self._lock:
                tables = self._conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]
            if tables == 0:
                return  # empty: a new database
        raise StoreError(f"{self.path}: not a sopctl results database (it has other tables or "
                         "another application id); give sopctl its own file")

    def _migrate(self, migrations: list[_migrations.Migration]) -> None:
        _migrations.check_sequence(migrations)
        known = len(migrations)
        self._check_ours(self.schema_version, known)
        for migration in migrations[self.schema_version:]:
            self._apply(migration, known)

    def _apply(self, migration: _migrations.Migration, known: int) -> None:
        conn = self._conn
        with self._lock:
            if migration.foreign_keys_off:
                conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction, so before BEGIN
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    if version > known:
                        raise StoreError(f"{self.path}: database schema {version} is newer than this sopctl "
                                         f"({known}): upgrade sopctl")
                    if version >= migration.version:  # another process migrated meanwhile
                        conn.execute("COMMIT")
                        return
                    _migrations.run_migration(conn, migration)
                    if migration.foreign_keys_off:
                        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise StoreError(f"{self.path}: migration {migration.version} would break "
                                             f"{len(broken)} foreign key(s), e.g. table {broken[0][0]}")
                    conn.execute(f"PRAGMA user_version = {migration.version}")
                    conn.execute("COMMIT")
                except BaseException as exc:
                    conn.execute("ROLLBACK")
                    if isinstance(exc, (StoreError, KeyboardInterrupt, SystemExit)):
                        raise
                    raise StoreError(f"{self.path}: migration {migration.version} ({migration.description}) "
                                     f"failed: {exc}; the database is unchanged at schema "
                                     f"{migration.version - 1}") from exc
            finally:
                if migration.foreign_keys_off:
                    conn.execute("PRAGMA foreign_keys = ON")

    # ----------------------------------------------------------------------------------- transactions

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any exception) on the connection.

        For features whose tables have no helper method yet (archives, restore_tests). Values written
        this way bypass the store's Secret check: pass only display forms.
        """
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query, for features that keep their own tables (UAT, requests)."""
        return self._query(sql, params)

    @staticmethod
    def insert_evidence(conn: sqlite3.Connection, sop_id: str, kind: str, summary: str, *, data: Any = None,
                        host: str | None = None, time: Any = None, month: Any = None) -> None:
        """Evidence written inside the caller's `transaction()`, so a workflow's own record and its SOP
        evidence are stored together or not at all (checked like `add_evidence`)."""
        values = _evidence_values(None, sop_id, kind, summary, data=data, host=host, sha256=None, path=None,
                                  time=time, month=month)
        conn.execute(f"INSERT INTO evidence ({_EVIDENCE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", values)

    def integrity_check(self) -> list[str]:
        """Problems `PRAGMA integrity_check` and `foreign_key_check` find; empty when the file is sound."""
        rows = [row[0] for row in self._query("PRAGMA integrity_check")]
        problems = [] if rows == ["ok"] else rows
        problems += [f"foreign key: {tuple(row)}" for row in self._query("PRAGMA foreign_key_check")]
        return problems

    # -------------------------------------------------------------------------------------------- runs

    def run(self, kind: str, *, who: str | None = None, what: Any = None, inventory: Any = None,
            month: Any = None, meta: Mapping[str, Any] | None = None) -> "Run":
        """A run to use as `with store.run("audit", ...) as run:` (see `Run`).

        `who` defaults to the OS user; `what` is the command line in its display (masked) form; `month`
        (YYYY-MM) defaults to the current month in local time.
        """
        return Run(self, kind, who=who, what=what, inventory=inventory, month=month, meta=meta)

    def get_run(self, run_id: int) -> RunRow | None:
        rows = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))
        return _run_row(rows[0]) if rows else None

    def runs(self, kind: str | None = None, month: Any = None, status: str | None = None) -> list[RunRow]:
        """Runs (of every status unless `status` is given), oldest first."""
        where, params = _filters(("kind = ?", kind), ("month = ?", _given(month_value, "month", month)),
                                 ("status = ?", status))
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        return [_run_row(row) for row in self._query(sql + " ORDER BY started_at, id", params)]

    def mark_abandoned(self, older_than: _dt.timedelta | None = None) -> list[int]:
        """Mark `running` runs whose process is gone as `incomplete`; return their ids.

        A run records its pid, process start time and hostname in `meta`. A run of this host is abandoned
        when that process no longer exists. A run of another host (or without a pid) cannot be checked;
        it is only marked when `older_than` is given and it started longer ago than that.
        """
        here = socket.gethostname()
        cutoff = format_time(_dt.datetime.now(_dt.timezone.utc) - older_than) if older_than else None
        abandoned: list[tuple[int, str]] = []
        for row in self._query("SELECT * FROM runs WHERE status = 'running'"):
            run = _run_row(row)
            pid = run.meta.get("pid")
            if run.meta.get("hostname") == here and isinstance(pid, int):
                if not _process_alive(pid, run.meta.get("pid_start")):
                    abandoned.append((run.id, f"process {pid} on {here} is gone"))
            elif cutoff is not None and run.started_at < cutoff:
                abandoned.append((run.id, f"still running after {older_than}"))
        marked = []
        with self.transaction() as conn:
            for run_id, reason in abandoned:
                note = {"abandoned": reason, "abandoned_at": now()}
                cursor = conn.execute(
                    "UPDATE runs SET status = 'incomplete', finished_at = ?, meta = json_patch(meta, ?) "
                    "WHERE id = ? AND status = 'running'", (now(), json.dumps(note), run_id))
                if cursor.rowcount:
                    marked.append(run_id)
        return marked

    # ----------------------------------------------------------------------------------------- results

    def results_for_run(self, run_id: int) -> list[ResultRow]:
        """Every result a run stored, whatever its status (a failed run keeps them for diagnosis)."""
        rows = self._query("SELECT * FROM results WHERE run_id = ? ORDER BY id", (run_id,))
        return [_result_row(row) for row in rows]

    def latest_results(self, month: Any = None, as_of: Any = None, kind: str | None = None) -> list[ResultRow]:
        """For each (check_id, host), the newest counted result, sorted by check_id then host.

        Counted: from a `complete` run; with `month`, only runs of that month (the run's `month`);
        with `as_of` (a time, or a date meaning the end of that local day), only results at or before it;
        with `kind`, only runs of that kind. Newest = latest result time, then highest id.
        """
        where, params = _filters(("u.status = ?", COUNTED), ("u.month = ?", _given(month_value, "month", month)),
                                 ("u.kind = ?", kind), ("r.time <= ?", _given(upper_bound, "as_of", as_of)))
        if month is not None:
            # One month: that month's complete runs (index runs_status_month), their results (results_run),
            # newest per pair by a window function over at most a month of rows.
            sql = f"""
                SELECT * FROM (
                    SELECT r.*, row_number() OVER (
                        PARTITION BY r.check_id, r.host ORDER BY r.time DESC, r.id DESC) AS newest
                    FROM results r JOIN runs u ON u.id = r.run_id
                    WHERE {" AND ".join(where)}
                ) WHERE newest = 1 ORDER BY check_id, host"""
        else:
            # All history: every (check, host) pair from the covering index results_check_host_time, then
            # walk that index newest-first per pair and stop at the first counted row; the cost follows
            # the number of pairs, not the years of results behind them.
            sql = f"""
                SELECT x.* FROM (
                    SELECT (SELECT r.id FROM results r JOIN runs u ON u.id = r.run_id
                            WHERE r.check_id = p.check_id AND r.host = p.host AND {" AND ".join(where)}
                            ORDER BY r.time DESC, r.id DESC LIMIT 1) AS newest
                    FROM (SELECT DISTINCT check_id, host FROM results) p
                ) n JOIN results x ON x.id = n.newest ORDER BY x.check_id, x.host"""
        return [_result_row(row) for row in self._query(sql, params)]

    # ---------------------------------------------------------------------------------------- evidence

    def add_evidence(self, sop_id: str, kind: str, summary: str, *, data: Any = None, host: str | None = None,
                     sha256: str | None = None, path: Any = None, time: Any = None,
                     month: Any = None) -> EvidenceRow:
        """Record evidence that belongs to no run (a workflow step); it counts at once.

        `month` defaults to the local-time month of `time` (default now). Evidence collected by a run
        goes through `Run.add_evidence` instead, and counts only if the run completes.
        """
        values = _evidence_values(None, sop_id, kind, summary, data=data, host=host, sha256=sha256, path=path,
                                  time=time, month=month)
        with self.transaction() as conn:
            cursor = conn.execute(f"INSERT INTO evidence ({_EVIDENCE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                                  values)
            row = conn.execute("SELECT * FROM evidence WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return _evidence_row(row)

    def evidence_for(self, sop_id: str, month: Any = None) -> list[EvidenceRow]:
        """Counted evidence of an SOP item (run-less, or from a complete run), oldest first."""
        where, params = ["e.sop_id = ?", "(e.run_id IS NULL OR u.status = ?)"], [sop_id, COUNTED]
        if month is not None:
            where.append("e.month = ?")
            params.append(month_value("month", month))
        sql = (f"SELECT e.* FROM evidence e LEFT JOIN runs u ON u.id = e.run_id WHERE {' AND '.join(where)} "
               "ORDER BY e.time, e.id")
        return [_evidence_row(row) for row in self._query(sql, params)]

    # ----------------------------------------------------------------------------------------- waivers

    def add_waiver(self, check_id: str, hosts: str, reason: str, approved_by: str, expires: Any, *,
                   created_by: str | None = None, created_at: Any = None) -> Waiver:
        """Record a waiver of `check_id` on the hosts matching `hosts` (see `host_matches`), valid until
        and including the day `expires`. `created_by` defaults to the OS user."""
        values = (text("check_id", check_id, required=True), text("hosts", hosts, required=True),
                  text("reason", reason, required=True), text("approved_by", approved_by, required=True),
                  date_value("expires", expires), time_value("created_at", created_at),
                  text("created_by", created_by) if created_by is not None else _current_user())
        if not split_hosts(values[1]):
            raise UsageError(f"hosts: {hosts!r} names no host")
        with self.transaction() as conn:
            cursor = conn.execute("INSERT INTO waivers (check_id, hosts, reason, approved_by, expires, created_at, "
                                  "created_by) VALUES (?,?,?,?,?,?,?)", values)
            row = conn.execute("SELECT * FROM waivers WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return _waiver(row)

    def revoke_waiver(self, waiver_id: int, *, by: str | None = None, at: Any = None) -> Waiver:
        """Revoke a waiver: from the (local) day of `at` (default now) it no longer applies; the row is kept."""
        revoked_at = time_value("at", at)
        who = text("by", by) if by is not None else _current_user()
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM waivers WHERE id = ?", (waiver_id,)).fetchone()
            if row is None:
                raise UsageError(f"no waiver {waiver_id}")
            if row["revoked_at"] is not None:
                raise UsageError(f"waiver {waiver_id} was already revoked at {row['revoked_at']}")
            conn.execute("UPDATE waivers SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                         (revoked_at, who, waiver_id))
            row = conn.execute("SELECT * FROM waivers WHERE id = ?", (waiver_id,)).fetchone()
        return _waiver(row)

    def all_waivers(self) -> list[Waiver]:
        """Every waiver ever recorded (expired and revoked too), by id."""
        return [_waiver(row) for row in self._query("SELECT * FROM waivers ORDER BY id")]

    def active_waivers(self, on_date: Any) -> list[Waiver]:
        """Waivers in force on `on_date` (see `Waiver.active_on`), by check_id then id."""
        day = date_value("on_date", on_date)
        rows = self._query("SELECT * FROM waivers WHERE expires >= ? ORDER BY check_id, id", (day,))
        return [waiver for waiver in map(_waiver, rows) if waiver.active_on(day)]

    def waiver_for(self, check_id: str, host: str, on_date: Any) -> Waiver | None:
        """The waiver covering `check_id` on `host` on `on_date`, if any (latest expiry, then newest)."""
        day = date_value("on_date", on_date)
        rows = self._query("SELECT * FROM waivers WHERE check_id = ? AND expires >= ? ORDER BY expires DESC, id DESC",
                           (check_id, day))
        for waiver in map(_waiver, rows):
            if waiver.active_on(day) and waiver.covers(host):
                return waiver
        return None

    # ------------------------------------------------------------------------------------ attestations

    def add_attestation(self, sop_id: str, by_role: str, by_name: str, *, note: str | None = None,
                        file_name: str | None = None, file_sha256: str | None = None,
                        file_size: int | None = None, stored_path: Any = None,
                        attested_at: Any = None) -> Attestation:
        """Record that `by_name` (in role `by_role`) attests `sop_id`; the caller stores the file itself
        and passes its name, digest, size and where it keeps it."""
        values = (_sop_id("sop_id", sop_id), text("by_role", by_role, required=True),
                  text("by_name", by_name, required=True), text("note", note), text("file_name", file_name),
                  sha256_value("file_sha256", file_sha256), int_value("file_size", file_size),
                  text("stored_path", stored_path), time_value("attested_at", attested_at))
        with self.transaction() as conn:
            cursor = conn.execute("INSERT INTO attestations (sop_id, by_role, by_name, note, file_name, "
                                  "file_sha256, file_size, stored_path, attested_at) VALUES (?,?,?,?,?,?,?,?,?)",
                                  values)
            row = conn.execute("SELECT * FROM attestations WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return _attestation(row)

    def latest_attestation(self, sop_id: str, as_of: Any = None) -> Attestation | None:
        """The newest attestation of `sop_id` (at or before `as_of`: a time, or a date = end of that local day)."""
        sql, params = "SELECT * FROM attestations WHERE sop_id = ?", [sop_id]
        if as_of is not None:
            sql += " AND attested_at <= ?"
            params.append(upper_bound("as_of", as_of))
        rows = self._query(sql + " ORDER BY attested_at DESC, id DESC LIMIT 1", params)
        return _attestation(rows[0]) if rows else None

    def attestations(self, sop_id: str | None = None) -> list[Attestation]:
        """All attestations (of one item), oldest first."""
        if sop_id is None:
            rows = self._query("SELECT * FROM attestations ORDER BY attested_at, id")
        else:
            rows = self._query("SELECT * FROM attestations WHERE sop_id = ? ORDER BY attested_at, id", (sop_id,))
        return [_attestation(row) for row in rows]


# ------------------------------------------------------------------------------------------------ run


class Run:
    """One run in progress: `with store.run(kind, ...) as run:`.

    Entering writes the run row (status `running`) and commits it at once. `add_result`, `add_results`
    and `add_evidence` validate and buffer in memory (thread-safe); leaving the block normally writes
    everything in ONE transaction that also marks the run `complete` (or `failed` after `fail()`).
    An exception or KeyboardInterrupt inside the block discards the buffer, marks the run `incomplete`
    and re-raises. A killed process leaves the row `running` with nothing else; see `mark_abandoned`.
    """

    def __init__(self, store: Store, kind: str, *, who: Any, what: Any, inventory: Any, month: Any,
                 meta: Mapping[str, Any] | None):
        if not isinstance(kind, str) or not kind or not kind.replace("-", "").isalnum() or not kind.islower():
            raise ValueError(f"run kind {kind!r}: use a lowercase word like audit, play, backup, restore-test")
        self._store = store
        self.kind = kind
        self.who = text("who", who) if who is not None else _current_user()
        self.what = text("what", what)
        self.inventory = text("inventory", inventory)
        self.month = month_value("month", month) if month is not None else None
        self._meta = dict(meta or {})
        to_json("meta", self._meta)  # refuse a Secret now, not at the end
        self._results: list[tuple] = []
        self._evidence: list[tuple] = []
        self._lock = threading.Lock()
        self._failure: str | None = None
        self.id: int | None = None
        self.status: str | None = None

    # ---------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> "Run":
        if self.id is not None:
            raise RuntimeError("a Run can be entered once")
        started_at = now()
        if self.month is None:
            self.month = local_month(started_at)
        stat = _proc_stat(os.getpid())
        meta = {**self._meta, "pid": os.getpid(), "hostname": socket.gethostname(),
                "pid_start": stat[1] if stat else None}
        with self._store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (kind, started_at, status, who, what, inventory, month, meta) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
                (self.kind, started_at, self.who, self.what, self.inventory, self.month, to_json("meta", meta)))
            self.id = cursor.lastrowid
        self._meta = meta
        self.status = "running"
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            try:
                self._finish()
            except BaseException as error:
                self._abandon(type(error).__name__, error)
                raise
        else:
            self._abandon(exc_type.__name__, exc)
        return False

    def _finish(self) -> None:
        status = "failed" if self._failure is not None else COUNTED
        with self._lock:
            results, evidence, meta = list(self._results), list(self._evidence), dict(self._meta)
        if self._failure is not None:
            meta["failure"] = self._failure
        with self._store.transaction() as conn:
            if results:
                conn.executemany(f"INSERT INTO results ({_RESULT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                 results)
            if evidence:
                conn.executemany(f"INSERT INTO evidence ({_EVIDENCE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                                 evidence)
            cursor = conn.execute("UPDATE runs SET status = ?, finished_at = ?, meta = ? "
                                  "WHERE id = ? AND status = 'running'",
                                  (status, now(), to_json("meta", meta), self.id))
            if cursor.rowcount != 1:
                raise StoreError(f"{self._store.path}: run {self.id} was marked finished by someone else "
                                 "(mark_abandoned?) while it ran; its results were not stored")
        self.status = status
        self._drop()

    def _abandon(self, ended_by: str, error: BaseException | None) -> None:
        """Mark the run incomplete (its buffered results are dropped); never masks the original error."""
        self._drop()
        self.status = "incomplete"
        if self.id is None:
            return
        try:
            note = json.dumps({"ended_by": ended_by})
            with self._store.transaction() as conn:
                conn.execute("UPDATE runs SET status = 'incomplete', finished_at = ?, meta = json_patch(meta, ?) "
                             "WHERE id = ? AND status = 'running'", (now(), note, self.id))
        except Exception as failure:  # e.g. database locked: the run stays `running`; mark_abandoned fixes it
            if error is not None:
                error.add_note(f"sopctl could not mark run {self.id} incomplete: {failure}")

    def _drop(self) -> None:
        with self._lock:
            self._results.clear()
            self._evidence.clear()

    def _check_open(self) -> None:
        if self.status != "running":
            raise RuntimeError(f"run {self.id} is not open (status {self.status}); use it inside `with`")

    # -------------------------------------------------------------------------------------------- adding

    def fail(self, reason: str) -> None:
        """End this run as `failed` (not counted) even if the block finishes normally; results are kept."""
        self._failure = text("reason", reason, required=True)

    def set_meta(self, **values: Any) -> None:
        """Add keys to the run's meta (written at the end with the results)."""
        to_json("meta", values)
        with self._lock:
            self._meta.update(values)

    def add_result(self, check_id: str, host: str, status: str, *, sop_ids: Iterable[str] | str = (),
                   observed: Any = None, expected: Any = None, command: Any = None, output: Any = None,
                   severity: str | None = None, time: Any = None) -> None:
        """Buffer one check result (validated now, written when the run ends).

        `command` must be the display (masked) form; a `Command` is stored as its display, a `Secret`
        is refused (TypeError). `output` is trimmed to `OUTPUT_CAP` bytes (see `trim_output`).
        """
        self._check_open()
        row = self._result_values(check_id, host, status, sop_ids=sop_ids, observed=observed, expected=expected,
                                  command=command, output=output, severity=severity, time=time)
        with self._lock:
            self._results.append(row)

    def add_results(self, results: Iterable[Mapping[str, Any]]) -> None:
        """Buffer many results, each a mapping of `add_result`'s arguments; all or none are accepted."""
        self._check_open()
        rows = []
        for index, result in enumerate(results):
            try:
                rows.append(self._result_values(**result))
            except TypeError as exc:
                raise TypeError(f"results[{index}]: {exc}") from None
            except (ValueError, UsageError) as exc:
                raise type(exc)(f"results[{index}]: {exc}") from None
        with self._lock:
            self._results.extend(rows)

    def _result_values(self, check_id: str, host: str, status: str, *, sop_ids: Any = (), observed: Any = None,
                       expected: Any = None, command: Any = None, output: Any = None, severity: Any = None,
                       time: Any = None) -> tuple:
        refuse_secret("status", status)
        if status not in RESULT_STATUSES:
            raise ValueError(f"status: {status!r} is not one of {', '.join(RESULT_STATUSES)}")
        kept, size, trimmed = trim_output(output)
        return (self.id, text("check_id", check_id, required=True), text("host", host, required=True),
                _sop_ids("sop_ids", sop_ids), status, _display("observed", observed),
                _display("expected", expected), text("command", command), kept, size, int(trimmed),
                text("severity", severity), time_value("time", time))

    def add_evidence(self, sop_id: str, kind: str, summary: str, *, data: Any = None, host: str | None = None,
                     sha256: str | None = None, path: Any = None, time: Any = None) -> None:
        """Buffer evidence collected by this run (the run's month; counts only if the run completes)."""
        self._check_open()
        row = _evidence_values(self.id, sop_id, kind, summary, data=data, host=host, sha256=sha256, path=path,
                               time=time, month=self.month)
        with self._lock:
            self._evidence.append(row)

    @property
    def pending(self) -> int:
        """Results buffered so far (not yet in the database)."""
        with self._lock:
            return len(self._results)
