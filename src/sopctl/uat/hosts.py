"""Steps run on the application's hosts over SSH: command, service, file, and database (sqlite file probe,
or a TCP connect made from the host itself).

One SSH connection (a `Fleet` session) and one sopctl agent per host, started on the first step that needs
the host and reused by the later ones. Every command runs with `LC_ALL=C` (`locale_c`). A step passes only
when it passes on every host its pattern selects; a host that cannot be reached is an `error` for that host.
Windows hosts (`ansible_shell_type: powershell`) take `command` steps (run by PowerShell); the other kinds
need the Linux agent.
"""

from __future__ import annotations

import base64
import threading
from typing import Any, Callable

from sopctl.agent.client import Agent, AgentError
from sopctl.compliance.probes import service_command
from sopctl.transport.ssh import HostUnavailable
from sopctl.uat.checklist import CommandSpec, DatabaseSpec, FileSpec, ServiceSpec, Step
from sopctl.uat.steps import Check

FILE_READ_LIMIT = 4 << 20

SQLITE_PROBE = r"""
import os, sys
path = sys.argv[1]
try:
    with open(path, "rb") as handle:
        head = handle.read(16)
except FileNotFoundError:
    print("absent"); sys.exit(0)
except OSError as exc:
    print("unreadable " + str(exc)); sys.exit(0)
if head != b"SQLite format 3\x00":
    print("not-sqlite"); sys.exit(0)
size = os.path.getsize(path)
try:
    import sqlite3
except ImportError:
    print("header %d" % size); sys.exit(0)
try:
    from urllib.parse import quote
    conn = sqlite3.connect("file:" + quote(path) + "?mode=ro", uri=True, timeout=5)
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    conn.close()
    print("ok %d %d" % (size, tables))
except Exception as exc:
    print("error " + str(exc))
"""

TCP_PROBE = r"""
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3])).close()
    print("open connected")
except ConnectionRefusedError:
    print("closed connection refused")
except socket.timeout:
    print("filtered no answer")
except OSError as exc:
    print("closed " + (exc.strerror or str(exc)))
"""


class HostCheck:
    """One host's share of a step."""

    __slots__ = ("result", "observed", "problem", "output", "command")

    def __init__(self, result: str, observed: str, problem: str = "", output: str = "", command: str = ""):
        self.result, self.observed, self.problem, self.output, self.command = result, observed, problem, output, command


class HostRunner:
    """Host steps over a `sopctl.transport.Fleet` whose sessions cover every host the checklist names.

    `select(pattern)` gives the hosts of an inventory pattern (the caller resolves them up front, so a
    pattern matching nothing is refused before anything runs); `hostvars(name)` their variables.
    """

    def __init__(self, fleet: Any, select: Callable[[str], list[str]], hostvars: Callable[[str], dict]):
        self.fleet, self.select, self.hostvars = fleet, select, hostvars
        self._agents: dict[str, Agent] = {}
        self._lock = threading.Lock()

    def _agent(self, session: Any) -> Agent:
        name = session.spec.name
        with self._lock:
            agent = self._agents.get(name)
        if agent is None:
            interpreter = str(self.hostvars(name).get("ansible_python_interpreter") or "python3")
            agent = Agent.start(session, interpreter)
            with self._lock:
                self._agents[name] = agent
        return agent

    def run(self, step: Step) -> Check:
        names = self.select(step.hosts or "")
        expected = _expected(step)

        def one(session: Any) -> HostCheck:
            windows = session.spec.shell == "powershell"
            if windows and step.kind != "command":
                return HostCheck("error", "unsupported", f"{step.kind} steps need a Linux host (the sopctl agent)")
            try:
                if windows:
                    return _command_windows(step.spec, session, step.timeout)
                return _HOST_STEPS[step.kind](step.spec, self._agent(session), step.timeout)
            except AgentError as exc:
                if exc.kind == "timeout":
                    return HostCheck("fail", "timed out", f"no answer within {step.timeout:g}s")
                return HostCheck("error", f"agent error ({exc.kind})", str(exc))

        outcomes = self.fleet.map_some(names, one, label=step.id)
        per_host: dict[str, HostCheck] = {}
        for outcome in outcomes:
            if outcome.ok and outcome.value is not None:
                per_host[outcome.host] = outcome.value
            else:
                per_host[outcome.host] = HostCheck("error", outcome.status, outcome.error or outcome.status)
        return _combine(per_host, expected)

    def close(self) -> None:
        with self._lock:
            agents, self._agents = list(self._agents.values()), {}
        for agent in agents:
            agent.close()
        self.fleet.close()


