"""The control side of the host agent: one long-lived channel per host, one message per operation.

`Agent.start(session)` opens an exec channel on the host's existing SSH connection running
`python3 -I -S -c <bootstrap>`, where the bootstrap carries `remote.py` compressed. After that, `agent.call(op,
**args)` is a JSON line out and a JSON line back: no new SSH exec, no file upload, no interpreter start.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import zlib
from functools import lru_cache
from importlib import resources

from ..transport.quoting import Secret, sh
from ..transport.ssh import UNREACHABLE, HostSession, HostUnavailable


class AgentError(Exception):
    """An operation failed on the host; `kind` says how (permission, not_a_file, timeout…)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@lru_cache(maxsize=1)
def bootstrap() -> str:
    source = resources.files(__package__).joinpath("remote.py").read_bytes()
    packed = base64.b64encode(zlib.compress(source, 9)).decode("ascii")
    return f"import binascii,zlib;exec(zlib.decompress(binascii.a2b_base64('{packed}')))"


class Agent:
    """A running agent on one host (one per host and become-user)."""

    def __init__(self, session: HostSession, channel, interpreter: str):
        self.session, self.channel, self.interpreter = session, channel, interpreter
        self._reader = channel.makefile("rb")
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @classmethod
    def start(cls, session: HostSession, interpreter: str = "python3", become_user: str | None = None,
              become_password: Secret | None = None) -> "Agent":
        """Start the agent over the session's connection, through sudo when `become_user` is given.

        With a become password, sudo reads it from the channel's first line (`-S -p ''`), so it never
        appears on a command line or in a process listing.
        """
        session.open()
        # -I: the host's PYTHON* variables and user site cannot change what the agent runs; -S: no site
        # import (the agent needs only the standard library), a few ms less on every host.
        if become_user:
            flags = "-S -p ''" if become_password else "-n"
            command = sh(f"sudo {flags} -H -u {{}} {{}} -I -S -c {{}}", become_user, interpreter, bootstrap())
        else:
            command = sh("{} -I -S -c {}", interpreter, bootstrap())
        transport = session.connection.client.get_transport()
        channel = transport.open_session()
        channel.exec_command(command.text)
        if become_user and become_password:
            channel.sendall(become_password.reveal().encode() + b"\n")
        agent = cls(session, channel, interpreter)
        agent._await_ready()
        return agent

    def _await_ready(self) -> None:
        line = self._reader.readline()
        if not line.startswith(b'{"ready"'):
            error = self.channel.recv_stderr(4096).decode(errors="replace").strip()
            error = error or line.decode(errors="replace").strip() or "no answer"
            hint = ("become needs sudo on the host" if "sudo" in error else
                    "set ansible_python_interpreter to the host's python3" if "python" in error or
                    "not found" in error else "")
            raise HostUnavailable(
                UNREACHABLE, f"could not start the sopctl agent on {self.session.spec.name} with "
                             f"{self.interpreter!r}: {error}" + (f" ({hint})" if hint else ""))

    def call(self, op: str, **args):
        """One operation; returns its result or raises AgentError."""
        response = self._exchange({"op": op, **args})
        if not response.get("ok"):
            raise AgentError(response.get("kind", "error"), response.get("error", "unknown error"))
        return response["result"]

    def batch(self, ops: list[dict], stop_on_error: bool = True) -> list[dict]:
        """Several operations in one round trip; each answer is `{"ok", "result"|"error", "kind"}`.

        A module's actions depend on each other, so by default the agent stops at the first failure (a
        failed operation or a command exiting non-zero); independent probes pass `stop_on_error=False`.
        """
        return self._exchange({"op": "batch", "ops": ops, "stop_on_error": stop_on_error})["result"]

    def _exchange(self, request: dict) -> dict:
        with self._lock:
            request["id"] = next(self._ids)
            return json.loads(self._roundtrip(json.dumps(request).encode() + b"\n"))

    def relay(self, line: bytes) -> bytes:
        """One request line as it came (from a run, through the keeper), its answer line as it came."""
        with self._lock:
            return self._roundtrip(line)

    def _roundtrip(self, line: bytes) -> bytes:
        try:
            self.channel.sendall(line)
            answer = self._reader.readline()
        except (OSError, EOFError) as exc:
            raise HostUnavailable(UNREACHABLE, f"agent channel to {self.session.spec.name} lost: {exc}")
        if not answer.endswith(b"\n"):
            raise HostUnavailable(UNREACHABLE, f"the agent on {self.session.spec.name} stopped answering")
        return answer

    def close(self) -> None:
        try:
            self.channel.shutdown_write()
            self.channel.close()
        except OSError:
            pass
