"""The case runner shared by the system-module tests (apt, service, sysctl, user, group).

A case is a YAML mapping: `args`, the host's `files`/`stats`/`queries`/`facts`, and what the plan must be
(`actions`, `changed`, `failed`, `msg`, `result`, `diff`, `finish`). "@file" values are recorded outputs
from cases/system/recorded/.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from sopctl.modules.base import validate

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost

CASES = Path(__file__).parent / "cases" / "system"
RECORDED = CASES / "recorded"


def expand(value):
    """"@file" -> that recorded output; lists and mappings expanded all the way down."""
    if isinstance(value, str) and value.startswith("@"):
        return (RECORDED / value[1:]).read_text()
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, dict):
        return {k: expand(v) for k, v in value.items()}
    return value


def load(folder: str) -> list:
    cases = []
    for path in sorted((CASES / folder).glob("*.yml")):
        for case in yaml.safe_load(path.read_text()):
            cases.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return cases


def host_for(case: dict, key=lambda k: k) -> FakeHost:
    """A fake host with the case's files, stats and query answers (`key` rewrites query placeholders)."""
    files = {path: expand(text).encode() for path, text in (case.get("files") or {}).items()}
    queries = {key(k): expand(answer) for k, answer in (case.get("queries") or {}).items()}
    return FakeHost(files=files, stats=case.get("stats") or {}, queries=queries, facts=case.get("facts") or {},
                    check_mode=case.get("check_mode", False))


def shown(action: dict, expected: dict) -> dict:
    """The action as the case writes it: write content decoded, cmd joined when the case gives a string,
    and only the keys the case names."""
    action = dict(action)
    if "content_b64" in action:
        action["content"] = base64.b64decode(action.pop("content_b64")).decode()
    if isinstance(expected.get("cmd"), str):
        action["cmd"] = " ".join(action["cmd"])
    return {k: action.get(k) for k in expected}


def check_plan(module, case: dict, key=lambda k: k):
    host = host_for(case, key)
    plan = module.plan(validate(module.spec, case["args"]), host)
    assert plan.failed == case.get("failed", False), plan.msg
    if "msg" in case:
        assert plan.msg == case["msg"]
    if "actions" in case:
        assert [shown(a, e) for a, e in zip(plan.actions, case["actions"])] == case["actions"]
        assert len(plan.actions) == len(case["actions"]), plan.actions
    if "changed" in case:
        assert plan.is_changed == case["changed"]
    for key, value in expand(case.get("result") or {}).items():
        assert plan.result.get(key) == value, key
    if "diff" in case:
        assert plan.diff == case["diff"]
    asked = {key for kind, key in host.asked if kind == "query"}
    assert asked == set(host.queries), "queries the case gives but the module did not ask"
    if "finish" in case:
        out = plan.finish(expand(case["finish"]["answers"]), {**plan.result, "changed": plan.is_changed})
        for key, value in expand(case["finish"]["result"]).items():
            assert out.get(key) == value, key
    return plan
