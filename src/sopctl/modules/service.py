"""service and systemd: start, stop, restart, reload and enable services (Ansible's
`ansible.builtin.service` and `ansible.builtin.systemd`). This file defines both: `MODULE` (service) and
`SYSTEMD` (systemd); `MODULES` maps their names.

service options:

- `name` (str, required): the service (init script or unit) name.
- `state` (str; `started`, `stopped`, `restarted`, `reloaded`): `started`/`stopped` act only when needed;
  `restarted` always bounces the service and `reloaded` always reloads it (starting it when it is not
  running), so both always report a change, as in Ansible.
- `enabled` (bool): start at boot. At least one of `state` and `enabled` is required.
- `pattern` (str): sysv only: decide "running" by this substring in `ps auxww` instead of the status command.
- `sleep` (int): sysv only: with `restarted`, run stop, wait this many seconds, then start.
- `arguments` (str, alias `args`, default ''): sysv only: extra words for the init script (split as a shell
  would; not passed through a shell).
- `runlevel` (str, default `default`): OpenRC only in Ansible; accepted and ignored.
- `use` (str, default `auto`; `auto`, `systemd`, `sysvinit`): the backend; `auto` reads the `service_mgr`
  fact, else asks the host once whether systemd is running (/run/systemd/system) or a `service` command
  exists. On systemd the service module is exactly the systemd module (Ansible's action plugin does the
  same, dropping `pattern`, `sleep`, `arguments`, `runlevel`).

On sysv (Debian /etc/init.d scripts, e.g. the project's lab chroots without systemd): "running" is
`service NAME status` rc 0 (1, 2, 3 and 69 mean not running; 4, or "unrecognized service", is an unknown
service: "Could not find the requested service NAME: host"; any other rc fails the task); when no status is
asked (only `enabled`, or `pattern`), the service exists if /etc/init.d/NAME does. "Enabled" is an S??NAME
link in /etc/rc2.d (`ls /etc/rc2.d/`); commands are `service NAME start|stop|restart|reload` and
`update-rc.d NAME enable|disable` (after `update-rc.d NAME defaults` when rc2.d has no S or K link at all).

systemd options: `name` (aliases `service`, `unit`), `state`, `enabled` as above, and:

- `masked` (bool): mask or unmask the unit (works on units that do not exist yet).
- `daemon_reload` (bool, default false, alias `daemon-reload`): `systemctl daemon-reload` first; not counted
  as a change (as in Ansible). `daemon_reexec` (alias `daemon-reexec`): `systemctl daemon-reexec` likewise.
- `scope` (str, default `system`; `system`, `user`, `global`): `--user`/`--global` for systemctl.
- `no_block` (bool, default false): `--no-block`; `force` (bool): `--force`.
At least one of `state`, `enabled`, `masked`, `daemon_reload`, `daemon_reexec` is required.

On systemd one query observes everything: `systemctl show NAME -p ActiveState -p SubState -p UnitFileState
-p LoadState --no-pager`. LoadState=not-found is an unknown unit (unless `daemon_reload` will run first).
Running = ActiveState active or activating. Enabled = UnitFileState enabled, linked, linked-runtime, static,
transient (Ansible counts `enabled-runtime`, `indirect` and `alias` as not enabled, so enabling them acts);
a `generated` unit (made from an init script) is enabled when /etc/rc2.d has its S link.

Check mode: full (the observation predicts every command). Diff: not supported.

Returns: `name`, `state` (`started` or `stopped`: what was asked, restarted/reloaded read as started),
`enabled`, `status` (systemd: the properties read; sysv: `rc`, `running`, `stdout` of the status command).
A failed command gives `msg` (systemd: "Unable to start service NAME: STDERR"; sysv: the command's
stderr, else stdout).

EXAMPLES:

    - name: SSH server running and enabled at boot
      service:
        name: ssh
        state: started
        enabled: true

    - name: Restart rsyslog
      service:
        name: rsyslog
        state: restarted

    - name: Reload systemd units, then restart the freshly installed one
      systemd:
        name: sopctl-agent
        state: restarted
        daemon_reload: true

    - name: Mask the debug shell
      systemd:
        name: debug-shell.service
        masked: true
"""

from __future__ import annotations

import re
import shlex
from types import SimpleNamespace

from sopctl.modules.base import ModuleSpec, Option, Plan
from sopctl.modules.pkgfacts import outcomes, run

