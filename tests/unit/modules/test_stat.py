"""stat: Ansible's result fields from the agent's stat, links, checksum, never changed."""

import hashlib

import pytest

from sopctl.modules.base import ModuleArgError, validate
from sopctl.modules.stat import MODULE

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost


def plan(host, **raw):
    return MODULE.plan(validate(MODULE.spec, raw), host)


def test_missing_path():
    result = plan(FakeHost(), path="/etc/none")
    assert result.result == {"stat": {"exists": False}}
    assert result.actions == [] and result.is_changed is False


def test_regular_file_fields_and_checksum():
    host = FakeHost(files={"/usr/local/sbin/backup.sh": b"#!/bin/sh\n"},
                    stats={"/usr/local/sbin/backup.sh": {"exists": True, "type": "file", "mode": "4750", "uid": 0,
                                                         "gid": 4, "owner": "root", "group": "adm", "size": 10,
                                                         "mtime": 1700000000.5}})
    result = plan(host, path="/usr/local/sbin/backup.sh")
    stat = result.result["stat"]
    assert stat == {
        "exists": True, "path": "/usr/local/sbin/backup.sh", "mode": "4750",
        "isdir": False, "ischr": False, "isblk": False, "isreg": True, "isfifo": False, "islnk": False,
        "issock": False, "uid": 0, "gid": 4, "size": 10, "mtime": 1700000000.5,
        "wusr": True, "rusr": True, "xusr": True, "wgrp": False, "rgrp": True, "xgrp": True,
        "woth": False, "roth": False, "xoth": False, "isuid": True, "isgid": False,
        "pw_name": "root", "gr_name": "adm", "checksum": hashlib.sha256(b"#!/bin/sh\n").hexdigest(),
    }
    assert result.actions == [] and result.is_changed is False


def test_no_checksum_when_not_asked():
    host = FakeHost(files={"/f": b"x"})
    assert "checksum" not in plan(host, path="/f", get_checksum=False).result["stat"]


def test_directory():
    host = FakeHost(stats={"/srv": {"exists": True, "type": "directory", "mode": "0755", "uid": 0, "gid": 0,
                                    "owner": "root", "group": "root", "size": 4096, "mtime": 0.0}})
    stat = plan(host, path="/srv").result["stat"]
    assert stat["isdir"] is True and stat["isreg"] is False and "checksum" not in stat


def test_symlink_not_followed():
    host = FakeHost(files={"/srv/real.conf": b"x"},
                    stats={"/etc/app.conf": {"exists": True, "type": "link", "mode": "0777", "uid": 0, "gid": 0,
                                             "owner": "root", "group": "root", "size": 17, "mtime": 0.0,
                                             "link_target": "../srv/real.conf"}})
    stat = plan(host, path="/etc/app.conf").result["stat"]
    assert stat["islnk"] is True and stat["isreg"] is False
    assert stat["lnk_target"] == "../srv/real.conf"
    assert stat["lnk_source"] == "/srv/real.conf"
    assert "checksum" not in stat


def test_follow_is_passed_to_the_host():
    calls = []

    class Host(FakeHost):
        def stat(self, path, checksum=False, follow=False):
            calls.append((path, checksum, follow))
            return super().stat(path, checksum, follow)

    plan(Host(files={"/f": b""}), path="/f", follow=True)
    assert calls == [("/f", True, True)]


def test_unnamed_ids_have_no_pw_name():
    host = FakeHost(stats={"/f": {"exists": True, "type": "other", "mode": "0600", "uid": 1234, "gid": 1234,
                                  "owner": "1234", "group": "1234", "size": 0, "mtime": 0.0}})
    stat = plan(host, path="/f").result["stat"]
    assert "pw_name" not in stat and "gr_name" not in stat
    assert stat["isreg"] is False and stat["isdir"] is False


def test_extra_agent_fields_pass_through():
    host = FakeHost(stats={"/f": {"exists": True, "type": "directory", "mode": "0700", "uid": 0, "gid": 0,
                                  "owner": "root", "group": "root", "size": 0, "mtime": 0.0, "inode": 12,
                                  "nlink": 2, "atime": 1.0, "secret": "no"}})
    stat = plan(host, path="/f").result["stat"]
    assert stat["inode"] == 12 and stat["nlink"] == 2 and stat["atime"] == 1.0 and "secret" not in stat


@pytest.mark.parametrize("algorithm", ["sha1", "md5", "sha512"])
def test_only_sha256(algorithm):
    with pytest.raises(ModuleArgError, match=f"checksum_algorithm '{algorithm}' is not supported: only sha256"):
        plan(FakeHost(), path="/f", checksum_algorithm=algorithm)
    # without a checksum, the algorithm does not matter
    assert plan(FakeHost(), path="/f", checksum_algorithm=algorithm, get_checksum=False).failed is False


def test_aliases_and_ignored_options():
    result = plan(FakeHost(files={"/f": b""}), name="/f", checksum_algo="sha256", mime=True, attr=False)
    assert result.result["stat"]["exists"] is True


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(ModuleArgError) as err:
        plan(FakeHost(), path="/f", get_md5=True)
    assert "unsupported option(s) get_md5" in str(err.value) and "get_checksum" in str(err.value)


def test_spec_documents_every_option():
    for name in MODULE.spec.options:
        assert f"  {name} (" in MODULE.spec.doc, name
    assert MODULE.spec.diff is False
