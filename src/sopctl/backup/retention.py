"""Which archives `backup.prune` keeps: restic's keep-daily/weekly/monthly rules, plus two that never yield.

For each rule, walk a host's archives newest first and keep the newest archive of each day (ISO week,
month) until that many days (weeks, months) have one; days are local days. Whatever no rule keeps is
removed, except:
* the newest archive of the host (a prune never leaves a host without its latest backup);
* the newest archive that passed a restore test (the last one known to restore).
A pure function of its inputs, so the policy is tested without files or a database.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    daily: int = 0
    weekly: int = 0
    monthly: int = 0

    def __post_init__(self) -> None:
        if min(self.daily, self.weekly, self.monthly) < 0:
            raise ValueError("keep counts cannot be negative")


@dataclass(frozen=True)
class Candidate:
    id: int
    created: _dt.datetime        # aware
    tested_ok: bool = False


def _buckets(when: _dt.datetime) -> dict[str, tuple]:
    local = when.astimezone()
    iso = local.isocalendar()
    return {"daily": (local.year, local.month, local.day), "weekly": (iso[0], iso[1]),
            "monthly": (local.year, local.month)}


def decide(archives: list[Candidate], policy: Policy) -> dict[int, list[str]]:
    """{archive id: reasons to keep it} for every archive kept; absent ids are to be removed."""
    ordered = sorted(archives, key=lambda a: (a.created, a.id), reverse=True)
    keep: dict[int, list[str]] = {}
    for rule in ("daily", "weekly", "monthly"):
        wanted = getattr(policy, rule)
        seen: set[tuple] = set()
        for archive in ordered:
            if len(seen) >= wanted:
                break
            bucket = _buckets(archive.created)[rule]
            if bucket not in seen:
                seen.add(bucket)
                keep.setdefault(archive.id, []).append(rule)
    if ordered:
        keep.setdefault(ordered[0].id, []).append("newest")
    tested = next((a for a in ordered if a.tested_ok), None)
    if tested is not None:
        keep.setdefault(tested.id, []).append("newest restore-tested")
    return keep
