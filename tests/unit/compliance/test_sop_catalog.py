"""The SOP catalog: the real checks/sop.yml, and the errors a malformed catalog produces."""

from __future__ import annotations

import datetime
import re
import textwrap
from pathlib import Path

import pytest

from sopctl.compliance.catalog import Catalog, load_catalog, validate_check_refs
from sopctl.errors import InputError
from sopctl.yamlsrc import load_yaml

REPO = Path(__file__).resolve().parents[3]
SOP_YML = REPO / "checks" / "sop.yml"
SOP_TEXT = REPO.parent / "shared" / "sop" / "sop-pengelolaan-ti.txt"  # beside the clone, when present

EXPECTED_IDS = ([f"A.{n}" for n in range(1, 5)] + [f"B.{n}" for n in range(1, 7)]
                + [f"C.{n}" for n in range(1, 10)] + [f"D.{n}" for n in range(1, 8)]
                + [f"E.{n}" for n in range(1, 8)] + [f"F.{n}" for n in range(1, 8)])


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SOP_YML)


# ------------------------------------------------------------------------------ the real catalog


def test_real_catalog_has_the_40_items_in_sop_order(catalog):
    assert [item.id for item in catalog.items] == EXPECTED_IDS
    assert all(item.section == item.id[0] for item in catalog.items)
    assert {letter: len(items) for letter, items in catalog.by_section().items()} == {
        "A": 4, "B": 6, "C": 9, "D": 7, "E": 7, "F": 7}


def test_real_header(catalog):
    header = catalog.header
    assert (header.number, header.title, header.organisation) == (
        "SOP/AS/32", "SOP Pengelolaan Teknologi Informasi", "Pengadilan Agama Batulicin")
    assert header.created.date == header.effective.date == datetime.date(2018, 1, 2)
    assert header.effective.text == "02 Januari 2018" and header.revised is None
    assert header.approved_by.name == "Dra. H. Syakhrani" and header.approved_by.nip == "196503101993031002"
    assert len(header.legal_basis) == 6
    assert header.legal_basis[5] == ("Surat Edaran Badilag Nomor 4975.A/Dj.A/OT.00/IX/2009 tentang "
                                     "Peningkatan Pemanfaatan Teknologi Informasi")
    assert header.qualifications == ("S-2", "S-1", "D-III", "SMU Sederajat")
    assert header.warning.startswith("Jika SOP tidak dilaksanakan akan menghambat")


@pytest.mark.parametrize("item_id, title", [
    ("A.1", "Merencanakan program pengembangan SDM di bidang TI dan pelatihan/edukasi dibutuhkan"),
    ("B.3", "Memverifikasi permintaan layanan Teknologi Informasi"),
    ("C.4", "Melakukan pemeliharaan fisik jaringan (kabel, router, hub switch, acces point, UPS, dll)"),
    ("D.5", "Membuat system keamanan, manajemen resiko dan pemulihan insiden untuk hal-hal yang berkaitan "
            "dengan TI"),
    ("E.1", "Menyiapkan / mengumpulkan sumber data/laporan / informasi/ gambar / audio / multimedia dari "
            "kegiatan maupun informasi lain yang wajib di publikasi satuan kerja"),
    ("F.5", "Melaporkan situasi, kondisi, permasalahan dan alternative pemecahan masalah website kepada "
            "penanggung jawab informasi"),
])
def test_indonesian_titles_are_the_sops_words(catalog, item_id, title):
    assert catalog.item(item_id).title_id == title


def test_f3_repeats_e3_and_says_so(catalog):
    f3, e3 = catalog.item("F.3"), catalog.item("E.3")
    assert f3.title_id == e3.title_id
    assert f3.output == "Log Aktivitas Pengunjung" and "E.3" in f3.note


@pytest.mark.skipif(not SOP_TEXT.exists(), reason="the SOP text is not beside this clone")
def test_every_title_is_a_cell_of_the_sop_text(catalog):
    text = SOP_TEXT.read_text(encoding="utf-8")
    for item in catalog.items:
        assert f"\t{item.title_id}\t" in text, item.id
        assert f"\t{item.requirement}\t" in text and f"\t{item.output}" in text, item.id


def test_time_standards(catalog):
    assert (catalog.item("B.2").time.kind, catalog.item("B.2").time.day) == ("day", 1)
    assert catalog.item("C.5").time.day_of_month == 30 and catalog.item("C.5").time.text == "30 Setiap Bulan"
    assert catalog.item("E.1").time.minutes == 180
    e6 = catalog.item("E.6").time
    assert (e6.min_minutes, e6.max_minutes, e6.minutes, e6.text) == (15, 30, None, "15-30 Menit")


