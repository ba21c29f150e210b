"""`import sopctl.cli` (so every `sopctl` call, `--help`, `ping`, `play`) stays light: the task modules load
their subsystems when a task runs. The task list is the public command line and must not shrink."""

from __future__ import annotations

import json
import subprocess
import sys

# Modules no task module may import at module level: each costs start-up time on every `sopctl` call.
HEAVY = [
    "sopctl.uat",
    "sopctl.website",
    "sopctl.backup.archive",
    "sopctl.backup.keys",
    "sopctl.backup.jobs",
    "sopctl.store",
    "sopctl.compliance",
    "sopctl.compliance.report",
    "sopctl.compliance.status",
    "sopctl.requests_register",
    "sopctl.vault",
    "sopctl.engine.hostinfo",
    "sopctl.lab.inventory",
    "cryptography.x509",
    "sqlite3",
]

# `sopctl --list` before the task modules went lazy: the public command line.
TASKS = [
    "attest", "audit", "backup.keygen", "backup.list", "backup.prune", "backup.run", "facts", "incident.close",
    "incident.list", "incident.open", "incident.sweep", "incident.update", "lab.down", "lab.start", "lab.status",
    "lab.stop", "lab.up", "maintain", "ping", "play", "report", "request.approve", "request.consider",
    "request.done", "request.list", "request.new", "request.reject", "request.route", "request.show",
    "request.sweep", "request.verify", "restore", "restore-test", "uat.approve", "uat.review", "uat.run",
    "uat.status", "vault.decrypt", "vault.edit", "vault.encrypt", "vault.encrypt-string", "vault.view", "waive",
    "waivers", "website.access-summary", "website.check", "website.list", "website.renewals", "website.report",
]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_importing_the_cli_loads_no_subsystem():
    loaded = _loaded_after("import sopctl.cli")
    assert "sopctl.cli" in loaded
    assert sorted(m for m in HEAVY if m in loaded) == []


def test_building_the_program_and_its_parser_loads_no_subsystem():
    code = "from sopctl.cli.program import program\nprogram.namespace.to_contexts()"
    loaded = _loaded_after(code)
    assert sorted(m for m in HEAVY if m in loaded) == []


def test_every_task_is_still_there():
    from sopctl.cli import ns

    missing = sorted(set(TASKS) - set(ns.task_names))
    assert missing == []                                  # new tasks may come; none may go
    assert ns.task_names["backup.run"] == ["backup"]       # `sopctl backup`
    assert ns.task_names["uat.run"] == ["uat"]             # `sopctl uat`


def test_every_task_builds_its_parser_with_its_help():
    # In a fresh process: Invoke moves each task's help into the parser it builds, once.
    code = """
import json
from sopctl.cli import ns
contexts = {ctx.name: ctx for ctx in ns.to_contexts()}
print(json.dumps({"names": sorted(contexts), "format": contexts["report"].flags["--format"].help}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert set(TASKS) <= set(data["names"])
    from sopctl.compliance.report import FORMATS

    assert data["format"] == f"output format: {', '.join(FORMATS)} (default table)"
