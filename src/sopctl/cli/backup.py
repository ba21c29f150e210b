"""`backup`, `restore-test`, `restore` and `backup.keygen|list|prune` (SOP D.7 and F.2). See docs/backup.md.

    invoke backup.keygen                     # identity (passphrase-encrypted) + recipient
    invoke backup --limit servers            # archives in backups/<host>/<UTC time>.sopbak
    invoke restore-test --latest --junit restore.xml --against-source
    invoke restore --host srv-01 --archive latest --to /tmp/srv-01
    invoke backup.list
    invoke backup.prune --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --dry-run

Registration (cli/__init__.py, by the lead): `backup` is the *default task* of the `backup` collection
(`ns`), because Invoke cannot hold a task and a collection both named `backup`; `ns_tasks` holds the
top-level `restore-test` and `restore`.

Config (invoke.yaml), all optional: `sopctl.backup.folder` (default `backups`), `sopctl.backup.recipients`
(a file or a list of files; default `backups/recipients.txt`), `sopctl.backup.identity` (default
`~/.config/sopctl/backup-identity`: keep it offline), `sopctl.backup.scratch` (restore-test folder),
`sopctl.store` (default `var/sopctl.db`). Relative paths are under the project root.
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from invoke import Collection, task

from ..lazy import lazy_module

# The backup machinery (cryptography, zstandard) loads when a backup task runs, not for every `sopctl` call.
jobs = lazy_module("sopctl.backup.jobs")
ledger = lazy_module("sopctl.backup.ledger")
retention = lazy_module("sopctl.backup.retention")
service = lazy_module("sopctl.backup.service")
archive_format = lazy_module("sopctl.backup.archive")
errors = lazy_module("sopctl.backup.errors")
keys = lazy_module("sopctl.backup.keys")
_store = lazy_module("sopctl.store")
_targets = lazy_module("sopctl.engine.targets")
_inventory = lazy_module("sopctl.inventory")
_transport = lazy_module("sopctl.transport")
from ..errors import UsageError
from .common import (
    HELP,
    fail_if,
    inventory_path,
    open_fleet,
    print_json,
    print_table,
    project_root,
    reports_errors,
    settings,
)
from .compliance import open_existing, store_path

DEFAULT_FOLDER = "backups"
DEFAULT_RECIPIENTS = "backups/recipients.txt"
DEFAULT_IDENTITY = "~/.config/sopctl/backup-identity"


@dataclass(frozen=True)
class BackupConfig:
    root: Path
    folder: Path
    recipients: list[Path]
    identity: Path
    scratch: Path | None
    store: Path


def _under(root: Path, value: str | os.PathLike) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def backup_config(ctx, store: str | None = None) -> BackupConfig:
    sopctl_conf = ctx.config.get("sopctl", {}) or {}
    conf = sopctl_conf.get("backup", {}) or {}
    root = project_root(ctx) or Path.cwd()
    recipients = conf.get("recipients") or DEFAULT_RECIPIENTS
    if isinstance(recipients, str):
        recipients = [recipients]
    scratch = conf.get("scratch")
    return BackupConfig(
        root=root,
        folder=_under(root, conf.get("folder") or DEFAULT_FOLDER),
        recipients=[_under(root, r) for r in recipients],
        identity=_under(root, conf.get("identity") or DEFAULT_IDENTITY),
        scratch=_under(root, scratch) if scratch else None,
        store=store_path(ctx, store),
    )


def _open_store(path: Path, must_exist: bool) -> _store.Store:
    store = open_existing(path, "run `invoke backup` first") if must_exist else _store.Store.open(path)
    store.mark_abandoned()
    return store


def _size(n: int | None) -> str:
    return jobs.size_text(n)


def _age(created: _dt.datetime) -> str:
    seconds = (_dt.datetime.now(_dt.UTC) - created).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


STORE_HELP = "results database (default: sopctl.store, else var/sopctl.db in the project)"


# ------------------------------------------------------------------------------------------------- backup


@task(name="run", default=True, help={**HELP, "store": STORE_HELP})
@reports_errors
def backup(c, inventory=None, limit=None, forks=None, json_=False, accept_new_host_keys=False, timeout=None,
           store=None):
    """Back up every targeted host that has `backup_paths`: remote tar over SSH, encrypted here."""
    conf = backup_config(c, store)
    recipients = keys.read_recipients(conf.recipients)
    inv, hosts, fleet = open_fleet(c, inventory, limit, forks, timeout, accept_new_host_keys)
    plans = {h.name: service.host_plan(h.name, inv.host_vars(h.name)) for h in hosts}
    todo = [name for name, plan in plans.items() if plan is not None]
    if not todo:
        raise UsageError("no targeted host has backup_paths in the inventory")
    with _open_store(conf.store, must_exist=False) as db, fleet:
        rows = jobs.backup_hosts(db, fleet, {n: plans[n] for n in todo}, recipients, conf.folder,
                                 what=_what("backup", limit), inventory=str(inventory_path(c, inventory)))
    rows += [{"host": name, "status": "skipped", "archive": None, "files": None, "size": None, "seconds": None,
              "error": "no backup_paths"} for name, plan in plans.items() if plan is None]
    if json_:
        print_json(rows)
    else:
        print_table([[r["host"], r["status"], r["archive"], r["files"], _size(r["size"]), r["seconds"], r["error"]]
                     for r in rows], ["host", "status", "archive", "files", "size", "seconds", "error"])
    bad = [r["host"] for r in rows if r["status"] not in ("ok", "skipped")]
    fail_if(bool(bad), f"sopctl: backup failed on {len(bad)} host(s): {', '.join(bad)}")


def _what(*words) -> str:
    return " ".join(str(w) for w in words if w)


# --------------------------------------------------------------------------------------------- restore-test


@task(help={**HELP, "latest": "test each host's newest archive (the default)",
            "all": "test every archive of the targeted hosts",
            "junit": "also write the results as a JUnit XML file (for CI)",
            "against-source": "also stream the live files again and report what changed since the newest archive",
            "month": "the month (YYYY-MM) whose D.7/F.2 evidence this test is (default: this month)",
            "store": STORE_HELP})
@reports_errors
def restore_test(c, inventory=None, limit=None, latest=False, all_=False, junit=None, against_source=False,
                 json_=False, store=None, forks=None, timeout=None, accept_new_host_keys=False, month=None):
    """Decrypt archives, restore them into a scratch folder and verify every file against the manifest."""
    if latest and all_:
        raise UsageError("give --latest or --all, not both")
    conf = backup_config(c, store)
    inv = _inventory.load_inventory(inventory_path(c, inventory))
    hosts = [h.name for h in inv.select(limit)]
    if not hosts:
        raise UsageError(f"no hosts match {limit!r}" if limit else "the inventory has no hosts")
    with _open_store(conf.store, must_exist=True) as db:
        chosen = jobs.choose(ledger.archives(db, hosts), all_)
        if not chosen:
            raise UsageError(f"no archives of {', '.join(hosts)} in {conf.store}: run `invoke backup` first")
        identity = service.unlock(conf.identity)
        newest = {row.host: row.id for row in chosen}          # chosen is oldest first

        def changes(reports):
            return _against_source(c, inv, chosen, reports, newest, forks, timeout, accept_new_host_keys)

        rows, cases = jobs.restore_tests(
            db, inv, chosen, identity, root=conf.root, scratch=conf.scratch,
            what=_what("restore-test", limit, "--all" if all_ else "--latest",
                       "--against-source" if against_source else ""),
            inventory=str(inventory_path(c, inventory)), month=month,
            changes=changes if against_source else None)
    if junit:
        _write_junit(Path(junit), cases)
    if json_:
        print_json(rows)
    else:
        print_table([[r["host"], Path(r["archive"]).name, r["status"], r["files"], _size(r["bytes"]), r["seconds"],
                      r["detail"]] for r in rows], ["host", "archive", "result", "files", "size", "seconds", "detail"])
        for r in rows:
            if r["against_source"]:
                print(f"{r['host']}: {r['against_source'].get('summary') or r['against_source'].get('error')}")
    bad = [f"{r['host']}:{Path(r['archive']).name}" for r in rows if r["status"] != ledger.PASS]
    fail_if(bool(bad), f"sopctl: {len(bad)} restore test(s) failed: {', '.join(bad)}")


def _against_source(c, inv, chosen, reports, newest, forks, timeout, accept_new_host_keys) -> dict[int, dict]:
    run_settings = settings(c, forks, timeout, accept_new_host_keys)
    targets = {row.host: row for row in chosen if newest[row.host] == row.id and reports[row.id].ok}
    plans = {host: service.host_plan(host, inv.host_vars(host)) for host in targets}
    plans = {host: plan for host, plan in plans.items() if plan is not None}
    specs = [_targets.connection_spec(host, inv.host_vars(host), run_settings) for host in plans]
    out: dict[int, dict] = {}
    with _transport.Fleet(specs, forks=run_settings.forks,
                          accept_new_host_keys=run_settings.accept_new_host_keys) as fleet:
        outcomes = fleet.map_some(list(plans), lambda s: service.compare_with_source(
            s, plans[s.spec.name], reports[targets[s.spec.name].id].manifest), label="against source")
    for outcome in outcomes:
        row = targets[outcome.host]
        if outcome.ok:
            out[row.id] = {**outcome.value.as_dict(), "summary": outcome.value.summary}
        else:
            out[row.id] = {"error": f"cannot compare with the source: {outcome.error}"}
    return out


def _write_junit(path: Path, cases) -> None:
    failures = sum(1 for _, report, _ in cases if not report.ok)
    suite = ET.Element("testsuite", name="sopctl restore-test", tests=str(len(cases)), failures=str(failures),
                       errors="0", hostname=socket.gethostname(),
                       timestamp=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                       time=f"{sum(r.seconds for _, r, _ in cases):.3f}")
    for row, report, change in cases:
        case = ET.SubElement(suite, "testcase", classname=f"restore-test.{row.host}", name=Path(row.path).name,
                             time=f"{report.seconds:.3f}")
        if not report.ok:
            failure = ET.SubElement(case, "failure", message=report.summary[:500], type="restore-test")
            failure.text = "\n".join([report.error or "", *report.problems])
        out = [report.summary] + ([change.get("summary") or change.get("error", "")] if change else [])
        ET.SubElement(case, "system-out").text = "\n".join(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


# ------------------------------------------------------------------------------------------------- restore


@task(help={"host": "the host whose archive to restore", "archive": "archive file name, path, store id, or latest "
            "(default)", "to": "target folder (on this machine; on the host with --to-host; / there puts files "
            "back where they were)", "to-host": "restore onto the host over SSH instead of locally",
            "inventory": HELP["inventory"], "store": STORE_HELP, "timeout": HELP["timeout"],
            "accept-new-host-keys": HELP["accept-new-host-keys"], "json": HELP["json"]})
@reports_errors
def restore(c, host, to, archive="latest", to_host=False, inventory=None, store=None, timeout=None,
            accept_new_host_keys=False, json_=False):
    """Restore one archive into a folder here, or (--to-host) onto its host over SSH; verified as it goes."""
    conf = backup_config(c, store)
    path, _row = _find_archive(conf, host, archive)
    identity = service.unlock(conf.identity)
    name = str(path)
    if to_host:
        _, _, fleet = open_fleet(c, inventory, host, 1, timeout, accept_new_host_keys)
        with fleet:
            outcome = fleet.map(lambda s: service.restore_to_host(s, path, identity, to, name=name))[0]
        if not outcome.ok:
            raise errors.BackupError(f"{host}: restore failed: {outcome.error}")
        report, where = outcome.value, f"{host}:{to}"
    else:
        report, where = service.restore_to_dir(path, identity, Path(to), name=name), to
    if json_:
        print_json({**report.as_dict(), "to": where})
    else:
        print(f"restore {Path(name).name} -> {where}: {'ok' if report.ok else 'FAILED'}: {report.summary}")
        for problem in report.problems:
            print(f"  {problem}")
    fail_if(not report.ok, f"sopctl: restore of {Path(name).name} failed")


def _find_archive(conf: BackupConfig, host: str, archive: str) -> tuple[Path, ledger.ArchiveRow | None]:
    """An archive by `latest`, store id, file name in backups/<host>/, or path."""
    rows = []
    if conf.store.is_file():
        with _open_store(conf.store, must_exist=True) as db:
            rows = ledger.archives(db, [host])
    if archive == "latest":
        if rows:
            return service.resolve_archive(rows[-1].path, conf.root), rows[-1]
        found = sorted(service.host_folder(conf.folder, host).glob("*" + archive_format.EXTENSION))
        if not found:
            raise UsageError(f"no archives of {host} (store {conf.store}, folder {conf.folder / host})")
        return found[-1], None
    if archive.isdigit():
        match = [r for r in rows if r.id == int(archive)]
        if not match:
            raise UsageError(f"no archive {archive} of {host} in {conf.store}")
        return service.resolve_archive(match[0].path, conf.root), match[0]
    for candidate in (Path(archive), service.host_folder(conf.folder, host) / archive):
        if candidate.is_file():
            match = [r for r in rows if Path(r.path).resolve() == candidate.resolve()]
            return candidate, (match[0] if match else None)
    raise UsageError(f"archive {archive!r} of {host} not found")


# ------------------------------------------------------------------------------------------------- keygen


@task(help={"force": "replace an existing identity file (archives made for the old one become unreadable "
            "without it)"})
@reports_errors
def keygen(c, force=False):
    """Make an identity (private key, encrypted with a passphrase, mode 0600) and add its recipient line."""
    conf = backup_config(c)
    if conf.identity.exists() and not force:
        raise errors.IdentityError(f"{conf.identity} already exists: archives need it; pass --force to replace it")
    identity = keys.Identity.generate()
    secret = service.passphrase("New passphrase for the backup identity: ", confirm=True)
    written = keys.write_identity(conf.identity, identity, secret, force=force, log_n=keys.scrypt_log_n())
    recipients = conf.recipients[0]
    recipients.parent.mkdir(parents=True, exist_ok=True)
    line = f"{identity.recipient} {socket.gethostname()} {_dt.date.today().isoformat()}\n"
    with open(recipients, "a", encoding="utf-8") as handle:
        if handle.tell() == 0:
            handle.write("# sopctl backup recipients: archives are encrypted to every key listed here\n")
        handle.write(line)
    print(f"identity  {written} (mode 0600, scrypt log_n {keys.scrypt_log_n()}): move it OFFLINE; it is the only way "
          "to read the backups")
    print(f"recipient {identity.recipient} ({identity.fingerprint}) added to {recipients}")


# --------------------------------------------------------------------------------------------------- list


@task(name="list", help={"limit": HELP["limit"], "inventory": HELP["inventory"], "json": HELP["json"],
                         "archives": "one line per archive instead of one per host", "store": STORE_HELP})
@reports_errors
def list_(c, limit=None, inventory=None, archives=False, json_=False, store=None):
    """Archives per host: how many, the newest and its age, total size, the last restore test."""
    conf = backup_config(c, store)
    with _open_store(conf.store, must_exist=True) as db:
        hosts = None
        if limit:
            hosts = [h.name for h in _inventory.load_inventory(inventory_path(c, inventory)).select(limit)]
        rows = ledger.archives(db, hosts)
    if archives:
        data = [{"host": r.host, "id": r.id, "archive": r.path, "created": r.created_at, "age": _age(r.created),
                 "size": r.size, "files": r.file_count, "last_test": r.last_test_status,
                 "last_test_time": r.last_test_time} for r in rows]
        if json_:
            print_json(data)
        else:
            print_table([[d["host"], d["id"], Path(d["archive"]).name, d["age"], _size(d["size"]), d["files"],
                          d["last_test"], d["last_test_time"]] for d in data],
                        ["host", "id", "archive", "age", "size", "files", "last test", "tested at"])
        return
    per_host: dict[str, list[ledger.ArchiveRow]] = {}
    for row in rows:
        per_host.setdefault(row.host, []).append(row)
    data = []
    for host, items in sorted(per_host.items()):
        tested = [r for r in items if r.last_test_time]
        last = max(tested, key=lambda r: r.last_test_time) if tested else None
        data.append({"host": host, "archives": len(items), "newest": Path(items[-1].path).name,
                     "age": _age(items[-1].created), "size": sum(r.size for r in items),
                     "last_test": f"{last.last_test_status} {last.last_test_time} ({Path(last.path).name})"
                     if last else None})
    if json_:
        print_json(data)
    else:
        print_table([[d["host"], d["archives"], d["newest"], d["age"], _size(d["size"]), d["last_test"]]
                     for d in data], ["host", "archives", "newest", "age", "total size", "last restore test"])


# -------------------------------------------------------------------------------------------------- prune


@task(help={"keep-daily": "keep the newest archive of each of the last N days that have one",
            "keep-weekly": "... of each of the last N weeks", "keep-monthly": "... of each of the last N months",
            "dry-run": "only show what would be deleted", "limit": HELP["limit"], "inventory": HELP["inventory"],
            "json": HELP["json"], "store": STORE_HELP})
@reports_errors
def prune(c, keep_daily=0, keep_weekly=0, keep_monthly=0, dry_run=False, limit=None, inventory=None, json_=False,
          store=None):
    """Delete archives no keep rule wants; never a host's newest, nor its newest restore-tested archive."""
    policy = retention.Policy(int(keep_daily), int(keep_weekly), int(keep_monthly))
    if not (policy.daily or policy.weekly or policy.monthly):
        raise UsageError("give at least one of --keep-daily, --keep-weekly, --keep-monthly")
    conf = backup_config(c, store)
    with _open_store(conf.store, must_exist=True) as db:
        hosts = ([h.name for h in _inventory.load_inventory(inventory_path(c, inventory)).select(limit)]
                 if limit else None)
        rows = ledger.archives(db, hosts)
        by_host: dict[str, list[ledger.ArchiveRow]] = {}
        for row in rows:
            by_host.setdefault(row.host, []).append(row)
        table = []
        for host, items in sorted(by_host.items()):
            tested = ledger.newest_passed(db, host)
            keep = retention.decide([retention.Candidate(r.id, r.created, r.id == tested) for r in items], policy)
            for row in reversed(items):
                reasons = keep.get(row.id)
                action = "keep" if reasons else ("would delete" if dry_run else "deleted")
                if not reasons and not dry_run:
                    service.resolve_archive(row.path, conf.root).unlink(missing_ok=True)
                    ledger.mark_pruned(db, row.id)
                table.append({"host": host, "id": row.id, "archive": row.path, "created": row.created_at,
                              "action": action, "why": ", ".join(reasons or [])})
    if json_:
        print_json(table)
    else:
        print_table([[t["host"], t["id"], Path(t["archive"]).name, t["action"], t["why"]] for t in table],
                    ["host", "id", "archive", "action", "kept by"])


ns_tasks = [restore_test, restore]
ns = Collection("backup", backup, keygen, list_, prune)
