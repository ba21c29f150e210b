"""copy: content/src/remote_src, directory destinations, checksum comparison, force, attributes, diff,
failures and option errors, through FakeHost."""

import hashlib
import json

import pytest

from sopctl.modules.base import ModuleArgError, validate
from sopctl.modules.copy import MODULE
from sopctl.modules.files_common import decode_write

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost


def plan(host, **raw):
    return MODULE.plan(validate(MODULE.spec, raw), host)


def fstat(mode="0644", kind="file", owner="root", group="root", uid=0, gid=0, **extra):
    return {"exists": True, "type": kind, "mode": mode, "uid": uid, "gid": gid, "owner": owner, "group": group,
            "size": 0, "mtime": 0.0, **extra}


ETC = {"/etc": fstat(kind="directory", mode="0755")}


def host_with(files=None, stats=None, **kw):
    return FakeHost(files=dict(files or {}), stats={**ETC, **(stats or {})}, **kw)


# --- content ---------------------------------------------------------------------------------------

def test_content_to_a_new_file():
    result = plan(host_with(), content="hello\n", dest="/etc/motd")
    assert len(result.actions) == 1
    write = result.actions[0]
    assert write["op"] == "write" and write["path"] == "/etc/motd" and decode_write(write) == b"hello\n"
    assert (write["mode"], write["owner"], write["group"], write["backup"]) == (None, None, None, False)
    assert result.result == {"dest": "/etc/motd", "checksum": hashlib.sha1(b"hello\n").hexdigest(),
                             "md5sum": hashlib.md5(b"hello\n").hexdigest(), "size": 6, "state": "file"}
    assert result.diff == []  # no diff asked


def test_same_content_is_no_change_and_the_file_is_not_read():
    host = host_with({"/etc/motd": b"hello\n"}, diff_mode=True)
    result = plan(host, content="hello\n", dest="/etc/motd")
    assert result.actions == [] and result.is_changed is False
    assert ("read", "/etc/motd") not in host.asked


def test_different_content_is_written_with_backup_and_diff():
    host = host_with({"/etc/motd": b"old\n"}, diff_mode=True)
    result = plan(host, content="new\n", dest="/etc/motd", backup=True)
    write = result.actions[0]
    assert decode_write(write) == b"new\n" and write["backup"] is True
    assert result.diff == [{"before": "old\n", "after": "new\n", "before_header": "/etc/motd",
                            "after_header": "/etc/motd"}]
    finished = result.finish([{"ok": True, "result": {"backup_file": "/etc/motd.1.x~"}}], dict(result.result))
    assert finished["backup_file"] == "/etc/motd.1.x~"


def test_content_as_mapping_is_json():
    result = plan(host_with(), content={"a": [1, 2]}, dest="/etc/app.json")
    assert json.loads(decode_write(result.actions[0])) == {"a": [1, 2]}


def test_empty_content_is_allowed():
    result = plan(host_with(), content="", dest="/etc/empty")
    assert decode_write(result.actions[0]) == b""


@pytest.mark.parametrize("dest, stats", [("/etc/", {}), ("/etc", {})])
def test_content_with_a_directory_dest_fails(dest, stats):
    result = plan(host_with(stats=stats), content="x", dest=dest)
    assert result.failed and result.msg == "can not use content with a dir as dest"


def test_missing_destination_folder_fails():
    result = plan(FakeHost(), content="x", dest="/opt/app/x.conf")
    assert result.failed and result.msg == "Destination directory /opt/app does not exist"


def test_force_false_leaves_an_existing_file():
    result = plan(host_with({"/etc/motd": b"old\n"}), content="new\n", dest="/etc/motd", force=False)
    assert result.actions == [] and result.is_changed is False
    assert "msg" not in result.result


def test_force_false_still_creates_a_missing_file():
    result = plan(host_with(), content="new\n", dest="/etc/motd", force=False)
    assert decode_write(result.actions[0]) == b"new\n"


# --- attributes ------------------------------------------------------------------------------------

def test_only_attributes_change():
    host = host_with({"/etc/motd": b"x"}, {"/etc/motd": fstat(mode="0644")}, diff_mode=True)
    result = plan(host, content="x", dest="/etc/motd", mode="0600", owner="root", group="adm")
    assert result.actions == [{"op": "attrs", "path": "/etc/motd", "mode": 0o600, "owner": None, "group": "adm",
                               "recurse": False, "follow": True}]
    assert result.diff == [{"before": {"mode": "0644", "group": "root"}, "after": {"mode": "0600", "group": "adm"},
                            "before_header": "/etc/motd", "after_header": "/etc/motd"}]


