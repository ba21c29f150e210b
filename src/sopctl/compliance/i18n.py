"""The compliance report's words in Indonesian (`id`, the default: the court's language) and English (`en`).

Only labels, status words and sentences live here. SOP text (item titles, section headings, the SOP's
time standard "30 Setiap Bulan") is never translated: it is the auditor's wording and comes from the
catalog as the SOP writes it; the English reading of a title is *added* beside it in `en`.

    t("en", "hosts_failing")                    -> "Hosts failing"
    status_label("id", "non-compliant")         -> "Tidak patuh"
    format_date("id", date(2026, 11, 30))       -> "30 November 2026"
    sentence("id", "attest_stale", {...})       -> "pernyataan terakhir tanggal 3 Januari 2025: kedaluwarsa ..."

Vocabulary choices (formal Indonesian, KBBI spelling): compliant "Patuh", partly "Patuh sebagian",
non-compliant "Tidak patuh", waived "Dikecualikan" (a waiver is a "pengecualian"), not verified "Belum
terverifikasi", not applicable "Tidak berlaku"; a check passes "Lulus", fails "Gagal", errs "Galat";
a stale attestation is "Kedaluwarsa"; the due date is "Batas waktu", "paling lambat <date>".
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

LANGS = ("id", "en")
DEFAULT_LANG = "id"

# --------------------------------------------------------------------------------------- status words

# The six item statuses (codes are sopctl.compliance.status.STATUSES).
STATUS_WORDS: dict[str, dict[str, str]] = {
    "compliant": {"id": "Patuh", "en": "Compliant"},
    "partly": {"id": "Patuh sebagian", "en": "Partly compliant"},
    "non-compliant": {"id": "Tidak patuh", "en": "Non-compliant"},
    "waived": {"id": "Dikecualikan", "en": "Waived"},
    "not-verified": {"id": "Belum terverifikasi", "en": "Not verified"},
    "na": {"id": "Tidak berlaku", "en": "Not applicable"},
}

# One evidence line's own state (a check result, an attestation, a workflow record ...).
LINE_WORDS: dict[str, dict[str, str]] = {
    "pass": {"id": "Lulus", "en": "Pass"},
    "fail": {"id": "Gagal", "en": "Fail"},
    "error": {"id": "Galat", "en": "Error"},
    "na": {"id": "Tidak berlaku", "en": "Not applicable"},
    "waived": {"id": "Dikecualikan", "en": "Waived"},
    "fresh": {"id": "Masih berlaku", "en": "Current"},
    "stale": {"id": "Kedaluwarsa", "en": "Stale"},
    "compliant": {"id": "Patuh", "en": "Compliant"},
    "non-compliant": {"id": "Tidak patuh", "en": "Non-compliant"},
    "invalid": {"id": "Tidak valid", "en": "Invalid record"},
    "present": {"id": "Tersedia", "en": "Present"},
    "info": {"id": "Informasi", "en": "Information"},
}

EVIDENCE_KIND_WORDS: dict[str, dict[str, str]] = {
    "auto": {"id": "Otomatis", "en": "Automatic"},
    "workflow": {"id": "Alur kerja", "en": "Workflow"},
    "attest": {"id": "Pernyataan", "en": "Attestation"},
    "generated": {"id": "Dokumen otomatis", "en": "Generated document"},
    # evidence line kinds
    "check": {"id": "Pemeriksaan", "en": "Check"},
    "attestation": {"id": "Pernyataan", "en": "Attestation"},
    "record": {"id": "Catatan", "en": "Record"},
}

CADENCE_WORDS: dict[str, dict[str, str]] = {
    "yearly": {"id": "Tahunan", "en": "Yearly"},
    "monthly": {"id": "Bulanan", "en": "Monthly"},
    "per-request": {"id": "Setiap permintaan", "en": "Per request"},
    "per-application": {"id": "Setiap aplikasi", "en": "Per application"},
    "per-publication": {"id": "Setiap publikasi", "en": "Per publication"},
    "per-incident": {"id": "Setiap insiden", "en": "Per incident"},
}

MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
           "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}

# --------------------------------------------------------------------------------------------- labels

LABELS: dict[str, dict[str, str]] = {
    "report_title": {"id": "Laporan Kepatuhan", "en": "Compliance Report"},
    "sop_number": {"id": "Nomor SOP", "en": "SOP number"},
    "sop_title": {"id": "Nama SOP", "en": "SOP title"},
    "created": {"id": "Tanggal pembuatan", "en": "Created"},
    "revised": {"id": "Tanggal revisi", "en": "Revised"},
    "effective": {"id": "Tanggal efektif", "en": "Effective"},
    "organisation": {"id": "Satuan kerja", "en": "Organisation"},
    "parent_organisation": {"id": "Instansi induk", "en": "Parent organisation"},
    "approved_by": {"id": "Disahkan oleh", "en": "Approved by"},
    "nip": {"id": "NIP", "en": "NIP"},
    "legal_basis": {"id": "Dasar hukum", "en": "Legal basis"},
    "period": {"id": "Periode", "en": "Period"},
    "as_of": {"id": "Keadaan per", "en": "Status as of"},
    "inventory": {"id": "Inventaris host", "en": "Inventory"},
    "inventory_files": {"id": "Berkas inventaris", "en": "Inventory files"},
    "hosts_count": {"id": "{n} host", "en": "{n} host(s)"},
    "hosts_not_audited": {"id": "Host yang tidak diperiksa bulan ini", "en": "Hosts not audited this month"},
    "hosts_ignored": {"id": "Hasil dari host di luar inventaris (diabaikan)",
                      "en": "Results from hosts outside the inventory (ignored)"},
    "first_run": {"id": "Pemeriksaan pertama", "en": "First run"},
    "last_run": {"id": "Pemeriksaan terakhir", "en": "Last run"},
    "runs": {"id": "Jumlah pemeriksaan tuntas", "en": "Complete runs"},
    "performed_by": {"id": "Dilaksanakan oleh", "en": "Performed by"},
    "generated_at": {"id": "Dibuat pada", "en": "Generated at"},
    "summary": {"id": "Ringkasan per butir SOP", "en": "Summary by SOP item"},
    "details": {"id": "Rincian per butir SOP", "en": "Details by SOP item"},
    "section": {"id": "Bagian", "en": "Section"},
    "item_id": {"id": "No.", "en": "No."},
    "item_title": {"id": "Kegiatan", "en": "Activity"},
    "title_en": {"id": "Kegiatan (bahasa Inggris)", "en": "Activity (English)"},
    "status": {"id": "Status", "en": "Status"},
    "status_code": {"id": "Kode status", "en": "Status code"},
    "reason": {"id": "Keterangan", "en": "Explanation"},
    "hosts_passing": {"id": "Host lulus", "en": "Hosts passing"},
    "hosts_failing": {"id": "Host gagal", "en": "Hosts failing"},
    "hosts_waived": {"id": "Host dikecualikan", "en": "Hosts waived"},
    "hosts_error": {"id": "Host galat", "en": "Hosts in error"},
    "last_evidence": {"id": "Bukti terakhir", "en": "Last evidence"},
    "due": {"id": "Batas waktu", "en": "Due"},
    "overdue": {"id": "terlambat", "en": "overdue"},
    "cadence": {"id": "Frekuensi", "en": "Cadence"},
    "time_standard": {"id": "Waktu (SOP)", "en": "Time standard (SOP)"},
    "output_sop": {"id": "Output (SOP)", "en": "Output (SOP)"},
    "evidence_kind": {"id": "Jenis bukti", "en": "Evidence kind"},
    "evidence": {"id": "Bukti", "en": "Evidence"},
    "no_evidence": {"id": "Tidak ada bukti.", "en": "No evidence."},
    "line_kind": {"id": "Jenis", "en": "Kind"},
    "check": {"id": "Pemeriksaan", "en": "Check"},
    "host": {"id": "Host", "en": "Host"},
    "result": {"id": "Hasil", "en": "Result"},
    "observed": {"id": "Ditemukan", "en": "Observed"},
    "expected": {"id": "Diharapkan", "en": "Expected"},
    "command": {"id": "Perintah", "en": "Command"},
    "output": {"id": "Keluaran", "en": "Output"},
    "output_trimmed": {"id": "keluaran dipotong", "en": "output trimmed"},
    "time": {"id": "Waktu", "en": "Time"},
    "severity": {"id": "Tingkat", "en": "Severity"},
    "waiver": {"id": "Pengecualian", "en": "Waiver"},
    "waiver_reason": {"id": "Alasan pengecualian", "en": "Waiver reason"},
    "waiver_approved_by": {"id": "Disetujui oleh", "en": "Approved by"},
    "waiver_expires": {"id": "Berlaku sampai", "en": "Expires"},
    "waiver_expired": {"id": "pengecualian kedaluwarsa sejak {date}", "en": "waiver expired after {date}"},
    "attestation": {"id": "Pernyataan", "en": "Attestation"},
    "file": {"id": "Berkas", "en": "File"},
    "sha256": {"id": "SHA-256", "en": "SHA-256"},
    "size": {"id": "Ukuran", "en": "Size"},
    "bytes": {"id": "{n} bita", "en": "{n} bytes"},
    "by": {"id": "Oleh", "en": "By"},
    "note": {"id": "Catatan", "en": "Note"},
    "detail": {"id": "Rincian", "en": "Detail"},
    "summary_text": {"id": "Ringkasan", "en": "Summary"},
    "record": {"id": "Nomor catatan", "en": "Record"},
    "score": {"id": "Nilai kepatuhan", "en": "Compliance score"},
    "score_formula": {"id": "patuh / (patuh + patuh sebagian + tidak patuh)",
                      "en": "compliant / (compliant + partly compliant + non-compliant)"},
    "score_value": {"id": "{c} / ({c} + {p} + {n}) = {percent}",
                    "en": "{c} / ({c} + {p} + {n}) = {percent}"},
    "score_none": {"id": "tidak dapat dihitung: tidak ada butir yang terverifikasi",
                   "en": "cannot be computed: no item is verified"},
    "score_excluded": {"id": "Tidak dihitung dalam nilai", "en": "Not counted in the score"},
    "score_checks": {"id": "Hasil pemeriksaan (pasangan pemeriksaan × host)",
                     "en": "Check results (check × host pairs)"},
    "count": {"id": "Jumlah", "en": "Count"},
    "items": {"id": "Butir", "en": "Items"},
    "changes": {"id": "Perubahan sejak {month}", "en": "Changes since {month}"},
    "no_changes": {"id": "Tidak ada perubahan.", "en": "No changes."},
    "status_changes": {"id": "Perubahan status butir", "en": "Item status changes"},
    "newly_non_compliant": {"id": "Menjadi tidak patuh", "en": "Newly non-compliant"},
    "fixed_items": {"id": "Sudah diperbaiki", "en": "Fixed"},
    "newly_failing": {"id": "Pemeriksaan yang baru gagal", "en": "Newly failing checks"},
    "fixed_checks": {"id": "Pemeriksaan yang sudah lulus kembali", "en": "Checks fixed"},
    "before": {"id": "Sebelumnya", "en": "Before"},
    "after": {"id": "Sekarang", "en": "Now"},
    "none": {"id": "tidak ada", "en": "none"},
    "never": {"id": "belum pernah", "en": "never"},
    "roles": {"id": "Pelaksana", "en": "Roles"},
    "page": {"id": "Halaman", "en": "Page"},
}

# ------------------------------------------------------------------------------------------ sentences

# An item's status is explained by one or more sentences: (code, params). Params whose name ends in
# "date" are dates (ISO text or date) and are written in the report's language.
SENTENCES: dict[str, dict[str, str]] = {
    "no_results": {
        "id": "tidak ada hasil pemeriksaan dari pemeriksaan tuntas bulan ini",
        "en": "no result from a complete run this month"},
    "all_pass": {
        "id": "semua {lines} hasil pemeriksaan lulus pada {hosts} host",
        "en": "all {lines} check results pass on {hosts} host(s)"},
    "some_fail": {
        "id": "{failing} host gagal, {passing} host lulus",
        "en": "{failing} host(s) fail, {passing} host(s) pass"},
    "all_fail": {
        "id": "semua {failing} host yang diperiksa gagal",
        "en": "all {failing} checked host(s) fail"},
    "failing_checks": {
        "id": "gagal: {checks}", "en": "failing: {checks}"},
    "waived_lines": {
        "id": "{waived} hasil gagal dikecualikan oleh pengecualian yang masih berlaku",
        "en": "{waived} failing result(s) covered by an active waiver"},
    "expired_waivers": {
        "id": "{count} pengecualian sudah kedaluwarsa: hasilnya dihitung gagal",
        "en": "{count} waiver(s) expired: those results count as failures"},
    "error_lines": {
        "id": "{errors} hasil pemeriksaan galat (tidak dapat diperiksa)",
        "en": "{errors} check result(s) in error (could not be checked)"},
    "all_na": {
        "id": "pemeriksaan tidak berlaku untuk host mana pun",
        "en": "the checks do not apply to any host"},
    "attest_fresh": {
        "id": "pernyataan tanggal {date} oleh {by}",
        "en": "attested on {date} by {by}"},
    "attest_stale": {
        "id": "pernyataan terakhir tanggal {date}: kedaluwarsa (harus dalam {window})",
        "en": "last attested on {date}: stale (must be within {window})"},
    "attest_none": {
        "id": "belum ada pernyataan", "en": "never attested"},
    "generated_present": {
        "id": "dokumen dibuat tanggal {date}", "en": "document generated on {date}"},
    "generated_none": {
        "id": "dokumen belum dibuat bulan ini", "en": "document not generated this month"},
    "workflow_none": {
        "id": "tidak ada catatan alur kerja {workflow} bulan ini",
        "en": "no {workflow} workflow record this month"},
    "workflow_counts": {
        "id": "{compliant} dari {total} catatan patuh, {non_compliant} tidak patuh",
        "en": "{compliant} of {total} record(s) compliant, {non_compliant} non-compliant"},
    "workflow_invalid": {
        "id": "{invalid} catatan tidak valid (tanpa status)",
        "en": "{invalid} record(s) invalid (no status)"},
    "workflow_na": {
        "id": "tidak ada kegiatan yang perlu dicatat bulan ini",
        "en": "nothing to record this month"},
}

WINDOW_WORDS: dict[str, dict[str, str]] = {
    "365 days": {"id": "365 hari", "en": "365 days"},
    "the month": {"id": "bulan laporan", "en": "the report's month"},
}

DUE_WORDS: dict[str, dict[str, str]] = {
    "by": {"id": "paling lambat {date}", "en": "by {date}"},
    "year": {"id": "dalam tahun {year} (paling lambat {date})", "en": "within {year} (by {date})"},
    "record": {"id": "{cadence}: {time}", "en": "{cadence}: {time}"},
}


# -------------------------------------------------------------------------------------------- lookups


def check_lang(lang: str) -> str:
    """`lang` if it is one of LANGS, else ValueError (the CLI turns it into a usage error)."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


