"""The automated steps against the real test application over HTTPS on loopback: a passing run, and each
way a run must fail (wrong content, expired or untrusted certificate, slow page, closed port, wrong
password), with what the tester is told."""

from __future__ import annotations

import io
import re
import textwrap

import pytest

from sopctl.errors import UsageError
from sopctl.inventory.model import VaultValue
from sopctl.transport.quoting import Secret
from sopctl.uat.checklist import Answer, load_checklist
from sopctl.uat.runner import Runner, Secrets
from sopctl.vault import Vault, VaultError, encrypt_bytes

from .conftest import SLOW_MS
from .support import APP_PASSWORD, VAULT_PASSWORD, checklist_text, login_step


def _checklist(url: str, steps: str, *, ca_file: str | None = "uji-ca.pem") -> str:
    """The checklist uji 1.0.0 of the application at `url`, trusting `ca_file` (None: no `tls` line), with
    `steps`: the YAML of its steps list, at any common indentation."""
    tls = f"tls: {{ca_file: {ca_file}}}\n" if ca_file else ""
    return f'name: uji\nversion: "1.0.0"\nowner: IT\nurl: {url}\n{tls}steps:\n{textwrap.dedent(steps)}'


def _load(tmp_path, certs, text):
    folder = tmp_path / "checks"
    folder.mkdir(exist_ok=True)
    (folder / "uji-ca.pem").write_bytes(certs["bundle"].read_bytes())
    path = folder / "uji.yml"
    path.write_text(textwrap.dedent(text))
    return load_checklist(path)


def _run(tmp_path, certs, text, answers=None, secrets=None):
    checklist = _load(tmp_path, certs, text)
    if secrets is None:
        secrets = Secrets(Vault(VAULT_PASSWORD))
    secrets.prepare(checklist)
    out = io.StringIO()
    outcome = Runner(checklist, secrets=secrets, answers=answers, out=out).run("Budi")
    return outcome, out.getvalue()


def _step(outcome, step_id):
    return next(s for s in outcome.steps if s.step.id == step_id)


def test_every_automated_step_passes_on_the_working_application(tmp_path, certs, app, database):
    outcome, printed = _run(tmp_path, certs, checklist_text(app.url, db_port=database, manual=False))
    assert [(s.step.id, s.result) for s in outcome.steps] == [
        ("beranda", "pass"), ("dasbor-terkunci", "pass"), ("sertifikat", "pass"), ("port-https", "pass"),
        ("masuk", "pass"), ("laporan-cepat", "pass"), ("basis-data", "pass")]
    assert outcome.result == "passed"
    assert outcome.counts == {"passed": 7, "failed": 0, "errors": 0, "skipped": 0, "total": 7}
    assert re.search(r"^\[5/7\] masuk · Login · Login penguji dan buka dasbor \.\.\. Lulus \(\d+ ms\)$", printed, re.M)
    login = _step(outcome, "masuk")
    assert "POST HTTP 303 -> /dasbor, cookie sesi set" in login.observed
    assert "/dasbor HTTP 200" in login.observed
    assert app.logins == [("penguji", True)]          # one real login, with the right password
    redirect = _step(outcome, "dasbor-terkunci")
    assert "Location /login" in redirect.observed
    tls = _step(outcome, "sertifikat")
    assert tls.observed.startswith("trusted; subject CN=127.0.0.1") and "days left" in tls.observed
    slow = _step(outcome, "laporan-cepat")
    assert slow.duration_ms >= SLOW_MS
    # the password (decrypted from the vault) and the session cookie never reach anything kept
    kept = " ".join(f"{s.expected} {s.observed} {s.detail} {s.output} {s.command}" for s in outcome.steps)
    assert APP_PASSWORD not in kept
    assert "kata_sandi=***" in login.command
    assert not any(sid in kept for sid in app.sessions)
    assert "sesi=***" in login.output


