"""A generated web-server access log, with the counts a summary must find worked out independently.

`generate(month, n)` writes `n` lines in nginx/Apache combined format: ordinary visits, lines of the
month before, malformed lines, a TLS client hello logged as a bad request, and injected attacks of
known kinds (each injected line belongs to exactly one category, and ordinary lines to none). The
expected counts are kept while generating, from what was generated, not by parsing the lines back:
the test compares sopctl's parser with this independent bookkeeping.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PAGES = ["/", "/berita", "/jadwal-sidang", "/pengumuman", "/kontak", "/profil/visi-misi", "/layanan/ecourt",
         "/static/app.css", "/static/logo.png"] + [f"/berita/{i}" for i in range(1, 52)]
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
          "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/119.0 Mobile Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"]
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
ATTACKS = {
    "traversal": ["/download.php?file=../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
                  "/index.php?page=....//....//etc/shadow", "/static/..%252f..%252fwin.ini"],
    "sqli": ["/berita?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--",
             "/cari?q=1'+or+'1'='1", "/berita?id=1+AND+SLEEP(5)", "/berita?id=-1+union+all+select+1,2,3"],
    "xss": ["/cari?q=%3Cscript%3Ealert(1)%3C/script%3E", "/cari?q=%22%3E%3Csvg/onload=alert(1)%3E",
            "/kontak?nama=javascript:alert(document.domain)"],
    "scanner": ["/wp-login.php", "/.env", "/phpmyadmin/index.php", "/.git/config", "/xmlrpc.php",
                "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/wp-admin/setup-config.php"],
}
NOISY_IP = "203.0.113.66"          # walks the site for missing pages: many 404s
QUIET_IP = "203.0.113.77"          # a few 404s, under the threshold
THRESHOLD_404 = 50


@dataclass
class Expected:
    month: str
    lines: int = 0
    malformed: int = 0
    other_months: int = 0
    requests: int = 0
    bad_requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    bytes_sent: int = 0
    bot_requests: int = 0
    suspicious_requests: int = 0
    visitors: set = field(default_factory=set)
    days: Counter = field(default_factory=Counter)
    day_visitors: dict = field(default_factory=dict)
    pages: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    not_found_by_ip: Counter = field(default_factory=Counter)

    @property
    def many_404(self) -> list[tuple[str, int]]:
        return sorted(((ip, n) for ip, n in self.not_found_by_ip.items() if n >= THRESHOLD_404),
                      key=lambda kv: (-kv[1], kv[0]))


def _stamp(year: int, month: int, day: int, rng: random.Random) -> str:
    return (f"{day:02d}/{MONTHS[month - 1]}/{year}:{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
            f"{rng.randrange(60):02d} +0800")


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def generate(month: str, n: int = 100_000, seed: int = 32, ips: int = 2500) -> tuple[list[bytes], Expected]:
    """`n` log lines (bytes, each ending in a newline) and what a correct summary of `month` finds."""
    rng = random.Random(seed)
    year, number = (int(x) for x in month.split("-"))
    prev_year, prev_month = _previous(year, number)
    pool = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(ips)]
    pool += [f"2001:db8::{i:x}" for i in range(1, 60)]
    expected = Expected(month)
    lines: list[bytes] = []
    for _ in range(n):
        roll = rng.random()
        expected.lines += 1
        if roll < 0.005:
            lines.append(b"this is not an access log line\n")
            expected.malformed += 1
            continue
        ip = rng.choice(pool)
        day = rng.randrange(1, 29)
        agent = rng.choice(AGENTS)
        category = None
        bad = False
        if roll < 0.055:                       # a visit of the month before
            stamp = _stamp(prev_year, prev_month, day, rng)
            line = f'{ip} - - [{stamp}] "GET {rng.choice(PAGES)} HTTP/1.1" 200 {rng.randrange(200, 90000)} "-" "{agent}"'
            lines.append(line.encode() + b"\n")
            expected.other_months += 1
            continue
        if roll < 0.060:
            target, status, size = None, 400, 157          # a TLS handshake sent to port 80
            request = "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03"
            bad = True
        elif roll < 0.100:
            category = rng.choice(list(ATTACKS))
            target = rng.choice(ATTACKS[category])
            status = rng.choice([400, 403, 404, 404, 200])
            size = rng.randrange(100, 3000)
        elif roll < 0.105:
            category = "scanner"                           # known scanner by its user agent, on a normal page
            target, status, size = rng.choice(PAGES), 200, rng.randrange(200, 5000)
            agent = "sqlmap/1.7.2#stable (https://sqlmap.org)"
        elif roll < 0.112:
            ip, target, status, size = NOISY_IP, f"/arsip/{rng.randrange(10_000)}.pdf", 404, 153
        elif roll < 0.1124:
            ip, target, status, size = QUIET_IP, "/tidak-ada", 404, 153
        else:
            target = rng.choice(PAGES)
            if rng.random() < 0.1:
                target += f"?page={rng.randrange(1, 9)}"
            status = rng.choices([200, 304, 301, 404, 500, 503], weights=[880, 50, 20, 25, 15, 10])[0]
            size = 0 if status == 304 else rng.randrange(200, 90000)
            if rng.random() < 0.03:
                agent = BOT
        if target is not None:
            request = f"{rng.choice(['GET', 'GET', 'GET', 'HEAD', 'POST'])} {target} HTTP/1.1"
        user = "budi" if rng.random() < 0.01 else "-"
        shown_size = "-" if (size == 0 and rng.random() < 0.5) else str(size)
        stamp = _stamp(year, number, day, rng)
        line = f'{ip} - {user} [{stamp}] "{request}" {status} {shown_size} "https://pa-batulicin.go.id/" "{agent}"'
        lines.append(line.encode() + b"\n")
        # ---- independent bookkeeping
        expected.requests += 1
        expected.visitors.add(ip)
        expected.days[day] += 1
        expected.day_visitors.setdefault(day, set()).add(ip)
        expected.statuses[status] += 1
        expected.bytes_sent += 0 if shown_size == "-" else size
        if agent == BOT:
            expected.bot_requests += 1
        if bad:
            expected.bad_requests += 1
        if 400 <= status < 500:
            expected.errors_4xx += 1
            if status == 404:
                expected.not_found_by_ip[ip] += 1
        elif status >= 500:
            expected.errors_5xx += 1
        if status < 400 and not bad:
            expected.pages[target.split("?")[0]] += 1
        if category:
            expected.categories[category] += 1
            expected.suspicious_requests += 1
    return lines, expected
