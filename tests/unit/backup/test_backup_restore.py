"""Tar stream -> archive -> restored tree: tricky files round-trip, unsafe entries are refused, and a bad
archive never leaves an unverified file behind."""

from __future__ import annotations

import io
import os
import stat
import subprocess

import pytest

from sopctl.backup import TarWarnings, UnsafeEntry
from sopctl.backup.manifest import safe_parts
from sopctl.backup.source import SourceSpec, tar_command, tar_escape

from .conftest import (
    archive_bytes,
    archive_of_tar,
    file_member,
    gnu_tar,
    other_member,
    restore_bytes,
)


def _tricky_tree(root):
    site = root / "site"
    (site / "empty dir").mkdir(parents=True)
    (site / "name with spaces.txt").write_text("spaces\n")
    (site / "new\nline.txt").write_text("newline in the name\n")
    (root / "site").joinpath(os.fsdecode(b"caf\xe9-latin1.txt")).write_bytes(b"not UTF-8 name\n")
    (site / "zero.bin").write_bytes(b"")
    (site / "data.bin").write_bytes(os.urandom(300_000))
    (site / "text.txt").write_text("perkara " * 50_000)
    os.link(site / "text.txt", site / "hardlink.txt")
    os.symlink("text.txt", site / "rel-link")
    os.symlink("/etc/hostname", site / "abs-link")
    with open(site / "sparse.img", "wb") as handle:
        handle.seek(5 * 1024 * 1024)
        handle.write(b"end of sparse file")
        handle.seek(20 * 1024 * 1024)
        handle.write(b"tail")
    os.chmod(site / "text.txt", 0o640)
    os.mkfifo(site / "fifo")
    return site


def _listing(root):
    out = {}
    for folder, dirs, files in os.walk(os.fsencode(root)):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, os.fsencode(root))
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as handle:
                    content = handle.read()
            link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode) if not link else 0, content, link,
                        int(st.st_mtime) if not stat.S_ISDIR(st.st_mode) else None)
    return out


def test_tricky_files_round_trip(identity, tmp_path):
    src = tmp_path / "src"
    _tricky_tree(src)
    tar, stderr = gnu_tar(src, "site")
    report = restore_bytes(identity, archive_of_tar(identity, tar, stderr), tmp_path / "out", tmp_path)
    assert report.ok, report.as_dict()
    assert _listing(src) == _listing(tmp_path / "out")
    restored = tmp_path / "out" / "site"
    assert os.stat(restored / "hardlink.txt").st_ino == os.stat(restored / "text.txt").st_ino
    assert os.stat(restored / "sparse.img").st_blocks * 512 < 1024 * 1024          # holes stay holes
    assert os.readlink(restored / "abs-link") == "/etc/hostname"                   # kept, never followed
    assert report.manifest[b"site/" + b"caf\xe9-latin1.txt"]["type"] == "file"
    assert report.files == 7 and report.entries == 13   # one of the hard-linked pair is a link entry


def test_manifest_lines_have_every_field(identity, tmp_path):
    src = tmp_path / "src"
    _tricky_tree(src)
    tar, _ = gnu_tar(src, "site")
    report = restore_bytes(identity, archive_of_tar(identity, tar), tmp_path / "out", tmp_path)
    pair = [report.manifest[b"site/text.txt"], report.manifest[b"site/hardlink.txt"]]
    line = next(item for item in pair if item["type"] == "file")
    assert {item["type"] for item in pair} == {"file", "hardlink"}
    assert line["type"] == "file" and line["size"] == len("perkara " * 50_000) and line["mode"] == 0o640
    assert line["uid"] == os.getuid() and line["user"] and isinstance(line["mtime"], (int, float))
    assert len(line["sha256"]) == 64
    assert report.manifest[b"site/rel-link"]["link"] == "text.txt"
    assert report.manifest[b"site/sparse.img"]["sparse"] is True


def test_changed_and_vanished_files_are_reported(identity, tmp_path):
    stderr = (b"tar: site/log.txt: file changed as we read it\n"
              b"tar: site/gone.txt: Cannot stat: No such file or directory\n"
              b"tar: site/new\\nline.txt: file changed as we read it\n")
    members = [other_member("site", "dir"), file_member("site/log.txt", b"partial"),
               file_member("site/new\nline.txt", b"x")]
    report = restore_bytes(identity, archive_bytes(identity, members, stderr=stderr), tmp_path / "out", tmp_path)
    assert report.ok
    assert any("gone.txt: Cannot stat" in note for note in report.notes)
    assert "site/log.txt: file changed as we read it" in report.skipped
    assert any("line.txt: file changed" in s for s in report.skipped)


