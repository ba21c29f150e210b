"""The encrypted container of a backup archive: header, recipient stanzas, authenticated chunks.

    preamble   "SOPCTLBK" | version u8 | flags u8 | header length u32 BE
    header     canonical JSON: cipher, chunk size, payload nonce, one stanza per recipient
    header MAC HMAC-SHA256(header key, preamble || header)
    chunks     ChaCha20-Poly1305(payload key, nonce = counter u88 BE || last-chunk flag, aad = SHA-256 of
               everything above); every chunk holds `chunk_size` plaintext bytes except the last

The normative description is docs/backup-format.md; this module is the one place that implements it.
Nothing here holds more than a few chunks in memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import ArchiveError, IdentityError
from .keys import Identity, Recipient

MAGIC = b"SOPCTLBK"
VERSION = 1
PREAMBLE = struct.Struct(">8sBBI")
MAC_SIZE = 32
CIPHER = "ChaCha20-Poly1305"
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
MIN_CHUNK, MAX_CHUNK = 4 * 1024, 4 * 1024 * 1024
MAX_HEADER = 64 * 1024
FILE_KEY_SIZE = 32
LAST = b"\x01"
NOT_LAST = b"\x00"
_INFO = b"sopctl-backup/v1/"


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO + info).derive(ikm)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value, size: int) -> bytes:
    data = base64.b64decode(value, validate=True)
    if len(data) != size:
        raise ValueError(f"expected {size} bytes")
    return data


def nonce(counter: int, last: bool) -> bytes:
    """The 12-byte chunk nonce: an 11-byte big-endian chunk counter, then 1 for the last chunk, else 0."""
    return counter.to_bytes(11, "big") + (LAST if last else NOT_LAST)


# ------------------------------------------------------------------------------------------------ header


def _wrap(file_key: bytes, recipient: Recipient) -> dict:
    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.public))
    wrap_key = _hkdf(shared, share + recipient.public, b"X25519")
    body = ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None)
    return {"type": "X25519", "id": recipient.fingerprint, "share": _b64(share), "key": _b64(body)}


def _unwrap(stanza: dict, identity: Identity) -> bytes | None:
    try:
        share = _unb64(stanza["share"], 32)
        body = _unb64(stanza["key"], FILE_KEY_SIZE + TAG_SIZE)
        shared = identity.exchange(share)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return None
    if shared == bytes(32):
        return None
    wrap_key = _hkdf(shared, share + identity.recipient.public, b"X25519")
    try:
        return ChaCha20Poly1305(wrap_key).decrypt(bytes(12), body, None)
    except InvalidTag:
        return None


@dataclass(frozen=True)
class Header:
    """A parsed (not yet authenticated) archive header."""

    raw: bytes          # preamble || header JSON
    mac: bytes
    fields: dict
    name: str           # the archive's name, for messages

    @property
    def size(self) -> int:
        return len(self.raw) + MAC_SIZE

    @property
    def chunk_size(self) -> int:
        return self.fields["chunk_size"]

    @property
    def recipient_ids(self) -> list[str]:
        return [s.get("id", "?") for s in self.fields["recipients"]]

    @property
    def aad(self) -> bytes:
        """What every chunk authenticates besides itself: the whole header, so a chunk moved into another
        archive (even one sharing the key) fails."""
        return hashlib.sha256(self.raw + self.mac).digest()

    def unlock(self, identity: Identity) -> bytes:
        """The payload key, if `identity` is a recipient and the header is intact."""
        stanzas = [s for s in self.fields["recipients"] if s.get("id") == identity.fingerprint]
        if not stanzas:
            raise IdentityError(f"{self.name}: not encrypted to identity {identity.fingerprint} (its recipients: "
                                f"{', '.join(self.recipient_ids)})")
        for stanza in stanzas:
            file_key = _unwrap(stanza, identity)
            if file_key is None:
                continue
            expected = hmac.new(_hkdf(file_key, b"", b"header"), self.raw, "sha256").digest()
            if not hmac.compare_digest(expected, self.mac):
                raise ArchiveError(f"{self.name}: header authentication failed: the archive header was changed")
            return _hkdf(file_key, _unb64(self.fields["nonce"], 16), b"payload")
        raise ArchiveError(f"{self.name}: the key stanza for {identity.fingerprint} does not open with this "
                           "identity: the archive header was changed")


def seal_header(recipients: list[Recipient], chunk_size: int = CHUNK_SIZE) -> tuple[Header, bytes]:
    """A new header for a fresh random file key: (the header, the payload key)."""
    if not recipients:
        raise ValueError("an archive needs at least one recipient")
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise ValueError(f"chunk size {chunk_size} outside {MIN_CHUNK}..{MAX_CHUNK}")
    file_key, payload_nonce = os.urandom(FILE_KEY_SIZE), os.urandom(16)
    fields = {"cipher": CIPHER, "chunk_size": chunk_size, "nonce": _b64(payload_nonce), "payload": "blocks-v1",
              "recipients": [_wrap(file_key, r) for r in recipients]}
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("ascii")
    raw = PREAMBLE.pack(MAGIC, VERSION, 0, len(body)) + body
    mac = hmac.new(_hkdf(file_key, b"", b"header"), raw, "sha256").digest()
    return Header(raw, mac, fields, "new archive"), _hkdf(file_key, payload_nonce, b"payload")


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    parts, have = [], 0
    while have < size:
        part = stream.read(size - have)
        if not part:
            break
        parts.append(part)
        have += len(part)
    return b"".join(parts)


def read_header(stream: BinaryIO, name: str) -> Header:
    """Parse the header at the start of `stream`; raises ArchiveError for anything that is not one."""
    preamble = _read_exact(stream, PREAMBLE.size)
    if len(preamble) < PREAMBLE.size or preamble[:8] != MAGIC:
        raise ArchiveError(f"{name}: not a sopctl backup archive (no SOPCTLBK header)")
    _, version, flags, length = PREAMBLE.unpack(preamble)
    if version != VERSION:
        raise ArchiveError(f"{name}: archive format version {version} is not supported (this sopctl reads "
                           f"{VERSION}); upgrade sopctl")
    if flags != 0 or length > MAX_HEADER:
        raise ArchiveError(f"{name}: damaged archive header (flags {flags}, length {length})")
    body = _read_exact(stream, length)
    mac = _read_exact(stream, MAC_SIZE)
    if len(body) != length or len(mac) != MAC_SIZE:
        raise ArchiveError(f"{name}: the archive ends inside its header: cut short")
    try:
        fields = json.loads(body.decode("ascii"))
        recipients = fields["recipients"]
        ok = (fields["cipher"] == CIPHER and fields["payload"] == "blocks-v1"
              and isinstance(fields["chunk_size"], int) and MIN_CHUNK <= fields["chunk_size"] <= MAX_CHUNK
              and isinstance(recipients, list) and recipients and all(isinstance(s, dict) for s in recipients))
        _unb64(fields["nonce"], 16)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error):
        ok = False
    if not ok:
        raise ArchiveError(f"{name}: damaged archive header")
    return Header(preamble + body, mac, fields, name)


# ------------------------------------------------------------------------------------------------ chunks


class ChunkWriter:
    """Cuts a byte stream into `chunk_size` pieces and writes each sealed; `close()` seals the last one.

    A full chunk is held back until more data arrives, so the last chunk is always the one marked last
    (also when the payload is an exact multiple of the chunk size).
    """

    def __init__(self, out: BinaryIO, key: bytes, aad: bytes, chunk_size: int = CHUNK_SIZE):
        self._out, self._aead, self._aad, self._size = out, ChaCha20Poly1305(key), aad, chunk_size
        self._buf = bytearray()
        self.counter = 0

    def write(self, data) -> None:
        self._buf += data
        size = self._size
        if len(self._buf) <= size:
            return
        view, at = memoryview(self._buf), 0
        try:
            while len(self._buf) - at > size:
                self._seal(view[at:at + size], False)
                at += size
        finally:
            view.release()
        del self._buf[:at]

    def _seal(self, plain, last: bool) -> None:
        self._out.write(self._aead.encrypt(nonce(self.counter, last), plain, self._aad))
        self.counter += 1

    def close(self) -> None:
        self._seal(bytes(self._buf), True)
        self._buf.clear()


def iter_chunks(stream: BinaryIO, key: bytes, header: Header) -> Iterator[bytes]:
    """Yield each chunk's plaintext, in order, only after it has been authenticated.

    A chunk that fails is reported with its number and offset; a stream that ends without the chunk
    marked last was cut short. Nothing after a failure is yielded.
    """
    aead, aad, name = ChaCha20Poly1305(key), header.aad, header.name
    full = header.chunk_size + TAG_SIZE
    current = _read_exact(stream, full)
    counter = 0
    if not current:
        raise ArchiveError(f"{name}: the archive ends right after its header: cut short", chunk=0)
    while True:
        following = _read_exact(stream, full) if len(current) == full else b""
        last = not following
        offset = header.size + counter * full
        try:
            plain = aead.decrypt(nonce(counter, last), current, aad)
        except InvalidTag:
            raise _chunk_failure(aead, aad, name, counter, offset, current, last) from None
        if last and counter and not plain:
            raise ArchiveError(f"{name}: chunk {counter} (at byte {offset}) is an empty last chunk", chunk=counter)
        yield plain
        if last:
            return
        current, counter = following, counter + 1


def _chunk_failure(aead, aad, name, counter, offset, data, last) -> ArchiveError:
    """Say why chunk `counter` failed: cut short (a good non-last chunk at the end) or changed."""
    if last and len(data) > TAG_SIZE:
        try:
            aead.decrypt(nonce(counter, False), data, aad)
        except InvalidTag:
            pass
        else:
            return ArchiveError(f"{name}: the archive ends after chunk {counter} (byte {offset + len(data)}) "
                                "but that chunk is not the last one: the archive was cut short", chunk=counter + 1)
    return ArchiveError(f"{name}: chunk {counter} (at byte {offset}) failed authentication: the archive was "
                        "changed, damaged, cut or its chunks reordered from there on", chunk=counter)
