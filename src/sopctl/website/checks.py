"""The website checks (SOP F.1, F.3, F.4): what each looks at and when it passes. See docs/website.md.

| check | item | pass | fail | error |
|---|---|---|---|---|
| website-available | F.1 | the expected HTTP status (and `expect_text`, and within `max_response_time`) | another status, timeout, refused, reset, TLS handshake failure, name not resolved | (bad configuration) |
| website-tls-valid | F.1 | the certificate verifies (chain, host name, dates) | it does not: expired, not yet valid, self-signed/untrusted, wrong name | no certificate could be read; `na` for http:// |
| website-fresh | F.1 | newest content date within `max_content_age_days` | older | no date found anywhere; `na` when max_content_age_days is null |
| website-renewals | F.4 | nothing expired or within 7 days (warning level 60/30 shown) | something expired or expires within 7 days | a date is not known (key absent, certificate unreadable) |
| website-access-summary | F.3 | the month's lines were read and summarised | no log file, unreadable, or no line of the month | host unreachable, no access_log configured |

The host of each result is the website's name, so the report shows one line per website and check.
"""

from __future__ import annotations

import datetime as _dt
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..transport.quoting import sh
from ..transport.ssh import HostUnavailable
from . import freshness as _fresh
from .accesslog import FileRead, Summary
from .config import Website
from .probe import TIMEOUT, FetchError, Fetched, TlsResult, fetch, tls_probe, unverified_context
from .remote import Hosts, StreamResult

AVAILABLE, TLS_VALID, FRESH, RENEWALS, ACCESS = (
    "website-available", "website-tls-valid", "website-fresh", "website-renewals", "website-access-summary")
SOP_OF = {AVAILABLE: "F.1", TLS_VALID: "F.1", FRESH: "F.1", RENEWALS: "F.4", ACCESS: "F.3"}
SEVERITY = {AVAILABLE: "high", TLS_VALID: "high", FRESH: "medium", RENEWALS: "high", ACCESS: "low"}
RUN_KIND = "website"
ACCESS_RUN_KIND = "website-access"
EVIDENCE_KIND = "website-access-summary"
WARNING_DAYS = (60, 30, 7)          # renewal warnings; within the last one (or expired) the check fails


@dataclass
class Outcome:
    """One check on one website, ready for `Run.add_result` (host = the website's name)."""

    check_id: str
    site: str
    status: str
    observed: str
    expected: str
    command: str | None = None
    output: str | None = None
    data: dict = field(default_factory=dict)
    time: str | None = None

    def as_result(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "host": self.site, "status": self.status,
                "sop_ids": [SOP_OF[self.check_id]], "observed": self.observed, "expected": self.expected,
                "command": self.command, "output": self.output, "severity": SEVERITY[self.check_id],
                "time": self.time}

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check_id, "website": self.site, "sop": SOP_OF[self.check_id], "status": self.status,
                "observed": self.observed, "expected": self.expected, "command": self.command,
                "output": self.output, "data": self.data}


@dataclass
class SiteReport:
    """All checks of one website in one go, with the facts they were decided from."""

    site: Website
    outcomes: list[Outcome]
    facts: dict[str, Any]


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _stamp(now: _dt.datetime) -> str:
    return now.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _days(value: float) -> int:
    """Whole days, truncated toward zero: 3.9 days left is 3, 30.2 days past expiry is -30."""
    return math.trunc(value)


# ------------------------------------------------------------------------------------------ availability