def test_new_file_gets_the_asked_attributes_in_the_write():
    result = plan(host_with(), content="x", dest="/etc/secret", mode="u=rw,go=", owner="app", group="1000")
    write = result.actions[0]
    assert (write["mode"], write["owner"], write["group"]) == (0o600, "app", "1000")


def test_content_and_attributes_in_one_write():
    host = host_with({"/etc/motd": b"old"}, {"/etc/motd": fstat(mode="0600")})
    result = plan(host, content="new", dest="/etc/motd", mode=0o644)
    assert len(result.actions) == 1 and result.actions[0]["mode"] == 0o644


def test_mode_preserve_with_content_keeps_the_default():
    host = host_with({"/etc/motd": b"x"}, {"/etc/motd": fstat(mode="0600")})
    assert plan(host, content="x", dest="/etc/motd", mode="preserve").actions == []


def test_bad_mode_is_an_option_error():
    with pytest.raises(ModuleArgError, match="mode 'rwx'"):
        plan(host_with(), content="x", dest="/etc/x", mode="rwx")


# --- src from the control machine -------------------------------------------------------------------

def test_src_into_an_existing_directory():
    host = host_with(stats={"/usr/local/share/ca": fstat(kind="directory", mode="0755")},
                     local={("files", "certs/office-ca.crt"): b"CERT"})
    result = plan(host, src="certs/office-ca.crt", dest="/usr/local/share/ca")
    write = result.actions[0]
    assert write["path"] == "/usr/local/share/ca/office-ca.crt" and decode_write(write) == b"CERT"
    assert result.result["dest"] == "/usr/local/share/ca/office-ca.crt"
    assert result.result["src"] == "certs/office-ca.crt"


def test_src_into_a_missing_directory_with_trailing_slash_creates_it():
    host = host_with(local={("files", "ca.crt"): b"CERT"})
    result = plan(host, src="ca.crt", dest="/etc/ssl/office/", directory_mode="0750")
    assert result.actions[0] == {"op": "mkdir", "path": "/etc/ssl/office", "mode": 0o750, "owner": None,
                                 "group": None}
    assert result.actions[1]["path"] == "/etc/ssl/office/ca.crt"


def test_src_unchanged_is_no_change():
    host = host_with({"/etc/ca.crt": b"CERT"}, local={("files", "ca.crt"): b"CERT"})
    assert plan(host, src="ca.crt", dest="/etc/ca.crt").actions == []


def test_src_diff_names_the_source():
    host = host_with({"/etc/ca.crt": b"OLD\n"}, local={("files", "ca.crt"): b"NEW\n"}, diff_mode=True)
    result = plan(host, src="ca.crt", dest="/etc/ca.crt")
    assert result.diff == [{"before": "OLD\n", "after": "NEW\n", "before_header": "/etc/ca.crt",
                            "after_header": "ca.crt"}]


def test_binary_diff_is_not_shown():
    host = host_with({"/etc/blob": b"\x00old"}, local={("files", "blob"): b"\x00new"}, diff_mode=True)
    diff = plan(host, src="blob", dest="/etc/blob").diff[0]
    assert diff["dst_binary"] == 1 and diff["src_binary"] == 1
    assert "before" not in diff and "after" not in diff


def test_large_diff_is_not_shown():
    big = b"x" * 200000
    host = host_with({"/etc/big": b"old"}, {"/etc/big": fstat(size=200000)}, local={("files", "big"): big},
                     diff_mode=True)
    diff = plan(host, src="big", dest="/etc/big").diff[0]
    assert diff["dst_larger"] == 104448 and diff["src_larger"] == 104448
    assert ("read", "/etc/big") not in host.asked


def test_directory_src_is_not_supported():
    with pytest.raises(ModuleArgError, match="directory src is not supported yet"):
        plan(host_with(), src="conf.d/", dest="/etc/")


def test_mode_preserve_with_local_src_needs_local_stat():
    host = host_with(local={("files", "run.sh"): b"#!/bin/sh\n"})
    with pytest.raises(ModuleArgError, match="mode=preserve"):
        plan(host, src="run.sh", dest="/etc/run.sh", mode="preserve")


