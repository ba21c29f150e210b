"""`maintain --month 2026-11`: the whole monthly SOP cycle in one command.

Exit codes: 0 every item compliant (or waived, not applicable, not yet verifiable by a person), 1 some item
non-compliant or partly, 2 the run itself failed (bad input, no store…).
"""

from __future__ import annotations

import datetime as _dt
import re
import sys
from pathlib import Path

from invoke import Exit, task

from ..errors import SopctlError, UsageError
from .common import HELP, inventory_path, open_fleet, print_table, project_root, settings

MAINTAIN_HELP = {
    **{k: v for k, v in HELP.items() if k not in ("json", "accept-new-host-keys")},
    "month": "the month to run, YYYY-MM (default: this month)",
    "dry-run": "print the plan; touch no host and write nothing",
    "only": "only these steps (comma separated)",
    "skip": "skip these steps (comma separated)",
    "force": "run steps again even if this month already finished them",
    "apply-baseline": "also apply the baseline playbooks (fix drift) before the audit",
    "lang": "language of the documents: id (default) or en",
    "store": "results database (default: sopctl.store, else var/sopctl.db)",
    "reports": "folder for the month's documents (default: reports/ in the project); <month>/ is added",
}


def _month(value: str | None) -> str:
    if not value:
        today = _dt.date.today()
        return f"{today.year:04d}-{today.month:02d}"
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise UsageError(f"--month {value!r}: use YYYY-MM, e.g. 2026-11")
    return value


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


@task(help=MAINTAIN_HELP)
def maintain(c, month=None, inventory=None, limit=None, dry_run=False, only=None, skip=None, force=False,
             apply_baseline=False, lang="id", store=None, forks=None, timeout=None, reports=None):
    """Run the month's SOP cycle: schedule, hosts, audit, backups, recap, report (see --dry-run)."""
    try:
        code = _maintain(c, _month(month), inventory, limit, dry_run, _split(only), _split(skip), force,
                         apply_baseline, lang, store, forks, timeout, reports)
    except SopctlError as exc:
        raise Exit(f"sopctl: error: {exc}", code=2) from None
    except Exception:  # a bug: show it, but keep exit code 1 for "non-compliant items"
        import traceback

        traceback.print_exc()
        raise Exit("sopctl: error: the monthly run failed (see above)", code=2) from None
    if code:
        raise Exit(code=code)


def _maintain(c, month, inventory, limit, dry_run, only, skip, force, apply_baseline, lang, store_arg, forks,
              timeout, reports) -> int:
    from ..compliance.checks import load_checks
    from ..engine import maintain as frame
    from ..engine.maintain_steps import STEPS
    from ..store import Store
    from .backup import backup_config
    from .compliance import catalog_path, load_project_catalog, store_path

    steps = frame.choose(STEPS, only, skip if apply_baseline else [*skip, "baseline"])
    # the project's own folder, else this sopctl's checkout: where templates/ for the documents are
    candidates = [p for p in (project_root(c), catalog_path(c).parents[1]) if p is not None]
    root = next((p for p in candidates if (p / "templates").is_dir()), candidates[0])
    if dry_run:
        print(f"maintain {month}: plan (nothing is touched)")
        print_table([[i + 1, s.name, ", ".join(s.sop) or "-", s.title] for i, s in enumerate(steps)],
                    ["#", "step", "SOP", "what"])
        return 0
    catalog = load_project_catalog(c)
    checks = load_checks(catalog_path(c).parent, catalog)
    inv, hosts, fleet = open_fleet(c, inventory, limit, forks, timeout)
    out = Path(reports or c.config.get("sopctl", {}).get("reports") or (project_root(c) or root) / "reports") / month
    with fleet, Store.open(store_path(c, store_arg)) as db:
        db.mark_abandoned()
        cycle = frame.Cycle(month=month, today=_dt.date.today(), inventory=inv,
                            inventory_path=inventory_path(c, inventory), hosts=hosts, fleet=fleet, store=db,
                            catalog=catalog, checks=checks, project=root, out=out, lang=lang,
                            apply_baseline=apply_baseline,
                            options={"backup": backup_config(c, str(store_path(c, store_arg))),
                                     "settings": settings(c, forks, timeout)})
        finished = set() if force else frame.done_steps(db, month)
        for number, step in enumerate(steps, start=1):
            label = f"[{number}/{len(steps)}] {step.name}"
            if step.name in finished and step.name != "report":
                print(f"{label}: already done this month (use --force to run it again)")
                continue
            print(f"{label}: {step.title} …", end="", flush=True, file=sys.stdout)
            result = frame.run_step(cycle, step)
            print(f"\r{label}: {result.summary} ({result.seconds:.1f}s)\033[K" if sys.stdout.isatty()
                  else f" {result.summary} ({result.seconds:.1f}s)")
        month_report = cycle.options.get("month_report")
    return _summary(month_report, out)


def _summary(month_report, out) -> int:
    if month_report is None:
        return 0
    counts: dict[str, list[str]] = {}
    for item in month_report.items:
        counts.setdefault(item.status, []).append(item.id)
    print(f"\nSOP/AS/32, {month_report.month}: score {month_report.score.percent}")
    print_table([[status, len(ids), " ".join(ids)] for status, ids in sorted(counts.items())],
                ["status", "items", "which"])
    print(f"\nreports: {out}/")
    return 1 if counts.get("non-compliant") or counts.get("partly") else 0
