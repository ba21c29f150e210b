"""The keeper's pure parts: what makes two leases share a connection, and the spec's trip over the socket."""

from __future__ import annotations

import dataclasses
import os
import socket

import pytest

from sopctl.agent.keeper import _same_user, connection_key, spec_from_json
from sopctl.agent.kept import KeeperError, runtime_dir
from sopctl.transport.quoting import Secret
from sopctl.transport.ssh import ConnectionSpec

SPEC = ConnectionSpec("pc-01", "127.0.1.1", key_file="/k", known_hosts="/kh")


@pytest.mark.parametrize("change", [
    {"address": "127.0.1.2"}, {"port": 2222}, {"user": "admin"}, {"key_file": "/other"},
    {"known_hosts": "/other"}, {"shell": "powershell"}, {"password": Secret("pw")},
])
def test_anything_that_changes_who_or_how_gets_its_own_connection(change):
    assert connection_key(dataclasses.replace(SPEC, **change), False) != connection_key(SPEC, False)


def test_accept_new_is_part_of_the_key_and_the_name_is_not():
    assert connection_key(SPEC, True) != connection_key(SPEC, False)
    assert connection_key(dataclasses.replace(SPEC, name="alias"), False) == connection_key(SPEC, False)


def test_a_password_is_keyed_by_its_digest_never_its_text():
    key = connection_key(dataclasses.replace(SPEC, password=Secret("hunter2")), False)
    assert "hunter2" not in key


def test_spec_survives_the_socket_with_its_password_secret_again():
    data = dataclasses.asdict(dataclasses.replace(SPEC, password=Secret("pw")))
    data["password"] = "pw"
    spec = spec_from_json(data)
    assert isinstance(spec.password, Secret) and spec.password.reveal() == "pw"
    assert dataclasses.replace(spec, password=None) == SPEC


def test_runtime_dir_is_made_private_and_an_open_one_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SOPCTL_RUNTIME_DIR", str(tmp_path / "new"))
    made = runtime_dir()
    assert oct(os.stat(made).st_mode & 0o777) == "0o700"
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    os.chmod(open_folder, 0o750)
    monkeypatch.setenv("SOPCTL_RUNTIME_DIR", str(open_folder))
    with pytest.raises(KeeperError, match="mode 0700"):
        runtime_dir()


def test_peer_check_accepts_our_own_uid():
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert _same_user(a)