STATES = ("started", "stopped", "restarted", "reloaded")
DETECT_MANAGER = ("test -d /run/systemd/system && echo systemd"
                  " || (command -v service >/dev/null && echo sysv || echo none)")
MANAGER_FACTS = {"systemd": "systemd", "sysvinit": "sysv", "sysv": "sysv", "service": "sysv"}
SHOW_PROPERTIES = ("ActiveState", "SubState", "UnitFileState", "LoadState")
ENABLED_UNIT_STATES = {"enabled", "linked", "linked-runtime", "static", "transient"}
RC_LINKS = "/etc/rc2.d/"
NOT_RUNNING_RCS = {1, 2, 3, 69}

SERVICE_SPEC = ModuleSpec(
    name="service",
    options={
        "name": Option("str", required=True, help="service name"),
        "state": Option("str", choices=STATES, help="started/stopped (when needed), restarted/reloaded (always)"),
        "enabled": Option("bool", help="start at boot"),
        "pattern": Option("str", help="sysv: substring of `ps auxww` that means running"),
        "sleep": Option("int", help="sysv: seconds between stop and start when restarting"),
        "arguments": Option("str", default="", aliases=("args",), help="sysv: extra init script arguments"),
        "runlevel": Option("str", default="default", help="OpenRC runlevel (accepted, ignored)"),
        "use": Option("str", default="auto", choices=("auto", "systemd", "sysvinit"), help="backend"),
    },
    check_mode="full",
    diff=False,
    doc=__doc__,
    required_one_of=(("state", "enabled"),),
)

SYSTEMD_SPEC = ModuleSpec(
    name="systemd",
    options={
        "name": Option("str", aliases=("service", "unit"), help="unit name"),
        "state": Option("str", choices=STATES, help="started/stopped (when needed), restarted/reloaded (always)"),
        "enabled": Option("bool", help="start at boot"),
        "masked": Option("bool", help="mask (true) or unmask (false) the unit"),
        "daemon_reload": Option("bool", default=False, aliases=("daemon-reload",),
                                help="systemctl daemon-reload first"),
        "daemon_reexec": Option("bool", default=False, aliases=("daemon-reexec",),
                                help="systemctl daemon-reexec first"),
        "scope": Option("str", default="system", choices=("system", "user", "global"), help="systemctl scope"),
        "no_block": Option("bool", default=False, help="do not wait for the job (--no-block)"),
        "force": Option("bool", help="--force"),
    },
    check_mode="full",
    diff=False,
    doc=__doc__,
)


def not_found(name: str) -> Plan:
    return Plan(failed=True, msg=f"Could not find the requested service {name}: host")


def parse_show(stdout: str) -> dict[str, str]:
    """`systemctl show -p …` output: one Key=Value a line."""
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def rc_links(host) -> list[str] | Plan:
    """Names in /etc/rc2.d (a missing folder is "no links"); a Plan when it could not be read."""
    answer = host.query(["ls", RC_LINKS])
    if answer["rc"] == 0:
        return answer["stdout"].split()
    if "No such file" in answer.get("stderr", ""):
        return []
    return Plan(failed=True, msg=f"could not read {RC_LINKS}: {answer.get('stderr', '').strip()}")


def has_link(links: list[str], kind: str, name: str) -> bool:
    return any(re.fullmatch(kind + r"\d\d" + re.escape(name), link) for link in links)


def _finish_with(actions: list[dict], messages: list[str | None], forgiven_by: dict[int, int] | None = None):
    """A finish that fails on the first action that failed, with that action's message (`{out}` is its
    output). `forgiven_by` maps an action to a later one whose success excuses its failure: a restart done
    as stop + start succeeds when the start does, even if the service was not running to be stopped."""
    forgiven_by = forgiven_by or {}

    def finish(action_results: list, result: dict) -> dict:
        done = outcomes(action_results, len(actions))
        for index, (got, message) in enumerate(zip(done, messages)):
            if got.ok or message is None:
                continue
            if index in forgiven_by and done[forgiven_by[index]].ok:
                continue
            result.update(failed=True, changed=False, rc=got.rc, msg=message.format(out=got.message))
            break
        return result

    return finish


# --- systemd ------------------------------------------------------------------------------------------

