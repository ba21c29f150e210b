"""The control machine's side of a UAT: HTTP requests, TLS certificates and TCP ports.

Plain `http.client` and `ssl`, one connection per request (so a measured response time includes connect
and TLS handshake, as a user's first visit does), no proxy, redirects followed only when asked, and a small
cookie jar per origin so a login's session cookie is sent to the pages behind it.
"""

from __future__ import annotations

import datetime as _dt
import html.parser
import http.client
import http.cookies
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field

from cryptography import x509

BODY_LIMIT = 2 << 20          # bytes of a response body read (the rest is not needed to judge a page)
MAX_REDIRECTS = 5
USER_AGENT = "sopctl-uat"


class WebError(Exception):
    """The request got no HTTP answer: refused, timed out, TLS not trusted ... (one line for people)."""


@dataclass
class Response:
    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    elapsed_ms: float

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def location(self) -> str | None:
        target = self.header("Location")
        return urllib.parse.urljoin(self.url, target) if target else None

    def text(self) -> str:
        charset = "utf-8"
        content_type = self.header("Content-Type") or ""
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")

    def head(self) -> str:
        """Status line and headers as text, cookie values hidden (a session id is a credential)."""
        lines = [f"HTTP {self.status} {self.reason}".rstrip()]
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                value = f"{name}=***" + (";" + rest.split(";", 1)[1] if ";" in rest else "")
            lines.append(f"{key}: {value}")
        return "\n".join(lines)


def tls_context(verify: bool = True, ca_file: str | None = None) -> ssl.SSLContext:
    """The context HTTPS requests use: verify against `ca_file` (only it) or the system's CAs, or not at all."""
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_file)


def _connect_error(exc: BaseException, where: str, timeout: float) -> WebError:
    """The one-line reason for a refused, silent or failed-handshake connection to `where` (host:port)."""
    if isinstance(exc, ConnectionRefusedError):
        return WebError(f"connection to {where} refused (nothing listens there)")
    if isinstance(exc, TimeoutError):
        return WebError(f"no answer from {where} within {timeout:g}s")
    return WebError(f"TLS handshake with {where} failed: {getattr(exc, 'reason', None) or exc}")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


