"""group: groups added, changed and removed through the shadow tools.

Cases live in cases/system/group/cases.yml; "@file" values are real recordings on Debian 12 (getent group,
groupadd's error), LC_ALL=C.
"""

from __future__ import annotations


import pytest

from sopctl.modules import group
from sopctl.modules.base import ModuleArgError, validate

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    pass

try:
    from caselib import check_plan, load
except ImportError:  # pragma: no cover
    from tests.unit.modules.caselib import check_plan, load


# --- cases --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", load("group"))
def test_group_case(case):
    check_plan(group.MODULE, case)


@pytest.mark.parametrize("raw, message", [
    ({"name": "docker", "members": ["alice"]}, "group: unsupported option(s) members"),
    ({"name": "docker", "non_unique": True}, "group: non_unique is True but missing: gid"),
    ({"name": "docker", "gid": "x"}, "group: option 'gid': 'x' is not a valid int"),
])
def test_bad_options(raw, message):
    with pytest.raises(ModuleArgError) as err:
        validate(group.SPEC, raw)
    assert str(err.value).startswith(message)
