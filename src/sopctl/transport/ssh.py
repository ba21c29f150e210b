"""One SSH connection per host, with host keys verified and failures turned into results.

Fabric's `Connection` auto-adds unknown host keys; we replace that with a policy that refuses them (or,
only when asked with `--accept-new-host-keys`, records first-seen keys the way OpenSSH's
`StrictHostKeyChecking=accept-new` does). A changed key is always refused. Every way a host can fail to
connect is classified into a `HostUnavailable` with a status a report can show: `unreachable`,
`hostkey_refused`, `timeout`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from invoke.exceptions import CommandTimedOut

from ..lazy import lazy_module
from .quoting import Command, Secret, as_command, powershell

if TYPE_CHECKING:
    from fabric import Connection

# paramiko and Fabric load when a connection is opened: a run whose agents come from the connection
# keeper (`play --persist`) never opens one and starts ~70 ms sooner.
paramiko = lazy_module("paramiko")

UNREACHABLE = "unreachable"
HOSTKEY_REFUSED = "hostkey_refused"
TIMEOUT = "timeout"


@dataclass(frozen=True)
class ConnectionSpec:
    """Everything needed to reach one host; built by the engine from inventory variables."""

    name: str
    address: str
    port: int = 22
    user: str = "root"
    key_file: str | None = None
    password: Secret | None = None
    known_hosts: str | None = None
    shell: str = "sh"  # "sh" or "powershell"
    connect_timeout: float = 10.0
    command_timeout: float | None = 300.0

    @property
    def known_hosts_name(self) -> str:
        """The name a known_hosts line uses: `addr`, or `[addr]:port` off port 22 (OpenSSH's rule)."""
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"


class HostUnavailable(Exception):
    """The host could not be used; `status` is what the run reports for it."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CommandResult:
    """What one command did: its display form (secrets masked), exit code, output and duration."""

    command: str
    rc: int
    stdout: str
    stderr: str
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rc == 0


def fingerprint(key: "paramiko.PKey") -> str:
    """OpenSSH's SHA256 fingerprint form, so messages match what `ssh-keygen -lf` prints."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _transport_failure(conn: Connection) -> BaseException | None:
    """Paramiko's transport thread keeps the real reason (e.g. no banner); `connect` raises a vaguer one."""
    transport = conn.client.get_transport()
    if transport is None:
        return None
    if transport.is_alive() and not transport.is_authenticated():
        transport.join(timeout=2)  # the handshake thread may still be recording why it gave up
    return getattr(transport, "saved_exception", None)


def _classify(spec: ConnectionSpec, exc: BaseException) -> HostUnavailable:
    """Turn whatever paramiko or the socket raised into a status and one readable line."""
    where = f"{spec.user}@{spec.address}:{spec.port}"
    if isinstance(exc, HostUnavailable):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return HostUnavailable(
            HOSTKEY_REFUSED,
            f"host key of {spec.name} ({where}) has CHANGED: known_hosts has {fingerprint(exc.expected_key)}, "
            f"the host offers {fingerprint(exc.key)}; if the host was reinstalled, remove the old line with "
            f"ssh-keygen -f {spec.known_hosts} -R {spec.known_hosts_name}",
        )
    from .hostkeys import UnknownHostKey

    if isinstance(exc, UnknownHostKey):
        return HostUnavailable(HOSTKEY_REFUSED, str(exc))
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return HostUnavailable(TIMEOUT, f"connecting to {where} timed out after {spec.connect_timeout:g}s")
    if isinstance(exc, paramiko.AuthenticationException):
        return HostUnavailable(UNREACHABLE, f"authentication failed for {where}: {exc}")
    if isinstance(exc, paramiko.SSHException) and "banner" in str(exc).lower():
        return HostUnavailable(TIMEOUT, f"{where} accepted the connection but sent no SSH banner "
                                        f"within {spec.connect_timeout:g}s")
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return HostUnavailable(UNREACHABLE, f"cannot connect to {where}: connection refused")
    if isinstance(exc, OSError):
        return HostUnavailable(UNREACHABLE, f"cannot connect to {where}: {exc.strerror or exc}")
    return HostUnavailable(UNREACHABLE, f"cannot connect to {where}: {type(exc).__name__}: {exc}")


@dataclass
class HostSession:
    """A host's one Fabric connection, opened once and reused for everything the run does there."""

    spec: ConnectionSpec
    accept_new_host_keys: bool = False
    connection: "Connection | None" = field(default=None, init=False)
    connect_ms: float | None = field(default=None, init=False)

    def open(self) -> "HostSession":
        if self.connection is not None:
            return self
        conn = self._build()
        started = time.perf_counter()
        try:
            conn.open()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a host result
            root_cause = exc if isinstance(exc, paramiko.AuthenticationException) else (
                _transport_failure(conn) or exc)
            conn.close()
            raise _classify(self.spec, root_cause) from None
        self.connect_ms = (time.perf_counter() - started) * 1000
        self.connection = conn
        return self

    def _build(self) -> "Connection":
        from fabric import Config, Connection

        from .hostkeys import AcceptNew, RefuseUnknown

        spec = self.spec
        kwargs: dict = {
            "timeout": spec.connect_timeout,
            "banner_timeout": spec.connect_timeout,
            "auth_timeout": spec.connect_timeout,
        }
        if spec.key_file:
            kwargs.update(key_filename=[os.path.expanduser(spec.key_file)], look_for_keys=False,
                          allow_agent=False)
        if spec.password:
            kwargs["password"] = spec.password.reveal()
        config = Config(overrides={"load_ssh_configs": False})
        conn = Connection(spec.address, user=spec.user, port=spec.port, config=config,
                          connect_kwargs=kwargs)
        client = conn.client
        if spec.known_hosts and os.path.exists(spec.known_hosts):
            client.load_host_keys(spec.known_hosts)
        policy = AcceptNew(spec) if self.accept_new_host_keys else RefuseUnknown(spec)
        client.set_missing_host_key_policy(policy)
        return conn

    def run(self, command: "Command | str", *, stdin: str | bytes | None = None,
            timeout: float | None = None) -> CommandResult:
        """Run a command; a non-zero exit is a result, a command timeout raises HostUnavailable."""
        command = as_command(command)
        if self.spec.shell == "powershell":
            invocation = powershell(command)
            command, stdin = invocation.command, invocation.stdin if stdin is None else stdin
        self.open()
        timeout = timeout if timeout is not None else self.spec.command_timeout
        in_stream = io.StringIO(stdin.decode() if isinstance(stdin, bytes) else stdin) if stdin else False
        started = time.perf_counter()
        try:
            result = self.connection.run(command.text, hide=True, warn=True, pty=False,
                                         timeout=timeout, in_stream=in_stream)
        except CommandTimedOut:
            raise HostUnavailable(TIMEOUT, f"command on {self.spec.name} timed out after {timeout:g}s: "
                                           f"{command.display}") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise HostUnavailable(UNREACHABLE, f"connection to {self.spec.name} lost: {exc}") from None
        return CommandResult(command.display, result.exited, result.stdout, result.stderr,
                             time.perf_counter() - started)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
