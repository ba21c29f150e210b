"""What the report asks the store: latest results, evidence, waivers, attestations."""

from __future__ import annotations

import datetime as dt

import pytest

from sopctl.errors import UsageError
from sopctl.store import Store, host_matches

SHA = "ab" * 32


def _run(store: Store, month: str, results, kind: str = "audit"):
    with store.run(kind, month=month) as run:
        for check, host, status, time in results:
            run.add_result(check, host, status, time=time)
    return run.id


# --------------------------------------------------------------------------------------- latest_results


@pytest.fixture
def history(store):
    """March: two audits; April: one audit; plus an interrupted and a failed run that must not count."""
    ids = {}
    ids["mar1"] = _run(store, "2025-03", [("ssh-root", "pc-01", "fail", "2025-03-03T02:00:00Z"),
                                          ("ssh-root", "pc-02", "pass", "2025-03-03T02:00:01Z"),
                                          ("av-on", "pc-01", "pass", "2025-03-03T02:00:02Z")])
    ids["mar2"] = _run(store, "2025-03", [("ssh-root", "pc-01", "pass", "2025-03-20T02:00:00Z")])
    ids["apr"] = _run(store, "2025-04", [("ssh-root", "pc-01", "error", "2025-04-02T02:00:00Z"),
                                         ("av-on", "pc-03", "na", "2025-04-02T02:00:01Z")])
    with pytest.raises(RuntimeError):
        with store.run("audit", month="2025-04") as broken:
            broken.add_result("ssh-root", "pc-02", "fail", time="2025-04-05T00:00:00Z")
            raise RuntimeError("interrupted")
    with store.run("audit", month="2025-04") as failed:
        failed.add_result("av-on", "pc-01", "fail", time="2025-04-06T00:00:00Z")
        failed.fail("inventory unreadable")
    ids["play"] = _run(store, "2025-04", [("ssh-root", "pc-02", "fail", "2025-04-07T00:00:00Z")], kind="play")
    return ids


def _view(rows):
    return [(r.check_id, r.host, r.status) for r in rows]


def test_latest_results_per_month(store, history):
    assert _view(store.latest_results(month="2025-03")) == [
        ("av-on", "pc-01", "pass"), ("ssh-root", "pc-01", "pass"), ("ssh-root", "pc-02", "pass")]
    assert _view(store.latest_results(month="2025-04")) == [
        ("av-on", "pc-03", "na"), ("ssh-root", "pc-01", "error"), ("ssh-root", "pc-02", "fail")]
    assert _view(store.latest_results(month=dt.date(2025, 4, 1), kind="audit")) == [
        ("av-on", "pc-03", "na"), ("ssh-root", "pc-01", "error")]


def test_latest_results_over_all_time_and_as_of(store, history):
    assert _view(store.latest_results()) == [
        ("av-on", "pc-01", "pass"), ("av-on", "pc-03", "na"), ("ssh-root", "pc-01", "error"),
        ("ssh-root", "pc-02", "fail")]
    # A date means up to the end of that local (WITA) day.
    assert _view(store.latest_results(as_of="2025-03-03")) == [
        ("av-on", "pc-01", "pass"), ("ssh-root", "pc-01", "fail"), ("ssh-root", "pc-02", "pass")]
    assert _view(store.latest_results(as_of=dt.date(2025, 3, 31))) == _view(store.latest_results(month="2025-03"))
    # A time is inclusive and may carry any offset (02:00 UTC == 10:00 WITA).
    assert _view(store.latest_results(as_of="2025-03-20T10:00:00+08:00")) == [
        ("av-on", "pc-01", "pass"), ("ssh-root", "pc-01", "pass"), ("ssh-root", "pc-02", "pass")]
    assert _view(store.latest_results(as_of=dt.datetime(2025, 3, 20, 1, 59, tzinfo=dt.timezone.utc))) == [
        ("av-on", "pc-01", "pass"), ("ssh-root", "pc-01", "fail"), ("ssh-root", "pc-02", "pass")]
    assert store.latest_results(as_of="2025-01-01") == []
    assert _view(store.latest_results(month="2025-04", as_of="2025-04-02T02:00:00Z")) == [
        ("ssh-root", "pc-01", "error")]


def test_as_of_date_is_the_end_of_the_local_day(store):
    # 2025-03-31T20:00Z is 04:00 on 1 April in WITA (UTC+8): not part of "as of 31 March".
    _run(store, "2025-03", [("c", "h", "pass", "2025-03-31T15:59:59Z")])
    _run(store, "2025-04", [("c", "h", "fail", "2025-03-31T20:00:00Z")])
    assert _view(store.latest_results(as_of="2025-03-31")) == [("c", "h", "pass")]
    assert _view(store.latest_results(as_of="2025-04-01")) == [("c", "h", "fail")]


