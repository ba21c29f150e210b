"""Run checks on hosts and produce one CheckResult per check and host.

`check_host(checks, host, executor)` does one host: checks out of scope become `na`; `fact` and `http`
probes are evaluated on the control machine; every Linux probe goes to the host in ONE `batch` call
(identical operations once); every Windows probe goes in ONE PowerShell script. Hosts are processed in
parallel by the caller, one `check_host` per host (`check_fleet` does that with `Fleet.map`).

The executor is what reaches the host, so the same runner works against
- `RecordedExecutor`: recorded answers per operation (unit tests, replaying saved output);
- `AgentExecutor(agent)`: the sopctl host agent on a Linux host;
- `PowerShellExecutor(session)`: `HostSession.run` on a Windows host (encoded PowerShell).
"""

from __future__ import annotations

import base64
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from sopctl.agent.client import Agent
from sopctl.compliance.checks import Check
from sopctl.compliance.expect import NA, describe, evaluate, parse_number
from sopctl.compliance.probes import (
    Fragment,
    Observation,
    Operation,
    ProbeUnsupported,
    as_text,
    fetch_http,
    linux_operations,
    observe_fact,
    parse_linux,
    parse_windows_answer,
    parse_windows_entry,
    windows_fragment,
    windows_script,
)
from sopctl.transport.quoting import MASK, Command, Secret, powershell
from sopctl.transport.ssh import TIMEOUT, CommandResult, HostUnavailable

OUTPUT_LIMIT = 2048  # bytes of output kept per result
WINDOWS_STARTUP_S = 30.0  # PowerShell's own start, on top of the probes' timeouts


# ---------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CheckResult:
    """One check on one host, as the report shows it.

    status: pass | fail | error | na. observed/expected: human text (`(absent)`, `""` for empty,
    `one of: no, prohibit-password`). command: the display form of what ran (secrets masked). output: what
    it printed, cut to 2 KiB with a note. time: ISO 8601 UTC. reason: why it failed, errored or is na.
    """

    check_id: str
    host: str
    sop: list[str]
    status: str
    observed: str
    expected: str
    command: str
    output: str
    time: str
    severity: str
    title: str = ""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def store_fields(self) -> dict[str, Any]:
        """The arguments of `sopctl.store` `Run.add_result` (a mapping for `add_results`)."""
        return {"check_id": self.check_id, "host": self.host, "status": self.status, "sop_ids": list(self.sop),
                "observed": self.observed, "expected": self.expected, "command": self.command,
                "output": self.output, "severity": self.severity, "time": self.time}


@dataclass(frozen=True)
class HostContext:
    """What the runner knows of a host before probing it: inventory vars, gathered facts, groups."""

    name: str
    hostvars: Mapping[str, Any] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: "HostContext | Sequence[Any]") -> "HostContext":
        """From a HostContext or a `(host_name, hostvars, facts, groups)` tuple."""
        if isinstance(value, HostContext):
            return value
        name, hostvars, facts, groups = (list(value) + [None, None, None])[:4]
        if facts is not None and hasattr(facts, "as_dict"):
            facts = facts.as_dict()
        return cls(str(name), dict(hostvars or {}), dict(facts or {}), tuple(groups or ()))

    @property
    def os(self) -> str:
        """windows for a PowerShell host (ansible_shell_type) or facts saying Windows, else linux."""
        if str(self.hostvars.get("ansible_shell_type", "")).lower() == "powershell":
            return "windows"
        for key in ("system", "os_family", "ansible_system", "ansible_os_family"):
            if "windows" in str(self.facts.get(key) or self.hostvars.get(key) or "").lower():
                return "windows"
        return "linux"

    @property
    def all_groups(self) -> set[str]:
        return set(self.groups) | set(self.hostvars.get("group_names") or ()) | {"all"}


# -------------------------------------------------------------------------------------- executors