def test_wrong_content_fails_naming_what_is_missing(tmp_path, certs, app, database):
    outcome, printed = _run(tmp_path, certs, checklist_text(
        app.url, db_port=database, manual=False, home_contains="Sistem Informasi Penelusuran Perkara"))
    home = _step(outcome, "beranda")
    assert home.result == "fail"
    assert home.detail == "'Sistem Informasi Penelusuran Perkara' not found"
    assert "Aplikasi Uji Pengadilan Agama Batulicin" in home.output     # what the page did say
    assert outcome.result == "failed"
    assert "[1/7] beranda · HTTP · Halaman utama tampil ... Gagal" in printed
    assert "    'Sistem Informasi Penelusuran Perkara' not found" in printed


def test_an_expired_certificate_fails_the_tls_step_and_every_page_behind_it(tmp_path, certs, expired_app):
    port = expired_app.port
    outcome, _ = _run(tmp_path, certs, _checklist(expired_app.url, """\
        - id: sertifikat
          tls: {days: 30}
        - id: beranda
          http: {path: /, contains: Aplikasi}
        """))
    tls, home = outcome.steps
    assert tls.result == "fail"
    assert "certificate not trusted: certificate has expired" in tls.detail
    assert re.search(r"expired on \d{4}-\d\d-\d\d \(1 days ago\)", tls.detail)
    assert "not trusted: certificate has expired" in tls.observed and "valid " in tls.observed
    assert home.result == "fail"
    assert home.detail == f"TLS certificate of 127.0.0.1:{port} not trusted: certificate has expired"


def test_a_certificate_expiring_too_soon_or_not_trusted_fails(tmp_path, certs, app):
    outcome, _ = _run(tmp_path, certs, _checklist(app.url, """\
        - id: sertifikat
          tls: {days: 400}
        """))
    assert re.fullmatch(r"expires on \d{4}-\d\d-\d\d, in 36[45] days \(needs at least 400\)",
                        outcome.steps[0].detail)
    # trusting only another CA: the application's self-signed certificate is not trusted
    other = tmp_path / "lain"
    from tests.uat_app import make_certificate

    make_certificate(other, "lain")
    outcome, _ = _run(tmp_path, certs, _checklist(app.url, """\
        - id: sertifikat
          tls: {days: 30}
        """, ca_file=str(other / "lain.pem")))
    assert outcome.steps[0].result == "fail"
    assert re.search(r"certificate not trusted: self.signed certificate", outcome.steps[0].detail)


def test_a_slow_page_fails_with_the_time_it_took(tmp_path, certs, app, database):
    outcome, _ = _run(tmp_path, certs, checklist_text(app.url, db_port=database, manual=False, slow_limit_ms=200))
    slow = _step(outcome, "laporan-cepat")
    assert slow.result == "fail"
    took = int(re.fullmatch(r"took (\d+) ms, limit 200 ms", slow.detail).group(1))
    assert took >= SLOW_MS
    assert [s.step.id for s in outcome.steps if s.result != "pass"] == ["laporan-cepat"]


def test_a_closed_port_fails_tcp_and_database_steps(tmp_path, certs, app, closed_port):
    outcome, _ = _run(tmp_path, certs, checklist_text(app.url, db_port=closed_port, manual=False,
                                                      tcp_port=closed_port))
    tcp, db = _step(outcome, "port-https"), _step(outcome, "basis-data")
    assert tcp.result == "fail"
    assert tcp.detail == f"port {closed_port} is closed (connection refused), expected open"
    assert db.result == "fail" and db.detail == "the database port is closed: connection refused"
    # and a page of a stopped application: the request is refused
    app.stop()
    outcome, _ = _run(tmp_path, certs, checklist_text(app.url, db_port=closed_port, manual=False))
    assert _step(outcome, "beranda").detail.endswith("refused (nothing listens there)")


def test_a_port_expected_closed_passes_when_closed(tmp_path, certs, app, closed_port):
    outcome, _ = _run(tmp_path, certs, _checklist(app.url, f"""\
        - id: mysql-tertutup
          tcp: {{port: {closed_port}, state: closed}}
        - id: https-tidak-tertutup
          tcp: {{port: {app.port}, state: closed}}
        """, ca_file=None))
    assert [s.result for s in outcome.steps] == ["pass", "fail"]


