"""blockinfile: Ansible's block placement (data cases in cases/blockinfile/cases.yml), creation,
attributes, diff, failures and option errors, through FakeHost."""

from pathlib import Path

import pytest
import yaml

from sopctl.modules.base import ModuleArgError, validate
from sopctl.modules.blockinfile import MODULE
from sopctl.modules.files_common import decode_write

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost

CASES = Path(__file__).parent / "cases" / "blockinfile" / "cases.yml"
PATH = "/etc/hosts"
BLOCK = "# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n"


def plan(host, **raw):
    return MODULE.plan(validate(MODULE.spec, raw), host)


def fstat(mode="0644", kind="file", owner="root", group="root", uid=0, gid=0, **extra):
    return {"exists": True, "type": kind, "mode": mode, "uid": uid, "gid": gid, "owner": owner, "group": group,
            "size": 0, "mtime": 0.0, **extra}


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"])
                                  for c in yaml.safe_load(CASES.read_text(encoding="utf-8"))])
def test_content_case(case):
    host = FakeHost(files={PATH: case["before"].encode("utf-8")})
    result = plan(host, path=PATH, **case["params"])
    assert not result.failed, result.msg
    assert result.result["msg"] == case["msg"]
    if case["after"] is None:
        assert result.actions == [] and result.is_changed is False
        return
    assert len(result.actions) == 1
    action = result.actions[0]
    assert action["op"] == "write" and action["path"] == PATH
    assert decode_write(action) == case["after"].encode("utf-8")
    assert (action["mode"], action["owner"], action["group"], action["backup"]) == (None, None, None, False)
    assert result.diff == [{"before": case["before"], "after": case["after"],
                            "before_header": f"{PATH} (content)", "after_header": f"{PATH} (content)"}]


def test_missing_file_without_create_fails():
    result = plan(FakeHost(), path="/etc/none", block="x")
    assert result.failed and result.msg == "Path /etc/none does not exist !" and result.result["rc"] == 257


def test_missing_file_with_state_absent_and_create_is_no_change():
    result = plan(FakeHost(), path="/etc/none", state="absent", create=True)
    assert result.actions == [] and result.result["msg"] == "File /etc/none not present"


def test_create_writes_the_block_and_makes_parents():
    result = plan(FakeHost(), path="/etc/app/extra.conf", block="x", create=True, mode="0640", group="app")
    assert result.actions[0] == {"op": "mkdir", "path": "/etc/app", "mode": None, "owner": None, "group": None}
    write = result.actions[1]
    assert decode_write(write) == BLOCK.encode()
    assert (write["mode"], write["owner"], write["group"], write["backup"]) == (0o640, None, "app", False)
    assert result.result["msg"] == "File created"
    assert result.diff[0]["before"] == ""


def test_create_with_an_empty_block_creates_an_empty_file():
    host = FakeHost(stats={"/etc": fstat(kind="directory")})
    result = plan(host, path="/etc/empty.conf", create=True)
    assert [a["op"] for a in result.actions] == ["write"]
    assert decode_write(result.actions[0]) == b""
    assert result.result["msg"] == "File created"


def test_path_is_a_directory():
    result = plan(FakeHost(stats={"/etc": fstat(kind="directory")}), path="/etc", block="x")
    assert result.failed and result.msg == "Path /etc is a directory !" and result.result["rc"] == 256


def test_symlink_is_followed():
    host = FakeHost(files={"/etc/real_hosts": b"a\n"}, stats={PATH: fstat(kind="link", link_target="real_hosts")})
    result = plan(host, path=PATH, block="x")
    assert result.actions[0]["path"] == "/etc/real_hosts"
    assert decode_write(result.actions[0]) == b"a\n" + BLOCK.encode()


def test_backup_and_finish():
    result = plan(FakeHost(files={PATH: b"a\n"}), path=PATH, block="x", backup=True)
    assert result.actions[0]["backup"] is True
    finished = result.finish([{"ok": True, "result": {"backup_file": "/etc/hosts.1.x~"}}], dict(result.result))
    assert finished["backup_file"] == "/etc/hosts.1.x~"


def test_attributes_only():
    host = FakeHost(files={PATH: b"a\n" + BLOCK.encode()}, stats={PATH: fstat(owner="app", uid=1000)})
    result = plan(host, path=PATH, block="x", owner="root", mode="0644")
    assert result.actions == [{"op": "attrs", "path": PATH, "mode": None, "owner": "root", "group": None,
                               "recurse": False, "follow": True}]
    assert result.result["msg"] == "ownership, perms or SE linux context changed"
    assert result.diff[0]["before"] == {"owner": "app"} and result.diff[0]["after"] == {"owner": "root"}
    assert result.diff[0]["before_header"] == f"{PATH} (file attributes)"


def test_content_and_attributes():
    host = FakeHost(files={PATH: b"a\n"}, stats={PATH: fstat(mode="0600")})
    result = plan(host, path=PATH, block="x", mode="0644")
    assert len(result.actions) == 1 and result.actions[0]["mode"] == 0o644
    assert result.result["msg"] == "Block inserted and ownership, perms or SE linux context changed"
    assert len(result.diff) == 2


def test_marker_is_not_a_regexp_and_backslashes_are_literal():
    host = FakeHost(files={PATH: b"a\n"})
    result = plan(host, path=PATH, block="x", marker=r"## {mark} \1 (managed)")
    assert decode_write(result.actions[0]) == b"a\n## BEGIN \\1 (managed)\nx\n## END \\1 (managed)\n"


def test_validate_is_rejected():
    with pytest.raises(ModuleArgError, match="validate is not supported"):
        plan(FakeHost(files={PATH: b""}), path=PATH, block="x", validate="check %s")


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(ModuleArgError) as err:
        plan(FakeHost(), path=PATH, blok="x")
    assert "unsupported option(s) blok" in str(err.value) and "marker_begin" in str(err.value)


def test_insertafter_and_insertbefore_are_exclusive():
    with pytest.raises(ModuleArgError, match="mutually exclusive"):
        plan(FakeHost(), path=PATH, block="x", insertafter="a", insertbefore="b")


def test_bad_insert_regexp():
    with pytest.raises(ModuleArgError, match="insertafter"):
        plan(FakeHost(files={PATH: b""}), path=PATH, block="x", insertafter="[")


def test_content_alias():
    result = plan(FakeHost(files={PATH: b""}), dest=PATH, content="x")
    assert decode_write(result.actions[0]) == BLOCK.encode()


def test_spec_documents_every_option():
    for name in MODULE.spec.options:
        assert f"  {name} (" in MODULE.spec.doc or f", {name} (" in MODULE.spec.doc, name