def check_available(site: Website, now: _dt.datetime) -> tuple[Outcome, Fetched | None, FetchError | None]:
    expected = " or ".join(str(s) for s in site.expected_status)
    wanted = f"HTTP {expected} within {site.timeout:g}s"
    if site.expect_text:
        wanted += f", page contains {site.expect_text!r}"
    if site.max_response_time:
        wanted += f", response within {site.max_response_time:g}s"
    command = f"GET {site.url}"
    try:
        answer = fetch(site.url, timeout=site.timeout, retries=site.retries,
                       context=unverified_context() if site.is_https else None,
                       follow_redirects=site.follow_redirects, accept=site.expected_status)
    except FetchError as exc:
        attempts = f" ({exc.attempts} attempts)" if exc.attempts > 1 else ""
        observed = f"{exc.kind}: {exc}{attempts}"
        data = {"error": exc.kind, "message": str(exc), "attempts": exc.attempts, "elapsed": round(exc.elapsed, 3)}
        return (Outcome(AVAILABLE, site.name, "fail", observed, wanted, command, "\n".join(exc.notes), data),
                None, exc)
    problems = []
    if answer.status not in site.expected_status:
        problems.append(f"status {answer.status}")
    if site.expect_text and site.expect_text.encode("utf-8") not in answer.body:
        problems.append(f"text {site.expect_text!r} not on the page")
    if site.max_response_time and answer.response_time > site.max_response_time:
        problems.append(f"slow ({_ms(answer.response_time)})")
    observed = f"HTTP {answer.status} {answer.reason} in {_ms(answer.response_time)}"
    if answer.attempts > 1:
        observed += f" (attempt {answer.attempts})"
    if problems:
        observed += "; " + ", ".join(problems)
    lines = [f"url: {answer.url}"] + [f"redirect: {r}" for r in answer.redirects] + answer.notes
    for header in ("server", "content-type", "content-length", "last-modified"):
        if header in answer.headers:
            lines.append(f"{header}: {answer.headers[header]}")
    data = {"status": answer.status, "response_ms": round(answer.response_time * 1000, 1),
            "total_ms": round(answer.total_time * 1000, 1), "attempts": answer.attempts, "final_url": answer.url,
            "redirects": answer.redirects}
    return (Outcome(AVAILABLE, site.name, "fail" if problems else "pass", observed, wanted, command,
                    "\n".join(lines), data), answer, None)


# -------------------------------------------------------------------------------------------------- TLS


def _tls_target(site: Website, answer: Fetched | None) -> tuple[str, int] | None:
    """Where to check TLS: the site's https URL, or the https URL an http site redirected to."""
    from urllib.parse import urlsplit

    if site.is_https:
        return site.hostname, site.port
    if answer is not None and answer.url.startswith("https://"):
        parts = urlsplit(answer.url)
        return parts.hostname or "", parts.port or 443
    return None


def check_tls(site: Website, now: _dt.datetime, answer: Fetched | None,
              failure: FetchError | None) -> tuple[Outcome, TlsResult | None]:
    expected = "certificate verifies (trusted chain, host name, within its dates)"
    target = _tls_target(site, answer)
    if target is None:
        return Outcome(TLS_VALID, site.name, "na", "http:// without TLS", expected, None, None,
                       {"tls": False}), None
    host, port = target
    command = f"TLS handshake {host}:{port} (trust: {'ca_file ' + site.ca_file if site.ca_file else 'system CA store'})"
    if failure is not None and failure.kind == TIMEOUT and site.is_https:
        return Outcome(TLS_VALID, site.name, "error", f"not checked: the site did not answer ({failure})",
                       expected, command, None, {"skipped": "timeout"}), None
    result = tls_probe(host, port, timeout=site.timeout, server_hostname=host, ca_file=site.ca_file)
    cert = result.cert
    if cert is None:
        return Outcome(TLS_VALID, site.name, "error", f"no certificate read: {result.error}", expected, command,
                       None, {"error": result.error_kind, "message": result.error}), result
    left = cert.days_left(now)
    dates = (f"valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d %H:%M} UTC "
             f"({_days(left)} days left)" if left >= 0 else
             f"expired {cert.not_after:%Y-%m-%d %H:%M} UTC ({-_days(left)} days ago)")
    output = "\n".join([f"subject: {cert.subject}", f"issuer: {cert.issuer}", f"names: {', '.join(cert.names)}",
                        f"not before: {cert.not_before.isoformat()}", f"not after: {cert.not_after.isoformat()}",
                        f"sha256: {cert.sha256}", f"protocol: {result.protocol}", f"trust: {result.trust}"])
    data = {"verified": result.verified, "verify_error": result.verify_error, "days_left": round(left, 2),
            **cert.to_dict()}
    if result.verified and left >= 0:
        observed = f"valid: {dates}; issuer {cert.issuer}"
        return Outcome(TLS_VALID, site.name, "pass", observed, expected, command, output, data), result
    reason = result.verify_error or ("expired" if left < 0 else "not verified")
    if cert.self_signed and "self" not in reason:
        reason += " (self-signed)"
    observed = f"NOT valid: {reason}; {dates}; issuer {cert.issuer}"
    return Outcome(TLS_VALID, site.name, "fail", observed, expected, command, output, data), result


