"""The "Hasil Test" document (SOP D.2's output) of one UAT run, in HTML and Markdown.

Both come from Jinja templates, `templates/uat-result.html.j2` and `templates/uat-result.md.j2` (the
project's `templates/` folder if it has them, else sopctl's own), fed the same view: every string already
in the chosen language (Indonesian by default). The HTML is one self-contained page (inline CSS, no
script) with autoescape on; the Markdown template escapes table cells with the report's `md_cell`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sopctl.compliance.report import TEMPLATE_DIR, md_cell, md_fence, terminal_safe
from sopctl.errors import SopctlError
from sopctl.store.values import parse_time
from sopctl.uat import i18n
from sopctl.uat.runner import UatOutcome

HTML_TEMPLATE = "uat-result.html.j2"
MD_TEMPLATE = "uat-result.md.j2"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+~-]+")


def document_stem(outcome: UatOutcome) -> str:
    """`<app>-<version>-<UTC time of the run's end, 20261103T062501Z>` (names the .html and .md files)."""
    moment = parse_time(outcome.finished_at or outcome.started_at)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    return _UNSAFE.sub("_", f"{outcome.checklist.name}-{outcome.checklist.version}-{stamp}")


def template_folder(project_templates: Path | None) -> Path:
    """The project's templates/ when it has both UAT templates, else sopctl's own."""
    if project_templates is not None and all((project_templates / name).is_file()
                                             for name in (HTML_TEMPLATE, MD_TEMPLATE)):
        return project_templates
    return TEMPLATE_DIR


def view(outcome: UatOutcome, lang: str, *, sop: Any = None, item_title: str | None = None,
         run_id: int | None = None, generated_at: str | None = None) -> dict[str, Any]:
    """Everything the templates show, in `lang`. `sop` is the catalog's SopHeader (optional)."""
    i18n.check_lang(lang)
    checklist = outcome.checklist
    counts = outcome.counts
    rows = [
        (i18n.t(lang, "application"), checklist.name + (f" — {checklist.title}" if checklist.title else "")),
        (i18n.t(lang, "version"), checklist.version),
        (i18n.t(lang, "owner"), checklist.owner),
    ]
    if checklist.url:
        rows.append((i18n.t(lang, "url"), checklist.url))
    if checklist.hosts:
        rows.append((i18n.t(lang, "hosts"), checklist.hosts))
    rows += [
        (i18n.t(lang, "checklist"), f"{checklist.path} (SHA-256 {checklist.sha256})"),
        (i18n.t(lang, "tester"), outcome.tester),
        (i18n.t(lang, "started"), i18n.format_time(lang, outcome.started_at)),
        (i18n.t(lang, "finished"), i18n.format_time(lang, outcome.finished_at)),
    ]
    if run_id is not None:
        rows.append((i18n.t(lang, "run_id"), f"#{run_id}"))
    steps = []
    for result in outcome.steps:
        step = result.step
        steps.append({
            "position": result.position, "id": step.id, "title": step.title, "kind": step.kind,
            "kind_label": i18n.kind_word(lang, step.kind), "manual": step.manual, "optional": step.optional,
            "result": result.result, "result_label": i18n.step_word(lang, result.result),
            "expected": result.expected, "observed": result.observed, "detail": result.detail,
            "command": result.command, "output": result.output,
            "duration": i18n.duration_text(result.duration_ms),
            "evidence": [e.to_dict() for e in result.evidence],
            "question": step.spec.question if step.manual else None,
            "pass_when": step.spec.pass_when if step.manual else None,
            "hosts": result.hosts,
        })
    header = None
    if sop is not None:
        header = {"number": sop.number, "title": sop.title, "organisation": sop.organisation,
                  "parent": sop.parent_organisation, "effective": i18n.format_date(lang, sop.effective.date)}
    finished_day = parse_time(outcome.finished_at or outcome.started_at).astimezone().date()
    return {
        "lang": lang,
        "labels": {key: i18n.t(lang, key) for key in i18n.LABELS if "{" not in i18n.LABELS[key][lang]},
        "title": f"{i18n.t(lang, 'doc_title')} — {checklist.name} {checklist.version}",
        "sop": header,
        "item": {"id": "D.2", "title": item_title, "output": "Hasil Test"},
        "rows": rows,
        "description": checklist.description,
        "result": outcome.result, "result_label": i18n.run_word(lang, outcome.result),
        "counts": counts, "counts_text": i18n.t(lang, "counts", **counts),
        "steps": steps,
        "failed": [s for s in steps if s["result"] in ("fail", "error")
                   or (s["result"] == "skip" and not s["optional"])],
        "tester": outcome.tester,
        "signed_place_date": i18n.format_date(lang, finished_day),
        "generated_at": i18n.format_time(lang, generated_at or outcome.finished_at),
    }


def _env(folder: Path, html: bool):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(folder)), undefined=StrictUndefined, autoescape=html,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      finalize=lambda value: terminal_safe(value) if isinstance(value, str) else value)
    env.filters["cell"] = md_cell
    env.filters["fence"] = lambda text, info="": md_fence(terminal_safe(str(text)), info)
    return env


def render(outcome: UatOutcome, lang: str = "id", *, template_dir: Path | None = None,
           **view_options: Any) -> tuple[str, str]:
    """(html, markdown) of the run's "Hasil Test" document."""
    folder = Path(template_dir) if template_dir else TEMPLATE_DIR
    for name in (HTML_TEMPLATE, MD_TEMPLATE):
        if not (folder / name).is_file():
            raise SopctlError(f"{folder / name}: the UAT result template is missing")
    data = view(outcome, lang, **view_options)
    html = _env(folder, True).get_template(HTML_TEMPLATE).render(**data)
    md = _env(folder, False).get_template(MD_TEMPLATE).render(**data)
    return html, md
