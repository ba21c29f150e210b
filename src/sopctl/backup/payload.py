"""The plaintext inside the chunks: compressed blocks carrying a stream of typed records.

    block   kind u8 (0 stored, 1 zstd) | stored length u32 BE | raw length u32 BE | bytes
    record  type u8 | body length u32 BE | body

Records, in order: ARCHIVE (once), then per entry ENTRY, DATA..., ENTRY_END; NOTE records anywhere after
ARCHIVE; then one MANIFEST record per entry; END last. See docs/backup-format.md.

`PayloadWriter` compresses and seals blocks on a worker thread while the caller produces the next one
(zstd and the AEAD release the GIL), with at most `QUEUE` blocks in flight: memory stays a few MiB.
`read_records` does the reverse for a restore on a worker thread (read, authenticate, decompress, parse,
digest each file's content), at most `QUEUE` batches of records ahead of the caller.
"""

from __future__ import annotations

import hashlib
import json
import queue
import struct
import threading
from collections.abc import Iterator
from typing import BinaryIO

import zstandard

from .container import ChunkWriter, Header, iter_chunks, seal_header
from .errors import ArchiveError
from .keys import Recipient
from .pipeline import Prefetch

BLOCK = struct.Struct(">BII")
STORED, ZSTD = 0, 1
BLOCK_TARGET = 1024 * 1024          # raw bytes gathered before a block is cut
MAX_BLOCK = 4 * 1024 * 1024         # a reader refuses larger blocks (bounded memory)
RECORD = struct.Struct(">BI")
MAX_DATA = 1024 * 1024              # DATA records carry at most this much
MAX_RECORD = 2 * 1024 * 1024
QUEUE = 4
ZSTD_LEVEL = 1                      # measured: level 3 costs ~60 % more time for a few % on text

ARCHIVE, ENTRY, DATA, ENTRY_END, NOTE, MANIFEST, END = 1, 2, 3, 4, 5, 6, 7
RECORD_NAMES = {ARCHIVE: "ARCHIVE", ENTRY: "ENTRY", DATA: "DATA", ENTRY_END: "ENTRY_END", NOTE: "NOTE",
                MANIFEST: "MANIFEST", END: "END"}


def dumps(obj) -> bytes:
    """Canonical JSON for a record body (sorted keys, no spaces, ASCII)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("ascii")


class _HashingFile:
    """Pass writes through and keep the SHA-256 and size of everything written."""

    def __init__(self, out: BinaryIO):
        self.out, self.sha256, self.size = out, hashlib.sha256(), 0

    def write(self, data) -> None:
        self.sha256.update(data)
        self.size += len(data)
        self.out.write(data)


class PayloadWriter:
    """Write records into a new archive on `out`: header first, then sealed chunks of compressed blocks."""

    def __init__(self, out: BinaryIO, recipients: list[Recipient], *, level: int = ZSTD_LEVEL,
                 threaded: bool = True):
        self._file = _HashingFile(out)
        self.header, key = seal_header(recipients)
        self._file.write(self.header.raw + self.header.mac)
        self._chunks = ChunkWriter(self._file, key, self.header.aad, self.header.chunk_size)
        self._zstd = zstandard.ZstdCompressor(level=level)
        self._block = bytearray()
        self.raw_bytes = 0
        self._error: BaseException | None = None
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=QUEUE)
            self._thread = threading.Thread(target=self._work, name="sopctl-backup-seal", daemon=True)
            self._thread.start()

    # -- records

    def record(self, kind: int, body) -> None:
        if len(body) > MAX_RECORD:
            raise ValueError(f"record of {len(body)} bytes is too large")
        self._block += RECORD.pack(kind, len(body))
        self._block += body
        if len(self._block) >= BLOCK_TARGET:
            self._cut()

    def json(self, kind: int, obj) -> None:
        self.record(kind, dumps(obj))

    def data(self, data) -> None:
        """File content as DATA records (split at MAX_DATA)."""
        view = memoryview(data)
        for at in range(0, len(view), MAX_DATA):
            self.record(DATA, view[at:at + MAX_DATA])

    # -- blocks

    def _cut(self) -> None:
        if not self._block:
            return
        block, self._block = bytes(self._block), bytearray()
        self.raw_bytes += len(block)
        if self._queue is None:
            self._seal(block)
            return
        self._raise_worker_error()
        self._queue.put(block)

    def _seal(self, block: bytes) -> None:
        packed = self._zstd.compress(block)
        if len(packed) < len(block) - (len(block) >> 5):   # zstd only when it saves more than 3 %
            self._chunks.write(BLOCK.pack(ZSTD, len(packed), len(block)))
            self._chunks.write(packed)
        else:
            self._chunks.write(BLOCK.pack(STORED, len(block), len(block)))
            self._chunks.write(block)

    def _work(self) -> None:
        while True:
            block = self._queue.get()
            if block is None:
                return
            if self._error is None:
                try:
                    self._seal(block)
                except BaseException as exc:  # noqa: BLE001 - handed to the producer thread
                    self._error = exc

    def _raise_worker_error(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Seal the last block and the last chunk; after this the archive is complete on `out`."""
        self._cut()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise_worker_error()
        self._chunks.close()

    def abort(self) -> None:
        """Stop the worker without finishing the archive (the caller deletes the file)."""
        if self._thread is not None:
            self._error = self._error or RuntimeError("aborted")
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    @property
    def size(self) -> int:
        return self._file.size

    @property
    def sha256(self) -> str:
        return self._file.sha256.hexdigest()


# ------------------------------------------------------------------------------------------------ reading


