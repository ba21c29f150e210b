"""The service-request register: on time, late across a weekend and a holiday, rejected, out of order,
overdue; then the compliance report's B items from the evidence rows it wrote."""

from __future__ import annotations

import datetime as _dt

import pytest

from sopctl.compliance.status import evaluate_month
from sopctl.errors import UsageError
from sopctl.requests_register import Register, WorkCalendar, days_from_catalog
from tests.fixtures import at

HOLIDAY = _dt.date(2026, 11, 16)     # a Monday
MONTH = "2026-11"
REPORT_DAY = _dt.date(2026, 11, 30)


@pytest.fixture
def register(store, catalog):
    return Register(store, WorkCalendar({HOLIDAY: "Cuti bersama"}), days=days_from_catalog(catalog))


def run(register, clock, steps, *, new):
    """Register a request and take `steps` [(action, time)], each recorded at the next clock tick."""
    request = register.new(*new[:3], by="operator", at=new[3], now=clock())
    for action, when in steps:
        request = register.act(request.id, action, by=f"{action}-person", at=when, now=clock())
    return request


def on_time(register, clock):
    return run(register, clock, [("route", "2026-11-10 14:00"), ("verify", "2026-11-11 10:00"),
                                 ("consider", "2026-11-11 11:00"), ("approve", "2026-11-11 13:00"),
                                 ("done", "2026-11-11 16:00")],
               new=("Budi Santoso", "Kepaniteraan", "printer ruang sidang rusak", "2026-11-10 09:00"))


def across_weekend_and_holiday(register, clock):
    """Received Friday afternoon; Saturday, Sunday and the Monday holiday are no working days."""
    return run(register, clock, [("route", "2026-11-16 10:00"),          # holiday: after day 1 (Friday) -> late
                                 ("verify", "2026-11-17 09:00"),         # Tuesday = working day 2 -> on time
                                 ("consider", "2026-11-17 15:00"),       # on time
                                 ("approve", "2026-11-18 10:00"),        # day 3 -> late
                                 ("done", "2026-11-19 16:00")],          # day 4 -> late by 2
               new=("Siti Aminah", "Kesekretariatan", "akun SIKEP terkunci", "2026-11-13 15:00"))


def rejected(register, clock):
    return run(register, clock, [("route", "2026-11-18 09:00"), ("verify", "2026-11-19 09:00"),
                                 ("consider", "2026-11-19 10:00"), ("reject", "2026-11-19 11:00")],
               new=("Rahmat", "Umum & Keuangan", "laptop baru untuk pribadi", "2026-11-18 08:00"))


def newest(store, item, record):
    rows = [r for r in store.evidence_for(item, MONTH) if r.data.get("record") == record]
    return rows[-1].data


def test_a_request_handled_on_time_is_compliant_everywhere(register, clock, store, catalog):
    request = on_time(register, clock)
    assert request.state == "done"
    for item in ("B.1", "B.2", "B.3", "B.4", "B.5", "B.6"):
        data = newest(store, item, request.id)
        assert data["status"] == "compliant", (item, data)
        assert data["record"] == request.id and data["due"] and data["done"] and data["by"]
    assert "tepat waktu: hari kerja ke-2, batas hari ke-2" in newest(store, "B.6", request.id)["detail"]
    report = evaluate_month(catalog, store, MONTH, REPORT_DAY)
    assert {i: report.item(i).status for i in ("B.1", "B.2", "B.3", "B.4", "B.5", "B.6")} == dict.fromkeys(
        ("B.1", "B.2", "B.3", "B.4", "B.5", "B.6"), "compliant")


def test_working_days_decide_across_a_weekend_and_a_holiday(register, clock, store):
    request = across_weekend_and_holiday(register, clock)
    status = {i: newest(store, i, request.id)["status"] for i in ("B.1", "B.2", "B.3", "B.4", "B.5", "B.6")}
    assert status == {"B.1": "compliant", "B.2": "non-compliant", "B.3": "compliant", "B.4": "compliant",
                      "B.5": "non-compliant", "B.6": "non-compliant"}
    done = newest(store, "B.6", request.id)
    assert done["day"] == 4 and done["allowed_day"] == 2
    assert "terlambat 2 hari kerja" in done["detail"]
    assert "2026-11-14 Saturday, 2026-11-15 Sunday, 2026-11-16 holiday Cuti bersama" in done["detail"]
    assert done["due"].startswith("2026-11-17T23:59:59")


def test_without_the_holiday_the_same_tuesday_is_late(store, catalog, clock):
    plain = Register(store, WorkCalendar(), days=days_from_catalog(catalog))
    request = across_weekend_and_holiday(plain, clock)
    assert newest(store, "B.3", request.id)["status"] == "non-compliant"          # Tuesday is day 3 now


def test_a_rejected_request(register, clock, store):
    request = rejected(register, clock)
    assert request.state == "rejected"
    assert newest(store, "B.5", request.id)["status"] == "compliant"              # the decision was on time
    b6 = newest(store, "B.6", request.id)
    assert b6["status"] == "na" and "ditolak" in b6["detail"]
    with pytest.raises(UsageError, match=r"request \d+: was rejected on 2026-11-19 11:00 by reject-person; "
                                         r"it cannot be done \(current step: rejected\)"):
        register.act(request.id, "done", by="x", at="2026-11-20 09:00", now=clock())
    with pytest.raises(UsageError, match="it cannot be approved"):
        register.act(request.id, "approve", by="x", at="2026-11-20 09:00", now=clock())


