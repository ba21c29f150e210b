"""Words of the website situation report (SOP F.5) in Indonesian (default) and English.

Dates and months use the compliance report's own formatting (`sopctl.compliance.i18n`), so both
documents write `30 November 2026` and `66,7%` the same way.
"""

from __future__ import annotations

from typing import Any

from ..compliance.i18n import LANGS, format_date, format_month, format_percent, format_time, phrase  # noqa: F401

LABELS: dict[str, dict[str, str]] = {
    "title": {"id": "Laporan Situasi dan Kondisi Website", "en": "Website Situation Report"},
    "subtitle": {"id": "Melaporkan situasi, kondisi, permasalahan dan alternatif pemecahan masalah website",
                 "en": "The website's situation, condition, problems and options to solve them"},
    "sop_item": {"id": "Butir SOP", "en": "SOP item"},
    "period": {"id": "Periode", "en": "Period"},
    "generated_at": {"id": "Dibuat pada", "en": "Generated at"},
    "organisation": {"id": "Satuan kerja", "en": "Organisation"},
    "to": {"id": "Kepada", "en": "To"},
    "to_value": {"id": "Penanggung Jawab Informasi", "en": "The person in charge of information"},
    "summary": {"id": "Ringkasan", "en": "Summary"},
    "website": {"id": "Website", "en": "Website"},
    "url": {"id": "Alamat", "en": "Address"},
    "checks": {"id": "Jumlah pemeriksaan", "en": "Checks"},
    "uptime": {"id": "Ketersediaan", "en": "Availability"},
    "response": {"id": "Waktu respons rata-rata / maks.", "en": "Response time avg / max"},
    "last_status": {"id": "Status terakhir", "en": "Last status"},
    "certificate": {"id": "Sertifikat TLS", "en": "TLS certificate"},
    "freshness": {"id": "Pembaruan konten", "en": "Content freshness"},
    "renewals": {"id": "Masa berlaku layanan", "en": "Service renewals"},
    "availability_section": {"id": "Ketersediaan akses dan pembaruan konten (F.1)",
                             "en": "Availability and content freshness (F.1)"},
    "outages": {"id": "Gangguan yang terdeteksi", "en": "Failures detected"},
    "no_outages": {"id": "Tidak ada gangguan terdeteksi.", "en": "No failure detected."},
    "time": {"id": "Waktu", "en": "Time"},
    "check": {"id": "Pemeriksaan", "en": "Check"},
    "status": {"id": "Status", "en": "Status"},
    "observed": {"id": "Ditemukan", "en": "Observed"},
    "visitors_section": {"id": "Log aktivitas pengunjung (F.3)", "en": "Visitor activity log (F.3)"},
    "no_visitors": {"id": "Belum ada ringkasan log pengunjung untuk bulan ini.",
                    "en": "No visitor log summary for this month yet."},
    "requests": {"id": "Jumlah permintaan (hit)", "en": "Requests (hits)"},
    "unique_visitors": {"id": "Pengunjung unik (alamat IP)", "en": "Unique visitors (IP addresses)"},
    "estimated": {"id": "perkiraan", "en": "estimated"},
    "errors": {"id": "Galat 4xx / 5xx", "en": "Errors 4xx / 5xx"},
    "busiest_day": {"id": "Hari tersibuk", "en": "Busiest day"},
    "top_pages": {"id": "Halaman terpopuler", "en": "Top pages"},
    "page": {"id": "Halaman", "en": "Page"},
    "count": {"id": "Jumlah", "en": "Count"},
    "suspicious": {"id": "Akses mencurigakan", "en": "Suspicious access"},
    "many_404": {"id": "Alamat IP dengan banyak 404", "en": "IP addresses with many 404s"},
    "cat_traversal": {"id": "penelusuran direktori (path traversal)", "en": "path traversal"},
    "cat_sqli": {"id": "injeksi SQL", "en": "SQL injection"},
    "cat_xss": {"id": "injeksi skrip (XSS)", "en": "script injection (XSS)"},
    "cat_scanner": {"id": "pemindai/probe (wp-login, .env, phpMyAdmin, ...)",
                    "en": "scanners/probes (wp-login, .env, phpMyAdmin, ...)"},
    "renewals_section": {"id": "Perpanjangan koneksi, hosting dan domain (F.4)",
                         "en": "Connection, hosting and domain renewals (F.4)"},
    "service": {"id": "Layanan", "en": "Service"},
    "expires": {"id": "Berakhir", "en": "Expires"},
    "days_left": {"id": "Sisa hari", "en": "Days left"},
    "level": {"id": "Peringatan", "en": "Warning"},
    "domain": {"id": "Domain", "en": "Domain"},
    "hosting": {"id": "Hosting", "en": "Hosting"},
    "provider": {"id": "Penyedia", "en": "Provider"},
    "incidents_section": {"id": "Permasalahan dan penanganan (F.6, F.7)", "en": "Problems and their handling (F.6, F.7)"},
    "no_incidents": {"id": "Tidak ada insiden tercatat bulan ini.", "en": "No incident recorded this month."},
    "incident": {"id": "Insiden", "en": "Incident"},
    "problem": {"id": "Masalah", "en": "Problem"},
    "opened": {"id": "Dibuka", "en": "Opened"},
    "handled_by": {"id": "Ditangani", "en": "Handled by"},
    "first_step": {"id": "Langkah pertama (F.6, batas {limit})", "en": "First step (F.6, limit {limit})"},
    "resolved": {"id": "Selesai (F.7, batas {limit})", "en": "Solved (F.7, limit {limit})"},
    "open": {"id": "belum selesai", "en": "still open"},
    "none": {"id": "belum ada", "en": "none yet"},
    "options_section": {"id": "Permasalahan dan alternatif pemecahan masalah",
                        "en": "Problems and options to solve them"},
    "no_problems": {"id": "Tidak ada permasalahan yang memerlukan tindakan.", "en": "No problem needs action."},
    "signatures": {"id": "Pengesahan", "en": "Sign-off"},
    "made_by": {"id": "Dibuat oleh, Admin Web", "en": "Prepared by, web administrator"},
    "acknowledged_by": {"id": "Mengetahui, Penanggung Jawab Informasi", "en": "Acknowledged by, person in charge"},
    "status_pass": {"id": "Lulus", "en": "Pass"},
    "status_fail": {"id": "Gagal", "en": "Fail"},
    "status_error": {"id": "Galat", "en": "Error"},
    "status_na": {"id": "Tidak berlaku", "en": "N/A"},
    "status_none": {"id": "Belum diperiksa", "en": "Not checked"},
    "admin": {"id": "Admin web", "en": "Web admin"},
    "provider_party": {"id": "Pihak ke-3 (provider)", "en": "Third party (provider)"},
    "level_ok": {"id": "aman", "en": "ok"},
    "level_60-day": {"id": "60 hari", "en": "60 days"},
    "level_30-day": {"id": "30 hari", "en": "30 days"},
    "level_7-day": {"id": "7 hari", "en": "7 days"},
    "level_expired": {"id": "sudah berakhir", "en": "expired"},
    "level_n/a": {"id": "tidak berlaku", "en": "n/a"},
    "level_unknown": {"id": "tidak diketahui", "en": "unknown"},
    "on-time": {"id": "tepat waktu", "en": "on time"},
    "late": {"id": "terlambat", "en": "late"},
    "pending": {"id": "berjalan", "en": "in progress"},
    "overdue": {"id": "melewati batas", "en": "overdue"},
}

