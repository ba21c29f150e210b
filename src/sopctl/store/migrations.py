"""The results store's schema, as an ordered list of migrations.

The database's schema version is SQLite's `PRAGMA user_version`: the number of migrations applied.
`MIGRATIONS[0]` takes an empty database to version 1, `MIGRATIONS[1]` takes version 1 to 2, and so on.
`Store.open` applies the missing ones in order, each in its own transaction together with the new
`user_version`, so a database is always at exactly one version, never between two.

Rules for adding a migration (a later feature that needs a table or column):

* append to `MIGRATIONS`; never edit or reorder a migration that has shipped, a database in the field
  has already run it;
* `apply` is SQL text (one or more statements; no BEGIN/COMMIT, the runner owns the transaction) or a
  function `apply(connection)` for data changes that need Python;
* a migration that rebuilds a table (SQLite's create-copy-drop-rename) sets `foreign_keys_off=True`:
  the runner then turns foreign keys off around the transaction and runs `PRAGMA foreign_key_check`
  before committing, as SQLite's documentation prescribes;
* say what it does in `description` and add the table/column to docs/store.md.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable, Union

# PRAGMA application_id marks the file as a sopctl store ("SOPC"), so `Store.open` can refuse to
# "migrate" some other program's SQLite file into ours.
APPLICATION_ID = 0x534F5043


@dataclass(frozen=True)
class Migration:
    """One step of the schema: from version `version - 1` to `version`."""

    version: int
    description: str
    apply: Union[str, Callable[[sqlite3.Connection], None]]
    foreign_keys_off: bool = False


def statements(sql: str) -> list[str]:
    """Split SQL text into complete statements (executescript() would COMMIT the runner's transaction)."""
    out, pending = [], ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                out.append(pending.strip())
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:80]!r}")
    return out


def run_migration(connection: sqlite3.Connection, migration: Migration) -> None:
    """Apply one migration's body on an open transaction (the caller sets user_version and commits)."""
    if callable(migration.apply):
        migration.apply(connection)
    else:
        for statement in statements(migration.apply):
            connection.execute(statement)


# ----------------------------------------------------------------------------------------- migration 1

