"""`website.*` (SOP F.1, F.3, F.4, F.5) and `incident.*` (F.6, F.7). See docs/website.md.

    invoke website.list
    invoke website.check [--name pa-batulicin]             # F.1 + F.4: availability, TLS, freshness, renewals
    invoke website.access-summary --month 2026-11          # F.3: visitor log summary over SSH
    invoke website.renewals                                # F.4 at a glance (nothing stored)
    invoke website.report --month 2026-11 [--lang en] [--format html] [--out FILE]    # F.5
    invoke incident.open --site pa-batulicin --problem "situs tidak bisa diakses" --by provider
    invoke incident.update --id 3 --step "server di-restart oleh provider" --by admin
    invoke incident.close --id 3 --by provider --resolution "..."
    invoke incident.list --month 2026-11
    invoke incident.sweep [--month 2026-10]

Registration (cli/__init__.py, by the lead): `ns.add_collection(website.ns)` (collection `website`) and
`ns.add_collection(website.incident_ns)` (collection `incident`).

Websites are the inventory's `websites` variable (sopctl.website.config). The results store is
`--store`, else `sopctl.store` from invoke.yaml, else var/sopctl.db under the project root.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from typing import TYPE_CHECKING

from invoke import Collection, task

from ..errors import UsageError
from ..lazy import lazy_module
from ..atomic import write_atomic
from .common import (fail_if, inventory_path, print_json, print_table, project_root, record_number, reports_errors,
                     settings)
from .compliance import STORE_HELP, current_month, from_catalog, open_existing, store_path, sweep_workflow

# The website checks (TLS, HTTP, X.509), reports, incidents and the store load when a task runs, not for every
# `sopctl` call.
_status = lazy_module("sopctl.compliance.status")
_inventory = lazy_module("sopctl.inventory")
_cal = lazy_module("sopctl.requests_register.calendar")
_store = lazy_module("sopctl.store")
_checks = lazy_module("sopctl.website.checks")
_report = lazy_module("sopctl.website.report")
_config = lazy_module("sopctl.website.config")
_inc = lazy_module("sopctl.website.incidents")
_remote = lazy_module("sopctl.website.remote")

if TYPE_CHECKING:
    from ..store import Store
    from ..website.incidents import Incidents

INVENTORY_HELP = "inventory file or folder with the `websites` list (default: sopctl.inventory from invoke.yaml)"
NAME_HELP = "only these websites (names separated by commas; default: all)"


def _sites(ctx, inventory, name):
    path = inventory_path(ctx, inventory)
    inv = _inventory.load_inventory(path)
    sites = _config.load_websites(inv, name)
    if not sites:
        raise UsageError(f"{path}: no websites; add a `websites:` list to all.vars (see docs/website.md)")
    return path, inv, sites


def _clip(text: str | None, width: int = 70) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[:width - 1] + "…"


# ---------------------------------------------------------------------------------------------- website


@task(name="list", help={"inventory": INVENTORY_HELP, "json": "print JSON"})
@reports_errors
def list_(c, inventory=None, json_=False):
    """The websites of the inventory and how each is watched."""
    _path, _inv, sites = _sites(c, inventory, None)
    if json_:
        print_json([s.describe() for s in sites])
        return
    print_table([[s.name, s.url, s.host, s.web_root, ", ".join(s.access_logs), s.max_content_age_days,
                  s.describe()["domain_expires"], s.describe()["hosting_expires"]] for s in sites],
                ["name", "url", "host", "web root", "access log", "max age (days)", "domain", "hosting"])


@task(help={"name": NAME_HELP, "inventory": INVENTORY_HELP, "store": STORE_HELP, "json": "print every result as JSON",
            "forks": "websites checked in parallel (default 20)",
            "accept-new-host-keys": "record host keys seen for the first time (web-root freshness over SSH)"})
@reports_errors
def check(c, name=None, inventory=None, store=None, json_=False, forks=None, accept_new_host_keys=False):
    """Availability, TLS certificate, content freshness (F.1) and renewals (F.4) of every website; stored."""
    path, inv, sites = _sites(c, inventory, name)
    run_settings = settings(c, forks, None, accept_new_host_keys)
    with _remote.Hosts(inv, run_settings, accept_new_host_keys) as hosts:
        reports = _checks.check_sites(sites, hosts, workers=run_settings.forks)
    outcomes = [o for r in reports for o in r.outcomes]
    with _store.Store.open(store_path(c, store)) as db:
        db.mark_abandoned()
        run_id = _checks.store_checks(db, reports, what=f"website.check --name {name or 'all'}", inventory=str(path))
    if json_:
        print_json({"run": run_id, "results": [o.to_dict() for o in outcomes]})
    else:
        print_table([[o.site, o.check_id, o.status, _clip(o.observed)] for o in outcomes],
                    ["website", "check", "status", "observed"])
        print(f"\nrun {run_id}: {len(sites)} website(s), {sum(o.status == 'pass' for o in outcomes)} pass, "
              f"{sum(o.status == 'fail' for o in outcomes)} fail, {sum(o.status == 'error' for o in outcomes)} error")
    bad = sorted({o.site for o in outcomes if o.status in ("fail", "error")})
    fail_if(bool(bad), f"sopctl: failing or unverifiable website checks: {', '.join(bad)}")


@task(name="access-summary",
      help={"month": "the month summarised, YYYY-MM (default: this month)", "name": NAME_HELP,
            "inventory": INVENTORY_HELP, "store": STORE_HELP, "json": "print the summaries as JSON",
            "accept-new-host-keys": "record host keys seen for the first time"})
@reports_errors
def access_summary(c, month=None, name=None, inventory=None, store=None, json_=False, accept_new_host_keys=False):
    """Visitors of a month from each website's access log, read over SSH as a stream (F.3); stored."""
    month = _status.check_month(month or current_month())
    path, inv, sites = _sites(c, inventory, name)
    run_settings = settings(c, None, None, accept_new_host_keys)
    results = []
    with _remote.Hosts(inv, run_settings, accept_new_host_keys) as hosts:
        for site in sites:
            results.append(_checks.summarise_site(site, hosts if site.host else None, month))
    with _store.Store.open(store_path(c, store)) as db:
        db.mark_abandoned()
        run_id = _checks.store_access(db, month, results, what=f"website.access-summary --month {month}",
                                      inventory=str(path))
    if json_:
        print_json({"run": run_id, "month": month, "results": [o.to_dict() for o, _ in results]})
    else:
        print_table([[o.site, o.status, _clip(o.observed, 100)] for o, _ in results], ["website", "status", "summary"])
        for outcome, summary in results:
            if summary is None or not summary.requests:
                continue
            print(f"\n{outcome.site}: top pages")
            print_table([[p, n] for p, n in summary.top_pages(10)], ["page", "requests"])
    bad = sorted(o.site for o, _ in results if o.status in ("fail", "error"))
    fail_if(bool(bad), f"sopctl: visitor log not summarised for: {', '.join(bad)}")


