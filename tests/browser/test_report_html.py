"""The HTML report in a real browser: headless Chromium renders it, dumps its DOM and takes a screenshot.

Needs the Debian packages `chromium` and `chromium-driver` (/usr/bin/chromium). Without them these tests
FAIL, so a CI run cannot go green by testing nothing; set SOPCTL_SKIP_BROWSER=1 to skip them on purpose.
The screenshot is checked with the standard library only: PNG signature, IHDR size, and the first rows of
pixels (IDAT inflated with zlib and unfiltered) must vary, so the page is not blank.
"""

from __future__ import annotations

import html
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from sopctl.compliance.catalog import load_catalog
from sopctl.compliance.report import render
from sopctl.compliance.status import evaluate_month
from sopctl.store import Store
from tests.fixtures import wita  # noqa: F401  (autouse)
from tests.unit.report.support import ALL_IDS, MIXED_TODAY, REPO, build_mixed

CHROMIUM = Path(os.environ.get("SOPCTL_CHROMIUM", "/usr/bin/chromium"))
WIDTH, HEIGHT = 1280, 2000
STATUS_WORDS = ("Patuh", "Patuh sebagian", "Tidak patuh", "Dikecualikan", "Belum terverifikasi", "Tidak berlaku")


def require_browser() -> None:
    """Skip on purpose with SOPCTL_SKIP_BROWSER=1; otherwise a missing Chromium is a test FAILURE."""
    if os.environ.get("SOPCTL_SKIP_BROWSER") == "1":
        pytest.skip("SOPCTL_SKIP_BROWSER=1")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} not found: install the Debian packages chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver), or set SOPCTL_SKIP_BROWSER=1")


@pytest.fixture
def page(tmp_path) -> Path:
    catalog = load_catalog(REPO / "checks" / "sop.yml")
    with Store.open(tmp_path / "sopctl.db") as store:
        build_mixed(store)
        report = evaluate_month(catalog, store, "2026-11", MIXED_TODAY, generated_at="2026-12-05T01:00:00Z")
    path = tmp_path / "laporan.html"
    path.write_text(render(report, "html", "id"), encoding="utf-8")
    return path


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    argv = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", *args]
    done = subprocess.run(argv, capture_output=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr.decode(errors='replace')[-2000:]}"
    return done


# --------------------------------------------------------------------------------------------- tests


def test_dom_has_every_item_title_and_status_word(page, tmp_path):
    require_browser()
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout.decode("utf-8")
    assert "<body" in dom and "</html>" in dom
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))
    for item_id in ALL_IDS:
        assert re.search(rf"(?<![\w.]){re.escape(item_id)}(?![\w.])", text), item_id
    catalog = load_catalog(REPO / "checks" / "sop.yml")
    for item in catalog.items:
        assert re.sub(r"\s+", " ", item.title_id) in text, item.id
    for word in STATUS_WORDS:
        assert word in text, word
    assert "Laporan Kepatuhan SOP/AS/32" in text and "Ringkasan per butir SOP" in text
    assert "<script>alert(1)</script>" in text and "<script" not in dom.lower()   # shown as text, never run


def test_screenshot_is_a_real_non_blank_png(page, tmp_path):
    require_browser()
    shot = tmp_path / "laporan.png"
    chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    width, height, rows = decode_png(shot.read_bytes(), max_rows=700)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(set(rows)) > 50, "rows of pixels barely vary: the page looks blank"
    pixels = [row[i:i + 3] for row in rows[::7] for i in range(0, len(row), 3 * 5)]
    background = max(set(pixels), key=pixels.count)
    share = sum(1 for p in pixels if p != background) / len(pixels)
    assert 0.01 < share < 0.9, f"{share:.1%} of sampled pixels differ from the background"
    assert any(g > r + 40 and g > b + 20 for r, g, b in pixels), "no green 'Patuh' badge seen"


# --------------------------------------------------------------------------------------- PNG reading


def decode_png(data: bytes, max_rows: int) -> tuple[int, int, list[bytes]]:
    """(width, height, first max_rows rows as RGB bytes) of an 8-bit RGB/RGBA non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + chunk) == struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
        pos += 12 + length
    assert header is not None and idat, "PNG without IHDR or IDAT"
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    channels = 3 if color == 2 else 4
    stride = width * channels
    raw = zlib.decompressobj().decompress(b"".join(idat), (stride + 1) * max_rows)
    rows, previous = [], bytearray(stride)
    for index in range(min(max_rows, height, len(raw) // (stride + 1))):
        start = index * (stride + 1)
        row = unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous, channels)
        rows.append(bytes(row) if channels == 3 else bytes(b for i, b in enumerate(row) if i % 4 != 3))
        previous = row
    return width, height, rows


def unfilter(kind: int, row: bytearray, prior: bytearray, bpp: int) -> bytearray:
    """Undo one PNG scanline filter (None, Sub, Up, Average, Paeth)."""
    if kind == 0:
        return row
    if kind == 2:
        return bytearray((a + b) & 255 for a, b in zip(row, prior))
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        if kind == 1:
            row[i] = (row[i] + left) & 255
        elif kind == 3:
            row[i] = (row[i] + ((left + prior[i]) >> 1)) & 255
        elif kind == 4:
            up, corner = prior[i], prior[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        else:
            raise AssertionError(f"bad PNG filter type {kind}")
    return row