def _combine(per_host: dict[str, HostCheck], expected: str) -> Check:
    order = {"error": 2, "fail": 1, "pass": 0}
    worst = max((check.result for check in per_host.values()), key=lambda r: order.get(r, 2), default="error")
    single = len(per_host) == 1
    observed = "; ".join(check.observed if single else f"{host}: {check.observed}" for host, check in per_host.items())
    detail = "; ".join(check.problem if single else f"{host}: {check.problem}"
                       for host, check in per_host.items() if check.problem)
    output = "\n".join(f"== {host} ==\n{check.output}".rstrip() for host, check in per_host.items() if check.output)
    commands = {check.command for check in per_host.values() if check.command}
    return Check(worst, observed or "no host", expected, detail, output, "; ".join(sorted(commands)),
                 {host: check.result for host, check in per_host.items()})


def _expected(step: Step) -> str:
    spec = step.spec
    if step.kind == "command":
        return "; ".join([f"exit code {spec.rc}", *(f"stdout {d}" for d in spec.expect.describe())])
    if step.kind == "service":
        return f"service {spec.name} {spec.state}"
    if step.kind == "file":
        if spec.state == "absent":
            return f"{spec.path} absent"
        parts = [f"{spec.path} present"]
        parts += [f"{k} {v}" for k, v in (("type", spec.type), ("mode", spec.mode), ("owner", spec.owner)) if v]
        return "; ".join(parts + [f"content {d}" for d in spec.expect.describe()])
    if spec.engine == "sqlite":
        return f"SQLite database {spec.path} present and readable"
    return f"{spec.engine} at {spec.host}:{spec.port} accepts connections from the host"


def _run(agent: Agent, cmd: Any, timeout: float, shell: bool = True) -> dict:
    return agent.call("run", cmd=cmd, shell=shell, locale_c=True, timeout=timeout)


def _clip(text: str, limit: int = 120) -> str:
    text = text.strip().replace("\n", " ⏎ ")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _command(spec: CommandSpec, agent: Agent, timeout: float) -> HostCheck:
    answer = _run(agent, spec.run, timeout)
    return _judge_command(spec, answer.get("rc"), answer.get("stdout") or "", answer.get("stderr") or "")


def _command_windows(spec: CommandSpec, session: Any, timeout: float) -> HostCheck:
    try:
        result = session.run(spec.run, timeout=timeout)
    except HostUnavailable as exc:
        return HostCheck("error", exc.status, str(exc), command=spec.run)
    return _judge_command(spec, result.rc, result.stdout, result.stderr)


def _judge_command(spec: CommandSpec, rc: Any, stdout: str, stderr: str) -> HostCheck:
    output = stdout + (f"\n[stderr]\n{stderr}" if stderr.strip() else "")
    observed = f"exit code {rc}, stdout {_clip(stdout)!r}"
    if rc in (126, 127):
        return HostCheck("error", observed, f"the command could not run (exit code {rc}): {_clip(stderr)}",
                         output, spec.run)
    problems = []
    if rc != spec.rc:
        problems.append(f"exit code {rc}, expected {spec.rc}" + (f": {_clip(stderr)}" if stderr.strip() else ""))
    problems += [f"stdout {p}" for p in spec.expect.problems(stdout)]
    return HostCheck("fail" if problems else "pass", observed, "; ".join(problems), output, spec.run)


