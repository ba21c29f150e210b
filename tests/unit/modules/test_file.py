"""file: each state's plan from the current stat (Ansible's rules and messages), recurse, links, times,
failures and option errors, through FakeHost."""

import pytest

from sopctl.modules.base import ModuleArgError, render_diff, validate
from sopctl.modules.file import MODULE

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost

FIND = "find -P {} -mindepth 1 -printf %y %m %U %G %u %g %p\\0"


def plan(host, **raw):
    return MODULE.plan(validate(MODULE.spec, raw), host)


def fstat(mode="0644", kind="file", owner="root", group="root", uid=0, gid=0, **extra):
    return {"exists": True, "type": kind, "mode": mode, "uid": uid, "gid": gid, "owner": owner, "group": group,
            "size": 0, "mtime": 0.0, **extra}


def dstat(mode="0755", **kw):
    return fstat(mode=mode, kind="directory", **kw)


def lstat(target, **kw):
    return fstat(mode="0777", kind="link", link_target=target, **kw)


# --- state=file ------------------------------------------------------------------------------------

def test_state_file_on_a_missing_path_fails():
    result = plan(FakeHost(), path="/etc/none", state="file")
    assert result.failed and result.msg == "file (/etc/none) is absent, cannot continue"


def test_default_state_of_a_missing_path_is_file():
    result = plan(FakeHost(), path="/etc/none", mode="0644")
    assert result.failed and result.msg == "file (/etc/none) is absent, cannot continue"


def test_state_file_sets_attributes():
    host = FakeHost(files={"/etc/x": b""}, stats={"/etc/x": fstat(mode="0644")})
    result = plan(host, path="/etc/x", state="file", mode="0600", owner="root", group="adm")
    assert result.actions == [{"op": "attrs", "path": "/etc/x", "mode": 0o600, "owner": None, "group": "adm",
                               "recurse": False, "follow": True}]
    assert result.diff == [{"before": {"path": "/etc/x", "mode": "0644", "group": "root"},
                            "after": {"path": "/etc/x", "mode": "0600", "group": "adm"},
                            "before_header": "/etc/x", "after_header": "/etc/x"}]
    assert result.result["mode"] == "0600" and result.result["group"] == "adm" and result.result["uid"] == 0
    assert "+mode: 0600" in render_diff(result.diff[0])


def test_state_file_already_right():
    host = FakeHost(files={"/etc/x": b""})
    result = plan(host, path="/etc/x", mode="0644", owner="0")
    assert result.actions == [] and result.is_changed is False
    assert result.result == {"path": "/etc/x", "state": "file", "mode": "0644", "owner": "root", "uid": 0,
                             "group": "root", "gid": 0}


def test_state_file_on_a_directory_fails():
    result = plan(FakeHost(stats={"/etc": dstat()}), path="/etc", state="file")
    assert result.failed and result.msg == "file (/etc) is directory, cannot continue"


def test_state_file_follows_a_link():
    host = FakeHost(files={"/srv/real": b""}, stats={"/etc/l": lstat("/srv/real")})
    result = plan(host, path="/etc/l", state="file", mode="0600")
    assert result.actions[0]["path"] == "/srv/real"


def test_state_file_on_a_link_without_follow_fails():
    result = plan(FakeHost(stats={"/etc/l": lstat("/srv/real")}), path="/etc/l", state="file", follow=False)
    assert result.failed and result.msg == "file (/etc/l) is link, cannot continue"


def test_modification_time_now():
    host = FakeHost(files={"/etc/x": b""})
    result = plan(host, path="/etc/x", state="file", modification_time="now")
    assert result.actions == [{"op": "run", "cmd": ["touch", "-c", "-m", "--", "/etc/x"], "shell": False}]
    done = result.finish([{"ok": True, "result": {"rc": 1, "stderr": "denied"}}], dict(result.result))
    assert done["failed"] is True


def test_explicit_timestamps_are_not_supported():
    with pytest.raises(ModuleArgError, match="access_time='202401010000.00' is not supported"):
        plan(FakeHost(files={"/etc/x": b""}), path="/etc/x", access_time="202401010000.00")


# --- state=directory -------------------------------------------------------------------------------

def test_directory_is_created_with_parents_and_attributes():
    result = plan(FakeHost(), path="/srv/rekaman/2024", state="directory", mode="0750", owner="panitera")
    assert result.actions == [{"op": "mkdir", "path": "/srv/rekaman/2024", "mode": 0o750, "owner": "panitera",
                               "group": None}]
    assert result.diff[0]["before"] == {"path": "/srv/rekaman/2024", "state": "absent", "mode": None,
                                        "owner": None}
    assert result.diff[0]["after"] == {"path": "/srv/rekaman/2024", "state": "directory", "mode": "0750",
                                       "owner": "panitera"}


