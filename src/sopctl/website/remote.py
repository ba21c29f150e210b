"""The website feature's SSH side: one session per inventory host, and reading a remote file as a stream.

`Hosts` opens a host's connection on first use (the inventory's Ansible variables decide how, see
engine/targets.py) and serialises commands per host, so website checks running on several threads can
share it. `stream(host, command)` runs a command on its own paramiko channel and yields its standard
output in blocks as they arrive: a 1 GB access log is read without ever being held in memory.
"""

from __future__ import annotations

import threading

import paramiko
from dataclasses import dataclass
from typing import Iterator

from ..engine.targets import RunSettings, connection_spec
from ..transport.quoting import Command
from ..transport.ssh import TIMEOUT, UNREACHABLE, CommandResult, HostSession, HostUnavailable

BLOCK = 1 << 16                  # bytes asked of the channel per read
WINDOW = 8 << 20                 # channel window: keeps a fast link busy while we parse
STDERR_CAP = 64 << 10


@dataclass
class StreamResult:
    """What a streamed command ended with (known once its output has been read to the end)."""

    command: str
    rc: int | None = None
    stderr: str = ""
    bytes: int = 0


class Hosts:
    """Sessions to the inventory hosts that websites name, opened lazily, closed together."""

    def __init__(self, inventory, settings: RunSettings | None = None, accept_new_host_keys: bool = False):
        self.inventory = inventory
        self.settings = settings or RunSettings()
        self.accept_new_host_keys = accept_new_host_keys
        self._sessions: dict[str, HostSession] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._down: dict[str, HostUnavailable] = {}
        self._guard = threading.Lock()

    def __enter__(self) -> "Hosts":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _session(self, host: str) -> tuple[HostSession, threading.Lock]:
        with self._guard:
            if host not in self._sessions:
                spec = connection_spec(host, self.inventory.host_vars(host), self.settings)
                self._sessions[host] = HostSession(spec, self.accept_new_host_keys)
                self._locks[host] = threading.Lock()
            return self._sessions[host], self._locks[host]

    def _open(self, host: str) -> tuple[HostSession, threading.Lock]:
        if host in self._down:
            raise self._down[host]
        session, lock = self._session(host)
        try:
            with lock:
                session.open()
        except HostUnavailable as exc:
            self._down[host] = exc
            raise
        return session, lock

    def run(self, host: str, command: Command, timeout: float | None = None) -> CommandResult:
        """Run a command on the host (HostUnavailable when it cannot be reached)."""
        session, lock = self._open(host)
        with lock:
            return session.run(command, timeout=timeout)

    def stream(self, host: str, command: Command, result: StreamResult,
               timeout: float | None = None) -> Iterator[bytes]:
        """Yield the command's stdout in blocks; `result` gets rc, stderr and size at the end.

        `timeout` bounds each wait for data (a stalled host), not the whole transfer.
        """
        session, _lock = self._open(host)
        wait = timeout if timeout is not None else session.spec.command_timeout
        try:
            transport = session.connection.client.get_transport()
            channel = transport.open_session(window_size=WINDOW, max_packet_size=32768)
        except Exception as exc:  # noqa: BLE001
            raise HostUnavailable(UNREACHABLE, f"connection to {host} lost: {exc}") from None
        stderr = bytearray()
        try:
            channel.settimeout(wait)
            try:
                channel.exec_command(command.text)
            except (paramiko.SSHException, OSError, EOFError) as exc:
                raise HostUnavailable(UNREACHABLE, f"{host}: cannot run {command.display}: {exc}") from None
            while True:
                while channel.recv_stderr_ready():       # always read it (unread data would hold the window)
                    more = channel.recv_stderr(STDERR_CAP)
                    if len(stderr) < STDERR_CAP:
                        stderr += more
                try:
                    block = channel.recv(BLOCK)
                except TimeoutError:
                    raise HostUnavailable(TIMEOUT, f"{host}: no data for {wait:g}s from {command.display}") \
                        from None
                except (paramiko.SSHException, OSError, EOFError) as exc:
                    raise HostUnavailable(UNREACHABLE, f"connection to {host} lost while reading: {exc}") \
                        from None
                if not block:
                    break
                result.bytes += len(block)
                yield block
            while True:
                more = channel.recv_stderr(STDERR_CAP)
                if not more:
                    break
                if len(stderr) < STDERR_CAP:
                    stderr += more
            result.rc = channel.recv_exit_status()
        finally:
            result.stderr = bytes(stderr[:STDERR_CAP]).decode("utf-8", "replace")
            channel.close()

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
