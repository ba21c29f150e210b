"""The monthly SOP cycle (`invoke maintain --month 2026-11`): every step the SOP expects each month.

Each step is a function of a `Cycle` (the month, the inventory, one fleet of connections shared by all
steps, the store, the output folder) returning a `StepResult`. A finished step is recorded in the store
as a complete run of kind `maintain-<step>` for the month, so re-running the month resumes: finished
steps are skipped unless forced. A host that is down is a result of the steps that needed it, never an
abort of the month. What each step evidences is listed in `STEPS` (the SOP items).
"""

from __future__ import annotations

import getpass
import hashlib
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from ..errors import UsageError
from ..store.models import STEP_KIND_PREFIX

KIND_PREFIX = STEP_KIND_PREFIX  # a finished step is a complete store run of kind maintain-<step>


@dataclass
class StepResult:
    """What a step did: a one-line summary, whether it found problems, and files it wrote."""

    summary: str
    problems: int = 0
    files: list[Path] = field(default_factory=list)
    skipped: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class Step:
    name: str
    sop: tuple[str, ...]
    title: str
    run: Callable[["Cycle"], StepResult]
    needs_hosts: bool = True


@dataclass
class Cycle:
    """Everything the month's steps share. `fleet` is opened once and reused by every step."""

    month: str
    today: date
    inventory: object
    inventory_path: Path
    hosts: list
    fleet: object
    store: object
    catalog: object
    checks: list
    project: Path
    out: Path
    lang: str = "id"
    apply_baseline: bool = False
    options: dict = field(default_factory=dict)

    def evidence_file(self, sop_id: str, path: Path, summary: str, data: dict | None = None) -> None:
        """Record a document this cycle generated (C.1, C.8, C.9, F.5) as the item's evidence."""
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self.store.add_evidence(sop_id, "generated", summary, data={"file": str(path), **(data or {})},
                                sha256=digest, path=str(path), month=self.month)


def done_steps(store, month: str) -> set[str]:
    """Steps of this month already finished (complete `maintain-<step>` runs)."""
    return {run.step for run in store.runs(month=month, status="complete") if run.step}


def choose(steps: list[Step], only: list[str], skip: list[str]) -> list[Step]:
    names = [s.name for s in steps]
    for name in [*only, *skip]:
        if name not in names:
            raise UsageError(f"unknown step {name!r}; steps are: {', '.join(names)}")
    return [s for s in steps if (not only or s.name in only) and s.name not in skip]


def run_step(cycle: Cycle, step: Step) -> StepResult:
    """Run one step inside a store run, so a crash leaves it unfinished (and re-run next time)."""
    started = time.perf_counter()
    with cycle.store.run(KIND_PREFIX + step.name, who=getpass.getuser(), what=f"maintain --month {cycle.month}",
                         inventory=str(cycle.inventory_path), month=cycle.month) as run:
        result = step.run(cycle)
        run.set_meta(summary=result.summary, problems=result.problems, files=[str(f) for f in result.files])
        if result.skipped and result.problems:  # could not run (e.g. no backup keys yet): try again next time
            run.fail(result.summary)
    result.seconds = time.perf_counter() - started
    return result