PROBLEMS: dict[str, dict[str, str]] = {
    "down": {"id": "{site}: tidak dapat diakses pada {fails} dari {checks} pemeriksaan (ketersediaan {uptime}).",
             "en": "{site}: not available in {fails} of {checks} checks (availability {uptime})."},
    "down_fix": {"id": "Periksa server web dan koneksi; bila di pihak penyedia, hubungi {provider} dan catat "
                       "sebagai insiden (incident.open).",
                 "en": "Check the web server and the connection; if it is on the provider's side, contact "
                       "{provider} and record an incident (incident.open)."},
    "tls": {"id": "{site}: sertifikat TLS tidak valid ({observed}).", "en": "{site}: TLS certificate not valid ({observed})."},
    "tls_fix": {"id": "Perpanjang atau pasang ulang sertifikat (mis. Let's Encrypt/certbot) dan periksa rantai "
                      "sertifikatnya.",
                "en": "Renew or reinstall the certificate (e.g. Let's Encrypt/certbot) and check its chain."},
    "stale": {"id": "{site}: konten tidak diperbarui ({observed}).", "en": "{site}: content not updated ({observed})."},
    "stale_fix": {"id": "Koordinasikan dengan operator sub bagian dan editor agar informasi wajib dipublikasikan "
                        "(SOP bagian E).",
                  "en": "Coordinate with the sub-section operators and the editor to publish the required "
                        "information (SOP section E)."},
    "renewal": {"id": "{site}: {what} berakhir {date} ({days} hari lagi).",
                "en": "{site}: {what} expires {date} ({days} days left)."},
    "renewal_expired": {"id": "{site}: {what} sudah berakhir {date}.", "en": "{site}: {what} expired on {date}."},
    "renewal_fix": {"id": "Ajukan perpanjangan kepada penyedia layanan ({provider}) sebelum tanggal berakhir.",
                    "en": "Ask the provider ({provider}) to renew before it expires."},
    "suspicious": {"id": "{site}: {count} akses mencurigakan ({kinds}).",
                   "en": "{site}: {count} suspicious requests ({kinds})."},
    "suspicious_fix": {"id": "Blokir alamat IP penyerang (firewall/fail2ban), perbarui CMS dan plugin, dan pastikan "
                             "berkas sensitif (.env, .git) tidak dapat diakses.",
                       "en": "Block the attacking addresses (firewall/fail2ban), update the CMS and plugins, and make "
                             "sure sensitive files (.env, .git) cannot be reached."},
    "incident_open": {"id": "Insiden #{id} ({site}) belum selesai: {problem}.",
                      "en": "Incident #{id} ({site}) is still open: {problem}."},
    "incident_fix": {"id": "Selesaikan secara mandiri atau libatkan pihak ketiga; batas SOP {limit}.",
                     "en": "Solve it alone or with a third party; the SOP allows {limit}."},
    "no_log": {"id": "{site}: log pengunjung belum dapat dibaca ({observed}).",
               "en": "{site}: the visitor log could not be read ({observed})."},
    "no_log_fix": {"id": "Atur access_log di inventaris dan pastikan pengguna SSH dapat membacanya (grup adm).",
                   "en": "Set access_log in the inventory and make sure the SSH user can read it (adm group)."},
}


def label(lang: str, key: str, **params: Any) -> str:
    return phrase(LABELS, lang, key, **params)


def problem(lang: str, key: str, **params: Any) -> str:
    return PROBLEMS[key][lang].format(**params)


def number(lang: str, value: int | float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.1f}"
    else:
        text = f"{int(value):,}"
    if lang == "id":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text
