"""Render a MonthReport (sopctl.compliance.status) as table, md, html, json, csv or junit.

    from sopctl.compliance.report import render
    text = render(report, "html", lang="id")

Every format starts with the header (SOP number and date, title, organisation, legal basis, inventory,
run times, performed by, generated at), then one row per SOP item, then each item's detail and proof.
Labels and status words come from `i18n` in the chosen language; SOP titles are always the SOP's own
Indonesian `title_id`, with the English reading added beside it in `en`. `json` always carries the six
status codes (`compliant`, `partly`, `non-compliant`, `waived`, `not-verified`, `na`) plus a label.
See docs/report.md for each format's layout.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable

from tabulate import tabulate

from sopctl.compliance import i18n
from sopctl.compliance.i18n import (
    cadence_label,
    format_date,
    format_month,
    format_percent,
    format_size,
    format_time,
    kind_label,
    line_label,
    status_label,
    t,
)
from sopctl.compliance.status import NOT_SCORED, STATUSES, EvidenceLine, ItemStatus, MonthReport
from sopctl.errors import SopctlError

FORMATS = ("table", "md", "html", "json", "csv", "junit")
TEMPLATE_DIR = Path(__file__).resolve().parents[3] / "templates"   # the project's templates/ folder
HTML_TEMPLATE = "report.html.j2"
TABLE_OUTPUT_CHARS = 60    # the terminal table shows this much of a command's output; other formats all


# ------------------------------------------------------------------------------------- shared wording


def title_text(entry: ItemStatus, lang: str) -> str:
    """The SOP's title; in English the reading is added beside it."""
    return entry.title_id if lang == "id" else f"{entry.title_id} ({entry.title_en})"


def reason_text(entry: ItemStatus, lang: str) -> str:
    return "; ".join(i18n.sentence(lang, code, params) for code, params in entry.reasons)


def due_text(entry: ItemStatus, lang: str) -> str:
    due = entry.due
    if due.kind == "record":
        text = i18n.due_text(lang, "record", cadence=due.cadence, time=due.time_text)
    elif due.kind == "year":
        text = i18n.due_text(lang, "year", year=due.date.year, date=due.date)
    else:
        text = i18n.due_text(lang, "by", date=due.date)
    return f"{text} ({t(lang, 'overdue')})" if due.overdue else text


def host_list(hosts: list[str], limit: int | None = None) -> str:
    if limit is not None and len(hosts) > limit:
        return ", ".join(hosts[:limit]) + f", … (+{len(hosts) - limit})"
    return ", ".join(hosts)


def _failing_cell(entry: ItemStatus, limit: int | None = None) -> str:
    """`0`, or `2: pc-03, pc-07`: how many hosts fail, and which."""
    if not entry.hosts_failing:
        return "0"
    return f"{len(entry.hosts_failing)}: {host_list(entry.hosts_failing, limit)}"


def waiver_text(line: EvidenceLine, lang: str) -> str:
    """`Pengecualian: <reason>; Disetujui oleh: X; Berlaku sampai: 31 Desember 2026`."""
    waiver = line.waiver
    if waiver is None:
        return ""
    parts = [f"{t(lang, 'waiver')}: {waiver.reason}", f"{t(lang, 'waiver_approved_by')}: {waiver.approved_by}",
             f"{t(lang, 'waiver_expires')}: {format_date(lang, waiver.expires)}"]
    if waiver.expired:
        parts.append(t(lang, "waiver_expired", date=format_date(lang, waiver.expires)))
    return "; ".join(parts)


def line_subject(line: EvidenceLine, lang: str) -> str:
    """What the line is about: `check @ host`, the file, the workflow record, the summary."""
    if line.kind == "check":
        return f"{line.check_id} @ {line.host}"
    if line.kind == "attestation":
        return line.file_name or t(lang, "attestation")
    if line.kind == "workflow":
        return " ".join(x for x in (line.workflow, line.record and f"#{line.record}") if x)
    return line.summary or ""


