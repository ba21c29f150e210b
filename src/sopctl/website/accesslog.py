"""A month's visitor summary from a web server's access log (SOP F.3, "Log Aktivitas Pengunjung").

The log is read as a stream of byte blocks (over one SSH channel, see remote.py), split into lines and
parsed one line at a time, so memory does not grow with the log: a 1 GB file is fine. Counters are
bounded:

* requests per day: at most 31 days;
* unique visitors (distinct client addresses), for the month and per day: exact up to a cap (100,000
  for the month, 10,000 per day), then a HyperLogLog estimate (about 1% error; `*_estimated` says so);
* top pages and top error pages (at most `TOP_CAPACITY` = 5,000 keys each), client addresses with many
  404s and with suspicious requests (at most `IP_CAPACITY` = 50,000 each): Misra-Gries summaries. While
  fewer distinct keys than the capacity were seen the counts are exact (`exact` true); after that a
  count may be too low by at most requests / (capacity + 1), never too high, and every key more
  frequent than that is guaranteed to be kept (so a listed address really made that many requests).

Worst case, with every counter full, the summary holds about 30 MB whatever the size of the log.

The format is the *combined* log format that nginx and Apache write by default (`common` is the same
without referrer and user agent):

    203.0.113.9 - - [24/Nov/2026:10:00:00 +0800] "GET /berita/1 HTTP/1.1" 200 5120 "-" "Mozilla/5.0"

The month is taken from the time as the log writes it (the web server's local time, the court's WITA
for a server in Batulicin): `[01/Nov/2026:00:10:00 +0800]` belongs to November.

What counts as what (docs/website.md has the same list):

* request: every parsed line of the month; visitor: a distinct client address;
* top pages: the path (query string removed) of requests answered below 400;
* errors: answers 400-499 and 500-599, with the most frequent (status, path) pairs;
* suspicious: requests whose decoded, lower-cased target shows path traversal (`../`, `/etc/passwd`),
  SQL injection (`union select`, `' or '1'='1`, `sleep(`...), script injection (`<script`), a probe of
  well-known attack targets (`/wp-login.php`, `/.env`, `phpmyadmin`, `/.git/`...), or a scanner's user
  agent (sqlmap, nikto, ...); and client addresses with at least `threshold_404` answers 404 in the month.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import unquote

MONTH_ABBR = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")
TOP_CAPACITY = 5000            # keys kept by the Misra-Gries summaries of pages and error pages
IP_CAPACITY = 50_000           # keys kept by the summaries of client addresses (404s, suspicious requests)
TOP_SHOWN = 20                 # entries shown in a summary
SAMPLES = 5                    # example targets kept per suspicious category
MONTH_EXACT_CAP = 100_000
DAY_EXACT_CAP = 10_000
MAX_LINE = 64 << 10            # longer "lines" are cut (a binary file read as a log)
MAX_KEY = 300                  # characters of a path kept as a key
CACHE_SIZE = 8192               # classified targets / user agents remembered

# A quoted field is `"[^"\\]*(?:\\.[^"\\]*)*"` (the unrolled form of `(?:[^"\\]|\\.)*`, several times faster):
# nginx writes a quote inside a field as \x22, Apache as \".
LINE = re.compile(
    rb'(\S+) \S+ \S+ \[(\d{1,2})/([A-Za-z]{3})/(\d{4}):[^\]]*\] '
    rb'"([^"\\]*(?:\\.[^"\\]*)*)" (\d{3}) (\d+|-)'
    rb'(?: "[^"\\]*(?:\\.[^"\\]*)*" "([^"\\]*(?:\\.[^"\\]*)*)")?')

CATEGORIES = ("traversal", "sqli", "xss", "scanner")
_TRAVERSAL = re.compile(r"\.\./|\.\.\\|/etc/passwd|/etc/shadow|win\.ini|/proc/self/")
_SQLI = re.compile(r"union(\s|/\*.*?\*/)+(all\s+)?select|'\s*(or|and)\s+'?\d*'?\s*=|\bor\s+1\s*=\s*1|"
                   r"\bsleep\s*\(\s*\d|benchmark\s*\(|information_schema|waitfor\s+delay|"
                   r"\bselect\b.{1,80}\bfrom\b.{1,80}\bwhere\b|;\s*drop\s+table|extractvalue\s*\(|"
                   r"updatexml\s*\(")
_XSS = re.compile(r"<script|javascript:|onerror\s*=|onload\s*=|<svg[^>]*on\w+\s*=|document\.cookie")
_SCANNER_PATH = re.compile(
    r"/wp-login\.php|/wp-admin|/xmlrpc\.php|/wp-config|/\.env\b|/\.git/|/\.svn/|/\.aws/|/\.ds_store|"
    r"phpmyadmin|/pma/|/myadmin|/adminer|/phpinfo|/cgi-bin/|/vendor/phpunit|/boaform|/actuator|"
    r"/server-status|/shell\.php|/config\.php\.bak|/\.htaccess|/\.htpasswd|/solr/|/hnap1|/console/"
    r"|/owa/|/autodiscover/|/_ignition/|/telescope/")
_SCANNER_AGENT = re.compile(rb"sqlmap|nikto|nmap|masscan|zgrab|nuclei|wpscan|dirbuster|gobuster|"
                            rb"acunetix|nessus|openvas|fuzz faster|ffuf|hydra|python-requests|go-http-client",
                            re.IGNORECASE)
_BOT_AGENT = re.compile(rb"bot\b|bot/|crawler|spider|slurp|bingpreview|facebookexternalhit", re.IGNORECASE)


# ------------------------------------------------------------------------------------------- counters


class HyperLogLog:
    """A distinct-count estimate in 2^p bytes (p=14: 16 KiB, about 0.8% standard error)."""

    def __init__(self, p: int = 14):
        self.p, self.m = p, 1 << p
        self.registers = bytearray(self.m)
        self._shift = 64 - p
        self._mask = (1 << self._shift) - 1

    def add_hash(self, value: int) -> None:
        value &= 0xFFFFFFFFFFFFFFFF
        index = value >> self._shift
        rest = value & self._mask
        rank = self._shift - rest.bit_length() + 1
        if rank > self.registers[index]:
            self.registers[index] = rank

    def estimate(self) -> int:
        m = self.m
        alpha = 0.7213 / (1 + 1.079 / m)
        total = sum(2.0 ** -r for r in self.registers)
        raw = alpha * m * m / total
        zeros = self.registers.count(0)
        if raw <= 2.5 * m and zeros:
            raw = m * math.log(m / zeros)      # linear counting for small cardinalities
        return int(round(raw))


class Distinct:
    """Exact distinct count up to `cap` keys (kept as 64-bit hashes), then a HyperLogLog estimate."""

    __slots__ = ("cap", "p", "exact", "hll")

    def __init__(self, cap: int, p: int = 14):
        self.cap, self.p = cap, p
        self.exact: set[int] | None = set()
        self.hll: HyperLogLog | None = None

    def add(self, key: bytes) -> None:
        value = hash(key)
        if self.exact is not None:
            self.exact.add(value)
            if len(self.exact) > self.cap:
                self.hll = HyperLogLog(self.p)
                for item in self.exact:
                    self.hll.add_hash(_mix(item))
                self.exact = None
        else:
            self.hll.add_hash(_mix(value))

    @property
    def estimated(self) -> bool:
        return self.exact is None

    def count(self) -> int:
        return len(self.exact) if self.exact is not None else self.hll.estimate()


def _mix(value: int) -> int:
    """Spread a Python hash over 64 bits (splitmix64 finaliser) for HyperLogLog's leading-zero count."""
    value = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return value ^ (value >> 31)


