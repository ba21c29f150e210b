"""The monthly website situation report (SOP F.5: "Laporan situasi kondisi"), from what the store holds.

    view = build_view(store, "2026-11", "id", sites=websites)
    text = render(view, "md")                       # or "html": templates/website-report.{md,html}.j2
    record_generated(store, "2026-11", path, text)  # the F.5 evidence (kind "generated")

It reads the month's complete `website` runs (availability over the month from every run, response
times and certificate dates from each run's meta), the newest result of each website check, the F.3
visitor summaries (evidence of kind `website-access-summary`), and the month's incidents (F.6/F.7);
then lists the problems found with an option to solve each.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from pathlib import Path
from typing import Any, Iterable

from ..compliance.i18n import format_date, format_month, format_time
from ..errors import SopctlError
from . import i18n
from .checks import ACCESS, AVAILABLE, EVIDENCE_KIND, FRESH, RENEWALS, RUN_KIND, TLS_VALID
from .config import Website
from .incidents import Incidents, duration_text

TEMPLATE_DIR = Path(__file__).resolve().parents[3] / "templates"
TEMPLATES = {"md": "website-report.md.j2", "html": "website-report.html.j2"}
FORMATS = tuple(TEMPLATES)
CHECKS = (AVAILABLE, TLS_VALID, FRESH, RENEWALS, ACCESS)
MAX_FAILURES = 100
CHECK_LABEL = {AVAILABLE: "availability", TLS_VALID: "certificate", FRESH: "freshness", RENEWALS: "renewals",
               ACCESS: "visitors"}


def _status_word(lang: str, status: str | None) -> str:
    return i18n.label(lang, f"status_{status or 'none'}")


def _site_order(names: Iterable[str], configured: list[str]) -> list[str]:
    seen = list(configured)
    for name in sorted(set(names) - set(configured)):
        seen.append(name)
    return seen


def build_view(store, month: str, lang: str = "id", *, sites: list[Website] | None = None,
               incidents: Incidents | None = None, organisation: str = "Pengadilan Agama Batulicin",
               sop_number: str = "SOP/AS/32", generated_at: _dt.datetime | None = None,
               now: _dt.datetime | None = None) -> dict[str, Any]:
    """Everything the templates show, already in `lang`."""
    now = now or _dt.datetime.now().astimezone()
    generated_at = generated_at or now
    configured = {s.name: s for s in sites or []}
    incidents = incidents or Incidents(store, lang=lang)

    # ---- every run of the month: availability counts, response times, failures
    runs = store.runs(kind=RUN_KIND, month=month, status="complete")
    stats: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, Any]] = []
    last_facts: dict[str, dict] = {}
    for run in runs:
        facts = (run.meta or {}).get("facts", {}) if isinstance(run.meta, dict) else {}
        for result in store.results_for_run(run.id):
            entry = stats.setdefault(result.host, {"checks": 0, "up": 0, "ms": []})
            if result.check_id == AVAILABLE:
                entry["checks"] += 1
                entry["up"] += result.status == "pass"
            if result.status in ("fail", "error"):
                failures.append({"time": result.time, "site": result.host, "check": result.check_id,
                                 "status": result.status, "observed": result.observed or ""})
        for name, fact in facts.items():
            ms = (fact.get("available") or {}).get("response_ms")
            if ms is not None:
                stats.setdefault(name, {"checks": 0, "up": 0, "ms": []})["ms"].append(float(ms))
            last_facts[name] = fact
    latest: dict[str, dict[str, Any]] = {}
    for result in store.latest_results(month=month):
        if result.check_id in CHECKS:
            latest.setdefault(result.host, {})[result.check_id] = result

    # ---- visitor summaries (F.3)
    access: dict[str, dict] = {}
    for row in store.evidence_for("F.3", month=month):
        if row.kind == EVIDENCE_KIND and isinstance(row.data, dict):
            access[row.data.get("website") or row.host or "?"] = row.data

    names = _site_order(set(stats) | set(latest) | set(access), list(configured))
    L = {key: i18n.label(lang, key) for key in i18n.LABELS}
    problems: list[dict[str, str]] = []
    site_rows, renewal_rows, access_rows = [], [], []
    for name in names:
        site = configured.get(name)
        provider = (site.provider if site else None) or "-"
        entry = stats.get(name, {"checks": 0, "up": 0, "ms": []})
        checks, up = entry["checks"], entry["up"]
        uptime = (up / checks * 100) if checks else None
        ms = entry["ms"]
        last = latest.get(name, {})
        facts = last_facts.get(name, {})

        def shown(check: str, last: dict = last) -> str:
            result = last.get(check)
            if result is None:
                return _status_word(lang, None)
            return f"{_status_word(lang, result.status)}: {result.observed or ''}"

        site_rows.append({
            "name": name, "url": site.url if site else "", "provider": provider, "checks": checks,
            "uptime": i18n.format_percent(lang, uptime) if uptime is not None else "-",
            "response": (f"{i18n.number(lang, round(sum(ms) / len(ms)))} ms / {i18n.number(lang, round(max(ms)))} ms"
                         if ms else "-"),
            "available": shown(AVAILABLE), "certificate": shown(TLS_VALID), "freshness": shown(FRESH),
            "renewals": shown(RENEWALS),
        })
        fails = checks - up
        if fails:
            problems.append({"problem": i18n.problem(lang, "down", site=name, fails=fails, checks=checks,
                                                     uptime=i18n.format_percent(lang, uptime)),
                             "option": i18n.problem(lang, "down_fix", provider=provider)})
        for check, key in ((TLS_VALID, "tls"), (FRESH, "stale")):
            result = last.get(check)
            if result is not None and result.status == "fail":
                problems.append({"problem": i18n.problem(lang, key, site=name, observed=result.observed),
                                 "option": i18n.problem(lang, f"{key}_fix")})
        renewal = facts.get("renewals") or {}
        rows = []
        for item in renewal.get("entries", []):
            what = i18n.label(lang, item["what"]) if item["what"] in ("domain", "hosting") else L["certificate"]
            rows.append({"what": what, "expires": format_date(lang, item["expires"]) if item.get("expires") else "-",
                         "days_left": "-" if item.get("days_left") is None else item["days_left"],
                         "level": i18n.label(lang, f"level_{item.get('level')}")})
            level = item.get("level")
            if level in ("expired", "7-day", "30-day", "60-day"):
                key = "renewal_expired" if level == "expired" else "renewal"
                problems.append({"problem": i18n.problem(lang, key, site=name, what=what,
                                                         date=format_date(lang, item["expires"]),
                                                         days=item.get("days_left")),
                                 "option": i18n.problem(lang, "renewal_fix", provider=provider)})
        if rows:
            renewal_rows.append({"site": name, "provider": provider, "rows": rows})
        summary = access.get(name)
        if summary:
            days = summary.get("days") or {}
            busiest = max(days.items(), key=lambda kv: kv[1]["requests"]) if days else None
            categories = (summary.get("suspicious") or {}).get("categories") or {}
            many = (summary.get("suspicious") or {}).get("many_404") or []
            access_rows.append({
                "site": name, "requests": i18n.number(lang, summary.get("requests", 0)),
                "visitors": i18n.number(lang, summary.get("unique_visitors", 0))
                + (f" ({L['estimated']})" if summary.get("unique_visitors_estimated") else ""),
                "errors": f"{i18n.number(lang, summary.get('errors_4xx', 0))} / "
                          f"{i18n.number(lang, summary.get('errors_5xx', 0))}",
                "busiest": (f"{format_date(lang, busiest[0])} ({i18n.number(lang, busiest[1]['requests'])})"
                            if busiest else "-"),
                "top_pages": [(p, i18n.number(lang, n)) for p, n in (summary.get("top_pages") or [])[:10]],
                "suspicious": [(i18n.label(lang, f"cat_{c}"), i18n.number(lang, n)) for c, n in categories.items() if n],
                "many_404": [(ip, i18n.number(lang, n)) for ip, n in many[:10]],
            })
            flagged = sum(categories.values())
            if flagged or many:
                kinds = ", ".join(i18n.label(lang, f"cat_{c}") for c, n in categories.items() if n)
                if many:
                    kinds = (kinds + "; " if kinds else "") + f"{L['many_404']}: {', '.join(ip for ip, _ in many[:5])}"
                problems.append({"problem": i18n.problem(lang, "suspicious", site=name,
                                                         count=(summary.get("suspicious") or {}).get("requests", 0),
                                                         kinds=kinds),
                                 "option": i18n.problem(lang, "suspicious_fix")})
        elif ACCESS in last and last[ACCESS].status in ("fail", "error"):
            problems.append({"problem": i18n.problem(lang, "no_log", site=name, observed=last[ACCESS].observed),
                             "option": i18n.problem(lang, "no_log_fix")})

    # ---- incidents (F.6, F.7)
    incident_rows = []
    limit6 = duration_text(incidents.minutes["F.6"], lang)
    limit7 = duration_text(incidents.minutes["F.7"], lang)
    for incident in incidents.list(month=month):
        state = incidents.state(incident, now)
        first = incident.first_step
        incident_rows.append({
            "id": incident.id, "site": incident.site, "problem": incident.problem,
            "opened": format_time(lang, incident.opened_at),
            "handled_by": L["admin"] if incident.handled_by == "admin" else L["provider_party"],
            "first_step": (f"{duration_text(state['F.6']['minutes'], lang)} ({i18n.label(lang, state['F.6']['state'])}): "
                           f"{first[2]}" if first else f"{L['none']} ({i18n.label(lang, state['F.6']['state'])})"),
            "resolved": (f"{duration_text(state['F.7']['minutes'], lang)} ({i18n.label(lang, state['F.7']['state'])})"
                         f"{': ' + incident.resolution if incident.resolution else ''}"
                         if incident.closed_at else f"{L['open']} ({i18n.label(lang, state['F.7']['state'])})"),
            "steps": [f"{format_time(lang, s.at)} — {s.by}: {s.step}" for s in incident.steps],
        })
        if incident.closed_at is None:
            problems.append({"problem": i18n.problem(lang, "incident_open", id=incident.id, site=incident.site,
                                                     problem=incident.problem),
                             "option": i18n.problem(lang, "incident_fix", limit=limit7)})

    failures.sort(key=lambda f: f["time"])
    shown_failures = [{**f, "time": format_time(lang, f["time"]), "status": _status_word(lang, f["status"]),
                       "check": f["check"]} for f in failures[-MAX_FAILURES:]]
    return {
        "lang": lang, "L": L, "month": month, "month_text": format_month(lang, month),
        "organisation": organisation, "sop_number": sop_number,
        "generated": format_time(lang, generated_at),
        "sites": site_rows, "runs": len(runs),
        "failures": shown_failures, "failures_more": max(0, len(failures) - MAX_FAILURES),
        "access": access_rows, "renewals": renewal_rows, "incidents": incident_rows,
        "first_step_label": i18n.label(lang, "first_step", limit=limit6),
        "resolved_label": i18n.label(lang, "resolved", limit=limit7),
        "problems": problems,
    }


def _md_cell(value: Any) -> str:
    """A Markdown table cell: no raw HTML, no column break, newlines as <br>."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _environment(template_dir: Path, fmt: str):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined,
                      autoescape=(fmt == "html"), trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = _md_cell
    return env


def render(view: dict[str, Any], fmt: str = "md", template_dir: str | Path | None = None) -> str:
    """The report as Markdown or a self-contained HTML page."""
    if fmt not in TEMPLATES:
        raise SopctlError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    folder = Path(template_dir) if template_dir else TEMPLATE_DIR
    if not (folder / TEMPLATES[fmt]).is_file():
        folder = TEMPLATE_DIR
    if not (folder / TEMPLATES[fmt]).is_file():
        raise SopctlError(f"{folder / TEMPLATES[fmt]}: the website report template is missing")
    return _environment(folder, fmt).get_template(TEMPLATES[fmt]).render(**view)


def record_generated(store, month: str, path: Path | str, text: str, *, lang: str, fmt: str,
                     shown_path: str | None = None):
    """The F.5 evidence: a run-less `generated` row of the month with the document's SHA-256 and path."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    summary = f"{i18n.label(lang, 'title')} {format_month(lang, month)} ({fmt}, {lang})"
    return store.add_evidence("F.5", "generated", summary, sha256=digest, path=shown_path or str(path), month=month,
                              data={"document": "website-report", "month": month, "format": fmt, "lang": lang,
                                    "bytes": len(text.encode("utf-8"))})