def plan_systemd(params: dict, host) -> Plan:
    name = params.get("name")
    state, enabled, masked = params.get("state"), params.get("enabled"), params.get("masked")
    reload_first, reexec_first = params.get("daemon_reload", False), params.get("daemon_reexec", False)
    if state is None and enabled is None and masked is None and not reload_first and not reexec_first:
        return Plan(failed=True, msg="systemd: one of these options is required: state, enabled, masked, "
                                     "daemon_reload, daemon_reexec")
    if name is None and (state or enabled is not None or masked is not None):
        return Plan(failed=True, msg="systemd: state, enabled and masked need name")
    if name and any(c in name for c in "*?["):
        return Plan(failed=True, msg="This module does not currently support using glob patterns, "
                                     f"found in service name: {name}")
    scope = params.get("scope") or "system"
    systemctl = ["systemctl"] + ([f"--{scope}"] if scope != "system" else [])
    control = systemctl + (["--no-block"] if params.get("no_block") else []) + (
        ["--force"] if params.get("force") else [])

    actions: list[dict] = []
    messages: list[str] = []
    if reload_first:
        actions.append(run(control + ["daemon-reload"]))
        messages.append("failure during daemon-reload: {out}")
    if reexec_first:
        actions.append(run(control + ["daemon-reexec"]))
        messages.append("failure during daemon-reexec: {out}")
    result: dict = {"name": name, "status": {}}
    changes = 0
    if name:
        query = systemctl + ["show", name] + [arg for p in SHOW_PROPERTIES for arg in ("-p", p)] + ["--no-pager"]
        answer = host.query(query)
        if answer["rc"] != 0:
            return Plan(failed=True, msg=f"failure {answer['rc']} running systemctl show for {name!r}: "
                                         f"{answer.get('stderr', '').strip()}")
        status = result["status"] = parse_show(answer["stdout"])
        if "LoadState" not in status or "ActiveState" not in status:
            return Plan(failed=True, msg=f"No ActiveState/LoadState in systemctl show output for {name!r}")
        found = status["LoadState"] != "not-found"
        if status["LoadState"] in ("error", "bad-setting"):
            return Plan(failed=True, msg=f"Error loading unit file {name!r}: LoadState={status['LoadState']}")
        unit_state = status.get("UnitFileState", "")

        if masked is not None and (unit_state == "masked") != masked:
            verb = "mask" if masked else "unmask"
            actions.append(run(control + [verb, name]))
            messages.append(f"Failed to {verb} the service ({name}): {{out}}")
            changes += 1

        if enabled is not None:
            if not found and not reload_first:
                return not_found(name)
            if unit_state == "generated" or (not unit_state and found):
                links = rc_links(host)
                if isinstance(links, Plan):
                    return links
                is_enabled = has_link(links, "S", name.removesuffix(".service"))
            else:
                is_enabled = unit_state in ENABLED_UNIT_STATES
            if is_enabled != enabled or not found:
                verb = "enable" if enabled else "disable"
                actions.append(run(control + [verb, name]))
                messages.append(f"Unable to {verb} service {name}: {{out}}")
                changes += 1
            result["enabled"] = enabled

        if state is not None:
            if not found and not reload_first:
                return not_found(name)
            active = status.get("ActiveState")
            running = active in ("active", "activating")
            verb = None
            if state == "started" and not running:
                verb = "start"
            elif state == "stopped" and (running or active == "deactivating"):
                verb = "stop"
            elif state in ("restarted", "reloaded"):
                verb = state[:-2] if running else "start"
            if verb:
                actions.append(run(control + [verb, name]))
                messages.append(f"Unable to {verb} service {name}: {{out}}")
                changes += 1
            result["state"] = "stopped" if state == "stopped" else "started"

    return Plan(actions=actions, result=result, changed=changes > 0,
                finish=_finish_with(actions, messages) if actions else None)


# --- sysv init scripts --------------------------------------------------------------------------------

def _running_by_pattern(host, pattern: str) -> bool | Plan:
    answer = host.query(["ps", "auxww"])
    if answer["rc"] != 0:
        return Plan(failed=True, msg=f"could not list processes (ps auxww): {answer.get('stderr', '').strip()}")
    return any(pattern in line and "pattern=" not in line for line in answer["stdout"].splitlines())