def test_evidence_kinds(catalog):
    c3 = catalog.item("C.3").checks
    assert c3[0] == "sshd-permit-root-login" and "windows-rdp-nla" in c3 and len(c3) == 21
    assert catalog.item("C.4").attest and catalog.item("C.4").checks == ("host-reachable",)
    for generated in ("C.1", "C.8", "C.9", "F.5"):
        assert catalog.item(generated).generated and not catalog.item(generated).checks
    assert {catalog.item(f"B.{n}").workflow for n in range(1, 7)} == {"service-request"}
    assert [catalog.item(i).workflow for i in ("D.2", "D.3", "D.6", "F.6", "F.7")] == [
        "uat-run", "uat-review", "uat-approval", "incident", "incident"]
    assert all(item.evidence == "attest" for item in catalog.by_section()["A"] + catalog.by_section()["E"])
    assert catalog.referenced_checks()["website-fresh"] == ("F.1",)


def test_every_item_role_is_defined(catalog):
    assert set(catalog.roles) == {"operator", "kasubag_ptip", "sekretaris", "wakil_ketua", "ketua",
                                  "operator_subbagian", "editor", "admin_web", "penanggung_jawab", "provider"}
    assert all(item.roles and set(item.roles) <= set(catalog.roles) for item in catalog.items)


def test_known_checks_accepts_the_real_references(catalog):
    load_catalog(SOP_YML, known_checks=set(catalog.referenced_checks()))


def test_item_lookup_of_an_unknown_id():
    with pytest.raises(KeyError, match="G.1"):
        load_catalog(SOP_YML).item("G.1")


# --------------------------------------------------------------------------- malformed catalogs

MINI = """\
schema: 1
sop:
  number: SOP/AS/32
  title: SOP Pengelolaan Teknologi Informasi
  organisation: Pengadilan Agama Batulicin
  dates:
    created: {date: 2018-01-02, text: "02 Januari 2018"}
    effective: {date: 2018-01-02, text: "02 Januari 2018"}
  approved_by: {name: "Dra. H. Syakhrani", nip: "196503101993031002"}
roles:
  operator: {name_id: Operator/admin, name_en: Operator}
  ketua: {name_id: Ketua, name_en: Head of Court}
sections:
  A: {title_id: PERUMUSAN KEBIJAKAN TI, title_en: IT policy, roles: [operator, ketua]}
  C: {title_id: MONITORING, title_en: Monitoring, roles: [operator, ketua]}
items:
  - id: A.1
    section: A
    title_id: Merencanakan program
    title_en: Plan
    roles: [operator]
    requirement: Draf
    time: {kind: day, day: 1, text: Hari ke 1}
    output: Rencana Program
    cadence: yearly
    evidence: attest
  - id: C.2
    section: C
    title_id: Memantau
    title_en: Monitor
    roles: [operator, ketua]
    requirement: System
    time:
      kind: deadline
      day_of_month: 30
      text: 30 Setiap Bulan
    output: System security
    cadence: monthly
    evidence: auto
    checks:
      - ssh-failed-logins
      - fail2ban-sshd-jail
"""


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "sop.yml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle`, so tests do not hard-code line numbers."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def error_for(tmp_path, text: str, **kwargs) -> InputError:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_catalog(path, **kwargs)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}:{caught.value.line}")
    return caught.value


def test_mini_catalog_loads(tmp_path):
    catalog = load_catalog(write(tmp_path, MINI), known_checks={"ssh-failed-logins", "fail2ban-sshd-jail"})
    assert [item.id for item in catalog.items] == ["A.1", "C.2"]
    assert catalog.item("C.2").line == line_of(MINI, "id: C.2")


def test_broken_yaml_names_line_and_column(tmp_path):
    text = MINI.replace("    roles: [operator]\n", "    roles: [operator\n")
    err = error_for(tmp_path, text)
    assert err.line == line_of(text, "requirement: Draf") and err.column is not None
    assert "invalid YAML" in str(err)


def test_duplicate_id_names_both_lines(tmp_path):
    text = MINI.replace("  - id: C.2\n    section: C", "  - id: A.1\n    section: A")
    err = error_for(tmp_path, text)
    first, second = line_of(text, "id: A.1"), line_of(text, "id: A.1", 2)
    assert (err.line, err.field) == (second, "items[1].id")
    assert f"duplicate id 'A.1' (first at line {first})" in str(err)