def line_text(line: EvidenceLine, lang: str) -> str:
    """A plain-text account of one evidence line, several lines long (JUnit bodies, CSV-less readers)."""
    head = f"[{line_label(lang, line.status)}] {kind_label(lang, line.kind)}: {line_subject(line, lang)}"
    rows = [head]

    def add(key: str, value: Any) -> None:
        if value not in (None, ""):
            rows.append(f"  {t(lang, key)}: " + str(value).replace("\n", "\n    "))

    add("time", format_time(lang, line.time))
    if line.kind == "check":
        add("observed", line.observed)
        add("expected", line.expected)
        add("command", line.command)
        if line.output:
            rows.append(f"  {t(lang, 'output')}:")
            rows.extend("    " + part for part in line.output.splitlines())
        add("waiver", waiver_text(line, lang))
    elif line.kind == "attestation":
        add("sha256", line.file_sha256)
        add("size", format_size(lang, line.file_size))
        add("by", " ".join(x for x in (line.by_name, line.by_role and f"({line.by_role})") if x))
        add("note", line.note)
    else:
        add("summary_text", line.summary if line.kind == "workflow" else None)
        add("detail", line.detail)
        add("sha256", line.file_sha256)
        add("file", line.stored_path)
    return "\n".join(rows)


def header_rows(report: MonthReport, lang: str) -> list[tuple[str, str]]:
    """(label, value) pairs of the report header; legal basis values are joined by newlines."""
    head, sop = report.header, report.header.sop
    sop_date = sop.effective.text if lang == "id" else format_date(lang, sop.effective.date)
    signer = sop.approved_by.name + (f", {t(lang, 'nip')} {sop.approved_by.nip}" if sop.approved_by.nip else "")
    rows = [
        (t(lang, "sop_number"), f"{sop.number} ({t(lang, 'effective').lower()} {sop_date})"),
        (t(lang, "sop_title"), sop.title),
        (t(lang, "organisation"), sop.organisation + (f", {sop.parent_organisation}" if sop.parent_organisation
                                                       else "")),
        (t(lang, "approved_by"), signer),
        (t(lang, "legal_basis"), "\n".join(sop.legal_basis)),
        (t(lang, "period"), format_month(lang, report.month)),
        (t(lang, "as_of"), format_date(lang, head.as_of)),
        (t(lang, "inventory"), inventory_text(report, lang)),
        (t(lang, "runs"), str(head.runs)),
        (t(lang, "first_run"), format_time(lang, head.first_run) or t(lang, "none")),
        (t(lang, "last_run"), format_time(lang, head.last_run) or t(lang, "none")),
        (t(lang, "performed_by"), ", ".join(head.performed_by) or t(lang, "none")),
        (t(lang, "generated_at"), format_time(lang, head.generated_at)),
    ]
    if head.hosts_not_audited:
        rows.append((t(lang, "hosts_not_audited"), host_list(list(head.hosts_not_audited))))
    if head.hosts_ignored:
        rows.append((t(lang, "hosts_ignored"), host_list(list(head.hosts_ignored))))
    return rows


def inventory_text(report: MonthReport, lang: str) -> str:
    head = report.header
    hosts = head.inventory_hosts if head.inventory_hosts is not None else head.hosts_seen
    parts = [t(lang, "hosts_count", n=len(hosts))]
    if hosts:
        parts[0] += ": " + host_list(list(hosts), 12)
    if head.inventory_files:
        parts.append(f"{t(lang, 'inventory_files')}: {', '.join(head.inventory_files)}")
    return "; ".join(parts)


def score_text(report: MonthReport, lang: str) -> str:
    """`2 / (2 + 1 + 3) = 33,3%` with the formula, or why there is no score."""
    score = report.score
    if score.percent is None:
        return t(lang, "score_none")
    return t(lang, "score_value", c=score.counts["compliant"], p=score.counts["partly"],
             n=score.counts["non-compliant"], percent=format_percent(lang, score.percent))


def score_parts(report: MonthReport, lang: str) -> list[dict[str, Any]]:
    """One entry per status: its word, count, item ids and whether it is in the score."""
    return [{"status": status, "label": status_label(lang, status), "count": report.score.counts[status],
             "items": list(report.score.items[status]), "scored": status not in NOT_SCORED}
            for status in STATUSES]


