"""The court's websites, as inventory data: the top-level `websites` variable.

`websites` is a list of mappings in the inventory's `all.vars` or in a `group_vars/all` file next to it
(a later layer replaces the whole list, like any Ansible variable). See docs/website.md for every key.

    all:
      vars:
        websites:
          - name: pa-batulicin
            url: https://www.pa-batulicin.go.id/
            host: srv-web                      # the inventory host that serves it (web root, access log)
            web_root: /var/www/html
            access_log: /var/log/nginx/access.log*
            hosting_expires: 2027-03-31
            domain_expires: 2027-01-15
            max_content_age_days: 14

Every problem is an InputError naming the field (`websites[1].url`), so a typo never silently drops a
check from the monthly audit.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from ..errors import InputError, UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")

DEFAULT_TIMEOUT = 10.0          # seconds: the budget of each probe (page, TLS handshake, sitemap, feed)
DEFAULT_RETRIES = 2             # extra attempts after a refused/reset connection or a 502/503/504
DEFAULT_MAX_AGE_DAYS = 30       # newest content older than this fails website-fresh
DEFAULT_404_THRESHOLD = 50      # one client with this many 404s in a month is listed as suspicious
LOG_FORMATS = ("combined", "common")

KEYS = {
    "name", "url", "host", "web_root", "web_root_exclude", "access_log", "log_format", "provider",
    "hosting_expires", "domain_expires", "max_content_age_days", "expected_status", "timeout", "retries",
    "ca_file", "sitemap", "feed", "expect_text", "follow_redirects", "max_response_time",
    "suspicious_404_threshold", "notes",
}


@dataclass(frozen=True)
class Website:
    """One website the court runs or rents, with what sopctl needs to watch it."""

    name: str
    url: str
    host: str | None = None
    web_root: str | None = None
    web_root_exclude: tuple[str, ...] = ()
    access_logs: tuple[str, ...] = ()
    log_format: str = "combined"
    provider: str | None = None
    # Renewal dates: a date; None with the key present = not applicable (the court pays for no such
    # service); `..._known` False when the key is absent (then F.4 cannot be verified for it).
    hosting_expires: _dt.date | None = None
    hosting_known: bool = False
    domain_expires: _dt.date | None = None
    domain_known: bool = False
    max_content_age_days: float | None = DEFAULT_MAX_AGE_DAYS
    expected_status: tuple[int, ...] = (200,)
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    ca_file: str | None = None
    sitemap: str | None = None         # absolute URL, or None when disabled
    feed: str | None = None
    expect_text: str | None = None
    follow_redirects: bool = True
    max_response_time: float | None = None
    suspicious_404_threshold: int = DEFAULT_404_THRESHOLD
    notes: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def is_https(self) -> bool:
        return self.scheme == "https"

    @property
    def hostname(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    def describe(self) -> dict[str, Any]:
        """The settings as plain JSON values (for `website.list --json` and the situation report)."""
        return {
            "name": self.name, "url": self.url, "host": self.host, "web_root": self.web_root,
            "access_logs": list(self.access_logs), "log_format": self.log_format, "provider": self.provider,
            "hosting_expires": _iso(self.hosting_expires, self.hosting_known),
            "domain_expires": _iso(self.domain_expires, self.domain_known),
            "max_content_age_days": self.max_content_age_days, "expected_status": list(self.expected_status),
            "timeout": self.timeout, "retries": self.retries, "ca_file": self.ca_file, "sitemap": self.sitemap,
            "feed": self.feed,
        }


def _iso(day: _dt.date | None, known: bool) -> str | None:
    if day is not None:
        return day.isoformat()
    return "n/a" if known else None


# ------------------------------------------------------------------------------------------- parsing


class _Fields:
    """Reads one website mapping, raising InputError with the field's name."""

    def __init__(self, raw: Mapping[str, Any], where: str, source: str | None):
        self.raw, self.where, self.source = raw, where, source

    def error(self, key: str | None, message: str) -> InputError:
        return InputError(message, path=self.source, field=f"{self.where}.{key}" if key else self.where)

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.error(key, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(key, f"expected text, got {type(value).__name__}")
        return str(value).strip()

    def number(self, key: str, default: float | None, *, minimum: float = 0.0,
               integer: bool = False) -> float | None:
        if key not in self.raw:
            return default
        value = self.raw[key]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.error(key, f"expected a number, got {type(value).__name__}")
        try:
            number = int(value) if integer else float(value)
        except ValueError:
            raise self.error(key, f"expected a number, got {value!r}") from None
        if number < minimum:
            raise self.error(key, f"must be at least {minimum:g}, got {number:g}")
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def date(self, key: str) -> tuple[_dt.date | None, bool]:
        """(date, known): absent -> (None, False); null / "none" / "n/a" -> (None, True)."""
        if key not in self.raw:
            return None, False
        value = self.raw[key]
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "n/a", "na")):
            return None, True
        if isinstance(value, _dt.datetime):
            return value.date(), True
        if isinstance(value, _dt.date):
            return value, True
        try:
            return _dt.date.fromisoformat(str(value).strip()), True
        except ValueError:
            raise self.error(key, f"expected a date YYYY-MM-DD (or null when not applicable), got {value!r}") \
                from None

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise self.error(key, f"expected text or a list of text, got {type(value).__name__}")
        out = []
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{key}[{index}]", f"expected text, got {item!r}")
            out.append(item.strip())
        return tuple(out)


