"""Talking to a website over HTTP(S) and TLS with the standard library, within a time budget.

`fetch(url, timeout=..., retries=...)` makes a GET with a hard deadline: every socket operation waits
at most what is left of `timeout`, so a server that accepts the connection and never answers is
reported as a `timeout` after `timeout` seconds, never later. Refused or reset connections and 502/503/504
answers are retried (at most `retries` more attempts, with a short pause) while time remains; a timeout
is not retried because it has used the whole budget.

`tls_probe(host, port, ...)` reads the server's certificate even when it fails verification: it first
verifies (system CA store, or the website's `ca_file`, with the host name checked); when that fails it
connects again without verification just to read the certificate, so an expired or self-signed
certificate is reported with its dates and the verification error rather than as a bare error.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

USER_AGENT = "sopctl-website-monitor/0.1 (+SOP/AS/32 F.1)"
MAX_REDIRECTS = 5
RETRY_STATUSES = (502, 503, 504)
READ_BLOCK = 65536
REDIRECTS = (301, 302, 303, 307, 308)

# FetchError.kind values
TIMEOUT, REFUSED, RESET, DNS, TLS, ERROR = "timeout", "refused", "reset", "dns", "tls", "error"


@dataclass
class Fetched:
    """One HTTP answer: the final URL, status, headers (lower-case names), body (capped) and timings."""

    url: str
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    truncated: bool
    response_time: float          # seconds from the start of the successful attempt to its headers
    total_time: float             # seconds from the first attempt to the end of the body
    attempts: int
    redirects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class FetchError(Exception):
    """No usable answer: `kind` is timeout, refused, reset, dns, tls or error."""

    def __init__(self, kind: str, message: str, *, attempts: int = 1, elapsed: float = 0.0,
                 notes: list[str] | None = None):
        super().__init__(message)
        self.kind, self.attempts, self.elapsed = kind, attempts, elapsed
        self.notes = list(notes or [])


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = time.monotonic()
        self.end = self.start + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def unverified_context() -> ssl.SSLContext:
    """TLS without verification: for reading a page or a certificate whatever its validity."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def verifying_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Verification against the system CA store, or only against `ca_file` when given (like curl --cacert)."""
    return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()


def _classify(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TIMEOUT, "no answer"
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED, "connection refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
                        ConnectionAbortedError)):
        return RESET, f"connection closed by the server ({type(exc).__name__})"
    if isinstance(exc, socket.gaierror):
        return DNS, f"name not resolved: {exc.strerror or exc}"
    if isinstance(exc, ssl.SSLError):
        return TLS, f"TLS handshake failed: {exc.reason or exc}"
    if isinstance(exc, http.client.HTTPException):
        return ERROR, f"bad HTTP answer: {type(exc).__name__}: {exc}"
    if isinstance(exc, OSError):
        return ERROR, exc.strerror or str(exc)
    return ERROR, f"{type(exc).__name__}: {exc}"