def test_directory_created_with_symbolic_mode_starts_from_0755():
    result = plan(FakeHost(), path="/srv/x", state="directory", mode="g+w")
    assert result.actions[0]["mode"] == 0o775


def test_directory_exists_and_is_right():
    assert plan(FakeHost(stats={"/srv": dstat()}), path="/srv", state="directory", mode="0755").actions == []


def test_directory_default_state_is_the_current_type():
    result = plan(FakeHost(stats={"/srv": dstat()}), path="/srv", mode="u=rwx,go=")
    assert result.actions[0]["mode"] == 0o700 and result.result["state"] == "directory"


def test_directory_over_a_file_fails():
    result = plan(FakeHost(files={"/srv": b""}), path="/srv", state="directory")
    assert result.failed and result.msg == "/srv already exists as a file"


def test_directory_follows_a_link():
    host = FakeHost(stats={"/srv": lstat("/data/srv"), "/data/srv": dstat()})
    result = plan(host, path="/srv", state="directory", mode="0700")
    assert result.actions[0]["path"] == "/data/srv"


def test_recurse_numeric_mode_with_mismatches_is_one_recursive_action():
    out = "f 644 0 0 root root /srv/a\0d 755 0 0 root root /srv/d\0f 600 0 0 root root /srv/d/x y\0"
    host = FakeHost(stats={"/srv": dstat()}, queries={FIND.format("/srv"): {"stdout": out}})
    result = plan(host, path="/srv", state="directory", recurse=True, mode="0755", owner="root")
    assert result.actions == [{"op": "attrs", "path": "/srv", "mode": 0o755, "owner": "root", "group": None,
                               "recurse": True, "follow": False}]


def test_recurse_with_everything_right_is_no_change():
    out = "f 644 0 0 root root /srv/a\0l 777 0 0 root root /srv/l\0"
    host = FakeHost(stats={"/srv": dstat(mode="0644")}, queries={FIND.format("/srv"): {"stdout": out}})
    assert plan(host, path="/srv", state="directory", recurse=True, mode="0644", group="0").actions == []


def test_recurse_symbolic_mode_sets_each_entry():
    out = "f 600 0 0 root root /srv/a\0d 700 0 0 root root /srv/d\0f 640 0 0 root root /srv/ok\0" \
          "f 700 33 0 www-data root /srv/run.sh\0"
    host = FakeHost(stats={"/srv": dstat(mode="0750")}, queries={FIND.format("/srv"): {"stdout": out}})
    result = plan(host, path="/srv", state="directory", recurse=True, mode="u=rwX,g=rX,o=", owner="root")
    assert result.actions == [
        {"op": "attrs", "path": "/srv/a", "mode": 0o640, "owner": None, "group": None, "recurse": False,
         "follow": False},
        {"op": "attrs", "path": "/srv/d", "mode": 0o750, "owner": None, "group": None, "recurse": False,
         "follow": False},
        {"op": "attrs", "path": "/srv/run.sh", "mode": 0o750, "owner": "root", "group": None, "recurse": False,
         "follow": False},
    ]


def test_recurse_listing_failure():
    host = FakeHost(stats={"/srv": dstat()}, queries={FIND.format("/srv"): {"rc": 1, "stderr": "Permission denied"}})
    result = plan(host, path="/srv", state="directory", recurse=True, owner="app")
    assert result.failed and result.msg == "could not list /srv: Permission denied"


def test_recurse_without_attributes_asks_nothing():
    host = FakeHost(stats={"/srv": dstat()})
    assert plan(host, path="/srv", state="directory", recurse=True).actions == []
    assert not [q for q in host.asked if q[0] == "query"]


def test_recurse_requires_state_directory():
    result = plan(FakeHost(files={"/x": b""}), path="/x", state="file", recurse=True)
    assert result.failed and result.msg == "recurse option requires state to be 'directory'"


def test_recurse_on_a_missing_path_defaults_to_directory():
    result = plan(FakeHost(), path="/srv/new", recurse=True, mode="0700")
    assert result.actions[0]["op"] == "mkdir"


# --- state=absent ----------------------------------------------------------------------------------