class Executor(Protocol):
    """What reaches a host. `batch`: Linux agent operations in one round trip, one answer per operation
    (`{"ok": True, "result": ...}` or `{"ok": False, "kind": ..., "error": ...}`). `powershell`: one script
    on a Windows host. Either may raise ProbeUnsupported; HostUnavailable means the host is gone."""

    def batch(self, host: str, operations: Sequence[Operation]) -> list[dict]: ...

    def powershell(self, host: str, script: Command, timeout: float) -> CommandResult: ...


class AgentExecutor:
    """Linux probes through the sopctl host agent: one `agent.batch` per host.

    Probes are independent observations, so the batch must not stop at the first failing operation (the
    agent stops by default, for a playbook's dependent actions): it is sent with `stop_on_error: false`.
    """

    def __init__(self, agent: Any):
        self.agent = agent

    def batch(self, host: str, operations: Sequence[Operation]) -> list[dict]:
        return self.agent.batch([dict(op.request) for op in operations], stop_on_error=False)

    def powershell(self, host: str, script: Command, timeout: float) -> CommandResult:
        raise ProbeUnsupported("Windows probes need a PowerShell session (PowerShellExecutor), not the agent")


class PowerShellExecutor:
    """Windows probes over the host's SSH session, as an encoded PowerShell script (HostSession.run)."""

    def __init__(self, session: Any):
        self.session = session

    def batch(self, host: str, operations: Sequence[Operation]) -> list[dict]:
        raise ProbeUnsupported("Linux probes need the sopctl agent (AgentExecutor)")

    def powershell(self, host: str, script: Command, timeout: float) -> CommandResult:
        if self.session.spec.shell == "powershell":  # HostSession.run encodes it
            return self.session.run(script, timeout=timeout)
        invocation = powershell(script)  # a Windows host whose default shell is still cmd.exe
        return self.session.run(invocation.command, stdin=invocation.stdin, timeout=timeout)


class RecordedExecutor:
    """Answers from recordings instead of a host: for unit tests and for replaying saved output.

    `answers` maps an operation's display form (`sshd -T`, `stat -L /etc/shadow`, `cat /proc/sys/...`,
    the command text of a command probe) to its answer; `per_host` overrides it for one host. An answer
    is a full agent answer (`{"ok": ..., ...}`), or a shorthand: for `run`, the stdout text or a tuple
    `(rc, stdout, stderr)`; for `stat`, the stat dict (`{"mode": "0640", "owner": "root", ...}`, `None` for
    a missing file); for `read`, the file's text (`None` for a missing file). An exception instance is
    raised. `windows` is the PowerShell stdout text, a CommandResult, a callable(script) or an exception,
    or a mapping host -> one of those. Every call is recorded in `batches` and `scripts`.
    An operation without a recording raises KeyError: a test must say what the host answers.
    """

    def __init__(self, answers: Mapping[str, Any] | None = None, windows: Any = None,
                 per_host: Mapping[str, Mapping[str, Any]] | None = None):
        self.answers = dict(answers or {})
        self.windows = windows
        self.per_host = {host: dict(table) for host, table in (per_host or {}).items()}
        self.batches: list[tuple[str, list[Operation]]] = []
        self.scripts: list[tuple[str, Command, float]] = []

    def batch(self, host: str, operations: Sequence[Operation]) -> list[dict]:
        self.batches.append((host, list(operations)))
        table = {**self.answers, **self.per_host.get(host, {})}
        out = []
        for op in operations:
            if op.display not in table:
                raise KeyError(f"no recorded answer for {op.display!r} on {host}; recorded: {sorted(table)}")
            out.append(recorded_answer(op, table[op.display]))
        return out

    def powershell(self, host: str, script: Command, timeout: float) -> CommandResult:
        self.scripts.append((host, script, timeout))
        answer = self.windows.get(host) if isinstance(self.windows, Mapping) else self.windows
        if answer is None:
            raise KeyError(f"no recorded PowerShell answer for {host}")
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            answer = answer(script)
        if isinstance(answer, CommandResult):
            return answer
        return CommandResult(script.display, 0, str(answer), "")


