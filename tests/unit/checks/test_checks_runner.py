"""The runner: results of the example checks on a recorded Linux host, scope, output, secrets, executors."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sopctl.compliance import load_catalog
from sopctl.compliance.checks import load_checks
from sopctl.compliance.runner import (
    AgentExecutor,
    CheckResult,
    HostContext,
    RecordedExecutor,
    check_host,
    count_statuses,
    run_checks,
    trim_output,
)
from sopctl.transport.quoting import Secret

from .util import make_check, make_checks

REPO = Path(__file__).resolve().parents[3]
EXAMPLES_FILE = REPO / "tests" / "unit" / "checks" / "data" / "examples.yml"
SSHD_T = (Path(__file__).parent / "data" / "sshd-T-debian12.txt").read_text()
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
EXAMPLES = load_checks(EXAMPLES_FILE, load_catalog(REPO / "checks" / "sop.yml"))
HEALTHY = {"sshd -T": SSHD_T,
           "stat -L /etc/shadow": {"mode": "0640", "owner": "root", "group": "shadow"},
           "stat -L /etc/passwd": {"mode": "0644", "owner": "root", "group": "root"},
           "stat -L /var/run/reboot-required": None}


def test_examples_on_a_healthy_and_a_broken_host():
    broken = {"sshd -T": SSHD_T.replace("permitrootlogin without-password", "permitrootlogin yes"),
              "stat -L /etc/shadow": {"mode": "0644", "owner": "root", "group": "shadow"},
              "stat -L /var/run/reboot-required": {"mode": "0644", "size": 0}}
    executor = RecordedExecutor(HEALTHY, per_host={"pc-02": broken})
    hosts = [("pc-01", {}, {}, ["pcs"]), ("pc-02", {}, {}, ["pcs"])]
    results = run_checks(EXAMPLES, hosts, executor, now=NOW)
    table = {(r.host, r.check_id): r for r in results}
    assert [h for h, _ in executor.batches] == ["pc-01", "pc-02"]  # one batch per host
    assert [r.status for r in results if r.host == "pc-01"] == ["pass"] * 5 + ["na"]
    assert [r.status for r in results if r.host == "pc-02"] == ["fail", "pass", "fail", "pass", "fail", "na"]
    root = table["pc-02", "sshd-permit-root-login"]
    assert root == CheckResult(
        check_id="sshd-permit-root-login", host="pc-02", sop=["C.3"], status="fail", observed="yes",
        expected="one of: no, prohibit-password, without-password", command="sshd -T",
        output="permitrootlogin yes", time="2026-11-24T12:00:00Z", severity="high",
        title="SSH does not let root log in with a password",
        reason="yes is not one of: no, prohibit-password, without-password")
    shadow = table["pc-02", "shadow-permissions"]
    assert (shadow.observed, shadow.reason) == ("mode=0644 owner=root group=shadow",
                                                "mode: 0644 is not one of: 0640, 0600")
    assert shadow.expected == "mode one of: 0640, 0600; owner equals: root; group one of: shadow, root"
    reboot = table["pc-02", "reboot-required"]
    assert (reboot.observed, reboot.expected, reboot.reason) == ("exists", "absent", "present, expected absent")
    assert table["pc-01", "reboot-required"].observed == "(absent)"
    defender = table["pc-01", "defender-status"]
    assert (defender.observed, defender.command, defender.reason) == (
        "(not applicable)", "", "not applicable: host OS linux is not one of: windows")
    assert count_statuses(results) == {"pass": 7, "fail": 3, "error": 0, "na": 2}
    assert set(root.to_dict()) >= {"check_id", "host", "sop", "status", "observed", "expected", "command",
                                   "output", "time", "severity"}


def test_time_is_iso_utc_now_by_default():
    result = check_host(EXAMPLES[:1], ("pc-01", {}, {}, []), RecordedExecutor(HEALTHY))[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result.time)


def test_groups_scope_and_host_context():
    check = make_check({"file": "/etc/shadow", "property": "mode"}, {"equals": "0640"},
                       applies_to={"groups": ["servers"]})
    executor = RecordedExecutor(HEALTHY)
    pc, srv, tagged = run_checks([check], [("pc-01", {}, {}, ["pcs"]), ("srv-01", {}, {}, ["servers"]),
                                           ("db", {"group_names": ["servers"]}, {}, [])], executor, now=NOW)
    assert (pc.status, pc.reason) == ("na", "not applicable: host is in none of the groups: servers")
    assert srv.status == "pass" and tagged.status == "pass"
    assert [h for h, _ in executor.batches] == ["srv-01", "db"]  # nothing is sent for a host out of scope
    assert HostContext.of(("w", {"ansible_shell_type": "powershell"}, None, None)).os == "windows"
    assert HostContext.of(("w", {}, {"os_family": "Windows"}, None)).os == "windows"
    assert HostContext.of(("l", {}, {"os_family": "Debian"}, ["pcs"])).all_groups == {"pcs", "all"}


def test_output_is_trimmed_to_2_kib_with_a_note():
    check = make_check({"command": "dump"}, {"present": True})
    output = "start\n" + "é" * 3000 + "\nE: the error at the end"
    result = check_host([check], ("pc-01", {}, {}, []), RecordedExecutor({"dump": output}), now=NOW)[0]
    assert len(result.output.encode()) < 2048 + 100
    assert result.output.startswith("start\né") and result.output.endswith("é\nE: the error at the end")
    assert "\n… [output trimmed: 2048 of 6030 bytes shown] …\n" in result.output
    assert trim_output("short") == "short"


def test_results_go_into_the_store_as_they_are(tmp_path):
    from sopctl.store import Store

    results = check_host(EXAMPLES, ("pc-01", {}, {}, []), RecordedExecutor(HEALTHY), now=NOW)
    store = Store.open(tmp_path / "sopctl.db")
    try:
        with store.run("audit") as run:
            run.add_results([r.store_fields() for r in results])
            run_id = run.id
        rows = store.results_for_run(run_id)
    finally:
        store.close()
    assert [(r.check_id, r.status, r.sop_ids, r.observed, r.expected, r.command, r.severity) for r in rows] == [
        (r.check_id, r.status, tuple(r.sop), r.observed, r.expected, r.command, r.severity)
        for r in results]


def test_secrets_never_show():
    check = make_check({"command": "mysql -e 'select 1'"}, {"equals": "1"})
    leaky = (1, "", "ERROR 1045: Access denied for user 'root' using password 'Rahasia-2026'\n")
    for hostvars in ({"ansible_password": Secret("Rahasia-2026")}, {"db_password": "Rahasia-2026"}):
        result = check_host([check], ("srv-01", hostvars, {}, []), RecordedExecutor({"mysql -e 'select 1'": leaky}),
                            now=NOW)[0]
        assert "Rahasia-2026" not in repr(result) and "using password '***'" in result.output


def test_a_malformed_answer_is_that_checks_error_only():
    checks = make_checks({"probe": {"command": "a"}, "expect": {"equals": "1"}},
                         {"probe": {"command": "b"}, "expect": {"equals": "2"}})
    results = check_host(checks, ("pc-01", {}, {}, []),
                         RecordedExecutor({"a": {"ok": True, "result": {"nothing": "here"}}, "b": "2"}), now=NOW)
    assert [r.status for r in results] == ["error", "pass"]
    assert results[0].reason.startswith("could not read the agent's answer")


def test_a_short_answer_list_is_every_checks_error():
    class Short:
        def batch(self, host, operations):
            return []

    results = check_host(EXAMPLES[:2], ("pc-01", {}, {}, []), Short(), now=NOW)
    assert [r.reason for r in results] == ["the agent answered 0 of 1 operations"] * 2


def test_an_unrecorded_operation_fails_the_test_loudly():
    with pytest.raises(KeyError, match="no recorded answer for 'sshd -T' on pc-01"):
        check_host(EXAMPLES[:1], ("pc-01", {}, {}, []), RecordedExecutor({}), now=NOW)


def test_agent_executor_sends_one_batch_that_does_not_stop_on_failure():
    class FakeAgent:
        def __init__(self):
            self.sent = []

        def batch(self, ops, stop_on_error=True):
            self.sent.append((ops, stop_on_error))
            return [{"ok": True, "result": {"rc": 0, "stdout": SSHD_T, "stderr": ""}}]

    agent = FakeAgent()
    results = check_host(EXAMPLES[:2], ("pc-01", {}, {}, []), AgentExecutor(agent), now=NOW)
    assert agent.sent == [([{"op": "run", "cmd": "sshd -T", "shell": True, "timeout": 10.0, "locale_c": True}],
                           False)]
    assert [r.status for r in results] == ["pass", "pass"]


def test_run_checks_with_an_executor_per_host():
    executors = {"pc-01": RecordedExecutor(HEALTHY), "pc-02": RecordedExecutor(HEALTHY)}
    results = run_checks(EXAMPLES[:1], [("pc-01", {}, {}, []), ("pc-02", {}, {}, [])], executors, now=NOW)
    assert [r.host for r in results] == ["pc-01", "pc-02"]
    assert all(len(e.batches) == 1 for e in executors.values())
    results = run_checks(EXAMPLES[:1], [HostContext("pc-03")], lambda name: RecordedExecutor(HEALTHY), now=NOW)
    assert results[0].status == "pass"
