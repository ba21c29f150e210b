"""Running plays: every host works through the play on its own thread, one agent channel per host.

Per host and task: choose by tags, evaluate `when` (per item for loops), template the arguments, let the
module plan against the host (reads go through the agent, ~0.3 ms each), apply the plan's actions in
one agent round trip unless in check mode, then `changed_when` / `failed_when`, `register`, `notify`.
Handlers run once at the end of the play, for hosts that notified them and did not fail.

Hosts proceed independently (like Ansible's `free` strategy): no host waits for the slowest one at each
task, and the final state of every host is the same as with the `linear` strategy. Output is collected
per host and printed per task afterwards, so it never interleaves.
"""

from __future__ import annotations

import base64
from collections import ChainMap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..agent.client import Agent, AgentError
from ..agent.kept import KeeperError
from ..errors import InputError, SopctlError
from ..facts import system
from ..modules import registry, winps
from ..modules.base import ModuleArgError, Plan, apply_plan, validate
from ..transport import Fleet, HostSession, HostUnavailable
from ..inventory.model import VaultValue
from ..transport.quoting import MASK, Secret
from . import actions
from .playbook import Play, Playbook, Task
from .prefetch import Miss, NotAhead, Observations, fetch_ahead
from .results import CHANGED, FAILED, OK, SKIPPED, UNREACHABLE, PlayResult, Recap, TaskResult
from .templating import TemplateError, Templar, mark_unsafe, strip_omit

NO_LOG_MESSAGE = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"


@dataclass
class RunOptions:
    check: bool = False
    diff: bool = False
    tags: list[str] = field(default_factory=list)
    skip_tags: list[str] = field(default_factory=list)
    extra_vars: dict = field(default_factory=dict)


@dataclass
class RunReport:
    plays: list[PlayResult]
    recap: Recap

    def as_json(self) -> dict:
        return {"plays": [{"name": p.name, "tasks": [r.as_json() for r in p.results]} for p in self.plays],
                "recap": self.recap.as_json()}


class RecordingVault:
    """The run's vault, remembering each value it decrypts so results can be scrubbed of its text even
    where a module echoed it (a registered stdout printed by a later `debug`)."""

    def __init__(self, vault, revealed: list[str]):
        self.vault, self.revealed = vault, revealed

    def decrypt_value(self, value, source=None) -> Secret:
        secret = self.vault.decrypt_value(value, source)
        if secret.reveal() not in self.revealed:
            self.revealed.append(secret.reveal())
        return secret


class HostFailed(Exception):
    """The host cannot go on with this play (a failed task without ignore_errors)."""


class AgentHostView:
    """The read-only `HostView` a module plans against, backed by the host's agent.

    Stats and reads are answered from the host run's `Observations` when it has them (fetched ahead, or
    seen earlier in the play while nothing was changed), else asked of the agent and remembered.
    """

    def __init__(self, agent: Agent | None, facts: dict, templar: Templar, search: list[Path], check: bool,
                 diff: bool, cache: Observations | None = None, become_user: str | None = None):
        self.agent, self.facts, self.templar, self.search = agent, facts, templar, search
        self.check_mode, self.diff_mode = check, diff
        self.cache, self.become_user = cache, become_user

    def stat(self, path: str, checksum: bool = False, follow: bool = False) -> dict:
        return self._observe({"op": "stat", "path": path, "checksum": checksum, "follow": follow})

    def read(self, path: str) -> bytes | None:
        answer = self._observe({"op": "read", "path": path})
        return base64.b64decode(answer["content_b64"]) if answer.get("exists") else None

    def query(self, cmd, shell: bool = False) -> dict:
        return self.agent.call("run", cmd=cmd, shell=shell, locale_c=True)

    def _observe(self, request: dict) -> dict:
        answer = self.cache.get(self.become_user, request) if self.cache is not None else None
        if answer is None:
            answer = self._ask(request)
        if not answer.get("ok"):
            raise AgentError(answer.get("kind", "error"), answer.get("error", "unknown error"))
        return answer["result"]

    def _ask(self, request: dict) -> dict:
        args = {k: v for k, v in request.items() if k != "op"}
        try:
            answer = {"ok": True, "result": self.agent.call(request["op"], **args)}
        except AgentError as exc:
            answer = {"ok": False, "kind": exc.kind, "error": str(exc)}
        if self.cache is not None:
            self.cache.put(self.become_user, request, answer)
        return answer

    def local_file(self, path: str, kind: str = "files") -> bytes:
        candidates = self._candidates(path, kind)
        for candidate in candidates:
            if candidate.is_file():
                return candidate.read_bytes()
        raise ModuleArgError(f"could not find {kind} file {path!r} (looked in "
                             f"{', '.join(str(c.parent) for c in candidates)})")

    def local_stat(self, path: str, kind: str = "files") -> dict:
        """Mode of a control-machine file (for `mode: preserve`)."""
        import os

        for candidate in self._candidates(path, kind):
            if candidate.is_file():
                return {"exists": True, "mode": "%04o" % (os.stat(candidate).st_mode & 0o7777)}
        raise ModuleArgError(f"could not find {kind} file {path!r}")

    def _candidates(self, path: str, kind: str) -> list[Path]:
        if Path(path).is_absolute():
            return [Path(path)]
        return [folder / sub / path for folder in self.search for sub in (kind, "")]

    def render(self, text: str) -> str:
        """A template file's text rendered as text (never a native value), trailing newlines kept."""
        return self.templar.render_text(text)


