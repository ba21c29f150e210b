"""`request.*`: the IT service-request register (SOP B.1-B.6). See docs/service-requests.md.

    invoke request.new --from "Budi Santoso" --unit Kepaniteraan --need "printer ruang sidang rusak"
    invoke request.route --id 7 --by "Kasubag Perenc & IT"
    invoke request.verify --id 7 --by operator --at "2026-11-25 10:00"
    invoke request.consider --id 7 --by "Kasubag Perenc & IT"
    invoke request.approve --id 7 --by Sekretaris            # or request.reject --id 7 --by ... --note why
    invoke request.done --id 7 --by operator
    invoke request.list --month 2026-11
    invoke request.sweep --month 2026-10                    # overdue steps; an empty month recorded as n/a

Registration (cli/__init__.py, by the lead): `ns.add_collection(requests.ns)` (collection `request`).

Config (invoke.yaml), all optional: `sopctl.holidays` (list of YYYY-MM-DD), `sopctl.store`; holidays are
also read from `inventory/holidays.yml` in the project. Time standards come from the SOP catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from invoke import Collection, task

from ..lazy import lazy_module
from .common import print_json, print_table, project_root, record_number, reports_errors
from .compliance import STORE_HELP, from_catalog, store_path, sweep_workflow

# The register, its calendar and the store load when a task runs, not for every `sopctl` call.
_status = lazy_module("sopctl.compliance.status")
_cal = lazy_module("sopctl.requests_register.calendar")
_register = lazy_module("sopctl.requests_register.register")
_store = lazy_module("sopctl.store")

if TYPE_CHECKING:
    from ..requests_register.register import Register
    from ..store import Store

HOLIDAYS_FILE = "inventory/holidays.yml"

BY_HELP = "who took the step (name or role; default: the OS user)"
AT_HELP = "when it was done, ISO 8601 (2026-11-25 10:00, local time unless an offset is given; default now)"
ID_HELP = "the request number"
NOTE_HELP = "a remark kept with the step"


def calendar_for(ctx) -> _cal.WorkCalendar:
    """Working days: Monday-Friday minus `sopctl.holidays` and inventory/holidays.yml."""
    configured = ctx.config.get("sopctl", {}).get("holidays")
    root = project_root(ctx) or Path.cwd()
    return _cal.load_calendar(configured, [root / HOLIDAYS_FILE])


def open_register(ctx, store: str | None) -> tuple[Store, Register]:
    opened = _store.Store.open(store_path(ctx, store))
    calendar = calendar_for(ctx)
    days = from_catalog(ctx, _register.days_from_catalog)   # no catalog: B.1/B.2 day 1, B.3-B.6 day 2 (built in)
    return opened, _register.Register(opened, calendar, days=days)


def _describe(register: Register, request, item: str) -> str:
    info = register.step_status(request, item)
    state = info["state"]
    if state in ("on-time", "late"):
        word = "on time" if state == "on-time" else f"LATE by {info['late_days']} working day(s)"
        return f"{item} {word} (working day {info['day']}, due by day {info['allowed']}: {_cal.local_text(info['due'])})"
    if state == "na":
        return f"{item} n/a"
    return f"{item} {state} (due {_cal.local_text(info['due'])})"


def _step(ctx, action: str, id_, by, at, note, store) -> None:
    number = record_number(id_, "request")
    opened, register = open_register(ctx, store)
    with opened:
        request = register.act(number, action, by=by, at=at, note=note)
        register.sweep()
        step = request.steps[-1]
        spec = _register.ACTIONS[action]
        lines = [f"request {request.id}: {spec.state} {_cal.local_text(step.at)} by {step.by} — "
                 f"{_describe(register, request, spec.item)}"]
        if action == "reject":
            lines.append(f"request {request.id}: B.6 n/a (rejected)")
    print("\n".join(lines))


@task(help={"from": "who asks (name)", "unit": "the asker's unit/sub-section", "need": "what is needed",
            "by": "who receives and registers it (default: the OS user)",
            "at": "when it was received/registered, ISO 8601 (default now)",
            "received": "when the request form arrived, if earlier than --at (B.1 is timed from it)",
            "note": NOTE_HELP, "store": STORE_HELP})
@reports_errors
def new(c, from_=None, unit=None, need=None, by=None, at=None, received=None, note=None, store=None):
    """Register a new IT service request (B.1) and print its number."""
    opened, register = open_register(c, store)
    with opened:
        request = register.new(from_, unit, need, by=by, at=at, received=received, note=note)
        register.sweep()
        print(f"request {request.id}: received {_cal.local_text(request.received_at)} from {request.requester} "
              f"({request.unit}): {request.need} — {_describe(register, request, 'B.1')}")


def _make_step_task(action: str, doc: str):
    def step_task(c, id_=None, by=None, at=None, note=None, store=None):
        _step(c, action, id_, by, at, note, store)

    step_task.__doc__ = doc
    step_task.__name__ = step_task.__qualname__ = action
    return task(name=action, help={"id": ID_HELP, "by": BY_HELP, "at": AT_HELP, "note": NOTE_HELP,
                                   "store": STORE_HELP})(reports_errors(step_task))


route = _make_step_task("route", "Route the request letter (B.2, disposition; due on working day 1).")
verify = _make_step_task("verify", "Verify the request (B.3; due on working day 2).")
consider = _make_step_task("consider", "Give a consideration on the request (B.4; due on working day 2).")
approve = _make_step_task("approve", "Approve the service (B.5; due on working day 2).")
reject = _make_step_task("reject", "Reject the request (B.5, on time or not; B.6 becomes n/a). Say why with --note.")
done = _make_step_task("done", "The request has been handled (B.6; due on working day 2).")


def _row(register: Register, request) -> list:
    marks = []
    for item in _register.ITEMS:
        state = register.step_status(request, item)["state"]
        marks.append({"on-time": "ok", "late": "LATE", "pending": "…", "overdue": "OVERDUE", "na": "n/a"}[state])
    return [request.id, _cal.local_text(request.received_at), request.requester, request.unit, request.need[:40],
            request.state, *marks]


@task(name="list", help={"month": "only requests received in this month, YYYY-MM (default: all)",
                         "json": "print JSON", "store": STORE_HELP})
@reports_errors
def list_(c, month=None, json_=False, store=None):
    """Every request with each step's standing against its time standard (ok, LATE, OVERDUE, n/a)."""
    if month:
        _status.check_month(month)
    opened, register = open_register(c, store)
    with opened:
        register.sweep()
        requests = register.list(month)
        if json_:
            print_json({"requests": [register.overview(r) for r in requests],
                        "items": _register.summarise(register, requests)})
            return
    print_table([_row(register, r) for r in requests],
                ["#", "received", "from", "unit", "need", "state", *_register.ITEMS])


@task(help={"id": ID_HELP, "json": "print JSON", "store": STORE_HELP})
@reports_errors
def show(c, id_=None, json_=False, store=None):
    """One request: its steps (who, when) and where each SOP item stands."""
    number = record_number(id_, "request")
    opened, register = open_register(c, store)
    with opened:
        request = register.get(number)
        view = register.overview(request)
    if json_:
        print_json(view)
        return
    print(f"request {request.id}: {request.requester} ({request.unit}): {request.need} — state {request.state}")
    print_table([[s.action, _cal.local_text(s.at), s.by, s.note or ""] for s in request.steps],
                ["step", "at", "by", "note"])
    print()
    print("\n".join(_describe(register, request, item) for item in _register.ITEMS))


@task(help={"month": "also record a finished month without any request as n/a (YYYY-MM)", "store": STORE_HELP})
@reports_errors
def sweep(c, month=None, store=None):
    """Record every step whose day has passed without it as non-compliant (run before the monthly report)."""
    opened, register = open_register(c, store)
    with opened:
        sweep_workflow(register, month, empty="no request received; B.1-B.6 recorded as n/a",
                       nothing="no overdue step")


ns = Collection("request", new, route, verify, consider, approve, reject, done, list_, show, sweep)
