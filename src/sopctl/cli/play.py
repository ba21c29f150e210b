"""`play`: run an Ansible-style playbook against the inventory."""

from __future__ import annotations

import json
import sys

import yaml
from invoke import task

from ..engine.results import CHANGED, FAILED, OK, SKIPPED, UNREACHABLE
from ..errors import UsageError
from .common import HELP, fail_if, open_fleet, print_json, reports_errors

PLAY_HELP = {
    **HELP,
    "check": "change nothing; report what would change",
    "diff": "show unified diffs of file content and of mode/owner changes",
    "tags": "only tasks with these tags (comma separated)",
    "skip-tags": "skip tasks with these tags (comma separated)",
    "extra-vars": "variables that win over all others: k=v (repeatable), or @file.yml",
    "vault-password-file": "file holding the vault password (else SOPCTL_VAULT_PASSWORD_FILE, "
                           "SOPCTL_VAULT_PASSWORD or a prompt, asked only when a !vault value is used)",
    "persist": "keep each host's connection and agent this many seconds after the run, for the next run "
               "to reuse, like Ansible's ControlPersist (default: sopctl.persist in invoke.yaml, 0 = off)",
}

_LABELS = {OK: "ok", CHANGED: "changed", FAILED: "failed", SKIPPED: "skipping", UNREACHABLE: "unreachable"}


def parse_extra_vars(values: list[str]) -> dict:
    """`k=v` pairs (values parsed as YAML scalars, like Ansible's) or `@file.yml`."""
    merged: dict = {}
    for value in values or []:
        if value.startswith("@"):
            with open(value[1:], encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
            if not isinstance(data, dict):
                raise UsageError(f"--extra-vars {value}: the file must hold a mapping")
            merged.update(data)
            continue
        if value.lstrip().startswith("{"):
            merged.update(yaml.safe_load(value))
            continue
        for pair in value.split():
            key, sep, raw = pair.partition("=")
            if not sep or not key:
                raise UsageError(f"--extra-vars: expected key=value, got {pair!r}")
            merged[key] = yaml.safe_load(raw) if raw else ""
    return merged


def print_report(report, out=sys.stdout) -> None:
    """Ansible-like text: each task with a line per host, diffs under it, then the recap table."""
    for play in report.plays:
        out.write(f"\nPLAY [{play.name}] {'*' * max(3, 60 - len(play.name))}\n")
        current = None
        hosts = list(dict.fromkeys(r.host for r in play.results))
        for result in sorted(play.results, key=lambda r: (r.index, hosts.index(r.host))):
            heading = ("RUNNING HANDLER" if result.handler else "TASK") + f" [{result.task}]"
            if result.index != current:
                out.write(f"\n{heading} {'*' * max(3, 60 - len(heading))}\n")
                current = result.index
            label = "...ignoring" if result.ignored else ""
            msg = f" => {result.msg}" if result.msg and result.status in (FAILED, UNREACHABLE) else ""
            if result.show is not None and not msg:
                msg = " => " + json.dumps(result.show, default=str, ensure_ascii=False)
            out.write(f"{_LABELS[result.status]}: [{result.host}]{msg} {label}".rstrip() + "\n")
            for diff in result.diff:
                out.write(diff)
    from tabulate import tabulate

    rows = [[host, c["ok"], c["changed"], c["unreachable"], c["failed"], c["skipped"], c["ignored"]]
            for host, c in report.recap.hosts.items()]
    out.write("\nPLAY RECAP\n")
    out.write(tabulate(rows, headers=["host", "ok", "changed", "unreachable", "failed", "skipped", "ignored"],
                       tablefmt="simple") + "\n")


@task(help=PLAY_HELP, iterable=["extra_vars"], positional=["playbook"])
@reports_errors
def play(c, playbook, inventory=None, limit=None, check=False, diff=False, tags="", skip_tags="",
         extra_vars=None, forks=None, json_=False, accept_new_host_keys=False, timeout=None,
         vault_password_file=None, persist=None):
    """Run a playbook: Ansible's format and meaning, one agent channel per host."""
    # The engine (Jinja2, modules) is imported here so `ping`/`facts` start fast.
    from ..engine.executor import PlaybookRunner, RunOptions
    from ..engine.playbook import load_playbook
    from ..vault import PasswordSource, Vault

    book = load_playbook(playbook)
    inv, _, fleet = open_fleet(c, inventory, limit, forks, timeout, accept_new_host_keys)
    options = RunOptions(check=check, diff=diff, tags=_split(tags), skip_tags=_split(skip_tags),
                         extra_vars=parse_extra_vars(extra_vars))
    keeper = keeper_link(c, persist)
    fleet.lazy = keeper is not None
    with fleet:
        vault = Vault(PasswordSource(vault_password_file))
        runner = PlaybookRunner(book, inv, fleet, options, vault=vault, keeper=keeper)
        try:
            report = runner.run()
        finally:
            runner.close()
    for warning in runner.warnings:
        print(f"sopctl: warning: {warning}", file=sys.stderr)
    if json_:
        print_json(report.as_json())
    else:
        print_report(report)
    bad = [h for h, c in report.recap.hosts.items() if c["failed"] or c["unreachable"]]
    fail_if(bool(bad), f"sopctl: {len(bad)} host(s) failed: {', '.join(bad)}")


def keeper_link(c, persist):
    """The connection keeper for this run, or None when persistence is off (the default)."""
    seconds = float(persist if persist is not None else c.config.get("sopctl", {}).get("persist", 0) or 0)
    if seconds < 0:
        raise UsageError(f"--persist must be 0 or more seconds, got {persist}")
    if not seconds:
        return None
    from ..agent.kept import KeeperError, KeeperLink

    try:
        return KeeperLink(seconds)
    except KeeperError as exc:
        print(f"sopctl: warning: connection keeper not used: {exc}", file=sys.stderr)
        return None


def _split(text: str) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]