@task(help={"name": NAME_HELP, "inventory": INVENTORY_HELP, "json": "print JSON"})
@reports_errors
def renewals(c, name=None, inventory=None, json_=False):
    """Domain, hosting and certificate expiry with the 60/30/7-day warnings (F.4); nothing is stored."""
    _path, _inv, sites = _sites(c, inventory, name)
    now = _dt.datetime.now(_dt.timezone.utc)
    rows, out = [], []
    for site in sites:
        tls_outcome, tls = _checks.check_tls(site, now, None, None)
        outcome = _checks.check_renewals(site, now.astimezone().date(), now, tls, tls_outcome)
        out.append(outcome.to_dict())
        for entry in outcome.data["entries"]:
            rows.append([site.name, entry["what"], entry["expires"] or "-",
                         "-" if entry["days_left"] is None else entry["days_left"], entry["level"], outcome.status])
    if json_:
        print_json(out)
        return
    print_table(rows, ["website", "service", "expires", "days left", "warning", "check"])


@task(help={"month": "the month reported, YYYY-MM (default: this month)",
            "lang": "id (default) or en", "format": "md (default) or html",
            "out": "file to write (default: <store folder>/reports/website-report-<month>-<lang>.<format>)",
            "inventory": INVENTORY_HELP, "store": STORE_HELP})