@pytest.mark.parametrize("stats, kind", [({"/srv/x": dstat()}, "directory"), ({"/srv/x": fstat()}, "file"),
                                         ({"/srv/x": lstat("/y")}, "link")])
def test_absent_removes(stats, kind):
    result = plan(FakeHost(stats=stats), path="/srv/x", state="absent")
    assert result.actions == [{"op": "remove", "path": "/srv/x"}]
    assert result.diff[0]["before"] == {"path": "/srv/x", "state": kind}
    assert result.diff[0]["after"] == {"path": "/srv/x", "state": "absent"}
    assert result.result == {"path": "/srv/x", "state": "absent"}


def test_absent_already():
    result = plan(FakeHost(), path="/srv/x", state="absent")
    assert result.actions == [] and result.result == {"path": "/srv/x", "state": "absent"}


# --- state=touch -----------------------------------------------------------------------------------

def test_touch_creates_a_file():
    result = plan(FakeHost(), path="/var/run/app.flag", state="touch", mode="0600")
    assert result.actions == [{"op": "touch", "path": "/var/run/app.flag", "mode": 0o600, "owner": None,
                               "group": None}]
    assert result.result["dest"] == "/var/run/app.flag"


def test_touch_of_an_existing_file_is_always_a_change():
    result = plan(FakeHost(files={"/f": b"x"}), path="/f", state="touch")
    assert result.actions == [{"op": "touch", "path": "/f", "mode": None, "owner": None, "group": None}]
    assert result.is_changed and result.diff[0]["after"]["state"] == "touch"


def test_touch_with_preserved_times_changes_only_attributes():
    host = FakeHost(files={"/f": b"x"})
    assert plan(host, path="/f", state="touch", access_time="preserve", modification_time="preserve").actions == []
    result = plan(host, path="/f", state="touch", access_time="preserve", modification_time="preserve",
                  mode="0600")
    assert [a["op"] for a in result.actions] == ["attrs"]


def test_touch_of_a_directory_uses_touch_c():
    result = plan(FakeHost(stats={"/srv": dstat()}), path="/srv", state="touch", owner="app")
    assert result.actions == [
        {"op": "attrs", "path": "/srv", "mode": None, "owner": "app", "group": None, "recurse": False,
         "follow": True},
        {"op": "run", "cmd": ["touch", "-c", "--", "/srv"], "shell": False},
    ]


def test_touch_follows_a_link_to_its_file():
    host = FakeHost(files={"/srv/real": b""}, stats={"/etc/l": lstat("/srv/real")})
    result = plan(host, path="/etc/l", state="touch")
    assert result.actions == [{"op": "touch", "path": "/srv/real", "mode": None, "owner": None, "group": None}]


# --- state=link ------------------------------------------------------------------------------------

def test_link_is_created():
    host = FakeHost(stats={"/opt/app/releases/2024.06": dstat()})
    result = plan(host, src="/opt/app/releases/2024.06", dest="/opt/app/current", state="link")
    assert result.actions == [{"op": "symlink", "src": "/opt/app/releases/2024.06", "dest": "/opt/app/current",
                               "force": False}]
    assert result.result["dest"] == "/opt/app/current" and result.result["src"] == "/opt/app/releases/2024.06"
    assert result.diff[0]["after"] == {"path": "/opt/app/current", "state": "link"}


def test_relative_link_src_is_checked_from_the_link_folder():
    host = FakeHost(stats={"/opt/app/releases/1": dstat()})
    result = plan(host, src="releases/1", path="/opt/app/current", state="link")
    assert result.actions[0]["src"] == "releases/1"
    assert ("stat", "/opt/app/releases/1") in host.asked


def test_link_to_a_missing_src_needs_force():
    result = plan(FakeHost(), src="/nowhere", path="/etc/l", state="link")
    assert result.failed
    assert result.msg == "src file does not exist, use 'force=yes' if you really want to create the link: /nowhere"
    assert plan(FakeHost(), src="/nowhere", path="/etc/l", state="link", force=True).actions[0]["op"] == "symlink"


def test_existing_link_same_target_is_no_change():
    host = FakeHost(stats={"/etc/l": lstat("/srv/a"), "/srv/a": fstat()})
    assert plan(host, src="/srv/a", path="/etc/l", state="link").actions == []


def test_existing_link_other_target_is_replaced():
    host = FakeHost(stats={"/etc/l": lstat("/srv/old"), "/srv/new": fstat()})
    result = plan(host, src="/srv/new", path="/etc/l", state="link")
    assert result.actions == [{"op": "symlink", "src": "/srv/new", "dest": "/etc/l", "force": True}]
    assert result.diff[0]["before"] == {"path": "/etc/l", "src": "/srv/old"}
    assert result.diff[0]["after"] == {"path": "/etc/l", "src": "/srv/new"}