def recorded_answer(op: Operation, value: Any) -> dict:
    """A recording (full or shorthand, see RecordedExecutor) as the agent's answer to `op`."""
    if isinstance(value, BaseException):
        raise value
    if isinstance(value, Mapping) and "ok" in value:
        return dict(value)
    kind = op.request.get("op")
    if kind == "run":
        if isinstance(value, str):
            return {"ok": True, "result": {"rc": 0, "stdout": value, "stderr": "", "duration": 0.0}}
        rc, stdout, stderr = (list(value) + ["", ""])[:3]
        return {"ok": True, "result": {"rc": rc, "stdout": stdout, "stderr": stderr, "duration": 0.0}}
    if value is None:
        return {"ok": True, "result": {"exists": False}}
    if kind == "read":
        text = value if isinstance(value, str) else value.get("content", "")
        return {"ok": True, "result": {"exists": True, "mode": "0644",
                                       "content_b64": base64.b64encode(text.encode()).decode()}}
    if kind == "stat":
        return {"ok": True, "result": {"exists": True, "type": "file", "mode": "0644", "owner": "root",
                                       "group": "root", "uid": 0, "gid": 0, "size": 0, "mtime": 0,
                                       **dict(value)}}
    return {"ok": True, "result": dict(value)}


# ------------------------------------------------------------------------------------------ running


def check_host(checks: Sequence[Check], host: "HostContext | Sequence[Any]", executor: Executor,
               now: datetime | None = None) -> list[CheckResult]:
    """Every check on one host, in the order given. HostUnavailable (the host is gone) propagates."""
    ctx = HostContext.of(host)
    observations: dict[str, Observation] = {}
    not_applicable: dict[str, str] = {}
    linux: list[tuple[Check, list[Operation]]] = []
    windows: list[tuple[Check, Fragment]] = []
    templar = None
    checks = list(checks)
    for index, check in enumerate(checks):
        reason = check.applies_to.reason_not(ctx.os, ctx.all_groups)
        if reason:
            not_applicable[check.id] = reason
            continue
        if check.uses_host_vars:
            templar = templar or host_templar(ctx)
            try:
                check = checks[index] = render_check(check, templar)
            except HostVarsError as exc:
                observations[check.id] = Observation.failed(str(exc))
                continue
        probe = check.probe
        if probe.kind == "fact":
            observations[check.id] = observe_fact(probe, ctx.facts)
        elif probe.kind == "http":
            observations[check.id] = fetch_http(probe)
        else:
            try:
                if ctx.os == "windows":
                    windows.append((check, windows_fragment(probe)))
                else:
                    linux.append((check, linux_operations(probe)))
            except ProbeUnsupported as exc:
                observations[check.id] = Observation.failed(str(exc))
    if linux:
        observations.update(_run_linux(linux, ctx, executor))
    if windows:
        observations.update(_run_windows(windows, ctx, executor))
    moment = now or datetime.now(timezone.utc)
    secrets = _secrets(ctx.hostvars)
    return [_result(check, ctx, observations.get(check.id), not_applicable.get(check.id), moment, secrets)
            for check in checks]


class HostVarsError(Exception):
    """A check's templates could not be rendered with this host's variables (that check's error)."""


def host_templar(ctx: HostContext) -> Any:
    """A Templar over the host's inventory variables, its facts (`ansible_facts`) and its name/groups."""
    from sopctl.engine.templating import Templar  # Jinja2 with Ansible's filters; imports nothing above us

    variables = {"inventory_hostname": ctx.name, "group_names": sorted(ctx.all_groups - {"all"}),
                 **ctx.hostvars, "ansible_facts": dict(ctx.facts)}
    return Templar(variables)


