"""`uat`, `uat.review`, `uat.approve`, `uat.status`: user acceptance tests of new applications and their
review and approval (SOP/AS/32 D.2 "Hasil Test", D.3 "Catatan Pertimbangan", D.6 "Persetujuan Aplikasi").

    invoke uat --app sipp [--answers jawaban.yml] [--tester "Budi"] [--lang en]
    invoke uat.review --app sipp --by "Kasubag PTIP" --decision recommend --note "siap dipakai"
    invoke uat.approve --app sipp --by "Ketua" --decision approve
    invoke uat.status

Checklists are `checks/uat/<app>.yml` in the project (config `sopctl.uat_checklists` to move them); the
results store is the one of `invoke report` (`--store`, config `sopctl.store`, default var/sopctl.db);
"Hasil Test" documents go to `reports/uat/` in the project. See docs/uat.md.

`ns` is the collection to add to the program (`ns.add_collection(uat.ns)`); its default task is the run,
so `invoke uat --app NAME` works.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from invoke import Collection, Exit, task

from ..errors import SopctlError, UsageError
from ..lazy import lazy_module
from ..people import os_user, required_text
from .common import fail_if, print_json, print_table, reports_errors
from ..atomic import write_atomic
from .compliance import STORE_HELP, _root, load_project_catalog, open_existing, store_evidence_file, store_path

# The UAT machinery (checklists, the browser runner, documents, X.509), the vault and the store load when a
# uat task runs, not for every `sopctl` call.
_store = lazy_module("sopctl.store")
document = lazy_module("sopctl.uat.document")
records = lazy_module("sopctl.uat.records")
_checklist = lazy_module("sopctl.uat.checklist")
_runner = lazy_module("sopctl.uat.runner")
_vault = lazy_module("sopctl.vault")

if TYPE_CHECKING:
    from ..store import Store
    from ..vault import Vault

CHECKLISTS = "checks/uat"
REPORTS = "reports/uat"
EVIDENCE_FOLDER = "evidence"

APP_HELP = "the application: its checklist is checks/uat/APP.yml"
LANG_HELP = "language of the document and messages: id (default) or en"


# -------------------------------------------------------------------------------------------- helpers


def checklist_folder(c) -> Path:
    configured = c.config.get("sopctl", {}).get("uat_checklists")
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else _root(c) / path
    return _root(c) / CHECKLISTS


def _lang(lang: str) -> str:
    from ..uat.i18n import LANGS

    if lang not in LANGS:
        raise UsageError(f"--lang {lang!r}: use one of {', '.join(LANGS)}")
    return lang




def _shown(path: Path, root: Path) -> str:
    """A path as people see it: relative to the project when inside it."""
    resolved, base = path.resolve(), root.resolve()
    return str(resolved.relative_to(base)) if resolved.is_relative_to(base) else str(resolved)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()




def open_checklist(c, path: Path):
    """A checklist, named in messages and records relative to the project when inside it."""
    return _checklist.load_checklist(path, _shown(path, _root(c)))


def _version(c, app: str, version: str | None) -> str:
    """`--version`, else the version the application's checklist describes now."""
    if version:
        return version
    return open_checklist(c, _checklist.find_checklist(checklist_folder(c), app)).version


def _existing_store(c, store: str | None) -> Store:
    return open_existing(store_path(c, store), "run a UAT first (`invoke uat --app NAME`)")


class _Hosts:
    """The inventory and a fleet for the checklist's host steps, loaded only when a step needs them."""

    def __init__(self, c, checklist, inventory, forks, timeout, accept_new_host_keys):
        self.c, self.checklist = c, checklist
        self.args = (inventory, forks, timeout, accept_new_host_keys)
        self.inventory = None
        self.path: Path | None = None
        self.runner = None

    def load_inventory(self):
        if self.inventory is None:
            from ..inventory import load_inventory
            from .common import inventory_path

            self.path = inventory_path(self.c, self.args[0])
            self.inventory = load_inventory(self.path)
        return self.inventory

    def names(self, pattern: str) -> list[str]:
        return [host.name for host in self.load_inventory().select(pattern)]

    def host_runner(self):
        patterns = self.checklist.host_patterns
        if not patterns:
            return None
        from ..engine.targets import connection_spec
        from ..transport import Fleet
        from ..uat.hosts import HostRunner
        from .common import settings

        inv = self.load_inventory()
        wanted: dict[str, None] = {}
        for pattern in patterns:
            names = self.names(pattern)
            if not names:
                raise UsageError(f"{self.checklist.path}: hosts {pattern!r} match no host of {self.path}")
            wanted.update(dict.fromkeys(names))
        _, forks, timeout, accept = self.args
        run = settings(self.c, forks, timeout, accept)
        specs = [connection_spec(name, inv.host_vars(name), run) for name in wanted]
        fleet = Fleet(specs, forks=run.forks, accept_new_host_keys=run.accept_new_host_keys, progress=False)
        self.runner = HostRunner(fleet, self.names, inv.host_vars)
        return self.runner

    def lookup_var(self, name: str):
        """A variable of the application's first host (for login.password_var), or None."""
        if not self.checklist.hosts:
            return None
        try:
            names = self.names(self.checklist.hosts)
        except SopctlError:
            return None
        if not names:
            return None
        value = self.load_inventory().host_vars(names[0]).get(name)
        return None if value is None else (value, f"inventory {self.path}, host {names[0]}")

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()


