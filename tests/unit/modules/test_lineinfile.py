"""lineinfile: Ansible's exact line semantics (data cases in cases/lineinfile/*.yml), file creation,
attributes, diff, failures and option errors, all through FakeHost."""

from pathlib import Path

import pytest
import yaml

from sopctl.modules.base import ModuleArgError, render_diff, validate
from sopctl.modules.files_common import decode_write
from sopctl.modules.lineinfile import MODULE

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost

CASES = Path(__file__).parent / "cases" / "lineinfile"
PATH = "/etc/app.conf"


def load(name):
    cases = yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["name"]) for case in cases]


def plan(host, **raw):
    return MODULE.plan(validate(MODULE.spec, raw), host)


def writes(result):
    return [a for a in result.actions if a["op"] == "write"]


def fstat(mode="0644", kind="file", owner="root", group="root", uid=0, gid=0, **extra):
    return {"exists": True, "type": kind, "mode": mode, "uid": uid, "gid": gid, "owner": owner, "group": group,
            "size": 0, "mtime": 0.0, **extra}


# --- data-driven content cases ---------------------------------------------------------------------

@pytest.mark.parametrize("case", load("present.yml") + load("absent.yml"))
def test_content_case(case):
    before = case["before"].encode("utf-8")
    host = FakeHost(files={PATH: before})
    result = plan(host, path=PATH, **case["params"])
    assert not result.failed, result.msg
    assert result.result["msg"] == case["msg"]
    if "found" in case:
        assert result.result["found"] == case["found"]
    if case["after"] is None:
        assert result.actions == []
        assert result.is_changed is False
    else:
        assert result.is_changed is True
        assert len(result.actions) == 1
        action = result.actions[0]
        assert action["op"] == "write" and action["path"] == PATH
        assert decode_write(action) == case["after"].encode("utf-8")
        assert (action["mode"], action["owner"], action["group"], action["backup"]) == (None, None, None, False)
        assert result.diff == [{"before": case["before"], "after": case["after"],
                                "before_header": f"{PATH} (content)", "after_header": f"{PATH} (content)"}]


# --- missing file, create --------------------------------------------------------------------------

def test_missing_file_without_create_fails_like_ansible():
    result = plan(FakeHost(), path="/etc/missing.conf", line="x")
    assert result.failed
    assert result.msg == "Destination /etc/missing.conf does not exist !"
    assert result.result["rc"] == 257


def test_create_makes_the_file():
    host = FakeHost(stats={"/etc": fstat(kind="directory", mode="0755")})
    result = plan(host, path="/etc/new.conf", line="key=1", create=True)
    assert result.result["msg"] == "line added"
    assert [a["op"] for a in result.actions] == ["write"]
    assert decode_write(result.actions[0]) == b"key=1\n"
    assert result.actions[0]["backup"] is False
    assert result.diff[0]["before"] == "" and result.diff[0]["after"] == "key=1\n"


def test_create_makes_missing_parent_folders_first():
    result = plan(FakeHost(), path="/opt/app/conf/new.conf", line="x", create=True, mode="0600", owner="app")
    assert result.actions[0] == {"op": "mkdir", "path": "/opt/app/conf", "mode": None, "owner": None, "group": None}
    write = result.actions[1]
    assert (write["path"], write["mode"], write["owner"], write["group"]) == ("/opt/app/conf/new.conf", 0o600, "app",
                                                                               None)
    assert result.result["msg"] == "line added"


def test_create_with_backrefs_and_nothing_to_match_leaves_the_file_missing():
    # Ansible: nothing matches, nothing is inserted, so nothing is written (not even an empty file)
    result = plan(FakeHost(), path="/opt/new/app.conf", regexp="^(a)=", line=r"\1=1", backrefs=True, create=True,
                  mode="0600")
    assert result.actions == [] and result.is_changed is False
    assert result.result["msg"] == ""


def test_absent_on_missing_file():
    result = plan(FakeHost(), path="/etc/missing.conf", regexp="x", state="absent")
    assert result.failed is False and result.actions == []
    assert result.result["msg"] == "file not present"


def test_path_is_a_directory():
    result = plan(FakeHost(stats={"/etc": fstat(kind="directory")}), path="/etc", line="x")
    assert result.failed and result.msg == "Path /etc is a directory !" and result.result["rc"] == 256


# --- symlinks, backup, attributes ------------------------------------------------------------------

def test_symlink_is_followed_and_kept():
    host = FakeHost(files={"/srv/conf/real.conf": b"a\n"},
                    stats={PATH: fstat(kind="link", link_target="../srv/conf/real.conf")})
    result = plan(host, path=PATH, line="b")
    assert result.actions[0]["path"] == "/srv/conf/real.conf"
    assert decode_write(result.actions[0]) == b"a\nb\n"
    assert result.diff[0]["before_header"] == f"{PATH} (content)"


def test_backup_is_asked_from_the_agent_and_returned():
    result = plan(FakeHost(files={PATH: b"a\n"}), path=PATH, line="b", backup=True)
    assert result.actions[0]["backup"] is True
    assert result.result["backup"] == ""
    finished = result.finish([{"ok": True, "result": {"backup_file": PATH + ".123.2024-01-01@00:00:00~"}}],
                             dict(result.result))
    assert finished["backup"] == finished["backup_file"] == PATH + ".123.2024-01-01@00:00:00~"


def test_finish_reports_an_agent_failure():
    result = plan(FakeHost(files={PATH: b"a\n"}), path=PATH, line="b", owner="nobody-here")
    finished = result.finish([{"ok": False, "kind": "no_such_user", "error": "user 'nobody-here' does not exist"}],
                             dict(result.result))
    assert finished["failed"] is True and "nobody-here" in finished["msg"]