# ------------------------------------------------------------------------------------------- freshness


def _fetch_dates(kind: str, url: str, site: Website, now: _dt.datetime, parser) -> _fresh.SourceDate:
    source = _fresh.SourceDate(kind, url)
    try:
        answer = fetch(url, timeout=site.timeout, retries=site.retries,
                       context=unverified_context() if url.startswith("https") else None, max_body=16 << 20)
    except FetchError as exc:
        source.error = f"{exc.kind}: {exc}"
        return source
    if answer.status != 200:
        source.error = f"HTTP {answer.status}"
        return source
    if answer.truncated:
        source.error = "larger than 16 MiB; not read"
        return source
    try:
        return _fresh.newest(source, parser(answer.body), now)
    except Exception as exc:  # noqa: BLE001 - malformed XML is the site's problem, reported as such
        source.error = f"not readable: {type(exc).__name__}: {exc}"
        return source


def _web_root_date(site: Website, hosts: Hosts | None, now: _dt.datetime) -> tuple[_fresh.SourceDate, str]:
    source = _fresh.SourceDate("web-root", f"{site.host}:{site.web_root}")
    command = _fresh.web_root_command(site.web_root, site.web_root_exclude)
    if hosts is None:
        source.error = "no SSH access in this run"
        return source, command.display
    try:
        result = hosts.run(site.host, command, timeout=max(site.timeout, 60.0))
    except HostUnavailable as exc:
        source.error = f"{exc.status}: {exc}"
        return source, command.display
    if result.rc == _fresh.WEB_ROOT_MISSING:
        source.error = "web root missing on the host"
    elif result.rc != 0:
        source.error = f"exit {result.rc}: {(result.stderr or result.stdout).strip()[-200:]}"
    else:
        moment, count = _fresh.parse_web_root(result.stdout)
        source.count = count
        if moment is not None and moment > now + _fresh.FUTURE_SLACK:
            source.ignored_future = 1
        else:
            source.newest = moment
    return source, command.display


def check_fresh(site: Website, now: _dt.datetime, answer: Fetched | None, failure: FetchError | None,
                hosts: Hosts | None) -> Outcome:
    limit = site.max_content_age_days
    expected = f"newest content at most {limit:g} days old" if limit is not None else "not checked"
    sources: list[_fresh.SourceDate] = []
    commands = []
    site_down = failure is not None and failure.kind == TIMEOUT
    if limit is None:
        return Outcome(FRESH, site.name, "na", "not checked: max_content_age_days is null", expected)
    for kind, url, parser in (("sitemap", site.sitemap, _fresh.sitemap_dates), ("feed", site.feed, _fresh.feed_dates)):
        if not url:
            continue
        commands.append(f"GET {url}")
        if site_down:
            sources.append(_fresh.SourceDate(kind, url, error="not fetched: the site did not answer"))
        else:
            sources.append(_fetch_dates(kind, url, site, now, parser))
    if site.web_root:
        source, command = _web_root_date(site, hosts, now)
        sources.append(source)
        commands.append(f"ssh {site.host}: {command}")
    header = _fresh.SourceDate("last-modified", site.url)
    if answer is not None and "last-modified" in answer.headers:
        moment = _fresh.parse_rfc822(answer.headers["last-modified"])
        if moment is None:
            header.error = f"unreadable header {answer.headers['last-modified']!r}"
        else:
            _fresh.newest(header, [moment], now)
    elif answer is None:
        header.error = "no answer"
    content = [s for s in sources if s.newest is not None]
    chosen = max(content, key=lambda s: s.newest) if content else (header if header.newest else None)
    sources.append(header)
    output = "\n".join(s.line() for s in sources)
    data = {"sources": [s.to_dict() for s in sources], "max_age_days": limit}
    if chosen is None:
        return Outcome(FRESH, site.name, "error", "no content date found (sitemap, feed, web root, Last-Modified)",
                       expected, "; ".join(commands) or None, output, data)
    age = (now - chosen.newest).total_seconds() / 86400
    data.update(newest=chosen.newest.isoformat(), source=chosen.source, age_days=round(age, 2))
    observed = (f"newest content {chosen.newest:%Y-%m-%d %H:%M} UTC ({max(age, 0):.1f} days old, "
                f"from {chosen.source})")
    status = "pass" if age <= limit else "fail"
    if status == "fail":
        observed += f"; older than {limit:g} days"
    return Outcome(FRESH, site.name, status, observed, expected, "; ".join(commands) or None, output, data)