def test_tar_escape_matches_gnu_tar_messages():
    assert tar_escape(b"a b") == "a b"
    assert tar_escape(b"new\nline\\") == "new\\nline\\\\"
    assert tar_escape(b"caf\xe9") == "caf\\351"


def test_warnings_parse_keeps_unknown_lines():
    warnings = TarWarnings.parse(b"tar: etc/x: File removed before we read it\ntar: something else\n")
    assert warnings.for_entry(b"etc/x") == "File removed before we read it"
    assert warnings.other == ["tar: something else"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "site/../../x", "", "a/\0b"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(UnsafeEntry, match="refusing entry"):
        safe_parts(name.encode())


def test_dotdot_entry_refused_and_nothing_written_outside(identity, tmp_path):
    victim = tmp_path / "etc" / "passwd"
    victim.parent.mkdir()
    victim.write_text("root:x:0:0\n")
    members = [file_member("ok.txt", b"fine"), file_member("../../etc/passwd", b"owned"),
               file_member("/etc/passwd", b"owned")]
    target = tmp_path / "deep" / "out"
    report = restore_bytes(identity, archive_bytes(identity, members), target, tmp_path)
    assert not report.ok
    assert any("'../../etc/passwd': '..'" in p for p in report.problems)
    assert any("'/etc/passwd': absolute path" in p for p in report.problems)
    assert victim.read_text() == "root:x:0:0\n"
    assert sorted(os.listdir(target)) == ["ok.txt"]


def test_symlink_cannot_lead_a_later_entry_outside(identity, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    members = [other_member("escape", "symlink", link=str(outside)), file_member("escape/planted", b"evil"),
               other_member("dir", "dir"), other_member("dir/up", "symlink", link="../.."),
               file_member("dir/up/planted2", b"evil"),
               other_member("hl", "hardlink", link="escape/planted")]
    target = tmp_path / "out"
    report = restore_bytes(identity, archive_bytes(identity, members), target, tmp_path)
    assert not report.ok
    assert sum("symlink or not a folder" in p for p in report.problems) >= 2
    assert list(outside.iterdir()) == [] and not (tmp_path / "planted2").exists()
    assert os.readlink(target / "escape") == str(outside)


def test_content_not_matching_its_digest_is_never_renamed(identity, tmp_path):
    from sopctl.backup.payload import (
        ARCHIVE,
        DATA,
        END,
        ENTRY,
        ENTRY_END,
        PayloadWriter,
    )

    out = io.BytesIO()
    writer = PayloadWriter(out, [identity.recipient], threaded=False)
    writer.json(ARCHIVE, {"host": "h"})
    writer.json(ENTRY, file_member("a.txt", b"aaaa").entry)
    writer.record(DATA, b"aaaa")
    writer.json(ENTRY_END, {"sha256": "0" * 64, "size": 4})
    writer.json(END, {})
    writer.close()
    target = tmp_path / "out"
    report = restore_bytes(identity, out.getvalue(), target, tmp_path)
    assert not report.ok and "does not match its recorded size and SHA-256" in report.error
    assert os.listdir(target) == []


def test_failure_mid_file_leaves_no_temp_or_partial_file(identity, tmp_path):
    big = os.urandom(5 * 65536)
    data = bytearray(archive_bytes(identity, [file_member("first.txt", b"ok"), file_member("big.bin", big)]))
    from sopctl.backup.container import read_header
    start = read_header(io.BytesIO(bytes(data)), "x").size
    data[start + 3 * (65536 + 16) + 7] ^= 1
    target = tmp_path / "out"
    report = restore_bytes(identity, bytes(data), target, tmp_path)
    assert not report.ok and report.failed_chunk == 3
    # first.txt shares its compressed block with big.bin's start, and a block is used only when all of its
    # chunks verified: nothing of that block, and certainly no temporary file, may be left
    assert os.listdir(target) == []


def test_restore_over_existing_tree_replaces_files_atomically(identity, tmp_path):
    target = tmp_path / "out"
    (target / "site").mkdir(parents=True)
    (target / "site" / "a.txt").write_text("old")
    os.symlink("/etc/passwd", target / "site" / "b.txt")
    members = [other_member("site", "dir"), file_member("site/a.txt", b"new"), file_member("site/b.txt", b"bee")]
    report = restore_bytes(identity, archive_bytes(identity, members), target, tmp_path)
    assert report.ok, report.problems
    assert (target / "site" / "a.txt").read_text() == "new"
    assert not os.path.islink(target / "site" / "b.txt") and (target / "site" / "b.txt").read_text() == "bee"


def test_manifest_mismatch_is_an_archive_error(identity, tmp_path, monkeypatch):
    from sopctl.backup import archive as archive_mod

    original = archive_mod.dumps

    def tampered(obj):
        if isinstance(obj, dict) and obj.get("sha256") and "uid" in obj:
            obj = {**obj, "size": obj["size"] + 1}
        return original(obj)

    monkeypatch.setattr(archive_mod, "dumps", tampered)
    data = archive_bytes(identity, [file_member("a.txt", b"aaaa")])
    monkeypatch.setattr(archive_mod, "dumps", original)
    report = restore_bytes(identity, data, tmp_path / "out", tmp_path)
    assert not report.ok and "manifest" in report.error


def test_remote_tar_command_quotes_every_value():
    spec = SourceSpec(("/var/www", "/etc/it's here"), ("/var/www/cache", "*.tmp"))
    text = tar_command(spec).text
    assert "--format=posix" in text and "--sparse" in text and "--ignore-failed-read" in text
    assert "--exclude=var/www/cache" in text and "--exclude='*.tmp'" in text
    assert text.endswith("-- var/www 'etc/it'\"'\"'s here'")
    done = subprocess.run(["sh", "-n", "-c", text])
    assert done.returncode == 0


def test_source_spec_from_vars():
    assert SourceSpec.from_vars("h", {}) is None
    assert SourceSpec.from_vars("h", {"backup_paths": "/etc"}).paths == ("/etc",)
    from sopctl.backup import BackupError
    with pytest.raises(BackupError, match="not an absolute path"):
        SourceSpec.from_vars("h", {"backup_paths": ["etc"]})


def test_tar_reader_agrees_with_tarfile(tmp_path):
    """The streaming reader gives the same entries and content as the standard library's tarfile."""
    import hashlib
    import tarfile

    from sopctl.backup.manifest import entry_from_tar
    from sopctl.backup.source import iter_members

    src = tmp_path / "src"
    site = _tricky_tree(src)
    deep = site / ("long-folder-name-" * 8) / ("x" * 200)
    deep.mkdir(parents=True)
    (deep / ("y" * 240 + ".txt")).write_text("deep\n")
    with open(site / "many-holes.img", "wb") as handle:       # a sparse map longer than one 512-byte block
        for i in range(200):
            handle.seek(i * 16 * 1024)
            handle.write(b"%d" % i)
    os.chown(site / "zero.bin", 70000, 70001)
    tar, _ = gnu_tar(src, "site")

    ours = []
    for member in iter_members(io.BytesIO(tar)):
        digest = hashlib.sha256()
        for piece in member.pieces:
            digest.update(piece)
        ours.append((member.entry, digest.hexdigest()))
    theirs = []
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r|", encoding="utf-8", errors="surrogateescape") as archive:
        for info in archive:
            digest = hashlib.sha256()
            if info.isreg():
                digest.update(archive.extractfile(info).read())
            entry = entry_from_tar(info)
            entry["mtime"] = int(entry["mtime"]) if float(entry["mtime"]).is_integer() else entry["mtime"]
            theirs.append((entry, digest.hexdigest()))
    assert ours == theirs
    assert any(e.get("sparse") and e["path"].endswith("many-holes.img") for e, _ in ours)


def test_tar_reader_refuses_a_damaged_or_cut_stream(tmp_path):
    from sopctl.backup.source import iter_members
    from sopctl.backup.tarread import TarFormatError

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(os.urandom(5000))
    tar, _ = gnu_tar(tmp_path, "d")
    damaged = bytearray(tar)
    damaged[10] ^= 1
    with pytest.raises(TarFormatError, match="checksum"):
        list(iter_members(io.BytesIO(bytes(damaged))))
    with pytest.raises(TarFormatError, match="broke off"):
        for member in iter_members(io.BytesIO(tar[:3000])):
            list(member.pieces)
    assert list(iter_members(io.BytesIO(b""))) == []