class SpeculativeView(AgentHostView):
    """The view of a plan made ahead of the run: known observations, or `Miss` to have them fetched."""

    def _ask(self, request: dict) -> dict:
        raise Miss(request)

    def query(self, cmd, shell: bool = False) -> dict:
        raise NotAhead()


def _facts_dict(parsed: system.SystemFacts, service_mgr: str | None) -> dict:
    facts = {k: v for k, v in parsed.as_dict().items() if k != "missing"}
    facts["service_mgr"] = service_mgr
    facts["nodename"] = facts.get("hostname")
    return facts


class HostRun:
    """One host's way through one play."""

    def __init__(self, runner: "PlaybookRunner", play: Play, session: HostSession, hostvars: dict):
        self.runner, self.play, self.session = runner, play, session
        self.host = session.spec.name
        self.inventory_vars = hostvars
        self.facts: dict = runner.facts_cache.get(self.host, {})
        self.host_level: dict = runner.host_level_vars.setdefault(self.host, {})  # set_fact, register
        self.results: list[TaskResult] = []
        self.notified: list[str] = []
        self.observed = Observations()  # valid until a task changes the host

    # --- variables ---------------------------------------------------------------------------------
    def variables(self, task: Task | None = None, extra: dict | None = None) -> ChainMap:
        facts_flat = {f"ansible_{k}": v for k, v in self.facts.items()}
        layers = [self.runner.options.extra_vars, extra or {}, task.vars if task else {}, self.host_level,
                  self.runner.play_vars(self.play), {"ansible_facts": self.facts, **facts_flat},
                  self.inventory_vars, {"playbook_dir": str(self.runner.playbook.folder),
                                        "ansible_check_mode": self.runner.options.check}]
        return ChainMap(*layers)

    def templar(self, task: Task | None = None, extra: dict | None = None) -> Templar:
        return Templar(self.variables(task, extra), search_paths=self.runner.template_paths,
                       vault=self.runner.vault)

    # --- running -----------------------------------------------------------------------------------
    def run(self) -> list[TaskResult]:
        try:
            windows = winps.is_windows_host(self.inventory_vars)
            if self.play.gather_facts and not windows and self.host not in self.runner.facts_cache:
                self._gather_facts()
            if not windows:
                self._fetch_ahead()
            for index, task in enumerate(self.play.tasks):
                if self.runner.selected(task, self.play):
                    self._record(self._run_task(task, index))
            for index, handler in enumerate(self.play.handlers, start=len(self.play.tasks)):
                if handler.name in self.notified or any(n in self.notified for n in handler.listen):
                    self._record(self._run_task(handler, index, handler=True))
        except HostFailed:
            pass
        except HostUnavailable as exc:
            self.results.append(TaskResult(self._current or "connect", self.host, UNREACHABLE, msg=str(exc)))
        return self.results

    _current: str | None = None

    def _record(self, result: TaskResult) -> None:
        self.results.append(result)
        if result.status == FAILED and not result.ignored:
            raise HostFailed()

    def _gather_facts(self) -> None:
        self._current = "Gathering Facts"
        agent = self.runner.agent(self.session, None)
        script = system.POSIX_SCRIPT + 'test -d /run/systemd/system && echo service_mgr=systemd || echo service_mgr=sysvinit\n'
        answer = agent.call("run", cmd=script, shell=True, locale_c=True)
        service_mgr = "systemd" if "service_mgr=systemd" in answer["stdout"] else "sysvinit"
        self.facts = mark_unsafe(_facts_dict(system.parse_posix(answer["stdout"]), service_mgr))
        self.runner.facts_cache[self.host] = self.facts
        self.results.append(TaskResult("Gathering Facts", self.host, OK, where=self.play.path))

    def _fetch_ahead(self) -> None:
        """One batch for the files the play's tasks will look at (see `prefetch`)."""
        tasks = [t for t in self.play.tasks if t.loop is None and t.module not in registry.ACTIONS
                 and self.runner.selected(t, self.play)]
        fetch_ahead(tasks, self._speculate, self._batch, self.observed)

    def _speculate(self, task: Task):
        module = registry.load(task.module)
        templar = self.templar(task)
        params = validate(module.spec, strip_omit(templar.render_tainted(task.args)[0]))
        check = self.runner.options.check if task.check_mode is None else task.check_mode
        diff = self.runner.options.diff if task.diff is None else task.diff
        become_user = self._become_user(task)
        if become_user is not None and (self.host, become_user) not in self.runner.agents:
            # never start a sudo agent just to look ahead: the task may be skipped, sudo may need a password
            raise NotAhead()
        view = SpeculativeView(None, self.facts, templar, self.runner.search_paths, check, diff,
                               self.observed, become_user)
        return become_user, lambda: module.plan(params, view)

    def _batch(self, become_user: str | None, requests: list[dict]) -> list[dict]:
        return self.runner.agent(self.session, become_user).batch(requests, stop_on_error=False)

    def _run_task(self, task: Task, index: int, handler: bool = False) -> TaskResult:
        self._current = task.title
        base = TaskResult(self._title(task), self.host, OK, sop=task.sop, where=task.where, handler=handler,
                          index=index)
        try:
            if task.loop is None:
                outcome = self._one(task, {})
                return self._finish(task, base, outcome, None)
            items = self.templar(task).render(task.loop)
            if not isinstance(items, list):
                raise TemplateError(f"loop must be a list, got {type(items).__name__}")
            outcomes = [self._one(task, {task.loop_var: item}) for item in items]
            return self._finish_loop(task, base, outcomes)
        except TemplateError as exc:
            return self._failed(task, base, f"task {task.title!r} ({task.where}) on {self.host}: {exc}")
        except (ModuleArgError, InputError) as exc:
            return self._failed(task, base, str(exc))

    def _title(self, task: Task) -> str:
        if task.name and ("{{" in task.name):
            try:
                return str(Templar(self.variables(task)).render(task.name))
            except TemplateError:
                return task.name
        return task.title

    def _failed(self, task: Task, base: TaskResult, msg: str) -> TaskResult:
        base.status, base.msg, base.ignored = FAILED, msg, task.ignore_errors
        return base

    def _one(self, task: Task, loop_vars: dict) -> dict:
        """Run the task once (one loop item): returns the module's result dict with status flags."""
        templar = self.templar(task, loop_vars)
        if task.when is not None and not templar.is_true(task.when):
            return {"skipped": True, "changed": False, "skip_reason": "Conditional result was False", **loop_vars}
        check = self.runner.options.check if task.check_mode is None else task.check_mode
        diff = self.runner.options.diff if task.diff is None else task.diff
        if task.module in registry.ACTIONS:
            result = actions.run(task.module, task.args, templar, self)
        else:
            result = self._module(task, templar, check, diff)
        result = self._conditions(task, templar, result, loop_vars)
        return {**result, **loop_vars} if loop_vars else result

    def _module(self, task: Task, templar: Templar, check: bool, diff: bool) -> dict:
        module = registry.load(task.module)
        raw, tainted = templar.render_tainted(task.args)
        params = validate(module.spec, strip_omit(raw))
        windows = winps.is_windows_host(self.inventory_vars)
        refusal = winps.refuse(task.module, windows)
        if refusal:
            return {"failed": True, "changed": False, "msg": refusal}
        if windows:  # no agent on Windows: each observation and action is one PowerShell run
            result = winps.run_module(module, params, self.session, self.facts, check, diff)
            return {**result, "_secret": True} if tainted else result
        become_user = self._become_user(task)
        agent = self.runner.agent(self.session, become_user)
        view = AgentHostView(agent, self.facts, templar, self.runner.search_paths, check, diff,
                             self.observed, become_user)
        try:
            plan: Plan = module.plan(params, view)
        except AgentError as exc:
            return {"failed": True, "changed": False, "msg": f"{task.module}: {exc}"}
        if plan.actions and not check:
            self.observed.clear()  # the host is about to change: what was seen no longer holds
        result = apply_plan(plan, agent.batch, check, diff)
        if tainted:  # a vault secret went into the arguments: hide this task's output like no_log
            result["_secret"] = True
        return result

    def _become_user(self, task: Task) -> str | None:
        become = self.play.become if task.become is None else task.become
        if not become:
            return None
        user = task.become_user or self.play.become_user or "root"
        return None if user == self.session.spec.user else user

    def _conditions(self, task: Task, templar: Templar, result: dict, loop_vars: dict) -> dict:
        if result.get("skipped") or (task.changed_when is None and task.failed_when is None):
            return result
        scope = {task.register: result} if task.register else {}
        judge = Templar(ChainMap(scope, dict(result), templar.variables))
        if task.changed_when is not None:
            result["changed"] = bool(judge.is_true(task.changed_when))
        if task.failed_when is not None:
            result["failed"] = bool(judge.is_true(task.failed_when))
        return result

    # --- results -----------------------------------------------------------------------------------
    def _finish(self, task: Task, base: TaskResult, result: dict, _items) -> TaskResult:
        self._register(task, result)
        base.changed = bool(result.get("changed")) and not result.get("skipped")
        base.status = SKIPPED if result.get("skipped") else FAILED if result.get("failed") else (
            CHANGED if base.changed else OK)
        base.ignored = base.status == FAILED and task.ignore_errors
        base.msg = result.get("msg") or result.get("skip_reason")
        base.diff = list(result.get("_diff", []))
        hidden = task.no_log or result.get("_secret") or any(r.get("_secret") for r in result.get("results", []))
        base.result = self.runner.public(task, result, hidden)
        if task.module == "debug" and not result.get("skipped"):
            base.show = {k: v for k, v in base.result.items() if k not in ("changed", "failed")}
        if hidden:
            base.msg, base.diff = NO_LOG_MESSAGE, []
        if base.changed and task.notify:
            self.notified.extend(task.notify)
        return base

    def _finish_loop(self, task: Task, base: TaskResult, outcomes: list[dict]) -> TaskResult:
        combined = {"results": outcomes, "changed": any(o.get("changed") for o in outcomes),
                    "failed": any(o.get("failed") for o in outcomes),
                    "skipped": bool(outcomes) and all(o.get("skipped") for o in outcomes),
                    "msg": "All items completed" if outcomes else "No items in the list"}
        if combined["failed"]:
            combined["msg"] = "One or more items failed"
        result = self._finish(task, base, combined, outcomes)
        hidden = base.msg == NO_LOG_MESSAGE
        result.items = [self.runner.public(task, o, hidden) for o in outcomes]
        result.diff = [] if hidden else [d for o in outcomes for d in o.get("_diff", [])]
        return result

    def _register(self, task: Task, result: dict) -> None:
        """Registered results are data from the host: marked unsafe, so a `{{` in them is never run."""
        if task.register:
            self.host_level[task.register] = mark_unsafe({k: v for k, v in result.items() if k != "_diff"})