# -------------------------------------------------------------------------------------------- renewals


def warning_level(days_left: float) -> str:
    """expired, 7, 30, 60 (days ahead a warning starts) or ok; `days_left` below 0 is expired."""
    if days_left < 0:
        return "expired"
    for days in sorted(WARNING_DAYS):
        if days_left <= days:
            return f"{days}-day"
    return "ok"


_LEVEL_ORDER = ["ok", "60-day", "30-day", "7-day", "expired"]


def check_renewals(site: Website, today: _dt.date, now: _dt.datetime, tls: TlsResult | None,
                   tls_outcome: Outcome | None) -> Outcome:
    """Domain, hosting and certificate expiry against the 60/30/7-day warnings."""
    expected = "nothing expired or expiring within 7 days (warnings 60/30/7 days ahead)"
    entries = []
    unknown = []
    for label, day, known in (("domain", site.domain_expires, site.domain_known),
                              ("hosting", site.hosting_expires, site.hosting_known)):
        if day is not None:
            left = (day - today).days
            entries.append({"what": label, "expires": day.isoformat(), "days_left": left,
                            "level": warning_level(left)})
        elif known:
            entries.append({"what": label, "expires": None, "days_left": None, "level": "n/a"})
        else:
            unknown.append(f"{label}_expires not in the inventory")
            entries.append({"what": label, "expires": None, "days_left": None, "level": "unknown"})
    if tls is not None and tls.cert is not None:
        left = tls.cert.days_left(now)
        entries.append({"what": "certificate", "expires": tls.cert.not_after.date().isoformat(),
                        "days_left": _days(left), "level": warning_level(left)})
    elif tls_outcome is not None and tls_outcome.status == "na":
        entries.append({"what": "certificate", "expires": None, "days_left": None, "level": "n/a"})
    else:
        unknown.append("certificate not readable")
        entries.append({"what": "certificate", "expires": None, "days_left": None, "level": "unknown"})
    levels = [e["level"] for e in entries if e["level"] in _LEVEL_ORDER]
    worst = max(levels, key=_LEVEL_ORDER.index) if levels else "ok"

    def shown(entry):
        if entry["level"] in ("n/a", "unknown"):
            return f"{entry['what']} {entry['level']}"
        days = entry["days_left"]
        when = f"expired {-days} days ago" if entry["level"] == "expired" else f"{days} days left"
        level = "" if entry["level"] in ("ok", "expired") else f", {entry['level']} warning"
        return f"{entry['what']} {entry['expires']} ({when}{level})"

    observed = f"warning level {worst}: " + "; ".join(shown(e) for e in entries)
    if site.provider:
        observed += f"; provider {site.provider}"
    if worst in ("expired", "7-day"):
        status = "fail"
    elif unknown:
        status = "error"
        observed += "; not verified: " + ", ".join(unknown)
    else:
        status = "pass"
    data = {"level": worst, "entries": entries, "provider": site.provider}
    return Outcome(RENEWALS, site.name, status, observed, expected, None, None, data)


# ----------------------------------------------------------------------------------------------- runner


