"""`report`, `waive`, `waivers`, `attest`: the compliance report and the records a person adds to it.

    invoke report --month 2026-11 --format html --lang id --out laporan-2026-11.html
    invoke waive sshd-password-authentication --hosts 'pc-0*' --reason "..." --approved-by "Kasubag" \\
        --expires 2026-12-31
    invoke waivers
    invoke attest A.1 --evidence rencana-program.pdf --by kasubag_ptip --name "Budi"

The results store is `sopctl.store` from invoke.yaml (default `var/sopctl.db` under the project root),
or `--store PATH`. Attested files are copied beside it, under `<store folder>/evidence/<sha256 prefix>/`.
These tasks are not registered in `cli/__init__.py` here; add them to the collection there.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

from invoke import task

from ..atomic import write_atomic
from ..errors import UsageError
from ..lazy import lazy_module
from ..people import os_user
from .common import print_json, print_table, project_root, reports_errors

# The catalog, the status rules, the report renderer and the store load when a task runs, not for every
# `sopctl` call.
_report = lazy_module("sopctl.compliance.report")
_catalog = lazy_module("sopctl.compliance.catalog")
_status = lazy_module("sopctl.compliance.status")
_i18n = lazy_module("sopctl.compliance.i18n")
_store = lazy_module("sopctl.store")
_models = lazy_module("sopctl.store.models")

if TYPE_CHECKING:
    from ..compliance.catalog import Catalog
    from ..store import Store

DEFAULT_STORE = "var/sopctl.db"
DEFAULT_CATALOG = "checks/sop.yml"
EVIDENCE_FOLDER = "evidence"
SHA_PREFIX = 16                      # hex digits of the SHA-256 naming an evidence file's folder
_REPO = Path(__file__).resolve().parents[3]

STORE_HELP = "results database (default: sopctl.store from invoke.yaml, else var/sopctl.db in the project)"
# sopctl.compliance.report.FORMATS, spelt out so that `--help` does not load the renderer
# (tests/unit/test_cli_imports.py checks that the two agree).
REPORT_FORMATS = ("table", "md", "html", "json", "csv", "junit")
T = TypeVar("T")


# -------------------------------------------------------------------------------------------- helpers


def _root(ctx) -> Path:
    return project_root(ctx) or Path.cwd()


def store_path(ctx, given: str | None) -> Path:
    """`--store`, else config `sopctl.store`, else var/sopctl.db; a relative path is under the project root."""
    configured = given or ctx.config.get("sopctl", {}).get("store") or DEFAULT_STORE
    path = Path(configured).expanduser()
    return path if path.is_absolute() or given else _root(ctx) / path


def catalog_path(ctx) -> Path:
    """Config `sopctl.catalog`, else checks/sop.yml of the project (or of this sopctl's own checkout)."""
    configured = ctx.config.get("sopctl", {}).get("catalog")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else _root(ctx) / path
    for base in (project_root(ctx), Path.cwd(), _REPO):
        if base is not None and (base / DEFAULT_CATALOG).is_file():
            return base / DEFAULT_CATALOG
    raise UsageError(f"no SOP catalog found ({DEFAULT_CATALOG}): run from the project or set sopctl.catalog")


def load_project_catalog(ctx) -> Catalog:
    return _catalog.load_catalog(catalog_path(ctx))


def from_catalog(ctx, read: Callable[[Catalog], T]) -> T | None:
    """`read(catalog)` of the project's SOP catalog, or None when there is none (built-in defaults then)."""
    try:
        return read(load_project_catalog(ctx))
    except UsageError:
        return None


def current_month() -> str:
    today = _dt.date.today()
    return f"{today.year:04d}-{today.month:02d}"


def open_existing(path: Path, first: str = "run an audit first") -> Store:
    """A task that reads the store opens an existing one; it never creates an empty one by mistake.
    `first` says what fills it (`run an audit first`)."""
    if not path.is_file():
        raise UsageError(f"{path}: no results database there; {first} or give --store PATH")
    return _store.Store.open(path)


def sweep_workflow(register, month: str | None, *, empty: str, nothing: str) -> None:
    """`request.sweep` / `incident.sweep`: record the register's overdue steps as non-compliant and, with
    `month`, a finished month without any record as n/a (`empty` says what that records); `nothing` is
    printed when there was neither."""
    written = register.sweep()
    for number, item in written:
        print(f"{register.noun} {number}: {item} overdue (non-compliant)")
    if month:
        _status.check_month(month)
        if register.close_month(month):
            print(f"{month}: {empty}")
        else:
            print(f"{month}: has {register.noun}s (or was already recorded); nothing to add")
    if not written and not month:
        print(nothing)


def _inventory_hosts(inventory: str | None) -> list[str] | None:
    if not inventory:
        return None
    from ..inventory import load_inventory

    return [host.name for host in load_inventory(inventory).select(None)]


# --------------------------------------------------------------------------------------------- report


@task(help={
    "month": "month to report, YYYY-MM (default: this month)",
    "format": f"output format: {', '.join(REPORT_FORMATS)} (default table)",
    "lang": "language of labels and status words: id (default) or en; SOP titles are always Indonesian",
    "out": "write to this file (atomically) instead of printing",
    "store": STORE_HELP,
    "inventory": "inventory file or folder: only its hosts count, and hosts never audited are listed",
})
@reports_errors
def report(c, month=None, format_="table", lang="id", out=None, store=None, inventory=None):
    """Each of the 40 SOP items for a month: status, due date and proof (results, waivers, attestations)."""
    month = _status.check_month(month or current_month())
    if format_ not in _report.FORMATS:
        raise UsageError(f"--format {format_!r}: use one of {', '.join(_report.FORMATS)}")
    if lang not in _i18n.LANGS:
        raise UsageError(f"--lang {lang!r}: use one of {', '.join(_i18n.LANGS)}")
    catalog = load_project_catalog(c)
    hosts = _inventory_hosts(inventory)
    with open_existing(store_path(c, store)) as opened:
        result = _status.evaluate_month(catalog, opened, month, _dt.date.today(), hosts)
    options = {}
    templates = _root(c) / "templates"
    if format_ == "html" and (templates / _report.HTML_TEMPLATE).is_file():
        options["template_dir"] = templates      # the project's own (possibly customised) template
    text = _report.render(result, format_, lang, **options)
    if out:
        write_atomic(Path(out), text)
        print(f"report: {month}, {format_}, {lang} -> {out}")
    else:
        print(text, end="")


# --------------------------------------------------------------------------------------------- waivers


@task(help={
    "check": "the check id to waive (one the SOP catalog refers to)",
    "hosts": "hosts it covers: names or wildcards separated by commas (pc-0*,srv-01), or all",
    "reason": "why the failure is accepted (required)",
    "approved-by": "who approved the waiver (required)",
    "expires": "last day the waiver applies, YYYY-MM-DD (required)",
    "by": "who records it (default: the OS user)",
    "store": STORE_HELP,
})
@reports_errors
def waive(c, check, hosts=None, reason=None, approved_by=None, expires=None, by=None, store=None):
    """Accept a failing check on some hosts until a date; the report shows it as waived, with reason."""
    catalog = load_project_catalog(c)
    known = catalog.referenced_checks()
    if check not in known:
        raise UsageError(f"unknown check {check!r}: the SOP catalog refers to no such check "
                         f"(known: {', '.join(sorted(known))})")
    for name, value in (("--hosts", hosts), ("--reason", reason), ("--approved-by", approved_by),
                        ("--expires", expires)):
        if value is None or not str(value).strip():
            raise UsageError(f"{name} is required")
    terms = _models.split_hosts(hosts)
    if not terms or any(term[0] in "!&~" for term in terms):
        raise UsageError(f"--hosts {hosts!r}: give host names or wildcards separated by commas "
                         "(inventory syntax !, &, ~ is not used by waivers)")
    try:
        last_day = _dt.date.fromisoformat(expires.strip())
    except ValueError:
        raise UsageError(f"--expires {expires!r} is not a date (YYYY-MM-DD)") from None
    if last_day < _dt.date.today():
        raise UsageError(f"--expires {expires}: that day has passed; a waiver must still be valid today")
    with _store.Store.open(store_path(c, store)) as opened:
        waiver = opened.add_waiver(check, hosts.strip(), reason.strip(), approved_by.strip(), last_day,
                                   created_by=by)
    print(f"waiver {waiver.id}: {check} on {waiver.hosts} until {waiver.expires} "
          f"(approved by {waiver.approved_by}); items: {', '.join(known[check])}")


def _waiver_state(waiver, today: _dt.date) -> str:
    if waiver.revoked_at is not None:
        return "revoked"
    if waiver.expires < today.isoformat():
        return "expired"
    return "active" if waiver.active_on(today) else "not yet"


@task(help={"store": STORE_HELP, "json": "print JSON instead of a table"})
@reports_errors
def waivers(c, store=None, json_=False):
    """Every waiver: check, hosts, state today (active, expired, revoked), reason, approver, expiry."""
    path = store_path(c, store)
    rows = []
    if path.is_file():
        with _store.Store.open(path) as opened:
            rows = opened.all_waivers()
    today = _dt.date.today()
    if json_:
        print_json([{**vars(w), "state": _waiver_state(w, today)} for w in rows])
        return
    print_table([[w.id, w.check_id, w.hosts, _waiver_state(w, today), w.reason, w.approved_by, w.expires,
                  w.created_at[:10], w.created_by] for w in rows],
                ["id", "check", "hosts", "state", "reason", "approved by", "expires", "created", "by"])


# ------------------------------------------------------------------------------------------ attestations

_UNSAFE_NAME = re.compile(r"[^\w.\-+ ()]+", re.UNICODE)


def safe_file_name(name: str) -> str:
    """The evidence file's own name, reduced to a harmless single path component."""
    cleaned = _UNSAFE_NAME.sub("_", Path(name).name).strip(" .")
    if not cleaned:
        raise UsageError(f"--evidence {name!r}: the file needs a name")
    return cleaned[:200]


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def store_evidence_file(source: Path, folder: Path) -> tuple[Path, str, int]:
    """Copy `source` to folder/<sha256 prefix>/<name> (atomically; an identical copy is kept as is).
    Returns (stored path, sha256, size) of the bytes actually copied."""
    digest, size = _hash_file(source)
    target = folder / digest[:SHA_PREFIX] / safe_file_name(source.name)
    if target.is_file() and _hash_file(target) == (digest, size):
        return target, digest, size
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        copied = _hash_file(Path(temp))
        if copied != (digest, size):
            raise UsageError(f"--evidence {source}: the file changed while it was copied; try again")
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    return target, digest, size


@task(help={
    "item": "the SOP item attested, e.g. A.1 (an attest item, or one with attest: true such as C.4)",
    "evidence": "the file that proves it (its SHA-256, size and a copy are kept)",
    "by": "role of the person attesting: a role id of the catalog (operator, kasubag_ptip, ketua, ...)",
    "name": "name of the person attesting (default: the OS user)",
    "note": "a remark shown in the report",
    "store": STORE_HELP,
})
@reports_errors
def attest(c, item, evidence=None, by=None, name=None, note=None, store=None):
    """Record that an SOP item was done, with the file that proves it."""
    catalog = load_project_catalog(c)
    if item not in catalog:
        raise UsageError(f"unknown SOP item {item!r}: use an id like A.1 … F.7")
    sop_item = catalog.item(item)
    if not (sop_item.evidence == "attest" or sop_item.attest):
        attestable = [i.id for i in catalog.items if i.evidence == "attest" or i.attest]
        raise UsageError(f"SOP item {item} is evidenced by {sop_item.evidence}, not by attestation "
                         f"(attestable: {', '.join(attestable)})")
    if not by or by not in catalog.roles:
        raise UsageError(f"--by {by!r}: give a role of the SOP ({', '.join(catalog.roles)})")
    if not evidence:
        raise UsageError("--evidence FILE is required")
    source = Path(evidence)
    if not source.is_file():
        raise UsageError(f"--evidence {evidence}: no such file")
    person = name or os_user()
    if not person or not person.strip():
        raise UsageError("--name is required (the OS user is unknown)")
    path = store_path(c, store)
    stored, digest, size = store_evidence_file(source, path.parent / EVIDENCE_FOLDER)
    root = _root(c).resolve()
    shown = stored.resolve()
    shown_path = shown.relative_to(root) if shown.is_relative_to(root) else shown
    with _store.Store.open(path) as opened:
        record = opened.add_attestation(item, by, person.strip(), note=note, file_name=source.name,
                                        file_sha256=digest, file_size=size, stored_path=str(shown_path))
    print(f"attestation {record.id}: {item} by {record.by_name} ({by}) at {record.attested_at}; "
          f"{source.name} sha256 {digest} ({size} bytes) -> {shown_path}")




# -------------------------------------------------------------------------------------------- audit


AUDIT_HELP = {
    "inventory": "inventory file or folder (default: sopctl.inventory from invoke.yaml)",
    "limit": "host pattern (names, groups, wildcards, a:b, a:&b, a:!b)",
    "checks": "only these check ids (comma separated, wildcards allowed: sshd-*)",
    "json": "print every result as JSON",
    "store": STORE_HELP,
    "forks": "hosts worked on in parallel (default 20)",
    "timeout": "connect timeout in seconds",
}


@task(help=AUDIT_HELP)
@reports_errors
def audit(c, inventory=None, limit=None, checks=None, json_=False, store=None, forks=None, timeout=None):
    """Run every check on every targeted host, store the results, print a summary per host."""
    from ..compliance.checks import load_checks
    from ..engine import audit as engine
    from .common import fail_if, inventory_path, open_fleet

    catalog = load_project_catalog(c)
    chosen = engine.select_checks(load_checks(catalog_path(c).parent, catalog), checks)
    if not chosen:
        raise UsageError(f"no check matches {checks!r}")
    inv, hosts, fleet = open_fleet(c, inventory, limit, forks, timeout)
    with fleet:
        results = engine.run_audit(chosen, inv, hosts, fleet)
    with _store.Store.open(store_path(c, store)) as db:
        db.mark_abandoned()
        engine.store_audit(db, results, inventory=str(inventory_path(c, inventory)),
                           what=f"audit --limit {limit or 'all'} --checks {checks or 'all'}")
        rows = engine.with_waivers(db, results, _dt.date.today())
    if json_:
        print_json([{"check": r.check, "host": r.host, "sop": r.sop, "status": r.status, "observed": r.observed,
                     "expected": r.expected, "command": r.command, "output": r.output, "time": r.time,
                     **({"waiver": r.waiver} if r.waiver else {})} for r in rows])
    else:
        _print_audit_summary(rows)
    bad = sorted({r.host for r in rows if r.status in ("fail", "error")})
    fail_if(bool(bad), f"sopctl: failing or unverifiable checks on {len(bad)} host(s): {', '.join(bad)}")


def _print_audit_summary(rows) -> None:
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row.host, dict.fromkeys(("pass", "fail", "error", "na", "waived"), 0))[row.status] += 1
    print_table([[host, *c.values()] for host, c in counts.items()],
                ["host", "pass", "fail", "error", "n/a", "waived"])
    failing = [r for r in rows if r.status in ("fail", "error")]
    if failing:
        print()
        print_table([[r.host, r.check, r.status, r.observed[:60], r.expected[:60]] for r in failing],
                    ["host", "check", "status", "observed", "expected"])
