"""A run's lifecycle: running -> complete | failed | incomplete, and what each leaves in the database."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading

import pytest

from sopctl.store import Store, StoreError


def _count(store: Store, table: str) -> int:
    return store._query(f"SELECT count(*) FROM {table}")[0][0]


def test_complete_run_writes_everything_and_is_counted(store):
    with store.run("audit", who="admin", what="sopctl audit -i inv.yml", inventory="inv.yml",
                   month="2025-03", meta={"forks": 20}) as run:
        run.add_result("ssh-root", "pc-01", "pass", sop_ids=["C.3"], observed="no", expected="no",
                       command="sshd -T", output="permitrootlogin no", severity="high")
        run.add_results([{"check_id": "ssh-root", "host": "pc-02", "status": "fail", "sop_ids": ("C.3", "C.4")},
                         {"check_id": "av-running", "host": "pc-01", "status": "na"}])
        run.add_evidence("C.3", "auto", "3 hosts checked", data={"hosts": 3}, host="pc-01")
        run.set_meta(summary={"pass": 1, "fail": 1})
        assert run.pending == 3
    assert run.status == "complete"
    row = store.get_run(run.id)
    assert row.status == "complete" and row.counted
    assert (row.kind, row.who, row.what, row.inventory, row.month) == (
        "audit", "admin", "sopctl audit -i inv.yml", "inv.yml", "2025-03")
    assert row.started_at.endswith("Z") and row.finished_at >= row.started_at
    assert row.meta["forks"] == 20 and row.meta["summary"] == {"pass": 1, "fail": 1}
    assert row.meta["pid"] == os.getpid() and row.meta["hostname"] == socket.gethostname()
    results = store.results_for_run(run.id)
    assert [(r.check_id, r.host, r.status, r.sop_ids) for r in results] == [
        ("ssh-root", "pc-01", "pass", ("C.3",)), ("ssh-root", "pc-02", "fail", ("C.3", "C.4")),
        ("av-running", "pc-01", "na", ())]
    first = results[0]
    assert (first.observed, first.expected, first.command, first.output, first.severity) == (
        "no", "no", "sshd -T", "permitrootlogin no", "high")
    assert first.output_size == len("permitrootlogin no") and not first.output_trimmed
    assert [e.summary for e in store.evidence_for("C.3")] == ["3 hosts checked"]


def test_run_row_is_committed_at_start_and_results_only_at_the_end(store, db_path):
    other = Store.open(db_path)  # a second connection, as another process would see it
    try:
        with store.run("audit", month="2025-03") as run:
            run.add_result("ssh-root", "pc-01", "pass")
            seen = other.get_run(run.id)
            assert seen.status == "running" and seen.finished_at is None
            assert other.results_for_run(run.id) == []
            assert other.latest_results() == []
        assert other.get_run(run.id).status == "complete"
        assert len(other.results_for_run(run.id)) == 1
    finally:
        other.close()


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_exception_or_interrupt_marks_the_run_incomplete_and_discards_its_results(store, error):
    with store.run("audit", month="2025-03") as good:
        good.add_result("ssh-root", "pc-01", "pass")
    with pytest.raises(type(error)):
        with store.run("audit", month="2025-03") as run:
            run.add_result("ssh-root", "pc-01", "fail")
            run.add_evidence("C.3", "auto", "half done")
            raise error
    row = store.get_run(run.id)
    assert row.status == "incomplete" and not row.counted and row.finished_at is not None
    assert row.meta["ended_by"] == type(error).__name__
    assert store.results_for_run(run.id) == []
    assert _count(store, "evidence") == 0
    assert [(r.run_id, r.status) for r in store.latest_results()] == [(good.id, "pass")]
    with pytest.raises(RuntimeError, match="not open"):
        run.add_result("ssh-root", "pc-01", "pass")


def test_failed_run_keeps_results_for_diagnosis_but_is_not_counted(store):
    with store.run("backup", month="2025-03") as run:
        run.add_result("backup-size", "srv-01", "error", output="tar: disk full")
        run.add_evidence("E.1", "auto", "backup attempted")
        run.fail("archive upload failed")
    row = store.get_run(run.id)
    assert row.status == "failed" and row.meta["failure"] == "archive upload failed"
    assert [r.output for r in store.results_for_run(run.id)] == ["tar: disk full"]
    assert store.latest_results() == []
    assert store.evidence_for("E.1") == []


def test_bad_results_are_refused_when_added_and_add_results_is_all_or_nothing(store):
    with store.run("audit", month="2025-03") as run:
        with pytest.raises(ValueError, match="status: 'ok' is not one of pass, fail, error, na"):
            run.add_result("ssh-root", "pc-01", "ok")
        with pytest.raises(ValueError, match="'C3' is not an SOP item id"):
            run.add_result("ssh-root", "pc-01", "pass", sop_ids=["C3"])
        with pytest.raises(ValueError, match=r"results\[1\]: status"):
            run.add_results([{"check_id": "a", "host": "h", "status": "pass"},
                             {"check_id": "b", "host": "h", "status": "bad"}])
        with pytest.raises(TypeError, match=r"results\[0\]"):
            run.add_results([{"check_id": "a", "host": "h"}])
        assert run.pending == 0
    assert store.results_for_run(run.id) == []
    assert store.get_run(run.id).status == "complete"


def test_run_kind_and_month_are_validated(store):
    with pytest.raises(ValueError, match="run kind"):
        store.run("Audit Run")
    from sopctl.errors import UsageError
    with pytest.raises(UsageError, match="month"):
        store.run("audit", month="2025-13")


def test_default_month_is_the_local_month_of_the_start(store):
    with store.run("audit") as run:
        pass
    today = dt.datetime.now().astimezone()
    assert store.get_run(run.id).month in {f"{today.year:04d}-{today.month:02d}",
                                            # the test may straddle a month boundary
                                            (today - dt.timedelta(minutes=1)).strftime("%Y-%m")}


def test_a_run_finished_by_someone_else_meanwhile_stores_nothing(store):
    with pytest.raises(StoreError, match="marked finished by someone else"):
        with store.run("audit", month="2025-03") as run:
            run.add_result("ssh-root", "pc-01", "pass")
            with store.transaction() as conn:
                conn.execute("UPDATE runs SET status = 'incomplete' WHERE id = ?", (run.id,))
    assert store.results_for_run(run.id) == []
    assert store.get_run(run.id).status == "incomplete"


def test_mark_abandoned_spares_live_runs_and_marks_dead_or_stale_ones(store):
    with store.transaction() as conn:
        # A run of this host whose process is gone (pid far above pid_max).
        conn.execute("INSERT INTO runs (kind, started_at, month, meta) VALUES ('audit', '2025-03-01T00:00:00.000Z',"
                     " '2025-03', ?)", (json.dumps({"pid": 2 ** 31 - 2, "hostname": socket.gethostname()}),))
        # A run of another machine: cannot be checked, only aged out.
        conn.execute("INSERT INTO runs (kind, started_at, month, meta) VALUES ('audit', '2025-03-01T00:00:00.000Z',"
                     " '2025-03', ?)", (json.dumps({"pid": 1, "hostname": "elsewhere"}),))
    with store.run("audit", month="2025-03") as live:
        assert store.mark_abandoned() == [1]
        assert store.mark_abandoned(older_than=dt.timedelta(days=1)) == [2]
        assert store.get_run(live.id).status == "running"
        live.add_result("ssh-root", "pc-01", "pass")
    assert store.get_run(live.id).status == "complete"
    gone = store.get_run(1)
    assert gone.status == "incomplete" and "is gone" in gone.meta["abandoned"]
    assert store.get_run(2).status == "incomplete"


def test_mark_abandoned_sees_through_a_reused_pid(store):
    """Our own pid with another process start time is a different (reused) process: the run is abandoned."""
    meta = {"pid": os.getpid(), "hostname": socket.gethostname(), "pid_start": -1}
    with store.transaction() as conn:
        conn.execute("INSERT INTO runs (kind, started_at, month, meta) VALUES ('audit', '2025-03-01T00:00:00.000Z',"
                     " '2025-03', ?)", (json.dumps(meta),))
    if not os.path.exists(f"/proc/{os.getpid()}/stat"):
        pytest.skip("needs /proc to read process start times")
    assert store.mark_abandoned() == [1]


def test_threads_share_a_store_and_a_run(store):
    def worker(run, host):
        for n in range(200):
            run.add_result(f"check-{n}", host, "pass" if n % 2 else "fail", sop_ids=["A.1"])

    with store.run("audit", month="2025-03") as run:
        threads = [threading.Thread(target=worker, args=(run, f"pc-{i:02d}")) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(store.results_for_run(run.id)) == 8 * 200

    def separate_runs(i):
        with store.run("play", month="2025-03") as own:
            own.add_result("check-x", f"pc-{i:02d}", "pass")
        store.latest_results(month="2025-03")

    threads = [threading.Thread(target=separate_runs, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in store.runs(kind="play")] == ["complete"] * 8


def test_runs_filters(store):
    for kind, month in [("audit", "2025-03"), ("backup", "2025-03"), ("audit", "2025-04")]:
        with store.run(kind, month=month):
            pass
    with pytest.raises(KeyError):
        with store.run("audit", month="2025-04"):
            raise KeyError("x")
    assert [(r.kind, r.month) for r in store.runs()] == [
        ("audit", "2025-03"), ("backup", "2025-03"), ("audit", "2025-04"), ("audit", "2025-04")]
    assert [r.id for r in store.runs(kind="audit")] == [1, 3, 4]
    assert [r.id for r in store.runs(month="2025-03")] == [1, 2]
    assert [r.id for r in store.runs(kind="audit", month="2025-04", status="complete")] == [3]
    assert store.get_run(99) is None
