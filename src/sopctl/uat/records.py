"""UAT records in the results store (tables of migration 3) and the workflow evidence of D.2, D.3 and D.6.

* A UAT run is a `runs` row of kind `uat`; `save_run` writes its `uat_runs` row and one `uat_steps` row per
  step, and buffers the D.2 evidence on the run, so everything counts only once the run is complete.
* A review (D.3) or an approval (D.6) is one `uat_decisions` row and one run-less evidence row, written in
  ONE transaction together with the checks of the chain (so two people approving at once cannot both slip
  past a check that the other's write would change).

The evidence follows the workflow contract of docs/report.md: kind `uat-run` / `uat-review` /
`uat-approval`, `data.record` = `app@version` (the newest row of a record wins), `data.status` compliant or
non-compliant, and `detail`, `due`, `done`, `by`.

Status per record: D.2 is compliant when the newest run of that version passed; D.3 when the newest review
recommends it; D.6 when the newest approval approves it. A rejection is recorded as non-compliant: the
report then shows the application version that was stopped in the chain, with who stopped it and why.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from sopctl.errors import UsageError
from sopctl.store.core import Store
from sopctl.store.values import local_date, text, time_value, to_json, trim_output
from sopctl.uat import i18n
from sopctl.uat.checklist import record_id
from sopctl.uat.runner import UatOutcome

RUN_KIND = "uat"
SOP_RUN, SOP_REVIEW, SOP_APPROVAL = "D.2", "D.3", "D.6"
WORKFLOW = {SOP_RUN: "uat-run", SOP_REVIEW: "uat-review", SOP_APPROVAL: "uat-approval"}
# The SOP's time standard ("Hari ke N", checks/sop.yml) counted from the checklist's `start` (day 1).
SOP_DAY = {SOP_RUN: 2, SOP_REVIEW: 3, SOP_APPROVAL: 5}
REVIEW_DECISIONS = ("recommend", "reject")
APPROVAL_DECISIONS = ("approve", "reject")


class ChainRefused(UsageError):
    """A review or approval asked for out of order (no passing test, no recommending review ...)."""


# -------------------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class UatRunRow:
    id: int
    run_id: int
    app: str
    version: str
    tester: str
    started_at: str
    finished_at: str
    result: str
    counts: Mapping[str, int]
    checklist: str
    checklist_sha256: str
    url: str | None
    hosts: str | None
    start_date: str | None
    lang: str
    report_html: str | None
    report_html_sha256: str | None
    report_md: str | None
    report_md_sha256: str | None

    @property
    def record(self) -> str:
        return record_id(self.app, self.version)


@dataclass(frozen=True)
class UatStepRow:
    id: int
    uat_run_id: int
    position: int
    step_id: str
    title: str
    kind: str
    optional: bool
    result: str
    expected: str | None
    observed: str | None
    detail: str | None
    output: str | None
    command: str | None
    hosts: Mapping[str, str]
    evidence: tuple[Mapping[str, Any], ...]
    answered_by: str | None
    started_at: str
    duration_ms: float | None


@dataclass(frozen=True)
class Decision:
    id: int
    app: str
    version: str
    stage: str
    decision: str
    by_name: str
    note: str | None
    uat_run_id: int
    review_id: int | None
    time: str

    @property
    def record(self) -> str:
        return record_id(self.app, self.version)


def _run_row(row: sqlite3.Row) -> UatRunRow:
    values = dict(row)
    values["counts"] = json.loads(values["counts"])
    return UatRunRow(**values)


def _step_row(row: sqlite3.Row) -> UatStepRow:
    values = dict(row)
    values["optional"] = bool(values["optional"])
    values["hosts"] = json.loads(values["hosts"])
    values["evidence"] = tuple(json.loads(values["evidence"]))
    return UatStepRow(**values)


def _decision(row: sqlite3.Row) -> Decision:
    return Decision(**dict(row))


# ------------------------------------------------------------------------------------------ queries

_COUNTED_RUNS = "SELECT u.* FROM uat_runs u JOIN runs r ON r.id = u.run_id WHERE r.status = 'complete'"


Query = Callable[[str, Sequence[Any]], list]   # (sql, params) -> rows


def _on(conn: sqlite3.Connection) -> Query:
    """Queries on a connection inside an open transaction."""
    return lambda sql, params: conn.execute(sql, params).fetchall()


def _latest_run(query: Query, app: str, version: str) -> UatRunRow | None:
    rows = query(f"{_COUNTED_RUNS} AND u.app = ? AND u.version = ? ORDER BY u.finished_at DESC, u.id DESC "
                        "LIMIT 1", (app, version))
    return _run_row(rows[0]) if rows else None


def _run_of(query: Query, uat_run_id: int) -> int | None:
    rows = query("SELECT run_id FROM uat_runs WHERE id = ?", (uat_run_id,))
    return rows[0][0] if rows else None


def _latest_decision(query: Query, app: str, version: str, stage: str) -> Decision | None:
    rows = query("SELECT * FROM uat_decisions WHERE app = ? AND version = ? AND stage = ? "
                        "ORDER BY time DESC, id DESC LIMIT 1", (app, version, stage))
    return _decision(rows[0]) if rows else None


def latest_run(store: Any, app: str, version: str) -> UatRunRow | None:
    """The newest counted (complete) UAT run of an application version."""
    return _latest_run(store.query, app, version)


def runs(store: Any, app: str | None = None, version: str | None = None) -> list[UatRunRow]:
    """Counted UAT runs, oldest first."""
    sql, params = _COUNTED_RUNS, []
    if app is not None:
        sql += " AND u.app = ?"
        params.append(app)
    if version is not None:
        sql += " AND u.version = ?"
        params.append(version)
    return [_run_row(row) for row in store.query(sql + " ORDER BY u.finished_at, u.id", params)]


def get_run(store: Any, uat_run_id: int) -> UatRunRow | None:
    rows = store.query(f"{_COUNTED_RUNS} AND u.id = ?", (uat_run_id,))
    return _run_row(rows[0]) if rows else None


def steps(store: Any, uat_run_id: int) -> list[UatStepRow]:
    return [_step_row(row) for row in store.query("SELECT * FROM uat_steps WHERE uat_run_id = ? ORDER BY position",
                                                   (uat_run_id,))]


def decisions(store: Any, app: str | None = None, version: str | None = None,
              stage: str | None = None) -> list[Decision]:
    """Reviews and approvals, oldest first."""
    where, params = [], []
    for column, value in (("app", app), ("version", version), ("stage", stage)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = "SELECT * FROM uat_decisions" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY time, id"
    return [_decision(row) for row in store.query(sql, params)]


# ------------------------------------------------------------------------------------------- helpers


def _due(start: str | _dt.date | None, sop_id: str) -> str | None:
    if not start:
        return None
    day = start if isinstance(start, _dt.date) else _dt.date.fromisoformat(start)
    return (day + _dt.timedelta(days=SOP_DAY[sop_id] - 1)).isoformat()


def _insert_evidence(conn: sqlite3.Connection, sop_id: str, summary: str, data: Mapping[str, Any],
                     time: str) -> None:
    Store.insert_evidence(conn, sop_id, WORKFLOW[sop_id], summary, data=dict(data), time=time)


def _when(lang: str, stored: str) -> str:
    return i18n.format_time(lang, stored)


def _contract(status: str, record: str, detail: str, due: str | None, done: str, by: str,
              **extra: Any) -> dict[str, Any]:
    if due is not None and done > due:
        detail += f" [due {due}, done {done}]"
    data = {"status": status, "record": record, "detail": detail, "by": by, "done": done}
    if due is not None:
        data["due"] = due
    data.update(extra)
    return data


# ---------------------------------------------------------------------------------------------- D.2


def save_run(store: Any, run: Any, outcome: UatOutcome, documents: Mapping[str, Any]) -> int:
    """Write the UAT run (inside an open `store.run("uat")` block) and buffer its D.2 evidence on `run`.

    `documents`: `html`, `html_sha256`, `md`, `md_sha256` of the "Hasil Test" files (paths as shown)."""
    checklist, lang = outcome.checklist, outcome.lang
    counts = outcome.counts
    start = checklist.start.isoformat() if checklist.start else None
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO uat_runs (run_id, app, version, tester, started_at, finished_at, result, counts, checklist, "
            "checklist_sha256, url, hosts, start_date, lang, report_html, report_html_sha256, report_md, "
            "report_md_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run.id, checklist.name, checklist.version, text("tester", outcome.tester, required=True),
             time_value("started_at", outcome.started_at), time_value("finished_at", outcome.finished_at),
             outcome.result, to_json("counts", counts), checklist.path, checklist.sha256, checklist.url,
             checklist.hosts, start, lang, text("report_html", documents.get("html")), documents.get("html_sha256"),
             text("report_md", documents.get("md")), documents.get("md_sha256")))
        uat_run_id = cursor.lastrowid
        conn.executemany(
            "INSERT INTO uat_steps (uat_run_id, position, step_id, title, kind, optional, result, expected, "
            "observed, detail, output, command, hosts, evidence, answered_by, started_at, duration_ms) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(uat_run_id, s.position, s.step.id, text("title", s.step.title), s.step.kind, int(s.step.optional),
              s.result, text("expected", s.expected), text("observed", s.observed), text("detail", s.detail),
              trim_output(text("output", s.output))[0], text("command", s.command), to_json("hosts", s.hosts),
              to_json("evidence", [e.to_dict() for e in s.evidence]), s.answered_by,
              time_value("started_at", s.started_at), s.duration_ms) for s in outcome.steps])
    failed = [s.step.id for s in outcome.steps if not s.ok]
    detail = (f"{i18n.run_word(lang, outcome.result)}: {i18n.t(lang, 'counts', **counts)}; "
              f"{i18n.t(lang, 'tester').lower()} {outcome.tester}"
              + (f"; {i18n.step_word(lang, 'fail').lower()}: {', '.join(failed)}" if failed else ""))
    data = _contract("compliant" if outcome.result == "passed" else "non-compliant", checklist.record, detail,
                     _due(start, SOP_RUN), local_date(time_value("finished_at", outcome.finished_at)),
                     outcome.tester, app=checklist.name, version=checklist.version, result=outcome.result,
                     counts=counts, failed_steps=failed, uat_run_id=uat_run_id, run_id=run.id,
                     checklist=checklist.path, checklist_sha256=checklist.sha256,
                     report_html=documents.get("html"), report_md=documents.get("md"),
                     report_md_sha256=documents.get("md_sha256"))
    summary = (f"UAT {checklist.name} {checklist.version}: {i18n.run_word(lang, outcome.result)} "
               f"({counts['passed']}/{counts['total']})")
    run.add_evidence(SOP_RUN, WORKFLOW[SOP_RUN], summary, data=data, path=documents.get("html"),
                     sha256=documents.get("html_sha256"), time=outcome.finished_at)
    return uat_run_id


# ------------------------------------------------------------------------------------------ D.3 / D.6


def _require_test(query: Query, app: str, version: str, lang: str) -> UatRunRow:
    test = _latest_run(query, app, version)
    if test is None:
        raise ChainRefused(f"no test run (D.2) of {app} {version} yet: run `invoke uat --app {app}` first")
    return test


def _failed_test(test: UatRunRow, lang: str) -> str:
    counts = test.counts
    return (f"the latest test run #{test.run_id} of {test.app} {test.version} ({_when(lang, test.finished_at)}, "
            f"by {test.tester}) failed: {counts.get('failed', 0)} failed, {counts.get('errors', 0)} in error, "
            f"{counts.get('skipped', 0)} skipped of {counts.get('total', 0)} steps")


def _decision_input(decision: str, allowed: tuple[str, ...], by: Any, note: Any,
                    time: Any) -> tuple[str, str | None, str]:
    """(by, note, time) of a review or approval, after checking `decision` is one of `allowed`."""
    if decision not in allowed:
        raise UsageError(f"--decision {decision!r}: use {' or '.join(allowed)}")
    return text("by", by, required=True).strip(), text("note", note), time_value("time", time)


def _write_decision(conn: sqlite3.Connection, sop_id: str, app: str, version: str, decision: str, by: str,
                    note: str | None, at: str, test: UatRunRow, lang: str, context: str, *,
                    review: Decision | None = None) -> Decision:
    """The `uat_decisions` row of a review (D.3) or an approval (D.6, of `review`) and its evidence row, in
    the caller's transaction: recommend / approve is compliant, reject non-compliant; `context` closes the
    evidence detail (the test run and, for an approval, the review)."""
    stage = "review" if sop_id == SOP_REVIEW else "approval"
    review_id = None if review is None else review.id
    cursor = conn.execute("INSERT INTO uat_decisions (app, version, stage, decision, by_name, note, uat_run_id, "
                          "review_id, time) VALUES (?,?,?,?,?,?,?,?,?)",
                          (app, version, stage, decision, by, note, test.id, review_id, at))
    row = _decision(conn.execute("SELECT * FROM uat_decisions WHERE id = ?", (cursor.lastrowid,)).fetchone())
    word = i18n.decision_word(lang, decision)
    detail = f"{word} — {by}" + (f": {note}" if note else "") + f" ({context})"
    compliant = decision == ("recommend" if stage == "review" else "approve")
    extra = {} if review is None else {"review_id": review.id}
    data = _contract("compliant" if compliant else "non-compliant", row.record, detail, _due(test.start_date, sop_id),
                     local_date(at), by, app=app, version=version, decision=decision, note=note, uat_run_id=test.id,
                     run_id=test.run_id, **extra, decision_id=row.id)
    _insert_evidence(conn, sop_id, f"{i18n.t(lang, stage)} {app} {version}: {word} ({by})", data, at)
    return row


def record_review(store: Any, app: str, version: str, by: str, decision: str, note: str | None = None, *,
                  lang: str = "id", time: Any = None) -> Decision:
    """D.3: `by` recommends or rejects the newest test run of `app` `version`. Refused without a test run,
    and a recommendation is refused when that run failed."""
    by, note, at = _decision_input(decision, REVIEW_DECISIONS, by, note, time)
    with store.transaction() as conn:
        test = _require_test(_on(conn), app, version, lang)
        if decision == "recommend" and test.result != "passed":
            raise ChainRefused(_failed_test(test, lang) + ": a failed test cannot be recommended; fix and re-test, "
                                                          "or record --decision reject")
        return _write_decision(conn, SOP_REVIEW, app, version, decision, by, note, at, test, lang,
                               f"{i18n.t(lang, 'run_id').lower()} #{test.run_id}, {i18n.run_word(lang, test.result)}")


def record_approval(store: Any, app: str, version: str, by: str, decision: str, note: str | None = None, *,
                    lang: str = "id", time: Any = None) -> Decision:
    """D.6: `by` approves or rejects the implementation of `app` `version`. Refused unless the newest test
    run of that version passed and the newest review recommends exactly that run."""
    by, note, at = _decision_input(decision, APPROVAL_DECISIONS, by, note, time)
    with store.transaction() as conn:
        test = _require_test(_on(conn), app, version, lang)
        if test.result != "passed":
            raise ChainRefused(_failed_test(test, lang) + ": fix and re-test before approval")
        review = _latest_decision(_on(conn), app, version, "review")
        if review is None:
            raise ChainRefused(f"no review (D.3) of {app} {version}: a recommending review of test run #{test.run_id} "
                               f"is needed first (`invoke uat.review --app {app} --by NAME --decision recommend`)")
        if review.uat_run_id != test.id:
            reviewed = _run_of(_on(conn), review.uat_run_id)
            raise ChainRefused(f"the review by {review.by_name} ({_when(lang, review.time)}) concerns test run "
                               f"#{reviewed}, but the latest test run of {app} {version} is #{test.run_id}: "
                               "review it again")
        if review.decision != "recommend":
            raise ChainRefused(f"the review by {review.by_name} ({_when(lang, review.time)}) rejected {app} {version}"
                               + (f": {review.note}" if review.note else "")
                               + "; only a recommended version can be approved")
        return _write_decision(conn, SOP_APPROVAL, app, version, decision, by, note, at, test, lang,
                               f"{i18n.t(lang, 'run_id').lower()} #{test.run_id}; {i18n.t(lang, 'review').lower()} "
                               f"{review.by_name}", review=review)


# -------------------------------------------------------------------------------------------- chain


@dataclass(frozen=True)
class ChainState:
    """Where one application version stands: tested -> reviewed -> approved."""

    app: str
    version: str
    stage: str
    test: UatRunRow | None
    review: Decision | None
    approval: Decision | None
    current: bool        # the version the application's checklist describes now

    def to_dict(self) -> dict[str, Any]:
        def test_dict(test: UatRunRow | None) -> dict | None:
            return None if test is None else {"run_id": test.run_id, "result": test.result, "by": test.tester,
                                              "at": test.finished_at, "counts": dict(test.counts),
                                              "report_html": test.report_html, "report_md": test.report_md}

        def decision_dict(d: Decision | None) -> dict | None:
            return None if d is None else {"id": d.id, "decision": d.decision, "by": d.by_name, "at": d.time,
                                           "note": d.note, "uat_run_id": d.uat_run_id}

        return {"app": self.app, "version": self.version, "record": record_id(self.app, self.version),
                "stage": self.stage, "current": self.current, "test": test_dict(self.test),
                "review": decision_dict(self.review), "approval": decision_dict(self.approval)}


def stage_of(test: UatRunRow | None, review: Decision | None, approval: Decision | None) -> str:
    if test is None:
        return "not-tested"
    if test.result != "passed":
        return "test-failed"
    if review is None:
        return "tested"
    if review.uat_run_id != test.id:
        return "review-outdated"
    if review.decision != "recommend":
        return "review-rejected"
    if approval is None or approval.review_id != review.id:
        return "reviewed"
    return "approved" if approval.decision == "approve" else "approval-rejected"


def chain(store: Any, current: Mapping[str, str] | None = None, app: str | None = None) -> list[ChainState]:
    """Every application version known from the store (and `current`: app -> the version its checklist
    describes now, listed even when never tested), sorted by application then version order of first test."""
    current = dict(current or {})
    if app is not None:
        current = {k: v for k, v in current.items() if k == app}
    pairs: dict[tuple[str, str], None] = {}
    for row in runs(store, app):
        pairs[(row.app, row.version)] = None
    for decision in decisions(store, app):
        pairs[(decision.app, decision.version)] = None
    for name, version in current.items():
        pairs.setdefault((name, version), None)
    out = []
    for name, version in pairs:
        test = _latest_run(store.query, name, version)
        review = _latest_decision(store.query, name, version, "review")
        approval = _latest_decision(store.query, name, version, "approval")
        out.append(ChainState(name, version, stage_of(test, review, approval), test, review, approval,
                              current.get(name) == version))
    first = {key: index for index, key in enumerate(pairs)}
    return sorted(out, key=lambda s: (s.app, first[(s.app, s.version)]))
