"""Parallel work over many hosts, one connection each, failures kept per host.

`Fleet` owns one `HostSession` per host for the whole run. `Fleet.map(fn)` calls `fn(session)` for every
host on a pool of `forks` threads and returns a `HostOutcome` per host, in the order the hosts were given.
A host that cannot be reached, refuses its key or times out becomes an outcome with that status; the
other hosts carry on, and later `map` calls skip it instead of paying the timeout again. Output is
never interleaved: workers return values, the caller prints them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, TypeVar

from .ssh import ConnectionSpec, HostSession, HostUnavailable

T = TypeVar("T")
OK = "ok"
FAILED = "failed"


@dataclass(frozen=True)
class HostOutcome(Generic[T]):
    """The result of one host's share of the work: a value, or a status and the reason."""

    host: str
    status: str
    value: T | None = None
    error: str | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == OK


class Progress:
    """A live `label: done/total` line on a terminal; silent when not a TTY or under CI."""

    def __init__(self, label: str, total: int, stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = self.stream.isatty() and not os.environ.get("CI")
        self.enabled, self.label, self.total = enabled, label, total
        self.done = self.failed = 0
        self._lock = threading.Lock()

    def tick(self, ok: bool) -> None:
        with self._lock:
            self.done += 1
            self.failed += 0 if ok else 1
            if self.enabled:
                failed = f", {self.failed} failed" if self.failed else ""
                self.stream.write(f"\r{self.label}: {self.done}/{self.total}{failed}\033[K")
                self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


class Fleet:
    """The hosts of one run, each with its single reusable connection."""

    def __init__(self, specs: Iterable[ConnectionSpec], forks: int = 20,
                 accept_new_host_keys: bool = False, progress: bool | None = None, lazy: bool = False):
        self.sessions = {s.name: HostSession(s, accept_new_host_keys) for s in specs}
        self.forks = max(1, int(forks))
        self.progress = progress
        # lazy: connect only when the work uses the connection (a run whose agents come from the
        # connection keeper never opens one of its own).
        self.lazy = lazy
        self.down: dict[str, HostUnavailable] = {}

    def __enter__(self) -> "Fleet":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def map(self, fn: Callable[[HostSession], T], label: str = "working") -> list[HostOutcome[T]]:
        """Run `fn` on every host in parallel; exceptions become that host's outcome."""
        return self.map_some(list(self.sessions), fn, label)

    def map_some(self, names: list[str], fn: Callable[[HostSession], T],
                 label: str = "working") -> list[HostOutcome[T]]:
        """Like `map`, for some of the fleet's hosts (a play's pattern), in the order given."""
        if not names:
            return []
        progress = Progress(label, len(names), enabled=self.progress)
        workers = min(self.forks, len(names))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sopctl-host") as pool:
            outcomes = list(pool.map(lambda n: self._one(n, fn, progress), names))
        progress.finish()
        return outcomes

    def _one(self, name: str, fn: Callable[[HostSession], T], progress: Progress) -> HostOutcome[T]:
        started = time.perf_counter()
        outcome = self._attempt(name, fn)
        outcome = HostOutcome(outcome.host, outcome.status, outcome.value, outcome.error,
                              (time.perf_counter() - started) * 1000)
        progress.tick(outcome.ok)
        return outcome

    def _attempt(self, name: str, fn: Callable[[HostSession], T]) -> HostOutcome[T]:
        if name in self.down:
            gone = self.down[name]
            return HostOutcome(name, gone.status, error=str(gone))
        session = self.sessions[name]
        try:
            if not self.lazy:
                session.open()
            return HostOutcome(name, OK, fn(session))
        except HostUnavailable as exc:
            self.down[name] = exc
            session.close()
            return HostOutcome(name, exc.status, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - one host's bug must not stop the others
            return HostOutcome(name, FAILED, error=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()