def _sysv_status(host, name: str, extra: list[str]) -> dict | Plan:
    """`service NAME status`: rc 0 running; 1, 2, 3, 69 not running; 4 or "unrecognized service" unknown."""
    answer = host.query(["service", name, "status"] + extra)
    said = answer.get("stdout", "") + answer.get("stderr", "")
    if answer["rc"] == 4 or "unrecognized service" in said:
        return not_found(name)
    if answer["rc"] != 0 and answer["rc"] not in NOT_RUNNING_RCS:
        return Plan(failed=True, msg=f"failed determining service state of {name} "
                                     f"(service {name} status: rc={answer['rc']}): {said.strip()}")
    return {"rc": answer["rc"], "running": answer["rc"] == 0, "stdout": answer.get("stdout", "").strip()}


def plan_sysv(params: dict, host) -> Plan:
    name, state, enabled, pattern = params["name"], params.get("state"), params.get("enabled"), params.get("pattern")
    try:
        extra = shlex.split(params.get("arguments") or "")
    except ValueError as exc:
        return Plan(failed=True, msg=f"service: arguments: {exc}")
    result: dict = {"name": name}
    if state is not None and not pattern:
        status = _sysv_status(host, name, extra)  # also says whether the service exists
        if isinstance(status, Plan):
            return status
    elif not host.stat(f"/etc/init.d/{name}", follow=True).get("exists"):
        return not_found(name)
    elif state is not None:
        running = _running_by_pattern(host, pattern)
        if isinstance(running, Plan):
            return running
        status = {"running": running, "pattern": pattern}

    actions: list[dict] = []
    messages: list[str | None] = []
    forgiven_by: dict[int, int] = {}
    if enabled is not None:
        links = rc_links(host)
        if isinstance(links, Plan):
            return links
        if enabled and not has_link(links, "S", name):
            if not has_link(links, "K", name):  # never registered: create the links first, as Ansible does
                actions.append(run(["update-rc.d", name, "defaults"]))
                messages.append(f"Error when trying to enable {name}: {{out}}")
            actions.append(run(["update-rc.d", name, "enable"]))
            messages.append(f"Error when trying to enable {name}: {{out}}")
        elif not enabled and has_link(links, "S", name):
            actions.append(run(["update-rc.d", name, "disable"]))
            messages.append(f"Error when trying to disable {name}: {{out}}")
        result["enabled"] = enabled

    if state is not None:
        running = status["running"]
        result["status"] = status
        verbs: list[str] = []
        if state == "started" and not running:
            verbs = ["start"]
        elif state == "stopped" and running:
            verbs = ["stop"]
        elif state == "reloaded":
            verbs = ["reload" if running else "start"]
        elif state == "restarted":
            verbs = ["stop", "sleep", "start"] if params.get("sleep") else ["restart"]
        for verb in verbs:
            if verb == "sleep":
                actions.append(run(["sleep", str(params["sleep"])]))
                messages.append(None)
                continue
            if verb == "stop" and state == "restarted":
                forgiven_by[len(actions)] = len(actions) + 2  # the start after the sleep
            actions.append(run(["service", name, verb] + extra))
            messages.append("{out}")
        result["state"] = "stopped" if state == "stopped" else "started"

    return Plan(actions=actions, result=result,
                finish=_finish_with(actions, messages, forgiven_by) if actions else None)


# --- choosing ---------------------------------------------------------------------------------------

def service_manager(host, use: str = "auto") -> str:
    """`systemd`, `sysv`, `none`, or the unsupported fact value as found."""
    if use != "auto":
        return MANAGER_FACTS.get(use, use)
    fact = (host.facts or {}).get("service_mgr")
    if fact:
        return MANAGER_FACTS.get(fact, fact)
    answer = host.query(DETECT_MANAGER, shell=True)
    return answer.get("stdout", "").strip() or "none"


def plan_service(params: dict, host) -> Plan:
    manager = service_manager(host, params.get("use") or "auto")
    if manager == "systemd":
        return plan_systemd({"name": params["name"], "state": params["state"], "enabled": params["enabled"]}, host)
    if manager == "sysv":
        return plan_sysv(params, host)
    if manager == "none":
        return Plan(failed=True, msg="service: no service manager found on the host (systemd is not running and "
                                     "there is no `service` command)")
    return Plan(failed=True, msg=f"service: service manager {manager!r} is not supported (systemd and sysv are)")


MODULE = SimpleNamespace(spec=SERVICE_SPEC, plan=plan_service)
SYSTEMD = SimpleNamespace(spec=SYSTEMD_SPEC, plan=plan_systemd)
MODULES = {"service": MODULE, "systemd": SYSTEMD}