@reports_errors
def report(c, month=None, lang="id", format_="md", out=None, inventory=None, store=None):
    """The month's website situation report (F.5) from the stored checks, visitor logs and incidents."""
    month = _status.check_month(month or current_month())
    if lang not in ("id", "en"):
        raise UsageError(f"--lang {lang!r}: use id or en")
    if format_ not in _report.FORMATS:
        raise UsageError(f"--format {format_!r}: use one of {', '.join(_report.FORMATS)}")
    try:
        _path, _inv, sites = _sites(c, inventory, None)
    except UsageError:
        sites = []      # the report can still be made from what the store holds
    db_path = store_path(c, store)
    root = (project_root(c) or Path.cwd()).resolve()
    target = Path(out) if out else db_path.parent / "reports" / f"website-report-{month}-{lang}.{format_}"
    with open_existing(db_path, "run website.check first") as db:
        incidents = _inc.Incidents(db, minutes=_minutes(c), lang=lang)
        view = _report.build_view(db, month, lang, sites=sites, incidents=incidents)
        templates = root / "templates"
        text = _report.render(view, format_, templates if templates.is_dir() else None)
        write_atomic(target, text)
        resolved = target.resolve()
        shown = str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)
        _report.record_generated(db, month, target, text, lang=lang, fmt=format_, shown_path=shown)
    print(f"website report: {month}, {format_}, {lang} -> {shown} (F.5 evidence recorded)")


ns = Collection("website", list_, check, access_summary, renewals, report)


# --------------------------------------------------------------------------------------------- incidents


def _minutes(ctx) -> dict[str, int] | None:
    """F.6/F.7 limits from the project's catalog; without one, the built-in 2 hours and 3 days."""
    return from_catalog(ctx, _inc.minutes_from_catalog)


def _incidents(ctx, store) -> tuple[Store, Incidents]:
    db = _store.Store.open(store_path(ctx, store))
    return db, _inc.Incidents(db, minutes=_minutes(ctx))


def _known_site(ctx, site: str | None, inventory: str | None) -> None:
    """A site named in --site must be one of the inventory's websites (when an inventory is found)."""
    if not site:
        return
    try:
        sites = _config.load_websites(_inventory.load_inventory(inventory_path(ctx, inventory)))
    except UsageError:
        return
    names = [s.name for s in sites]
    if names and site not in names:
        raise UsageError(f"--site {site!r}: no such website (known: {', '.join(names)})")


def _incident_line(incidents: Incidents, incident) -> str:
    from ..website.incidents import duration_text

    state = incidents.state(incident)
    parts = [f"incident {incident.id} ({incident.site}): {incident.problem}"]
    for item in ("F.6", "F.7"):
        info = state[item]
        limit = duration_text(incidents.minutes[item], "en")
        if info["minutes"] is not None:
            parts.append(f"{item} {info['state']} ({duration_text(info['minutes'], 'en')}, limit {limit})")
        else:
            parts.append(f"{item} {info['state']} (limit {limit})")
    return " — ".join(parts)


@task(name="open", help={"site": "the website (a name from the inventory's websites)", "problem": "what is wrong",
                         "by": "who handles it: admin (the court's web admin, default) or provider (third party)",
                         "name": "who opens the record (default: the OS user)",
                         "at": "when the problem was found, ISO 8601 (default now)",
                         "inventory": INVENTORY_HELP, "store": STORE_HELP})
