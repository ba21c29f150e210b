"""Observations fetched ahead: one agent round trip for what many tasks will look at.

A module plans against a read-only view of the host: it stats and reads files, then decides. Planning
is pure, so before running a play the executor can plan its tasks speculatively: every stat or read a
plan asks for that is not known yet is collected, all of them go to the agent in one batch, and planning
is repeated (a plan that has read a file may then stat another) for at most `ROUNDS` rounds. When the
play then runs for real, those answers come from this cache instead of a round trip each.

The cache holds only while the run has changed nothing on the host: the executor empties it whenever a
task applies actions (a write, a command), so no task ever plans against a state an earlier task changed.
In check mode nothing is applied, and the cache serves the whole play. Commands a plan runs to observe
(`dpkg-query`, `systemctl`) are never run ahead: they may be slow, and a skipped task must not pay them.
"""

from __future__ import annotations

import json
from typing import Callable, Iterable

ROUNDS = 3
PREFETCHED_OPS = ("stat", "read")


class Miss(Exception):
    """A speculative plan needs an observation the cache does not have yet."""

    def __init__(self, request: dict):
        super().__init__(request["op"])
        self.request = request


class NotAhead(Exception):
    """A speculative plan asked for something that is never fetched ahead (a command)."""


class Observations:
    """Agent answers to stat/read requests, per become user, valid until the host is changed."""

    def __init__(self):
        self._answers: dict[tuple, dict] = {}

    @staticmethod
    def key(become_user: str | None, request: dict) -> tuple:
        return become_user, json.dumps(request, sort_keys=True)

    def get(self, become_user: str | None, request: dict) -> dict | None:
        return self._answers.get(self.key(become_user, request))

    def put(self, become_user: str | None, request: dict, answer: dict) -> None:
        self._answers[self.key(become_user, request)] = answer

    def clear(self) -> None:
        self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)


def fetch_ahead(tasks: Iterable, speculate: Callable[[object], tuple[str | None, Callable]],
                batch: Callable[[str | None, list[dict]], list[dict]], cache: Observations) -> int:
    """Fill `cache` with what the tasks' plans will look at; returns the number of round trips made.

    `speculate(task)` gives the task's become user and a function that plans it (raising `Miss` for a
    missing observation), or raises to say the task cannot be planned ahead (an undefined variable that
    a registered result will define, a bad option: the real run reports those).
    `batch(become_user, requests)` sends requests in one round trip and returns the agent's answers.
    """
    pending = []
    for task in tasks:
        try:
            pending.append(speculate(task))
        except Exception:  # noqa: BLE001 - not predictable now; the real run will plan it
            continue
    trips = 0
    for _ in range(ROUNDS):
        wanted: dict[str | None, dict[str, dict]] = {}
        still = []
        for become_user, plan in pending:
            try:
                plan()
            except Miss as miss:
                wanted.setdefault(become_user, {})[json.dumps(miss.request, sort_keys=True)] = miss.request
                still.append((become_user, plan))
            except Exception:  # noqa: BLE001 - NotAhead, or a plan that fails: the real run decides
                continue
        if not wanted:
            break
        for become_user, requests in wanted.items():
            ordered = list(requests.values())
            for request, answer in zip(ordered, batch(become_user, ordered)):
                cache.put(become_user, request, answer)
            trips += 1
        pending = still
    return trips