def _one_request(url: str, deadline: _Deadline, context: ssl.SSLContext | None, max_body: int):
    """A single GET; returns (status, reason, headers, body, truncated, seconds to headers)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    left = deadline.left()
    if left <= 0:
        raise socket.timeout("deadline passed")
    started = time.monotonic()
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port or 443, timeout=left, context=context or unverified_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=left)
    try:
        conn.connect()
        conn.sock.settimeout(max(deadline.left(), 0.001))
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in (("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", "identity"),
                            ("Connection", "close")):
            conn.putheader(name, value)
        conn.endheaders()
        conn.sock.settimeout(max(deadline.left(), 0.001))
        response = conn.getresponse()
        headers_at = time.monotonic() - started
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        chunks, size, truncated = [], 0, False
        while True:
            left = deadline.left()
            if left <= 0:
                raise socket.timeout("deadline passed while reading the body")
            if conn.sock is not None:
                conn.sock.settimeout(left)
            block = response.read(min(READ_BLOCK, max_body - size + 1))
            if not block:
                break
            chunks.append(block)
            size += len(block)
            if size > max_body:
                truncated = True
                break
        body = b"".join(chunks)[:max_body]
        return response.status, response.reason, headers, body, truncated, headers_at
    finally:
        conn.close()


def fetch(url: str, *, timeout: float, retries: int = 0, context: ssl.SSLContext | None = None,
          max_body: int = 2 << 20, follow_redirects: bool = True,
          accept: tuple[int, ...] = ()) -> Fetched:
    """GET `url` within `timeout` seconds in all (FetchError when there is no usable answer).

    Redirects are followed (at most 5) unless the status is one of `accept`. A 502/503/504 answer is
    retried like a refused connection; if every attempt got one, the last answer is returned.
    """
    deadline = _Deadline(timeout)
    attempts, redirects, notes = 0, [], []
    current = url
    last_answer = None
    while True:
        attempts += 1
        try:
            status, reason, headers, body, truncated, headers_at = _one_request(current, deadline, context,
                                                                                max_body)
        except BaseException as exc:  # noqa: BLE001 - classified below; KeyboardInterrupt re-raised
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            kind, message = _classify(exc)
            if kind == TIMEOUT:
                message = f"no answer within {timeout:g}s"
            notes.append(f"attempt {attempts}: {message}")
            pause = min(0.25 * 2 ** (attempts - 1), 2.0)
            if kind in (REFUSED, RESET, DNS) and attempts <= retries and deadline.left() > pause:
                time.sleep(pause)
                continue
            if last_answer is not None:
                return last_answer
            raise FetchError(kind, message, attempts=attempts, elapsed=deadline.elapsed(), notes=notes) from None
        answer = Fetched(current, status, reason, headers, body, truncated, headers_at, deadline.elapsed(),
                         attempts, list(redirects), list(notes))
        if status in accept:
            return answer
        if status in RETRY_STATUSES:
            notes.append(f"attempt {attempts}: HTTP {status}")
            last_answer = answer
            pause = min(0.25 * 2 ** (attempts - 1), 2.0)
            if attempts <= retries and deadline.left() > pause:
                time.sleep(pause)
                continue
            return answer
        if follow_redirects and status in REDIRECTS and "location" in headers:
            if len(redirects) >= MAX_REDIRECTS:
                return answer
            target = urljoin(current, headers["location"])
            if urlsplit(target).scheme not in ("http", "https"):
                return answer
            redirects.append(f"{status} {current} -> {target}")
            current = target
            attempts -= 1      # a redirect is not a retry
            continue
        return answer


# ------------------------------------------------------------------------------------------------ TLS


@dataclass(frozen=True)
class CertInfo:
    """What a certificate says about itself (read without trusting it)."""

    subject: str
    issuer: str
    not_before: _dt.datetime
    not_after: _dt.datetime
    names: tuple[str, ...]
    serial: str
    sha256: str
    self_signed: bool

    def days_left(self, now: _dt.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400

    def to_dict(self) -> dict:
        return {"subject": self.subject, "issuer": self.issuer, "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat(), "names": list(self.names), "serial": self.serial,
                "sha256": self.sha256, "self_signed": self.self_signed}


@dataclass
class TlsResult:
    """The outcome of a TLS probe: verified or not (with OpenSSL's reason), and the certificate."""

    verified: bool
    cert: CertInfo | None
    verify_error: str | None = None
    error_kind: str | None = None       # timeout, refused, tls, dns, error: no certificate could be read
    error: str | None = None
    protocol: str | None = None
    elapsed: float = 0.0
    trust: str = "system CA store"


def cert_info(der: bytes) -> CertInfo:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += [f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)]
        names += [f"IP:{n}" for n in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    return CertInfo(
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc, names=tuple(names),
        serial=format(cert.serial_number, "x"), sha256=hashlib.sha256(der).hexdigest(),
        self_signed=cert.subject == cert.issuer)


def _handshake(host: str, port: int, server_hostname: str, context: ssl.SSLContext,
               deadline: _Deadline) -> tuple[bytes, str | None]:
    left = deadline.left()
    if left <= 0:
        raise socket.timeout("deadline passed")
    with socket.create_connection((host, port), timeout=left) as raw:
        raw.settimeout(max(deadline.left(), 0.001))
        name = server_hostname if context.check_hostname else (server_hostname or None)
        with context.wrap_socket(raw, server_hostname=name) as tls:
            return tls.getpeercert(binary_form=True), tls.version()


def tls_probe(host: str, port: int, *, timeout: float, server_hostname: str | None = None,
              ca_file: str | None = None) -> TlsResult:
    """Verify the server's certificate and read it, even when verification fails."""
    deadline = _Deadline(timeout)
    name = server_hostname or host
    trust = f"ca_file {ca_file}" if ca_file else "system CA store"
    try:
        context = verifying_context(ca_file)
    except (OSError, ssl.SSLError) as exc:
        return TlsResult(False, None, error_kind=ERROR, error=f"ca_file {ca_file}: {exc.strerror or exc}",
                         trust=trust)
    try:
        der, protocol = _handshake(host, port, name, context, deadline)
        return TlsResult(True, cert_info(der), protocol=protocol, elapsed=deadline.elapsed(), trust=trust)
    except ssl.SSLCertVerificationError as exc:
        verify_error = exc.verify_message or exc.reason or str(exc)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        kind, message = _classify(exc)
        if kind == TIMEOUT:
            message = f"no TLS answer within {timeout:g}s"
        return TlsResult(False, None, error_kind=kind, error=message, elapsed=deadline.elapsed(), trust=trust)
    # Verification failed: read the certificate anyway, within what is left of the budget.
    try:
        der, protocol = _handshake(host, port, name, unverified_context(), deadline)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        kind, message = _classify(exc)
        return TlsResult(False, None, verify_error=verify_error, error_kind=kind,
                         error=f"certificate not verified ({verify_error}) and then not readable: {message}",
                         elapsed=deadline.elapsed(), trust=trust)
    return TlsResult(False, cert_info(der), verify_error=verify_error, protocol=protocol,
                     elapsed=deadline.elapsed(), trust=trust)
