"""Fixtures for the UAT tests: the real test application (tests/uat_app) over HTTPS on 127.0.0.1 with
self-signed certificates made by `cryptography`, a TCP listener standing in for a database, a closed
port, a throw-away sopctl project whose checklist points at them, and a real results store."""

from __future__ import annotations

import datetime as _dt
import socket

import pytest

from tests.fixtures import db_path, store, wita  # noqa: F401  (wita: the CLI runs get TZ=WITA-8 too)
from tests.uat_app import UatApp, make_certificate

from .support import checklist_text, make_project, write_checklist

SLOW_MS = 700          # how long the application's /lambat page sleeps


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """A valid self-signed certificate (trusted by the checklists' CA file), and an expired certificate
    issued by the court's test CA (also in that CA file)."""
    folder = tmp_path_factory.mktemp("certs")
    valid = make_certificate(folder, "uji-ca")
    ca = make_certificate(folder, "ca-pengadilan", days=3650, common_name="CA Uji PA Batulicin")
    expired = make_certificate(folder, "kedaluwarsa", expired=True, issuer=ca)
    bundle = folder / "ca-bundle.pem"
    bundle.write_bytes(valid[0].read_bytes() + ca[0].read_bytes())
    return {"valid": valid, "expired": expired, "bundle": bundle}


@pytest.fixture
def app(certs):
    """The test application, started on an ephemeral port and stopped after the test."""
    cert, key = certs["valid"]
    with UatApp(cert, key, slow_ms=SLOW_MS) as running:
        yield running


@pytest.fixture
def expired_app(certs):
    """The same application served with a certificate that expired yesterday."""
    cert, key = certs["expired"]
    with UatApp(cert, key) as running:
        yield running


@pytest.fixture
def database():
    """A TCP listener standing in for the application's database server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def project(tmp_path, certs, app, database):
    """A sopctl project with checks/uat/uji.yml for the running application (passing as written)."""
    root = make_project(tmp_path / "proyek")
    (root / "checks" / "uat" / "uji-ca.pem").write_bytes(certs["bundle"].read_bytes())
    write_checklist(root, checklist_text(app.url, db_port=database, start=_dt.date.today()))
    (root / "bukti").mkdir()
    (root / "bukti" / "cetak.png").write_bytes(b"\x89PNG\r\n\x1a\n tangkapan layar laporan")
    (root / "jawaban.yml").write_text(
        "cetak-laporan:\n"
        "  result: pass\n"
        "  comment: PDF terbuka, nomor perkara benar\n"
        "  evidence: bukti/cetak.png\n"
        "tampilan-ponsel:\n"
        "  result: skip\n"
        "  comment: belum ada ponsel uji\n")
    return root