def check_site(site: Website, hosts: Hosts | None = None, now: _dt.datetime | None = None) -> SiteReport:
    """Every F.1/F.4 check of one website; never raises for the site's own failures."""
    now = now or _utcnow()
    today = now.astimezone().date()
    available, answer, failure = check_available(site, now)
    tls_outcome, tls = check_tls(site, now, answer, failure)
    fresh = check_fresh(site, now, answer, failure, hosts)
    renewals = check_renewals(site, today, now, tls, tls_outcome)
    outcomes = [available, tls_outcome, fresh, renewals]
    stamp = _stamp(_utcnow())
    for outcome in outcomes:
        outcome.time = stamp
    facts = {o.check_id: o.data for o in outcomes}
    return SiteReport(site, outcomes, facts)


def check_sites(sites: Iterable[Website], hosts: Hosts | None = None, *, workers: int = 20,
                now: _dt.datetime | None = None) -> list[SiteReport]:
    """`check_site` for every website in parallel (a slow site does not delay the others)."""
    sites = list(sites)
    if not sites:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sites))),
                            thread_name_prefix="sopctl-website") as pool:
        return list(pool.map(lambda s: check_site(s, hosts, now), sites))


def store_checks(store, reports: list[SiteReport], *, who: str | None = None, what: str | None = None,
                 inventory: str | None = None, month: str | None = None) -> int:
    """One complete run of kind `website` with every outcome as a result; returns the run id."""
    facts = {r.site.name: compact_facts(r) for r in reports}
    with store.run(RUN_KIND, who=who, what=what, inventory=inventory, month=month,
                   meta={"websites": [r.site.name for r in reports], "facts": facts}) as run:
        run.add_results([o.as_result() for r in reports for o in r.outcomes])
    return run.id


def compact_facts(report: SiteReport) -> dict[str, Any]:
    """The few numbers the monthly situation report (F.5) needs from one run, kept in the run's meta."""
    facts = report.facts
    available, tls = facts.get(AVAILABLE, {}), facts.get(TLS_VALID, {})
    fresh, renewals = facts.get(FRESH, {}), facts.get(RENEWALS, {})
    return {
        "available": {k: available.get(k) for k in ("status", "response_ms", "error") if k in available},
        "tls": {k: tls.get(k) for k in ("not_after", "days_left", "verified", "verify_error", "issuer") if k in tls},
        "fresh": {k: fresh.get(k) for k in ("newest", "source", "age_days") if k in fresh},
        "renewals": {"level": renewals.get("level"), "entries": renewals.get("entries", []),
                     "provider": renewals.get("provider")},
    }


# ----------------------------------------------------------------------------------------- access summary


@dataclass
class LogFile:
    path: str
    mtime: float
    size: int


def _glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def list_logs(site: Website, hosts: Hosts) -> tuple[list[LogFile], list[str]]:
    """The access log files on the host (globs such as access.log* expanded there), and problems."""
    files, problems, seen = [], [], set()
    for configured in site.access_logs:
        folder, _, name = configured.rpartition("/")
        folder = folder or "/"
        command = sh("LC_ALL=C find {} -maxdepth 1 -name {} -xtype f -printf '%T@ %s %p\\n'", folder, name)
        result = hosts.run(site.host, command, timeout=60)
        found = 0
        for line in result.stdout.splitlines():
            parts = line.split(" ", 2)
            if len(parts) != 3:
                continue
            try:
                item = LogFile(parts[2], float(parts[0]), int(parts[1]))
            except ValueError:
                continue
            found += 1
            if item.path not in seen:
                seen.add(item.path)
                files.append(item)
        if not found:
            reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no such file"
            problems.append(f"{configured}: {reason}")
    files.sort(key=lambda f: f.mtime)
    return files, problems


def _month_start(month: str) -> _dt.datetime:
    year, number = (int(x) for x in month.split("-"))
    # The earliest moment anywhere on Earth that is in this month (UTC+14): a file last written before
    # that cannot hold a line of the month.
    return _dt.datetime(year, number, 1, tzinfo=_dt.timezone(_dt.timedelta(hours=14)))


