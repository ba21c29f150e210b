"""The example checks (tests/unit/checks/data/examples.yml) on the real lab hosts, over real SSH and the real agent.

The expected outcome is not assumed: each host's real state is read first with the plain OpenSSH client
(independent of sopctl), and the checks must agree with it. Then one host is broken through the agent
(/etc/shadow made 0644, `PermitRootLogin yes` put at the top of sshd_config) and exactly those two checks
must fail, on that host only, showing what they saw; the host is restored afterwards.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from sopctl.agent.client import Agent
from sopctl.compliance import load_catalog
from sopctl.compliance.checks import load_checks
from sopctl.compliance.runner import AgentExecutor, check_fleet, check_host
from sopctl.engine.targets import connection_spec
from sopctl.inventory import load_inventory
from sopctl.transport import Fleet, HostSession
from tests.helpers import ssh_run

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_FILE = REPO / "tests" / "unit" / "checks" / "data" / "examples.yml"
EXAMPLES = load_checks(EXAMPLES_FILE, load_catalog(REPO / "checks" / "sop.yml"))
VICTIM = "pc-02"
GOOD_ROOT_LOGIN = {"no", "prohibit-password", "without-password"}


@pytest.fixture(scope="module")
def inventory(lab):
    return load_inventory(lab.inventory)


def _contexts(lab, inventory):
    return [(h.name, inventory.host_vars(h.name), {}, inventory.hosts[h.name].groups) for h in lab.hosts]


def _run_everywhere(lab, inventory, checks=EXAMPLES) -> dict[tuple[str, str], object]:
    specs = [connection_spec(h.name, inventory.host_vars(h.name)) for h in lab.hosts]
    with Fleet(specs) as fleet:
        outcomes = check_fleet(checks, fleet, _contexts(lab, inventory))
    assert all(o.ok for o in outcomes), [(o.host, o.error) for o in outcomes if not o.ok]
    return {(r.host, r.check_id): r for o in outcomes for r in o.value}


def _real_state(lab, host: str) -> dict[str, str]:
    """What the host really has, read with plain `ssh` and standard tools, not with sopctl."""
    out = ssh_run(lab, host, "LC_ALL=C stat -c '%a %U %G' /etc/shadow /etc/passwd; "
                             "LC_ALL=C sshd -T | grep -E '^(permitrootlogin|permitemptypasswords) ' | sort; "
                             "test -e /var/run/reboot-required && echo reboot=yes || echo reboot=no")
    shadow, passwd, empty, root, reboot = out.splitlines()
    return {"shadow": shadow, "passwd": passwd, "root": root.split()[1], "empty": empty.split()[1],
            "reboot": reboot}


def _expected(state: dict[str, str]) -> dict[str, tuple[str, str]]:
    """(status, observed) per example check, decided from the real state by plain Python."""
    mode, owner, group = state["shadow"].split()
    shadow_ok = mode.zfill(4) in ("0640", "0600") and owner == "root" and group in ("shadow", "root")
    p_mode, p_owner, p_group = state["passwd"].split()
    return {
        "sshd-permit-root-login": ("pass" if state["root"] in GOOD_ROOT_LOGIN else "fail", state["root"]),
        "sshd-permit-empty-passwords": ("pass" if state["empty"] == "no" else "fail", state["empty"]),
        "shadow-permissions": ("pass" if shadow_ok else "fail", f"mode={mode.zfill(4)} owner={owner} group={group}"),
        "passwd-permissions": ("pass" if (p_mode, p_owner, p_group) == ("644", "root", "root") else "fail",
                               f"mode={p_mode.zfill(4)} owner={p_owner} group={p_group}"),
        "reboot-required": ("pass", "(absent)") if state["reboot"] == "reboot=no" else ("fail", "exists"),
        "defender-status": ("na", "(not applicable)"),
    }


def test_examples_agree_with_the_real_state_of_every_host(lab, inventory):
    results = _run_everywhere(lab, inventory)
    for host in lab.hosts:
        for check_id, (status, observed) in _expected(_real_state(lab, host.name)).items():
            result = results[host.name, check_id]
            assert (result.status, result.observed) == (status, observed), (host.name, result)
            assert result.host == host.name and result.time.endswith("Z")
    # this lab is a copy of a stock Debian 12 machine: say what that is, so a change is noticed
    first = results[lab.hosts[0].name, "shadow-permissions"]
    assert first.observed == "mode=0640 owner=root group=shadow" and first.status == "pass"
    assert results[lab.hosts[0].name, "sshd-permit-root-login"].observed == "without-password"
    assert results[lab.hosts[0].name, "sshd-permit-root-login"].command == "sshd -T"


def test_breaking_one_host_fails_exactly_those_checks_there(lab, inventory):
    before = _run_everywhere(lab, inventory)
    spec = connection_spec(VICTIM, inventory.host_vars(VICTIM))
    session = HostSession(spec)
    agent = Agent.start(session, "/usr/bin/python3")
    config = agent.call("read", path="/etc/ssh/sshd_config")
    original = base64.b64decode(config["content_b64"])
    shadow_mode = int(agent.call("stat", path="/etc/shadow")["mode"], 8)
    try:
        agent.call("attrs", path="/etc/shadow", mode=0o644)
        broken = b"PermitRootLogin yes\n" + original
        agent.call("write", path="/etc/ssh/sshd_config", content_b64=base64.b64encode(broken).decode())
        after = _run_everywhere(lab, inventory)
    finally:
        agent.call("write", path="/etc/ssh/sshd_config", content_b64=base64.b64encode(original).decode())
        agent.call("attrs", path="/etc/shadow", mode=shadow_mode)
        agent.close()
        session.close()
    changed = {key for key in before if (before[key].status, before[key].observed)
               != (after[key].status, after[key].observed)}
    assert changed == {(VICTIM, "sshd-permit-root-login"), (VICTIM, "shadow-permissions")}
    root = after[VICTIM, "sshd-permit-root-login"]
    assert (root.status, root.observed, root.output) == ("fail", "yes", "permitrootlogin yes")
    assert root.reason == "yes is not one of: no, prohibit-password, without-password"
    shadow = after[VICTIM, "shadow-permissions"]
    assert (shadow.status, shadow.observed) == ("fail", "mode=0644 owner=root group=shadow")
    assert shadow.reason == "mode: 0644 is not one of: 0640, 0600"
    # restored: the host is back to what it was
    assert _real_state(lab, VICTIM)["shadow"].split()[0] == f"{shadow_mode:o}"
    restored = _run_everywhere(lab, inventory)
    assert {k: (r.status, r.observed) for k, r in restored.items()} == \
        {k: (r.status, r.observed) for k, r in before.items()}


def test_one_round_trip_per_host_and_a_probe_that_times_out(lab, inventory, tmp_path):
    (tmp_path / "slow.yml").write_text(
        "checks:\n"
        "  - {id: slow-probe, title: t, sop: [C.5], severity: low, rationale: r, remediation: {text: x},\n"
        "     probe: {command: 'sleep 5', timeout: 1}, expect: {equals: ''}}\n"
        "  - {id: after-the-slow-one, title: t, sop: [C.5], severity: low, rationale: r, remediation: {text: x},\n"
        "     probe: {command: 'echo \"$LC_ALL\"'}, expect: {equals: C}}\n"
        "  - {id: ssh-running, title: t, sop: [C.5], severity: low, rationale: r, remediation: {text: x},\n"
        "     probe: {service: ssh, process: sshd}, expect: {equals: running}}\n"
        "  - {id: openssh-installed, title: t, sop: [C.6], severity: low, rationale: r, remediation: {text: x},\n"
        "     probe: {package: openssh-server}, expect: {regex: '^1:9\\.'}}\n")
    checks = EXAMPLES + load_checks(tmp_path / "slow.yml", None)
    host = lab.hosts[0].name
    session = HostSession(connection_spec(host, inventory.host_vars(host)))
    agent = Agent.start(session, "/usr/bin/python3")
    sent, exchange = [], agent._exchange  # every message to the agent goes through _exchange: count them

    def counting(request):
        sent.append(request)
        return exchange(request)

    agent._exchange = counting
    try:
        results = {r.check_id: r for r in check_host(checks, _contexts(lab, inventory)[0], AgentExecutor(agent))}
    finally:
        agent.close()
        session.close()
    assert [(r["op"], r["stop_on_error"]) for r in sent] == [("batch", False)]  # one round trip
    commands = [op.get("cmd") or op["path"] for op in sent[0]["ops"]]
    assert commands.count("sshd -T") == 1 and len(commands) == 8  # two sshd checks, one sshd -T
    slow = results["slow-probe"]
    assert (slow.status, slow.reason, slow.command) == ("error", "probe timed out after 1s", "sleep 5")
    assert results["after-the-slow-one"].status == "pass"  # the batch went on, under LC_ALL=C
    assert results["ssh-running"].status == "pass"  # no systemd here: found through pidof
    assert results["openssh-installed"].status == "pass"