def checks_score_text(report: MonthReport, lang: str) -> str:
    checks = report.score.checks
    parts = [f"{line_label(lang, state)} {checks[state]}" for state in ("pass", "fail", "waived", "error", "na")]
    percent = report.score.checks_percent
    tail = f" — {line_label(lang, 'pass')} / ({line_label(lang, 'pass')} + {line_label(lang, 'fail')}) = " \
           f"{format_percent(lang, percent)}" if percent is not None else ""
    return ", ".join(parts) + tail


def evidence_kind_text(entry: ItemStatus, lang: str) -> str:
    """How the item is evidenced: `Automatic`, `Automatic + Attestation` (C.4), `Generated document` ..."""
    item = entry.item
    if item.generated:
        return kind_label(lang, "generated")
    if item.evidence == "auto" and item.attest:
        return f"{kind_label(lang, 'auto')} + {kind_label(lang, 'attest')}"
    return kind_label(lang, item.evidence)


def section_title(report: MonthReport, letter: str, lang: str) -> str:
    section = report.sections[letter]
    return f"{letter}. {section.title_id}" + ("" if lang == "id" else f" ({section.title_en})")


# ----------------------------------------------------------------------------------------------- json


def to_dict(report: MonthReport, lang: str = "id") -> dict[str, Any]:
    """The JSON document: header, items (status codes exact), score, changes."""
    i18n.check_lang(lang)
    head, sop = report.header, report.header.sop
    header = {
        "sop": {
            "number": sop.number, "title": sop.title, "organisation": sop.organisation,
            "parent_organisation": sop.parent_organisation,
            "created": sop.created.date.isoformat(), "effective": sop.effective.date.isoformat(),
            "effective_text": sop.effective.text,
            "revised": sop.revised.date.isoformat() if sop.revised else None,
            "approved_by": {"name": sop.approved_by.name, "position": sop.approved_by.position,
                            "nip": sop.approved_by.nip},
            "legal_basis": list(sop.legal_basis),
        },
        "month": report.month, "as_of": head.as_of.isoformat(), "lang": lang,
        "generated_at": head.generated_at,
        "runs": {"count": head.runs, "first": head.first_run, "last": head.last_run},
        "performed_by": list(head.performed_by),
        "inventory": {"files": list(head.inventory_files),
                      "hosts": list(head.inventory_hosts) if head.inventory_hosts is not None else None,
                      "hosts_seen": list(head.hosts_seen), "hosts_not_audited": list(head.hosts_not_audited),
                      "hosts_ignored": list(head.hosts_ignored)},
    }
    items = []
    for entry in report.items:
        due = entry.due.to_dict()
        due["text"] = due_text(entry, lang)
        items.append({
            "id": entry.id, "title_id": entry.title_id, "title_en": entry.title_en, "section": entry.section,
            "status": entry.status, "status_label": status_label(lang, entry.status),
            "reason": reason_text(entry, lang), "evidence_kind": entry.item.evidence,
            "hosts_passing": entry.hosts_passing, "hosts_failing": entry.hosts_failing,
            "hosts_waived": entry.hosts_waived, "hosts_error": entry.hosts_error,
            "last_evidence": entry.last_evidence, "due": due,
            "evidence": [line.to_dict() for line in entry.evidence],
        })
    changes = report.changes.to_dict() if report.changes else None
    return {"header": header, "items": items, "score": report.score.to_dict(), "changes": changes}


def render_json(report: MonthReport, lang: str = "id") -> str:
    return json.dumps(to_dict(report, lang), indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------------------------ csv

_CSV_COLUMNS = ("item_id", "section", "item_title", "title_en", "status", "status_code", "reason", "due",
                "last_evidence", "line_kind", "check", "host", "result", "observed", "expected", "command",
                "output", "time", "waiver_reason", "waiver_approved_by", "waiver_expires", "file", "sha256",
                "size", "by", "detail")


def render_csv(report: MonthReport, lang: str = "id") -> str:
    """One row per item x evidence line (an item without evidence has one row with empty evidence
    columns). Written by the csv module: commas, quotes and newlines in values round-trip. Dates and
    times are ISO 8601 (sortable); `status_code` is the language-independent status."""
    columns = [c for c in _CSV_COLUMNS if lang == "en" or c != "title_en"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_header(lang, c) for c in columns])
    for entry in report.items:
        base = {"item_id": entry.id, "section": entry.section, "item_title": entry.title_id,
                "title_en": entry.title_en, "status": status_label(lang, entry.status),
                "status_code": entry.status, "reason": reason_text(entry, lang),
                "due": entry.due.date.isoformat() if entry.due.date else due_text(entry, lang),
                "last_evidence": entry.last_evidence or ""}
        for line in entry.evidence or [None]:
            row = dict(base)
            if line is not None:
                row.update(_csv_line(line, lang))
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()