@reports_errors
def incident_open(c, site=None, problem=None, by="admin", name=None, at=None, inventory=None, store=None):
    """Open a website incident (F.6/F.7 start counting from --at)."""
    from ..website.incidents import duration_text

    if by not in _inc.PARTIES:
        raise UsageError(f"--by {by!r}: use admin or provider")
    _known_site(c, site, inventory)
    db, incidents = _incidents(c, store)
    with db:
        incident = incidents.open(site, problem, handled_by=by, by=name, at=at)
        incidents.sweep()
    print(f"incident {incident.id}: opened {_cal.local_text(incident.opened_at)} on {incident.site} "
          f"(handled by {incident.handled_by}); first step due within "
          f"{duration_text(incidents.minutes['F.6'], 'en')}, solution within {duration_text(incidents.minutes['F.7'], 'en')}")


@task(name="update", help={"id": "the incident number", "step": "the step taken", "by": "who took it",
                           "at": "when, ISO 8601 (default now)", "store": STORE_HELP})
@reports_errors
def incident_update(c, id_=None, step=None, by=None, at=None, store=None):
    """Record a step taken on an incident (the first one decides F.6)."""
    db, incidents = _incidents(c, store)
    with db:
        incident = incidents.update(record_number(id_, "incident"), step, by=by, at=at)
        incidents.sweep()
        print(_incident_line(incidents, incident))


@task(name="close", help={"id": "the incident number", "by": "who solved it", "resolution": "how it was solved",
                          "at": "when, ISO 8601 (default now)", "store": STORE_HELP})
@reports_errors
def incident_close(c, id_=None, by=None, resolution=None, at=None, store=None):
    """Close an incident: solved (F.7 compliant when within the SOP's 3 days)."""
    db, incidents = _incidents(c, store)
    with db:
        incident = incidents.close(record_number(id_, "incident"), by=by, at=at, resolution=resolution)
        incidents.sweep()
        print(_incident_line(incidents, incident))


@task(name="list", help={"month": "only incidents opened in this month, YYYY-MM", "site": "only this website",
                         "json": "print JSON", "store": STORE_HELP})
@reports_errors
def incident_list(c, month=None, site=None, json_=False, store=None):
    """Incidents with their time to the first step (F.6) and to the solution (F.7)."""
    from ..website.incidents import duration_text

    if month:
        _status.check_month(month)
    db, incidents = _incidents(c, store)
    with db:
        incidents.sweep()
        rows = incidents.list(month, site)
        states = {i.id: incidents.state(i) for i in rows}
    if json_:
        print_json([{**i.to_dict(), "F.6": states[i.id]["F.6"], "F.7": states[i.id]["F.7"]} for i in rows])
        return

    def shown(info):
        return info["state"] + (f" ({duration_text(info['minutes'], 'en')})" if info["minutes"] is not None else "")

    print_table([[i.id, i.site, _clip(i.problem, 40), _cal.local_text(i.opened_at), i.handled_by,
                  shown(states[i.id]["F.6"]), shown(states[i.id]["F.7"]),
                  _cal.local_text(i.closed_at) if i.closed_at else "open"] for i in rows],
                ["#", "website", "problem", "opened", "handled by", "F.6 first step", "F.7 solved", "closed"])


@task(name="sweep", help={"month": "also record a finished month without any incident as n/a (YYYY-MM)",
                          "store": STORE_HELP})
@reports_errors
def incident_sweep(c, month=None, store=None):
    """Record incidents past their F.6/F.7 deadline as non-compliant (run before the monthly report)."""
    db, incidents = _incidents(c, store)
    with db:
        sweep_workflow(incidents, month, empty="no incident; F.6 and F.7 recorded as n/a",
                       nothing="no overdue incident")


incident_ns = Collection("incident", incident_open, incident_update, incident_close, incident_list, incident_sweep)