def test_content_and_mode_change_in_one_write():
    host = FakeHost(files={PATH: b"a\n"}, stats={PATH: fstat(mode="0644")})
    result = plan(host, path=PATH, line="b", mode="0600", owner="root", group="0")
    assert len(result.actions) == 1
    write = result.actions[0]
    assert (write["mode"], write["owner"], write["group"]) == (0o600, None, None)
    assert decode_write(write) == b"a\nb\n"
    assert result.result["msg"] == "line added and ownership, perms or SE linux context changed"
    assert result.diff[1] == {"before": {"mode": "0644"}, "after": {"mode": "0600"},
                              "before_header": f"{PATH} (file attributes)",
                              "after_header": f"{PATH} (file attributes)"}
    assert "-mode: 0644" in render_diff(result.diff[1]) and "+mode: 0600" in render_diff(result.diff[1])


def test_only_attributes_change():
    host = FakeHost(files={PATH: b"a\n"}, stats={PATH: fstat(mode="0644")})
    result = plan(host, path=PATH, line="a", mode="u=rw,g=,o=", owner="app")
    assert result.actions == [{"op": "attrs", "path": PATH, "mode": 0o600, "owner": "app", "group": None,
                               "recurse": False, "follow": True}]
    assert result.result["msg"] == "ownership, perms or SE linux context changed"
    assert result.diff == [{"before": {"mode": "0644", "owner": "root"}, "after": {"mode": "0600", "owner": "app"},
                            "before_header": f"{PATH} (file attributes)",
                            "after_header": f"{PATH} (file attributes)"}]


def test_attributes_already_right_is_no_change():
    host = FakeHost(files={PATH: b"a\n"}, stats={PATH: fstat(mode="0600", owner="app", uid=1000)})
    result = plan(host, path=PATH, line="a", mode=0o600, owner="1000")
    assert result.actions == [] and result.is_changed is False


def test_state_absent_with_attributes():
    host = FakeHost(files={PATH: b"a\nb\n"}, stats={PATH: fstat(mode="0644")})
    result = plan(host, path=PATH, line="a", state="absent", mode="0640", backup=True)
    write = result.actions[0]
    assert decode_write(write) == b"b\n" and write["mode"] == 0o640 and write["backup"] is True
    assert result.result["msg"] == "1 line(s) removed and ownership, perms or SE linux context changed"
    assert result.result["found"] == 1


# --- failures and option errors --------------------------------------------------------------------

def test_line_is_required_with_state_present():
    result = plan(FakeHost(files={PATH: b""}), path=PATH, regexp="x")
    assert result.failed and result.msg == "line is required with state=present"


def test_backrefs_requires_regexp():
    result = plan(FakeHost(files={PATH: b""}), path=PATH, line="x", backrefs=True)
    assert result.failed and result.msg == "regexp is required with backrefs=true"


def test_state_absent_needs_something_to_match():
    result = plan(FakeHost(files={PATH: b""}), path=PATH, state="absent")
    assert result.failed
    assert result.msg == "one of line, search_string, or regexp is required with state=absent"


def test_empty_regexp_warns_like_ansible():
    result = plan(FakeHost(files={PATH: b"a\nb\n"}), path=PATH, regexp="", line="z")
    assert decode_write(result.actions[0]) == b"a\nz\n"  # the empty regexp matches every line: the last goes
    assert "use '^' to match every line" in result.result["warnings"][0]


def test_invalid_regexp_is_an_option_error():
    with pytest.raises(ModuleArgError, match="regexp '\\(' is not a valid regular expression"):
        plan(FakeHost(files={PATH: b"a\n"}), path=PATH, regexp="(", line="x")


def test_invalid_backreference_is_an_option_error():
    with pytest.raises(ModuleArgError, match="cannot be expanded"):
        plan(FakeHost(files={PATH: b"a\n"}), path=PATH, regexp="^a", line=r"\2", backrefs=True)


def test_validate_is_rejected():
    with pytest.raises(ModuleArgError, match="validate is not supported"):
        plan(FakeHost(files={PATH: b""}), path=PATH, line="x", validate="sshd -t -f %s")


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(ModuleArgError) as err:
        plan(FakeHost(), path=PATH, line="x", lines="y")
    assert "unsupported option(s) lines" in str(err.value)
    assert "insertafter" in str(err.value) and "search_string" in str(err.value)


@pytest.mark.parametrize("raw", [
    {"insertafter": "a", "insertbefore": "b"},
    {"regexp": "a", "search_string": "b"},
    {"backrefs": True, "search_string": "b"},
])
def test_mutually_exclusive_options(raw):
    with pytest.raises(ModuleArgError, match="mutually exclusive"):
        plan(FakeHost(), path=PATH, line="x", **raw)


def test_aliases():
    result = plan(FakeHost(files={PATH: b"k=1\n"}), dest=PATH, regex="^k=", value="k=2")
    assert decode_write(result.actions[0]) == b"k=2\n"


def test_bad_mode_is_an_option_error():
    with pytest.raises(ModuleArgError, match="mode 'rw-r--r--'"):
        plan(FakeHost(files={PATH: b"a\n"}), path=PATH, line="b", mode="rw-r--r--")


def test_spec_documents_every_option():
    for name in MODULE.spec.options:
        assert f"  {name} (" in MODULE.spec.doc or f", {name} (" in MODULE.spec.doc, name
    assert MODULE.spec.check_mode == "full" and MODULE.spec.diff is True
