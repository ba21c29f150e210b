"""Item status rules (docs/report.md): one test per rule, on a real store filled through its API."""

from __future__ import annotations

import datetime as dt

import pytest

from sopctl.compliance.status import STATUSES, due_for, evaluate_month, previous_month, workflow_record_status
from sopctl.errors import UsageError

from .support import ALL_IDS, NOV_20, audit, result

C2 = ("ssh-failed-logins", "fail2ban-sshd-jail")


def status_of(catalog, store, item_id, month="2026-11", today=NOV_20, **kwargs):
    return evaluate_month(catalog, store, month, today, **kwargs).item(item_id)


# ------------------------------------------------------------------------------------------ auto items


def test_all_pass_is_compliant(catalog, store):
    audit(store, "2026-11", [result(c, h, "pass", ["C.2"]) for c in C2 for h in ("pc-01", "pc-02")])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "compliant"
    assert entry.hosts_passing == ["pc-01", "pc-02"] and entry.hosts_failing == []
    assert [(line.check_id, line.host) for line in entry.evidence] == [
        ("ssh-failed-logins", "pc-01"), ("ssh-failed-logins", "pc-02"),
        ("fail2ban-sshd-jail", "pc-01"), ("fail2ban-sshd-jail", "pc-02")]


def test_some_hosts_fail_is_partly(catalog, store):
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "pass", ["C.2"]),
                             result("ssh-failed-logins", "pc-02", "fail", ["C.2"], observed="40", expected="< 10"),
                             result("fail2ban-sshd-jail", "pc-02", "pass", ["C.2"])])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "partly"
    assert (entry.hosts_passing, entry.hosts_failing) == (["pc-01"], ["pc-02"])
    failing = [line for line in entry.evidence if line.status == "fail"]
    assert [(f.observed, f.expected, f.command) for f in failing] == [("40", "< 10", "probe ssh-failed-logins")]


def test_all_hosts_fail_is_non_compliant(catalog, store):
    audit(store, "2026-11", [result("ssh-failed-logins", h, "fail", ["C.2"]) for h in ("pc-01", "pc-02")])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "non-compliant" and entry.hosts_failing == ["pc-01", "pc-02"]


def test_one_host_failing_one_check_of_two_is_non_compliant_when_no_host_passes(catalog, store):
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "pass", ["C.2"]),
                             result("fail2ban-sshd-jail", "pc-01", "fail", ["C.2"])])
    assert status_of(catalog, store, "C.2").status == "non-compliant"


def test_active_waiver_makes_a_failure_waived_and_shows_it(catalog, store):
    store.add_waiver("ssh-failed-logins", "pc-0*", "scanner on the LAN", "Kasubag", "2026-12-31",
                     created_at="2026-11-01T00:00:00Z")
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "fail", ["C.2"]),
                             result("ssh-failed-logins", "srv-01", "pass", ["C.2"])])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "waived"
    assert entry.hosts_waived == ["pc-01"] and entry.hosts_failing == []
    line = next(line for line in entry.evidence if line.host == "pc-01")
    assert line.status == "waived"
    assert (line.waiver.reason, line.waiver.approved_by, line.waiver.expires, line.waiver.expired) == (
        "scanner on the LAN", "Kasubag", "2026-12-31", False)


def test_waiver_does_not_cover_other_hosts(catalog, store):
    store.add_waiver("ssh-failed-logins", "pc-01", "r", "a", "2026-12-31", created_at="2026-11-01T00:00:00Z")
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "fail", ["C.2"]),
                             result("ssh-failed-logins", "pc-02", "fail", ["C.2"])])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "partly"          # pc-01 waived counts as not failing; pc-02 fails
    assert entry.hosts_waived == ["pc-01"] and entry.hosts_failing == ["pc-02"]