_V1 = f"""
PRAGMA application_id = {APPLICATION_ID};

-- One invocation of a sopctl feature: an audit, a play, a backup, a restore test...
-- status: running (row written at start, committed at once, so a crash leaves it visible),
-- complete (ended normally; its results count), incomplete (interrupted/abandoned; no results),
-- failed (ended normally but the operation failed; results kept for diagnosis, never counted).
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'complete', 'incomplete', 'failed')),
    who         TEXT,
    what        TEXT,
    inventory   TEXT,
    month       TEXT NOT NULL,
    meta        TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX runs_status_month ON runs (status, month);
CREATE INDEX runs_kind_started ON runs (kind, started_at);

-- One check on one host in one run.
CREATE TABLE results (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    check_id       TEXT NOT NULL,
    host           TEXT NOT NULL,
    sop_ids        TEXT NOT NULL DEFAULT '[]',
    status         TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'error', 'na')),
    observed       TEXT,
    expected       TEXT,
    command        TEXT,
    output         TEXT,
    output_size    INTEGER,
    output_trimmed INTEGER NOT NULL DEFAULT 0,
    severity       TEXT,
    time           TEXT NOT NULL
);
CREATE INDEX results_run ON results (run_id);
CREATE INDEX results_check_host_time ON results (check_id, host, time);

-- Anything that shows an SOP item was carried out: collected by a run, or recorded by a workflow.
CREATE TABLE evidence (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER REFERENCES runs (id) ON DELETE CASCADE,
    sop_id   TEXT NOT NULL,
    host     TEXT,
    kind     TEXT NOT NULL,
    summary  TEXT NOT NULL,
    data     TEXT NOT NULL DEFAULT 'null',
    sha256   TEXT,
    path     TEXT,
    time     TEXT NOT NULL,
    month    TEXT NOT NULL
);
CREATE INDEX evidence_sop_month ON evidence (sop_id, month, time);
CREATE INDEX evidence_run ON evidence (run_id);

-- An approved exception: a failing check on matching hosts is reported as waived until `expires`.
CREATE TABLE waivers (
    id          INTEGER PRIMARY KEY,
    check_id    TEXT NOT NULL,
    hosts       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    expires     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT,
    revoked_at  TEXT,
    revoked_by  TEXT
);
CREATE INDEX waivers_check ON waivers (check_id, expires);

-- A person's statement that an SOP item was done, with the file that proves it.
CREATE TABLE attestations (
    id          INTEGER PRIMARY KEY,
    sop_id      TEXT NOT NULL,
    by_role     TEXT NOT NULL,
    by_name     TEXT NOT NULL,
    note        TEXT,
    file_name   TEXT,
    file_sha256 TEXT,
    file_size   INTEGER,
    stored_path TEXT,
    attested_at TEXT NOT NULL
);
CREATE INDEX attestations_sop_time ON attestations (sop_id, attested_at);

-- Backup archives (used by the backup feature).
CREATE TABLE archives (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    host       TEXT,
    path       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    size       INTEGER,
    file_count INTEGER,
    sha256     TEXT,
    recipients TEXT NOT NULL DEFAULT '[]',
    status     TEXT NOT NULL
);
CREATE INDEX archives_run ON archives (run_id);
CREATE INDEX archives_host_time ON archives (host, created_at);

-- Restore tests of archives (used by the backup feature).
CREATE TABLE restore_tests (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    archive_id INTEGER NOT NULL REFERENCES archives (id) ON DELETE CASCADE,
    time       TEXT NOT NULL,
    status     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX restore_tests_archive ON restore_tests (archive_id, time);
CREATE INDEX restore_tests_run ON restore_tests (run_id);
"""

# ----------------------------------------------------------------------------------------- migration 2

# The registers of two workflows (docs/service-requests.md, docs/website.md): IT service requests (SOP
# B.1-B.6) and website incidents (F.6/F.7). The report never reads these tables: each workflow writes
# evidence rows (the contract of docs/report.md); the tables keep the records and their steps.
_V2 = """
-- One IT service request (SOP B): who asked, for what, and where it stands.
-- state: received, routed, verified, considered, approved, rejected, done.
CREATE TABLE service_requests (
    id            INTEGER PRIMARY KEY,
    received_at   TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    requester     TEXT NOT NULL,
    unit          TEXT NOT NULL,
    need          TEXT NOT NULL,
    state         TEXT NOT NULL,
    month         TEXT NOT NULL,
    data          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX service_requests_month ON service_requests (month, id);

-- Each step taken on a request (receive, route, verify, consider, approve, reject, done), with who and when.
CREATE TABLE service_request_steps (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES service_requests (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    at          TEXT NOT NULL,
    by          TEXT NOT NULL,
    note        TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX service_request_steps_request ON service_request_steps (request_id, at);

-- A website problem (SOP F.6/F.7): opened, steps taken, closed.
CREATE TABLE website_incidents (
    id         INTEGER PRIMARY KEY,
    site       TEXT NOT NULL,
    problem    TEXT NOT NULL,
    handled_by TEXT NOT NULL,
    opened_at  TEXT NOT NULL,
    opened_by  TEXT,
    closed_at  TEXT,
    closed_by  TEXT,
    resolution TEXT,
    month      TEXT NOT NULL
);
CREATE INDEX website_incidents_month ON website_incidents (month, id);

CREATE TABLE website_incident_steps (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES website_incidents (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    by          TEXT NOT NULL,
    step        TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX website_incident_steps_incident ON website_incident_steps (incident_id, at);
"""

# ----------------------------------------------------------------------------------------- migration 3