class PlaybookRunner:
    """Runs a playbook's plays over a fleet; the same connections and agents serve every play."""

    def __init__(self, playbook: Playbook, inventory, fleet: Fleet, options: RunOptions,
                 secrets: list[str] | None = None, vault=None, keeper=None):
        self.playbook, self.inventory, self.fleet, self.options = playbook, inventory, fleet, options
        self.search_paths = [playbook.folder]
        self.template_paths = [playbook.folder / "templates", playbook.folder]
        self.facts_cache: dict[str, dict] = {}
        self.host_level_vars: dict[str, dict] = {}
        self.agents: dict[tuple[str, str | None], Agent] = {}
        self.secrets = [s for s in (secrets or []) if s]
        self.vault = RecordingVault(vault, self.secrets) if vault is not None else None
        self._play_vars: dict[int, dict] = {}
        self.keeper = keeper  # a KeeperLink: agents leased from kept connections (`--persist`)
        self.warnings: list[str] = []

    def play_vars(self, play: Play) -> dict:
        key = id(play)
        if key not in self._play_vars:
            merged = dict(play.vars)
            for name in play.vars_files:
                merged.update(_vars_file(self.playbook.folder / name))
            self._play_vars[key] = merged
        return self._play_vars[key]

    def agent(self, session: HostSession, become_user: str | None) -> Agent:
        key = (session.spec.name, become_user)
        if key not in self.agents:
            hostvars = self.inventory.host_vars(session.spec.name)
            interpreter = str(hostvars.get("ansible_python_interpreter") or "python3")
            password = self.secret(hostvars.get("ansible_become_password")) if become_user else None
            self.agents[key] = self._start_agent(session, interpreter, become_user, password)
        return self.agents[key]

    def _start_agent(self, session: HostSession, interpreter: str, become_user: str | None,
                     password: Secret | None) -> Agent:
        if self.keeper is not None:
            try:
                return self.keeper.lease(session, session.accept_new_host_keys, interpreter, become_user,
                                         password)
            except KeeperError as exc:  # the run goes on with its own connections; the CLI says why
                self.keeper = None
                self.warnings.append(f"connection keeper not used: {exc}")
        return Agent.start(session, interpreter, become_user, password)

    def secret(self, value) -> Secret | None:
        """A become password or other secret from inventory: a `!vault` value is decrypted here."""
        if value is None or value == "":
            return None
        if isinstance(value, VaultValue):
            if self.vault is None:
                raise InputError("a !vault value is used but no vault password was given "
                                 "(--vault-password-file or SOPCTL_VAULT_PASSWORD_FILE)")
            value = self.vault.decrypt_value(value)
        secret = value if isinstance(value, Secret) else Secret(str(value))
        if secret.reveal() not in self.secrets:
            self.secrets.append(secret.reveal())
        return secret

    def selected(self, task: Task, play: Play) -> bool:
        tags = set(task.tags) | set(play.tags)
        wanted, skipped = set(self.options.tags), set(self.options.skip_tags)
        if tags & skipped:
            return False
        if "never" in tags and not (tags & wanted):
            return False
        if wanted and "all" not in wanted:
            return bool(tags & wanted) or "always" in tags
        return True

    def public(self, task: Task, result: dict, hidden: bool = False) -> dict:
        """A result fit to print or store: no_log censored, secret values replaced by ***."""
        if hidden or task.no_log:
            return {"censored": NO_LOG_MESSAGE, "changed": result.get("changed", False)}
        clean = {k: v for k, v in result.items() if k not in ("_diff", "_secret")}
        return _scrub(clean, self.secrets) if self.secrets else clean

    def run(self) -> RunReport:
        recap = Recap()
        plays = []
        gone: set[str] = set()
        for play in self.playbook.plays:
            hosts = [h.name for h in self.inventory.select(play.hosts) if h.name in self.fleet.sessions
                     and h.name not in gone]
            play_result = PlayResult(play.name)
            outcomes = self.fleet.map_some(hosts, lambda s, p=play: HostRun(
                self, p, s, self.inventory.host_vars(s.spec.name)).run(), label=play.name)
            for outcome in outcomes:
                results = outcome.value if outcome.ok else [
                    TaskResult("connect", outcome.host, UNREACHABLE if outcome.status != "failed" else FAILED,
                               msg=outcome.error)]
                for result in results:
                    recap.count(result)
                    if result.status in (UNREACHABLE,) or (result.status == FAILED and not result.ignored):
                        gone.add(result.host)
                play_result.results.extend(results)
            plays.append(play_result)
        return RunReport(plays, recap)

    def close(self) -> None:
        for agent in self.agents.values():
            agent.close()


def _vars_file(path: Path) -> dict:
    from ..yamlsrc import load_yaml

    data = load_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError("a vars file must be a mapping", str(path), getattr(data, "line", 1))
    return dict(data)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value


__all__ = ["PlaybookRunner", "RunOptions", "RunReport", "SopctlError"]