def test_expired_waiver_is_a_failure_and_is_shown_expired(catalog, store):
    store.add_waiver("ssh-failed-logins", "all", "temporary", "Sekretaris", "2026-11-10",
                     created_at="2026-10-01T00:00:00Z")
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "fail", ["C.2"])])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "non-compliant"
    line = entry.evidence[0]
    assert line.status == "fail" and line.waiver.expired and line.waiver.expires == "2026-11-10"
    assert ("expired_waivers", {"count": 1}) in entry.reasons


def test_waiver_is_judged_on_the_report_day(catalog, store):
    """A past month is judged on its last day: a waiver that expired later still covered it."""
    store.add_waiver("ssh-failed-logins", "all", "r", "a", "2026-11-30", created_at="2026-10-01T00:00:00Z")
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "fail", ["C.2"])])
    assert status_of(catalog, store, "C.2", today=dt.date(2027, 1, 15)).status == "waived"


def test_revoked_waiver_no_longer_waives(catalog, store):
    waiver = store.add_waiver("ssh-failed-logins", "all", "r", "a", "2026-12-31", created_at="2026-10-01T00:00:00Z")
    store.revoke_waiver(waiver.id, by="ketua", at="2026-11-05T00:00:00Z")
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "fail", ["C.2"])])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "non-compliant" and entry.evidence[0].waiver is None


def test_error_makes_not_verified(catalog, store):
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "pass", ["C.2"]),
                             result("ssh-failed-logins", "pc-02", "error", ["C.2"], output="timed out")])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "not-verified" and entry.hosts_error == ["pc-02"]
    assert ("error_lines", {"errors": 1}) in entry.reasons


def test_failure_beside_an_error_is_non_compliant(catalog, store):
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "fail", ["C.2"]),
                             result("ssh-failed-logins", "pc-02", "error", ["C.2"])])
    assert status_of(catalog, store, "C.2").status == "non-compliant"


def test_failure_error_and_pass_is_partly(catalog, store):
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "fail", ["C.2"]),
                             result("ssh-failed-logins", "pc-02", "error", ["C.2"]),
                             result("ssh-failed-logins", "pc-03", "pass", ["C.2"])])
    assert status_of(catalog, store, "C.2").status == "partly"


def test_no_results_is_not_verified_never_compliant(catalog, store):
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "not-verified" and entry.evidence == [] and entry.reasons == [("no_results", {})]


def test_results_of_an_incomplete_or_failed_run_do_not_count(catalog, store):
    with pytest.raises(RuntimeError), store.run("audit", month="2026-11") as run:
        run.add_result("ssh-failed-logins", "pc-01", "pass", sop_ids=["C.2"])
        raise RuntimeError("killed")
    with store.run("audit", month="2026-11") as run:
        run.add_result("ssh-failed-logins", "pc-01", "pass", sop_ids=["C.2"])
        run.fail("inventory unreadable")
    assert status_of(catalog, store, "C.2").status == "not-verified"


def test_results_of_another_month_do_not_count(catalog, store):
    audit(store, "2026-10", [result("ssh-failed-logins", "pc-01", "pass", ["C.2"])])
    assert status_of(catalog, store, "C.2").status == "not-verified"


def test_newest_result_of_the_month_wins(catalog, store):
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "fail", ["C.2"])], at="2026-11-02T00:00:00Z")
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "pass", ["C.2"])], at="2026-11-09T00:00:00Z")
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "compliant" and entry.last_evidence == "2026-11-09T00:00:00.000Z"


def test_na_everywhere_is_na_and_na_beside_pass_is_compliant(catalog, store):
    audit(store, "2026-11", [result("backup-restore-test", h, "na", ["D.7"]) for h in ("pc-01", "pc-02")]
          + [result("ssh-failed-logins", "pc-01", "na", ["C.2"]), result("ssh-failed-logins", "pc-02", "pass", ["C.2"])])
    assert status_of(catalog, store, "D.7").status == "na"
    assert status_of(catalog, store, "C.2").status == "compliant"


