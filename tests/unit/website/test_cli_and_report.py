"""The tasks end to end (real processes, a real store, real local websites) and the F.5 situation report."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json

import pytest
import yaml

from sopctl.compliance.status import evaluate_month
from sopctl.store import Store
from sopctl.website import checks as wc
from sopctl.website import report as wr
from sopctl.website.accesslog import Summary
from sopctl.website.config import parse_website
from sopctl.website.incidents import Incidents

from .cli import sopctl
from .loggen import generate
from .servers import Route, Site, http_date, make_cert, sitemap

UTC = _dt.timezone.utc
NOW = _dt.datetime.now(UTC)
DAY = _dt.timedelta(days=1)


def this_month() -> str:
    """The current month in the test's time zone (WITA, set by the autouse fixture)."""
    return _dt.datetime.now().astimezone().strftime("%Y-%m")


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-certs")
    good = make_cert(folder, "good", NOW - 10 * DAY, NOW + 200 * DAY)
    expired = make_cert(folder, "expired", NOW - 400 * DAY, NOW - 3 * DAY)
    page = Route(headers={"Last-Modified": http_date(NOW - DAY)})
    servers = {
        "fresh": (Site({"/": page, "/sitemap.xml": Route(body=sitemap((NOW - DAY).isoformat()))}, good), good),
        "expired": (Site({"/": page, "/sitemap.xml": Route(body=sitemap((NOW - DAY).isoformat()))}, expired), expired),
    }
    yield servers
    for server, _ in servers.values():
        server.close()


@pytest.fixture
def inventory(tmp_path, sites):
    websites = [{"name": name, "url": server.url, "ca_file": str(cert[0]), "timeout": 5,
                 "domain_expires": str((NOW + 300 * DAY).date()), "hosting_expires": str((NOW + 100 * DAY).date())}
                for name, (server, cert) in sites.items()]
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"vars": {"websites": websites}, "hosts": {"srv-web": None}}}))
    return path


def test_website_check_task_stores_a_run_and_exits_1_on_failures(inventory, tmp_path, catalog):
    MONTH = this_month()
    db = tmp_path / "var" / "sopctl.db"
    done = sopctl("website.check", "-i", str(inventory), "--store", str(db), "--json")
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    status = {(r["website"], r["check"]): r["status"] for r in out["results"]}
    assert status[("fresh", "website-available")] == "pass"
    assert status[("expired", "website-tls-valid")] == "fail"
    assert "failing or unverifiable website checks: expired" in done.stderr
    with Store.open(db) as store:
        run = store.get_run(out["run"])
        assert (run.kind, run.status) == ("website", "complete")
        assert run.meta["facts"]["fresh"]["available"]["status"] == 200
        report = evaluate_month(catalog, store, MONTH, NOW.astimezone().date())
    assert report.item("F.1").status == "partly"
    ok = sopctl("website.check", "-i", str(inventory), "--store", str(db), "--name", "fresh")
    assert ok.returncode == 0, ok.stderr
    assert "1 website(s), 4 pass, 0 fail, 0 error" in ok.stdout
    bad = sopctl("website.check", "-i", str(inventory), "--store", str(db), "--name", "nope")
    assert bad.returncode == 2 and "no such website" in bad.stderr


def test_request_tasks_record_steps_and_refuse_out_of_order(tmp_path, catalog):
    db = str(tmp_path / "var" / "sopctl.db")
    new = sopctl("request.new", "--from", "Budi Santoso", "--unit", "Kepaniteraan", "--need", "printer rusak",
                 "--by", "operator", "--at", "2026-11-10 09:00", "--store", db)
    assert new.returncode == 0, new.stderr
    assert new.stdout.startswith("request 1: received 2026-11-10 09:00 from Budi Santoso")
    route = sopctl("request.route", "--id", "1", "--by", "Kasubag", "--at", "2026-11-10 10:00", "--store", db)
    assert "request 1: routed 2026-11-10 10:00 by Kasubag — B.2 on time" in route.stdout
    wrong = sopctl("request.approve", "--id", "1", "--by", "Ketua", "--at", "2026-11-10 11:00", "--store", db)
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == ("sopctl: error: request 1: cannot approve before it is verified "
                                    "(current step: routed)")
    for step, when in (("verify", "2026-11-11 09:00"), ("consider", "2026-11-12 09:00"),
                       ("approve", "2026-11-12 10:00"), ("done", "2026-11-12 11:00")):
        done = sopctl(f"request.{step}", "--id", "1", "--by", "x", "--at", when, "--store", db)
        assert done.returncode == 0, done.stderr
    assert "B.4 LATE by 1 working day(s)" in sopctl("request.show", "--id", "1", "--store", db).stdout
    listed = json.loads(sopctl("request.list", "--month", "2026-11", "--json", "--store", db).stdout)
    assert listed["items"]["B.4"] == {"on-time": 0, "late": 1, "pending": 0, "overdue": 0, "na": 0}
    assert listed["requests"][0]["state"] == "done"
    with Store.open(db) as store:
        report = evaluate_month(catalog, store, "2026-11", _dt.date(2026, 11, 30))
    assert report.item("B.3").status == "compliant" and report.item("B.4").status == "non-compliant"