def word(table: Mapping[str, Mapping[str, str]], lang: str, key: str) -> str:
    """`key`'s word in `lang` from one of the word tables ({key: {"id": …, "en": …}}); the key itself when
    the table has no such word (a status sopctl does not know yet still shows). The UAT and website word
    tables are read through this too."""
    words = table.get(key)
    if words is None:
        return key
    return words[check_lang(lang)]


def phrase(table: Mapping[str, Mapping[str, str]], lang: str, key: str, **params: Any) -> str:
    """Like `word`, with `{name}` placeholders filled from params."""
    text = word(table, lang, key)
    return text.format(**params) if params else text


def t(lang: str, key: str, **params: Any) -> str:
    """A label in `lang`, with `{name}` placeholders filled from params."""
    return phrase(LABELS, lang, key, **params)


def status_label(lang: str, status: str) -> str:
    """The word for one of the six item statuses."""
    return word(STATUS_WORDS, lang, status)


def line_label(lang: str, status: str) -> str:
    """The word for an evidence line's state (pass, fail, stale, ...)."""
    return word(LINE_WORDS, lang, status)


def kind_label(lang: str, kind: str) -> str:
    return word(EVIDENCE_KIND_WORDS, lang, kind)


def cadence_label(lang: str, cadence: str) -> str:
    return word(CADENCE_WORDS, lang, cadence)


