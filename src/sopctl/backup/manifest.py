"""Manifest lines: what the archive says about each entry (path, type, size, mode, owner, mtime, SHA-256,
link target), built from tar headers on the way in and checked against the restored tree on the way out.

Names are bytes on Linux. A name that is valid UTF-8 is written as text (`path`, `link`); any other is
written as base64 of its bytes (`path_b64`, `link_b64`), so nothing is lost and the JSON stays ASCII.
"""

from __future__ import annotations

import base64
import hashlib
import tarfile

from .errors import UnsafeEntry

TYPES = {
    tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file", tarfile.GNUTYPE_SPARSE: "file",
    tarfile.LNKTYPE: "hardlink", tarfile.SYMTYPE: "symlink", tarfile.DIRTYPE: "dir", tarfile.FIFOTYPE: "fifo",
    tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block",
}
TAR_ENCODING = ("utf-8", "surrogateescape")   # tar names as str that round-trip to the original bytes
# Fields that describe the entry; `note` (a warning from tar) is extra and not part of the comparison.
COMPARED = ("type", "size", "mode", "uid", "gid", "user", "group", "mtime", "sha256", "link", "link_b64",
            "sparse", "dev")


def name_field(key: str, raw: bytes) -> dict:
    try:
        return {key: raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {key + "_b64": base64.b64encode(raw).decode("ascii")}


def name_bytes(doc: dict, key: str) -> bytes | None:
    if key in doc:
        return str(doc[key]).encode("utf-8", "surrogateescape")
    if key + "_b64" in doc:
        return base64.b64decode(doc[key + "_b64"])
    return None


def tar_bytes(name: str) -> bytes:
    return name.encode(*TAR_ENCODING)


def display(raw: bytes) -> str:
    """A name for messages: printable, never raising on odd bytes."""
    return raw.decode("utf-8", "backslashreplace").encode("unicode_escape").decode("ascii")


def entry_from_tar(info: tarfile.TarInfo) -> dict:
    """The ENTRY fields of a `tarfile` member (everything but the content digest); `tarread` builds the same
    fields from the raw stream, and the tests hold the two to each other."""
    kind = TYPES.get(info.type)
    if kind is None:
        kind = "file" if info.isreg() else f"unknown:{info.type!r}"
    entry = {**name_field("path", tar_bytes(info.name)), "type": kind,
             "size": info.size if kind == "file" else 0, "mode": info.mode & 0o7777,
             "uid": info.uid, "gid": info.gid, "user": info.uname, "group": info.gname,
             "mtime": info.mtime}
    if kind in ("symlink", "hardlink"):
        entry.update(name_field("link", tar_bytes(info.linkname)))
    if kind in ("char", "block"):
        entry["dev"] = [info.devmajor, info.devminor]
    if info.issparse():
        entry["sparse"] = True
    return entry


def compared(line: dict) -> dict:
    return {key: line.get(key) for key in COMPARED}


def safe_parts(raw: bytes) -> list[bytes]:
    """The path's components under the restore target, or UnsafeEntry for `/x`, `..`, NUL or nothing."""
    if raw.startswith(b"/"):
        raise UnsafeEntry(f"refusing entry '{display(raw)}': absolute path")
    if b"\0" in raw:
        raise UnsafeEntry(f"refusing entry '{display(raw)}': NUL byte in the name")
    parts = [p for p in raw.split(b"/") if p not in (b"", b".")]
    if b".." in parts:
        raise UnsafeEntry(f"refusing entry '{display(raw)}': '..' would leave the restore target")
    if not parts:
        raise UnsafeEntry(f"refusing entry '{display(raw)}': empty name")
    return parts


class ManifestDigest:
    """SHA-256 over the manifest lines without their `note`, as canonical JSON, each followed by a newline:
    proves that the MANIFEST records describe exactly the entries that were streamed."""

    def __init__(self):
        self._sha = hashlib.sha256()
        self.count = 0

    def add(self, line: dict) -> None:
        from .payload import dumps

        if "note" in line:
            line = {k: v for k, v in line.items() if k != "note"}
        self.add_bytes(dumps(line))

    def add_bytes(self, canonical: bytes) -> None:
        """A line already in canonical form (and without `note`)."""
        self._sha.update(canonical + b"\n")
        self.count += 1

    def hexdigest(self) -> str:
        return self._sha.hexdigest()