def _url(fields: _Fields, key: str, value: str, base: str) -> str:
    """An absolute http(s) URL; a value starting with / is taken relative to the site's URL."""
    if value.startswith("/"):
        parts = urlsplit(base)
        value = f"{parts.scheme}://{parts.netloc}{value}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fields.error(key, f"expected an http:// or https:// URL (or a path starting with /), got {value!r}")
    return value


def parse_website(raw: Any, where: str = "websites[0]", source: str | None = None) -> Website:
    """One `websites` entry as a Website (InputError naming the field on any problem)."""
    if not isinstance(raw, Mapping):
        raise InputError(f"expected a mapping with name and url, got {type(raw).__name__}", path=source,
                         field=where)
    fields = _Fields(raw, where, source)
    unknown = sorted(str(k) for k in raw if k not in KEYS)
    if unknown:
        raise fields.error(unknown[0], f"unknown key (known: {', '.join(sorted(KEYS))})")
    name = fields.text("name", required=True)
    if not NAME.match(name):
        raise fields.error("name", f"{name!r}: use letters, digits, '.', '_' or '-' (it names results in reports)")
    url = _url(fields, "url", fields.text("url", required=True), "")
    for key in ("web_root",):
        root = fields.text(key)
        if root is not None and not root.startswith("/"):
            raise fields.error(key, f"expected an absolute path on the host, got {root!r}")
    logs = fields.strings("access_log")
    for index, log in enumerate(logs):
        if not log.startswith("/"):
            raise fields.error(f"access_log[{index}]" if len(logs) > 1 else "access_log",
                               f"expected an absolute path on the host, got {log!r}")
    host = fields.text("host")
    if (fields.text("web_root") or logs) and not host:
        raise fields.error("host", "is required with web_root or access_log (the inventory host that serves it)")
    log_format = fields.text("log_format") or "combined"
    if log_format not in LOG_FORMATS:
        raise fields.error("log_format", f"{log_format!r}: use one of {', '.join(LOG_FORMATS)} "
                                         "(nginx's and Apache's default formats)")
    status_raw = raw.get("expected_status", 200)
    statuses = status_raw if isinstance(status_raw, (list, tuple)) else [status_raw]
    expected: list[int] = []
    for value in statuses:
        try:
            code = int(value)
        except (TypeError, ValueError):
            raise fields.error("expected_status", f"expected an HTTP status or a list of them, got {value!r}") \
                from None
        if not 100 <= code <= 599 or isinstance(value, bool):
            raise fields.error("expected_status", f"{value!r} is not an HTTP status (100-599)")
        expected.append(code)
    if not expected:
        raise fields.error("expected_status", "give at least one status")
    timeout = fields.number("timeout", DEFAULT_TIMEOUT, minimum=0.1)
    if timeout is None:
        raise fields.error("timeout", "must be a number of seconds")
    retries = fields.number("retries", DEFAULT_RETRIES, integer=True)
    sitemap_raw = raw.get("sitemap", "/sitemap.xml")
    sitemap = None if sitemap_raw in (None, False, "") else _url(fields, "sitemap", str(sitemap_raw), url)
    feed_raw = fields.text("feed")
    feed = _url(fields, "feed", feed_raw, url) if feed_raw else None
    hosting, hosting_known = fields.date("hosting_expires")
    domain, domain_known = fields.date("domain_expires")
    threshold = fields.number("suspicious_404_threshold", DEFAULT_404_THRESHOLD, minimum=1, integer=True)
    return Website(
        name=name, url=url, host=host, web_root=fields.text("web_root"),
        web_root_exclude=fields.strings("web_root_exclude"), access_logs=logs, log_format=log_format,
        provider=fields.text("provider"), hosting_expires=hosting, hosting_known=hosting_known,
        domain_expires=domain, domain_known=domain_known,
        max_content_age_days=fields.number("max_content_age_days", DEFAULT_MAX_AGE_DAYS),
        expected_status=tuple(expected), timeout=float(timeout), retries=int(retries or 0),
        ca_file=fields.text("ca_file"), sitemap=sitemap, feed=feed, expect_text=fields.text("expect_text"),
        follow_redirects=fields.flag("follow_redirects", True),
        max_response_time=fields.number("max_response_time", None, minimum=0.001),
        suspicious_404_threshold=int(threshold or DEFAULT_404_THRESHOLD), notes=fields.text("notes"),
    )