def test_result_naming_the_item_in_sop_ids_counts_even_if_the_catalog_does_not_list_the_check(catalog, store):
    audit(store, "2026-11", [result("extra-ssh-audit", "pc-01", "fail", ["C.2"]),
                             result("ssh-failed-logins", "pc-01", "pass", ["C.2"])])
    entry = status_of(catalog, store, "C.2")
    assert entry.status == "non-compliant"
    assert [line.check_id for line in entry.evidence] == ["ssh-failed-logins", "extra-ssh-audit"]


def test_inventory_hosts_limit_results_and_list_unaudited_hosts(catalog, store):
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "pass", ["C.2"]),
                             result("ssh-failed-logins", "old-pc", "fail", ["C.2"])])
    report = evaluate_month(catalog, store, "2026-11", NOV_20, ["pc-01", "pc-02"])
    assert report.item("C.2").status == "compliant"
    assert report.header.hosts_not_audited == ("pc-02",)
    assert report.header.hosts_ignored == ("old-pc",)


# -------------------------------------------------------------------------------------- attestations


def test_yearly_attestation_within_365_days_is_compliant(catalog, store):
    store.add_attestation("A.1", "kasubag_ptip", "Budi", file_name="rencana.pdf", file_sha256="a" * 64,
                          file_size=10, attested_at="2026-01-05T02:00:00Z")
    entry = status_of(catalog, store, "A.1")
    assert entry.status == "compliant"
    line = entry.evidence[0]
    assert (line.kind, line.status, line.file_name, line.file_sha256, line.file_size, line.by_name, line.by_role) == (
        "attestation", "fresh", "rencana.pdf", "a" * 64, 10, "Budi", "kasubag_ptip")
    assert entry.last_evidence == "2026-01-05T02:00:00.000Z"


def test_stale_yearly_attestation_is_not_verified_and_shows_its_date(catalog, store):
    store.add_attestation("A.1", "kasubag_ptip", "Budi", attested_at="2025-10-01T02:00:00Z")
    entry = status_of(catalog, store, "A.1")
    assert entry.status == "not-verified"
    assert [(line.status, line.time) for line in entry.evidence] == [("stale", "2025-10-01T02:00:00.000Z")]
    assert entry.reasons == [("attest_stale", {"date": "2025-10-01T02:00:00.000Z", "window": "365 days"})]


def test_monthly_attestation_must_be_in_the_month(catalog, store):
    store.add_attestation("C.7", "operator", "Rahmat", attested_at="2026-10-28T02:00:00Z")
    assert status_of(catalog, store, "C.7").status == "not-verified"
    store.add_attestation("C.7", "operator", "Rahmat", attested_at="2026-11-02T02:00:00Z")
    assert status_of(catalog, store, "C.7").status == "compliant"


def test_attestation_after_the_report_day_does_not_count(catalog, store):
    store.add_attestation("A.1", "kasubag_ptip", "Budi", attested_at="2026-11-25T02:00:00Z")
    assert status_of(catalog, store, "A.1", today=NOV_20).status == "not-verified"


def test_attestation_month_is_local_time(catalog, store):
    """00:30 WITA on 1 November is 16:30 UTC on 31 October: it belongs to November."""
    store.add_attestation("C.7", "operator", "Rahmat", attested_at="2026-10-31T16:30:00Z")
    assert status_of(catalog, store, "C.7").status == "compliant"


def test_never_attested_is_not_verified(catalog, store):
    entry = status_of(catalog, store, "E.1")
    assert entry.status == "not-verified" and entry.reasons == [("attest_none", {})]


def test_checks_and_attestation_together(catalog, store):
    """C.4: network devices answer (checks) and the physical maintenance is attested."""
    audit(store, "2026-11", [result("host-reachable", "sw-01", "pass", ["C.4"])])
    assert status_of(catalog, store, "C.4").status == "not-verified"
    store.add_attestation("C.4", "operator", "Rahmat", attested_at="2026-11-05T02:00:00Z")
    entry = status_of(catalog, store, "C.4")
    assert entry.status == "compliant" and {line.kind for line in entry.evidence} == {"check", "attestation"}
    audit(store, "2026-11", [result("host-reachable", "sw-01", "fail", ["C.4"])])
    assert status_of(catalog, store, "C.4").status == "non-compliant"


