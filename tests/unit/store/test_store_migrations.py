"""Opening the store: connection settings, fresh schema, upgrades from older files, refusing newer ones."""

from __future__ import annotations

import sqlite3

import pytest

from sopctl.errors import SopctlError
from sopctl.store import MIGRATIONS, SCHEMA_VERSION, Migration, Store, StoreError

# The mechanics tests add hand-made migrations after the first real one (features append their own).
FIRST = MIGRATIONS[:1]
from sopctl.store.migrations import APPLICATION_ID, statements

TABLES = {"runs", "results", "evidence", "waivers", "attestations", "archives", "restore_tests"}


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _user_version(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _make_v1(path) -> None:
    """A version-1 database made by hand (migration 1's SQL run outside the store), with one run in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in statements(MIGRATIONS[0].apply):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO runs (kind, started_at, status, month) VALUES "
                 "('audit', '2025-03-01T00:00:00.000Z', 'complete', '2025-03')")
    conn.execute("INSERT INTO results (run_id, check_id, host, status, time) VALUES "
                 "(1, 'ssh-root', 'pc-01', 'pass', '2025-03-01T00:00:01.000Z')")
    conn.close()


def test_fresh_database_gets_the_whole_schema_and_settings(db_path):
    assert not db_path.parent.exists()
    store = Store.open(db_path)
    try:
        assert db_path.exists()  # parent folders created
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        assert TABLES <= _tables(db_path)
        assert store._pragma("journal_mode") == "wal"
        assert store._pragma("foreign_keys") == 1
        assert store._pragma("busy_timeout") == 15000
        assert store._pragma("synchronous") == 1  # NORMAL
        assert store._pragma("application_id") == APPLICATION_ID
        assert store.integrity_check() == []
    finally:
        store.close()


def test_reopening_a_current_database_changes_nothing(db_path):
    with Store.open(db_path) as store:
        with store.run("audit", month="2025-03") as run:
            run.add_result("ssh-root", "pc-01", "pass")
    with Store.open(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [r.status for r in store.latest_results()] == ["pass"]


def test_hand_made_v0_database_is_migrated(db_path):
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("VACUUM")  # a real (empty) SQLite file, user_version 0
    conn.close()
    assert _user_version(db_path) == 0
    with Store.open(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
    assert TABLES <= _tables(db_path)


def test_v1_database_is_upgraded_keeping_its_data(db_path):
    db_path.parent.mkdir(parents=True)
    _make_v1(db_path)
    added = Migration(2, "results.note", "ALTER TABLE results ADD COLUMN note TEXT;\n"
                                         "CREATE INDEX results_note ON results (note);")

    def backfill(conn):
        conn.execute("UPDATE results SET note = 'backfilled'")

    migrations = [*FIRST, added, Migration(3, "backfill notes", backfill)]
    with Store.open(db_path, migrations=migrations) as store:
        assert store.schema_version == 3
        assert [r.host for r in store.results_for_run(1)] == ["pc-01"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT note FROM results").fetchall() == [("backfilled",)]


def test_each_migration_has_its_own_transaction_and_a_failure_rolls_back_only_itself(db_path):
    broken = Migration(2, "half a migration", "CREATE TABLE extra (id INTEGER PRIMARY KEY);\n"
                                              "INSERT INTO no_such_table VALUES (1);")
    with pytest.raises(StoreError, match=r"migration 2 \(half a migration\) failed: .*unchanged at schema 1"):
        Store.open(db_path, migrations=[*FIRST, broken])
    assert _user_version(db_path) == 1  # migration 1 committed on its own
    assert "extra" not in _tables(db_path)  # nothing of migration 2 is left
    with Store.open(db_path) as store:  # the shipped code still opens it (and applies its own migrations)
        assert store.schema_version == SCHEMA_VERSION


def test_table_rebuild_migration_runs_with_foreign_keys_off(db_path):
    """SQLite's create-copy-drop-rename: with foreign keys on, DROP TABLE runs would cascade to results."""
    db_path.parent.mkdir(parents=True)
    _make_v1(db_path)
    rebuild = Migration(2, "rebuild runs", """
        CREATE TABLE runs_new (
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running', who TEXT, what TEXT, inventory TEXT,
            month TEXT NOT NULL, meta TEXT NOT NULL DEFAULT '{}', label TEXT);
        INSERT INTO runs_new (id, kind, started_at, finished_at, status, who, what, inventory, month, meta)
            SELECT id, kind, started_at, finished_at, status, who, what, inventory, month, meta FROM runs;
        DROP TABLE runs;
        ALTER TABLE runs_new RENAME TO runs;
        """, foreign_keys_off=True)
    with Store.open(db_path, migrations=[*FIRST, rebuild]) as store:
        assert store.schema_version == 2
        assert len(store.results_for_run(1)) == 1
        assert store._pragma("foreign_keys") == 1  # back on afterwards
        assert store.integrity_check() == []


def test_newer_database_is_refused_with_a_clear_error(db_path):
    Store.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    five = [Migration(n, f"step {n}", "SELECT 1;") for n in range(1, 6)]
    with pytest.raises(StoreError) as caught:
        Store.open(db_path, migrations=five)
    assert isinstance(caught.value, SopctlError)
    assert str(caught.value) == f"{db_path}: database schema 7 is newer than this sopctl (5): upgrade sopctl"
    with pytest.raises(StoreError, match=f"schema 7 is newer than this sopctl \\({SCHEMA_VERSION}\\)"):
        Store.open(db_path)
    assert _user_version(db_path) == 7  # untouched


def test_some_other_programs_database_is_refused(db_path):
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="not a sopctl results database"):
        Store.open(db_path)
    assert _tables(db_path) == {"customers"}


def test_a_file_that_is_not_sqlite_is_refused(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_text("this is a text file, not a database\n" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        Store.open(db_path)


def test_migrations_must_be_numbered_in_order(db_path):
    with pytest.raises(RuntimeError, match="expected 2"):
        Store.open(db_path, migrations=[*FIRST, Migration(3, "skips 2", "SELECT 1;")])


def test_statement_splitter_keeps_semicolons_in_strings_and_skips_comments():
    sql = "-- a comment; with a semicolon\nCREATE TABLE t (x TEXT DEFAULT 'a;b');\nINSERT INTO t VALUES ('c;d');\n"
    assert statements(sql) == ["-- a comment; with a semicolon\nCREATE TABLE t (x TEXT DEFAULT 'a;b');",
                               "INSERT INTO t VALUES ('c;d');"]
    with pytest.raises(ValueError, match="incomplete"):
        statements("CREATE TABLE t (x")


def test_a_folder_that_cannot_be_made_is_reported(tmp_path):
    (tmp_path / "var").write_text("a file where the folder should be")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store.open(tmp_path / "var" / "sopctl.db")


def test_in_memory_store_for_other_features_tests():
    with Store.open(":memory:") as store:
        assert store.schema_version == SCHEMA_VERSION
        with store.run("audit", month="2025-03") as run:
            run.add_result("c", "h", "pass")
        assert len(store.latest_results()) == 1


def test_a_database_locked_past_busy_timeout_is_reported(db_path):
    db_path.parent.mkdir(parents=True)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="stayed locked by another process for 0.2s"):
            Store.open(db_path, busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    Store.open(db_path).close()