def _service(spec: ServiceSpec, agent: Agent, timeout: float) -> HostCheck:
    command = service_command(spec.name, spec.process)
    answer = _run(agent, command.text, timeout)
    lines = (answer.get("stdout") or "").splitlines()
    state = lines[0].strip() if lines else ""
    how = " ".join(line.strip() for line in lines[1:]).strip()
    output = "\n".join(lines[1:]) or (answer.get("stderr") or "")
    if state not in ("running", "stopped", "absent"):
        return HostCheck("error", "unknown", f"could not tell the state of {spec.name}: {_clip(output)}", output,
                         command.display)
    observed = state + (f" ({_clip(how, 80)})" if how else "")
    if state != spec.state:
        return HostCheck("fail", observed, f"service {spec.name} is {state}, expected {spec.state}", output,
                         command.display)
    return HostCheck("pass", observed, "", output, command.display)


def _file(spec: FileSpec, agent: Agent, timeout: float) -> HostCheck:
    shown = f"stat {spec.path}"
    info = agent.call("stat", path=spec.path, follow=True)
    if not info.get("exists"):
        if spec.state == "absent":
            return HostCheck("pass", "absent", "", command=shown)
        return HostCheck("fail", "absent", f"{spec.path} does not exist", command=shown)
    observed = f"{info.get('type')} mode={info.get('mode')} owner={info.get('owner')} size={info.get('size')}"
    if spec.state == "absent":
        return HostCheck("fail", observed, f"{spec.path} exists, expected absent", command=shown)
    problems = []
    if spec.type and info.get("type") != spec.type:
        problems.append(f"is a {info.get('type')}, expected a {spec.type}")
    if spec.mode and info.get("mode") != spec.mode:
        problems.append(f"mode {info.get('mode')}, expected {spec.mode}")
    if spec.owner and info.get("owner") != spec.owner:
        problems.append(f"owner {info.get('owner')}, expected {spec.owner}")
    output = ""
    if spec.expect:
        shown = f"stat, read {spec.path}"
        if info.get("type") != "file":
            problems.append("content cannot be checked: not a regular file")
        else:
            read = agent.call("read", path=spec.path, max_bytes=FILE_READ_LIMIT)
            text = base64.b64decode(read.get("content_b64") or "").decode("utf-8", "replace")
            problems += [f"content {p}" for p in spec.expect.problems(text)]
            output = text[:1500]
    return HostCheck("fail" if problems else "pass", observed, "; ".join(problems), output, shown)


def _database(spec: DatabaseSpec, agent: Agent, timeout: float) -> HostCheck:
    if spec.engine == "sqlite":
        shown = f"sqlite probe {spec.path} (header, read-only open)"
        answer = _run(agent, [agent.interpreter, "-c", SQLITE_PROBE, spec.path], timeout, shell=False)
        line = (answer.get("stdout") or "").strip()
        word, _, rest = line.partition(" ")
        if word == "ok":
            size, tables = rest.split()
            return HostCheck("pass", f"SQLite database, {size} bytes, {tables} table(s)", "", line, shown)
        if word == "header":
            return HostCheck("pass", f"SQLite file, {rest} bytes (no sqlite3 module on the host to open it)",
                             "", line, shown)
        problem = {"absent": f"{spec.path} does not exist", "not-sqlite": f"{spec.path} is not a SQLite database",
                   }.get(word, f"{spec.path}: {rest or line or answer.get('stderr', '').strip()}")
        return HostCheck("fail", word or "no answer", problem, line + (answer.get("stderr") or ""), shown)
    shown = f"TCP connect {spec.host}:{spec.port} from the host"
    answer = _run(agent, [agent.interpreter, "-c", TCP_PROBE, spec.host, str(spec.port), str(min(timeout, 10))],
                  timeout, shell=False)
    state, _, why = (answer.get("stdout") or "").strip().partition(" ")
    observed = f"{spec.engine} at {spec.host}:{spec.port}: TCP {state or 'unknown'} ({why})"
    if state == "open":
        return HostCheck("pass", observed, "", command=shown)
    return HostCheck("fail", observed, f"the database port is {state or 'unknown'}: {why or answer.get('stderr')}",
                     command=shown)


_HOST_STEPS: dict[str, Callable[[Any, Agent, float], HostCheck]] = {
    "command": _command, "service": _service, "file": _file, "database": _database,
}