def _csv_header(lang: str, column: str) -> str:
    return t(lang, column)


def _csv_line(line: EvidenceLine, lang: str) -> dict[str, Any]:
    row: dict[str, Any] = {"line_kind": kind_label(lang, line.kind), "result": line_label(lang, line.status),
                           "time": line.time or "", "sha256": line.file_sha256 or ""}
    if line.kind == "check":
        row.update(check=line.check_id, host=line.host, observed=line.observed, expected=line.expected,
                   command=line.command, output=line.output, severity=line.severity)
        if line.waiver:
            row.update(waiver_reason=line.waiver.reason, waiver_approved_by=line.waiver.approved_by,
                       waiver_expires=line.waiver.expires)
            if line.waiver.expired:
                row["detail"] = t(lang, "waiver_expired", date=line.waiver.expires)
    elif line.kind == "attestation":
        row.update(file=line.file_name, size=line.file_size,
                   by=" ".join(x for x in (line.by_name, line.by_role and f"({line.by_role})") if x),
                   detail=line.note)
    else:
        row.update(file=line.stored_path, host=line.host,
                   detail=" — ".join(x for x in (line.record and f"#{line.record}", line.summary, line.detail) if x))
    return row


# ---------------------------------------------------------------------------------------------- junit

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """Text that XML 1.0 can carry: control characters (an ANSI escape in some output) become U+FFFD."""
    return _XML_BAD.sub("\ufffd", "" if value is None else str(value))


def render_junit(report: MonthReport, lang: str = "id") -> str:
    """JUnit XML: one testsuite per SOP section, one testcase per SOP item (classname = section).

    non-compliant and partly -> <failure>; not-verified and na -> <skipped>; compliant and waived pass.
    Every testcase carries its evidence as text (in the failure/skipped body, else in system-out).
    """
    head = report.header
    root = ET.Element("testsuites", name=xml_text(f"{head.sop.number} {head.sop.title} {report.month}"))
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for letter, entries in report.by_section().items():
        failures = sum(1 for e in entries if e.status in ("non-compliant", "partly"))
        skipped = sum(1 for e in entries if e.status in ("not-verified", "na"))
        suite = ET.SubElement(root, "testsuite", name=xml_text(section_title(report, letter, lang)),
                              tests=str(len(entries)), failures=str(failures), errors="0",
                              skipped=str(skipped), time="0", timestamp=head.generated_at.rstrip("Z")[:19])
        totals["tests"] += len(entries)
        totals["failures"] += failures
        totals["skipped"] += skipped
        props = ET.SubElement(suite, "properties")
        for name, value in (("sop", head.sop.number), ("organisation", head.sop.organisation),
                            ("month", report.month), ("as_of", head.as_of.isoformat()),
                            ("first_run", head.first_run or ""), ("last_run", head.last_run or ""),
                            ("performed_by", ", ".join(head.performed_by)), ("generated_at", head.generated_at)):
            ET.SubElement(props, "property", name=name, value=xml_text(value))
        classname = xml_text(f"{letter} {report.sections[letter].title_id}")
        for entry in entries:
            case = ET.SubElement(suite, "testcase", classname=classname,
                                 name=xml_text(f"{entry.id} {title_text(entry, lang)}"), time="0")
            message = xml_text(f"{status_label(lang, entry.status)}: {reason_text(entry, lang)}")
            body = xml_text(_junit_body(entry, lang))
            if entry.status in ("non-compliant", "partly"):
                failure = ET.SubElement(case, "failure", message=message, type=entry.status)
                failure.text = body
            elif entry.status in ("not-verified", "na"):
                skipped_el = ET.SubElement(case, "skipped", message=message)
                skipped_el.text = body
            else:
                out = ET.SubElement(case, "system-out")
                out.text = message + "\n" + body
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_body(entry: ItemStatus, lang: str) -> str:
    lines = [f"{t(lang, 'due')}: {due_text(entry, lang)}"]
    if entry.hosts_failing:
        lines.append(f"{t(lang, 'hosts_failing')}: {host_list(entry.hosts_failing)}")
    if entry.hosts_passing:
        lines.append(f"{t(lang, 'hosts_passing')}: {host_list(entry.hosts_passing)}")
    lines.extend(line_text(line, lang) for line in entry.evidence)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- table