def window_label(lang: str, window: str) -> str:
    return word(WINDOW_WORDS, lang, window)


# ------------------------------------------------------------------------------------ dates and times


def _as_date(value: Any) -> _dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        return value.astimezone().date() if value.tzinfo else value.date()
    if isinstance(value, _dt.date):
        return value
    text = str(value)
    if len(text) > 10:  # a stored time: its local calendar day
        return _as_datetime(text).date()
    return _dt.date.fromisoformat(text)


def _as_datetime(value: Any) -> _dt.datetime:
    """A stored UTC time (or datetime) in the machine's local time zone (WITA on the court's server)."""
    if isinstance(value, _dt.datetime):
        moment = value
    else:
        moment = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone()


def format_date(lang: str, value: Any) -> str:
    """`30 November 2026` / `30 Desember 2026`; '' for None."""
    day = _as_date(value)
    if day is None:
        return ""
    return f"{day.day} {MONTHS[check_lang(lang)][day.month - 1]} {day.year}"


def format_time(lang: str, value: Any) -> str:
    """A stored time in local time: `5 November 2026 10:00 WITA` ('' for None)."""
    if value is None or value == "":
        return ""
    moment = _as_datetime(value)
    zone = moment.strftime("%Z") or moment.strftime("%z")
    if zone and zone[0] in "+-" and len(zone) == 5:
        zone = f"UTC{zone[:3]}:{zone[3:]}"
    return f"{format_date(lang, moment.date())} {moment:%H:%M} {zone}".rstrip()


