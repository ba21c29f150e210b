"""apt and package: plans made against recorded command outputs, and the finish that reads apt-get's answers.

Cases live in cases/system/apt/*.yml; "@name" values are real outputs recorded on Debian 12 with LC_ALL=C
(cases/system/recorded/README.md says which command made each). The fake host answers only the queries a
case lists, and every query a case lists must be asked, so a fixture can neither be missing nor stale.
"""

from __future__ import annotations


import pytest

from sopctl.modules import apt, package
from sopctl.modules.base import ModuleArgError, validate
from sopctl.modules.pkgfacts import compare_versions, parse_apt_policy, parse_dpkg_status

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost

try:
    import caselib
except ImportError:  # pragma: no cover
    from tests.unit.modules import caselib

RECORDED, load = caselib.RECORDED, caselib.load
DPKG = "dpkg-query -W " + apt.DPKG_FORMAT


def _placeholders(key: str) -> str:
    return key.replace("{DPKG}", DPKG)


def host_for(case: dict):
    return caselib.host_for(case, _placeholders)


def check_plan(module, case: dict):
    return caselib.check_plan(module, case, _placeholders)


# --- cases --------------------------------------------------------------------------------------------

@pytest.fixture
def clock(monkeypatch):
    def set_now(now):
        monkeypatch.setattr(apt, "_clock", lambda: now)
    return set_now


@pytest.mark.parametrize("case", load("apt"))
def test_apt_case(case, clock):
    clock(case.get("now", 1_000_000_000))
    check_plan(apt.MODULE, case)


def test_check_mode_plan_is_the_prediction_and_needs_no_finish():
    """Check mode runs nothing: the plan alone says changed and what would run."""
    case = {"args": {"name": "sl"}, "check_mode": True,
            "queries": {"{DPKG} sl": {"rc": 1, "stderr": "@dpkg-query.sl.stderr.txt"},
                        "apt-cache policy sl": {"stdout": "@apt-cache-policy.sl.txt"}}}
    plan = apt.plan(validate(apt.SPEC, case["args"]), host_for(case))
    assert plan.is_changed and plan.actions[0]["cmd"][-1] == "sl"


def test_force_and_recommends_and_dpkg_options():
    params = validate(apt.SPEC, {"name": "sl", "force": True, "install_recommends": True,
                                 "dpkg_options": "force-confnew", "lock_timeout": 5})
    assert apt._install_command(params, ["sl"]) == [
        "apt-get", "install", "-y", "-q", "-o", "Dpkg::Options::=--force-confnew", "-o", "DPkg::Lock::Timeout=5",
        "-o", "APT::Install-Recommends=yes", "--allow-unauthenticated", "--allow-downgrades", "sl"]


@pytest.mark.parametrize("raw, message", [
    ({"name": "curl", "foo": "bar"}, "apt: unsupported option(s) foo; valid options:"),
    ({"name": "curl", "state": "build-dep"}, "apt: option 'state': 'build-dep' is not one of"),
    ({"name": "curl", "purge": "maybe"}, "apt: option 'purge': 'maybe' is not a boolean"),
    ({"name": "curl", "pkg": "sl"}, "apt: option 'name' given twice (once as 'pkg')"),
])
def test_unknown_or_bad_options_are_errors(raw, message):
    with pytest.raises(ModuleArgError) as err:
        validate(apt.SPEC, raw)
    assert str(err.value).startswith(message)


def test_aliases_and_spellings():
    params = validate(apt.SPEC, {"package": "curl, sl", "update-cache": "yes", "install-recommends": "no"})
    assert params["name"] == ["curl", "sl"] and params["update_cache"] is True
    assert params["install_recommends"] is False


@pytest.mark.parametrize("text", ["*", "a=b=c"])
def test_bad_specs(text):
    with pytest.raises(ValueError):
        apt.parse_wanted(text)


# --- parsers on the recordings ------------------------------------------------------------------

def test_dpkg_status_keeps_absent_apart_from_not_installed():
    states = parse_dpkg_status((RECORDED / "dpkg-query.curl.sl.txt").read_text())
    assert set(states) == {"curl"} and states["curl"].installed
    states = parse_dpkg_status("awk\tunknown ok not-installed\t\nmawk\tinstall ok installed\t1.3.4\n"
                               "telnet\tdeinstall ok config-files\t0.17\nvim\thold ok installed\t9.0\n")
    assert not states["awk"].installed and states["mawk"].installed and states["vim"].installed
    assert states["telnet"].config_files and not states["telnet"].installed


def test_apt_policy_blocks():
    policies = parse_apt_policy((RECORDED / "apt-cache-policy.curl.openssh-server.txt").read_text())
    assert policies["curl"].installed == "7.88.1-10+deb12u14"
    assert policies["curl"].candidate == "7.88.1-10+deb12u15"
    assert policies["curl"].versions == ("7.88.1-10+deb12u15", "7.88.1-10+deb12u14")
    assert policies["openssh-server"].versions == ("1:9.2p1-2+deb12u10",)
    virtual = parse_apt_policy("mail-transport-agent:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n")
    assert virtual["mail-transport-agent"].candidate is None and virtual["mail-transport-agent"].versions == ()


@pytest.mark.parametrize("a, b, expected", [  # checked against dpkg --compare-versions on Debian 12
    ("7.88.1-10+deb12u15", "7.88.1-10+deb12u14", 1), ("1.0~rc1", "1.0", -1), ("1:0.9", "2.0", 1),
    ("1.0", "1.00", 0), ("1.0-1", "1.0-1+b1", -1), ("1.0a", "1.0+", -1), ("1.0~~", "1.0~", -1),
])
def test_debian_version_order(a, b, expected):
    assert compare_versions(a, b) == expected


# --- package -----------------------------------------------------------------------------------

def test_package_on_debian_is_apt():
    case = {"args": {"name": "sl"}, "facts": {"os_family": "Debian"},
            "queries": {"{DPKG} sl": {"rc": 1, "stderr": "@dpkg-query.sl.stderr.txt"},
                        "apt-cache policy sl": {"stdout": "@apt-cache-policy.sl.txt"}}}
    plan = package.plan(validate(package.SPEC, case["args"]), host_for(case))
    assert plan.actions[0]["cmd"][:2] == ["apt-get", "install"] and plan.actions[0]["cmd"][-1] == "sl"


def test_package_absent_with_use_apt_and_no_facts():
    case = {"args": {"name": "curl", "state": "absent", "use": "apt"},
            "queries": {"{DPKG} curl": {"stdout": "curl\tinstall ok installed\t7.88.1-10+deb12u14\n"}}}
    plan = package.plan(validate(package.SPEC, case["args"]), host_for(case))
    assert plan.actions[0]["cmd"][:2] == ["apt-get", "remove"]


@pytest.mark.parametrize("facts, family", [({"os_family": "RedHat"}, "RedHat"), ({}, "unknown")])
def test_package_elsewhere_fails(facts, family):
    plan = package.plan(validate(package.SPEC, {"name": "chrony"}), FakeHost(facts=facts))
    assert plan.failed and plan.msg == f"package: no package manager supported for os_family {family}"


def test_package_rejects_apt_only_options():
    with pytest.raises(ModuleArgError, match="unsupported option"):
        validate(package.SPEC, {"name": "curl", "update_cache": True})
