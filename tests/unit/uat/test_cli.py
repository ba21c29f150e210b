"""The real program (`python -m sopctl uat ...`, a subprocess, no terminal) against the real test application:
a passing run, a failing run, bad answers files, an approval refused, and the whole D.2 -> D.3 -> D.6 chain
turning the compliance report's items compliant."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re

from sopctl.compliance.catalog import load_catalog
from sopctl.compliance.status import evaluate_month
from sopctl.store import Store
from sopctl.uat import records

from .support import APP_PASSWORD, REPO, checklist_text, cli, write_checklist


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _db(project):
    return Store.open(project / "var" / "sopctl.db")


def _documents(project) -> list:
    folder = project / "reports" / "uat"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _month() -> str:
    return _dt.date.today().strftime("%Y-%m")


def test_a_passing_run_stores_every_step_its_evidence_and_the_hasil_test_document(project, app):
    done = cli(project, "uat", "--app", "uji", "--answers", "jawaban.yml", "--tester", "Budi Santoso")
    assert done.returncode == 0, done.stderr
    assert "UAT uji 1.0.0: 9 langkah (Penguji: Budi Santoso)" in done.stdout
    assert re.search(r"^\[8/9\] cetak-laporan · Manual · Cetak laporan perkara \.\.\. Lulus$", done.stdout, re.M)
    assert "Kesimpulan: LULUS — 8 lulus, 0 gagal, 0 galat, 1 dilewati dari 9 langkah" in done.stdout

    html, md = _documents(project)
    assert re.fullmatch(r"uji-1\.0\.0-\d{8}T\d{6}Z\.html", html.name) and md.name == html.stem + ".md"
    page = html.read_text()
    assert "<title>Hasil Test Penerimaan Pengguna (UAT) — uji 1.0.0</title>" in page
    assert '<span class="big badge r-passed">LULUS</span>' in page
    assert "Melakukan tes penerimaan pengguna pada saat implementasi aplikasi" in page   # the SOP's D.2 title
    assert all(f'id="step-{step}"' in page for step in ("beranda", "masuk", "cetak-laporan", "tampilan-ponsel"))
    text = md.read_text()
    assert "**Kesimpulan: LULUS** — 8 lulus, 0 gagal, 0 galat, 1 dilewati dari 9 langkah" in text
    assert "| Penguji | Budi Santoso |" in text and "| Daftar uji | checks/uat/uji.yml (SHA-256 " in text

    screenshot = project / "bukti" / "cetak.png"
    kept = project / "var" / "evidence" / _sha(screenshot)[:16] / "cetak.png"
    assert kept.read_bytes() == screenshot.read_bytes()
    with _db(project) as db:
        (run,) = db.runs(kind="uat")
        assert (run.status, run.who, run.meta["app"], run.meta["version"]) == ("complete", "Budi Santoso", "uji", "1.0.0")
        (uat_run,) = records.runs(db, "uji")
        assert (uat_run.result, uat_run.run_id, uat_run.tester) == ("passed", run.id, "Budi Santoso")
        assert uat_run.report_html == f"reports/uat/{html.name}" and uat_run.report_md_sha256 == _sha(md)
        steps = records.steps(db, uat_run.id)
        assert [(s.step_id, s.result) for s in steps] == [
            ("beranda", "pass"), ("dasbor-terkunci", "pass"), ("sertifikat", "pass"), ("port-https", "pass"),
            ("masuk", "pass"), ("laporan-cepat", "pass"), ("basis-data", "pass"), ("cetak-laporan", "pass"),
            ("tampilan-ponsel", "skip")]
        manual = steps[7]
        assert manual.detail == "PDF terbuka, nomor perkara benar" and manual.answered_by == "answers"
        assert manual.evidence == ({"name": "cetak.png", "sha256": _sha(screenshot), "size": screenshot.stat().st_size,
                                    "path": f"var/evidence/{_sha(screenshot)[:16]}/cetak.png"},)
        (evidence,) = db.evidence_for("D.2")
        assert (evidence.kind, evidence.run_id, evidence.sha256, evidence.path) == (
            "uat-run", run.id, _sha(html), f"reports/uat/{html.name}")
        today = _dt.date.today()
        assert evidence.data["status"] == "compliant" and evidence.data["record"] == "uji@1.0.0"
        assert evidence.data["by"] == "Budi Santoso" and evidence.data["done"] == today.isoformat()
        assert evidence.data["due"] == (today + _dt.timedelta(days=1)).isoformat()      # "Hari ke 2"
        assert evidence.data["detail"].startswith("LULUS: 8 lulus, 0 gagal, 0 galat, 1 dilewati dari 9 langkah")
    # the tester's password came from the vault and is nowhere on disk
    for path in [*(project / "var").iterdir(), html, md]:
        if path.is_file():
            assert APP_PASSWORD.encode() not in path.read_bytes(), path


def test_a_failing_run_wrong_content_expired_certificate_slow_page_closed_port(project, app, expired_app,
                                                                              database, closed_port):
    write_checklist(project, checklist_text(
        app.url, db_port=database, start=_dt.date.today(), home_contains="Sistem Informasi Penelusuran Perkara",
        slow_limit_ms=200, tcp_port=closed_port,
        extra_steps=f"- id: sertifikat-cadangan\n  title: Sertifikat server cadangan\n"
                    f"  tls: {{port: {expired_app.port}, days: 30}}\n"))
    done = cli(project, "uat", "--app", "uji", "--answers", "jawaban.yml", "--tester", "Budi")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == ("sopctl: UAT of uji 1.0.0 failed: beranda, port-https, laporan-cepat, "
                                   "sertifikat-cadangan")
    assert "Kesimpulan: TIDAK LULUS — 5 lulus, 4 gagal, 0 galat, 1 dilewati dari 10 langkah" in done.stdout
    assert "    'Sistem Informasi Penelusuran Perkara' not found" in done.stdout
    with _db(project) as db:
        (uat_run,) = records.runs(db, "uji")
        assert uat_run.result == "failed"
        details = {s.step_id: s.detail for s in records.steps(db, uat_run.id) if s.result == "fail"}
        assert details["beranda"] == "'Sistem Informasi Penelusuran Perkara' not found"
        assert details["port-https"] == f"port {closed_port} is closed (connection refused), expected open"
        assert re.fullmatch(r"took \d+ ms, limit 200 ms", details["laporan-cepat"])
        assert details["sertifikat-cadangan"].startswith("certificate not trusted: certificate has expired; expired on")
        (evidence,) = db.evidence_for("D.2")
        assert evidence.data["status"] == "non-compliant"
        assert evidence.data["failed_steps"] == ["beranda", "port-https", "laporan-cepat", "sertifikat-cadangan"]
        report = evaluate_month(load_catalog(REPO / "checks" / "sop.yml"), db, _month(), _dt.date.today())
        assert report.item("D.2").status == "non-compliant"
    (md,) = [p for p in _documents(project) if p.suffix == ".md"]
    text = md.read_text()
    assert "**Kesimpulan: TIDAK LULUS**" in text
    assert "### 4. port-https — Gagal" in text and "certificate has expired" in text
    # D.3 cannot recommend a failed test, D.6 cannot approve it
    refused = cli(project, "uat.review", "--app", "uji", "--by", "Kasubag", "--decision", "recommend", "--note", "ok")
    assert refused.returncode == 2 and "a failed test cannot be recommended" in refused.stderr
    refused = cli(project, "uat.approve", "--app", "uji", "--by", "Ketua", "--decision", "approve")
    assert refused.returncode == 2 and re.search(r"the latest test run #\d+ of uji 1\.0\.0 .* failed", refused.stderr)


def test_an_answers_file_with_missing_or_unknown_steps_is_refused_and_nothing_is_stored(project):
    (project / "salah.yml").write_text("cetak-laporan: {result: pass}\ncetak-laporn: {result: pass}\n")
    done = cli(project, "uat", "--app", "uji", "--answers", "salah.yml")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "sopctl: error: salah.yml:2: missing answers for manual step(s): tampilan-ponsel; unknown step id(s): "
        "cetak-laporn; the manual steps of uji 1.0.0 are: cetak-laporan, tampilan-ponsel")
    assert not (project / "var").exists() and _documents(project) == []      # not even a database
    Store.open(project / "var" / "sopctl.db").close()                       # with a database: still nothing
    (project / "salah.yml").write_text("beranda: {result: pass}\n")
    done = cli(project, "uat", "--app", "uji", "--answers", "salah.yml")
    assert done.returncode == 2
    assert ("missing answers for manual step(s): cetak-laporan, tampilan-ponsel; unknown step id(s): beranda "
            "(beranda is automated)") in done.stderr
    with _db(project) as db:
        assert db.runs() == [] and db.evidence_for("D.2") == []
    assert _documents(project) == []


def test_manual_steps_without_answers_need_a_terminal(project):
    done = cli(project, "uat", "--app", "uji")
    assert done.returncode == 2
    assert ("uji has manual steps (cetak-laporan, tampilan-ponsel): answer them on a terminal, or give "
            "--answers FILE") in done.stderr
    assert not (project / "var").exists()


def test_a_malformed_checklist_is_an_input_error_with_file_line_and_field(project):
    path = project / "checks" / "uat" / "uji.yml"
    path.write_text(path.read_text().replace("    status: 200\n", "    status: dua ratus\n", 1))
    done = cli(project, "uat", "--app", "uji", "--answers", "jawaban.yml")
    assert done.returncode == 2
    assert re.fullmatch(r"sopctl: error: checks/uat/uji\.yml:\d+: steps\[0\]\.http\.status: must be an HTTP status "
                        r"\(100-599\) or a list of them, not 'dua ratus'", done.stderr.strip())
    done = cli(project, "uat", "--app", "tidak-ada")
    assert done.returncode == 2 and "no checklist for 'tidak-ada'" in done.stderr and "known applications: uji" in done.stderr


def test_approval_is_refused_without_a_review_and_the_full_chain_makes_d2_d3_d6_compliant(project, app):
    assert cli(project, "uat", "--app", "uji", "--answers", "jawaban.yml", "--tester", "Budi").returncode == 0
    refused = cli(project, "uat.approve", "--app", "uji", "--by", "Dra. Hj. Ketua", "--decision", "approve")
    assert refused.returncode == 2
    assert re.fullmatch(r"sopctl: error: no review \(D\.3\) of uji 1\.0\.0: a recommending review of test run #\d+ "
                        r"is needed first \(`invoke uat\.review --app uji --by NAME --decision recommend`\)",
                        refused.stderr.strip())
    status = cli(project, "uat.status")
    assert re.search(r"^uji +1\.0\.0 \* +lulus uji, menunggu pertimbangan +LULUS #\d+ \(8/9\) — Budi, ", status.stdout, re.M)

    reviewed = cli(project, "uat.review", "--app", "uji", "--by", "Kasubag PTIP", "--decision", "recommend",
                   "--note", "Semua langkah lulus; siap dipakai di PTSP")
    assert reviewed.returncode == 0, reviewed.stderr
    assert reviewed.stdout.startswith("D.3: uji 1.0.0 Direkomendasikan — Kasubag PTIP, ")
    approved = cli(project, "uat.approve", "--app", "uji", "--by", "Dra. Hj. Ketua", "--decision", "approve",
                   "--note", "Mulai dipakai 1 Desember")
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith("D.6: uji 1.0.0 Disetujui — Dra. Hj. Ketua, ")

    with _db(project) as db:
        report = evaluate_month(load_catalog(REPO / "checks" / "sop.yml"), db, _month(), _dt.date.today())
        for sop_id, workflow in (("D.2", "uat-run"), ("D.3", "uat-review"), ("D.6", "uat-approval")):
            item = report.item(sop_id)
            assert item.status == "compliant", (sop_id, item.reasons)
            (line,) = item.evidence
            assert (line.kind, line.status, line.workflow, line.record) == ("workflow", "compliant", workflow,
                                                                            "uji@1.0.0")
        review_line = report.item("D.3").evidence[0]
        assert review_line.data["by"] == "Kasubag PTIP"
        assert review_line.detail.startswith("Direkomendasikan — Kasubag PTIP: Semua langkah lulus; siap dipakai di PTSP")
        assert report.item("D.6").evidence[0].data["note"] == "Mulai dipakai 1 Desember"
        (state,) = records.chain(db, {"uji": "1.0.0"})
        assert state.stage == "approved" and state.review.by_name == "Kasubag PTIP"
        assert state.approval.by_name == "Dra. Hj. Ketua"

    status = cli(project, "uat.status", "--json")
    (row,) = json.loads(status.stdout)
    assert (row["stage"], row["test"]["result"], row["review"]["decision"], row["approval"]["decision"]) == (
        "approved", "passed", "recommend", "approve")
    assert row["approval"]["by"] == "Dra. Hj. Ketua" and row["current"] is True
    table = cli(project, "uat.status", "--lang", "en").stdout
    assert re.search(r"^uji +1\.0\.0 \* +approved +PASSED #\d+ \(8/9\) — Budi, .+ +Recommended — Kasubag PTIP, .+"
                     r"Approved — Dra\. Hj\. Ketua, ", table, re.M)
    # the real `report` task reads the same records
    done = cli(project, "report", "--format", "json", "--lang", "en")
    items = {item["id"]: item for item in json.loads(done.stdout)["items"]}
    assert [items[i]["status"] for i in ("D.2", "D.3", "D.6")] == ["compliant"] * 3


def test_english_document_and_status_before_any_test(project, app):
    status = cli(project, "uat.status")
    assert re.search(r"^uji +1\.0\.0 \* +belum diuji +- +- +-$", status.stdout, re.M)
    done = cli(project, "uat", "--app", "uji", "--answers", "jawaban.yml", "--lang", "en", "--tester", "Budi")
    assert done.returncode == 0, done.stderr
    assert "Conclusion: PASSED — 8 passed, 0 failed, 0 errors, 1 skipped of 9 steps" in done.stdout
    html = next(p for p in _documents(project) if p.suffix == ".html")
    page = html.read_text()
    assert '<html lang="en">' in page and "User Acceptance Test Results (UAT)" in page and ">PASSED<" in page
