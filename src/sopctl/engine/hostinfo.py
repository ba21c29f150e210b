"""The first two things a run asks of its hosts: are they there (ping), and what are they (facts)."""

from __future__ import annotations

from dataclasses import dataclass

from ..facts import system
from ..transport import OK, Fleet, HostOutcome, HostSession
from .targets import ConnectionSpec


@dataclass(frozen=True)
class PingResult:
    """One row of `invoke ping`; `status` is ok, unreachable, hostkey_refused, timeout or failed."""

    host: str
    address: str
    status: str
    os: str | None
    rtt_ms: float | None
    error: str | None


def _os_name(session: HostSession) -> tuple[str | None, float]:
    result = session.run(system.os_name_command(session.spec.shell))
    if not result.ok:
        raise RuntimeError(f"`{result.command}` exited {result.rc}: {result.stderr.strip()[:200]}")
    return result.stdout.strip() or None, result.duration * 1000


def ping(fleet: Fleet) -> list[PingResult]:
    """Connect to every host and run one trivial command; the round trip is that command's time."""
    specs = {name: s.spec for name, s in fleet.sessions.items()}
    rows = []
    for outcome in fleet.map(_os_name, label="ping"):
        spec = specs[outcome.host]
        os_name, rtt = outcome.value if outcome.ok else (None, None)
        rows.append(PingResult(outcome.host, spec.address, outcome.status, os_name,
                               round(rtt, 1) if rtt is not None else None, outcome.error))
    return rows


def _facts(session: HostSession) -> dict:
    result = session.run(system.command(session.spec.shell))
    if not result.ok and not result.stdout.strip():
        raise RuntimeError(f"fact gathering exited {result.rc}: {result.stderr.strip()[:200]}")
    return system.parse(session.spec.shell, result.stdout).as_dict()


def facts(fleet: Fleet) -> list[HostOutcome[dict]]:
    """System facts of every host, one round trip each."""
    return fleet.map(_facts, label="facts")


def all_ok(outcomes) -> bool:
    return all(o.status == OK for o in outcomes)


__all__ = ["ConnectionSpec", "PingResult", "all_ok", "facts", "ping"]