def _lookup(vault: Vault, checklist, hosts: _Hosts):
    cache: dict[str, Any] = {}

    def lookup(name: str):
        if checklist.vault_file:
            if "data" not in cache:
                data = vault.load_yaml_file(checklist.vault_file)
                cache["data"] = data if isinstance(data, dict) else {}
            if name in cache["data"]:
                return cache["data"][name], checklist.vault_file
        return hosts.lookup_var(name)

    return lookup


# ------------------------------------------------------------------------------------------------ run


@task(default=True, help={
    "app": APP_HELP,
    "answers": "YAML file answering the manual steps (step id: {result: pass|fail|skip, comment, evidence}); "
               "without it they are asked on the terminal",
    "tester": "who runs the test (default: the OS user)",
    "lang": LANG_HELP,
    "store": STORE_HELP,
    "inventory": "inventory for steps on the application's hosts (default: sopctl.inventory from invoke.yaml)",
    "password-file": "file holding the vault password (default: $SOPCTL_VAULT_PASSWORD_FILE, "
                     "$SOPCTL_VAULT_PASSWORD, else a prompt)",
    "forks": "hosts worked on in parallel (default 20)",
    "timeout": "SSH connect timeout in seconds",
    "accept-new-host-keys": "record host keys seen for the first time (changed keys are still refused)",
})
@reports_errors
def run(c, app=None, answers=None, tester=None, lang="id", store=None, inventory=None, password_file=None,
        forks=None, timeout=None, accept_new_host_keys=False):
    """Run an application's UAT checklist, store every step, write the "Hasil Test" document (D.2)."""
    from ..uat.i18n import run_word, t

    lang = _lang(lang)
    app = required_text("--app", app)
    checklist = open_checklist(c, _checklist.find_checklist(checklist_folder(c), app))
    answered = _checklist.load_answers(answers, checklist) if answers else None
    prompter = None
    if checklist.manual_steps and answered is None:
        if not sys.stdin.isatty():
            manual = ", ".join(step.id for step in checklist.manual_steps)
            raise UsageError(f"{app} has manual steps ({manual}): answer them on a terminal, or give --answers FILE")
        prompter = _runner.TerminalPrompter(lang)
    tester = (tester or os_user() or "").strip()
    if not tester:
        raise UsageError("--tester is required (the OS user is unknown)")
    root = _root(c)
    vault = _vault.Vault(_vault.PasswordSource(password_file))
    hosts = _Hosts(c, checklist, inventory, forks, timeout, accept_new_host_keys)
    try:
        secrets = _runner.Secrets(vault, _lookup(vault, checklist, hosts))
        secrets.prepare(checklist)
        host_runner = hosts.host_runner()
        path = store_path(c, store)
        evidence_dir = path.parent / EVIDENCE_FOLDER

        def keep(source: Path) -> _runner.EvidenceFile:
            stored, digest, size = store_evidence_file(Path(source), evidence_dir)
            return _runner.EvidenceFile(Path(source).name, digest, size, _shown(stored, root))

        try:
            catalog = load_project_catalog(c)
            sop, item_title = catalog.header, catalog.item(records.SOP_RUN).title_id
        except (SopctlError, KeyError):
            sop, item_title = None, None
        templates = document.template_folder(root / "templates")
        what = f"uat --app {app}" + (f" --answers {answers}" if answers else "") + f" --tester {tester}"
        with _store.Store.open(path) as db:
            db.mark_abandoned()
            with db.run(records.RUN_KIND, who=tester, what=what,
                        inventory=str(hosts.path) if hosts.path else None,
                        meta={"app": checklist.name, "version": checklist.version}) as stored_run:
                runner = _runner.Runner(checklist, lang=lang, secrets=secrets, hosts=host_runner, answers=answered,
                                        prompter=prompter, keep_evidence=keep)
                outcome = runner.run(tester)
                html, md = document.render(outcome, lang, template_dir=templates, sop=sop, item_title=item_title,
                                           run_id=stored_run.id)
                stem = document.document_stem(outcome)
                folder = root / REPORTS
                html_path, md_path = folder / f"{stem}.html", folder / f"{stem}.md"
                write_atomic(html_path, html)
                write_atomic(md_path, md)
                documents = {"html": _shown(html_path, root), "html_sha256": _sha256(html),
                             "md": _shown(md_path, root), "md_sha256": _sha256(md)}
                records.save_run(db, stored_run, outcome, documents)
    except KeyboardInterrupt:
        raise Exit("sopctl: uat interrupted; the run was not stored", code=130) from None
    finally:
        hosts.close()
    counts = outcome.counts
    print()
    print(f"{t(lang, 'overall')}: {run_word(lang, outcome.result)} — {t(lang, 'counts', **counts)}")
    print(f"{t(lang, 'sop_output')}: {documents['html']}, {documents['md']}")
    print(f"D.2: {checklist.record} ({t(lang, 'run_id').lower()} #{stored_run.id})")
    failed = [s.step.id for s in outcome.steps if not s.ok]
    fail_if(outcome.result != "passed",
            f"sopctl: UAT of {checklist.name} {checklist.version} failed: {', '.join(failed)}")