# ----------------------------------------------------------------------------------- generated items


def test_generated_evidence_of_the_month_is_compliant(catalog, store):
    assert status_of(catalog, store, "C.1").status == "not-verified"
    audit(store, "2026-11", [], evidence=[("C.1", "generated", "Jadwal pemeliharaan", {"pages": 2})])
    entry = status_of(catalog, store, "C.1")
    assert entry.status == "compliant"
    assert [(line.kind, line.status, line.summary) for line in entry.evidence] == [
        ("generated", "present", "Jadwal pemeliharaan")]
    assert status_of(catalog, store, "C.1", month="2026-12", today=dt.date(2026, 12, 20)).status == "not-verified"


def test_generated_evidence_of_a_failed_run_does_not_count(catalog, store):
    with store.run("audit", month="2026-11") as run:
        run.add_evidence("C.9", "generated", "Rekap")
        run.fail("crashed")
    assert status_of(catalog, store, "C.9").status == "not-verified"


# ------------------------------------------------------------------------------------ workflow items


def record(store, sop_id, data, when="2026-11-03T01:00:00Z", kind="service-request"):
    store.add_evidence(sop_id, kind, f"record {data.get('record', '')}", data=data, time=when)


def test_workflow_without_records_is_not_verified(catalog, store):
    entry = status_of(catalog, store, "B.1")
    assert entry.status == "not-verified" and entry.reasons == [("workflow_none", {"workflow": "service-request"})]


def test_workflow_records_compliant(catalog, store):
    record(store, "B.1", {"record": "1", "status": "compliant", "detail": "hari ke 1"})
    record(store, "B.1", {"record": "2", "on_time": True})
    entry = status_of(catalog, store, "B.1")
    assert entry.status == "compliant"
    assert [(line.record, line.status, line.detail) for line in entry.evidence] == [
        ("1", "compliant", "hari ke 1"), ("2", "compliant", None)]


def test_workflow_records_some_late_is_partly_all_late_non_compliant(catalog, store):
    record(store, "B.2", {"record": "1", "on_time": False})
    assert status_of(catalog, store, "B.2").status == "non-compliant"
    record(store, "B.2", {"record": "2", "status": "compliant"})
    assert status_of(catalog, store, "B.2").status == "partly"


def test_workflow_newest_row_per_record_wins(catalog, store):
    record(store, "B.3", {"record": "7", "status": "non-compliant"}, when="2026-11-03T01:00:00Z")
    record(store, "B.3", {"record": "7", "status": "compliant"}, when="2026-11-04T01:00:00Z")
    entry = status_of(catalog, store, "B.3")
    assert entry.status == "compliant" and len(entry.evidence) == 1


def test_workflow_record_without_status_is_not_verified(catalog, store):
    record(store, "B.4", {"record": "1", "status": "compliant"})
    record(store, "B.4", {"record": "2", "detail": "?"})
    entry = status_of(catalog, store, "B.4")
    assert entry.status == "not-verified" and ("workflow_invalid", {"invalid": 1}) in entry.reasons


def test_workflow_only_na_records_is_na(catalog, store):
    record(store, "D.2", {"status": "na", "detail": "no application implemented"}, kind="uat-run")
    assert status_of(catalog, store, "D.2").status == "na"


def test_workflow_reads_only_its_own_kind(catalog, store):
    record(store, "F.6", {"status": "compliant"}, kind="service-request")
    entry = status_of(catalog, store, "F.6")
    assert entry.status == "not-verified"
    assert [(line.kind, line.status) for line in entry.evidence] == [("record", "info")]
    record(store, "F.6", {"status": "compliant"}, kind="incident")
    assert status_of(catalog, store, "F.6").status == "compliant"


