"""A run's side of the connection keeper: lease a host's agent from it, starting the keeper if needed.

See `keeper.py` for what the keeper is and why. A leased agent is an ordinary `Agent` whose channel is a
Unix socket to the keeper; everything above (modules, the executor) cannot tell the difference.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import stat
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ..errors import SopctlError
from ..transport.quoting import Secret
from ..transport.ssh import HostSession, HostUnavailable
from .client import Agent


class KeeperError(SopctlError):
    """The keeper could not be reached or started; the run falls back to its own connections."""


def runtime_dir() -> Path:
    """The keeper's folder: SOPCTL_RUNTIME_DIR, else $XDG_RUNTIME_DIR/sopctl, else ~/.cache/sopctl.

    It must belong to us and be closed to everyone else, since its socket hands out logged-in agents.
    """
    configured = os.environ.get("SOPCTL_RUNTIME_DIR")
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(configured) if configured else Path(xdg) / "sopctl" if xdg else Path.home() / ".cache" / "sopctl"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = folder.stat()
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise KeeperError(f"{folder} must belong to uid {os.getuid()} with mode 0700 "
                          f"(it is uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o})")
    return folder


def keeper_pid(folder: Path) -> int | None:
    """The pid the running keeper wrote in `folder`, if it is still that keeper (not a reused pid)."""
    try:
        pid = int((folder / "keeper.pid").read_text().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return pid if b"sopctl.agent.keeper" in fh.read() else None
    except (OSError, ValueError):
        return None


class _SocketChannel:
    """The few channel methods `Agent` uses, on a Unix socket to the keeper."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def makefile(self, mode: str):
        return self.sock.makefile(mode)

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.sock.close()


class KeeperLink:
    """How a run talks to the keeper in `folder` (started on first use, kept for `persist` seconds)."""

    def __init__(self, persist: float, folder: Path | None = None, start_timeout: float = 10.0):
        self.persist = persist
        self.folder = folder or runtime_dir()
        self.socket_path = self.folder / "keeper.sock"
        self.start_timeout = start_timeout

    def lease(self, session: HostSession, accept_new: bool, interpreter: str, become_user: str | None,
              become_password: Secret | None) -> Agent:
        """A ready agent on the host; connection failures arrive as the usual HostUnavailable."""
        sock = self._connect(start=True)
        spec = asdict(session.spec)
        spec["password"] = session.spec.password.reveal() if session.spec.password else None
        for name in ("key_file", "known_hosts"):  # the keeper's folder is not this run's: no relative paths
            if spec[name]:
                spec[name] = os.path.abspath(os.path.expanduser(spec[name]))
        request = {"lease": {"spec": spec, "accept_new": accept_new, "interpreter": interpreter,
                             "become_user": become_user, "persist": self.persist,
                             "become_password": become_password.reveal() if become_password else None}}
        sock.sendall(json.dumps(request).encode() + b"\n")
        channel = _SocketChannel(sock)
        agent = Agent(session, channel, interpreter)
        line = agent._reader.readline()
        answer = json.loads(line) if line else {
            "error": f"the connection keeper gave no answer for {session.spec.name} (see "
                     f"{self.folder / 'keeper.log'}; `invoke keeper.stop` starts a fresh one next run)"}
        if not answer.get("ready"):
            sock.close()
            raise HostUnavailable(answer.get("status", "unreachable"), answer["error"])
        return agent

    def ask(self, message: dict) -> dict | None:
        """`status` or `stop` of a running keeper; None when none runs."""
        try:
            sock = self._connect(start=False)
        except KeeperError:
            return None
        with sock:
            sock.sendall(json.dumps(message).encode() + b"\n")
            line = sock.makefile("rb").readline()
        return json.loads(line) if line else None

    def _connect(self, start: bool) -> socket.socket:
        try:
            return self._dial()
        except OSError:
            if not start:
                raise KeeperError("no keeper is running") from None
        with open(self.folder / "keeper.lock", "w") as lock:  # one run starts it, the others wait
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._dial()
            except OSError:
                self._spawn()
            deadline = time.monotonic() + self.start_timeout
            while True:
                try:
                    return self._dial()
                except OSError as exc:
                    if time.monotonic() > deadline:
                        raise KeeperError(f"the keeper did not start within {self.start_timeout:g}s "
                                          f"({exc}); see {self.folder / 'keeper.log'}") from None
                    time.sleep(0.02)

    def _dial(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(self.socket_path))
        except OSError:
            sock.close()
            raise
        return sock

    def _spawn(self) -> None:
        """Start the keeper detached from this run: its own session, no inherited stdout or stderr."""
        with open(self.folder / "keeper.log", "ab") as logfile:
            os.chmod(logfile.name, 0o600)
            subprocess.Popen([sys.executable, "-m", "sopctl.agent.keeper", "--socket", str(self.socket_path),
                              "--persist", str(self.persist)], stdin=subprocess.DEVNULL,
                             stdout=logfile, stderr=logfile, start_new_session=True, close_fds=True)
