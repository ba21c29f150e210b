"""The restore pipeline: read-ahead keeps order and failures in place, stops cleanly, stays bounded; the
read-back checker finds changed files; the RAM-disk scratch falls back to disk when the restore is too big."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest

from sopctl.backup import ArchiveError, service
from sopctl.backup.container import read_header
from sopctl.backup.errors import ScratchFull
from sopctl.backup.pipeline import Prefetch, ReadBack, sha256_fd
from sopctl.backup.restore import DirectorySink

from .conftest import archive_bytes, file_member, other_member, restore_bytes


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_prefetch_keeps_order_and_raises_in_place():
    def source():
        yield from range(5)
        raise ArchiveError("x.sopbak: chunk 7 (at byte 1) failed authentication", chunk=7)

    got = []
    with pytest.raises(ArchiveError) as caught, Prefetch(source(), depth=2) as ahead:
        got.extend(ahead)
    assert got == [0, 1, 2, 3, 4]                  # everything before the failure, nothing after it
    assert caught.value.chunk == 7 and "chunk 7" in str(caught.value)


def test_prefetch_stays_bounded_and_stops_when_closed():
    produced = []
    closed = threading.Event()

    def source():
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    ahead = Prefetch(source(), depth=3, name="test-prefetch")
    assert next(ahead) == 0
    time.sleep(0.05)
    assert len(produced) <= 1 + 3 + 1              # the one taken, a full queue, the one in the worker's hand
    ahead.close()
    assert closed.is_set() and "test-prefetch" not in _threads()
    assert list(ahead) == []


def test_read_ahead_gives_the_same_records_and_digests_as_reading_inline(identity):
    import hashlib

    from sopctl.backup.payload import ENTRY_END, read_records

    big = os.urandom(3 * 1024 * 1024)
    data = archive_bytes(identity, [other_member("d", "dir"), file_member("d/a", b"aaa"), file_member("d/big", big)])

    def read(ahead):
        stream = io.BytesIO(data)
        header = read_header(stream, "x")
        return [(kind, bytes(body), digest) for kind, body, digest in
                read_records(stream, header, header.unlock(identity), ahead=ahead)]

    inline, ahead = read(0), read(2)
    assert inline == ahead
    digests = [digest for kind, _, digest in inline if kind == ENTRY_END]
    assert digests[1:] == [hashlib.sha256(b"aaa").hexdigest(), hashlib.sha256(big).hexdigest()]


def test_read_back_reports_a_changed_file(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_bytes(b"a" * 3_000_000)
    bad.write_bytes(b"b" * 10)
    checker = ReadBack(depth=1)
    checker.submit(os.open(good, os.O_RDONLY), sha256_fd(os.open(good, os.O_RDONLY)), "good")
    checker.submit(os.open(bad, os.O_RDONLY), "0" * 64, "bad")
    checker.check_here(os.open(bad, os.O_RDONLY), "1" * 64, "bad again")
    problems, count = checker.finish()
    assert count == 2
    assert sorted(problems) == ["bad again: content read back does not match the manifest's SHA-256",
                                "bad: content read back does not match the manifest's SHA-256"]


def test_read_back_close_drops_queued_files(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    checker = ReadBack(depth=4)
    fds = [os.open(path, os.O_RDONLY) for _ in range(3)]
    for fd in fds:
        checker.submit(fd, "0" * 64, "f")
    checker.close()
    for fd in fds:                                 # every descriptor handed over is closed
        with pytest.raises(OSError):
            os.fstat(fd)


def test_tampered_chunk_fails_with_its_number_and_stops_the_threads(identity, tmp_path):
    big = os.urandom(40 * 65536)                   # random: stored blocks, so chunk n is at about n * 64 KiB
    members = [file_member("a.bin", big), file_member("b.bin", big), file_member("c.bin", big)]
    data = bytearray(archive_bytes(identity, members))
    start = read_header(io.BytesIO(bytes(data)), "x").size
    data[start + 110 * (65536 + 16) + 9] ^= 1      # inside c.bin, in a block after b.bin's ENTRY_END
    before = _threads()
    target = tmp_path / "out"
    report = restore_bytes(identity, bytes(data), target, tmp_path)
    assert not report.ok and report.failed_chunk == 110 and "chunk 110" in report.error
    assert "a.sopbak" in report.error
    assert sorted(os.listdir(target)) == ["a.bin", "b.bin"]    # verified before the bad chunk; nothing of c.bin
    assert _threads() <= before


def test_file_changed_on_disk_before_its_read_back_is_a_problem(identity, tmp_path, monkeypatch):
    from sopctl.backup import restore

    members = [file_member("small.txt", b"small"), file_member("big.bin", os.urandom(2 * 1024 * 1024))]
    original = restore.DirectorySink._submit_read_back

    def corrupt_first(self, entry, parts, parent):
        fd = os.open(parts[-1], os.O_WRONLY, dir_fd=parent)
        os.pwrite(fd, b"X", 0)
        os.close(fd)
        original(self, entry, parts, parent)

    monkeypatch.setattr(restore.DirectorySink, "_submit_read_back", corrupt_first)
    report = restore_bytes(identity, archive_bytes(identity, members), tmp_path / "out", tmp_path)
    assert not report.ok                           # (the write also moved the mtime: reported too)
    content = [p for p in report.problems if "content read back does not match the manifest's SHA-256" in p]
    assert sorted(p.split(":")[0] for p in content) == ["big.bin", "small.txt"]


def test_a_path_restored_twice_is_checked_against_each_manifest_line(identity, tmp_path):
    """The second copy replaces the first under the same name: the first manifest line must not pass."""
    members = [other_member("d", "dir"), file_member("d/twice.txt", b"first"), file_member("d/twice.txt", b"other")]
    report = restore_bytes(identity, archive_bytes(identity, members), tmp_path / "out", tmp_path)
    assert not report.ok
    assert report.problems == ["d/twice.txt: content read back does not match the manifest's SHA-256"]


def test_limit_raises_scratch_full_and_leaves_no_file(identity, tmp_path):
    from sopctl.backup.archive import OpenArchive
    from sopctl.backup.restore import restore_records

    path = tmp_path / "a.sopbak"
    path.write_bytes(archive_bytes(identity, [file_member("a.txt", b"a" * 10_000), file_member("b.txt", b"b")]))
    target = tmp_path / "out"
    with OpenArchive(path, identity) as archive:
        sink = DirectorySink(target, limit=12_000)
        try:
            with pytest.raises(ScratchFull):
                restore_records(archive, sink)
        finally:
            sink.close()
    assert [n for n in os.listdir(target) if n.startswith(".sopctl-restore-")] == []


def test_restore_test_falls_back_to_disk_when_the_ram_disk_is_too_small(identity, tmp_path, monkeypatch):
    ram, disk = tmp_path / "ram", tmp_path / "disk"
    ram.mkdir()
    disk.mkdir()
    path = tmp_path / "a.sopbak"
    path.write_bytes(archive_bytes(identity, [file_member("a.txt", b"a" * 100_000)]))
    used = []
    original = DirectorySink.__init__

    def recording(self, root, **kw):
        used.append((os.path.dirname(root), kw.get("limit")))
        original(self, root, **kw)

    monkeypatch.setattr(DirectorySink, "__init__", recording)
    monkeypatch.setattr(service, "RAM_SCRATCH", ram)
    monkeypatch.setattr(service, "ram_scratch_budget", lambda: 50_000)
    monkeypatch.setattr(service.tempfile, "tempdir", str(disk))
    report = service.verify_archive(path, identity)
    assert report.ok, report.as_dict()
    assert used == [(str(ram), 50_000), (str(disk), None)]
    assert os.listdir(ram) == [] and os.listdir(disk) == []

    used.clear()
    monkeypatch.setattr(service, "ram_scratch_budget", lambda: 10_000_000)
    assert service.verify_archive(path, identity).ok and used == [(str(ram), 10_000_000)]

    used.clear()                                    # a configured scratch folder always wins
    assert service.verify_archive(path, identity, scratch=disk).ok and used == [(str(disk), None)]


def test_ram_scratch_budget_needs_a_tmpfs_mount(tmp_path):
    assert service.ram_scratch_budget(tmp_path) == 0
    if service._is_tmpfs(service.RAM_SCRATCH):
        assert 0 < service.ram_scratch_budget() <= os.statvfs("/dev/shm").f_bavail * os.statvfs("/dev/shm").f_frsize
