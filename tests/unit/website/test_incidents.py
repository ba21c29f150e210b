"""Website incidents (F.6: first step within 2 hours; F.7: solved within 3 days) and the report's view."""

from __future__ import annotations

import datetime as _dt

import pytest

from sopctl.compliance.status import evaluate_month
from sopctl.errors import UsageError
from sopctl.website.incidents import Incidents, duration_text, minutes_from_catalog
from tests.fixtures import at

MONTH = "2026-11"


@pytest.fixture
def incidents(store, catalog):
    return Incidents(store, minutes=minutes_from_catalog(catalog))


def newest(store, item, record):
    rows = [r for r in store.evidence_for(item, MONTH) if r.data.get("record") == record]
    return rows[-1].data if rows else None


def test_time_standards_from_the_catalog(catalog):
    assert minutes_from_catalog(catalog) == {"F.6": 120, "F.7": 4320}
    assert duration_text(4320) == "3 hari" and duration_text(95) == "1 jam 35 menit"
    assert duration_text(1500, "en") == "1 day(s) 1 hour(s)"


def test_quick_steps_and_a_solution_within_three_days(incidents, store, clock, catalog):
    inc = incidents.open("pa-batulicin", "situs tidak bisa diakses", handled_by="provider", by="admin",
                         at="2026-11-10 08:00", now=clock())
    assert newest(store, "F.6", inc.id) is None                    # nothing decided yet
    incidents.update(inc.id, "lapor ke provider", by="admin", at="2026-11-10 08:40", now=clock())
    incidents.update(inc.id, "server di-restart", by="provider", at="2026-11-10 13:00", now=clock())
    closed = incidents.close(inc.id, by="provider", at="2026-11-12 07:00", resolution="disk penuh dibersihkan",
                             now=clock())
    f6, f7 = newest(store, "F.6", inc.id), newest(store, "F.7", inc.id)
    assert (f6["status"], f6["minutes"]) == ("compliant", 40.0)
    assert "langkah pertama 40 menit setelah dibuka (batas 2 jam): lapor ke provider" in f6["detail"]
    assert (f7["status"], f7["minutes"]) == ("compliant", 47 * 60.0)
    assert "selesai dalam 1 hari 23 jam (batas 3 hari)" in f7["detail"]
    assert [s.step for s in closed.steps] == ["lapor ke provider", "server di-restart"]
    report = evaluate_month(catalog, store, MONTH, _dt.date(2026, 11, 30))
    assert (report.item("F.6").status, report.item("F.7").status) == ("compliant", "compliant")


def test_late_first_step_late_solution_and_a_forgotten_incident(incidents, store, clock, catalog):
    slow = incidents.open("pa-batulicin", "sertifikat kedaluwarsa", at="2026-11-03 09:00", now=clock())
    incidents.update(slow.id, "cek sertifikat", by="admin", at="2026-11-03 13:30", now=clock())
    incidents.close(slow.id, by="admin", at="2026-11-07 10:00", now=clock())
    quick = incidents.open("pa-batulicin", "halaman berita error 500", at="2026-11-20 10:00", now=clock())
    incidents.close(quick.id, by="admin", at="2026-11-20 10:45", resolution="plugin diperbarui", now=clock())
    forgotten = incidents.open("sipp", "lambat", at="2026-11-21 09:00", now=clock())
    assert incidents.sweep(now=clock()) == [(forgotten.id, "F.6"), (forgotten.id, "F.7")]
    assert incidents.sweep(now=clock()) == []
    assert newest(store, "F.6", slow.id)["status"] == "non-compliant"
    assert newest(store, "F.7", slow.id)["status"] == "non-compliant"
    assert newest(store, "F.6", quick.id)["status"] == "compliant"            # closing is the first step
    assert newest(store, "F.7", forgotten.id)["detail"].startswith("belum selesai sampai 3 hari")
    report = evaluate_month(catalog, store, MONTH, _dt.date(2026, 11, 30))
    assert (report.item("F.6").status, report.item("F.7").status) == ("partly", "partly")
    state = incidents.state(incidents.get(forgotten.id), now=at("2026-11-28 12:00"))
    assert state == {"F.6": {"state": "overdue", "minutes": None}, "F.7": {"state": "overdue", "minutes": None}}


def test_order_and_party_are_checked(incidents, clock):
    inc = incidents.open("pa-batulicin", "x", at="2026-11-20 10:00", now=clock())
    with pytest.raises(UsageError, match="before it was opened"):
        incidents.update(inc.id, "y", by="admin", at="2026-11-20 09:00", now=clock())
    incidents.close(inc.id, by="admin", at="2026-11-20 11:00", now=clock())
    with pytest.raises(UsageError, match=f"incident {inc.id}: already closed on 2026-11-20 11:00 by admin"):
        incidents.update(inc.id, "z", by="admin", now=clock())
    with pytest.raises(UsageError, match="use admin"):
        incidents.open("pa-batulicin", "x", handled_by="vendor", now=clock())
    with pytest.raises(UsageError, match="--step is required"):
        incidents.update(inc.id, "", by="admin", now=clock())


def test_a_month_without_incidents(incidents, store, catalog):
    assert incidents.close_month("2026-10", now=at("2026-11-01 08:00"))
    report = evaluate_month(catalog, store, "2026-10", _dt.date(2026, 10, 31))
    assert (report.item("F.6").status, report.item("F.7").status) == ("na", "na")