def test_mode_preserve_with_local_src_uses_local_stat_when_the_executor_has_it():
    class Host(FakeHost):
        def local_stat(self, path, kind="files"):
            return {"exists": True, "type": "file", "mode": "0755"}

    host = Host(stats=dict(ETC), local={("files", "run.sh"): b"#!/bin/sh\n"})
    assert plan(host, src="run.sh", dest="/etc/run.sh", mode="preserve").actions[0]["mode"] == 0o755


def test_expected_checksum():
    host = host_with(local={("files", "f"): b"data"})
    result = plan(host, src="f", dest="/etc/f", checksum="0" * 40)
    assert result.failed and result.msg == "Copied file does not match the expected checksum. Transfer failed."
    ok = plan(host, src="f", dest="/etc/f", checksum=hashlib.sha1(b"data").hexdigest())
    assert not ok.failed and ok.actions


# --- remote_src ------------------------------------------------------------------------------------

def test_remote_src_same_checksum_reads_nothing():
    host = host_with({"/etc/a.conf": b"same", "/root/a.conf": b"same"}, {"/root": fstat(kind="directory")})
    result = plan(host, src="/etc/a.conf", dest="/root/a.conf", remote_src=True)
    assert result.actions == []
    assert not [q for q in host.asked if q[0] == "read"]


def test_remote_src_different_is_read_and_written_with_its_mode():
    host = host_with({"/etc/a.conf": b"new", "/root/a.conf": b"old"},
                     {"/etc/a.conf": fstat(mode="0600"), "/root": fstat(kind="directory")})
    result = plan(host, src="/etc/a.conf", dest="/root/a.conf", remote_src=True)
    write = result.actions[0]
    assert decode_write(write) == b"new" and write["mode"] == 0o600  # Ansible copies the source's mode
    assert result.result["checksum"] == hashlib.sha1(b"new").hexdigest()


def test_remote_src_missing():
    result = plan(host_with(), src="/etc/none", dest="/etc/x", remote_src=True)
    assert result.failed and result.msg == "Source /etc/none not found"


def test_remote_src_directory_is_not_supported():
    with pytest.raises(ModuleArgError, match="directory src"):
        plan(host_with(), src="/etc", dest="/root/etc", remote_src=True)


def test_remote_src_force_false():
    host = host_with({"/etc/a": b"1", "/etc/b": b"2"})
    result = plan(host, src="/etc/a", dest="/etc/b", remote_src=True, force=False)
    assert result.actions == [] and result.result["msg"] == "file already exists"


def test_remote_src_mode_preserve():
    host = host_with({"/etc/a": b"1"}, {"/etc/a": fstat(mode="0640")})
    result = plan(host, src="/etc/a", dest="/etc/b", remote_src=True, mode="preserve")
    assert result.actions[0]["mode"] == 0o640


# --- symlinked dest --------------------------------------------------------------------------------

def test_follow_writes_the_link_target():
    host = host_with({"/srv/real": b"old"}, {"/etc/link": fstat(kind="link", link_target="/srv/real")})
    result = plan(host, content="new", dest="/etc/link", follow=True)
    assert result.actions[0]["path"] == "/srv/real"
    assert result.result["dest"] == "/srv/real"


def test_without_follow_the_link_is_replaced_by_a_file():
    host = host_with({"/srv/real": b"new"}, {"/etc/link": fstat(kind="link", link_target="/srv/real")})
    result = plan(host, content="new", dest="/etc/link", mode="0644")
    write = result.actions[0]
    assert write["path"] == "/etc/link" and write["mode"] == 0o644


# --- options ---------------------------------------------------------------------------------------

def test_src_or_content_is_required():
    with pytest.raises(ModuleArgError, match="one of these options is required: src, content"):
        plan(host_with(), dest="/etc/x")


def test_src_and_content_are_exclusive():
    with pytest.raises(ModuleArgError, match="mutually exclusive"):
        plan(host_with(), src="a", content="b", dest="/etc/x")


def test_validate_is_rejected():
    with pytest.raises(ModuleArgError, match="validate is not supported"):
        plan(host_with(), content="x", dest="/etc/sudoers.d/x", validate="visudo -cf %s")


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(ModuleArgError) as err:
        plan(host_with(), content="x", dest="/etc/x", destination="/x")
    assert "unsupported option(s) destination" in str(err.value) and "remote_src" in str(err.value)


def test_spec_documents_every_option():
    for name in MODULE.spec.options:
        assert f"  {name} (" in MODULE.spec.doc or f", {name} (" in MODULE.spec.doc, name