def test_link_over_a_file_needs_force():
    host = FakeHost(files={"/etc/l": b"x", "/srv/a": b""})
    result = plan(host, src="/srv/a", path="/etc/l", state="link")
    assert result.failed and result.msg == "refusing to convert from file to symlink for /etc/l"
    forced = plan(host, src="/srv/a", path="/etc/l", state="link", force=True)
    assert forced.actions == [{"op": "symlink", "src": "/srv/a", "dest": "/etc/l", "force": True}]


def test_link_over_an_empty_directory_with_force():
    empty = "find /etc/l -mindepth 1 -maxdepth 1 -print -quit"
    host = FakeHost(files={"/srv/a": b""}, stats={"/etc/l": dstat()}, queries={empty: {"stdout": ""}})
    result = plan(host, src="/srv/a", path="/etc/l", state="link", force=True)
    assert result.actions == [{"op": "remove", "path": "/etc/l"},
                              {"op": "symlink", "src": "/srv/a", "dest": "/etc/l", "force": False}]


def test_link_over_a_non_empty_directory_fails():
    empty = "find /etc/l -mindepth 1 -maxdepth 1 -print -quit"
    host = FakeHost(files={"/srv/a": b""}, stats={"/etc/l": dstat()}, queries={empty: {"stdout": "/etc/l/x\n"}})
    result = plan(host, src="/srv/a", path="/etc/l", state="link", force=True)
    assert result.failed and result.msg == "the directory /etc/l is not empty, refusing to convert it"
    refused = plan(host, src="/srv/a", path="/etc/l", state="link")
    assert refused.failed and refused.msg == "refusing to convert from directory to symlink for /etc/l"


def test_new_link_needs_src():
    result = plan(FakeHost(), path="/etc/l", state="link")
    assert result.failed and result.msg == "src is required for creating new symlinks"


def test_link_attributes_go_to_the_target_when_following():
    host = FakeHost(stats={"/etc/l": lstat("/srv/a"), "/srv/a": fstat(mode="0644")})
    result = plan(host, src="/srv/a", path="/etc/l", state="link", mode="0600")
    assert result.actions == [{"op": "attrs", "path": "/etc/l", "mode": 0o600, "owner": None, "group": None,
                               "recurse": False, "follow": True}]


def test_link_attributes_without_follow_set_the_link_owner_only():
    host = FakeHost(stats={"/etc/l": lstat("/srv/a"), "/srv/a": fstat()})
    result = plan(host, src="/srv/a", path="/etc/l", state="link", follow=False, owner="app", mode="0600")
    assert result.actions == [{"op": "attrs", "path": "/etc/l", "mode": None, "owner": "app", "group": None,
                               "recurse": False, "follow": False}]


def test_link_to_a_missing_target_with_attributes_warns():
    result = plan(FakeHost(), src="/nowhere", path="/etc/l", state="link", force=True, mode="0600")
    assert [a["op"] for a in result.actions] == ["symlink"]
    assert "Cannot set fs attributes on a non-existent symlink target" in result.result["warnings"][0]


# --- option errors ---------------------------------------------------------------------------------

def test_src_requires_state_link():
    result = plan(FakeHost(files={"/x": b""}), path="/x", src="/y", state="file")
    assert result.failed and result.msg == "src option requires state to be 'link' or 'hard'"


def test_hard_links_are_not_supported():
    with pytest.raises(ModuleArgError, match="state=hard"):
        plan(FakeHost(files={"/y": b""}), path="/x", src="/y", state="hard")


def test_bad_state_and_unknown_option():
    with pytest.raises(ModuleArgError, match="'dir' is not one of"):
        plan(FakeHost(), path="/x", state="dir")
    with pytest.raises(ModuleArgError) as err:
        plan(FakeHost(), path="/x", state="directory", recursive=True)
    assert "unsupported option(s) recursive" in str(err.value) and "recurse" in str(err.value)


def test_bad_mode():
    with pytest.raises(ModuleArgError, match="mode 'u=rwz'"):
        plan(FakeHost(), path="/x", state="absent", mode="u=rwz")


def test_spec_documents_every_option():
    for name in MODULE.spec.options:
        assert f"  {name} (" in MODULE.spec.doc or f", {name} (" in MODULE.spec.doc, name
