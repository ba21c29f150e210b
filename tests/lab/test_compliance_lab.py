"""Audit and report on the lab: a broken host turns C.3 non-compliant with the observed value; a waiver
turns it to waived and its expiry turns it back; an attestation makes A.1 compliant until it ages out."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from sopctl.compliance.catalog import load_catalog
from sopctl.compliance.status import evaluate_month
from sopctl.store import Store
from tests.helpers import REPO, sopctl, ssh_run

CHECKS = "shadow-permissions,passwd-permissions,sshd-permit-root-login,host-reachable"


@pytest.fixture
def broken_shadow(lab):
    before = ssh_run(lab, "pc-02", "stat -c %a /etc/shadow").strip()
    ssh_run(lab, "pc-02", "chmod 0644 /etc/shadow")
    yield
    ssh_run(lab, "pc-02", f"chmod {before} /etc/shadow")


def _audit(lab, store, *extra):
    return sopctl("audit", "-i", str(lab.inventory), "--store", str(store), "--checks", CHECKS, *extra)


def _report(store, month, lang="en"):
    done = sopctl("report", "--month", month, "--format", "json", "--lang", lang, "--store", str(store))
    assert done.returncode == 0, done.stderr
    return {item["id"]: item for item in json.loads(done.stdout)["items"]}


def test_broken_host_waiver_and_attestation(lab, tmp_path, broken_shadow):
    store = tmp_path / "sopctl.db"
    today = dt.date.today()
    month = today.strftime("%Y-%m")

    done = _audit(lab, store, "--json")
    assert done.returncode == 1  # a failing check is a failing audit
    results = json.loads(done.stdout)
    shadow = {r["host"]: r for r in results if r["check"] == "shadow-permissions"}
    assert shadow["pc-02"]["status"] == "fail" and "mode=0644" in shadow["pc-02"]["observed"]
    assert all(r["status"] == "pass" for h, r in shadow.items() if h != "pc-02")
    assert {r["host"] for r in results if r["check"] == "host-reachable" and r["status"] == "pass"} == {
        h.name for h in lab.hosts}

    items = _report(store, month)
    assert len(items) == 40
    c3 = items["C.3"]
    assert c3["status"] == "partly" and c3["hosts_failing"] == ["pc-02"]
    assert any("mode=0644" in (e.get("observed") or "") for e in c3["evidence"])
    c4 = items["C.4"]  # every host answered, but the physical network care needs a person's attestation too
    assert c4["hosts_failing"] == [] and len(c4["hosts_passing"]) == len(lab.hosts)
    assert c4["status"] == "not-verified"
    assert items["A.1"]["status"] == "not-verified"

    tomorrow = today + dt.timedelta(days=1)
    done = sopctl("waive", "shadow-permissions", "--hosts", "pc-02", "--reason", "legacy app reads shadow",
                  "--approved-by", "Kasubag PTIP", "--expires", tomorrow.isoformat(), "--store", str(store))
    assert done.returncode == 0, done.stderr
    items = _report(store, month)
    assert items["C.3"]["status"] == "waived"
    waived = [e for e in items["C.3"]["evidence"] if e.get("host") == "pc-02" and e.get("status") == "waived"]
    assert waived and "legacy app reads shadow" in json.dumps(waived)

    catalog = load_catalog(REPO / "checks" / "sop.yml")
    with Store.open(store) as db:  # the day after expiry, the waiver no longer covers the failure
        later = evaluate_month(catalog, db, month, tomorrow + dt.timedelta(days=1))
    assert later.item("C.3").status == "partly"

    evidence = tmp_path / "rencana-program-2026.pdf"
    evidence.write_bytes(b"%PDF-1.4 programme plan")
    done = sopctl("attest", "A.1", "--evidence", str(evidence), "--by", "kasubag_ptip", "--name", "Budi",
                  "--store", str(store))
    assert done.returncode == 0, done.stderr
    items = _report(store, month, lang="id")
    assert items["A.1"]["status"] == "compliant"
    assert items["A.1"]["title_id"].startswith("Merencanakan program pengembangan SDM")
    later_day = today + dt.timedelta(days=400)
    with Store.open(store) as db:  # a yearly item: stale in a report more than a year later
        aged = evaluate_month(catalog, db, later_day.strftime("%Y-%m"), later_day)
    assert aged.item("A.1").status == "not-verified"


def test_report_in_every_format_and_language(lab, tmp_path):
    store = tmp_path / "sopctl.db"
    assert _audit(lab, store).returncode in (0, 1)
    month = dt.date.today().strftime("%Y-%m")
    for fmt in ("table", "md", "html", "json", "csv", "junit"):
        for lang in ("id", "en"):
            out = tmp_path / f"report.{lang}.{fmt}"
            done = sopctl("report", "--month", month, "--format", fmt, "--lang", lang, "--store", str(store),
                          "--out", str(out))
            assert done.returncode == 0, done.stderr
            assert out.stat().st_size > 1000 and "C.3" in out.read_text()
