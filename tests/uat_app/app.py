"""A small real web application for the UAT tests: stdlib `http.server` over HTTPS on 127.0.0.1.

"Aplikasi Uji" (a toy case-tracking app) has:

| path | |
|---|---|
| `GET /` | home page: "Aplikasi Uji Pengadilan Agama Batulicin", "Versi <version>" (`home_text` replaces the heading) |
| `GET /login` | the login form: fields `nama_pengguna`, `kata_sandi`, a hidden CSRF token `csrf` |
| `POST /login` | right credentials and token: `303 -> /dasbor` with `Set-Cookie: sesi=...`; else 200 with the form and an error |
| `GET /dasbor` | behind the login: "Dasbor Perkara", "Selamat datang, <user>"; without a session `303 -> /login` |
| `GET /lambat` | sleeps `slow_ms` milliseconds, then 200 "Laporan selesai" |
| `GET /sehat` | 200 "ok" |

`UatApp(cert, key).start()` serves it on an ephemeral port in a thread (`.url`, `.port`); `.stop()` shuts it
down. `python -m tests.uat_app --cert C --key K` serves it in a process (prints `PORT <n>`).
"""

from __future__ import annotations

import html
import http.cookies
import secrets
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

USERS = {"penguji": "Rahasia-Uji-2026"}


class UatApp:
    def __init__(self, cert: Path | None, key: Path | None, *, version: str = "1.0.0",
                 users: dict[str, str] | None = None, slow_ms: int = 1500, home_text: str | None = None):
        self.cert, self.key = cert, key
        self.version = version
        self.users = dict(users or USERS)
        self.slow_ms = slow_ms
        self.home_text = home_text
        self.sessions: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.logins: list[tuple[str, bool]] = []      # (user, success) of every POST /login
        self.server: ThreadingHTTPServer | None = None
        self._port = 0
        self.thread: threading.Thread | None = None

    # --------------------------------------------------------------------------------- lifecycle

    def start(self) -> UatApp:
        app = self

        class Handler(_Handler):
            pass

        Handler.app = app
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self.cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self.cert), str(self.key))
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self.server = server
        self._port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="uat-app", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.server = None

    def __enter__(self) -> UatApp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it serves (or served: still known after `stop`, for testing a stopped application)."""
        return self._port

    @property
    def url(self) -> str:
        return f"{'https' if self.cert else 'http'}://127.0.0.1:{self.port}/"


PAGE = """<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>{body}</body></html>"""


class _Handler(BaseHTTPRequestHandler):
    app: UatApp
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _send(self, status: int, title: str, body: str, headers: dict[str, str] | None = None) -> None:
        data = PAGE.format(title=html.escape(title), body=body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _redirect(self, target: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(303)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()

    def _user(self) -> str | None:
        cookie = http.cookies.SimpleCookie(self.headers.get("Cookie") or "")
        sid = cookie.get("sesi")
        return self.app.sessions.get(sid.value) if sid else None

    def _form(self, error: str = "") -> str:
        token = secrets.token_hex(8)
        self.app.tokens.add(token)
        message = f'<p class="error">{html.escape(error)}</p>' if error else ""
        return (f'{message}<form method="post" action="/login">'
                f'<input type="hidden" name="csrf" value="{token}">'
                '<label>Nama pengguna <input type="text" name="nama_pengguna"></label>'
                '<label>Kata sandi <input type="password" name="kata_sandi"></label>'
                '<button type="submit">Masuk</button></form>')

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        app = self.app
        if path == "/":
            title = app.home_text or "Aplikasi Uji Pengadilan Agama Batulicin"
            self._send(200, title, f"<p>Versi {html.escape(app.version)}</p><p><a href=\"/login\">Masuk</a></p>")
        elif path == "/login":
            self._send(200, "Masuk", self._form())
        elif path == "/dasbor":
            user = self._user()
            if user is None:
                self._redirect("/login")
            else:
                self._send(200, "Dasbor Perkara", f"<p>Selamat datang, {html.escape(user)}</p>"
                                                  "<table><tr><td>0123/Pdt.G/2026/PA.Btl</td></tr></table>")
        elif path == "/lambat":
            time.sleep(app.slow_ms / 1000)
            self._send(200, "Laporan", "<p>Laporan selesai</p>")
        elif path == "/sehat":
            self._send(200, "ok", "ok")
        else:
            self._send(404, "Tidak ditemukan", "<p>Halaman tidak ditemukan</p>")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
        if path != "/login":
            self._send(404, "Tidak ditemukan", "")
            return
        user = (form.get("nama_pengguna") or [""])[0]
        password = (form.get("kata_sandi") or [""])[0]
        token = (form.get("csrf") or [""])[0]
        ok = token in self.app.tokens and self.app.users.get(user) == password and bool(password)
        self.app.tokens.discard(token)
        self.app.logins.append((user, ok))
        if not ok:
            self._send(200, "Masuk", self._form("Nama pengguna atau kata sandi salah"))
            return
        sid = secrets.token_urlsafe(16)
        self.app.sessions[sid] = user
        self._redirect("/dasbor", {"Set-Cookie": f"sesi={sid}; Path=/; HttpOnly; Secure; SameSite=Lax"})