# --------------------------------------------------------------------------------------------- review


@task(help={
    "app": APP_HELP,
    "by": "who gives the consideration (name)",
    "decision": "recommend or reject",
    "note": "the consideration (Catatan Pertimbangan): why",
    "version": "the version reviewed (default: the version in the checklist)",
    "lang": LANG_HELP,
    "store": STORE_HELP,
})
@reports_errors
def review(c, app=None, by=None, decision=None, note=None, version=None, lang="id", store=None):
    """D.3: recommend or reject an application version after its test run (Catatan Pertimbangan)."""
    from ..uat.i18n import decision_word, format_time, t

    lang = _lang(lang)
    app, by, decision = required_text("--app", app), required_text("--by", by), required_text("--decision", decision)
    note = required_text("--note", note)
    version = _version(c, app, version)
    with _existing_store(c, store) as db:
        row = records.record_review(db, app, version, by, decision, note, lang=lang)
        test = records.latest_run(db, app, version)
    print(f"D.3: {app} {version} {decision_word(lang, decision)} — {row.by_name}, {format_time(lang, row.time)} "
          f"({t(lang, 'run_id').lower()} #{test.run_id if test else '?'})")


# -------------------------------------------------------------------------------------------- approve


@task(help={
    "app": APP_HELP,
    "by": "who decides (name)",
    "decision": "approve or reject",
    "note": "a remark kept with the decision",
    "version": "the version decided on (default: the version in the checklist)",
    "lang": LANG_HELP,
    "store": STORE_HELP,
})
@reports_errors
def approve(c, app=None, by=None, decision=None, note=None, version=None, lang="id", store=None):
    """D.6: approve or reject an application version's implementation (needs a passing test and a
    recommending review of that test)."""
    from ..uat.i18n import decision_word, format_time

    lang = _lang(lang)
    app, by, decision = required_text("--app", app), required_text("--by", by), required_text("--decision", decision)
    version = _version(c, app, version)
    with _existing_store(c, store) as db:
        row = records.record_approval(db, app, version, by, decision, note, lang=lang)
    print(f"D.6: {app} {version} {decision_word(lang, decision)} — {row.by_name}, {format_time(lang, row.time)}")


# --------------------------------------------------------------------------------------------- status


@task(help={"app": "only this application", "lang": LANG_HELP, "store": STORE_HELP,
            "json": "print JSON instead of a table"})
@reports_errors
def status(c, app=None, lang="id", store=None, json_=False):
    """Every application and version: tested, reviewed, approved — by whom and when."""
    from ..uat.i18n import decision_word, format_time, run_word, stage_word, t

    lang = _lang(lang)
    current: dict[str, str] = {}
    problems = []
    for path in _checklist.checklist_files(checklist_folder(c)):
        try:
            checklist = open_checklist(c, path)
        except SopctlError as exc:
            problems.append(str(exc))
            continue
        current[checklist.name] = checklist.version
    path = store_path(c, store)
    if path.is_file():
        with _store.Store.open(path) as db:
            states = records.chain(db, current, app)
    else:
        states = [records.ChainState(name, version, "not-tested", None, None, None, True)
                  for name, version in sorted(current.items()) if app in (None, name)]
    for problem in problems:
        print(f"sopctl: warning: {problem}", file=sys.stderr)
    if json_:
        print_json([state.to_dict() for state in states])
        return

    def who(by: str, when: str) -> str:
        return f"{by}, {format_time(lang, when)}"

    rows = []
    for s in states:
        test = (f"{run_word(lang, s.test.result)} #{s.test.run_id} ({s.test.counts.get('passed', 0)}/"
                f"{s.test.counts.get('total', 0)}) — {who(s.test.tester, s.test.finished_at)}") if s.test else "-"
        review_ = f"{decision_word(lang, s.review.decision)} — {who(s.review.by_name, s.review.time)}" if s.review else "-"
        approval = (f"{decision_word(lang, s.approval.decision)} — {who(s.approval.by_name, s.approval.time)}"
                    if s.approval else "-")
        rows.append([s.app, s.version + (" *" if s.current else ""), stage_word(lang, s.stage), test, review_,
                     approval])
    print_table(rows, [t(lang, "application"), t(lang, "version"), t(lang, "stage"), f"D.2 {t(lang, 'test')}",
                       f"D.3 {t(lang, 'review')}", f"D.6 {t(lang, 'approval')}"])
    if any(s.current for s in states):
        print("* " + ("versi pada daftar uji saat ini" if lang == "id" else "the version in the current checklist"))


ns = Collection("uat", run, review, approve, status)

__all__ = ["ns"]
