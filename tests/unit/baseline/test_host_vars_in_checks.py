"""Host variables in checks (docs/baseline-linux.md, "Host variables in checks"): a command probe's `env`
and a number expectation may be templates of the host's inventory variables, rendered for each host by
the runner; a command probe may declare exit codes meaning "not applicable" (na_rc) and "could not tell"
(error_rc). Also the service probe's process fallback, which counts only this host's processes."""

from __future__ import annotations

import pytest

from sopctl.compliance.probes import SERVICE_SCRIPT, command_text, linux_operations
from sopctl.compliance.runner import RecordedExecutor, check_host
from sopctl.errors import InputError
from tests.unit.checks.util import make_check, make_checks

SCRIPT = 'echo "$SOPCTL_PORTS"'


def _ports_check(**expect):
    return make_check({"command": SCRIPT, "env": {"SOPCTL_PORTS": "{{ allowed | default([22]) }}",
                                                  "SOPCTL_LAB": "{{ sopctl_lab | default(false) }}"}},
                      expect or {"regex": "22"}, id="ports")


def _display(env_text: str) -> str:
    return env_text + SCRIPT


def test_env_is_rendered_per_host_and_shown_in_the_command():
    check = _ports_check()
    executor = RecordedExecutor(per_host={
        "a": {_display("export SOPCTL_PORTS='22 80' SOPCTL_LAB=true\n"): "22 80\n"},
        "b": {_display("export SOPCTL_PORTS=22 SOPCTL_LAB=false\n"): "22\n"},
    })
    (a,) = check_host([check], ("a", {"allowed": [22, 80], "sopctl_lab": True}, {}, ()), executor)
    (b,) = check_host([check], ("b", {}, {}, ()), executor)
    assert (a.status, a.observed) == ("pass", "22 80")
    assert a.command == "export SOPCTL_PORTS='22 80' SOPCTL_LAB=true\necho \"$SOPCTL_PORTS\""
    assert (b.status, b.observed) == ("pass", "22")


def test_host_name_groups_and_facts_are_variables_too():
    check = make_check({"command": "true", "env": {"N": "{{ inventory_hostname }}:{{ group_names | join(',') }}:"
                                                        "{{ ansible_facts.distribution }}"}},
                       {"present": True}, id="names")
    executor = RecordedExecutor(answers={"export N=srv-01:servers:Debian\ntrue": ""})
    (result,) = check_host([check], ("srv-01", {}, {"distribution": "Debian"}, ("servers",)), executor)
    assert result.status == "pass"


def test_an_undefined_variable_is_that_checks_error_naming_it():
    good = make_check({"file": "/etc/passwd"}, {"present": True}, id="good")
    bad = make_check({"command": "true", "env": {"X": "{{ no_such_var }}"}}, {"present": True}, id="bad")
    executor = RecordedExecutor(answers={"stat -L /etc/passwd": {"mode": "0644"}})
    results = {r.check_id: r for r in check_host([good, bad], ("h", {}, {}, ()), executor)}
    assert results["good"].status == "pass"
    assert results["bad"].status == "error"
    assert "no_such_var" in results["bad"].reason and "env X" in results["bad"].reason
    assert [op.display for _, ops in executor.batches for op in ops] == ["stat -L /etc/passwd"]


def test_a_templated_threshold_is_a_number_per_host():
    check = make_check({"command": "echo 5"}, {"le": "{{ max_tries | default(4) }}"}, id="tries")
    executor = RecordedExecutor(answers={"echo 5": "5\n"})
    (strict,) = check_host([check], ("a", {}, {}, ()), executor)
    (loose,) = check_host([check], ("b", {"max_tries": 6}, {}, ()), executor)
    assert (strict.status, strict.expected, strict.reason) == ("fail", "<= 4", "5 is not <= 4")
    assert (loose.status, loose.expected) == ("pass", "<= 6")
    (wrong,) = check_host([check], ("c", {"max_tries": "many"}, {}, ()), executor)
    assert wrong.status == "error" and "'many'" in wrong.reason and "not a number" in wrong.reason


def test_an_out_of_scope_check_keeps_its_template_as_expected_text():
    check = make_check({"command": "echo 5"}, {"age_days": "{{ days | default(2) }}"},
                       applies_to={"os": ["linux"], "groups": ["servers"]}, id="scoped")
    (result,) = check_host([check], ("pc", {}, {}, ("pcs",)), RecordedExecutor())
    assert result.status == "na"
    assert result.expected == "at most {{ days | default(2) }} days old"


@pytest.mark.parametrize("rc, status, observed", [(99, "na", "(not applicable)"), (90, "error", "(error) no log here"),
                                                  (0, "pass", "fine"), (3, "fail", "no log here\nmore detail")])
def test_declared_exit_codes_mean_not_applicable_or_could_not_tell(rc, status, observed):
    check = make_check({"command": "probe", "na_rc": 99, "error_rc": 90}, {"equals": "fine"}, id="codes")
    stdout = "fine\n" if rc == 0 else "no log here\nmore detail\n"
    (result,) = check_host([check], ("h", {}, {}, ()), RecordedExecutor(answers={"probe": (rc, stdout, "")}))
    assert (result.status, result.observed) == (status, observed)
    if status == "na":
        assert result.reason == "not applicable: no log here"
        assert "more detail" in result.output


def test_command_text_without_env_is_the_command_itself():
    (check,) = make_checks({"probe": {"command": "uptime"}, "expect": {"present": True}})
    assert command_text(check.probe).text == "uptime"
    assert linux_operations(check.probe)[0].request["locale_c"] is True


@pytest.mark.parametrize("probe, message", [
    ({"command": "x", "env": {"lower": "1"}}, "not a usable environment variable name"),
    ({"command": "x", "env": {"PATH": "/tmp"}}, "not a usable environment variable name"),
    ({"command": "x", "env": {"A": ["list"]}}, "must be text"),
    ({"command": "x", "env": {"A": "{{ broken"}}, "bad template"),
    ({"file": "/etc/x", "env": {"A": "1"}}, "does not apply to a file probe"),
    ({"command": "x", "na_rc": 127}, "must be an exit code from 1 to 125"),
    ({"command": "x", "na_rc": 0}, "must be an exit code from 1 to 125"),
    ({"command": "x", "na_rc": 5, "error_rc": 5}, "must differ from na_rc"),
    ({"command": "x", "field": "rc", "na_rc": 5}, "field rc observes the exit code itself"),
])
def test_the_loader_refuses_mistakes(probe, message):
    with pytest.raises(InputError) as caught:
        make_check(probe, {"present": True})
    assert message in str(caught.value)


def test_a_broken_threshold_template_is_refused_at_load_time():
    with pytest.raises(InputError) as caught:
        make_check({"command": "x"}, {"le": "{{ max | default(4) "})
    assert "bad template" in str(caught.value)


def test_service_fallback_counts_only_processes_of_this_host():
    # a lab host (or a chroot, a container) sees every process of the machine in /proc: only those with
    # the same root directory as the probe are this host's
    assert 'stat -L -c %d:%i "/proc/$q/root/"' in SERVICE_SCRIPT
    assert "pidof \"$p\"" not in SERVICE_SCRIPT.replace('pidof "$1"', "")
