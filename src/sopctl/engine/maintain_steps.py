"""The steps of the monthly cycle, in the order the SOP implies (see maintain.py for the frame)."""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..atomic import write_atomic
from ..compliance import report as report_render
from ..compliance.status import evaluate_month
from . import audit as audit_engine
from . import hostinfo
from .maintain import Cycle, Step, StepResult

MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
             "Oktober", "November", "Desember"]
REPORT_FORMATS = {"html": "html", "md": "md", "json": "json", "csv": "csv", "junit": "junit.xml"}


def _month_name(month: str, lang: str) -> str:
    year, number = (int(x) for x in month.split("-"))
    return f"{calendar.month_name[number]} {year}" if lang == "en" else f"{MONTHS_ID[number - 1]} {year}"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _render(cycle: Cycle, template: str, name: str, **values) -> Path:
    env = Environment(loader=FileSystemLoader(str(cycle.project / "templates")), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    text = env.get_template(template).render(lang=cycle.lang, month_name=_month_name(cycle.month, cycle.lang),
                                             generated=_now(), **values)
    path = cycle.out / name
    write_atomic(path, text)
    return path


def schedule(cycle: Cycle) -> StepResult:
    """C.1: the month's maintenance schedule: the monthly items, who carries them out, by when."""
    header = cycle.catalog.header
    year, number = (int(x) for x in cycle.month.split("-"))
    last = min(30, calendar.monthrange(year, number)[1])
    rows = []
    for item in cycle.catalog.items:
        if item.cadence != "monthly":
            continue
        roles = ", ".join(cycle.catalog.roles[r].name_en if cycle.lang == "en" else cycle.catalog.roles[r].name_id
                          for r in item.roles if r in cycle.catalog.roles)
        how = {"auto": "sopctl", "workflow": "sopctl (workflow)", "attest": "attest"}[item.evidence]
        rows.append({"id": item.id, "title_id": item.title_id, "title_en": item.title_en, "roles": roles,
                     "when": item.time.text, "how": how + (", " + ", ".join(item.checks) if item.checks else "")})
    sop = {"number": header.number, "title": header.title, "organisation": header.organisation}
    path = _render(cycle, "maintenance-schedule.md.j2", f"jadwal-pemeliharaan-{cycle.month}.md", rows=rows,
                   sop=sop, deadline=f"{last:02d}-{number:02d}-{year}", hosts=[h.name for h in cycle.hosts])
    cycle.evidence_file("C.1", path, f"maintenance schedule for {cycle.month}: {len(rows)} monthly items")
    return StepResult(f"{len(rows)} monthly items scheduled", files=[path])


def hosts(cycle: Cycle) -> StepResult:
    """C.4/C.6: which hosts answer, and what they are (facts), in one round trip each."""
    from ..compliance import inventory_diff

    outcomes = hostinfo.facts(cycle.fleet)
    down = [o.host for o in outcomes if not o.ok]
    contexts = [(h.name, cycle.inventory.host_vars(h.name), {}, tuple(h.groups)) for h in cycle.hosts
                if h.name not in down]
    recorded = 0
    for outcome in inventory_diff.collect_fleet(cycle.fleet, contexts):
        if outcome.ok:  # C.6: this month's packages and hardware, and what changed since the last snapshot
            inventory_diff.record(cycle.store, outcome.host, outcome.value, cycle.month)
            recorded += 1
    summary = f"{len(outcomes) - len(down)} of {len(outcomes)} hosts reachable"
    return StepResult(summary + (f"; down: {', '.join(down)}" if down else "") +
                      f"; software and hardware inventory of {recorded} host(s) compared with last month",
                      problems=len(down))


def baseline(cycle: Cycle) -> StepResult:
    """C.3 (with --apply-baseline): apply the baseline playbooks, fixing drift before the audit sees it."""
    from ..engine.executor import PlaybookRunner, RunOptions
    from ..engine.playbook import load_playbook

    changed = failed = 0
    for name in ("baseline-linux.yml", "baseline-windows.yml"):
        path = cycle.project / "playbooks" / name
        if not path.is_file():
            continue
        runner = PlaybookRunner(load_playbook(path), cycle.inventory, cycle.fleet, RunOptions())
        try:
            report = runner.run()
        finally:
            runner.close()
        changed += sum(c["changed"] for c in report.recap.hosts.values())
        failed += sum(1 for c in report.recap.hosts.values() if c["failed"] or c["unreachable"])
    return StepResult(f"baseline applied: {changed} changes, {failed} host(s) failed", problems=failed)


def audit(cycle: Cycle) -> StepResult:
    """C.2, C.3, C.5, D.1, D.4, D.5: every check on every host, stored as one audit run."""
    results = audit_engine.run_audit(cycle.checks, cycle.inventory, cycle.hosts, cycle.fleet)
    audit_engine.store_audit(cycle.store, results, inventory=str(cycle.inventory_path),
                             what=f"maintain --month {cycle.month}", month=cycle.month)
    failing = [r for r in results if r.status in ("fail", "error")]
    return StepResult(f"{len(results)} results, {len(failing)} failing or unverifiable", problems=len(failing))


def backups(cycle: Cycle) -> StepResult:
    """D.7, F.2: back up every host with `backup_paths`, then restore-test each new archive."""
    from ..backup import jobs, ledger, service
    from ..backup.errors import BackupError
    from ..backup.keys import read_recipients
    conf = cycle.options["backup"]  # where keys and archives are: resolved by the CLI from its config
    plans = {h.name: service.host_plan(h.name, cycle.inventory.host_vars(h.name)) for h in cycle.hosts}
    plans = {name: plan for name, plan in plans.items() if plan is not None}
    if not plans:
        return StepResult("no host has backup_paths: nothing to back up", skipped=True)
    try:
        recipients = read_recipients(conf.recipients)
    except BackupError as exc:
        return StepResult(f"skipped: {exc}", problems=1, skipped=True)
    rows = jobs.backup_hosts(cycle.store, cycle.fleet, plans, recipients, conf.folder,
                             what=f"maintain --month {cycle.month}", inventory=str(cycle.inventory_path),
                             month=cycle.month)
    made = [r for r in rows if r["status"] == "ok"]
    new = {r["archive"] for r in made}
    chosen = [a for a in ledger.archives(cycle.store, list(plans)) if a.path in new]
    summary = f"{len(made)} of {len(rows)} hosts backed up"
    try:
        identity = service.unlock(conf.identity)
    except BackupError as exc:
        return StepResult(f"{summary}; restore test not run: {exc}", problems=len(rows) - len(made) + 1)
    tested, _ = jobs.restore_tests(cycle.store, cycle.inventory, chosen, identity, root=conf.root,
                                   scratch=conf.scratch, what=f"maintain --month {cycle.month}",
                                   inventory=str(cycle.inventory_path), month=cycle.month)
    bad = [t for t in tested if t["status"] != ledger.PASS]
    return StepResult(f"{summary}; {len(tested) - len(bad)} of {len(tested)} restore tests passed",
                      problems=len(rows) - len(made) + len(bad))


def website(cycle: Cycle) -> StepResult:
    """F.1, F.3, F.4, F.5: the websites' checks, the month's visitor summary, and the situation report."""
    from ..website import checks as site_checks
    from ..website import report as site_report
    from ..website.config import load_websites
    from ..website.incidents import Incidents, minutes_from_catalog
    from ..website.remote import Hosts

    sites = load_websites(cycle.inventory)
    if not sites:
        return StepResult("no websites in the inventory", skipped=True)
    with Hosts(cycle.inventory, cycle.options["settings"], False) as hosts:
        reports = site_checks.check_sites(sites, hosts)
        access = [site_checks.summarise_site(s, hosts if s.host else None, cycle.month) for s in sites]
    what = f"maintain --month {cycle.month}"
    site_checks.store_checks(cycle.store, reports, what=what, inventory=str(cycle.inventory_path),
                             month=cycle.month)
    site_checks.store_access(cycle.store, cycle.month, access, what=what, inventory=str(cycle.inventory_path))
    incidents = Incidents(cycle.store, minutes=minutes_from_catalog(cycle.catalog), lang=cycle.lang)
    view = site_report.build_view(cycle.store, cycle.month, cycle.lang, sites=sites, incidents=incidents)
    text = site_report.render(view, "md", cycle.project / "templates")
    path = cycle.out / f"laporan-website-{cycle.month}.md"
    write_atomic(path, text)
    site_report.record_generated(cycle.store, cycle.month, path, text, lang=cycle.lang, fmt="md",
                                 shown_path=str(path))
    outcomes = [o for r in reports for o in r.outcomes] + [o for o, _ in access]
    bad = [o for o in outcomes if o.status in ("fail", "error")]
    return StepResult(f"{len(sites)} website(s), {len(bad)} failing checks", problems=len(bad), files=[path])


def recap(cycle: Cycle) -> StepResult:
    """C.8 (analysis) and C.9 (recap): what failed, what is new or fixed since last month, what is overdue."""
    month_report = evaluate_month(cycle.catalog, cycle.store, cycle.month, cycle.today,
                                  [h.name for h in cycle.hosts])
    by_status: dict[str, list[str]] = {}
    for item in month_report.items:
        by_status.setdefault(item.status, []).append(item.id)
    failing = [r for r in cycle.store.latest_results(month=cycle.month) if r.status in ("fail", "error")]
    changes = month_report.changes
    pair = lambda c: f"{c.check_id}@{c.host}"  # noqa: E731
    path = _render(
        cycle, "maintenance-recap.md.j2", f"rekap-pemeliharaan-{cycle.month}.md",
        by_status=sorted(by_status.items()), score=f"{month_report.score.percent}",
        failing=[{"host": r.host, "check_id": r.check_id, "sop": ", ".join(r.sop_ids), "observed": r.observed or "",
                  "expected": r.expected or ""} for r in failing],
        previous=changes.previous_month if changes else "-",
        newly_failing=[pair(c) for c in changes.newly_failing] if changes else [],
        fixed=[pair(c) for c in changes.checks_fixed] if changes else [],
        newly_items=list(changes.newly_non_compliant) if changes else [],
        fixed_items=list(changes.fixed) if changes else [],
        not_verified=by_status.get("not-verified", []))
    for sop_id in ("C.8", "C.9"):
        cycle.evidence_file(sop_id, path, f"monitoring and maintenance recap for {cycle.month}")
    return StepResult(f"{len(failing)} findings recapped", files=[path])


def report(cycle: Cycle) -> StepResult:
    """The compliance report for the month in every format, into reports/<month>/."""
    month_report = evaluate_month(cycle.catalog, cycle.store, cycle.month, cycle.today,
                                  [h.name for h in cycle.hosts])
    files = []
    for fmt, extension in REPORT_FORMATS.items():
        path = cycle.out / f"laporan-kepatuhan-{cycle.month}.{extension}"
        write_atomic(path, report_render.render(month_report, fmt, cycle.lang))
        files.append(path)
    cycle.options["month_report"] = month_report
    bad = [i.id for i in month_report.items if i.status in ("non-compliant", "partly")]
    return StepResult(f"{len(month_report.items)} items; non-compliant or partly: {', '.join(bad) or 'none'}",
                      problems=len(bad), files=files)


STEPS = [
    Step("schedule", ("C.1",), "maintenance schedule", schedule, needs_hosts=False),
    Step("hosts", ("C.4", "C.6"), "reachability and facts of every host", hosts),
    Step("baseline", ("C.3",), "apply the baseline playbooks (only with --apply-baseline)", baseline),
    Step("audit", ("C.2", "C.3", "C.5", "D.1", "D.4", "D.5"), "all checks on all hosts", audit),
    Step("website", ("F.1", "F.3", "F.4", "F.5"), "website checks, visitors and situation report", website),
    Step("backup", ("D.7", "F.2"), "backups, then a restore test of each new archive", backups),
    Step("recap", ("C.8", "C.9"), "analysis and recap", recap, needs_hosts=False),
    Step("report", (), "compliance report in every format", report, needs_hosts=False),
]