def test_holidays_from_the_project_file(tmp_path):
    root = tmp_path / "project"
    (root / "inventory").mkdir(parents=True)
    (root / "tasks.py").write_text("")
    (root / "inventory" / "holidays.yml").write_text("- 2026-11-16\n")
    db = str(root / "var" / "sopctl.db")
    sopctl("request.new", "--from", "A", "--unit", "U", "--need", "N", "--at", "2026-11-13 15:00", "--store", db,
           cwd=root)
    done = sopctl("request.route", "--id", "1", "--at", "2026-11-13 16:00", "--store", db, cwd=root)
    verify = sopctl("request.verify", "--id", "1", "--at", "2026-11-17 09:00", "--store", db, cwd=root)
    assert done.returncode == 0 and verify.returncode == 0, verify.stderr
    assert "B.3 on time (working day 2, due by day 2" in verify.stdout


def test_incident_tasks(tmp_path, inventory):
    db = str(tmp_path / "var" / "sopctl.db")
    opened = sopctl("incident.open", "--site", "fresh", "--problem", "situs lambat", "--by", "provider",
                    "--at", "2026-11-10 08:00", "-i", str(inventory), "--store", db)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.startswith("incident 1: opened 2026-11-10 08:00 on fresh (handled by provider)")
    unknown = sopctl("incident.open", "--site", "nope", "--problem", "x", "-i", str(inventory), "--store", db)
    assert unknown.returncode == 2 and "no such website" in unknown.stderr
    step = sopctl("incident.update", "--id", "1", "--step", "cache dibersihkan", "--by", "admin",
                  "--at", "2026-11-10 09:00", "--store", db)
    assert "F.6 on-time (1 hour(s), limit 2 hour(s))" in step.stdout
    closed = sopctl("incident.close", "--id", "1", "--by", "provider", "--at", "2026-11-14 09:00", "--store", db)
    assert "F.7 late (4 day(s) 1 hour(s), limit 3 day(s))" in closed.stdout
    listed = json.loads(sopctl("incident.list", "--json", "--store", db).stdout)
    assert listed[0]["F.7"]["state"] == "late" and listed[0]["handled_by"] == "provider"


def test_the_situation_report_and_its_f5_evidence(tmp_path, sites, inventory, catalog):
    MONTH = this_month()
    db = tmp_path / "var" / "sopctl.db"
    configured = [parse_website({"name": n, "url": s.url, "ca_file": str(c[0]), "timeout": 5,
                                 "domain_expires": str((NOW + 20 * DAY).date()), "hosting_expires": None})
                  for n, (s, c) in sites.items()]
    lines, expected = generate(MONTH, 5000, seed=7)
    summary = Summary(MONTH)
    summary.feed_block(b"".join(lines))
    summary.end_file()
    with Store.open(db) as store:
        wc.store_checks(store, wc.check_sites(configured))
        outcome = wc.Outcome(wc.ACCESS, "fresh", "pass", summary.observed(), "read",
                             data={"website": "fresh", **summary.to_dict()})
        wc.store_access(store, MONTH, [(outcome, summary)])
        incidents = Incidents(store)
        incidents.open("fresh", "halaman <b>berita</b> | error", at=NOW.astimezone() - _dt.timedelta(hours=5))
        view = wr.build_view(store, MONTH, "id", sites=configured)
        md = wr.render(view, "md")
        html = wr.render(wr.build_view(store, MONTH, "en", sites=configured), "html")
        assert evaluate_month(catalog, store, MONTH, NOW.astimezone().date()).item("F.3").status == "compliant"
    assert md.startswith("# Laporan Situasi dan Kondisi Website")
    assert "| fresh |" in md and "100,0%" in md
    assert f"| Jumlah permintaan (hit) | {expected.requests:,} |".replace(",", ".") in md
    assert f"| Pengunjung unik (alamat IP) | {len(expected.visitors):,} |".replace(",", ".") in md
    assert "expired: sertifikat TLS tidak valid (NOT valid: certificate has expired" in md
    assert "Perpanjang atau pasang ulang sertifikat" in md
    assert "| Sertifikat TLS | " in md and "| sudah berakhir |" in md and "| 30 hari |" in md
    left = ((NOW + 20 * DAY).date() - _dt.datetime.now().astimezone().date()).days
    assert "Domain berakhir" in md and f"({left} hari lagi)" in md
    assert "halaman &lt;b&gt;berita&lt;/b&gt; \\| error" in md                # escaped in a table cell
    assert "Insiden #1 (fresh) belum selesai" in md
    assert html.startswith("<!DOCTYPE html>") and "Website Situation Report" in html
    assert "halaman &lt;b&gt;berita&lt;/b&gt;" in html and "<b>berita" not in html
    out = tmp_path / "laporan.md"
    done = sopctl("website.report", "--month", MONTH, "--out", str(out), "-i", str(inventory), "--store", str(db))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    with Store.open(db) as store:
        evidence = [e for e in store.evidence_for("F.5", MONTH) if e.kind == "generated"]
        assert evidence and evidence[-1].sha256 == hashlib.sha256(text.encode()).hexdigest()
        assert evaluate_month(catalog, store, MONTH, NOW.astimezone().date()).item("F.5").status == "compliant"
    en = sopctl("website.report", "--month", MONTH, "--lang", "en", "--format", "html", "-i", str(inventory),
                "--store", str(db))
    assert en.returncode == 0 and "website-report-" in en.stdout and ".html" in en.stdout
