"""The UAT feature's words in Indonesian (`id`, the default) and English (`en`).

Dates and times are written by `sopctl.compliance.i18n` (`30 November 2026`, `5 November 2026 10:00 WITA`);
only the UAT's own labels, result words and prompts live here. The SOP's own words are kept as the SOP
writes them: "Hasil Test" (D.2), "Catatan Pertimbangan" (D.3), "Persetujuan Aplikasi" (D.6).
"""

from __future__ import annotations

from typing import Any

from sopctl.compliance.i18n import LANGS, check_lang, format_date, format_time, phrase, word  # noqa: F401 (re-exported)

# One step's result.
STEP_WORDS: dict[str, dict[str, str]] = {
    "pass": {"id": "Lulus", "en": "Pass"},
    "fail": {"id": "Gagal", "en": "Fail"},
    "skip": {"id": "Dilewati", "en": "Skipped"},
    "error": {"id": "Galat", "en": "Error"},
}

# The whole run's result.
RUN_WORDS: dict[str, dict[str, str]] = {
    "passed": {"id": "LULUS", "en": "PASSED"},
    "failed": {"id": "TIDAK LULUS", "en": "FAILED"},
}

# Review (D.3) and approval (D.6) decisions.
DECISION_WORDS: dict[str, dict[str, str]] = {
    "recommend": {"id": "Direkomendasikan", "en": "Recommended"},
    "reject": {"id": "Ditolak", "en": "Rejected"},
    "approve": {"id": "Disetujui", "en": "Approved"},
}

KIND_WORDS: dict[str, dict[str, str]] = {
    "http": {"id": "HTTP", "en": "HTTP"},
    "login": {"id": "Login", "en": "Login"},
    "tls": {"id": "Sertifikat TLS", "en": "TLS certificate"},
    "tcp": {"id": "Port TCP", "en": "TCP port"},
    "command": {"id": "Perintah", "en": "Command"},
    "service": {"id": "Layanan", "en": "Service"},
    "file": {"id": "Berkas", "en": "File"},
    "database": {"id": "Basis data", "en": "Database"},
    "manual": {"id": "Manual", "en": "Manual"},
}

# Where an application stands in the D.2 -> D.3 -> D.6 chain (`uat.status`).
STAGE_WORDS: dict[str, dict[str, str]] = {
    "not-tested": {"id": "belum diuji", "en": "not tested"},
    "test-failed": {"id": "uji tidak lulus", "en": "test failed"},
    "tested": {"id": "lulus uji, menunggu pertimbangan", "en": "tested, awaiting review"},
    "review-outdated": {"id": "diuji ulang, pertimbangan perlu diulang", "en": "re-tested, review outdated"},
    "review-rejected": {"id": "pertimbangan menolak", "en": "review rejected"},
    "reviewed": {"id": "direkomendasikan, menunggu persetujuan", "en": "reviewed, awaiting approval"},
    "approval-rejected": {"id": "persetujuan ditolak", "en": "approval rejected"},
    "approved": {"id": "disetujui", "en": "approved"},
}