def env_text(value: Any) -> str:
    """A rendered template as an environment value: lists space-separated, true/false, None empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return " ".join(env_text(item) for item in value)
    return as_text(value)


def render_check(check: Check, templar: Any) -> Check:
    """The check with its host-variable templates rendered for one host: probe `env` values as text,
    templated numbers as numbers. HostVarsError names the template and why it failed."""
    from sopctl.engine.templating import TemplateError

    def render(text: str, what: str) -> Any:
        try:
            return templar.render(text)
        except TemplateError as exc:
            raise HostVarsError(f"could not render {what} {text!r} with the host's variables: "
                                f"{exc.reason}") from None

    env = tuple((name, env_text(render(value, f"env {name}"))) for name, value in check.probe.env)
    expectations = []
    for e in check.expect:
        if e.templated:
            value = render(e.value, e.kind)
            number = parse_number(as_text(value)) if not isinstance(value, bool) else None
            if number is None or (e.kind == "age_days" and number < 0):
                raise HostVarsError(f"{e.kind}: {e.value!r} gave {as_text(value)!r} for this host, not a "
                                    f"{'non-negative ' if e.kind == 'age_days' else ''}number")
            e = replace(e, value=number)
        expectations.append(e)
    return replace(check, probe=replace(check.probe, env=env), expect=tuple(expectations))


def run_checks(checks: Sequence[Check], hosts: Iterable["HostContext | Sequence[Any]"],
               executor: "Executor | Mapping[str, Executor] | Callable[[str], Executor]",
               now: datetime | None = None) -> list[CheckResult]:
    """`check_host` for each host in turn (host order, then check order). `executor` serves every host,
    or is a mapping / callable giving each host's own. For parallel hosts use `check_fleet`."""
    results: list[CheckResult] = []
    for host in hosts:
        ctx = HostContext.of(host)
        if isinstance(executor, Mapping):
            own = executor[ctx.name]
        elif callable(executor) and not hasattr(executor, "batch"):
            own = executor(ctx.name)
        else:
            own = executor
        results.extend(check_host(checks, ctx, own, now))
    return results


def check_fleet(checks: Sequence[Check], fleet: Any, hosts: Iterable["HostContext | Sequence[Any]"],
                now: datetime | None = None) -> list:
    """Every host of `fleet` (a sopctl.transport.Fleet) in parallel, one `check_host` each: Linux hosts
    through a freshly started agent, Windows hosts through PowerShell. Returns Fleet's HostOutcome list,
    whose values are the hosts' CheckResult lists (an unreachable host is an outcome, not an exception)."""
    contexts = {ctx.name: ctx for ctx in map(HostContext.of, hosts)}

    def one(session: Any) -> list[CheckResult]:
        ctx = contexts[session.spec.name]
        if ctx.os == "windows":
            return check_host(checks, ctx, PowerShellExecutor(session), now)
        interpreter = str(ctx.hostvars.get("ansible_python_interpreter") or "python3")
        agent = Agent.start(session, interpreter)
        try:
            return check_host(checks, ctx, AgentExecutor(agent), now)
        finally:
            agent.close()

    return fleet.map_some(list(contexts), one, label="checking")


def _run_linux(items: list[tuple[Check, list[Operation]]], ctx: HostContext,
               executor: Executor) -> dict[str, Observation]:
    operations: list[Operation] = []
    index: dict[str, int] = {}
    wanted: list[tuple[Check, list[int]]] = []
    for check, ops in items:
        positions = []
        for op in ops:
            if op.key not in index:
                index[op.key] = len(operations)
                operations.append(op)
            positions.append(index[op.key])
        wanted.append((check, positions))
    if not operations:
        return {}
    try:
        answers = executor.batch(ctx.name, operations)
    except ProbeUnsupported as exc:
        return {check.id: Observation.failed(str(exc)) for check, _ in wanted}
    if not isinstance(answers, list) or len(answers) != len(operations):
        count = len(answers) if isinstance(answers, list) else 0
        return {check.id: Observation.failed(f"the agent answered {count} of {len(operations)} operations")
                for check, _ in wanted}
    out = {}
    for check, positions in wanted:
        ops = [operations[i] for i in positions]
        try:
            out[check.id] = parse_linux(check.probe, [answers[i] for i in positions], ops)
        except (KeyError, TypeError, ValueError, IndexError) as exc:  # a malformed answer is that check's error
            out[check.id] = Observation.failed(f"could not read the agent's answer: {type(exc).__name__}: {exc}",
                                               ops[0].display if ops else "")
    return out