def test_unknown_check_names_the_check_and_the_item(tmp_path):
    err = error_for(tmp_path, MINI, known_checks={"ssh-failed-logins"})
    assert (err.line, err.field) == (line_of(MINI, "- fail2ban-sshd-jail"), "items[1].checks[1]")
    assert "'fail2ban-sshd-jail'" in str(err) and "C.2" in str(err)


def test_bad_time_kind(tmp_path):
    text = MINI.replace("kind: deadline", "kind: weekly")
    err = error_for(tmp_path, text)
    assert str(err) == (f"{tmp_path / 'sop.yml'}:{line_of(text, 'kind: weekly')}: "
                        "items[1].time.kind: 'weekly' is not one of: day, deadline, duration")


def test_wrong_section_letter(tmp_path):
    text = MINI.replace("    section: C", "    section: A")
    err = error_for(tmp_path, text)
    assert (err.line, err.field) == (line_of(text, "section: A", 2), "items[1].section")
    assert "id C.2 is in section C" in str(err)


def test_missing_title(tmp_path):
    text = MINI.replace("    title_id: Memantau\n", "")
    err = error_for(tmp_path, text)
    assert (err.line, err.field, err.reason) == (line_of(text, "id: C.2"), "items[1].title_id", "is required")


@pytest.mark.parametrize("old, new, field, reason", [
    ("  - id: C.2", "  - id: C.10", "items[1].id", "is not an SOP id"),
    ("  - id: C.2", "  - id: 3", "items[1].id", "must be a string, not an integer"),
    ("roles: [operator, ketua]\n    requirement", "roles: [operator, wakil]\n    requirement",
     "items[1].roles[1]", "role 'wakil' is not defined"),
    ("evidence: attest", "evidence: maybe", "items[0].evidence", "'maybe' is not one of: auto, workflow, attest"),
    ("evidence: attest", "evidence: attest\n    checks: [x]", "items[0].checks", "does not apply"),
    ("cadence: yearly", "cadence: weekly", "items[0].cadence", "'weekly' is not one of: yearly"),
    ("day: 1,", "day: 0,", "items[0].time.day", "must be at least 1"),
    ("day_of_month: 30", "day_of_month: 32", "items[1].time.day_of_month", "between 1 and 31"),
    ("    checks:\n      - ssh-failed-logins\n      - fail2ban-sshd-jail\n", "", "items[1].checks",
     "is required for an auto item"),
    ("    output: Rencana", "    outptu: Rencana", "items[0].outptu", "unknown field"),
    ("nip: \"196503101993031002\"", "nip: 196503101993031002", "sop.approved_by.nip", "must be a string"),
])
def test_field_errors(tmp_path, old, new, field, reason):
    assert old in MINI
    err = error_for(tmp_path, MINI.replace(old, new, 1))
    assert err.field == field and reason in err.reason and err.line is not None


def test_items_out_of_order(tmp_path):
    text = MINI.replace("  - id: C.2\n    section: C", "  - id: A.1\n    section: A", 1)
    text = text.replace("  - id: A.1\n    section: A", "  - id: A.3\n    section: A", 1)
    err = error_for(tmp_path, text)
    assert "A.1 comes after A.3" in err.reason


def test_a_non_mapping_document(tmp_path):
    err = error_for(tmp_path, "- just\n- a list\n")
    assert err.line == 1 and "must be a mapping" in err.reason


def test_validate_check_refs_names_check_and_id(tmp_path):
    catalog = load_catalog(write(tmp_path, MINI))
    checks = tmp_path / "checks.yml"
    checks.write_text("ssh-failed-logins: [C.2]\nfail2ban-sshd-jail:\n  - C.2\n  - C.99\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        validate_check_refs(catalog, load_yaml(checks), checks)
    err = caught.value
    assert (err.path, err.line, err.field) == (str(checks), 4, "fail2ban-sshd-jail[1]")
    assert "'fail2ban-sshd-jail'" in err.reason and "'C.99'" in err.reason


def test_validate_check_refs_accepts_plain_dicts(tmp_path):
    catalog = load_catalog(write(tmp_path, MINI))
    validate_check_refs(catalog, {"ssh-failed-logins": ["C.2"]}, "checks.yml")
    expected = "checks.yml: host-up: check 'host-up' refers to SOP item 'D.9'"
    with pytest.raises(InputError, match=re.escape(expected)):
        validate_check_refs(catalog, {"host-up": "D.9"}, "checks.yml")
