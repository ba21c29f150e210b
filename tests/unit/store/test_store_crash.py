"""Real processes: a run SIGKILLed midway, a process killed while committing, two writers at once."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sopctl.store import Store

SRC = Path(__file__).resolve().parents[3] / "src"

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _child(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


@contextlib.contextmanager
def _killed_child(code: str, *args: str):
    """`_child(code, *args)`, SIGKILLed when the block ends; reaped and its pipes closed whatever happens."""
    child = _child(code, *args)
    try:
        yield child
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()


def _raw_integrity(path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


STUCK_RUN = """
    import sys, time
    from sopctl.store import Store
    store = Store.open(sys.argv[1])
    with store.run("audit", what="sopctl audit (child)", month="2025-03") as run:
        for n in range(60):
            run.add_result(f"check-{n}", "pc-01", "fail", sop_ids=["C.3"], output="x" * 100)
        run.add_evidence("C.3", "auto", "from the killed run")
        print(run.id, flush=True)
        time.sleep(120)
"""


def test_sigkilled_run_stays_running_with_no_results_and_is_not_counted(db_path):
    with Store.open(db_path) as store:
        with store.run("audit", month="2025-03") as earlier:
            for n in range(60):
                earlier.add_result(f"check-{n}", "pc-01", "pass", sop_ids=["C.3"])
            earlier.add_evidence("C.3", "auto", "from the earlier run")

    with _killed_child(STUCK_RUN, str(db_path)) as child:
        line = child.stdout.readline()
        assert line.strip(), child.stderr.read()
        killed_id = int(line)
    assert child.returncode == -signal.SIGKILL

    assert _raw_integrity(db_path) == "ok"
    with Store.open(db_path) as store:
        assert store.integrity_check() == []
        killed = store.get_run(killed_id)
        assert killed.status == "running" and killed.finished_at is None
        assert store.results_for_run(killed_id) == []
        # Earlier runs intact; the killed run counts for nothing.
        assert store.get_run(earlier.id).status == "complete"
        assert len(store.results_for_run(earlier.id)) == 60
        latest = store.latest_results(month="2025-03")
        assert len(latest) == 60 and {r.status for r in latest} == {"pass"}
        assert {r.run_id for r in latest} == {earlier.id}
        assert [e.summary for e in store.evidence_for("C.3")] == ["from the earlier run"]
        # Its process is gone: mark_abandoned turns it incomplete.
        assert store.mark_abandoned() == [killed_id]
        assert store.get_run(killed_id).status == "incomplete"
        assert store.mark_abandoned() == []
        # The database is still writable.
        with store.run("audit", month="2025-03") as later:
            later.add_result("check-0", "pc-01", "fail")
        assert store.latest_results(month="2025-03")[0].status == "fail"


BUSY_WRITER = """
    import sys
    from sopctl.store import Store
    store = Store.open(sys.argv[1])
    n = 0
    while True:
        n += 1
        with store.run("audit", month="2025-03", meta={"n": n}) as run:
            run.add_results({"check_id": f"check-{i}", "host": f"pc-{i % 50:02d}", "status": "pass",
                             "output": "y" * 200} for i in range(3000))
        print(run.id, flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.013, 0.031])
def test_killed_while_committing_leaves_whole_runs_or_nothing(db_path, delay):
    """Kill a process that does nothing but write runs of 3000 results: every run is all or nothing."""
    Store.open(db_path).close()
    with _killed_child(BUSY_WRITER, str(db_path)) as child:
        for _ in range(2):  # at least two whole runs before the kill
            assert child.stdout.readline().strip(), child.stderr.read()
        time.sleep(delay)

    assert _raw_integrity(db_path) == "ok"
    with Store.open(db_path) as store:
        assert store.integrity_check() == []
        runs = store.runs()
        complete = [r for r in runs if r.status == "complete"]
        assert len(complete) >= 2
        for run in runs:
            count = len(store.results_for_run(run.id))
            assert count == (3000 if run.status == "complete" else 0), (run, count)
        assert {r.status for r in runs} <= {"complete", "running"}
        store.mark_abandoned()
        assert {r.status for r in store.runs()} <= {"complete", "incomplete"}
        latest = store.latest_results()
        assert len(latest) == 3000 and {r.run_id for r in latest} == {complete[-1].id}


TWO_WRITERS = """
    import sys
    from sopctl.store import Store
    store = Store.open(sys.argv[1], busy_timeout=30)
    for n in range(10):
        with store.run("audit", month="2025-03", meta={"writer": sys.argv[2]}) as run:
            run.add_results({"check_id": f"check-{i}", "host": sys.argv[2], "status": "pass"} for i in range(500))
        store.latest_results(month="2025-03")
    print("done", flush=True)
"""


def test_two_processes_write_at_once(db_path):
    Store.open(db_path).close()
    children = [_child(TWO_WRITERS, str(db_path), f"pc-{n}") for n in range(2)]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert out.strip() == "done"
    with Store.open(db_path) as store:
        runs = store.runs()
        assert len(runs) == 20 and {r.status for r in runs} == {"complete"}
        assert len(store.latest_results()) == 2 * 500
        assert store.integrity_check() == []
