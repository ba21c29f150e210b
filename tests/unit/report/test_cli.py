"""The `report`, `waive`, `waivers` and `attest` tasks, run through Invoke as a user would call them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import xml.etree.ElementTree as ET

import pytest
from invoke import Collection, Program

from sopctl.cli import compliance
from sopctl.errors import UsageError
from sopctl.store import Store

from .support import build_mixed


@pytest.fixture
def project(tmp_path):
    (tmp_path / "var").mkdir()
    return tmp_path


def sopctl(project, *argv):
    """Run the tasks with sopctl.root = project; returns the exit code (0 when the task returned)."""
    ns = Collection(compliance.report, compliance.waive, compliance.waivers, compliance.attest)
    ns.configure({"sopctl": {"root": str(project)}})
    try:
        Program(namespace=ns, name="sopctl", binary="sopctl").run(["sopctl", *argv])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def test_report_writes_every_format_to_a_file(project, capsys):
    with Store.open(project / "var" / "sopctl.db") as store:
        build_mixed(store)
    for fmt in ("table", "md", "html", "json", "csv", "junit"):
        out = project / "out" / f"report.{fmt}"
        assert sopctl(project, "report", "--month", "2026-11", "--format", fmt, "--lang", "en", "--out", str(out)) == 0
        assert out.stat().st_size > 1000
    assert json.loads((project / "out" / "report.json").read_text())["header"]["month"] == "2026-11"
    assert len(list(ET.parse(project / "out" / "report.junit").getroot().iter("testcase"))) == 40
    assert sorted(p.name for p in (project / "out").iterdir()) == sorted(
        f"report.{f}" for f in ("table", "md", "html", "json", "csv", "junit"))   # no temporary left behind
    assert "-> " in capsys.readouterr().out


def test_report_prints_and_replaces_an_existing_file(project, capsys):
    with Store.open(project / "var" / "sopctl.db") as store:
        build_mixed(store)
    out = project / "r.json"
    out.write_text("old")
    assert sopctl(project, "report", "--month", "2026-11", "--format", "json", "--out", str(out)) == 0
    assert json.loads(out.read_text())["items"][0]["id"] == "A.1"
    capsys.readouterr()
    assert sopctl(project, "report", "--month", "2026-11") == 0
    assert "LAPORAN KEPATUHAN" in capsys.readouterr().out


def test_report_store_option_and_errors(project, capsys):
    other = project / "elsewhere.db"
    with Store.open(other) as store:
        build_mixed(store)
    assert sopctl(project, "report", "--month", "2026-11", "--store", str(other), "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["items"][2]["id"] == "A.3"
    assert sopctl(project, "report", "--month", "2026-11") == 2            # no var/sopctl.db: never created
    assert not (project / "var" / "sopctl.db").exists()
    assert "no results database" in capsys.readouterr().err
    assert sopctl(project, "report", "--month", "11-2026", "--store", str(other)) == 2
    assert sopctl(project, "report", "--format", "pdf", "--store", str(other)) == 2
    assert sopctl(project, "report", "--lang", "fr", "--store", str(other)) == 2


def test_waive_validates_and_records(project, capsys):
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert sopctl(project, "waive", "disk-usage", "--hosts", "pc-0*,srv-01", "--reason", "new disk ordered",
                  "--approved-by", "Kasubag Perenc & IT", "--expires", expires) == 0
    assert "items: C.5" in capsys.readouterr().out
    assert sopctl(project, "waive", "no-such-check", "--hosts", "all", "--reason", "r", "--approved-by", "a",
                  "--expires", expires) == 2
    assert "unknown check" in capsys.readouterr().err
    assert sopctl(project, "waive", "disk-usage", "--hosts", "all", "--approved-by", "a", "--expires", expires) == 2
    assert "--reason is required" in capsys.readouterr().err
    assert sopctl(project, "waive", "disk-usage", "--hosts", "all", "--reason", "r", "--expires", expires) == 2
    assert sopctl(project, "waive", "disk-usage", "--hosts", "all", "--reason", "r", "--approved-by", "a",
                  "--expires", "2020-01-01") == 2
    assert sopctl(project, "waive", "disk-usage", "--hosts", "all", "--reason", "r", "--approved-by", "a",
                  "--expires", "31/12/2026") == 2
    assert sopctl(project, "waive", "disk-usage", "--hosts", "webservers:!pc-01", "--reason", "r",
                  "--approved-by", "a", "--expires", expires) == 2
    capsys.readouterr()
    assert sopctl(project, "waivers", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(w["check_id"], w["hosts"], w["state"], w["approved_by"]) for w in listed] == [
        ("disk-usage", "pc-0*,srv-01", "active", "Kasubag Perenc & IT")]
    assert sopctl(project, "waivers") == 0
    assert "new disk ordered" in capsys.readouterr().out


def test_attest_stores_hash_size_and_a_copy(project, capsys):
    evidence = project / "Rencana Program 2026.pdf"
    evidence.write_bytes(b"%PDF-1.4 rencana program\n" * 100)
    digest = hashlib.sha256(evidence.read_bytes()).hexdigest()
    assert sopctl(project, "attest", "A.1", "--evidence", str(evidence), "--by", "kasubag_ptip",
                  "--name", "Budi Santoso", "--note", "ditandatangani Ketua") == 0
    copy = project / "var" / "evidence" / digest[:16] / "Rencana Program 2026.pdf"
    assert copy.read_bytes() == evidence.read_bytes()
    with Store.open(project / "var" / "sopctl.db") as store:
        record = store.latest_attestation("A.1")
    assert (record.by_role, record.by_name, record.note, record.file_name, record.file_sha256, record.file_size,
            record.stored_path) == ("kasubag_ptip", "Budi Santoso", "ditandatangani Ketua",
                                    "Rencana Program 2026.pdf", digest, 2500,
                                    f"var/evidence/{digest[:16]}/Rencana Program 2026.pdf")
    assert digest in capsys.readouterr().out
    # attesting the same file again keeps one copy
    assert sopctl(project, "attest", "C.4", "--evidence", str(evidence), "--by", "operator", "--name", "Rahmat") == 0
    assert len(list((project / "var" / "evidence").iterdir())) == 1
    # the report shows it
    month = dt.date.today().strftime("%Y-%m")
    capsys.readouterr()
    assert sopctl(project, "report", "--month", month, "--format", "json") == 0
    a1 = json.loads(capsys.readouterr().out)["items"][0]
    assert a1["status"] == "compliant" and a1["evidence"][0]["file_sha256"] == digest


def test_attest_refusals(project, capsys):
    evidence = project / "bukti.txt"
    evidence.write_text("bukti")
    assert sopctl(project, "attest", "C.3", "--evidence", str(evidence), "--by", "operator") == 2
    assert "not by attestation" in capsys.readouterr().err
    assert sopctl(project, "attest", "Z.9", "--evidence", str(evidence), "--by", "operator") == 2
    assert sopctl(project, "attest", "A.1", "--evidence", str(evidence), "--by", "boss") == 2
    assert "give a role of the SOP" in capsys.readouterr().err
    assert sopctl(project, "attest", "A.1", "--evidence", str(project / "missing.pdf"), "--by", "operator") == 2
    assert sopctl(project, "attest", "A.1", "--by", "operator") == 2
    assert not (project / "var" / "evidence").exists()


def test_safe_file_name():
    assert compliance.safe_file_name("/etc/../x/Laporan Bulan 11.pdf") == "Laporan Bulan 11.pdf"
    assert compliance.safe_file_name("a;b|c$.txt") == "a_b_c_.txt"
    with pytest.raises(UsageError):
        compliance.safe_file_name("..")