def format_month(lang: str, month: str) -> str:
    """`2026-11` -> `November 2026`."""
    year, number = month.split("-")
    return f"{MONTHS[check_lang(lang)][int(number) - 1]} {year}"


def format_size(lang: str, size: int | None) -> str:
    if size is None:
        return ""
    grouped = f"{size:,}".replace(",", "." if lang == "id" else ",")
    return t(lang, "bytes", n=grouped)


def format_percent(lang: str, value: float | None) -> str:
    """`66,7%` in Indonesian (decimal comma), `66.7%` in English."""
    if value is None:
        return ""
    text = f"{value:.1f}"
    return (text.replace(".", ",") if lang == "id" else text) + "%"


# -------------------------------------------------------------------------------------------- sentences


def sentence(lang: str, code: str, params: Mapping[str, Any] | None = None) -> str:
    """One explanation sentence; date params are formatted, a `window` param translated."""
    template = word(SENTENCES, lang, code)
    values: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if name.endswith("date"):
            values[name] = format_date(lang, value)
        elif name == "window":
            values[name] = window_label(lang, value)
        else:
            values[name] = value
    return template.format(**values)


def due_text(lang: str, kind: str, **params: Any) -> str:
    """`paling lambat 30 November 2026`, `dalam tahun 2026 (...)`, `Setiap permintaan: Hari ke 2`."""
    values = dict(params)
    if "date" in values:
        values["date"] = format_date(lang, values["date"])
    if "cadence" in values:
        values["cadence"] = cadence_label(lang, values["cadence"])
    return word(DUE_WORDS, lang, kind).format(**values)