@pytest.mark.parametrize("data, expected", [
    ({"status": "compliant"}, "compliant"), ({"status": "non-compliant"}, "non-compliant"),
    ({"status": "na"}, "na"), ({"on_time": True}, "compliant"), ({"on_time": False}, "non-compliant"),
    ({"status": "done"}, "invalid"), ({"on_time": "yes"}, "invalid"), (None, "invalid"), ([1], "invalid"),
])
def test_workflow_record_contract(data, expected):
    assert workflow_record_status(data) == expected


# --------------------------------------------------------------------------------------- due dates


def test_due_dates_follow_cadence_and_time_standard(catalog):
    assert due_for(catalog.item("C.2"), "2026-11").date == dt.date(2026, 11, 30)
    assert due_for(catalog.item("C.2"), "2027-02").date == dt.date(2027, 2, 28)   # "30 Setiap Bulan" in February
    assert due_for(catalog.item("C.2"), "2028-02").date == dt.date(2028, 2, 29)
    assert due_for(catalog.item("D.1"), "2026-12").date == dt.date(2026, 12, 31)  # monthly, no deadline day
    yearly = due_for(catalog.item("A.1"), "2026-11")
    assert (yearly.kind, yearly.date) == ("year", dt.date(2026, 12, 31))
    per_request = due_for(catalog.item("B.2"), "2026-11")
    assert (per_request.kind, per_request.date, per_request.time_text) == ("record", None, "Hari ke 1")


def test_overdue_only_after_the_due_date_and_only_when_not_done(catalog, store):
    assert not status_of(catalog, store, "C.2", today=NOV_20).due.overdue
    assert status_of(catalog, store, "C.2", today=dt.date(2026, 12, 1)).due.overdue
    audit(store, "2026-11", [result("ssh-failed-logins", "pc-01", "pass", ["C.2"])])
    assert not status_of(catalog, store, "C.2", today=dt.date(2026, 12, 1)).due.overdue


# ------------------------------------------------------------------------------------- whole report


def test_every_item_once_in_sop_order_with_a_known_status(catalog, store):
    report = evaluate_month(catalog, store, "2026-11", NOV_20)
    assert [entry.id for entry in report.items] == ALL_IDS
    assert {entry.status for entry in report.items} <= set(STATUSES)
    assert {entry.status for entry in report.items} == {"not-verified"}   # empty store: nothing is proven


def test_header_run_times_and_performers(catalog, store):
    audit(store, "2026-11", [result("uptime", "srv-01", "pass", ["C.5"])], who="rahmat")
    audit(store, "2026-11", [result("uptime", "srv-01", "pass", ["C.5"])], who="budi", inventory="inv/b.yml")
    runs = store.runs(month="2026-11")
    header = evaluate_month(catalog, store, "2026-11", NOV_20, generated_at="2026-11-20T01:02:03Z").header
    assert header.runs == 2 and header.performed_by == ("budi", "rahmat")
    assert header.first_run == runs[0].started_at and header.last_run == runs[1].finished_at
    assert header.inventory_files == ("inv/b.yml", "inventory/office.yml")
    assert header.generated_at == "2026-11-20T01:02:03Z" and header.as_of == NOV_20
    assert header.sop.number == "SOP/AS/32"


def test_month_is_validated_and_previous_month_wraps_the_year():
    with pytest.raises(UsageError):
        evaluate_month(None, None, "2026-13", NOV_20)
    assert previous_month("2026-01") == "2025-12"


def test_maintain_step_runs_are_not_counted_as_runs(catalog, store):
    """A maintain step's own store run is bookkeeping for resuming; the audit inside it is the run."""
    with store.run("maintain-audit", who="rahmat", month="2026-11"):
        audit(store, "2026-11", [result("uptime", "srv-01", "pass", ["C.5"])], who="rahmat")
    header = evaluate_month(catalog, store, "2026-11", NOV_20).header
    assert header.runs == 1 and header.performed_by == ("rahmat",)
    assert [r.step for r in store.runs(month="2026-11")] == ["audit", None]  # oldest first