def test_steps_out_of_order_are_refused_with_the_reason(register, clock):
    request = run(register, clock, [("route", "2026-11-20 10:00")],
                  new=("Ani", "Kepaniteraan", "scanner", "2026-11-20 09:00"))
    n = request.id
    with pytest.raises(UsageError) as error:
        register.act(n, "approve", by="ketua", at="2026-11-20 11:00", now=clock())
    assert str(error.value) == f"request {n}: cannot approve before it is verified (current step: routed)"
    with pytest.raises(UsageError, match=f"request {n}: cannot complete before it is verified"):
        register.act(n, "done", by="op", at="2026-11-20 11:00", now=clock())
    with pytest.raises(UsageError, match=f"request {n}: already routed on 2026-11-20 10:00 by route-person"):
        register.act(n, "route", by="op", at="2026-11-20 11:00", now=clock())
    with pytest.raises(UsageError, match=f"request {n}: cannot be verified at 2026-11-20 09:30, before it was "
                                         r"routed \(2026-11-20 10:00\)"):
        register.act(n, "verify", by="op", at="2026-11-20 09:30", now=clock())
    register.act(n, "verify", by="op", at="2026-11-20 12:00", now=clock())
    register.act(n, "consider", by="op", at="2026-11-20 13:00", now=clock())
    register.act(n, "approve", by="op", at="2026-11-20 14:00", now=clock())
    with pytest.raises(UsageError, match=r"already decided \(approved\) on 2026-11-20 14:00"):
        register.act(n, "reject", by="op", at="2026-11-20 15:00", now=clock())
    with pytest.raises(UsageError, match="no such request"):
        register.act(9999, "route", by="op", now=clock())
    assert [s.action for s in register.get(n).steps] == ["receive", "route", "verify", "consider", "approve"]


def test_overdue_steps_are_recorded_and_a_late_step_replaces_the_overdue_row(register, clock, store):
    request = run(register, clock, [("route", "2026-11-19 10:00")],
                  new=("Dewi", "Hukum", "akses e-court", "2026-11-19 08:00"))
    written = register.sweep(now=clock())
    assert written == [(request.id, item) for item in ("B.3", "B.4", "B.5", "B.6")]
    assert register.sweep(now=clock()) == []                                    # once per step
    overdue = newest(store, "B.3", request.id)
    assert overdue["status"] == "non-compliant" and overdue["overdue"] is True
    assert "belum diverifikasi sampai batas hari ke-2" in overdue["detail"]
    register.act(request.id, "verify", by="op", at="2026-11-23 09:00", now=clock())
    late = newest(store, "B.3", request.id)
    assert late["status"] == "non-compliant" and "overdue" not in late and late["day"] == 3


def test_the_report_lists_the_requests_that_missed_each_item(register, clock, store, catalog):
    good = on_time(register, clock)
    slow = across_weekend_and_holiday(register, clock)
    no = rejected(register, clock)
    report = evaluate_month(catalog, store, MONTH, REPORT_DAY)
    status = {i: report.item(i).status for i in ("B.1", "B.2", "B.3", "B.4", "B.5", "B.6")}
    assert status == {"B.1": "compliant", "B.2": "partly", "B.3": "compliant", "B.4": "compliant",
                      "B.5": "partly", "B.6": "partly"}
    b6 = report.item("B.6")
    records = {line.record: line.status for line in b6.evidence if line.kind == "workflow"}
    assert records == {str(good.id): "compliant", str(slow.id): "non-compliant", str(no.id): "na"}
    late = [line for line in b6.evidence if line.status == "non-compliant"][0]
    assert "terlambat" in late.detail and "Siti Aminah" in late.summary


def test_a_month_without_requests_is_recorded_as_not_applicable(register, store, catalog, clock):
    assert register.close_month("2026-10", now=at("2026-11-02 08:00"))
    assert not register.close_month("2026-10", now=at("2026-11-02 08:00"))      # once
    report = evaluate_month(catalog, store, "2026-10", _dt.date(2026, 10, 31))
    assert all(report.item(i).status == "na" for i in ("B.1", "B.2", "B.3", "B.4", "B.5", "B.6"))
    with pytest.raises(UsageError, match="not over yet"):
        register.close_month("2026-11", now=at("2026-11-28 08:00"))
    on_time(register, clock)
    assert not register.close_month("2026-11", now=at("2026-12-01 08:00"))      # it had a request


def test_received_before_registered_times_b1(register, clock, store):
    late = register.new("Yusuf", "PTSP", "jaringan putus", by="op", at="2026-11-23 09:00",
                        received="2026-11-19 15:00", now=clock())
    b1 = newest(store, "B.1", late.id)
    assert b1["status"] == "non-compliant" and b1["day"] == 3
    with pytest.raises(UsageError, match="after --at"):
        register.new("Y", "PTSP", "x", at="2026-11-19 09:00", received="2026-11-20 09:00", now=clock())
    with pytest.raises(UsageError, match="--unit is required"):
        register.new("Y", " ", "x", now=clock())


def test_time_standards_come_from_the_catalog(catalog):
    assert days_from_catalog(catalog) == {"B.1": 1, "B.2": 1, "B.3": 2, "B.4": 2, "B.5": 2, "B.6": 2}
