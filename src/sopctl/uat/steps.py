"""Automated steps run from the control machine: http, login, tls, tcp, and database over TCP.

Each returns a `Check`: the result (`pass`, `fail`, or `error` when the test itself could not be made),
what was expected and observed in words, why it failed (`detail`), and output worth keeping (response
headers and the start of the body). A page that does not answer, answers wrongly, too slowly, or over an
untrusted certificate is a *failed* acceptance test, not an error: the application did not do its job.
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from dataclasses import dataclass, field

from sopctl.transport.quoting import Secret
from sopctl.uat.checklist import DatabaseSpec, HttpSpec, LoginSpec, PageSpec, TcpSpec, TlsSpec
from sopctl.uat.web import Response, WebClient, WebError, form_inputs, peer_certificate, tcp_state, verify_tls

OUTPUT_BODY = 1500   # characters of a body kept as a step's output


@dataclass
class Check:
    result: str
    observed: str
    expected: str
    detail: str = ""
    output: str = ""
    command: str = ""
    hosts: dict[str, str] = field(default_factory=dict)


def _statuses(statuses: tuple[int, ...]) -> str:
    return "HTTP " + " or ".join(map(str, statuses))


def _output(response: Response, chain: list[str] | None = None) -> str:
    text = response.text()
    body = text if len(text) <= OUTPUT_BODY else text[:OUTPUT_BODY] + f"\n[... {len(text) - OUTPUT_BODY} more characters]"
    via = "".join(f"-> {url}\n" for url in (chain or [])[:-1])
    return f"{via}{response.head()}\n\n{body}".rstrip()


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))


def _same_target(expected: str, actual: str | None) -> bool:
    if actual is None:
        return False
    a, b = urllib.parse.urlsplit(expected), urllib.parse.urlsplit(actual)
    return (a.scheme, a.hostname, a.port, a.path or "/", a.query) == (b.scheme, b.hostname, b.port, b.path or "/", b.query)


def run_http(spec: HttpSpec, client: WebClient, timeout: float) -> Check:
    expected = [_statuses(spec.status)]
    if spec.redirect:
        expected.append(f"redirect to {_path(spec.redirect)}")
    expected += spec.expect.describe()
    if spec.max_ms is not None:
        expected.append(f"under {spec.max_ms:g} ms")
    expected_text = "; ".join(expected)
    command = f"{spec.method} {spec.url}"
    try:
        response, chain = client.fetch(spec.method, spec.url, follow=spec.follow, timeout=timeout)
    except WebError as exc:
        return Check("fail", str(exc), expected_text, str(exc), command=command)
    problems = []
    if response.status not in spec.status:
        problems.append(f"HTTP {response.status}, expected {' or '.join(map(str, spec.status))}")
    if spec.redirect and not _same_target(spec.redirect, response.location):
        problems.append(f"redirects to {_path(response.location) if response.location else 'nowhere'}, "
                        f"expected {_path(spec.redirect)}")
    text = response.text()
    problems += spec.expect.problems(text)
    if spec.max_ms is not None and response.elapsed_ms > spec.max_ms:
        problems.append(f"took {response.elapsed_ms:.0f} ms, limit {spec.max_ms:g} ms")
    observed = [f"HTTP {response.status}", f"{response.elapsed_ms:.0f} ms", f"{len(response.body)} bytes"]
    if len(chain) > 1:
        observed.append("via " + " -> ".join(_path(u) for u in chain[1:]))
    if response.location and not spec.follow:
        observed.append(f"Location {_path(response.location)}")
    return Check("fail" if problems else "pass", ", ".join(observed), expected_text, "; ".join(problems),
                 _output(response, chain), command)


def _page(spec: PageSpec, client: WebClient, timeout: float) -> tuple[list[str], str, Response | None]:
    """The page behind a login, fetched with the session cookie and NOT following redirects (a redirect
    back to the login form is exactly the failure to catch)."""
    try:
        response = client.request("GET", spec.url, timeout=timeout)
    except WebError as exc:
        return [str(exc)], str(exc), None
    problems = []
    if response.status not in spec.status:
        where = f" to {_path(response.location)}" if response.location else ""
        problems.append(f"{_path(spec.url)}: HTTP {response.status}{where}, expected "
                        f"{' or '.join(map(str, spec.status))}")
    problems += [f"{_path(spec.url)}: {p}" for p in spec.expect.problems(response.text())]
    return problems, f"{_path(spec.url)} HTTP {response.status} ({response.elapsed_ms:.0f} ms)", response


def run_login(spec: LoginSpec, client: WebClient, timeout: float, username: str | Secret,
              password: Secret) -> Check:
    """GET the form (its fields must exist; hidden inputs such as a CSRF token are sent back), POST the
    credentials, then fetch the page behind the login with the session cookie."""
    shown_user = str(username)  # a Secret shows as ***
    expected = [f"form at {_path(spec.form_url)} with fields {spec.username_field}, {spec.password_field}",
                f"login as {shown_user}: {_statuses(spec.status)}"
                + (f", cookie {spec.cookie} set" if spec.cookie else ", a session cookie set"),
                f"then {_path(spec.then.url)}: {_statuses(spec.then.status)}", *spec.then.expect.describe()]
    expected_text = "; ".join(expected)
    command = f"GET {spec.form_url}; POST {spec.post_url} ({spec.username_field}={shown_user}, " \
              f"{spec.password_field}=***); GET {spec.then.url}"
    observed: list[str] = []
    try:
        form, _ = client.fetch("GET", spec.form_url, follow=True, timeout=timeout)
    except WebError as exc:
        return Check("fail", str(exc), expected_text, f"login form: {exc}", command=command)
    inputs = form_inputs(form.text())
    names = {field.name for field in inputs}
    missing = [name for name in (spec.username_field, spec.password_field) if name not in names]
    observed.append(f"form HTTP {form.status}")
    if form.status != 200 or missing:
        problems = []
        if form.status != 200:
            problems.append(f"login form {_path(spec.form_url)}: HTTP {form.status}")
        if missing:
            problems.append(f"the login form has no field named {', '.join(map(repr, missing))} "
                            f"(fields: {', '.join(sorted(names)) or 'none'})")
        return Check("fail", ", ".join(observed), expected_text, "; ".join(problems), _output(form), command)
    fields: dict[str, str] = {f.name: f.value for f in inputs if f.type == "hidden"}
    fields.update(dict(spec.extra))
    user_text = username.reveal() if isinstance(username, Secret) else username
    fields[spec.username_field] = user_text
    fields[spec.password_field] = password.reveal()
    body = urllib.parse.urlencode(fields).encode("ascii")
    before = set(client.cookie_names(spec.post_url))
    try:
        posted = client.request("POST", spec.post_url, body=body, timeout=timeout,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    except WebError as exc:
        return Check("fail", ", ".join(observed), expected_text, f"login POST: {exc}", command=command)
    finally:
        fields.clear()
        del body
    set_cookies = [header.split("=", 1)[0].strip() for header in posted.all("Set-Cookie")]
    observed.append(f"POST HTTP {posted.status}" + (f" -> {_path(posted.location)}" if posted.location else "")
                    + (f", cookie {', '.join(set_cookies)} set" if set_cookies else ", no cookie set"))
    problems = []
    if posted.status not in spec.status:
        problems.append(f"login POST: HTTP {posted.status}, expected {' or '.join(map(str, spec.status))}")
    if spec.cookie and spec.cookie not in set_cookies:
        problems.append(f"login did not set cookie {spec.cookie!r}")
    elif not spec.cookie and not set_cookies and not before:
        problems.append("login set no session cookie")
    page_problems, page_seen, page = _page(spec.then, client, timeout)
    observed.append(page_seen)
    problems += page_problems
    output = f"{_output(posted)}\n\n{_output(page) if page is not None else ''}".rstrip()
    return Check("fail" if problems else "pass", "; ".join(observed), expected_text, "; ".join(problems),
                 output, command)


def run_tls(spec: TlsSpec, client: WebClient, timeout: float, now: _dt.datetime | None = None) -> Check:
    expected = f"trusted certificate for {spec.host}, valid, at least {spec.days} days before it expires"
    command = f"TLS handshake with {spec.host}:{spec.port}"
    try:
        info = peer_certificate(spec.host, spec.port, timeout)
    except WebError as exc:
        return Check("fail", str(exc), expected, str(exc), command=command)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    left = info.days_left(now)
    problems = []
    trust = "trust not checked (tls.verify: false)"
    if client.verify:
        why = verify_tls(spec.host, spec.port, client.context, timeout)
        trust = "trusted" if why is None else f"not trusted: {why}"
        if why is not None:
            problems.append(f"certificate not trusted: {why}")
    if now < info.not_before:
        problems.append(f"not valid before {info.not_before:%Y-%m-%d %H:%M} UTC")
    if left < 0:
        problems.append(f"expired on {info.not_after:%Y-%m-%d} ({-left:.0f} days ago)")
    elif left < spec.days:
        problems.append(f"expires on {info.not_after:%Y-%m-%d}, in {left:.0f} days (needs at least {spec.days})")
    observed = (f"{trust}; subject {info.subject}; issuer {info.issuer}; valid {info.not_before:%Y-%m-%d} to "
                f"{info.not_after:%Y-%m-%d} ({left:.0f} days left)")
    output = (f"subject: {info.subject}\nissuer: {info.issuer}\nnot before: {info.not_before.isoformat()}\n"
              f"not after: {info.not_after.isoformat()}\nsha256: {info.sha256}")
    return Check("fail" if problems else "pass", observed, expected, "; ".join(problems), output, command)


def run_tcp(spec: TcpSpec, timeout: float) -> Check:
    state, why, ms = tcp_state(spec.host, spec.port, timeout)
    is_open = state == "open"
    ok = is_open if spec.state == "open" else not is_open
    observed = f"{spec.host}:{spec.port} {state} ({why}, {ms:.0f} ms)"
    detail = "" if ok else f"port {spec.port} is {state} ({why}), expected {spec.state}"
    return Check("pass" if ok else "fail", observed, f"{spec.host}:{spec.port} {spec.state}", detail,
                 command=f"TCP connect {spec.host}:{spec.port}")


def run_database_tcp(spec: DatabaseSpec, timeout: float) -> Check:
    state, why, ms = tcp_state(spec.host or "", spec.port or 0, timeout)
    ok = state == "open"
    observed = f"{spec.engine} at {spec.host}:{spec.port}: TCP {state} ({why}, {ms:.0f} ms)"
    return Check("pass" if ok else "fail", observed, f"{spec.engine} at {spec.host}:{spec.port} accepts connections",
                 "" if ok else f"the database port is {state}: {why}", command=f"TCP connect {spec.host}:{spec.port}")


def error(expected: str, message: str, command: str = "") -> Check:
    return Check("error", message, expected, message, command=command)


__all__ = ["Check", "error", "run_database_tcp", "run_http", "run_login", "run_tcp", "run_tls"]
