"""Task results and the play recap, counted exactly as Ansible's PLAY RECAP counts them.

Ansible's rules (lib/ansible/plugins/strategy/__init__.py): a failed task counts `failures`, unless
`ignore_errors`, when it counts `ok` and `ignored` (and `changed` if it changed); unreachable counts
`unreachable`; skipped counts `skipped`; anything else counts `ok`, and also `changed` when it changed.
A looped task is one result (failed if any item failed, skipped if all were skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

OK, CHANGED, FAILED, SKIPPED, UNREACHABLE = "ok", "changed", "failed", "skipped", "unreachable"
RECAP_KEYS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")


@dataclass
class TaskResult:
    """One task on one host. `status` is ok, changed, failed, skipped or unreachable."""

    task: str
    host: str
    status: str
    changed: bool = False
    msg: str | None = None
    diff: list[str] = field(default_factory=list)
    items: list[dict] | None = None
    ignored: bool = False
    result: dict = field(default_factory=dict)
    sop: list[str] = field(default_factory=list)
    where: str = ""
    handler: bool = False
    index: int = -1  # position in the play (facts -1, handlers after tasks), for printing by task
    show: dict | None = None  # what `debug` displays

    def as_json(self) -> dict:
        return {"task": self.task, "host": self.host, "status": self.status, "changed": self.changed,
                "msg": self.msg, "diff": self.diff, "items": self.items, "ignored": self.ignored,
                "sop": self.sop, "handler": self.handler, **({"show": self.show} if self.show is not None else {})}


@dataclass
class PlayResult:
    name: str
    results: list[TaskResult] = field(default_factory=list)


class Recap:
    """Per-host counters, in Ansible's PLAY RECAP sense."""

    def __init__(self) -> None:
        self.hosts: dict[str, dict[str, int]] = {}

    def host(self, name: str) -> dict[str, int]:
        return self.hosts.setdefault(name, dict.fromkeys(RECAP_KEYS, 0))

    def count(self, result: TaskResult) -> None:
        counters = self.host(result.host)
        if result.status == UNREACHABLE:
            counters["unreachable"] += 1
        elif result.status == FAILED and not result.ignored:
            counters["failed"] += 1
        elif result.status == SKIPPED:
            counters["skipped"] += 1
        else:
            counters["ok"] += 1
            counters["ignored"] += 1 if result.ignored else 0
            counters["changed"] += 1 if result.changed else 0

    @property
    def failed(self) -> bool:
        return any(c["failed"] or c["unreachable"] for c in self.hosts.values())

    def as_json(self) -> dict:
        return {host: dict(c) for host, c in self.hosts.items()}
