"""service and systemd: plans on systemd and on sysv init scripts, and the finish that reads the commands.

Cases live in cases/system/service/*.yml. systemctl is not running on the machine the fixtures were
recorded on, so every `systemctl show` answer is HAND-WRITTEN from the documented format (systemctl(1):
Property=value lines; unit states from systemd.unit(5)); the sysv outputs marked "@file" are real
recordings (`service ssh status`, `service nosuchsvc status`, `ls /etc/rc2.d/` on Debian 12).
"""

from __future__ import annotations


import pytest

from sopctl.modules import service
from sopctl.modules.base import ModuleArgError, validate

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost

try:
    from caselib import check_plan, load
except ImportError:  # pragma: no cover
    from tests.unit.modules.caselib import check_plan, load


# --- cases --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", load("service"))
def test_service_case(case):
    check_plan(service.MODULES[case.get("module", "service")], case)


def test_registry_names():
    assert service.MODULE.spec.name == "service" and service.SYSTEMD.spec.name == "systemd"
    assert service.MODULES == {"service": service.MODULE, "systemd": service.SYSTEMD}


def test_service_on_systemd_ignores_sysv_only_options():
    """Ansible's action plugin drops pattern/sleep/arguments on systemd: so does the plan."""
    host = FakeHost(facts={"service_mgr": "systemd"}, queries={
        "systemctl show ssh -p ActiveState -p SubState -p UnitFileState -p LoadState --no-pager":
            {"stdout": "LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n"}})
    params = validate(service.SERVICE_SPEC, {"name": "ssh", "state": "restarted", "sleep": 3, "args": "-x"})
    plan = service.MODULE.plan(params, host)
    assert [a["cmd"] for a in plan.actions] == [["systemctl", "restart", "ssh"]]


def test_use_forces_the_backend_without_asking():
    host = FakeHost(queries={"service ssh status": {"rc": 3}})
    plan = service.MODULE.plan(validate(service.SERVICE_SPEC, {"name": "ssh", "state": "started",
                                                               "use": "sysvinit"}), host)
    assert [a["cmd"] for a in plan.actions] == [["service", "ssh", "start"]]


def test_finish_reads_the_agent_envelope_and_plain_results_alike():
    host = FakeHost(facts={"service_mgr": "sysvinit"}, queries={"service ssh status": {"rc": 0}})
    plan = service.MODULE.plan(validate(service.SERVICE_SPEC, {"name": "ssh", "state": "stopped"}), host)
    failed = {"rc": 1, "stdout": "", "stderr": "Permission denied\n"}
    assert plan.finish([failed], {})["msg"] == "Permission denied"
    assert plan.finish([{"ok": True, "result": failed}], {})["msg"] == "Permission denied"
    assert "failed" not in plan.finish([{"ok": True, "result": {"rc": 0, "stdout": "", "stderr": ""}}], {})
    assert plan.finish([], {})["failed"]  # the executor never ran it


@pytest.mark.parametrize("spec, raw, message", [
    (service.SERVICE_SPEC, {"name": "ssh"}, "service: one of these options is required: state, enabled"),
    (service.SERVICE_SPEC, {"name": "ssh", "state": "running"}, "service: option 'state': 'running' is not one of"),
    (service.SERVICE_SPEC, {"name": "ssh", "state": "started", "masked": True},
     "service: unsupported option(s) masked"),
    (service.SYSTEMD_SPEC, {"name": "ssh", "scope": "session"}, "systemd: option 'scope': 'session' is not one of"),
    (service.SYSTEMD_SPEC, {"name": "ssh", "pattern": "sshd"}, "systemd: unsupported option(s) pattern"),
])
def test_bad_options(spec, raw, message):
    with pytest.raises(ModuleArgError) as err:
        validate(spec, raw)
    assert str(err.value).startswith(message)
