"""Backing up hosts and testing archives, as jobs the CLI and the monthly cycle both run.

Each job is one store run: its results (check ids `backup`, `backup-restore-test` for D.7 and
`website-backup-restore-test` for F.2) and its evidence are counted only if the whole run completes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from . import ledger, service
from .keys import Identity, Recipient

# The check ids the SOP catalog names for a restore test: D.7 (computers, servers) and F.2 (the website).
RESTORE_CHECK = {"D.7": "backup-restore-test", "F.2": "website-backup-restore-test"}


def choose(rows: list[ledger.ArchiveRow], every: bool) -> list[ledger.ArchiveRow]:
    if every:
        return rows
    newest: dict[str, ledger.ArchiveRow] = {}
    for row in rows:
        newest[row.host] = row
    return sorted(newest.values(), key=lambda r: (r.created_at, r.id))




def size_text(n: int | None) -> str:
    """Bytes for people: 1.5 MiB."""
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def backup_hosts(db, fleet, plans: dict, recipients: list[Recipient], folder: Path, *, what: str,
                 inventory: str, month: str | None = None) -> list[dict]:
    """Back up every host of `plans` over the fleet's connections, in parallel; one row per host.
    `month` (YYYY-MM, default this month) is the month whose evidence the run is."""
    with db.run("backup", what=what, inventory=inventory, month=month,
                meta={"recipients": [r.fingerprint for r in recipients]}) as run:
        def one(session):
            outcome = service.backup_host(session, plans[session.spec.name], recipients, folder)
            outcome.archive_id = ledger.add_archive(
                db, run.id, outcome.host, str(outcome.path), outcome.created_at, outcome.summary.size,
                outcome.summary.files, outcome.summary.sha256, outcome.summary.recipients)
            return outcome

        outcomes = fleet.map_some(list(plans), one, label="backup")
        return [_record_backup(run, o, plans[o.host]) for o in outcomes]


def _record_backup(run, outcome, plan) -> dict:
    if not outcome.ok:
        run.add_result("backup", outcome.host, "error", sop_ids=[plan.sop], observed=outcome.error,
                       expected="an archive")
        return {"host": outcome.host, "status": outcome.status, "archive": None, "files": None, "size": None,
                "seconds": round(outcome.elapsed_ms / 1000, 2), "error": outcome.error}
    done = outcome.value
    s = done.summary
    data = {"archive": str(done.path), "archive_id": done.archive_id, "size": s.size, "files": s.files,
            "entries": s.entries, "data_bytes": s.data_bytes, "recipients": s.recipients, "notes": s.notes[:50],
            "seconds": round(done.seconds, 3), "pre_commands": done.pre_commands,
            "paths": list(plan.source.paths), "exclude": list(plan.source.exclude)}
    run.add_result("backup", done.host, "pass", sop_ids=[plan.sop], observed=f"{s.files} files, {s.size} bytes",
                   expected="an archive")
    run.add_evidence(plan.sop, "backup", f"{done.host}: archive {done.path.name} ({s.files} files, {size_text(s.size)})",
                     host=done.host, data=data, sha256=s.sha256, path=str(done.path))
    warn = f"{len(s.notes)} warning(s): {s.notes[0]}" if s.notes else None
    return {"host": done.host, "status": "ok", "archive": str(done.path), "files": s.files, "size": s.size,
            "seconds": round(done.seconds, 2), "error": warn}



def restore_tests(db, inv, chosen: list[ledger.ArchiveRow], identity: Identity, *, root: Path,
                  scratch: Path | None, what: str, inventory: str, month: str | None = None,
                  changes: Callable[[dict], dict[int, dict]] | None = None) -> tuple[list[dict], list[tuple]]:
    """Restore each chosen archive into scratch space and verify it; store results and D.7/F.2 evidence."""
    newest = {row.host: row.id for row in chosen}          # chosen is oldest first
    rows, cases = [], []
    with db.run("restore-test", what=what, inventory=inventory, month=month) as run:
        reports = {}
        for row in chosen:
            keep = changes is not None and newest[row.host] == row.id
            reports[row.id] = service.verify_archive(service.resolve_archive(row.path, root), identity,
                                                     scratch=scratch, row=row, keep_manifest=keep, name=row.path)
        found = changes(reports) if changes is not None else {}
        for row in chosen:
            report, sop = reports[row.id], service.sop_item(row.host, inv.host_vars(row.host))
            detail = {**report.as_dict(), "sha256": row.sha256}
            if row.id in found:
                detail["against_source"] = found[row.id]
            status = ledger.PASS if report.ok else ledger.FAIL
            ledger.add_restore_test(db, run.id, row.id, status, detail)
            run.add_result(RESTORE_CHECK.get(sop, "backup-restore-test"), row.host, status, sop_ids=[sop],
                           observed=report.summary, expected="every file restores and matches the manifest")
            if report.ok:
                run.add_evidence(sop, "restore-test", f"{row.host}: restore test of {Path(row.path).name} "
                                 f"passed ({report.files} files, {size_text(report.data_bytes)})",
                                 host=row.host, data=detail, sha256=row.sha256, path=row.path)
            change = found.get(row.id, {})
            rows.append({"host": row.host, "archive": row.path, "status": status, "files": report.files,
                         "bytes": report.data_bytes, "seconds": round(report.seconds, 2),
                         "detail": report.summary, "against_source": change or None})
            cases.append((row, report, change))
    return rows, cases
