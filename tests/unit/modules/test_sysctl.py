"""sysctl: file edits computed in memory, the live value read only when it matters, and the finish.

Cases live in cases/system/sysctl/cases.yml; "@file" values are real recordings from Debian 12 (its stock
/etc/sysctl.conf and `sysctl -n` answers, LC_ALL=C).
"""

from __future__ import annotations

import base64

import pytest

from sopctl.modules import sysctl
from sopctl.modules.base import ModuleArgError, validate

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost

try:
    from caselib import RECORDED, check_plan, load
except ImportError:  # pragma: no cover
    from tests.unit.modules.caselib import RECORDED, check_plan, load


# --- cases --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", load("sysctl"))
def test_sysctl_case(case):
    check_plan(sysctl.MODULE, case)


def test_stock_debian_file_gains_one_line_and_keeps_every_other_byte():
    stock = (RECORDED / "sysctl.conf.debian12.txt").read_text()
    host = FakeHost(files={"/etc/sysctl.conf": stock.encode()},
                    queries={"sysctl -n net.ipv4.ip_forward": {"stdout": "0\n"}})
    plan = sysctl.plan(validate(sysctl.SPEC, {"name": "net.ipv4.ip_forward", "value": "1"}), host)
    written = base64.b64decode(plan.actions[0]["content_b64"]).decode()
    assert written == stock + "net.ipv4.ip_forward=1\n"  # "#net.ipv4.ip_forward=1" stays a comment
    assert plan.actions[1]["cmd"] == ["sysctl", "-p", "/etc/sysctl.conf"]


def test_non_utf8_bytes_survive_the_edit():
    host = FakeHost(files={"/etc/sysctl.conf": b"# caf\xe9\nvm.swappiness=60\n"})
    plan = sysctl.plan(validate(sysctl.SPEC, {"name": "vm.swappiness", "value": "10", "reload": False}), host)
    assert base64.b64decode(plan.actions[0]["content_b64"]) == b"# caf\xe9\nvm.swappiness=10\n"


@pytest.mark.parametrize("given, wanted", [(True, "1"), ("no", "0"), ("On", "1"), (" 4096  87380 ", "4096  87380"),
                                           (None, ""), (5, "5")])
def test_values_as_ansible_reads_them(given, wanted):
    assert sysctl.wanted_value(given) == wanted


@pytest.mark.parametrize("raw, message", [
    ({"name": "vm.swappiness"}, "sysctl: state is 'present' but missing: value"),
    ({"name": "vm.swappiness", "value": "1", "mode": "0644"}, "sysctl: unsupported option(s) mode"),
    ({"key": "vm.swappiness", "val": "1", "state": "on"}, "sysctl: option 'state': 'on' is not one of"),
])
def test_bad_options(raw, message):
    with pytest.raises(ModuleArgError) as err:
        validate(sysctl.SPEC, raw)
    assert str(err.value).startswith(message)
