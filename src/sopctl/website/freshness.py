"""When was the website's content last changed? Dates from a sitemap, a feed, HTTP headers, the web root.

* sitemap: the newest `<lastmod>` (W3C datetime: `2026-11-20`, `2026-11-20T10:00:00+08:00`);
* feed: the newest RSS `<pubDate>` (RFC 822) or Atom `<updated>`/`<published>`;
* web root: the newest modification time of a file under the site's folder on its host, over SSH
  (`find -printf '%T@'` under LC_ALL=C, the largest value kept by awk: no sorting, constant memory);
* the page's `Last-Modified` header: used only when none of the above gives a date, because dynamic
  pages often send the time of the request itself, which would make a stale site look fresh.

Dates more than a day in the future are ignored (a wrong clock or a template's fixed date).
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Iterable

from ..transport.quoting import Command, sh

FUTURE_SLACK = _dt.timedelta(days=1)


@dataclass
class SourceDate:
    """One place a date was looked for: what was found (or why not)."""

    source: str                      # sitemap, feed, web-root, last-modified
    where: str                       # the URL or host:path
    newest: _dt.datetime | None = None
    count: int = 0                   # dates read
    ignored_future: int = 0
    error: str | None = None

    def to_dict(self) -> dict:
        return {"source": self.source, "where": self.where,
                "newest": self.newest.isoformat() if self.newest else None, "count": self.count,
                "ignored_future": self.ignored_future, "error": self.error}

    def line(self) -> str:
        if self.error:
            return f"{self.source} {self.where}: {self.error}"
        if self.newest is None:
            return f"{self.source} {self.where}: no date found"
        extra = f", {self.ignored_future} future date(s) ignored" if self.ignored_future else ""
        return f"{self.source} {self.where}: newest {self.newest.isoformat()} ({self.count} date(s){extra})"


def _utc(moment: _dt.datetime) -> _dt.datetime:
    return moment.replace(tzinfo=_dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(_dt.timezone.utc)


def parse_w3c(value: str) -> _dt.datetime | None:
    """A sitemap/Atom date: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a full ISO 8601 time (naive = UTC)."""
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 4 and text.isdigit():
            return _dt.datetime(int(text), 1, 1, tzinfo=_dt.timezone.utc)
        if len(text) == 7 and text[4] == "-":
            return _dt.datetime(int(text[:4]), int(text[5:]), 1, tzinfo=_dt.timezone.utc)
        return _utc(_dt.datetime.fromisoformat(text.replace("z", "Z")))
    except ValueError:
        return None


def parse_rfc822(value: str) -> _dt.datetime | None:
    """An RSS pubDate or an HTTP date (`Tue, 24 Nov 2026 10:00:00 GMT`)."""
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return _utc(moment) if moment else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def xml_dates(body: bytes, wanted: dict[str, callable]) -> tuple[list[_dt.datetime], int]:
    """Dates of the elements whose local name is in `wanted` (name -> parser); (dates, unreadable)."""
    dates, bad = [], 0
    for _event, element in ET.iterparse(io.BytesIO(body), events=("end",)):
        parser = wanted.get(_local(element.tag))
        if parser is not None:
            moment = parser(element.text or "")
            if moment is None:
                bad += 1
            else:
                dates.append(moment)
        element.clear()
    return dates, bad


def sitemap_dates(body: bytes) -> list[_dt.datetime]:
    return xml_dates(body, {"lastmod": parse_w3c})[0]


def feed_dates(body: bytes) -> list[_dt.datetime]:
    return xml_dates(body, {"pubdate": parse_rfc822, "updated": parse_w3c, "published": parse_w3c,
                            "date": parse_w3c})[0]


def newest(source: SourceDate, dates: Iterable[_dt.datetime], now: _dt.datetime) -> SourceDate:
    """Fill `source` with the newest of `dates` that is not in the future."""
    limit = now + FUTURE_SLACK
    for moment in dates:
        source.count += 1
        if moment > limit:
            source.ignored_future += 1
            continue
        if source.newest is None or moment > source.newest:
            source.newest = moment
    return source


# --------------------------------------------------------------------------------------------- web root

WEB_ROOT_MISSING = 3


def web_root_command(root: str, exclude: Iterable[str] = ()) -> Command:
    """The newest mtime (epoch seconds) and the file count under `root`: `<mtime> <count>`, exit 3 if missing.

    Excluded names (cache folders that change on every visit) are pruned with `-name X -prune -o`.
    """
    prune = Command("", "")
    for name in exclude:
        prune = prune + sh("-name {} -prune -o ", name)
    return (sh("test -d {} || { echo 'web root missing' >&2; exit 3; }; LC_ALL=C find {} -xdev ", root, root)
            + prune
            + "-type f -printf '%T@\\n' | LC_ALL=C awk "
              "'BEGIN{m=\"\"} {if (m == \"\" || $1 + 0 > m + 0) m = $1} END{print m, NR}'")


def parse_web_root(output: str) -> tuple[_dt.datetime | None, int]:
    """(newest mtime, number of files) from `web_root_command`'s output."""
    words = output.split()
    if len(words) < 2:
        return None, int(words[0]) if words and words[0].isdigit() else 0
    try:
        return _dt.datetime.fromtimestamp(float(words[0]), _dt.timezone.utc), int(words[1])
    except ValueError:
        return None, 0
