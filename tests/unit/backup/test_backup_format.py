"""The container: header, recipient stanzas, chunks, and every way an archive can be damaged."""

from __future__ import annotations

import io
import os

import pytest

from sopctl.backup import ArchiveError, Identity, IdentityError
from sopctl.backup.container import (
    CHUNK_SIZE,
    MAGIC,
    TAG_SIZE,
    ChunkWriter,
    iter_chunks,
    nonce,
    read_header,
    seal_header,
)
from sopctl.backup.payload import (
    ARCHIVE,
    DATA,
    END,
    ENTRY,
    ENTRY_END,
    MANIFEST,
    open_records,
)

from .conftest import archive_bytes, file_member, other_member, restore_bytes

FULL = CHUNK_SIZE + TAG_SIZE
BIG = os.urandom(10 * CHUNK_SIZE + 1234)      # random: stored, not compressed, so chunks = data


@pytest.fixture(scope="module")
def sample(identity):
    members = [other_member("site", "dir"), file_member("site/a.txt", b"hello\n"), file_member("site/big.bin", BIG),
               file_member("site/z.txt", b"last file\n")]
    return archive_bytes(identity, members)


def header_size(data: bytes) -> int:
    return read_header(io.BytesIO(data), "x").size


def records(identity, data: bytes):
    stream = io.BytesIO(data)
    header = read_header(stream, "x.sopbak")
    return list(open_records(stream, header, header.unlock(identity)))


def test_nonce_is_counter_and_last_flag():
    assert nonce(0, False) == bytes(12)
    assert nonce(1, True) == bytes(10) + b"\x01\x01"
    assert nonce(2 ** 40, False)[:11] == (2 ** 40).to_bytes(11, "big")


def test_round_trip_record_order(identity, sample):
    assert sample.startswith(MAGIC)
    kinds = [kind for kind, _ in records(identity, sample)]
    assert kinds[0] == ARCHIVE and kinds[-1] == END
    assert kinds.count(ENTRY) == kinds.count(ENTRY_END) == kinds.count(MANIFEST) == 4
    assert DATA in kinds
    body = (len(sample) - header_size(sample))
    assert body % FULL != 0 or body >= FULL     # chunked


def test_chunk_writer_marks_exact_multiple_last():
    key, aad = os.urandom(32), b"aad"
    out = io.BytesIO()
    writer = ChunkWriter(out, key, aad, 4096)
    writer.write(b"x" * 8192)
    writer.close()
    assert len(out.getvalue()) == 2 * (4096 + TAG_SIZE)     # no empty third chunk
    seal_header([Identity.generate().recipient], 4096)         # the smallest chunk size is accepted


def test_wrong_identity_names_the_recipients(sample):
    other = Identity.generate()
    stream = io.BytesIO(sample)
    header = read_header(stream, "srv.sopbak")
    with pytest.raises(IdentityError, match=r"srv.sopbak: not encrypted to identity x25519:\w+ \(its recipients: x25519:"):
        header.unlock(other)


def test_several_recipients_each_open_it():
    a, b = Identity.generate(), Identity.generate()
    out = io.BytesIO()
    from sopctl.backup import write_archive
    write_archive(out, [a.recipient, b.recipient], {"host": "h"}, iter([file_member("f", b"x")]))
    for who in (a, b):
        assert records(who, out.getvalue())[-1][0] == END


def test_not_an_archive_and_future_version(identity):
    with pytest.raises(ArchiveError, match="not a sopctl backup archive"):
        read_header(io.BytesIO(b"PK\x03\x04 zip file"), "x")
    data = bytearray(archive_bytes(identity, [file_member("f", b"x")]))
    data[8] = 2
    with pytest.raises(ArchiveError, match="version 2 is not supported"):
        read_header(io.BytesIO(bytes(data)), "x")


def test_header_change_is_detected(identity, sample):
    data = bytearray(sample)
    at = data.index(b'"chunk_size":65536')
    data[at:at + 18] = b'"chunk_size":65537'
    with pytest.raises(ArchiveError, match="header authentication failed"):
        records(identity, bytes(data))


def test_byte_flipped_in_the_middle_names_the_chunk(identity, sample, tmp_path):
    data = bytearray(sample)
    start = header_size(sample)
    middle = start + 5 * FULL + 1000
    data[middle] ^= 0x01
    with pytest.raises(ArchiveError, match=r"chunk 5 \(at byte \d+\) failed authentication") as caught:
        records(identity, bytes(data))
    assert caught.value.chunk == 5
    report = restore_bytes(identity, bytes(data), tmp_path / "out", tmp_path)
    assert not report.ok and report.failed_chunk == 5 and "a.sopbak: chunk 5" in report.error
    # the block holding chunk 5 is never used: no big.bin, no temporary file
    assert [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_cut_short_at_a_chunk_boundary(identity, sample):
    start = header_size(sample)
    cut = sample[:start + 4 * FULL]
    with pytest.raises(ArchiveError, match=r"ends after chunk 3 .* cut short") as caught:
        records(identity, cut)
    assert caught.value.chunk == 4


def test_cut_inside_a_chunk_and_right_after_header(identity, sample):
    start = header_size(sample)
    with pytest.raises(ArchiveError, match="chunk 2 .* failed authentication"):
        records(identity, sample[:start + 2 * FULL + 100])
    with pytest.raises(ArchiveError, match="right after its header"):
        records(identity, sample[:start])


def test_two_chunks_swapped(identity, sample):
    start = header_size(sample)
    chunks = [sample[start + i * FULL:start + (i + 1) * FULL] for i in range(8)]
    swapped = sample[:start] + b"".join(chunks[:3] + [chunks[4], chunks[3]] + chunks[5:]) + sample[start + 8 * FULL:]
    with pytest.raises(ArchiveError, match="chunk 3 .* failed authentication"):
        records(identity, swapped)


def test_duplicated_and_dropped_chunks(identity, sample):
    start = header_size(sample)
    chunk = lambda i: sample[start + i * FULL:start + (i + 1) * FULL]
    duplicated = sample[:start + 3 * FULL] + chunk(2) + sample[start + 3 * FULL:]
    with pytest.raises(ArchiveError, match="chunk 3 .* failed authentication"):
        records(identity, duplicated)
    dropped = sample[:start + 3 * FULL] + sample[start + 4 * FULL:]
    with pytest.raises(ArchiveError, match="chunk 3 .* failed authentication"):
        records(identity, dropped)


def test_data_appended_after_the_last_chunk(identity, sample):
    with pytest.raises(ArchiveError, match="failed authentication"):
        records(identity, sample + b"\0" * 100)


def test_chunk_from_another_archive_with_same_layout(identity, sample):
    other = archive_bytes(identity, [other_member("site", "dir"), file_member("site/a.txt", b"hello\n"),
                                     file_member("site/big.bin", BIG), file_member("site/z.txt", b"last file\n")])
    start = header_size(sample)
    assert header_size(other) == start
    spliced = sample[:start + 2 * FULL] + other[start + 2 * FULL:start + 3 * FULL] + sample[start + 3 * FULL:]
    with pytest.raises(ArchiveError, match="chunk 2 .* failed authentication"):
        records(identity, spliced)


def test_iter_chunks_releases_nothing_of_a_bad_chunk(identity, sample):
    data = bytearray(sample)
    start = header_size(sample)
    data[start + 2 * FULL + 10] ^= 0xFF
    stream = io.BytesIO(bytes(data))
    header = read_header(stream, "x")
    got = []
    with pytest.raises(ArchiveError):
        for plain in iter_chunks(stream, header.unlock(identity), header):
            got.append(plain)
    assert len(got) == 2
