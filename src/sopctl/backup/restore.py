"""Restoring an archive: every record checked before it is used, every file verified before it gets its name.

The records arrive only after their chunks were authenticated (container.iter_chunks). A file is written
under a temporary name (`.sopctl-restore-N`) in its folder and renamed to its real name only when its
ENTRY_END says the size and SHA-256 match what was written; if the archive fails in the middle of a file,
that temporary file is deleted, so the target never holds a file that was not verified.

Paths are checked before anything is created: no absolute names, no `..`, and every folder on the way is
opened with O_NOFOLLOW relative to the one above (openat), so a symlink in the archive can never make a
later entry land outside the target. Symlinks themselves are restored as they were (their targets are
data, never followed).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .archive import OpenArchive
from .errors import ArchiveError, ScratchFull, UnsafeEntry
from .manifest import (
    COMPARED,
    TAR_ENCODING,
    ManifestDigest,
    compared,
    display,
    name_bytes,
    safe_parts,
)
from .payload import ARCHIVE, DATA, END, ENTRY, ENTRY_END, MANIFEST, NOTE, loads
from .pipeline import ReadBack, sha256_fd

TEMP_PREFIX = b".sopctl-restore-"
MAX_PROBLEMS = 50
_ZERO = bytes(64 * 1024)
_MTIME_SLACK = 1e-3
READ_BACK_THREAD = 1024 * 1024    # files this large are read back on the worker thread, smaller ones inline
PAGE = 4096                 # what `limit` charges per entry, and the unit file sizes are rounded up to


@dataclass
class RestoreReport:
    """What a restore (or restore test) of one archive found."""

    archive: str
    ok: bool = False
    info: dict = field(default_factory=dict)
    entries: int = 0
    files: int = 0
    data_bytes: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    error: str | None = None
    failed_chunk: int | None = None
    manifest: dict[bytes, dict] | None = None

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    @property
    def summary(self) -> str:
        if self.ok:
            extra = f", {len(self.notes)} source warning(s)" if self.notes else ""
            return f"{self.files} files, {self.data_bytes} bytes verified{extra}"
        if self.error:
            return self.error
        return f"{self.problem_count} problem(s): {'; '.join(self.problems[:3])}"

    def as_dict(self) -> dict:
        return {"archive": self.archive, "ok": self.ok, "entries": self.entries, "files": self.files,
                "data_bytes": self.data_bytes, "seconds": round(self.seconds, 3), "notes": self.notes[:MAX_PROBLEMS],
                "skipped": self.skipped[:MAX_PROBLEMS], "problems": self.problems, "problem_count": self.problem_count,
                "error": self.error, "failed_chunk": self.failed_chunk}


# ------------------------------------------------------------------------------------------------ sinks


class DirectorySink:
    """Materialise entries under `root` safely (see the module docstring).

    `reread`: every file is read back from disk under its final name right after it got that name (files
    of READ_BACK_THREAD bytes or more on a worker thread, pipeline.ReadBack; smaller ones at once, which
    costs less than handing them over) and compared with its verified SHA-256, which the END record ties
    to the manifest's; `verify()` still checks size, type and attributes against each manifest line. If a
    later entry replaced a name already restored (a path twice in the archive), what was read back is no
    longer what the name holds, so from then on `verify()` also reads every file back against its
    manifest line, as a restore test always did.

    `limit`: bytes the restore may take (file sizes rounded up to pages, one page per entry); past it, or
    when the file system is full, ScratchFull is raised so the caller can retry in a larger place.
    """

    def __init__(self, root: str | os.PathLike, *, owners: bool | None = None, reread: bool = True,
                 limit: int | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.owners = (os.geteuid() == 0) if owners is None else owners
        self.reread = reread
        self.limit = limit
        self.charged = 0
        self._root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        self._dirs: dict[tuple[bytes, ...], int] = {}
        self._serial = 0
        self._open: tuple[int, bytes, int] | None = None    # (parent fd, temp name, file fd)
        self._sparse = False
        self._written = 0
        self._replaced = False
        self._read_back = ReadBack(keep=MAX_PROBLEMS) if reread else None

    # -- folders

    def _parent(self, parts: list[bytes], create: bool) -> int:
        key = tuple(parts)
        if key in self._dirs:
            return self._dirs[key]
        fd = self._root_fd if not parts else self._parent(parts[:-1], create)
        if not parts:
            return fd
        name = parts[-1]
        try:
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(name, 0o700, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except (NotADirectoryError, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise UnsafeEntry(f"refusing to go through '{display(b'/'.join(parts))}': it is a symlink or "
                              "not a folder, so an entry there could land outside the target") from None
        if len(self._dirs) > 512:
            self._close_dirs()
        self._dirs[key] = child
        return child

    def _close_dirs(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()

    def _temp(self) -> bytes:
        self._serial += 1
        return TEMP_PREFIX + str(self._serial).encode()

    # -- entries

    def _charge(self, entry: dict) -> None:
        """Count what the entry will take against `limit`, before anything of it is written."""
        if self.limit is None:
            return
        size = int(entry.get("size") or 0) if entry["type"] == "file" else 0
        self.charged += PAGE + -(-size // PAGE) * PAGE
        if self.charged > self.limit:
            raise ScratchFull(f"{self.root}: the restore needs more than the {self.limit} bytes it may use here")

    def _full(self, exc: OSError) -> None:
        """With a `limit`, a full file system means "retry elsewhere", not a failed restore."""
        if self.limit is not None and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ScratchFull(f"{self.root}: no space left for the restore ({exc.strerror})") from None

    def begin(self, entry: dict, parts: list[bytes]) -> None:
        self._charge(entry)
        try:
            self._begin(entry, parts)
        except OSError as exc:
            self._full(exc)
            raise

    def _begin(self, entry: dict, parts: list[bytes]) -> None:
        parent = self._parent(parts[:-1], create=True)
        kind, name = entry["type"], parts[-1]
        if kind == "dir":
            try:
                os.mkdir(name, 0o700, dir_fd=parent)
            except FileExistsError:
                if not stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                    raise ArchiveError(f"'{display(b'/'.join(parts))}' exists and is not a folder") from None
            return
        temp = self._temp()
        if kind == "file":
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=parent)
            self._open = (parent, temp, fd)
            self._sparse, self._written = bool(entry.get("sparse")), 0
            return
        self._open = (parent, temp, -1)
        if kind == "symlink":
            os.symlink(name_bytes(entry, "link") or b"", temp, dir_fd=parent)
        elif kind == "hardlink":
            target = safe_parts(name_bytes(entry, "link") or b"")
            target_parent = self._parent(target[:-1], create=False)
            if not stat.S_ISREG(os.stat(target[-1], dir_fd=target_parent, follow_symlinks=False).st_mode):
                raise UnsafeEntry(f"hard link '{display(b'/'.join(parts))}' does not point to a restored file")
            os.link(target[-1], temp, src_dir_fd=target_parent, dst_dir_fd=parent, follow_symlinks=False)
        elif kind == "fifo":
            os.mkfifo(temp, 0o600, dir_fd=parent)
        elif kind in ("char", "block"):
            major, minor = entry.get("dev") or (0, 0)
            flag = stat.S_IFCHR if kind == "char" else stat.S_IFBLK
            os.mknod(temp, 0o600 | flag, os.makedev(major, minor), dir_fd=parent)
        else:
            raise ArchiveError(f"'{display(b'/'.join(parts))}': unknown entry type {kind!r}")

    def data(self, piece) -> None:
        try:
            self._data(piece)
        except OSError as exc:
            self._full(exc)
            raise

    def _data(self, piece) -> None:
        fd = self._open[2]
        if self._sparse:
            for at in range(0, len(piece), len(_ZERO)):
                part = piece[at:at + len(_ZERO)]
                if part == _ZERO[:len(part)]:
                    os.lseek(fd, len(part), os.SEEK_CUR)
                else:
                    _write_all(fd, part)
        else:
            _write_all(fd, piece)
        self._written += len(piece)

    def commit(self, entry: dict, parts: list[bytes]) -> None:
        """Give the entry its name. `entry` is its manifest line: for a file, with the verified `sha256`."""
        if entry["type"] == "dir":
            return
        parent, temp, fd = self._open
        if self._read_back is not None and not self._replaced and _exists(parts[-1], parent):
            self._replaced = True
        try:
            if fd >= 0:
                if self._sparse:
                    os.ftruncate(fd, self._written)
                self._attributes(entry, fd=fd)
                os.close(fd)
                fd = -1
            else:
                self._attributes(entry, name=temp, parent=parent)
            mtime_ns = round(float(entry.get("mtime") or 0) * 1e9)
            os.utime(temp, ns=(mtime_ns, mtime_ns), dir_fd=parent, follow_symlinks=False)
            os.replace(temp, parts[-1], src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            self._open = (parent, temp, fd)
            self.discard()
            raise
        self._open = None
        if self._read_back is not None and entry["type"] == "file":
            self._submit_read_back(entry, parts, parent)

    def _submit_read_back(self, entry: dict, parts: list[bytes], parent: int) -> None:
        where = display(b"/".join(parts))
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent)
        except OSError as exc:
            self._read_back.problem(f"{where}: cannot read the restored file back ({exc.strerror or exc})")
            return
        if entry["size"] >= READ_BACK_THREAD:
            self._read_back.submit(fd, entry["sha256"], where)
        else:
            self._read_back.check_here(fd, entry["sha256"], where)

    def _attributes(self, entry: dict, *, fd: int = -1, name: bytes = b"", parent: int = -1) -> None:
        mode = int(entry.get("mode", 0o644)) & 0o7777
        if entry["type"] == "symlink":
            if self.owners:
                os.chown(name, entry["uid"], entry["gid"], dir_fd=parent, follow_symlinks=False)
            return
        if fd >= 0:
            if self.owners:
                os.fchown(fd, entry["uid"], entry["gid"])
            os.fchmod(fd, mode)
        elif entry["type"] != "hardlink":       # a hard link shares its target's inode and attributes
            if self.owners:
                os.chown(name, entry["uid"], entry["gid"], dir_fd=parent, follow_symlinks=False)
            os.chmod(name, mode, dir_fd=parent)

    def discard(self) -> None:
        """Forget the entry being written: close and delete its temporary file."""
        if self._open is None:
            return
        parent, temp, fd = self._open
        self._open = None
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(temp, dir_fd=parent)
        except FileNotFoundError:
            pass

    # -- verification against the manifest

    def verify(self, line: dict, parts: list[bytes]) -> list[str]:
        """Compare the restored entry with its manifest line; set folder attributes (now that their content
        is in place). Returns problems."""
        where = display(b"/".join(parts))
        try:
            parent = self._parent(parts[:-1], create=False)
            if line["type"] == "dir":
                self._finish_dir(line, parts[-1], parent)
            st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except (OSError, UnsafeEntry) as exc:
            return [f"{where}: not restored ({getattr(exc, 'strerror', None) or exc})"]
        problems = []
        kind = _kind(st.st_mode)
        expected = "file" if line["type"] == "hardlink" else line["type"]
        if kind != expected:
            return [f"{where}: restored as {kind}, the manifest says {line['type']}"]
        if kind == "file" and line["type"] == "file":
            if st.st_size != line["size"]:
                problems.append(f"{where}: size {st.st_size}, the manifest says {line['size']}")
            elif self.reread and self._replaced and _sha256_at(parts[-1], parent) != line.get("sha256"):
                problems.append(f"{where}: content read back does not match the manifest's SHA-256")
        if kind != "symlink" and (st.st_mode & 0o7777) != (int(line["mode"]) & 0o7777):
            problems.append(f"{where}: mode {st.st_mode & 0o7777:04o}, the manifest says {int(line['mode']):04o}")
        if self.owners and (st.st_uid, st.st_gid) != (line["uid"], line["gid"]):
            problems.append(f"{where}: owner {st.st_uid}:{st.st_gid}, the manifest says {line['uid']}:{line['gid']}")
        if line["type"] != "hardlink" and abs(st.st_mtime_ns / 1e9 - float(line["mtime"])) > _MTIME_SLACK:
            problems.append(f"{where}: mtime {st.st_mtime_ns / 1e9}, the manifest says {line['mtime']}")
        if kind == "symlink" and os.readlink(parts[-1], dir_fd=parent) != (name_bytes(line, "link") or b""):
            problems.append(f"{where}: symlink target differs from the manifest")
        return problems

    def _finish_dir(self, line: dict, name: bytes, parent: int) -> None:
        if self.owners:
            os.chown(name, line["uid"], line["gid"], dir_fd=parent, follow_symlinks=False)
        os.chmod(name, int(line["mode"]) & 0o7777, dir_fd=parent)
        mtime_ns = round(float(line.get("mtime") or 0) * 1e9)
        os.utime(name, ns=(mtime_ns, mtime_ns), dir_fd=parent, follow_symlinks=False)

    def finish(self, report: RestoreReport) -> None:
        """Wait for the read-back checks and add their problems to `report` (after the END record)."""
        if self._read_back is None:
            return
        problems, count = self._read_back.finish()
        self._read_back = None
        for text in problems:
            report.problem(text)
        report.problem_count += count - len(problems)

    def close(self) -> None:
        if self._read_back is not None:
            self._read_back.close()
            self._read_back = None
        self.discard()
        self._close_dirs()
        os.close(self._root_fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block")):
        if test(mode):
            return name
    return "other"


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _sha256_at(name: bytes, parent: int) -> str:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent)
    try:
        return sha256_fd(fd)
    finally:
        os.close(fd)


def _exists(name: bytes, parent: int) -> bool:
    try:
        os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


class TarSink:
    """Send verified entries as a tar stream (to a host's `tar -x`); a file's content is held in a spool
    file (memory up to 8 MiB, then disk) until its ENTRY_END verified it, and only then sent."""

    def __init__(self, out):
        import tempfile

        self._tempfile = tempfile
        self._tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, encoding=TAR_ENCODING[0],
                                 errors=TAR_ENCODING[1])
        self._spool = None

    def begin(self, entry: dict, parts: list[bytes]) -> None:
        if entry["type"] == "hardlink":
            safe_parts(name_bytes(entry, "link") or b"")
        if entry["type"] == "file":
            self._spool = self._tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)

    def data(self, piece) -> None:
        self._spool.write(piece)

    def commit(self, entry: dict, parts: list[bytes]) -> None:
        info = tarfile.TarInfo(os.fsdecode(b"/".join(parts)))
        info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                     "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "char": tarfile.CHRTYPE,
                     "block": tarfile.BLKTYPE}[entry["type"]]
        info.mode, info.uid, info.gid = int(entry["mode"]), entry["uid"], entry["gid"]
        info.uname, info.gname, info.mtime = entry.get("user") or "", entry.get("group") or "", entry["mtime"]
        if entry["type"] in ("symlink", "hardlink"):
            link = name_bytes(entry, "link") or b""
            info.linkname = os.fsdecode(b"/".join(safe_parts(link)) if entry["type"] == "hardlink" else link)
        if entry.get("dev"):
            info.devmajor, info.devminor = entry["dev"]
        if entry["type"] == "file":
            info.size = entry["size"]
            self._spool.seek(0)
            self._tar.addfile(info, self._spool)
            self.discard()
        else:
            self._tar.addfile(info)

    def discard(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def verify(self, line: dict, parts: list[bytes]) -> list[str]:
        return []

    def finish(self, report: RestoreReport) -> None:
        """Nothing deferred: the receiving tar checks what it wrote."""

    def close(self) -> None:
        self.discard()
        self._tar.close()


# ------------------------------------------------------------------------------------------------ driver


def restore_records(archive: OpenArchive, sink, *, keep_manifest: bool = False) -> RestoreReport:
    """Drive `sink` through the archive's records, checking every invariant of docs/backup-format.md.

    Never raises for a bad archive: the report says what failed (`error`, `failed_chunk`, `problems`).
    """
    report = RestoreReport(archive.name, manifest={} if keep_manifest else None)
    started = time.perf_counter()
    try:
        with contextlib.closing(archive.records_with_digests()) as records:     # closing stops the read-ahead thread
            _drive(archive.name, records, sink, report)
        sink.finish(report)
    except ArchiveError as exc:
        sink.discard()
        report.error, report.failed_chunk = str(exc), exc.chunk
    except OSError as exc:
        sink.discard()
        report.error = f"{archive.name}: cannot write the restored files: {exc.strerror or exc}"
    report.seconds = time.perf_counter() - started
    report.ok = report.error is None and report.problem_count == 0
    return report


def _drive(name: str, records, sink, report: RestoreReport) -> None:
    stream_digest, manifest_digest, manifest_records = ManifestDigest(), ManifestDigest(), hashlib.sha256()
    entry: dict | None = None
    parts: list[bytes] | None = None
    refused: set[bytes] = set()
    size = 0
    first = True
    for kind, body, content_digest in records:
        if first and kind != ARCHIVE:
            raise ArchiveError(f"{name}: the payload does not start with an ARCHIVE record")
        if kind == ARCHIVE:
            if not first:
                raise ArchiveError(f"{name}: a second ARCHIVE record")
            report.info = loads(body)
        elif kind == NOTE:
            report.notes.append(str(loads(body).get("text", "")))
        elif kind == ENTRY:
            if entry is not None:
                raise ArchiveError(f"{name}: ENTRY before the previous entry's ENTRY_END")
            entry, size = loads(body), 0
            raw = name_bytes(entry, "path") or b""
            try:
                parts = safe_parts(raw)
                sink.begin(entry, parts)
            except UnsafeEntry as exc:
                report.problem(str(exc))
                refused.add(raw)
                parts = None
            except (OSError, ArchiveError) as exc:
                report.problem(f"{display(raw)}: cannot restore: {getattr(exc, 'strerror', None) or exc}")
                refused.add(raw)
                parts = None
        elif kind == DATA:
            if entry is None or entry.get("type") != "file":
                raise ArchiveError(f"{name}: DATA outside a file entry")
            size += len(body)
            if size > entry["size"]:
                raise ArchiveError(f"{name}: '{_where(entry)}' has more data than its size {entry['size']}")
            if parts is not None:
                sink.data(body)
        elif kind == ENTRY_END:
            if entry is None:
                raise ArchiveError(f"{name}: ENTRY_END without ENTRY")
            end = loads(body)
            line = dict(entry)
            if entry["type"] == "file":
                line["sha256"] = content_digest
                if size != entry["size"] or end.get("size") != size or end.get("sha256") != line["sha256"]:
                    raise ArchiveError(f"{name}: '{_where(entry)}' does not match its recorded size and SHA-256")
                report.files += 1
                report.data_bytes += size
            if parts is not None:
                try:
                    sink.commit(line, parts)
                except (OSError, UnsafeEntry) as exc:
                    report.problem(f"{_where(entry)}: cannot restore: {getattr(exc, 'strerror', None) or exc}")
                    refused.add(name_bytes(entry, "path") or b"")
            stream_digest.add(line)
            report.entries += 1
            entry, parts = None, None
        elif kind == MANIFEST:
            if entry is not None:
                raise ArchiveError(f"{name}: MANIFEST inside an entry")
            line = loads(body)
            if "note" in line:
                manifest_digest.add(line)
            else:
                manifest_digest.add_bytes(bytes(body))
            manifest_records.update(body)
            raw = name_bytes(line, "path") or b""
            if line.get("note"):
                report.skipped.append(f"{display(raw)}: {line['note']}")
            if report.manifest is not None:
                report.manifest[raw] = compared(line)
            if raw not in refused:
                for problem in sink.verify(line, safe_parts(raw)):
                    report.problem(problem)
        elif kind == END:
            end = loads(body)
            if entry is not None:
                raise ArchiveError(f"{name}: END inside an entry")
            if not (end.get("entries") == report.entries == stream_digest.count == manifest_digest.count):
                raise ArchiveError(f"{name}: the manifest lists {manifest_digest.count} entries, the archive holds "
                                   f"{stream_digest.count}, END says {end.get('entries')}")
            if not (end.get("manifest") == stream_digest.hexdigest() == manifest_digest.hexdigest()
                    and end.get("manifest_records") == manifest_records.hexdigest()):
                raise ArchiveError(f"{name}: the manifest does not match the entries")
        first = False


def _where(entry: dict) -> str:
    return display(name_bytes(entry, "path") or b"")


__all__ = ["COMPARED", "DirectorySink", "RestoreReport", "TarSink", "restore_records"]