def parse_websites(raw: Any, source: str | None = None) -> list[Website]:
    """The whole `websites` list; names must be unique."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise InputError(f"expected a list of websites, got {type(raw).__name__}", path=source, field="websites")
    sites: list[Website] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        site = parse_website(entry, f"websites[{index}]", source)
        if site.name in seen:
            raise InputError(f"name {site.name!r} is also used by websites[{seen[site.name]}]", path=source,
                             field=f"websites[{index}].name")
        seen[site.name] = index
        sites.append(site)
    return sites


def websites_var(inventory) -> tuple[Any, str | None]:
    """The effective top-level `websites` value of an inventory and where it came from.

    Layers, lowest first: the inventory's `all.vars`, then each `group_vars/all` beside its sources (the
    same order Ansible uses for the `all` group); a later layer replaces the list.
    """
    value, source = None, None
    all_vars = inventory.groups["all"].vars if "all" in inventory.groups else {}
    if "websites" in all_vars:
        value, source = all_vars["websites"], (inventory.sources[0] if inventory.sources else None)
    for vars_dir in getattr(inventory, "vars_dirs", ()):
        layer = vars_dir.group_vars.get("all") or {}
        if "websites" in layer:
            value, source = layer["websites"], f"{vars_dir.path}/group_vars/all"
    return value, source


def load_websites(inventory, names: Iterable[str] | str | None = None) -> list[Website]:
    """The inventory's websites, optionally only those named (comma-separated text or a list)."""
    raw, source = websites_var(inventory)
    sites = parse_websites(raw, source)
    for site in sites:
        if site.host and site.host not in inventory.hosts:
            raise InputError(f"host {site.host!r} is not in the inventory", path=source,
                             field=f"websites[{sites.index(site)}].host")
    if names is None or names == "":
        return sites
    wanted = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    known = {site.name: site for site in sites}
    missing = [n for n in wanted if n not in known]
    if missing:
        listed = ", ".join(known) or "none: add a `websites:` list to the inventory's all.vars"
        raise UsageError(f"--name {missing[0]!r}: no such website (known: {listed})")
    return [known[n] for n in wanted]