def render_table(report: MonthReport, lang: str = "id") -> str:
    """For the terminal: header, the summary table, score, changes, then each item's evidence table
    (command output cut to TABLE_OUTPUT_CHARS; the other formats keep all of it)."""
    out: list[str] = []
    head = report.header
    out.append(f"{t(lang, 'report_title').upper()} — {head.sop.number} {head.sop.title} — "
               f"{format_month(lang, report.month)}")
    out.append("")
    for label, value in header_rows(report, lang):
        values = value.split("\n")
        out.append(f"{label}: {values[0]}")
        out.extend(f"{' ' * (len(label) + 2)}{more}" for more in values[1:])
    out += ["", t(lang, "summary"), ""]
    rows = [[e.id, title_text(e, lang), status_label(lang, e.status), len(e.hosts_passing),
             _failing_cell(e, 3),
             format_date(lang, e.last_evidence) or "-", due_text(e, lang)] for e in report.items]
    headers = [t(lang, k) for k in ("item_id", "item_title", "status", "hosts_passing", "hosts_failing",
                                    "last_evidence", "due")]
    out.append(tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=[None, 48, None, None, 24, None, 28],
                        disable_numparse=True))
    out += ["", f"{t(lang, 'score')}: {score_text(report, lang)}   [{t(lang, 'score_formula')}]"]
    for part in score_parts(report, lang):
        mark = "" if part["scored"] else f"  ({t(lang, 'score_excluded').lower()})"
        ids = host_list(part["items"], 12)
        out.append(f"  {part['label']}: {part['count']}{mark}{' — ' + ids if ids else ''}")
    out.append(f"  {t(lang, 'score_checks')}: {checks_score_text(report, lang)}")
    out += ["", *_changes_lines(report, lang), "", t(lang, "details")]
    for letter, entries in report.by_section().items():
        out += ["", f"== {section_title(report, letter, lang)} =="]
        for entry in entries:
            out += ["", f"{entry.id}  {title_text(entry, lang)}",
                    f"  {t(lang, 'status')}: {status_label(lang, entry.status)} — {reason_text(entry, lang)}",
                    f"  {t(lang, 'due')}: {due_text(entry, lang)}"]
            if entry.hosts_failing:
                out.append(f"  {t(lang, 'hosts_failing')}: {host_list(entry.hosts_failing)}")
            if entry.hosts_waived:
                out.append(f"  {t(lang, 'hosts_waived')}: {host_list(entry.hosts_waived)}")
            if entry.hosts_error:
                out.append(f"  {t(lang, 'hosts_error')}: {host_list(entry.hosts_error)}")
            checks = [line for line in entry.evidence if line.kind == "check"]
            others = [line for line in entry.evidence if line.kind != "check"]
            if checks:
                table = tabulate([_table_check(line, lang) for line in checks],
                                 headers=[t(lang, k) for k in ("check", "host", "result", "observed", "expected",
                                                               "command", "output", "time")],
                                 tablefmt="simple", disable_numparse=True)
                out.extend("  " + row for row in table.splitlines())
            if others:
                table = tabulate([_table_other(line, lang) for line in others],
                                 headers=[t(lang, k) for k in ("line_kind", "result", "time", "detail", "file",
                                                               "sha256", "by")],
                                 tablefmt="simple", disable_numparse=True)
                out.extend("  " + row for row in table.splitlines())
            if not entry.evidence:
                out.append(f"  {t(lang, 'no_evidence')}")
    return terminal_safe("\n".join(out)) + "\n"


_TERMINAL_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Control characters (an ANSI escape in a host's output) shown as \\xNN, never sent to the terminal."""
    return _TERMINAL_BAD.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))


