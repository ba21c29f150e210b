"""Helpers for the UAT tests: a throw-away sopctl project with a checklist, and the real CLI."""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sopctl.vault import encrypt_bytes

REPO = Path(__file__).resolve().parents[3]
VAULT_PASSWORD = "kata-sandi-vault-uji"
APP_PASSWORD = "Rahasia-Uji-2026"      # tests.uat_app.USERS["penguji"]


def cli_command() -> list[str]:
    """`python -m sopctl` once the lead registers `uat` in sopctl.cli.ns, else the same program with the
    collection added (tests/unit/uat/program.py)."""
    from sopctl.cli import ns

    if "uat" in ns.collections:
        return [sys.executable, "-m", "sopctl"]
    return [sys.executable, "-m", "tests.unit.uat.program"]


def cli_env(extra: dict | None = None) -> dict:
    env = {**os.environ, "SOPCTL_VAULT_PASSWORD": VAULT_PASSWORD, "PYTHONPATH": str(REPO), "TZ": "WITA-8",
           "COLUMNS": "200"}
    env.pop("SOPCTL_VAULT_PASSWORD_FILE", None)
    env.update(extra or {})
    return env


def cli(project: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real program in `project` (no terminal: stdin is /dev/null)."""
    return subprocess.run([*cli_command(), *args], cwd=project, text=True, capture_output=True, env=cli_env(env),
                          stdin=subprocess.DEVNULL, timeout=timeout)


def vault_block(plaintext: str, indent: int) -> str:
    """The encrypted text of a `key: !vault |` value, indented for a YAML block at `indent` spaces."""
    return textwrap.indent(encrypt_bytes(plaintext, VAULT_PASSWORD), " " * indent).rstrip("\n")


def login_step(indent: int, *, password_var: str | None = None, password: str | None = None,
               username_field: str = "nama_pengguna", cookie: str | None = None,
               then: str = "{path: /dasbor, contains: Dasbor Perkara}") -> str:
    """The `masuk` step: log in to the test application as penguji, as YAML indented for a steps list at
    `indent` spaces. The password comes from the vault variable `password_var`, or is `password`
    encrypted inline (`password: !vault |`)."""
    lines = ["- id: masuk", "  login:", "    path: /login",
             f"    fields: {{username: {username_field}, password: kata_sandi}}", "    username: penguji"]
    if password_var is not None:
        lines.append(f"    password_var: {password_var}")
    else:
        lines += ["    password: !vault |", vault_block(password, 6)]
    if cookie is not None:
        lines.append(f"    cookie: {cookie}")
    lines.append(f"    then: {then}")
    return textwrap.indent("\n".join(lines), " " * indent)


def make_project(root: Path) -> Path:
    """A minimal sopctl project (tasks.py + inventory/ is how sopctl finds the project root)."""
    (root / "inventory").mkdir(parents=True, exist_ok=True)
    (root / "checks" / "uat").mkdir(parents=True, exist_ok=True)
    (root / "tasks.py").write_text("from sopctl.cli import ns  # noqa: F401\n")
    return root


def write_checklist(project: Path, text: str, name: str = "uji") -> Path:
    path = project / "checks" / "uat" / f"{name}.yml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def checklist_text(app_url: str, *, ca_file: str = "uji-ca.pem", version: str = "1.0.0", db_port: int,
                   start: _dt.date | None = None, extra_steps: str = "", manual: bool = True,
                   home_contains: str = "Aplikasi Uji Pengadilan Agama Batulicin", slow_limit_ms: int = 5000,
                   tcp_port: int | None = None, name: str = "uji") -> str:
    """The example checklist of the test application: every automated kind that runs from the control
    machine, and two manual steps (the second optional)."""
    port = int(app_url.rsplit(":", 1)[1].strip("/"))
    start_line = f"start: {start.isoformat()}\n" if start else ""
    password = vault_block(APP_PASSWORD, 8)
    manual_steps = """
- id: cetak-laporan
  title: Cetak laporan perkara
  manual:
    question: Buka Dasbor, pilih perkara 0123/Pdt.G/2026/PA.Btl dan cetak laporannya. Apakah PDF terbuka?
    pass_when: PDF terbuka dan memuat nomor perkara yang benar
- id: tampilan-ponsel
  title: Tampilan di ponsel
  optional: true
  manual:
    question: Buka aplikasi di ponsel. Apakah menu terbaca tanpa digeser ke samping?
    pass_when: Semua menu terbaca pada layar 360 piksel
""" if manual else ""
    return f"""\
schema: 1
name: {name}
title: Aplikasi Uji
description: Aplikasi contoh untuk uji penerimaan pengguna (UAT).
version: "{version}"
owner: Kasubag Perencanaan & IT
url: {app_url}
{start_line}timeout: 10
tls:
  ca_file: {ca_file}
steps:
- id: beranda
  title: Halaman utama tampil
  http:
    path: /
    status: 200
    contains: "{home_contains}"
    regex: 'Versi [0-9.]+'
    max_ms: 3000
- id: dasbor-terkunci
  title: Dasbor tanpa login dialihkan ke halaman masuk
  http:
    path: /dasbor
    redirect: /login
- id: sertifikat
  title: Sertifikat TLS sah dan belum akan kedaluwarsa
  tls:
    days: 30
- id: port-https
  title: Port HTTPS terbuka
  tcp:
    port: {tcp_port or port}
- id: masuk
  title: Login penguji dan buka dasbor
  login:
    path: /login
    fields: {{username: nama_pengguna, password: kata_sandi}}
    username: penguji
    password: !vault |
{password}
    cookie: sesi
    then:
      path: /dasbor
      contains: [Dasbor Perkara, "Selamat datang, penguji"]
- id: laporan-cepat
  title: Laporan tampil cukup cepat
  http:
    path: /lambat
    contains: Laporan selesai
    max_ms: {slow_limit_ms}
- id: basis-data
  title: Basis data menerima koneksi
  database:
    engine: postgresql
    host: 127.0.0.1
    port: {db_port}
{extra_steps}{manual_steps}"""