@dataclass
class WebClient:
    """HTTP(S) for one UAT run: the TLS policy of the checklist and a cookie jar per origin."""

    verify: bool = True
    ca_file: str | None = None
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.context = tls_context(self.verify, self.ca_file)

    def request(self, method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 10.0) -> Response:
        parts = urllib.parse.urlsplit(url)
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=self.context)
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        sent = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close", **(headers or {})}
        jar = self.cookies.get(_origin(url))
        if jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        started = time.perf_counter()
        try:
            conn.request(method, target, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read(BODY_LIMIT) if method != "HEAD" else b""
            elapsed = (time.perf_counter() - started) * 1000
            response = Response(url, answer.status, answer.reason or "", list(answer.getheaders()), data, elapsed)
        except ssl.SSLCertVerificationError as exc:
            raise WebError(f"TLS certificate of {parts.hostname}:{parts.port or 443} not trusted: "
                           f"{exc.verify_message or exc.reason}") from None
        except (ssl.SSLError, ConnectionRefusedError, TimeoutError) as exc:
            raise _connect_error(exc, parts.netloc, timeout) from None
        except socket.gaierror as exc:
            raise WebError(f"cannot resolve {parts.hostname}: {exc.strerror or exc}") from None
        except (http.client.HTTPException, OSError) as exc:
            raise WebError(f"request to {parts.netloc} failed: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()
        self._keep_cookies(url, response)
        return response

    def _keep_cookies(self, url: str, response: Response) -> None:
        for header in response.all("Set-Cookie"):
            cookie = http.cookies.SimpleCookie()
            try:
                cookie.load(header)
            except http.cookies.CookieError:
                continue
            jar = self.cookies.setdefault(_origin(url), {})
            for name, morsel in cookie.items():
                if morsel["max-age"] in ("0",) or (morsel.value == "" and morsel["expires"]):
                    jar.pop(name, None)
                else:
                    jar[name] = morsel.value

    def fetch(self, method: str, url: str, *, follow: bool, timeout: float) -> tuple[Response, list[str]]:
        """One request, following redirects when `follow` (at most 5); returns the last answer and the
        chain of addresses visited. The response time is the sum over the chain."""
        chain = [url]
        total = 0.0
        response = self.request(method, url, timeout=timeout)
        total += response.elapsed_ms
        while follow and response.status in (301, 302, 303, 307, 308) and response.location:
            if len(chain) > MAX_REDIRECTS:
                raise WebError(f"more than {MAX_REDIRECTS} redirects from {url}")
            url = response.location
            chain.append(url)
            response = self.request("GET" if response.status == 303 else method, url, timeout=timeout)
            total += response.elapsed_ms
        response.elapsed_ms = total
        return response, chain

    def cookie_names(self, url: str) -> list[str]:
        return sorted(self.cookies.get(_origin(url), {}))


# ------------------------------------------------------------------------------------------- forms


@dataclass
class FormInput:
    name: str
    type: str
    value: str


class _InputParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inputs: list[FormInput] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "select", "textarea", "button"):
            values = {key: value or "" for key, value in attrs}
            if values.get("name"):
                kind = values.get("type", "text").lower() if tag == "input" else tag
                self.inputs.append(FormInput(values["name"], kind, values.get("value", "")))


def form_inputs(page: str) -> list[FormInput]:
    """The named inputs of an HTML page (hidden ones such as a CSRF token are sent back with a login)."""
    parser = _InputParser()
    try:
        parser.feed(page)
        parser.close()
    except Exception:
        pass
    return parser.inputs


# --------------------------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    not_before: _dt.datetime
    not_after: _dt.datetime
    sha256: str

    def days_left(self, now: _dt.datetime | None = None) -> float:
        now = now or _dt.datetime.now(_dt.timezone.utc)
        return (self.not_after - now).total_seconds() / 86400


def peer_certificate(host: str, port: int, timeout: float) -> CertificateInfo:
    """The certificate the server presents, read WITHOUT trusting it (so an expired or unknown one can
    still be described); trust is judged separately by `verify_tls`."""
    context = tls_context(verify=False)
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as wrapped:
                der = wrapped.getpeercert(binary_form=True)
    except (ssl.SSLError, ConnectionRefusedError, TimeoutError) as exc:
        raise _connect_error(exc, f"{host}:{port}", timeout) from None
    except OSError as exc:
        raise WebError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
    if not der:
        raise WebError(f"{host}:{port} presented no certificate")
    cert = x509.load_der_x509_certificate(der)
    from cryptography.hazmat.primitives import hashes

    return CertificateInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                           cert.not_valid_before_utc, cert.not_valid_after_utc,
                           cert.fingerprint(hashes.SHA256()).hex())


def verify_tls(host: str, port: int, context: ssl.SSLContext, timeout: float) -> str | None:
    """None when a verifying handshake succeeds (chain trusted, dates valid, name matches), else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                return None
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message or exc.reason)
    except ssl.SSLError as exc:
        return f"handshake failed: {exc.reason or exc}"
    except TimeoutError:
        return f"no answer within {timeout:g}s"
    except OSError as exc:
        return f"cannot connect: {exc.strerror or exc}"


# --------------------------------------------------------------------------------------------- TCP


def tcp_state(host: str, port: int, timeout: float) -> tuple[str, str, float]:
    """("open" | "closed" | "filtered", why, milliseconds) of a TCP connect from the control machine."""
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "open", "connected", (time.perf_counter() - started) * 1000
    except ConnectionRefusedError:
        return "closed", "connection refused", (time.perf_counter() - started) * 1000
    except TimeoutError:
        return "filtered", f"no answer within {timeout:g}s", (time.perf_counter() - started) * 1000
    except socket.gaierror as exc:
        return "closed", f"cannot resolve {host}: {exc.strerror or exc}", (time.perf_counter() - started) * 1000
    except OSError as exc:
        return "closed", exc.strerror or str(exc), (time.perf_counter() - started) * 1000