def test_latest_result_is_by_result_time_then_insertion(store):
    # A run that started earlier but checked later wins; equal times go to the later row.
    first = _run(store, "2025-03", [("c", "h1", "pass", "2025-03-10T00:00:00Z"),
                                    ("c", "h2", "pass", "2025-03-10T00:00:00Z")])
    second = _run(store, "2025-03", [("c", "h1", "fail", "2025-03-09T00:00:00Z"),
                                     ("c", "h2", "fail", "2025-03-10T00:00:00Z")])
    rows = store.latest_results()
    assert [(r.host, r.status, r.run_id) for r in rows] == [("h1", "pass", first), ("h2", "fail", second)]


def test_results_of_running_runs_never_count(store):
    # Results can only be written with the run's completion, but a query must not trust that alone.
    with store.transaction() as conn:
        conn.execute("INSERT INTO runs (kind, started_at, month) VALUES ('audit', '2025-03-01T00:00:00.000Z',"
                     " '2025-03')")
        conn.execute("INSERT INTO results (run_id, check_id, host, status, time) VALUES "
                     "(1, 'c', 'h', 'fail', '2025-03-01T00:00:00.000Z')")
    assert store.latest_results() == []
    assert store.latest_results(month="2025-03") == []
    assert len(store.results_for_run(1)) == 1


def test_times_are_stored_as_utc_with_z(store):
    run_id = _run(store, "2025-03", [("c", "h", "pass", "2025-03-01T10:00:00+08:00"),
                                     ("c", "h2", "pass", dt.datetime(2025, 3, 1, 2, 0, 0, 123456))])
    assert [r.time for r in store.results_for_run(run_id)] == ["2025-03-01T02:00:00.000Z",
                                                                "2025-03-01T02:00:00.123Z"]
    with pytest.raises(UsageError, match="time: 'yesterday' is not an ISO 8601 time"):
        with store.run("audit", month="2025-03") as run:
            run.add_result("c", "h", "pass", time="yesterday")


# --------------------------------------------------------------------------------------------- evidence


def test_evidence_counted_only_from_complete_runs_or_workflows(store):
    with store.run("audit", month="2025-03") as run:
        run.add_evidence("B.2", "auto", "from an audit", data={"ok": True}, sha256=SHA.upper(), path="ev/1.json",
                         time="2025-03-05T00:00:00Z")
    with store.run("audit", month="2025-03") as failed:
        failed.add_evidence("B.2", "auto", "from a failed run")
        failed.fail("no")
    manual = store.add_evidence("B.2", "service-request", "request #12 closed", time="2025-04-02T01:00:00Z",
                                month="2025-04")
    assert manual.run_id is None and manual.month == "2025-04" and manual.time == "2025-04-02T01:00:00.000Z"
    rows = store.evidence_for("B.2")
    assert [e.summary for e in rows] == ["from an audit", "request #12 closed"]
    assert rows[0].data == {"ok": True} and rows[0].sha256 == SHA and rows[0].run_id == run.id
    assert [e.summary for e in store.evidence_for("B.2", month="2025-03")] == ["from an audit"]
    assert [e.summary for e in store.evidence_for("B.2", month="2025-04")] == ["request #12 closed"]
    assert store.evidence_for("B.3") == []
    with pytest.raises(UsageError, match="sop_id"):
        store.add_evidence("B.10", "x", "y")


# ---------------------------------------------------------------------------------------------- waivers


def _waiver(store, hosts="pc-*", expires="2025-03-31", created_at="2025-03-01T00:00:00Z", check="ssh-root"):
    return store.add_waiver(check, hosts, "vendor software needs it", "Ketua", expires, created_by="admin",
                            created_at=created_at)


def test_waiver_is_active_through_its_expiry_day_only(store):
    waiver = _waiver(store)
    assert waiver.expires == "2025-03-31" and waiver.created_by == "admin" and waiver.revoked_at is None
    assert store.active_waivers("2025-03-31") == [waiver]
    assert store.active_waivers(dt.date(2025, 3, 15)) == [waiver]
    assert store.active_waivers("2025-04-01") == []  # the day after expiry
    assert store.active_waivers("2025-02-28") == []  # before it was made
    assert store.waiver_for("ssh-root", "pc-01", "2025-03-31") == waiver
    assert store.waiver_for("ssh-root", "pc-01", "2025-04-01") is None
    assert waiver.active_on("2025-03-31") and not waiver.active_on(dt.date(2025, 4, 1))


def test_revoked_waiver_stops_applying_from_the_day_of_revocation(store):
    waiver = _waiver(store)
    revoked = store.revoke_waiver(waiver.id, by="Ketua", at="2025-03-10T03:00:00Z")
    assert revoked.revoked_at == "2025-03-10T03:00:00.000Z" and revoked.revoked_by == "Ketua"
    assert store.active_waivers("2025-03-09") == [revoked]  # history is not rewritten
    assert store.active_waivers("2025-03-10") == []
    assert store.waiver_for("ssh-root", "pc-01", "2025-03-20") is None
    assert store.all_waivers() == [revoked]
    with pytest.raises(UsageError, match="already revoked"):
        store.revoke_waiver(waiver.id)
    with pytest.raises(UsageError, match="no waiver 99"):
        store.revoke_waiver(99)


