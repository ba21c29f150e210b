"""user: accounts created, changed and removed through the shadow tools, and the password kept secret.

Cases live in cases/system/user/cases.yml; "@file" values are real recordings of the postgres account on
Debian 12 (getent passwd/group/shadow, id -Gn, LC_ALL=C); other accounts are hand-written in that format.
"""

from __future__ import annotations

import json

import pytest

from sopctl.modules import user
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

@pytest.mark.parametrize("case", load("user"))
def test_user_case(case):
    check_plan(user.MODULE, case)


HASH = "$6$sopctltestsalt0$53ZvGUbGZEf5L0Q3NMiQcLJsZVCg9KJLTmptC7FIzPs3Y3zT7XyKMFFnobPg9Wzbf4Y53ga8.iPcDtCmIaNhv/"


@pytest.mark.parametrize("existing", [False, True])
def test_password_never_in_result_diff_or_command_line(existing):
    passwd = "alice:x:1001:1001::/home/alice:/bin/bash\n"
    host = FakeHost(
        queries={"getent passwd alice": {"stdout": passwd} if existing else {"rc": 2},
                 "getent group alice": {"rc": 2},
                 "getent shadow alice": {"stdout": "alice:!:20593:0:99999:7:::\n"}},
        stats={"/home/alice": {"exists": True, "type": "directory"}})
    plan = user.plan(validate(user.SPEC, {"name": "alice", "password": HASH}), host)
    assert any(a.get("stdin") == f"alice:{HASH}\n" for a in plan.actions)  # it does get set ...
    assert all(HASH not in " ".join(a.get("cmd", [])) for a in plan.actions)  # ... but not on a command line
    answers = [{"ok": True, "result": {"rc": 0, "stdout": passwd, "stderr": ""}} for _ in plan.actions]
    finished = plan.finish(answers, dict(plan.result))
    for shown in (plan.result, finished, plan.diff):
        assert HASH not in json.dumps(shown) and "sopctltestsalt0" not in json.dumps(shown)
    assert finished["password"] == "NOT_LOGGING_PASSWORD"
    assert user.SPEC.options["password"].no_log


def test_a_password_that_is_not_a_hash_is_warned_about():
    host = FakeHost(queries={"getent passwd bob": {"rc": 2}, "getent group bob": {"rc": 2}})
    plan = user.plan(validate(user.SPEC, {"name": "bob", "password": "hunter2"}), host)
    assert "appears not to have been hashed" in plan.result["warnings"][0]
    assert "hunter2" not in json.dumps(plan.result)


@pytest.mark.parametrize("password, hashed", [(HASH, True), ("!", True), ("hunter2", False),
                                              ("$6$salt$tooshort", False), ("$y$j9T$abc$" + "a" * 43, True)])
def test_looks_hashed(password, hashed):
    assert user.looks_hashed(password) is hashed


@pytest.mark.parametrize("raw, message", [
    ({"name": "alice", "generate_ssh_key": True}, "user: unsupported option(s) generate_ssh_key"),
    ({"name": "alice", "state": "locked"}, "user: option 'state': 'locked' is not one of"),
    ({"name": "alice", "uid": "abc"}, "user: option 'uid': 'abc' is not a valid int"),
    ({"user": "alice", "name": "bob"}, "user: option 'name' given twice"),
])
def test_bad_options(raw, message):
    with pytest.raises(ModuleArgError) as err:
        validate(user.SPEC, raw)
    assert str(err.value).startswith(message)
