"""An audit: every check on every targeted host, stored as one run.

Per host: one round trip for facts, then one for all of its probes (the checks runner batches them). A
host that cannot be reached still gets a result for every check that applies to it — `host-reachable`
fails with the reason, the others are `error` ("host unreachable") — so its items can never look
compliant by having no data. The results go into the store in one transaction (a killed audit leaves the
run incomplete and uncounted).
"""

from __future__ import annotations

import fnmatch
import getpass
from dataclasses import dataclass
from datetime import date, datetime, timezone

from ..compliance.checks import Check
from ..compliance.runner import CheckResult, HostContext, check_fleet
from ..store import Store
from ..transport import Fleet
from . import hostinfo

REACHABLE = "host-reachable"


@dataclass(frozen=True)
class AuditRow:
    """One result as the audit prints it; `status` adds `waived` to the checks' pass/fail/error/na."""

    check: str
    host: str
    sop: list[str]
    status: str
    observed: str
    expected: str
    command: str
    output: str
    time: str
    waiver: str | None = None


def select_checks(checks: list[Check], pattern: str | None) -> list[Check]:
    """`--checks`: comma-separated ids or wildcards (`sshd-*`)."""
    if not pattern:
        return checks
    wanted = [p.strip() for p in pattern.split(",") if p.strip()]
    return [c for c in checks if any(fnmatch.fnmatchcase(c.id, p) for p in wanted)]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unreachable_results(checks: list[Check], ctx: HostContext, reason: str) -> list[CheckResult]:
    results = []
    for check in checks:
        if check.id != REACHABLE and check.applies_to.reason_not(ctx.os, ctx.all_groups):
            continue
        status, observed = ("fail", f"unreachable: {reason}") if check.id == REACHABLE else (
            "error", "host unreachable")
        results.append(CheckResult(check.id, ctx.name, list(check.sop), status, observed,
                                   "reachable over SSH" if check.id == REACHABLE else "", "", reason[:2048],
                                   _now(), check.severity, check.title, reason))
    return results


def run_audit(checks: list[Check], inventory, hosts, fleet: Fleet) -> list[CheckResult]:
    """Facts, then every check, on every host; unreachable hosts become results too."""
    facts = {o.host: o.value for o in hostinfo.facts(fleet) if o.ok}
    contexts = [HostContext.of((h.name, inventory.host_vars(h.name), facts.get(h.name, {}),
                                tuple(h.groups))) for h in hosts]
    by_name = {c.name: c for c in contexts}
    results: list[CheckResult] = []
    for outcome in check_fleet(checks, fleet, [c for c in contexts if c.name in facts or
                                               by_name[c.name].os == "windows"]):
        if outcome.ok:
            results.extend(outcome.value)
            if any(c.id == REACHABLE for c in checks) and not any(r.check_id == REACHABLE for r in outcome.value):
                results.extend(_reachable(checks, by_name[outcome.host]))
        else:
            results.extend(_unreachable_results(checks, by_name[outcome.host], outcome.error or outcome.status))
    done = {r.host for r in results}
    for ctx in contexts:
        if ctx.name not in done:
            reason = str(fleet.down.get(ctx.name) or "facts could not be gathered")
            results.extend(_unreachable_results(checks, ctx, reason))
    order = {c.name: i for i, c in enumerate(contexts)}
    return sorted(results, key=lambda r: order.get(r.host, 0))


def _reachable(checks: list[Check], ctx: HostContext) -> list[CheckResult]:
    check = next(c for c in checks if c.id == REACHABLE)
    return [CheckResult(check.id, ctx.name, list(check.sop), "pass", "reachable", "reachable over SSH",
                        "ssh", "", _now(), check.severity, check.title, "")]


def store_audit(store: Store, results: list[CheckResult], *, inventory: str, what: str,
                month: str | None = None) -> int:
    """All results of the audit in one run (one transaction at its end); returns the run id."""
    with store.run("audit", who=getpass.getuser(), what=what, inventory=inventory, month=month) as run:
        run.add_results([r.store_fields() for r in results])
    return run.id


def with_waivers(store: Store, results: list[CheckResult], today: date) -> list[AuditRow]:
    """Failing results covered by an active waiver show as `waived`, naming who approved it and until when."""
    rows = []
    for r in results:
        status, note = r.status, None
        if r.status == "fail":
            waiver = store.waiver_for(r.check_id, r.host, today)
            if waiver is not None:
                status = "waived"
                note = f"{waiver.reason} (approved by {waiver.approved_by}, until {waiver.expires})"
        rows.append(AuditRow(r.check_id, r.host, list(r.sop), status, r.observed, r.expected, r.command,
                             r.output, r.time, note))
    return rows
