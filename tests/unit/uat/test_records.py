"""The D.2 -> D.3 -> D.6 chain in the results store: what is refused and why, newest-record-wins, due dates,
runs that never completed, and the compliance report's verdict for each state."""

from __future__ import annotations

import datetime as _dt
import io
import textwrap

import pytest

from sopctl.compliance.catalog import load_catalog
from sopctl.compliance.status import evaluate_month
from sopctl.uat import records
from sopctl.uat.checklist import load_checklist
from sopctl.uat.records import ChainRefused, record_approval, record_review
from sopctl.uat.runner import Runner

from .support import REPO

CATALOG = load_catalog(REPO / "checks" / "sop.yml")


@pytest.fixture
def tested(tmp_path, store, database, closed_port):
    """`tested(passing, version=..., start=...)`: a real (tiny) UAT run stored like the CLI stores it."""

    def run(passing: bool = True, version: str = "1.0.0", start: _dt.date | None = None) -> records.UatRunRow:
        port = database if passing else closed_port
        path = tmp_path / "uji.yml"
        path.write_text(textwrap.dedent(f"""\
            name: uji
            version: "{version}"
            owner: IT
            {f"start: {start.isoformat()}" if start else ""}
            steps:
            - id: basis-data
              database: {{engine: postgresql, host: 127.0.0.1, port: {port}}}
            """))
        outcome = Runner(load_checklist(path), out=io.StringIO()).run("Budi")
        with store.run(records.RUN_KIND, who="Budi") as stored:
            records.save_run(store, stored, outcome, {})
        return records.latest_run(store, "uji", version)

    return run


def _status(store, sop_id: str):
    return evaluate_month(CATALOG, store, _dt.date.today().strftime("%Y-%m"), _dt.date.today(), compare=False).item(sop_id)


def test_the_catalog_time_standards_are_the_ones_used_for_due_dates():
    for sop_id, day in records.SOP_DAY.items():
        item = CATALOG.item(sop_id)
        assert (item.time.kind, item.time.day, item.workflow) == ("day", day, records.WORKFLOW[sop_id])


def test_nothing_can_be_reviewed_or_approved_before_a_test(store):
    with pytest.raises(ChainRefused, match=r"no test run \(D\.2\) of uji 1\.0\.0 yet: run `invoke uat --app uji`"):
        record_review(store, "uji", "1.0.0", "Kasubag", "recommend", "ok")
    with pytest.raises(ChainRefused, match=r"no test run \(D\.2\) of uji 1\.0\.0 yet"):
        record_approval(store, "uji", "1.0.0", "Ketua", "approve")
    assert store.evidence_for("D.3") == [] and store.evidence_for("D.6") == []
    assert _status(store, "D.2").status == "not-verified"


def test_a_failed_test_then_a_passing_retest_is_one_record_and_the_newest_wins(store, tested):
    failed = tested(passing=False)
    assert failed.result == "failed" and _status(store, "D.2").status == "non-compliant"
    with pytest.raises(ChainRefused, match=r"a failed test cannot be recommended"):
        record_review(store, "uji", "1.0.0", "Kasubag", "recommend", "ok")
    rejected = record_review(store, "uji", "1.0.0", "Kasubag", "reject", "basis data tidak bisa dihubungi")
    assert rejected.uat_run_id == failed.id
    assert _status(store, "D.3").status == "non-compliant"
    passed = tested(passing=True)
    item = _status(store, "D.2")
    assert item.status == "compliant" and [line.record for line in item.evidence] == ["uji@1.0.0"]
    (state,) = records.chain(store)
    assert state.stage == "review-outdated"          # the rejection was about the failed run
    with pytest.raises(ChainRefused, match=rf"concerns test run #{failed.run_id}, but the latest test run of uji "
                                           rf"1\.0\.0 is #{passed.run_id}: review it again"):
        record_approval(store, "uji", "1.0.0", "Ketua", "approve")
    record_review(store, "uji", "1.0.0", "Kasubag", "recommend", "sudah diperbaiki")
    assert _status(store, "D.3").status == "compliant"
    record_approval(store, "uji", "1.0.0", "Ketua", "approve")
    assert _status(store, "D.6").status == "compliant"
    assert records.chain(store)[0].stage == "approved"


