"""The backup tasks parse (help for every option, names as documented) and fit beside the main collection."""

from __future__ import annotations

from invoke import Collection

from sopctl.cli import backup


def test_tasks_build_a_parser_and_have_the_documented_names():
    ns = Collection()
    for task in backup.ns_tasks:
        ns.add_task(task)
    ns.add_collection(backup.ns)
    contexts = {ctx.name: ctx for ctx in ns.to_contexts()}
    assert {"restore-test", "restore", "backup.run", "backup.keygen", "backup.list", "backup.prune"} <= set(contexts)
    assert ns.collections["backup"].default == "run"          # `invoke backup` runs the backup
    flags = set(contexts["restore-test"].flags)
    assert {"--latest", "--all", "--junit", "--against-source", "--limit"} <= flags
    assert {"--keep-daily", "--keep-weekly", "--keep-monthly", "--dry-run"} <= set(contexts["backup.prune"].flags)
    assert {"--host", "--archive", "--to", "--to-host"} <= set(contexts["restore"].flags)
