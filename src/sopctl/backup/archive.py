"""Writing an archive from tar members, and opening one for reading.

`write_archive` turns a stream of members into ARCHIVE, ENTRY/DATA/ENTRY_END..., NOTE..., MANIFEST...,
END records (docs/backup-format.md, "Payload"). Manifest lines are spooled to a temporary file while the
entries stream past (the manifest comes last, when every digest is known), so memory does not grow with
the size of the backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .container import Header, read_header
from .errors import ArchiveError
from .keys import Identity, Recipient
from .manifest import ManifestDigest, name_bytes
from .payload import (
    ARCHIVE,
    END,
    ENTRY,
    ENTRY_END,
    MANIFEST,
    NOTE,
    QUEUE,
    PayloadWriter,
    dumps,
    open_records,
    read_records,
)
from .source import Member, TarWarnings

EXTENSION = ".sopbak"
PARTIAL = ".partial"
SPOOL = 8 * 1024 * 1024


@dataclass
class ArchiveSummary:
    """What one written archive holds."""

    size: int = 0
    sha256: str = ""
    entries: int = 0
    files: int = 0
    data_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    manifest_sha256: str = ""


def write_archive(out: BinaryIO, recipients: list[Recipient], info: dict, members: Iterator[Member],
                  finish: Callable[[], TarWarnings] = lambda: TarWarnings({}, []), *,
                  threaded: bool = True) -> ArchiveSummary:
    """Write a complete archive of `members` to `out`. `finish` is called once the members are exhausted
    and returns the source's warnings (tar's stderr), which become NOTE records and manifest notes."""
    writer = PayloadWriter(out, recipients, threaded=threaded)
    summary = ArchiveSummary(recipients=[r.fingerprint for r in recipients])
    try:
        writer.json(ARCHIVE, info)
        digest = ManifestDigest()
        with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
            for member in members:
                digest.add_bytes(_write_member(writer, member, spool, summary))
            warnings = finish()
            for line in warnings.lines():
                writer.json(NOTE, {"source": "tar", "text": line})
            summary.notes = warnings.lines()
            whole = hashlib.sha256()
            spool.seek(0)
            for raw_line in spool:
                body = raw_line[:-1]
                if warnings.by_path:                        # only then can a line need a note
                    line = json.loads(body)
                    note = warnings.for_entry(name_bytes(line, "path") or b"")
                    if note:
                        body = dumps({**line, "note": note})
                whole.update(body)
                writer.record(MANIFEST, body)
        summary.manifest_sha256 = digest.hexdigest()
        writer.json(END, {"entries": summary.entries, "files": summary.files, "data_bytes": summary.data_bytes,
                          "manifest": summary.manifest_sha256, "manifest_records": whole.hexdigest(),
                          "notes": len(summary.notes)})
        writer.close()
    except BaseException:
        writer.abort()
        raise
    summary.size, summary.sha256 = writer.size, writer.sha256
    return summary


_NO_CONTENT = dumps({"sha256": None, "size": 0})


def _write_member(writer: PayloadWriter, member: Member, spool, summary: ArchiveSummary) -> bytes:
    """ENTRY, DATA..., ENTRY_END for one member; its manifest line goes to the spool and is returned."""
    entry = member.entry
    writer.json(ENTRY, entry)
    line = dict(entry)
    if entry["type"] == "file":
        digest, size = hashlib.sha256(), 0
        for piece in member.pieces:
            digest.update(piece)
            size += len(piece)
            writer.data(piece)
        if size != entry["size"]:
            raise ArchiveError(f"tar gave {size} bytes for a {entry['size']}-byte member")
        line["sha256"] = digest.hexdigest()
        writer.json(ENTRY_END, {"sha256": line["sha256"], "size": size})
        summary.files += 1
        summary.data_bytes += size
    else:
        writer.record(ENTRY_END, _NO_CONTENT)
    summary.entries += 1
    body = dumps(line)
    spool.write(body + b"\n")
    return body


# ------------------------------------------------------------------------------------------------ reading


class OpenArchive:
    """An archive file opened with an identity: `records()` yields authenticated records once."""

    def __init__(self, path: str | os.PathLike, identity: Identity, name: str | None = None):
        self.path = Path(path)
        self.name = name or str(path)
        try:
            self._file = open(self.path, "rb", buffering=1024 * 1024)
        except OSError as exc:
            raise ArchiveError(f"{self.name}: cannot open: {exc.strerror or exc}") from None
        try:
            self.header: Header = read_header(self._file, self.name)
            self._key = self.header.unlock(identity)
        except BaseException:
            self._file.close()
            raise

    def records(self):
        return open_records(self._file, self.header, self._key)

    def records_with_digests(self, *, ahead: int = QUEUE):
        """The records with their content digests, read ahead on a thread (payload.read_records); close
        the generator when done."""
        return read_records(self._file, self.header, self._key, ahead=ahead)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> OpenArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            block = handle.read(1024 * 1024)
            if not block:
                return digest.hexdigest()
            digest.update(block)