def test_a_rejecting_review_blocks_approval_and_a_rejected_approval_is_non_compliant(store, tested):
    tested()
    record_review(store, "uji", "1.0.0", "Kasubag", "reject", "tampilan belum sesuai SOP PTSP")
    with pytest.raises(ChainRefused, match=r"the review by Kasubag \(.*\) rejected uji 1\.0\.0: tampilan belum "
                                           r"sesuai SOP PTSP; only a recommended version can be approved"):
        record_approval(store, "uji", "1.0.0", "Ketua", "approve")
    assert records.chain(store)[0].stage == "review-rejected"
    record_review(store, "uji", "1.0.0", "Kasubag", "recommend", "diterima setelah rapat")
    assert records.chain(store)[0].stage == "reviewed"
    record_approval(store, "uji", "1.0.0", "Ketua", "reject", "tunggu anggaran printer")
    item = _status(store, "D.6")
    assert item.status == "non-compliant"
    assert item.evidence[0].detail.startswith("Ditolak — Ketua: tunggu anggaran printer")
    assert records.chain(store)[0].stage == "approval-rejected"


def test_decisions_record_who_and_when_and_the_due_day_of_the_sop(store, tested):
    start = _dt.date.today() - _dt.timedelta(days=10)
    test = tested(start=start)
    late = _dt.datetime.now(_dt.timezone.utc)
    review = record_review(store, "uji", "1.0.0", "Kasubag PTIP", "recommend", "ok", time=late)
    assert review.by_name == "Kasubag PTIP" and review.time.startswith(late.strftime("%Y-%m-%dT%H:%M"))
    (row,) = store.evidence_for("D.3")
    assert row.kind == "uat-review" and row.run_id is None                 # a workflow record: counts at once
    assert row.data["due"] == (start + _dt.timedelta(days=2)).isoformat()  # "Hari ke 3"
    assert row.data["done"] == _dt.date.today().isoformat()
    assert f"[due {row.data['due']}, done {row.data['done']}]" in row.data["detail"]
    assert row.data["run_id"] == test.run_id and row.data["by"] == "Kasubag PTIP"
    (d2,) = store.evidence_for("D.2")
    assert d2.data["due"] == (start + _dt.timedelta(days=1)).isoformat()   # "Hari ke 2"


def test_unknown_decisions_are_refused(store, tested):
    tested()
    with pytest.raises(Exception, match=r"--decision 'approve': use recommend or reject"):
        record_review(store, "uji", "1.0.0", "Kasubag", "approve", "x")
    with pytest.raises(Exception, match=r"--decision 'recommend': use approve or reject"):
        record_approval(store, "uji", "1.0.0", "Ketua", "recommend")


def test_a_run_that_never_completed_counts_for_nothing(store, tmp_path, database):
    path = tmp_path / "uji.yml"
    path.write_text(f"name: uji\nversion: '1.0.0'\nowner: IT\nsteps:\n- id: a\n  tcp: {{host: 127.0.0.1, port: {database}}}\n")
    outcome = Runner(load_checklist(path), out=io.StringIO()).run("Budi")
    with pytest.raises(RuntimeError):
        with store.run(records.RUN_KIND, who="Budi") as stored:
            records.save_run(store, stored, outcome, {})
            raise RuntimeError("the document could not be written")
    assert store.runs(kind="uat")[0].status == "incomplete"
    assert records.runs(store) == [] and store.evidence_for("D.2") == []
    with pytest.raises(ChainRefused, match="no test run"):
        record_review(store, "uji", "1.0.0", "Kasubag", "recommend", "ok")


def test_every_version_is_listed_with_the_current_one_marked(store, tested):
    tested(version="1.0.0")
    tested(version="1.1.0", passing=False)
    states = records.chain(store, {"uji": "1.1.0", "sipp": "4.2"})
    assert [(s.app, s.version, s.stage, s.current) for s in states] == [
        ("sipp", "4.2", "not-tested", True), ("uji", "1.0.0", "tested", False), ("uji", "1.1.0", "test-failed", True)]
    assert [s.version for s in records.chain(store, {"uji": "1.1.0"}, app="uji")] == ["1.0.0", "1.1.0"]
    assert _status(store, "D.2").status == "partly"          # one version passed, the other failed