def _clip(text: str | None, limit: int) -> str:
    if not text:
        return ""
    flat = terminal_safe(text.replace("\r\n", "\n").replace("\n", " ⏎ "))
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _table_check(line: EvidenceLine, lang: str) -> list[str]:
    """One line per result (the terminal table clips; md, html, json and csv keep every character)."""
    result = line_label(lang, line.status)
    if line.waiver is not None:
        result += f" ({_clip(waiver_text(line, lang), 60)})"
    return [_clip(line.check_id, 32), _clip(line.host, 20), result, _clip(line.observed, 30),
            _clip(line.expected, 30), _clip(line.command, 40), _clip(line.output, TABLE_OUTPUT_CHARS),
            format_time(lang, line.time)]


def _by(line: EvidenceLine) -> str:
    return " ".join(x for x in (line.by_name, line.by_role and f"({line.by_role})") if x)


def _table_other(line: EvidenceLine, lang: str) -> list[str]:
    subject = line_subject(line, lang) if line.kind != "attestation" else None
    detail = " — ".join(x for x in (subject, line.detail, line.note) if x)
    size = f" ({format_size(lang, line.file_size)})" if line.file_size is not None else ""
    return [kind_label(lang, line.kind), line_label(lang, line.status), format_time(lang, line.time),
            _clip(detail, 60), _clip(line.stored_path or line.file_name or "", 48) + size, line.file_sha256 or "",
            _clip(_by(line), 40)]


def _changes_lines(report: MonthReport, lang: str) -> list[str]:
    changes = report.changes
    if changes is None:
        return []
    out = [t(lang, "changes", month=format_month(lang, changes.previous_month))]
    if not (changes.items or changes.newly_failing or changes.checks_fixed):
        return out + ["  " + t(lang, "no_changes")]
    for change in changes.items:
        out.append(f"  {change.id}: {status_label(lang, change.before)} → {status_label(lang, change.after)}")
    if changes.newly_non_compliant:
        out.append(f"  {t(lang, 'newly_non_compliant')}: {', '.join(changes.newly_non_compliant)}")
    if changes.fixed:
        out.append(f"  {t(lang, 'fixed_items')}: {', '.join(changes.fixed)}")
    if changes.newly_failing:
        out.append(f"  {t(lang, 'newly_failing')}: " + ", ".join(f"{c.check_id} @ {c.host}"
                                                                for c in changes.newly_failing))
    if changes.checks_fixed:
        out.append(f"  {t(lang, 'fixed_checks')}: " + ", ".join(f"{c.check_id} @ {c.host}"
                                                               for c in changes.checks_fixed))
    return out


# ------------------------------------------------------------------------------------------- markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: HTML-escaped, Markdown specials escaped, newlines <br>."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def md_fence(text: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _md_table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out.extend("| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows)
    return out


def render_md(report: MonthReport, lang: str = "id") -> str:
    head = report.header
    out = [f"# {t(lang, 'report_title')} {md_cell(head.sop.number)} — {md_cell(format_month(lang, report.month))}",
           ""]
    for label, value in header_rows(report, lang):
        if "\n" in value:
            out.append(f"- **{md_cell(label)}**:")
            out.extend(f"  - {md_cell(v)}" for v in value.split("\n"))
        else:
            out.append(f"- **{md_cell(label)}**: {md_cell(value)}")
    out += ["", f"## {t(lang, 'summary')}", ""]
    out += _md_table([t(lang, k) for k in ("item_id", "item_title", "status", "hosts_passing", "hosts_failing",
                                           "last_evidence", "due")],
                     [[e.id, title_text(e, lang), status_label(lang, e.status), len(e.hosts_passing),
                       _failing_cell(e), format_date(lang, e.last_evidence) or "-",
                       due_text(e, lang)] for e in report.items])
    out += ["", f"## {t(lang, 'score')}", "",
            f"**{md_cell(score_text(report, lang))}** — {md_cell(t(lang, 'score_formula'))}", ""]
    out += _md_table([t(lang, "status"), t(lang, "count"), t(lang, "items"), t(lang, "score_excluded")],
                     [[p["label"], p["count"], ", ".join(p["items"]), "" if p["scored"] else "✓"]
                      for p in score_parts(report, lang)])
    out += ["", f"{md_cell(t(lang, 'score_checks'))}: {md_cell(checks_score_text(report, lang))}", ""]
    if report.changes is not None:
        lines = _changes_lines(report, lang)
        out += [f"## {md_cell(lines[0])}", ""] + [f"- {md_cell(line.strip())}" for line in lines[1:]] + [""]
    out += [f"## {t(lang, 'details')}", ""]
    for letter, entries in report.by_section().items():
        out += [f"### {md_cell(section_title(report, letter, lang))}", ""]
        for entry in entries:
            out += _md_item(entry, lang)
    return terminal_safe("\n".join(out).rstrip("\n")) + "\n"


