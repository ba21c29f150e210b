"""Fan-out failure handling with real sockets: a closed port is unreachable, the rest still run."""

import socket

from sopctl.transport import Fleet, HostUnavailable
from sopctl.transport.ssh import ConnectionSpec


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_host_is_an_outcome_and_is_not_retried():
    specs = [ConnectionSpec(f"h{i}", "127.0.0.1", port=_closed_port(), connect_timeout=2) for i in range(3)]
    with Fleet(specs, forks=2, progress=False) as fleet:
        calls = []
        first = fleet.map(lambda s: calls.append(s.spec.name))
        second = fleet.map(lambda s: calls.append(s.spec.name))
    assert [o.status for o in first] == ["unreachable"] * 3
    assert all("connection refused" in o.error for o in first)
    assert [o.host for o in second] == ["h0", "h1", "h2"] and calls == []
    assert all(isinstance(e, HostUnavailable) for e in fleet.down.values())


def test_silent_server_is_a_timeout():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts, never speaks SSH
    try:
        spec = ConnectionSpec("mute", "127.0.0.1", port=server.getsockname()[1], connect_timeout=1)
        with Fleet([spec], progress=False) as fleet:
            (outcome,) = fleet.map(lambda s: None)
    finally:
        server.close()
    assert outcome.status == "timeout" and "banner" in outcome.error
