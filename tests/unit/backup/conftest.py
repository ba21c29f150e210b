"""Backup unit tests: fast scrypt (tests only), archives built from real GNU tar output or by hand."""

from __future__ import annotations

import io
import os
import subprocess

import pytest

from sopctl.backup import Identity, Member, TarWarnings, iter_members, write_archive
from sopctl.backup.archive import OpenArchive
from sopctl.backup.restore import DirectorySink, restore_records


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setenv("SOPCTL_BACKUP_SCRYPT_LOG_N", "10")


@pytest.fixture(scope="session")
def identity() -> Identity:
    return Identity.generate()


def gnu_tar(folder, *names: str, extra: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
    """(stdout, stderr) of GNU tar as the backup runs it on a host, for names under `folder`."""
    done = subprocess.run(["tar", "--create", "--file=-", "--format=posix", "--sparse",
                           "--pax-option=delete=atime,delete=ctime", "--ignore-failed-read", f"--directory={folder}",
                           *extra, "--", *names], capture_output=True, env={**os.environ, "LC_ALL": "C"})
    assert done.returncode in (0, 1), done.stderr
    return done.stdout, done.stderr


def archive_bytes(identity, members, info=None, stderr: bytes = b"") -> bytes:
    out = io.BytesIO()
    write_archive(out, [identity.recipient], info or {"host": "test", "created": "2025-01-01T00:00:00.000Z"},
                  iter(members), lambda: TarWarnings.parse(stderr))
    return out.getvalue()


def archive_of_tar(identity, tar: bytes, stderr: bytes = b"") -> bytes:
    return archive_bytes(identity, iter_members(io.BytesIO(tar)), stderr=stderr)


def file_member(path: str, data: bytes, **extra) -> Member:
    entry = {"path": path, "type": "file", "size": len(data), "mode": 0o644, "uid": 0, "gid": 0, "user": "root",
             "group": "root", "mtime": 1700000000.0, **extra}
    return Member(entry, iter([data] if data else []))


def other_member(path: str, kind: str, **extra) -> Member:
    entry = {"path": path, "type": kind, "size": 0, "mode": 0o755, "uid": 0, "gid": 0, "user": "root",
             "group": "root", "mtime": 1700000000.0, **extra}
    return Member(entry)


def restore_bytes(identity, data: bytes, target, tmp_path, name="a.sopbak", **kw):
    path = tmp_path / name
    path.write_bytes(data)
    with OpenArchive(path, identity) as archive:
        sink = DirectorySink(target, **kw)
        try:
            return restore_records(archive, sink, keep_manifest=True)
        finally:
            sink.close()