def _md_item(entry: ItemStatus, lang: str) -> list[str]:
    item = entry.item
    out = [f"#### {entry.id} {md_cell(title_text(entry, lang))}", "",
           f"- **{t(lang, 'status')}**: {md_cell(status_label(lang, entry.status))} — {md_cell(reason_text(entry, lang))}",
           f"- **{t(lang, 'due')}**: {md_cell(due_text(entry, lang))}",
           (f"- **{t(lang, 'time_standard')}**: {md_cell(item.time.text)}; **{t(lang, 'output_sop')}**: "
            f"{md_cell(item.output)}; **{t(lang, 'cadence')}**: {md_cell(cadence_label(lang, item.cadence))}; "
            f"**{t(lang, 'evidence_kind')}**: {md_cell(evidence_kind_text(entry, lang))}")]
    for key, hosts in (("hosts_passing", entry.hosts_passing), ("hosts_failing", entry.hosts_failing),
                       ("hosts_waived", entry.hosts_waived), ("hosts_error", entry.hosts_error)):
        if hosts:
            out.append(f"- **{t(lang, key)}**: {md_cell(host_list(hosts))}")
    out.append("")
    if not entry.evidence:
        return out + [t(lang, "no_evidence"), ""]
    checks = [line for line in entry.evidence if line.kind == "check"]
    others = [line for line in entry.evidence if line.kind != "check"]
    if checks:
        out += _md_table([t(lang, k) for k in ("check", "host", "result", "observed", "expected", "time", "waiver")],
                         [[c.check_id, c.host, line_label(lang, c.status), c.observed, c.expected,
                           format_time(lang, c.time), waiver_text(c, lang)] for c in checks])
        out.append("")
        for line in checks:
            if line.command or line.output:
                out += [f"`{line.check_id}` @ `{line.host}` — {md_cell(t(lang, 'output'))}"
                        + (f" ({t(lang, 'output_trimmed')})" if line.output_trimmed else "") + ":", "",
                        md_fence("\n".join(x for x in (line.command and f"$ {line.command}", line.output) if x)),
                        ""]
    if others:
        out += _md_table([t(lang, k) for k in ("line_kind", "result", "time", "detail", "file", "sha256", "by")],
                         [[kind_label(lang, o.kind), line_label(lang, o.status), format_time(lang, o.time),
                           " — ".join(x for x in (line_subject(o, lang), o.detail, o.note) if x),
                           o.stored_path or o.file_name, o.file_sha256,
                           " ".join(x for x in (o.by_name, o.by_role and f"({o.by_role})") if x)
                           + (f", {format_size(lang, o.file_size)}" if o.file_size is not None else "")]
                          for o in others])
        out.append("")
    return out


# ----------------------------------------------------------------------------------------------- html


def _jinja_env(template_dir: Path):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html", "j2"], default=True),
                       trim_blocks=True, lstrip_blocks=True,
                       finalize=lambda value: terminal_safe(value) if isinstance(value, str) else value)