LABELS: dict[str, dict[str, str]] = {
    "doc_title": {"id": "Hasil Test Penerimaan Pengguna (UAT)", "en": "User Acceptance Test Results (UAT)"},
    "sop_output": {"id": "Hasil Test", "en": "Hasil Test (test results)"},
    "sop_item": {"id": "Butir SOP", "en": "SOP item"},
    "application": {"id": "Aplikasi", "en": "Application"},
    "version": {"id": "Versi", "en": "Version"},
    "owner": {"id": "Penanggung jawab aplikasi", "en": "Application owner"},
    "url": {"id": "Alamat (URL)", "en": "Address (URL)"},
    "hosts": {"id": "Server", "en": "Hosts"},
    "tester": {"id": "Penguji", "en": "Tester"},
    "started": {"id": "Mulai", "en": "Started"},
    "finished": {"id": "Selesai", "en": "Finished"},
    "checklist": {"id": "Daftar uji", "en": "Checklist"},
    "result": {"id": "Hasil", "en": "Result"},
    "overall": {"id": "Kesimpulan", "en": "Conclusion"},
    "summary": {"id": "Ringkasan", "en": "Summary"},
    "steps": {"id": "Langkah uji", "en": "Test steps"},
    "no": {"id": "No.", "en": "No."},
    "step": {"id": "Langkah", "en": "Step"},
    "kind": {"id": "Jenis", "en": "Kind"},
    "expected": {"id": "Diharapkan", "en": "Expected"},
    "observed": {"id": "Ditemukan", "en": "Observed"},
    "detail": {"id": "Keterangan", "en": "Detail"},
    "evidence": {"id": "Bukti", "en": "Evidence"},
    "duration": {"id": "Durasi", "en": "Duration"},
    "output": {"id": "Keluaran", "en": "Output"},
    "command": {"id": "Perintah", "en": "Command"},
    "question": {"id": "Pertanyaan", "en": "Question"},
    "pass_when": {"id": "Lulus bila", "en": "Passes when"},
    "comment": {"id": "Komentar", "en": "Comment"},
    "optional": {"id": "opsional", "en": "optional"},
    "run_id": {"id": "Nomor pengujian", "en": "Test run"},
    "generated_at": {"id": "Dibuat pada", "en": "Generated at"},
    "signature": {"id": "Tanda tangan", "en": "Signature"},
    "sop": {"id": "SOP", "en": "SOP"},
    "organisation": {"id": "Satuan kerja", "en": "Organisation"},
    "counts": {"id": "{passed} lulus, {failed} gagal, {errors} galat, {skipped} dilewati dari {total} langkah",
               "en": "{passed} passed, {failed} failed, {errors} errors, {skipped} skipped of {total} steps"},
    "review": {"id": "Catatan Pertimbangan", "en": "Catatan Pertimbangan (review)"},
    "approval": {"id": "Persetujuan Aplikasi", "en": "Persetujuan Aplikasi (approval)"},
    "stage": {"id": "Tahap", "en": "Stage"},
    "by": {"id": "Oleh", "en": "By"},
    "when": {"id": "Waktu", "en": "When"},
    "test": {"id": "Hasil Test", "en": "Test"},
    "note": {"id": "Catatan", "en": "Note"},
    # the terminal
    "prompt_result": {"id": "Hasil [p=lulus / f=gagal / s=lewati]: ", "en": "Result [p=pass / f=fail / s=skip]: "},
    "prompt_comment": {"id": "Komentar: ", "en": "Comment: "},
    "prompt_comment_required": {"id": "Komentar (wajib untuk gagal/lewati): ",
                                "en": "Comment (required for fail/skip): "},
    "prompt_evidence": {"id": "Berkas bukti (tangkapan layar; kosong = tidak ada): ",
                        "en": "Evidence file (screenshot; empty = none): "},
    "bad_result": {"id": "jawab p, f atau s", "en": "answer p, f or s"},
    "no_such_file": {"id": "berkas tidak ada: {path}", "en": "no such file: {path}"},
    "comment_needed": {"id": "komentar wajib diisi untuk langkah yang gagal atau dilewati",
                       "en": "a comment is required for a failed or skipped step"},
    "manual_header": {"id": "Uji manual", "en": "Manual test"},
}


def t(lang: str, key: str, **params: Any) -> str:
    return phrase(LABELS, lang, key, **params)


def step_word(lang: str, result: str) -> str:
    return word(STEP_WORDS, lang, result)


def run_word(lang: str, result: str) -> str:
    return word(RUN_WORDS, lang, result)


def decision_word(lang: str, decision: str) -> str:
    return word(DECISION_WORDS, lang, decision)


def kind_word(lang: str, kind: str) -> str:
    return word(KIND_WORDS, lang, kind)


def stage_word(lang: str, stage: str) -> str:
    return word(STAGE_WORDS, lang, stage)


def duration_text(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"
