"""The access-log summary (F.3) against independently counted generated logs; bounded counters."""

from __future__ import annotations

import random

import pytest

from sopctl.website import accesslog
from sopctl.website.accesslog import Distinct, HyperLogLog, Summary, TopCounter, classify

from .loggen import THRESHOLD_404, generate

MONTH = "2026-11"


def _feed(summary: Summary, lines: list[bytes], block: int) -> None:
    data = b"".join(lines)
    for start in range(0, len(data), block):
        summary.feed_block(data[start:start + block])
    summary.end_file()


def assert_matches(result: dict, expected) -> None:
    """Every count of a summary against the generator's own bookkeeping."""
    assert result["lines"] == expected.lines
    assert result["malformed"] == expected.malformed
    assert result["other_months"] == expected.other_months
    assert result["requests"] == expected.requests
    assert result["unique_visitors"] == len(expected.visitors)
    assert result["unique_visitors_estimated"] is False
    assert result["errors_4xx"] == expected.errors_4xx
    assert result["errors_5xx"] == expected.errors_5xx
    assert result["bad_requests"] == expected.bad_requests
    assert result["bytes_sent"] == expected.bytes_sent
    assert result["bot_requests"] == expected.bot_requests
    assert result["status_codes"] == {str(k): v for k, v in sorted(expected.statuses.items())}
    days = {f"{expected.month}-{d:02d}": {"requests": n, "visitors": len(expected.day_visitors[d]),
                                         "estimated": False} for d, n in sorted(expected.days.items())}
    assert result["days"] == days
    top = sorted(expected.pages.items(), key=lambda kv: (-kv[1], kv[0]))[:accesslog.TOP_SHOWN]
    assert [tuple(x) for x in result["top_pages"]] == top
    assert result["top_pages_exact"] is True
    suspicious = result["suspicious"]
    assert suspicious["requests"] == expected.suspicious_requests
    assert suspicious["categories"] == {c: expected.categories.get(c, 0) for c in accesslog.CATEGORIES}
    assert suspicious["exact"] is True
    assert [tuple(x) for x in suspicious["many_404"]] == expected.many_404


@pytest.mark.parametrize("block", [1 << 16, 4093, 97])
def test_summary_matches_an_independent_count(block):
    lines, expected = generate(MONTH, 20_000, seed=block)
    summary = Summary(MONTH, threshold_404=THRESHOLD_404)
    _feed(summary, lines, block)
    result = summary.to_dict()
    assert_matches(result, expected)
    assert expected.many_404 and expected.many_404[0][0] == "203.0.113.66"
    assert all(n > 0 for n in expected.categories.values()) and len(expected.categories) == 4
    assert "many 404s from 203.0.113.66" in summary.observed()


def test_the_last_line_without_newline_and_crlf_lines_count():
    lines, expected = generate(MONTH, 300, seed=5)
    crlf = [line.rstrip(b"\n") + b"\r\n" for line in lines]
    crlf[-1] = crlf[-1].rstrip(b"\r\n")
    summary = Summary(MONTH)
    _feed(summary, crlf + [b"\n", b"   \n"], 50)
    assert summary.lines == expected.lines
    assert summary.requests == expected.requests


def test_common_log_format_and_apache_dash_size():
    summary = Summary(MONTH)
    summary.feed_lines([b'192.0.2.1 - frank [10/Nov/2026:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326\n',
                        b'192.0.2.2 - - [10/Nov/2026:13:55:37 -0700] "GET /x HTTP/1.0" 304 -\n',
                        b'192.0.2.2 - - [01/Dec/2026:00:00:01 +0800] "GET /x HTTP/1.0" 200 5\n'])
    data = summary.to_dict()
    assert (data["requests"], data["unique_visitors"], data["bytes_sent"], data["other_months"]) == (2, 2, 2326, 1)


def test_classify():
    assert classify(b"/a/../../etc/passwd", None) == ["traversal"]
    assert classify(b"/x?id=1%27%20or%201=1", None) == ["sqli"]
    assert classify(b"/.env", None) == ["scanner"]
    assert classify(b"/berita/12", b"Mozilla/5.0") == []
    assert classify(b"/", b"Nikto/2.5") == ["scanner"]
    assert set(classify(b"/wp-login.php?x=%3Cscript%3E", None)) == {"xss", "scanner"}


def test_top_counter_is_exact_until_full_then_bounded_and_keeps_heavy_hitters():
    counter = TopCounter(capacity=50)
    rng = random.Random(1)
    truth: dict = {}
    for _ in range(50_000):
        key = f"/heavy/{rng.randrange(5)}" if rng.random() < 0.5 else f"/tail/{rng.randrange(100_000)}"
        counter.add(key)
        truth[key] = truth.get(key, 0) + 1
    assert len(counter.counts) <= 50 and not counter.exact
    top = dict(counter.top(5))
    assert set(top) == {f"/heavy/{i}" for i in range(5)}
    bound = counter.total / (counter.capacity + 1)
    for key, count in top.items():
        assert truth[key] - bound <= count <= truth[key]           # Misra-Gries: under by at most N/(k+1)


def test_distinct_counts_exactly_then_estimates_within_a_few_percent():
    counter = Distinct(cap=1000, p=14)
    for i in range(20_000):
        counter.add(f"10.0.{i // 256}.{i % 256}".encode())
        counter.add(f"10.0.{i // 256}.{i % 256}".encode())          # duplicates do not count
    assert counter.estimated and counter.exact is None
    assert abs(counter.count() - 20_000) / 20_000 < 0.03
    small = Distinct(cap=1000)
    for i in range(700):
        small.add(str(i).encode())
    assert (small.count(), small.estimated) == (700, False)
    hll = HyperLogLog(12)
    assert hll.estimate() == 0


def test_memory_stays_bounded_with_unbounded_distinct_keys(monkeypatch):
    """Half a million requests with (almost) all-distinct clients and paths: the counters stay capped."""
    monkeypatch.setattr(accesslog, "MONTH_EXACT_CAP", 5_000)
    monkeypatch.setattr(accesslog, "DAY_EXACT_CAP", 500)
    summary = Summary(MONTH)
    lines = (f'10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} - - [{i % 28 + 1:02d}/Nov/2026:10:00:00 +0800] '
             f'"GET /p/{i} HTTP/1.1" {404 if i % 3 == 0 else 200} 10 "-" "x"\n'.encode() for i in range(200_000))
    summary.feed_lines(lines)
    data = summary.to_dict()
    assert data["requests"] == 200_000
    assert data["unique_visitors_estimated"] is True
    assert abs(data["unique_visitors"] - 200_000) / 200_000 < 0.03
    assert summary._visitors.exact is None
    assert all(entry[1].exact is None for entry in summary._days.values())
    assert len(summary._pages.counts) <= accesslog.TOP_CAPACITY
    assert len(summary._ips_404.counts) <= accesslog.IP_CAPACITY
    assert data["top_pages_exact"] is False
