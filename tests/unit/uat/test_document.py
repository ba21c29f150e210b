"""The "Hasil Test" document: what the application said is shown, never executed or mis-rendered."""

from __future__ import annotations

import textwrap

from sopctl.compliance.catalog import load_catalog
from sopctl.uat import document
from sopctl.uat.checklist import load_checklist
from sopctl.uat.runner import EvidenceFile, StepResult, UatOutcome

from .support import REPO

HOSTILE = "<script>alert('x')</script> | **tebal** \x1b[31mmerah\x1b[0m"


def _outcome(tmp_path, lang="id") -> UatOutcome:
    path = tmp_path / "uji.yml"
    path.write_text(textwrap.dedent("""\
        name: uji
        title: Aplikasi <Uji> & Co
        version: "1.0.0"
        owner: IT
        url: https://127.0.0.1:8443/
        steps:
        - id: beranda
          http: {path: /, contains: Selamat}
        - id: cetak
          manual: {question: "Cetak | laporan?", pass_when: PDF terbuka}
        """))
    checklist = load_checklist(path)
    home, printed = checklist.steps
    outcome = UatOutcome(checklist, "Budi <b>", lang, "2026-11-03T02:00:00.000Z", "2026-11-03T02:05:00.000Z")
    outcome.steps = [
        StepResult(home, 1, "fail", expected="contains 'Selamat'", observed="HTTP 200", detail="'Selamat' not found",
                   output=HOSTILE, command="GET https://127.0.0.1:8443/", duration_ms=12.3),
        StepResult(printed, 2, "pass", expected="PDF terbuka", observed="Cetak | laporan?", detail=HOSTILE,
                   evidence=[EvidenceFile("layar <1>.png", "ab" * 32, 10, "var/evidence/abababababababab/layar.png")],
                   answered_by="answers"),
    ]
    return outcome


def test_html_escapes_everything_the_application_or_the_tester_wrote(tmp_path):
    catalog = load_catalog(REPO / "checks" / "sop.yml")
    html, _ = document.render(_outcome(tmp_path), "id", sop=catalog.header,
                               item_title=catalog.item("D.2").title_id, run_id=7)
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "\x1b" not in html and "\\x1b[31mmerah" in html
    assert "Aplikasi &lt;Uji&gt; &amp; Co" in html and "Budi &lt;b&gt;" in html
    assert '<span class="big badge r-failed">TIDAK LULUS</span>' in html
    assert "3 November 2026 10:05 WITA" in html                       # local time, Indonesian month
    assert "Nomor pengujian</th><td>#7" in html
    assert "<details open>" in html                                   # the failing step's output is unfolded
    assert "SOP/AS/32" in html and "Pengadilan Agama Batulicin" in html


def test_markdown_cells_are_escaped_and_output_is_fenced(tmp_path):
    _, md = document.render(_outcome(tmp_path), "id")
    row = next(line for line in md.splitlines() if line.startswith("| 2 |"))
    assert row.count(" | ") == 8                                      # the | inside the text did not add a column
    assert "Cetak \\| laporan?" in row and "&lt;script&gt;" in row and "\\*\\*tebal\\*\\*" in row
    assert "layar &lt;1&gt;.png (SHA-256 `" + "ab" * 32 + "`)" in row
    assert "```\n<script>alert('x')</script> | **tebal** \\x1b[31mmerah\\x1b[0m\n```" in md
    assert "**Kesimpulan: TIDAK LULUS** — 1 lulus, 1 gagal, 0 galat, 0 dilewati dari 2 langkah" in md


def test_english_and_a_project_template_override(tmp_path):
    html, md = document.render(_outcome(tmp_path, "en"), "en")
    assert "User Acceptance Test Results (UAT)" in html and "3 November 2026 10:05" in html
    assert "**Conclusion: FAILED** — 1 passed, 1 failed, 0 errors, 0 skipped of 2 steps" in md
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / document.HTML_TEMPLATE).write_text("<p>{{ result_label }} {{ tester }}</p>")
    assert document.template_folder(custom) == document.TEMPLATE_DIR          # needs both templates
    (custom / document.MD_TEMPLATE).write_text("{{ result_label }}")
    assert document.template_folder(custom) == custom
    html, md = document.render(_outcome(tmp_path), "id", template_dir=custom)
    assert html == "<p>TIDAK LULUS Budi &lt;b&gt;</p>" and md == "TIDAK LULUS"


def test_document_names_sort_by_time_and_are_safe_file_names(tmp_path):
    outcome = _outcome(tmp_path)
    assert document.document_stem(outcome) == "uji-1.0.0-20261103T020500Z"