def test_a_wrong_password_fails_the_login_with_the_page_behind_it_refused(tmp_path, certs, app):
    outcome, _ = _run(tmp_path, certs, _checklist(app.url, login_step(0, password="kata-sandi-salah", cookie="sesi")))
    step = outcome.steps[0]
    assert step.result == "fail"
    assert "login did not set cookie 'sesi'" in step.detail
    assert "/dasbor: HTTP 303 to /login, expected 200" in step.detail
    assert app.logins == [("penguji", False)]
    assert "kata-sandi-salah" not in f"{step.observed}{step.detail}{step.output}{step.command}"


def test_a_login_form_without_the_named_field_fails(tmp_path, certs, app):
    login = login_step(0, password=APP_PASSWORD, username_field="username", then="{path: /dasbor}")
    outcome, _ = _run(tmp_path, certs, _checklist(app.url, login))
    assert outcome.steps[0].detail == ("the login form has no field named 'username' "
                                       "(fields: csrf, kata_sandi, nama_pengguna)")
    assert app.logins == []


def test_password_var_comes_from_the_vault_only(tmp_path, certs, app):
    text = _checklist(app.url, login_step(0, password_var="uat_password"))
    found = {"uat_password": (VaultValue(encrypt_bytes(APP_PASSWORD, VAULT_PASSWORD)), "group_vars/all/vault.yml")}
    outcome, _ = _run(tmp_path, certs, text, secrets=Secrets(Vault(VAULT_PASSWORD), found.get))
    assert outcome.result == "passed"
    # a variable from a whole-file vault is already a Secret
    outcome, _ = _run(tmp_path, certs, text, secrets=Secrets(Vault(VAULT_PASSWORD),
                                                             {"uat_password": (Secret(APP_PASSWORD), "v")}.get))
    assert outcome.result == "passed"
    with pytest.raises(UsageError, match=r"password_var 'uat_password' in vars\.yml is plain text"):
        _run(tmp_path, certs, text, secrets=Secrets(Vault(VAULT_PASSWORD),
                                                    {"uat_password": (APP_PASSWORD, "vars.yml")}.get))
    with pytest.raises(UsageError, match=r"password_var 'uat_password': no such vault variable"):
        _run(tmp_path, certs, text, secrets=Secrets(Vault(VAULT_PASSWORD), {}.get))
    with pytest.raises(VaultError, match="wrong password or the file was changed"):
        _run(tmp_path, certs, text, secrets=Secrets(Vault("salah"), found.get))


def test_manual_answers_and_optional_steps_decide_the_run(tmp_path, certs, app, database):
    text = checklist_text(app.url, db_port=database)
    skip_optional = {"cetak-laporan": Answer("pass", "ok"), "tampilan-ponsel": Answer("skip", "tidak ada ponsel")}
    outcome, printed = _run(tmp_path, certs, text, answers=skip_optional)
    assert outcome.result == "passed" and outcome.counts["skipped"] == 1
    assert "[9/9] tampilan-ponsel · Manual · Tampilan di ponsel ... Dilewati" in printed
    skip_required = {"cetak-laporan": Answer("skip", "printer rusak"), "tampilan-ponsel": Answer("pass")}
    outcome, _ = _run(tmp_path, certs, text, answers=skip_required)
    assert outcome.result == "failed"
    fail_optional = {"cetak-laporan": Answer("pass"), "tampilan-ponsel": Answer("fail", "menu terpotong")}
    outcome, _ = _run(tmp_path, certs, text, answers=fail_optional)
    assert outcome.result == "failed"
    step = _step(outcome, "tampilan-ponsel")
    assert (step.result, step.detail, step.answered_by) == ("fail", "menu terpotong", "answers")


def test_manual_steps_need_answers_or_a_terminal(tmp_path, certs, app, database):
    checklist = _load(tmp_path, certs, checklist_text(app.url, db_port=database))
    with pytest.raises(UsageError, match="has manual steps: give --answers FILE or run it on a terminal"):
        Runner(checklist, secrets=Secrets(Vault(VAULT_PASSWORD)))