def test_waiver_days_are_local_days(store):
    # Created 2025-02-28T17:00Z = 1 March 01:00 WITA; revoked 2025-03-09T20:00Z = 10 March 04:00 WITA.
    waiver = _waiver(store, created_at="2025-02-28T17:00:00Z")
    assert store.active_waivers("2025-02-28") == [] and store.active_waivers("2025-03-01") == [waiver]
    revoked = store.revoke_waiver(waiver.id, at="2025-03-09T20:00:00Z")
    assert store.active_waivers("2025-03-09") == [revoked]
    assert store.waiver_for("ssh-root", "pc-01", "2025-03-10") is None


def test_waiver_host_patterns(store):
    wild = _waiver(store, hosts="pc-*")
    listed = _waiver(store, hosts="srv-01, srv-02", check="av-on")
    colon = _waiver(store, hosts="db1:db2", check="backup-age")
    everyone = _waiver(store, hosts="all", check="ntp")
    day = "2025-03-15"
    assert store.waiver_for("ssh-root", "pc-17", day) == wild
    assert store.waiver_for("ssh-root", "srv-01", day) is None
    assert store.waiver_for("av-on", "srv-02", day) == listed
    assert store.waiver_for("av-on", "srv-03", day) is None
    assert store.waiver_for("backup-age", "db2", day) == colon
    assert store.waiver_for("ntp", "anything", day) == everyone
    assert store.waiver_for("other-check", "pc-17", day) is None
    assert wild.covers("pc-01") and not wild.covers("PC-01")  # case-sensitive


def test_host_matching_rules():
    assert host_matches("pc-0?", "pc-05") and not host_matches("pc-0?", "pc-10")
    assert host_matches("db[12]", "db2") and not host_matches("db[12]", "db3")
    assert host_matches("a,b", "b") and host_matches("a:b", "a") and not host_matches("a,b", "a,b")
    # Inventory-only syntax never widens a waiver here.
    assert not host_matches("!pc-01", "pc-02") and not host_matches("&pc-*", "pc-01")
    assert not host_matches("~pc.*", "pc-01")


def test_waiver_for_prefers_the_longest_lasting(store):
    short = _waiver(store, hosts="pc-01", expires="2025-03-20")
    long = _waiver(store, hosts="pc-*", expires="2025-06-30")
    assert store.waiver_for("ssh-root", "pc-01", "2025-03-15") == long
    assert store.waiver_for("ssh-root", "pc-01", "2025-03-15").id != short.id
    assert [w.id for w in store.active_waivers("2025-03-15")] == [short.id, long.id]


def test_waiver_fields_are_validated(store):
    with pytest.raises(UsageError, match="expires: '31/03/2025' is not a date"):
        _waiver(store, expires="31/03/2025")
    with pytest.raises(UsageError, match="reason: must not be empty"):
        store.add_waiver("ssh-root", "pc-*", "  ", "Ketua", "2025-03-31")
    with pytest.raises(UsageError, match="names no host"):
        store.add_waiver("ssh-root", " , ", "why", "Ketua", "2025-03-31")
    assert store.all_waivers() == []
    made = store.add_waiver("ssh-root", "pc-*", "why", "Ketua", dt.date(2030, 1, 1))
    assert made.created_at.endswith("Z") and made.created_by  # defaults: now, OS user


# ----------------------------------------------------------------------------------------- attestations


def test_latest_attestation_and_history(store):
    first = store.add_attestation("F.7", "ketua", "Drs. H. Ahmad", note="rapat evaluasi",
                                  file_name="notulen-jan.pdf", file_sha256=SHA, file_size=12345,
                                  stored_path="var/attest/1.pdf", attested_at="2025-01-15T03:00:00Z")
    second = store.add_attestation("F.7", "ketua", "Drs. H. Ahmad", file_name="notulen-feb.pdf",
                                   file_sha256=SHA, file_size=999, attested_at="2025-02-14T03:00:00Z")
    other = store.add_attestation("A.1", "admin_ti", "Budi", attested_at="2025-02-01T00:00:00Z")
    assert (first.file_size, first.stored_path, first.note) == (12345, "var/attest/1.pdf", "rapat evaluasi")
    assert store.latest_attestation("F.7") == second
    assert store.latest_attestation("F.7", as_of="2025-02-13") == first
    assert store.latest_attestation("F.7", as_of="2025-02-14") == second  # a date includes its whole day
    assert store.latest_attestation("F.7", as_of="2025-01-01") is None
    assert store.latest_attestation("E.2") is None
    assert store.attestations("F.7") == [first, second]
    assert store.attestations() == [first, other, second]


def test_attestation_fields_are_validated(store):
    with pytest.raises(UsageError, match="file_sha256"):
        store.add_attestation("F.7", "ketua", "X", file_sha256="abc")
    with pytest.raises(UsageError, match="sop_id: 'G.1'"):
        store.add_attestation("G.1", "ketua", "X")
    with pytest.raises(UsageError, match="by_name"):
        store.add_attestation("F.7", "ketua", "")
    with pytest.raises(TypeError, match="file_size"):
        store.add_attestation("F.7", "ketua", "X", file_size="12")
    assert store.attestations() == []