def read_command(path: str):
    if path.endswith(".gz"):
        return sh("LC_ALL=C gzip -dc -- {}", path)
    return sh("LC_ALL=C cat -- {}", path)


def summarise_site(site: Website, hosts: Hosts | None, month: str,
                   read_timeout: float = 120.0) -> tuple[Outcome, Summary | None]:
    """Stream the site's access logs from its host and summarise `month`; the F.3 outcome and counters."""
    expected = f"the access log of {month} read and summarised"
    if not site.access_logs:
        return Outcome(ACCESS, site.name, "error", "no access_log in the inventory: the visitor log cannot be read",
                       expected), None
    if hosts is None:
        return Outcome(ACCESS, site.name, "error", "no SSH access in this run", expected), None
    summary = Summary(month, threshold_404=site.suspicious_404_threshold)
    try:
        files, problems = list_logs(site, hosts)
        start = _month_start(month).timestamp()
        commands = []
        for item in files:
            if item.mtime < start:
                summary.files.append(FileRead(item.path, error="skipped: last written before the month"))
                continue
            command = read_command(item.path)
            commands.append(command.display)
            record = FileRead(item.path)
            ended = StreamResult(command.display)
            lines_before = summary.lines
            try:
                for block in hosts.stream(site.host, command, ended, timeout=read_timeout):
                    summary.feed_block(block)
            finally:
                summary.end_file()
            record.bytes, record.rc, record.lines = ended.bytes, ended.rc, summary.lines - lines_before
            if ended.rc != 0:
                message = ended.stderr.strip().splitlines()[-1] if ended.stderr.strip() else ""
                record.error = f"exit {ended.rc}: {message}"[:300]
            summary.files.append(record)
    except HostUnavailable as exc:
        return Outcome(ACCESS, site.name, "error", f"{exc.status}: {exc}", expected), None
    read = [f for f in summary.files if f.error is None]
    unreadable = [f"{f.path}: {f.error}" for f in summary.files if f.error and not f.error.startswith("skipped")]
    command = f"ssh {site.host}: " + "; ".join(commands) if commands else None
    output = "\n".join([f"{f.path}: {f.bytes} bytes, {f.lines} lines" + (f" ({f.error})" if f.error else "")
                        for f in summary.files] + problems)
    data = {"website": site.name, "host": site.host, **summary.to_dict(), "problems": problems}
    if not files:
        return Outcome(ACCESS, site.name, "fail", "access log not found: " + "; ".join(problems), expected, command,
                       output, data), summary
    if not read:
        observed = "access log unreadable: " + ("; ".join(unreadable) or "every file is older than the month")
        return Outcome(ACCESS, site.name, "fail", observed, expected, command, output, data), summary
    if summary.requests == 0:
        observed = (f"no request of {month} in {len(read)} file(s) ({summary.lines} lines read, "
                    f"{summary.other_months} of other months, {summary.malformed} unreadable)")
        return Outcome(ACCESS, site.name, "fail", observed, expected, command, output, data), summary
    observed = summary.observed()
    if unreadable:
        observed += f"; {len(unreadable)} file(s) unreadable"
    return Outcome(ACCESS, site.name, "pass", observed, expected, command, output, data), summary


def store_access(store, month: str, outcomes: list[tuple[Outcome, Summary | None]], *, who: str | None = None,
                 what: str | None = None, inventory: str | None = None) -> int:
    """One run (kind website-access, month = the month summarised): a result per site and F.3 evidence."""
    with store.run(ACCESS_RUN_KIND, who=who, what=what, inventory=inventory, month=month,
                   meta={"websites": [o.site for o, _ in outcomes], "month": month}) as run:
        for outcome, summary in outcomes:
            outcome.time = outcome.time or _stamp(_utcnow())
            run.add_result(**outcome.as_result())
            if summary is not None and outcome.status == "pass":
                run.add_evidence("F.3", EVIDENCE_KIND, f"{outcome.site} {month}: {outcome.observed}"[:500],
                                 data=outcome.data)
    return run.id
