"""What the store's queries return: frozen dataclasses, one per table row.

Times are ISO 8601 UTC strings with a 'Z' and milliseconds (`2025-03-01T02:00:00.000Z`), the form they
are stored in, so they sort as text; dates are `YYYY-MM-DD`; months `YYYY-MM`. JSON columns come back
decoded (`sop_ids` as a tuple, `meta`/`data`/`recipients`/`detail` as Python values).
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
from dataclasses import dataclass, field
from typing import Any

from sopctl.store.values import date_value, local_date

RUN_STATUSES = ("running", "complete", "incomplete", "failed")
RESULT_STATUSES = ("pass", "fail", "error", "na")
COUNTED = "complete"
# `maintain` records each finished step as a run of kind maintain-<step>, so an interrupted month resumes
# where it stopped. Those runs hold no results of their own (the audit, backup and website runs inside a
# step do), so reports do not count them as runs.
STEP_KIND_PREFIX = "maintain-"


@dataclass(frozen=True)
class RunRow:
    id: int
    kind: str
    started_at: str
    finished_at: str | None
    status: str
    who: str | None
    what: str | None
    inventory: str | None
    month: str
    meta: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def counted(self) -> bool:
        """Only a complete run's results and evidence count in reports."""
        return self.status == COUNTED

    @property
    def step(self) -> str | None:
        """The maintain step this run records (`audit`, `backup`…), or None for a run that did work."""
        return self.kind[len(STEP_KIND_PREFIX):] if self.kind.startswith(STEP_KIND_PREFIX) else None


@dataclass(frozen=True)
class ResultRow:
    id: int
    run_id: int
    check_id: str
    host: str
    sop_ids: tuple[str, ...]
    status: str
    observed: str | None
    expected: str | None
    command: str | None
    output: str | None
    output_size: int | None
    output_trimmed: bool
    severity: str | None
    time: str


@dataclass(frozen=True)
class EvidenceRow:
    id: int
    run_id: int | None
    sop_id: str
    host: str | None
    kind: str
    summary: str
    data: Any = field(hash=False)
    sha256: str | None
    path: str | None
    time: str
    month: str


@dataclass(frozen=True)
class Waiver:
    id: int
    check_id: str
    hosts: str
    reason: str
    approved_by: str
    expires: str
    created_at: str
    created_by: str | None
    revoked_at: str | None
    revoked_by: str | None

    def covers(self, host: str) -> bool:
        """Whether `host` matches this waiver's hosts pattern (see `host_matches`)."""
        return host_matches(self.hosts, host)

    def active_on(self, on_date: _dt.date | str) -> bool:
        """In force on that (local) day: created on or before it, `expires` on or after it (the expiry
        day is the last valid day), and not revoked on or before it."""
        day = date_value("on_date", on_date)
        if local_date(self.created_at) > day or self.expires < day:
            return False
        return self.revoked_at is None or local_date(self.revoked_at) > day


@dataclass(frozen=True)
class Attestation:
    id: int
    sop_id: str
    by_role: str
    by_name: str
    note: str | None
    file_name: str | None
    file_sha256: str | None
    file_size: int | None
    stored_path: str | None
    attested_at: str


def split_hosts(pattern: str) -> list[str]:
    """Terms of a waiver's hosts pattern: split on ',' when there is one, else on ':'."""
    separator = "," if "," in pattern else ":"
    return [term.strip() for term in pattern.split(separator) if term.strip()]


def host_matches(pattern: str, host: str) -> bool:
    """The store's simple host matching for waivers.

    The pattern is a list of terms separated by ',' (or ':' when there is no comma). A term is a host
    name or an fnmatch wildcard (`pc-*`, `srv-0?`, `db[12]`), matched case-sensitively against the host
    name; `all` matches every host. Terms using the inventory's richer syntax (`!x`, `&x`, `~regex`,
    group names) never match here: a waiver never covers more than it plainly says. A caller with the
    inventory can instead resolve `waiver.hosts` with `sopctl.inventory.patterns.select_hosts`.
    """
    for term in split_hosts(pattern):
        if term[0] in "!&~":
            continue
        if term == "all" or fnmatch.fnmatchcase(host, term):
            return True
    return False