# User acceptance tests of new applications (docs/uat.md): SOP D.2 "Hasil Test" (a test run and each of
# its steps), D.3 "Catatan Pertimbangan" and D.6 "Persetujuan Aplikasi" (decisions). A UAT run is also a
# `runs` row of kind `uat`: its uat_runs row counts only when that run is complete, like results.
_V3 = """
-- One UAT run of one application version (the "Hasil Test" document it wrote is named with its SHA-256).
-- result: passed (every step passed; optional steps may be skipped) or failed.
CREATE TABLE uat_runs (
    id                 INTEGER PRIMARY KEY,
    run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    app                TEXT NOT NULL,
    version            TEXT NOT NULL,
    tester             TEXT NOT NULL,
    started_at         TEXT NOT NULL,
    finished_at        TEXT NOT NULL,
    result             TEXT NOT NULL CHECK (result IN ('passed', 'failed')),
    counts             TEXT NOT NULL DEFAULT '{}',
    checklist          TEXT NOT NULL,
    checklist_sha256   TEXT NOT NULL,
    url                TEXT,
    hosts              TEXT,
    start_date         TEXT,
    lang               TEXT NOT NULL,
    report_html        TEXT,
    report_html_sha256 TEXT,
    report_md          TEXT,
    report_md_sha256   TEXT
);
CREATE INDEX uat_runs_app ON uat_runs (app, version, finished_at);
CREATE INDEX uat_runs_run ON uat_runs (run_id);

-- Each step of a UAT run, automated or manual, with what was expected, observed and kept as evidence
-- (evidence: JSON list of {name, sha256, size, path} of files copied under the store's evidence/ folder).
CREATE TABLE uat_steps (
    id          INTEGER PRIMARY KEY,
    uat_run_id  INTEGER NOT NULL REFERENCES uat_runs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    step_id     TEXT NOT NULL,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    optional    INTEGER NOT NULL DEFAULT 0,
    result      TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'skip', 'error')),
    expected    TEXT,
    observed    TEXT,
    detail      TEXT,
    output      TEXT,
    command     TEXT,
    hosts       TEXT NOT NULL DEFAULT '{}',
    evidence    TEXT NOT NULL DEFAULT '[]',
    answered_by TEXT,
    started_at  TEXT NOT NULL,
    duration_ms REAL
);
CREATE INDEX uat_steps_run ON uat_steps (uat_run_id, position);

-- A review (D.3: recommend | reject) or an approval (D.6: approve | reject) of one application version,
-- resting on a UAT run (and, for an approval, on a review); who and when.
CREATE TABLE uat_decisions (
    id         INTEGER PRIMARY KEY,
    app        TEXT NOT NULL,
    version    TEXT NOT NULL,
    stage      TEXT NOT NULL CHECK (stage IN ('review', 'approval')),
    decision   TEXT NOT NULL CHECK (decision IN ('recommend', 'reject', 'approve')),
    by_name    TEXT NOT NULL,
    note       TEXT,
    uat_run_id INTEGER NOT NULL REFERENCES uat_runs (id),
    review_id  INTEGER REFERENCES uat_decisions (id),
    time       TEXT NOT NULL
);
CREATE INDEX uat_decisions_app ON uat_decisions (app, version, stage, time);
"""

MIGRATIONS: list[Migration] = [
    Migration(1, "runs, results, evidence, waivers, attestations, archives, restore_tests", _V1),
    Migration(2, "service_requests, service_request_steps, website_incidents, website_incident_steps", _V2),
    Migration(3, "uat_runs, uat_steps, uat_decisions", _V3),
]

# The schema version this sopctl writes and understands.
SCHEMA_VERSION = len(MIGRATIONS)


def check_sequence(migrations: list[Migration]) -> None:
    """Migrations must be numbered 1..n in order (a wrong list is a programming error)."""
    for index, migration in enumerate(migrations, start=1):
        if migration.version != index:
            raise RuntimeError(f"migration #{index} has version {migration.version}; expected {index}")