def html_view(report: MonthReport, lang: str) -> dict[str, Any]:
    """Everything the HTML template shows, already in the chosen language."""
    head = report.header
    sections = []
    for letter, entries in report.by_section().items():
        sections.append({"letter": letter, "title": section_title(report, letter, lang),
                         "items": [_html_item(entry, lang) for entry in entries]})
    changes = _changes_lines(report, lang)
    return {
        "lang": lang,
        "L": {key: i18n.t(lang, key) for key in i18n.LABELS if "{" not in i18n.LABELS[key][lang]},
        "title": f"{t(lang, 'report_title')} {head.sop.number} — {format_month(lang, report.month)}",
        "sop": head.sop, "month_label": format_month(lang, report.month),
        "header_rows": [(label, value.split("\n")) for label, value in header_rows(report, lang)],
        "summary": [{"id": e.id, "title_id": e.title_id, "title_en": e.title_en if lang == "en" else None,
                     "status": e.status, "status_label": status_label(lang, e.status),
                     "passing": len(e.hosts_passing), "failing": len(e.hosts_failing),
                     "failing_hosts": host_list(e.hosts_failing, 4),
                     "last_evidence": format_date(lang, e.last_evidence) or "–", "due": due_text(e, lang),
                     "overdue": e.due.overdue} for e in report.items],
        "score_text": score_text(report, lang), "score_parts": score_parts(report, lang),
        "score_percent": format_percent(lang, report.score.percent) or "–",
        "checks_score": checks_score_text(report, lang),
        "changes_title": changes[0] if changes else None, "changes": [c.strip() for c in changes[1:]],
        "sections": sections,
        "generated_at": format_time(lang, head.generated_at),
    }


def _html_item(entry: ItemStatus, lang: str) -> dict[str, Any]:
    item = entry.item
    checks, others = [], []
    for line in entry.evidence:
        if line.kind == "check":
            checks.append({"check": line.check_id, "host": line.host, "status": line.status,
                           "result": line_label(lang, line.status), "observed": line.observed or "",
                           "expected": line.expected or "", "command": line.command or "",
                           "output": line.output or "", "trimmed": line.output_trimmed,
                           "time": format_time(lang, line.time), "waiver": waiver_text(line, lang),
                           "waiver_expired": bool(line.waiver and line.waiver.expired)})
        else:
            others.append({"kind": kind_label(lang, line.kind), "status": line.status,
                           "result": line_label(lang, line.status), "time": format_time(lang, line.time),
                           "subject": line_subject(line, lang), "detail": line.detail or line.note or "",
                           "file": line.stored_path or line.file_name or "", "sha256": line.file_sha256 or "",
                           "size": format_size(lang, line.file_size),
                           "by": " ".join(x for x in (line.by_name, line.by_role and f"({line.by_role})") if x)})
    return {
        "id": entry.id, "anchor": "item-" + entry.id.replace(".", "-"), "title_id": entry.title_id,
        "title_en": entry.title_en if lang == "en" else None, "status": entry.status,
        "status_label": status_label(lang, entry.status), "reason": reason_text(entry, lang),
        "due": due_text(entry, lang), "overdue": entry.due.overdue, "time_text": item.time.text,
        "output": item.output, "cadence": cadence_label(lang, item.cadence),
        "evidence_kind": evidence_kind_text(entry, lang),
        "hosts": [(t(lang, key), host_list(hosts)) for key, hosts in (
            ("hosts_passing", entry.hosts_passing), ("hosts_failing", entry.hosts_failing),
            ("hosts_waived", entry.hosts_waived), ("hosts_error", entry.hosts_error)) if hosts],
        "checks": checks, "others": others,
    }


def render_html(report: MonthReport, lang: str = "id", template_dir: str | Path | None = None) -> str:
    """One self-contained printable page (inline CSS, print styles, no script, no external resource)."""
    folder = Path(template_dir) if template_dir else TEMPLATE_DIR
    if not (folder / HTML_TEMPLATE).is_file():
        raise SopctlError(f"{folder / HTML_TEMPLATE}: the HTML report template is missing")
    return _jinja_env(folder).get_template(HTML_TEMPLATE).render(**html_view(report, lang))


# ----------------------------------------------------------------------------------------------- entry

_RENDERERS: dict[str, Callable[..., str]] = {
    "table": render_table, "md": render_md, "html": render_html, "json": render_json, "csv": render_csv,
    "junit": render_junit,
}


def render(report: MonthReport, fmt: str = "table", lang: str = "id", **options: Any) -> str:
    """The report in `fmt` (one of FORMATS) and `lang` (id or en)."""
    if fmt not in _RENDERERS:
        raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    i18n.check_lang(lang)
    return _RENDERERS[fmt](report, lang, **options)
