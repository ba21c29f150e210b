"""The connection keeper: SSH connections and host agents kept between runs (`play --persist N`).

Ansible's OpenSSH connections stay open for 60 s after a run (ControlPersist); a run that follows reuses
them and pays no key exchange, no login and no interpreter start. The keeper gives sopctl the same: a
background process of the same user that owns each host's connection and agent, and hands a run an agent
over a Unix socket instead of the run opening SSH itself.

Protocol, one Unix stream connection per agent lease (JSON lines):
    run  → keeper  {"lease": {"spec": {...}, "accept_new": bool, "interpreter": str,
                              "become_user": str|null, "become_password": str|null, "persist": seconds}}
    keeper → run   {"ready": true, "reused": bool}  or  {"error": "...", "status": "unreachable|…"}
    then the connection relays the agent's own protocol: one request line in, one answer line out.
    {"status": true} → one line describing what is kept; {"stop": true} → the keeper closes all and exits.

Safety: the socket lives in a 0700 folder of its owner, and the keeper answers only a peer of its own
uid (SO_PEERCRED). A kept connection is re-checked before reuse: the host key it was opened with must
still be in known_hosts (a key removed from known_hosts stops reuse at once), and the agent must answer
a ping, else the connection is dropped and opened afresh with the usual checks. The keeper exits after
`persist` seconds without a run. Secrets (SSH and become passwords) are held in memory only, never logged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from ..transport.quoting import Secret
from ..transport.ssh import UNREACHABLE, ConnectionSpec, HostSession, HostUnavailable
from .client import Agent

log = logging.getLogger("sopctl.keeper")


def spec_from_json(data: dict) -> ConnectionSpec:
    fields = dict(data)
    if fields.get("password") is not None:
        fields["password"] = Secret(fields["password"])
    return ConnectionSpec(**fields)


def connection_key(spec: ConnectionSpec, accept_new: bool) -> str:
    """What makes two leases share a connection: where, as whom, with which key and trust settings."""
    parts = [spec.address, spec.port, spec.user, spec.key_file, spec.known_hosts, spec.shell, accept_new,
             hashlib.sha256(spec.password.reveal().encode()).hexdigest() if spec.password else None]
    return json.dumps(parts)


def host_key_still_known(session: HostSession) -> bool:
    """The key the kept connection was verified with must still be in known_hosts, unchanged."""
    spec = session.spec
    transport = session.connection.client.get_transport() if session.connection else None
    if transport is None or not transport.is_active():
        return False
    if not spec.known_hosts or not os.path.exists(spec.known_hosts):
        return False
    offered = transport.get_remote_server_key()
    known = paramiko.HostKeys(spec.known_hosts).lookup(spec.known_hosts_name) or {}
    recorded = known.get(offered.get_name())
    return recorded is not None and recorded.asbytes() == offered.asbytes()


@dataclass
class Kept:
    """One host connection and its idle agents, keyed by (interpreter, become user)."""

    session: HostSession
    idle: dict[tuple[str, str | None], list[Agent]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)
    leased: int = 0  # agents of this connection a run is using now: never expired under its feet

    def close(self) -> None:
        for agents in self.idle.values():
            for agent in agents:
                agent.close()
        self.idle.clear()
        self.session.close()


def _alive(agent: Agent) -> bool:
    """A ping through the agent with a short timeout: a host that rebooted or vanished fails it."""
    channel = agent.channel
    if channel.closed or channel.exit_status_ready():
        return False
    channel.settimeout(5.0)
    try:
        return bool(agent.call("ping"))
    except Exception:  # noqa: BLE001 - any failure means "do not reuse"
        return False
    finally:
        channel.settimeout(None)


class Keeper:
    """The background process: accepts leases, keeps connections, exits when idle."""

    def __init__(self, socket_path: Path, persist: float):
        self.socket_path, self.persist = socket_path, persist
        self.kept: dict[str, Kept] = {}
        self.lock = threading.Lock()
        self.active = 0
        self.last_activity = time.monotonic()
        self.stopping = threading.Event()
        self.server: socket.socket | None = None

    # --- serving -----------------------------------------------------------------------------------
    def serve(self) -> None:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        tmp = self.socket_path.with_name(self.socket_path.name + f".{os.getpid()}")
        tmp.unlink(missing_ok=True)
        server.bind(str(tmp))
        os.chmod(tmp, 0o600)
        server.listen(64)
        os.replace(tmp, self.socket_path)  # a client never sees a socket that does not accept yet
        server.settimeout(1.0)
        self.server = server
        log.info("keeper %d listening on %s, persist %gs", os.getpid(), self.socket_path, self.persist)
        while not self.stopping.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                self._expire()
                continue
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()
        self._shutdown()

    def _expire(self) -> None:
        """Close connections unused for `persist` seconds; stop when nothing is kept or running."""
        now = time.monotonic()
        with self.lock:
            for key, kept in list(self.kept.items()):
                if not kept.lock.locked() and not kept.leased and now - kept.last_used > self.persist:
                    del self.kept[key]
                    kept.close()
            if self.active == 0 and not self.kept and now - self.last_activity > self.persist:
                self.stopping.set()

    def _shutdown(self) -> None:
        if self.server is not None:
            self.server.close()
        try:
            if self.socket_path.exists() and self.socket_path.is_socket():
                self.socket_path.unlink()
        except OSError:
            pass
        with self.lock:
            for kept in self.kept.values():
                kept.close()
            self.kept.clear()
        log.info("keeper %d stopped", os.getpid())

    def _client(self, conn: socket.socket) -> None:
        with self.lock:
            self.active += 1
            self.last_activity = time.monotonic()
        try:
            if not _same_user(conn):
                return
            reader = conn.makefile("rb")
            first = reader.readline()
            if not first:
                return
            request = json.loads(first)
            if request.get("stop"):
                _send(conn, {"stopping": True})
                self.stopping.set()
            elif request.get("status"):
                _send(conn, self.describe())
            elif "lease" in request:
                self._lease(conn, reader, request["lease"])
        except Exception as exc:  # noqa: BLE001 - one bad client must not stop the keeper
            # the type only: a message could quote the request, which may hold a password
            log.warning("a run's request failed: %s", type(exc).__name__)
        finally:
            conn.close()
            with self.lock:
                self.active -= 1
                self.last_activity = time.monotonic()

    def describe(self) -> dict:
        with self.lock:
            hosts = sorted({k.session.spec.name for k in self.kept.values()})
            return {"pid": os.getpid(), "persist": self.persist, "hosts": hosts, "active": self.active - 1}

    # --- leases ------------------------------------------------------------------------------------
    def _lease(self, conn: socket.socket, reader, lease: dict) -> None:
        self.persist = float(lease.get("persist") or self.persist)
        spec = spec_from_json(lease["spec"])
        password = lease.get("become_password")
        slot = (lease.get("interpreter") or "python3", lease.get("become_user"))
        try:
            kept, agent, reused = self._agent(spec, bool(lease.get("accept_new")), slot,
                                              Secret(password) if password else None)
        except HostUnavailable as exc:
            _send(conn, {"error": str(exc), "status": exc.status})
            return
        try:
            _send(conn, {"ready": True, "reused": reused})
            usable = self._relay(conn, reader, agent)
        except OSError:
            usable = False
        with kept.lock:
            kept.leased -= 1
            kept.last_used = time.monotonic()
            if usable:
                kept.idle.setdefault(slot, []).append(agent)
            else:
                agent.close()

    def _agent(self, spec: ConnectionSpec, accept_new: bool, slot, become_password) -> tuple[Kept, Agent, bool]:
        """An idle live agent of the kept connection, else a new agent, else a new connection."""
        key = connection_key(spec, accept_new)
        with self.lock:
            kept = self.kept.get(key)
            if kept is None:
                kept = self.kept[key] = Kept(HostSession(spec, accept_new))
        with kept.lock:
            kept.last_used = time.monotonic()
            if kept.session.connection is not None and not host_key_still_known(kept.session):
                kept.close()  # reopened below with the usual checks
            while kept.idle.get(slot):
                agent = kept.idle[slot].pop()
                if _alive(agent):
                    kept.leased += 1
                    return kept, agent, True
                agent.close()
            try:
                reused = kept.session.connection is not None
                agent = Agent.start(kept.session, slot[0], slot[1], become_password)
                kept.leased += 1
                return kept, agent, reused
            except HostUnavailable:
                kept.close()
                raise
            except (paramiko.SSHException, OSError, EOFError) as exc:
                kept.close()
                raise HostUnavailable(UNREACHABLE, f"connection to {spec.name} lost: {exc}") from None

    @staticmethod
    def _relay(conn: socket.socket, reader, agent: Agent) -> bool:
        """Pass the run's requests to the agent, one line each way; True if the agent is still usable."""
        while True:
            line = reader.readline()
            if not line.endswith(b"\n"):
                return True  # the run is done with this agent (a cut-off line is never passed on)
            try:
                answer = agent.relay(line)
            except HostUnavailable:
                return False
            try:
                conn.sendall(answer)
            except OSError:
                return True  # the run went away; the agent answered in full, so it is still in step


def _same_user(conn: socket.socket) -> bool:
    """Only a process of the keeper's own uid may use it (the socket folder is 0700 as well)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def _send(conn: socket.socket, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sopctl.agent.keeper", description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, type=Path)
    parser.add_argument("--persist", type=float, default=60.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    pid_file = args.socket.with_name("keeper.pid")
    pid_file.write_text(f"{os.getpid()}\n")
    try:
        Keeper(args.socket, args.persist).serve()
    finally:
        try:
            if pid_file.read_text().strip() == str(os.getpid()):
                pid_file.unlink()
        except OSError:
            pass


if __name__ == "__main__":
    main()
