"""Real web servers for the website tests: http.server (+ ssl) in threads on 127.0.0.1 ephemeral ports.

Certificates are generated here with `cryptography`: self-signed, for IP 127.0.0.1 and localhost, with
the validity window each test asks for (fresh, expired, expiring in 3 days). The website under test
trusts exactly that certificate through its `ca_file`, so "self-signed" is not what fails: the dates are.
A `Silent` server accepts connections and never answers (the timeout case).
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

UTC = _dt.timezone.utc


def make_cert(folder: Path, name: str, not_before: _dt.datetime, not_after: _dt.datetime) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost; returns (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PA Batulicin test")])
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def http_date(moment: _dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)


def sitemap(*dates: str) -> bytes:
    urls = "".join(f"<url><loc>https://example.test/{i}</loc><lastmod>{d}</lastmod></url>" for i, d in enumerate(dates))
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()


def rss(*dates: _dt.datetime) -> bytes:
    items = "".join(f"<item><title>n{i}</title><pubDate>{http_date(d)}</pubDate></item>" for i, d in enumerate(dates))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


@dataclass
class Route:
    status: int = 200
    body: bytes = b"<html><body>Pengadilan Agama Batulicin</body></html>"
    headers: dict = field(default_factory=dict)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass     # a client that gives up on a certificate is expected here


class Site:
    """A small website: routes path -> Route, over HTTP or HTTPS (with `cert`), in a thread."""

    def __init__(self, routes: dict[str, Route], cert: tuple[Path, Path] | None = None):
        self.routes = routes
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                site.hits.append(self.path)
                route = site.routes.get(self.path.split("?")[0], Route(404, b"not found"))
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True,
                                                     do_handshake_on_connect=False)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Silent:
    """Accepts TCP connections and never sends a byte (a hung web server)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.held.append(conn)

    def url(self, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/"

    def close(self):
        self._stop.set()
        self.thread.join(1)
        for conn in self.held:
            conn.close()
        self.sock.close()


def closed_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