def _run_windows(items: list[tuple[Check, Fragment]], ctx: HostContext,
                 executor: Executor) -> dict[str, Observation]:
    script = windows_script((check.id, fragment) for check, fragment in items)
    budget = sum(check.probe.timeout for check, _ in items) + WINDOWS_STARTUP_S

    def every(message: str, output: str = "") -> dict[str, Observation]:
        return {check.id: Observation.failed(message, fragment.display, output) for check, fragment in items}

    try:
        result = executor.powershell(ctx.name, script, budget)
    except ProbeUnsupported as exc:
        return every(str(exc))
    except HostUnavailable as exc:
        if exc.status != TIMEOUT:
            raise
        return every(f"probe timed out after {budget:g}s (a host's Windows probes share one script: "
                     f"the sum of their timeouts plus {WINDOWS_STARTUP_S:g}s)")
    try:
        data = parse_windows_answer(result.stdout)
    except ValueError as exc:
        stderr = (result.stderr or "").strip()
        detail = f" (exit code {result.rc}; stderr: {stderr[:300]})" if stderr or result.rc else ""
        return every(f"{exc}{detail}", (result.stdout or "") + ("\n--- stderr ---\n" + stderr if stderr else ""))
    out = {}
    for check, fragment in items:
        if check.id not in data:
            out[check.id] = Observation.failed("the PowerShell answer has no entry for this check",
                                               fragment.display)
        else:
            out[check.id] = parse_windows_entry(check.probe, data[check.id], fragment.display)
    return out


def _result(check: Check, ctx: HostContext, observation: Observation | None, na_reason: str | None,
            moment: datetime, secrets: list[str]) -> CheckResult:
    stamp = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    common = dict(check_id=check.id, host=ctx.name, sop=list(check.sop), time=stamp, severity=check.severity,
                  title=check.title)
    expected = describe(check.expect)
    if na_reason is not None:
        return CheckResult(status=NA, observed="(not applicable)", expected=expected, command="",
                           output="", reason=f"not applicable: {na_reason}", **common)
    if observation is None:  # every applicable check gets an observation; this guards the invariant
        observation = Observation.failed("no observation was made")
    verdict = evaluate(observation, check.expect, moment)
    mask = _masker(secrets)
    return CheckResult(status=verdict.status, observed=mask(verdict.observed), expected=verdict.expected,
                       command=mask(observation.command), output=trim_output(mask(observation.output)),
                       reason=mask(verdict.reason), **common)


def trim_output(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """At most `limit` bytes of UTF-8: the first and last halves (the start and the error at the end
    both survive), with a note between them saying how much was left out."""
    data = (text or "").encode("utf-8")
    if len(data) <= limit:
        return text or ""
    head = data[:limit // 2].decode("utf-8", "ignore")
    tail = data[len(data) - limit // 2:].decode("utf-8", "ignore")
    shown = len(head.encode()) + len(tail.encode())
    return f"{head}\n… [output trimmed: {shown} of {len(data)} bytes shown] …\n{tail}"


_SECRET_VARS = re.compile(r"(pass|password|passphrase|secret|token)$", re.IGNORECASE)


def _secrets(hostvars: Mapping[str, Any]) -> list[str]:
    """Values that must never show: every Secret, and plain-text password/secret/token variables."""
    found = []
    for key, value in hostvars.items():
        if isinstance(value, Secret):
            found.append(value.reveal())
        elif isinstance(value, str) and _SECRET_VARS.search(str(key)) and len(value) >= 3:
            found.append(value)
    return sorted({s for s in found if s}, key=len, reverse=True)


def _masker(secrets: list[str]) -> Callable[[str], str]:
    def mask(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text
    return mask


def count_statuses(results: Iterable[CheckResult]) -> dict[str, int]:
    """How many results have each status (pass, fail, error, na)."""
    counts = {"pass": 0, "fail": 0, "error": 0, "na": 0}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts


__all__ = [
    "AgentExecutor", "CheckResult", "Executor", "HostContext", "PowerShellExecutor", "RecordedExecutor",
    "check_fleet", "check_host", "count_statuses", "recorded_answer", "run_checks", "trim_output",
]
