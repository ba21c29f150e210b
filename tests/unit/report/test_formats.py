"""Every output format of the report, in both languages, on the mixed month."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from sopctl.compliance import i18n
from sopctl.compliance.report import FORMATS, md_cell, md_fence, render, xml_text
from sopctl.compliance.status import evaluate_month

from .support import ALL_IDS, CONTROL, EXPECTED_MIXED, MIXED_TODAY, STATUSES, TRICKY, build_mixed

STATUS_ID = {"compliant": "Patuh", "partly": "Patuh sebagian", "non-compliant": "Tidak patuh",
             "waived": "Dikecualikan", "not-verified": "Belum terverifikasi", "na": "Tidak berlaku"}
STATUS_EN = {"compliant": "Compliant", "partly": "Partly compliant", "non-compliant": "Non-compliant",
             "waived": "Waived", "not-verified": "Not verified", "na": "Not applicable"}


@pytest.fixture
def report(catalog, store):
    build_mixed(store)
    return evaluate_month(catalog, store, "2026-11", MIXED_TODAY, generated_at="2026-12-05T01:00:00Z")


# ----------------------------------------------------------------------------------------------- json


def test_json_shape_keys_and_status_codes(report):
    data = json.loads(render(report, "json", "en"))
    assert list(data) == ["header", "items", "score", "changes"]
    assert len(data["items"]) == 40 and [item["id"] for item in data["items"]] == ALL_IDS
    for item in data["items"]:
        assert list(item) == ["id", "title_id", "title_en", "section", "status", "status_label", "reason",
                              "evidence_kind", "hosts_passing", "hosts_failing", "hosts_waived", "hosts_error",
                              "last_evidence", "due", "evidence"]
        assert item["status"] in STATUSES
        assert set(item["due"]) == {"date", "kind", "cadence", "time", "overdue", "text"}
        for line in item["evidence"]:
            assert line["kind"] in {"check", "attestation", "workflow", "generated", "record"}
    assert {item["id"]: item["status"] for item in data["items"] if item["id"] in EXPECTED_MIXED} == EXPECTED_MIXED


def test_json_status_codes_do_not_depend_on_the_language(report):
    english, indonesian = (json.loads(render(report, "json", lang)) for lang in ("en", "id"))
    assert [i["status"] for i in english["items"]] == [i["status"] for i in indonesian["items"]]
    assert indonesian["items"][0]["title_id"] == english["items"][0]["title_id"]
    c5 = next(i for i in indonesian["items"] if i["id"] == "C.5")
    assert c5["status_label"] == "Patuh sebagian"


def test_json_header(report, catalog):
    header = json.loads(render(report, "json", "id"))["header"]
    assert set(header) == {"sop", "month", "as_of", "lang", "generated_at", "runs", "performed_by", "inventory"}
    assert header["sop"]["number"] == "SOP/AS/32" and header["sop"]["effective"] == "2018-01-02"
    assert header["sop"]["legal_basis"] == list(catalog.header.legal_basis)
    assert header["month"] == "2026-11" and header["as_of"] == "2026-11-30"
    assert header["runs"]["count"] == 1 and header["performed_by"] == ["operator"]
    assert header["inventory"]["hosts_seen"] == ["pc-01", "pc-02", "srv-01"]


def test_json_evidence_lines(report):
    items = {i["id"]: i for i in json.loads(render(report, "json", "en"))["items"]}
    waived = next(line for line in items["C.6"]["evidence"] if line["status"] == "waived")
    assert waived["waiver"]["reason"] == "inventory agent replaced next month"
    assert waived["waiver"]["approved_by"] == "Kasubag Perenc & IT" and waived["waiver"]["expires"] == "2026-12-31"
    expired = items["D.4"]["evidence"][0]
    assert expired["status"] == "fail" and expired["waiver"]["expired"] is True
    website = items["F.1"]["evidence"][0]
    assert website["observed"] == TRICKY and website["output"].startswith(CONTROL)
    attestation = items["A.1"]["evidence"][0]
    assert {k: attestation[k] for k in ("kind", "status", "file_name", "file_sha256", "file_size", "by_name")} == {
        "kind": "attestation", "status": "fresh", "file_name": "rencana.pdf", "file_sha256": "ab" * 32,
        "file_size": 48213, "by_name": "Budi Santoso"}
    assert [line["status"] for line in items["B.2"]["evidence"]] == ["compliant", "non-compliant"]


def test_json_score_and_changes(report):
    data = json.loads(render(report, "json", "en"))
    assert data["score"]["counts"]["na"] == 1 and data["score"]["items"]["na"] == ["D.7"]
    assert set(data["changes"]["newly_non_compliant"]) == {"C.2", "D.4"}   # D.4 was not verified in October
    assert "C.3" in data["changes"]["fixed"]


# ------------------------------------------------------------------------------------------------ csv


def test_csv_round_trips_commas_quotes_and_newlines(report):
    rows = list(csv.reader(io.StringIO(render(report, "csv", "en"))))
    header, body = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in body)
    observed = header.index("Observed")
    f1 = [row for row in body if row[0] == "F.1"]
    assert [row[observed] for row in f1] == [TRICKY]
    output = header.index("Output")
    assert f1[0][output] == CONTROL + "\n<script>alert(1)</script>"


def test_csv_one_row_per_item_and_evidence_line(report):
    rows = list(csv.DictReader(io.StringIO(render(report, "csv", "en"))))
    expected = sum(max(1, len(entry.evidence)) for entry in report.items)
    assert len(rows) == expected
    assert [row["No."] for row in rows if row["No."] in ("A.1", "A.3")] == ["A.1", "A.3"]
    assert {row["Status code"] for row in rows} <= STATUSES


def test_csv_language(report):
    indonesian = list(csv.reader(io.StringIO(render(report, "csv", "id"))))
    english = list(csv.reader(io.StringIO(render(report, "csv", "en"))))
    assert "Ditemukan" in indonesian[0] and "Observed" in english[0]
    assert "Activity (English)" in english[0] and len(indonesian[0]) == len(english[0]) - 1
    c5_id = next(row for row in indonesian if row[0] == "C.5")
    assert "Patuh sebagian" in c5_id and "partly" in c5_id


# ---------------------------------------------------------------------------------------------- junit


def test_junit_parses_with_40_testcases(report):
    text = render(report, "junit", "id")
    root = ET.fromstring(text.encode("utf-8"))
    cases = list(root.iter("testcase"))
    assert len(cases) == 40 and root.get("tests") == "40"
    assert [case.get("name").split(" ", 1)[0] for case in cases] == ALL_IDS
    by_id = {case.get("name").split(" ", 1)[0]: case for case in cases}
    assert by_id["C.3"].get("classname") == "C MONITORING DAN PEMELIHARAAN PERANGKAT TI"
    for item_id, status in EXPECTED_MIXED.items():
        case = by_id[item_id]
        if status in ("non-compliant", "partly"):
            assert case.find("failure") is not None and case.find("failure").get("type") == status
        elif status in ("not-verified", "na"):
            assert case.find("skipped") is not None and case.find("failure") is None
        else:
            assert case.find("failure") is None and case.find("skipped") is None
    failures = sum(1 for s in (e.status for e in report.items) if s in ("non-compliant", "partly"))
    assert root.get("failures") == str(failures)
    assert sum(int(suite.get("tests")) for suite in root.iter("testsuite")) == 40


def test_junit_carries_evidence_and_survives_control_characters(report):
    root = ET.fromstring(render(report, "junit", "en").encode("utf-8"))
    case = {c.get("name").split(" ", 1)[0]: c for c in root.iter("testcase")}
    failure = case["C.5"].find("failure")
    assert "disk-usage @ pc-01" in failure.text and "97%" in failure.text and "<= 90%" in failure.text
    website = case["F.1"].find("system-out").text
    assert "<script>alert(1)</script>" in website and "\x1b" not in website
    assert xml_text("a\x00b\x1bc\td\n") == "a\ufffdb\ufffdc\td\n"
    waived = case["C.6"].find("system-out").text
    assert "inventory agent replaced next month" in waived


# ------------------------------------------------------------------------------------------- markdown


def test_markdown_summary_has_one_row_per_item(report):
    text = render(report, "md", "id")
    rows = [line for line in text.splitlines() if re.match(r"^\| [A-F]\.[1-9] \|", line)]
    assert [row.split("|")[1].strip() for row in rows] == ALL_IDS
    cells = lambda row: len(re.split(r"(?<!\\)\|", row)) - 2  # noqa: E731  (unescaped pipes only)
    assert {cells(row) for row in rows} == {7}


def test_markdown_escapes_table_cells_and_fences_output(report):
    text = render(report, "md", "en")
    assert md_cell(TRICKY) == 'root, "admin"<br>line two \\| &lt;b&gt;&amp;'
    assert md_cell(TRICKY) in text
    fence = re.search(r"^(`{3,})\n\$ curl [^\n]*\n(.*?)\n\1$", text, re.M | re.S)
    assert fence and fence.group(2) == "ok \\x1b[31mred\\x1b[0m \\x00 end\n<script>alert(1)</script>"
    assert "\x1b" not in text and "\x00" not in text
    assert md_fence("a ``` b") == "````\na ``` b\n````"
    for line in text.splitlines():
        if line.startswith("| ") and "F.1" not in line:
            assert "\n" not in line


def test_markdown_detail_per_item(report):
    text = render(report, "md", "id")
    for item_id in ALL_IDS:
        assert re.search(rf"^#### {re.escape(item_id)} ", text, re.M)
    assert "### C. MONITORING DAN PEMELIHARAAN PERANGKAT TI" in text


# ----------------------------------------------------------------------------------------- languages


@pytest.mark.parametrize("fmt", ["table", "md", "html"])
def test_indonesian_labels_and_status_words(report, catalog, fmt):
    text = render(report, fmt, "id")
    for word in ("Ringkasan per butir SOP", "Batas waktu", "Nilai kepatuhan", "Dasar hukum", "Dilaksanakan oleh"):
        assert word in text
    for status in STATUSES:
        assert STATUS_ID[status] in text
    for english in ("Partly compliant", "Not verified", "Hosts failing", "Legal basis", "Due"):
        assert english not in text
    for item in catalog.items:
        assert _plain(item.title_id) in _plain(text)        # the SOP's own words
        assert _plain(item.title_en) not in _plain(text)    # no translation in Indonesian


@pytest.mark.parametrize("fmt", ["table", "md", "html"])
def test_english_labels_keep_the_indonesian_titles(report, catalog, fmt):
    text = render(report, fmt, "en")
    for word in ("Summary by SOP item", "Due", "Compliance score", "Legal basis", "Performed by"):
        assert word in text
    for status in STATUSES:
        assert STATUS_EN[status] in text
    for item in catalog.items:
        assert _plain(item.title_id) in _plain(text)
        assert _plain(item.title_en) in _plain(text)


def _plain(text: str) -> str:
    """Collapse the wrapping and escaping formats add, to compare words."""
    text = re.sub(r"\\(.)", r"\1", text).replace("&#39;", "'").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text)


def test_title_is_indonesian_in_machine_formats_too(report):
    for lang in ("id", "en"):
        root = ET.fromstring(render(report, "junit", lang).encode())
        names = [case.get("name") for case in root.iter("testcase")]
        assert names[0].startswith("A.1 Merencanakan program pengembangan SDM")


def test_i18n_vocabulary():
    assert [i18n.status_label("id", s) for s in ("compliant", "partly", "non-compliant", "waived",
                                                 "not-verified", "na")] == list(STATUS_ID.values())
    assert i18n.format_date("id", "2026-08-17") == "17 Agustus 2026"
    assert i18n.format_month("en", "2026-11") == "November 2026"
    assert i18n.format_percent("id", 66.66) == "66,7%" and i18n.format_percent("en", 66.66) == "66.7%"
    assert i18n.format_size("id", 48213) == "48.213 bita"
    assert i18n.format_time("id", "2026-11-10T02:00:00.000Z") == "10 November 2026 10:00 WITA"
    for key, words in i18n.LABELS.items():
        assert set(words) == {"id", "en"}, key
    with pytest.raises(ValueError):
        i18n.t("fr", "due")


# ---------------------------------------------------------------------------------------- html, table


def test_html_is_self_contained_and_printable(report):
    text = render(report, "html", "id")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="id">' in text
    lowered = text.lower()
    for banned in ("<script", "<link", " src=", "@import", "url(", "<iframe", "<img"):
        assert banned not in lowered, banned
    assert "@media print" in text and "break-before: page" in text and "@page" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text        # host output is escaped
    assert "\x1b" not in text and "\\x1b[31m" in text             # control characters made visible
    for item_id in ALL_IDS:
        assert f'id="item-{item_id.replace(".", "-")}"' in text


def test_table_for_the_terminal(report):
    text = render(report, "table", "en")
    assert "\x1b" not in text and "\x00" not in text
    for item_id in ALL_IDS:
        assert re.search(rf"^{re.escape(item_id)}\s", text, re.M)
    assert "Compliance score:" in text and "compliant / (compliant + partly compliant + non-compliant)" in text
    assert "Changes since October 2026" in text


def test_render_rejects_unknown_format_and_language(report):
    assert set(FORMATS) == {"table", "md", "html", "json", "csv", "junit"}
    with pytest.raises(ValueError):
        render(report, "pdf")
    with pytest.raises(ValueError):
        render(report, "json", "fr")