class TopCounter:
    """Misra-Gries heavy hitters with at most `capacity` keys: exact until it first has to evict."""

    __slots__ = ("capacity", "counts", "total", "evicted")

    def __init__(self, capacity: int = TOP_CAPACITY):
        self.capacity = capacity
        self.counts: dict = {}
        self.total = 0
        self.evicted = False

    def add(self, key) -> None:
        self.total += 1
        counts = self.counts
        if key in counts:
            counts[key] += 1
        elif len(counts) < self.capacity:
            counts[key] = 1
        else:
            # Decrement every counter (the new key's single count cancels against them); drop zeros.
            self.evicted = True
            for other in list(counts):
                if counts[other] == 1:
                    del counts[other]
                else:
                    counts[other] -= 1

    @property
    def exact(self) -> bool:
        return not self.evicted

    def top(self, n: int = TOP_SHOWN) -> list[tuple]:
        return heapq.nsmallest(n, self.counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def at_least(self, threshold: int) -> list[tuple]:
        return sorted(((k, v) for k, v in self.counts.items() if v >= threshold), key=lambda kv: (-kv[1], kv[0]))


# ------------------------------------------------------------------------------------------- summary


@dataclass
class FileRead:
    path: str
    bytes: int = 0
    lines: int = 0
    rc: int | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {"path": self.path, "bytes": self.bytes, "lines": self.lines, "rc": self.rc, "error": self.error}


def _text(raw: bytes, limit: int = MAX_KEY) -> str:
    return raw[:limit].decode("utf-8", "replace")


def classify(target: bytes, agent: bytes | None) -> list[str]:
    """The suspicious categories of one request target (and user agent)."""
    text = target.decode("latin-1")
    if "%" in text or "+" in text:
        text = unquote(unquote(text.replace("+", " ")), encoding="latin-1")
    low = text.lower()
    found = []
    # Cheap substring tests first: an ordinary target ("/berita/12?page=2") skips the regular expressions.
    if (".." in low or "/etc/" in low or "win.ini" in low or "/proc/" in low) and _TRAVERSAL.search(low):
        found.append("traversal")
    if (any(ch in low for ch in "'(; *") or "information_schema" in low) and _SQLI.search(low):
        found.append("sqli")
    if ("<" in low or ":" in low or "onerror" in low or "onload" in low or "cookie" in low) and _XSS.search(low):
        found.append("xss")
    path = low.split("?", 1)[0]
    if _SCANNER_PATH.search(path) or (agent and _SCANNER_AGENT.search(agent)):
        found.append("scanner")
    return found


@dataclass
class Summary:
    """Counters for one month of one site's access log; feed it lines (bytes) or blocks."""

    month: str                               # YYYY-MM
    threshold_404: int = 50
    lines: int = 0
    parsed: int = 0
    malformed: int = 0
    other_months: int = 0
    requests: int = 0
    bytes_sent: int = 0
    bot_requests: int = 0
    bad_requests: int = 0                    # request line not "METHOD target PROTOCOL"
    errors_4xx: int = 0
    errors_5xx: int = 0
    suspicious_requests: int = 0
    status_codes: dict = field(default_factory=dict)
    categories: dict = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    samples: dict = field(default_factory=lambda: {c: [] for c in CATEGORIES})
    files: list = field(default_factory=list)

    def __post_init__(self) -> None:
        year, number = self.month.split("-")
        self._year, self._mon = year.encode(), MONTH_ABBR[int(number) - 1]
        self._days: dict[int, list] = {}
        self._visitors = Distinct(MONTH_EXACT_CAP, 14)
        self._pages = TopCounter()
        self._errors = TopCounter()
        self._suspicious_ips = TopCounter(IP_CAPACITY)
        self._ips_404 = TopCounter(IP_CAPACITY)
        self._rest = b""
        # Targets and user agents repeat a lot in real logs: their verdicts are cached (bounded: a full
        # cache is emptied and starts again).
        self._target_cache: dict = {}
        self._agent_cache: dict = {}

    # ---------------------------------------------------------------------------------------- feeding

    def feed_block(self, block: bytes) -> None:
        """Part of the log (any size); lines are completed across blocks."""
        data = self._rest + block if self._rest else block
        lines = data.split(b"\n")
        self._rest = lines.pop()
        if len(self._rest) > MAX_LINE:
            self._rest = self._rest[:MAX_LINE]
        line = self.line
        for raw in lines:
            line(raw)

    def end_file(self) -> None:
        """The end of one file: its last line may lack a newline."""
        if self._rest:
            rest, self._rest = self._rest, b""
            self.line(rest)

    def feed_lines(self, lines: Iterable[bytes]) -> None:
        for raw in lines:
            self.line(raw.rstrip(b"\n"))

    def line(self, raw: bytes) -> None:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw or raw.isspace():
            return                        # blank lines are not log lines
        self.lines += 1
        match = LINE.match(raw)
        if match is None:
            self.malformed += 1
            return
        self.parsed += 1
        ip, day, mon, year, request, status, size, agent = match.groups()
        if year != self._year or mon != self._mon:
            self.other_months += 1
            return
        self.requests += 1
        code = int(status)
        self.status_codes[code] = self.status_codes.get(code, 0) + 1
        if size != b"-":
            self.bytes_sent += int(size)
        day_number = int(day)
        entry = self._days.get(day_number)
        if entry is None:
            entry = self._days[day_number] = [0, Distinct(DAY_EXACT_CAP, 12)]
        entry[0] += 1
        entry[1].add(ip)
        self._visitors.add(ip)
        if agent:
            verdict = self._agent_cache.get(agent)
            if verdict is None:
                if len(self._agent_cache) >= CACHE_SIZE:
                    self._agent_cache.clear()
                verdict = self._agent_cache[agent] = (bool(_BOT_AGENT.search(agent)),
                                                      bool(_SCANNER_AGENT.search(agent)))
            if verdict[0]:
                self.bot_requests += 1
        else:
            verdict = (False, False)
        parts = request.split(b" ")
        target = parts[1] if len(parts) == 3 else None
        if target is None:
            self.bad_requests += 1
            path = _text(request, 80)
        else:
            path = _text(target.split(b"?", 1)[0])
        if code < 400:
            if target is not None:
                self._pages.add(path)
        else:
            if code < 500:
                self.errors_4xx += 1
                if code == 404:
                    self._ips_404.add(_text(ip, 64))
            elif code < 600:
                self.errors_5xx += 1
            self._errors.add(f"{code} {path}")
        if target is not None:
            found = self._target_cache.get(target)
            if found is None:
                if len(self._target_cache) >= CACHE_SIZE:
                    self._target_cache.clear()
                found = self._target_cache[target] = classify(target, None)
            if verdict[1] and "scanner" not in found:
                found = [*found, "scanner"]
            if found:
                self.suspicious_requests += 1
                self._suspicious_ips.add(_text(ip, 64))
                for category in found:
                    self.categories[category] += 1
                    if len(self.samples[category]) < SAMPLES:
                        self.samples[category].append(_text(target, 200))

    # --------------------------------------------------------------------------------------- results

    @property
    def unique_visitors(self) -> int:
        return self._visitors.count()

    def days(self) -> dict[str, dict]:
        out = {}
        for number in sorted(self._days):
            count, visitors = self._days[number]
            out[f"{self.month}-{number:02d}"] = {"requests": count, "visitors": visitors.count(),
                                                 "estimated": visitors.estimated}
        return out

    def many_404(self) -> list[tuple[str, int]]:
        return self._ips_404.at_least(self.threshold_404)

    def top_pages(self, n: int = TOP_SHOWN) -> list[tuple[str, int]]:
        return self._pages.top(n)

    def to_dict(self) -> dict:
        """Everything a report needs, as JSON values (what F.3's evidence row holds)."""
        classes: dict[str, int] = {}
        for code, count in self.status_codes.items():
            key = f"{code // 100}xx"
            classes[key] = classes.get(key, 0) + count
        many = self.many_404()
        return {
            "month": self.month,
            "files": [f.to_dict() for f in self.files],
            "lines": self.lines, "parsed": self.parsed, "malformed": self.malformed,
            "other_months": self.other_months,
            "requests": self.requests,
            "unique_visitors": self.unique_visitors,
            "unique_visitors_estimated": self._visitors.estimated,
            "days": self.days(),
            "bytes_sent": self.bytes_sent,
            "bot_requests": self.bot_requests,
            "bad_requests": self.bad_requests,
            "status_classes": dict(sorted(classes.items())),
            "status_codes": {str(k): v for k, v in sorted(self.status_codes.items())},
            "errors_4xx": self.errors_4xx,
            "errors_5xx": self.errors_5xx,
            "top_pages": [list(kv) for kv in self._pages.top()],
            "top_pages_exact": self._pages.exact,
            "top_errors": [list(kv) for kv in self._errors.top()],
            "top_errors_exact": self._errors.exact,
            "suspicious": {
                "requests": self.suspicious_requests,
                "categories": dict(self.categories),
                "samples": {k: list(v) for k, v in self.samples.items() if v},
                "top_ips": [list(kv) for kv in self._suspicious_ips.top(10)],
                "many_404": [list(kv) for kv in many],
                "threshold_404": self.threshold_404,
                "exact": self._suspicious_ips.exact and self._ips_404.exact,
            },
        }

    def observed(self) -> str:
        """One line for the check result's `observed`."""
        parts = [f"{self.requests} requests", f"{self.unique_visitors}"
                 f"{' (estimated)' if self._visitors.estimated else ''} unique visitors",
                 f"errors 4xx {self.errors_4xx}, 5xx {self.errors_5xx}"]
        flagged = [f"{c} {n}" for c, n in self.categories.items() if n]
        many = self.many_404()
        if flagged or many:
            text = "suspicious: " + (", ".join(flagged) if flagged else "none by pattern")
            if many:
                shown = ", ".join(f"{ip} ({n})" for ip, n in many[:5])
                more = f" +{len(many) - 5} more" if len(many) > 5 else ""
                text += f"; many 404s from {shown}{more}"
            parts.append(text)
        return "; ".join(parts)