class _Feed:
    """Exact-size reads over an iterator of byte pieces; knows how far it got (for messages)."""

    def __init__(self, pieces: Iterator[bytes]):
        self._pieces = pieces
        self._buf: bytes = b""
        self._pos = 0

    def at_end(self) -> bool:
        while self._pos >= len(self._buf):
            piece = next(self._pieces, None)
            if piece is None:
                return True
            self._buf, self._pos = piece, 0
        return False

    def read(self, size: int) -> memoryview | None:
        """`size` bytes (a view), or None when the pieces end first."""
        end = self._pos + size
        if end <= len(self._buf):
            out = memoryview(self._buf)[self._pos:end]
            self._pos = end
            return out
        parts = [self._buf[self._pos:]]
        have = len(parts[0])
        while have < size:
            piece = next(self._pieces, None)
            if piece is None:
                return None
            parts.append(piece)
            have += len(piece)
        joined = b"".join(parts)
        self._buf, self._pos = joined, size
        return memoryview(joined)[:size]


def iter_blocks(plain_chunks: Iterator[bytes], name: str) -> Iterator[bytes]:
    """The raw (decompressed) blocks carried by the authenticated chunk plaintext."""
    feed = _Feed(plain_chunks)
    zstd = zstandard.ZstdDecompressor()
    index = 0
    while not feed.at_end():
        head = feed.read(BLOCK.size)
        if head is None:
            raise ArchiveError(f"{name}: the payload ends inside block {index}'s header")
        kind, stored, raw = BLOCK.unpack(head)
        if kind not in (STORED, ZSTD) or stored > MAX_BLOCK or raw > MAX_BLOCK or (kind == STORED and stored != raw):
            raise ArchiveError(f"{name}: block {index} has a bad header ({kind}, {stored}, {raw})")
        body = feed.read(stored)
        if body is None:
            raise ArchiveError(f"{name}: the payload ends inside block {index}")
        if kind == ZSTD:
            try:
                data = zstd.decompress(body, max_output_size=raw)
            except zstandard.ZstdError as exc:
                raise ArchiveError(f"{name}: block {index} does not decompress: {exc}") from None
            if len(data) != raw:
                raise ArchiveError(f"{name}: block {index} decompresses to {len(data)} bytes, not {raw}")
            yield data
        else:
            yield bytes(body)
        index += 1


def iter_records(blocks: Iterator[bytes], name: str) -> Iterator[tuple[int, memoryview]]:
    """(type, body) for every record; the stream must end right after END."""
    feed = _Feed(blocks)
    ended = False
    while not feed.at_end():
        if ended:
            raise ArchiveError(f"{name}: data follows the END record")
        head = feed.read(RECORD.size)
        if head is None:
            raise ArchiveError(f"{name}: the payload ends inside a record header")
        kind, size = RECORD.unpack(head)
        if kind not in RECORD_NAMES or size > MAX_RECORD:
            raise ArchiveError(f"{name}: bad record (type {kind}, {size} bytes)")
        body = feed.read(size)
        if body is None:
            raise ArchiveError(f"{name}: the payload ends inside a {RECORD_NAMES[kind]} record")
        ended = kind == END
        yield kind, body
    if not ended:
        raise ArchiveError(f"{name}: the payload has no END record: the archive is incomplete")


def open_records(stream: BinaryIO, header: Header, key: bytes) -> Iterator[tuple[int, memoryview]]:
    """Every record of an opened archive, each released only once its chunks have been authenticated."""
    return iter_records(iter_blocks(iter_chunks(stream, key, header), header.name), header.name)


def with_data_digests(records: Iterator[tuple[int, memoryview]]) -> Iterator[tuple[int, memoryview, str | None]]:
    """(type, body, digest): at each ENTRY_END, digest is the SHA-256 of the DATA bodies since the last ENTRY
    (None on every other record). The reader checks that DATA only appears between ENTRY and ENTRY_END, so
    this is the digest of the entry's content."""
    digest = None
    for kind, body in records:
        if kind == ENTRY:
            digest = hashlib.sha256()
        elif kind == DATA and digest is not None:
            digest.update(body)
        elif kind == ENTRY_END and digest is not None:
            yield kind, body, digest.hexdigest()
            digest = None
            continue
        yield kind, body, None


def read_records(stream: BinaryIO, header: Header, key: bytes, *,
                 ahead: int = QUEUE) -> Iterator[tuple[int, memoryview, str | None]]:
    """`with_data_digests` over the archive's records, for a restore.

    With `ahead`, reading, decryption, decompression, record parsing and the content digests run on a
    worker thread, at most `ahead` batches (each about BATCH bytes of records, on blocks of at most
    MAX_BLOCK) in front of the caller, so they overlap with the caller's writing. An authentication failure
    still arrives after every good record before it and before any record after it. Close the returned
    generator when stopping early: that stops the worker.
    """
    records = with_data_digests(open_records(stream, header, key))
    if not ahead:
        return records
    return _unbatched(Prefetch(_batches(records), ahead, name="sopctl-restore-read"))


BATCH = 1024 * 1024


def _batches(records: Iterator) -> Iterator[list]:
    """Records in lists of about BATCH body bytes (one queue hand-over per list, not per record); the
    records before a failure are handed over before the failure."""
    batch, size = [], 0
    try:
        for record in records:
            batch.append(record)
            size += len(record[1]) + 64
            if size >= BATCH:
                yield batch
                batch, size = [], 0
    except BaseException:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def _unbatched(prefetched: Prefetch) -> Iterator:
    with prefetched:
        for batch in prefetched:
            yield from batch


def loads(body) -> dict:
    try:
        value = json.loads(bytes(body).decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise ArchiveError("a record's JSON body is damaged")
    return value
