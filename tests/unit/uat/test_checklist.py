"""Checklists and answers files: what is accepted, and every mistake named by file, line and field."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from sopctl.errors import InputError, UsageError
from sopctl.inventory.model import VaultValue
from sopctl.uat.checklist import find_checklist, load_answers, load_checklist

from .support import REPO, vault_block

HEAD = """\
name: uji
version: "1.0.0"
owner: Kasubag Perencanaan & IT
url: https://127.0.0.1:8443/
hosts: srv-01
steps:
"""


def _write(tmp_path: Path, body: str, name: str = "uji") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(textwrap.dedent(body))
    return path


def _error(tmp_path: Path, body: str) -> InputError:
    path = _write(tmp_path, body)
    with pytest.raises(InputError) as caught:
        load_checklist(path)
    return caught.value


def test_every_kind_of_step_loads(tmp_path):
    password = vault_block("rahasia", 6)
    path = _write(tmp_path, HEAD + f"""\
- id: beranda
  http: {{path: /, contains: [Selamat datang], regex: 'Versi [0-9]+', max_ms: 800}}
- id: lama
  http: {{path: /lama, redirect: /baru}}
- id: masuk
  login:
    path: /login
    form: /masuk
    fields: {{username: user, password: pass}}
    username: penguji
    password: !vault |
{password}
    then: {{path: /dasbor, contains: Dasbor}}
- id: sertifikat
  tls: {{days: 14}}
- id: port
  tcp: {{port: 5432, state: closed}}
- id: versi
  command: {{run: cat /opt/app/VERSION, equals: "1.0.0"}}
- id: layanan
  service: {{name: ssh, process: sshd}}
- id: konfigurasi
  file: {{path: /etc/app.conf, mode: "0640", owner: root, contains: "debug = false"}}
- id: db
  database: {{engine: sqlite, path: /var/lib/app/app.db}}
- id: db-pg
  hosts: srv-02
  database: {{engine: postgresql, from: hosts}}
- id: cetak
  optional: true
  manual: {{question: Cetak laporan?, pass_when: PDF terbuka}}
""")
    checklist = load_checklist(path)
    assert [s.kind for s in checklist.steps] == ["http", "http", "login", "tls", "tcp", "command", "service", "file",
                                                 "database", "database", "manual"]
    home, moved, login, tls, tcp, command, service, conf, sqlite, pg, manual = checklist.steps
    assert home.spec.url == "https://127.0.0.1:8443/" and home.spec.status == (200,) and home.spec.follow
    assert moved.spec.redirect == "https://127.0.0.1:8443/baru" and not moved.spec.follow
    assert moved.spec.status == (301, 302, 303, 307, 308)
    assert login.spec.form_url.endswith("/masuk") and isinstance(login.spec.password, VaultValue)
    assert "rahasia" not in repr(login.spec)                       # kept encrypted until used
    assert (tls.spec.host, tls.spec.port, tls.spec.days) == ("127.0.0.1", 8443, 14)
    assert tcp.spec.state == "closed"
    assert command.on_hosts and command.hosts == "srv-01" and command.spec.expect.equals == "1.0.0"
    assert service.spec.process == "sshd" and conf.spec.mode == "0640"
    assert sqlite.on_hosts and pg.on_hosts and pg.hosts == "srv-02" and pg.spec.port == 5432
    assert pg.spec.host == "127.0.0.1"
    assert manual.manual and manual.optional and [s.id for s in checklist.manual_steps] == ["cetak"]
    assert checklist.record == "uji@1.0.0" and len(checklist.sha256) == 64
    assert checklist.host_patterns == ("srv-01", "srv-02")


@pytest.mark.parametrize("body, where, message", [
    (HEAD.replace('"1.0.0"', "1.10") + "- id: a\n  tcp: {port: 1}\n",
     r"uji\.yml:2: version: ", r"must be text, not a number \(YAML read 1\.1 as a number: quote it\)"),
    (HEAD + "- id: a\n  htpp: {path: /}\n", r"uji\.yml:8: steps\[0\]\.htpp: ", r"unknown field; a step has"),
    (HEAD + "- id: a\n  http: {path: /}\n  tcp: {port: 1}\n", r"uji\.yml:9: steps\[0\]\.tcp: ",
     r"exactly one kind .* it has http, tcp"),
    (HEAD + "- id: a\n  tcp: {port: 1}\n- id: a\n  tcp: {port: 2}\n", r"uji\.yml:9: steps\[1\]\.id: ",
     r"duplicate step id 'a' \(first at line 7\)"),
    (HEAD + "- id: a\n  http:\n    path: /\n    regex: 'Versi ('\n", r"uji\.yml:10: steps\[0\]\.http\.regex: ",
     r"bad regular expression"),
    (HEAD + "- id: a\n  http:\n    status: oke\n", r"uji\.yml:9: steps\[0\]\.http\.status: ",
     r"must be an HTTP status"),
    (HEAD + "- id: a\n  login:\n    path: /login\n    fields: {username: u, password: p}\n    username: x\n"
            "    password: rahasia\n    then: {path: /}\n", r"uji\.yml:12: steps\[0\]\.login\.password: ",
     r"must not be written in plain text"),
    (HEAD.replace("hosts: srv-01\n", "") + "- id: a\n  command: {run: 'true'}\n",
     r"uji\.yml:7: steps\[0\]\.command: ", r"give `hosts:`"),
    (HEAD.replace("name: uji", "name: lain") + "- id: a\n  tcp: {port: 1}\n", r"uji\.yml:1: name: ",
     r"differs from the file name uji\.yml"),
    (HEAD + "- id: a\n  manual: {question: Cetak?}\n", r"uji\.yml:8: steps\[0\]\.manual\.pass_when: ",
     r"is required"),
    (HEAD.replace("steps:\n", ""), r"uji\.yml:1: steps: ", r"is required"),
    (HEAD + "- id: a\n  http: {path: /, redirect: /x, follow: true}\n", r"uji\.yml:8: steps\[0\]\.http\.follow: ",
     r"cannot be followed"),
    (HEAD + "- id: a\n  tcp: {port: 70000}\n", r"uji\.yml:8: steps\[0\]\.tcp\.port: ", r"between 1 and 65535"),
    (HEAD + "- id: a\n  file: {path: etc/app.conf}\n", r"uji\.yml:8: steps\[0\]\.file\.path: ", r"absolute path"),
    (HEAD + "- id: a\n  tls: {days: 30}\n  hosts: srv-02\n", r"uji\.yml:9: steps\[0\]\.hosts: ",
     r"runs on the control machine"),
    (HEAD + "- id: a\n  http: {path: /\n", r"uji\.yml:\d+:\d+: ", r"invalid YAML"),
    (HEAD.replace("url: https://127.0.0.1:8443/", "url: ftp://x/") + "- id: a\n  tcp: {port: 1}\n",
     r"uji\.yml:4: url: ", r"not an http:// or https:// address"),
])
def test_a_malformed_checklist_names_file_line_and_field(tmp_path, body, where, message):
    error = _error(tmp_path, body)
    text = str(error)
    assert text.startswith(str(tmp_path)), text
    text = text[len(str(tmp_path)) + 1:]
    assert re.match(where, text), text
    assert re.search(message, text), text
    assert error.exit_code == 2


def test_missing_ca_file_is_named(tmp_path):
    error = _error(tmp_path, HEAD.replace("steps:\n", "tls: {ca_file: tidak-ada.pem}\nsteps:\n")
                   + "- id: a\n  tcp: {port: 1}\n")
    assert re.match(r".*uji\.yml:6: tls\.ca_file: no such file: .*tidak-ada\.pem$", str(error))


def test_find_checklist_refuses_path_tricks_and_lists_known_apps(tmp_path):
    _write(tmp_path, HEAD + "- id: a\n  tcp: {port: 1}\n")
    assert find_checklist(tmp_path, "uji") == tmp_path / "uji.yml"
    with pytest.raises(UsageError, match="an application name is lowercase"):
        find_checklist(tmp_path, "../etc/passwd")
    with pytest.raises(UsageError, match=r"no checklist for 'sipp' .* known applications: uji"):
        find_checklist(tmp_path, "sipp")


def test_the_example_checklists_in_the_repository_load():
    paths = sorted((REPO / "checks" / "uat").glob("*.yml"))
    assert paths, "checks/uat/ has an example checklist"
    for path in paths:
        checklist = load_checklist(path)
        kinds = {step.kind for step in checklist.steps}
        assert {"http", "login", "tls", "tcp", "command", "service", "file", "database", "manual"} <= kinds
        assert all(step.spec.password is None and step.spec.password_var
                   for step in checklist.steps if step.kind == "login")


# ------------------------------------------------------------------------------------------- answers

MANUAL = HEAD + """\
- id: beranda
  http: {path: /}
- id: cetak
  manual: {question: Cetak?, pass_when: PDF terbuka}
- id: ponsel
  manual: {question: Ponsel?, pass_when: Terbaca}
"""


def _answers(tmp_path: Path, text: str):
    checklist = load_checklist(_write(tmp_path, MANUAL))
    path = tmp_path / "jawaban.yml"
    path.write_text(textwrap.dedent(text))
    return checklist, path


def test_answers_with_missing_and_unknown_steps_are_one_clear_error(tmp_path):
    checklist, path = _answers(tmp_path, """\
        cetak: {result: pass}
        cetka: {result: pass}
        beranda: {result: pass}
        """)
    with pytest.raises(InputError) as caught:
        load_answers(path, checklist)
    assert str(caught.value) == (
        f"{path}:2: missing answers for manual step(s): ponsel; unknown step id(s): cetka, beranda "
        "(beranda is automated); the manual steps of uji 1.0.0 are: cetak, ponsel")


def test_an_empty_answers_file_names_every_missing_step(tmp_path):
    checklist, path = _answers(tmp_path, "")
    with pytest.raises(InputError, match=r"missing answers for manual step\(s\): cetak, ponsel;"):
        load_answers(path, checklist)


@pytest.mark.parametrize("text, message", [
    ("cetak: {result: lulus}\nponsel: {result: pass}\n", r"jawaban\.yml:1: cetak\.result: 'lulus' is not one of"),
    ("cetak: {result: fail}\nponsel: {result: pass}\n", r"jawaban\.yml:1: cetak\.comment: is required for a fail"),
    ("cetak: {result: pass, evidence: tidak-ada.png}\nponsel: {result: pass}\n",
     r"jawaban\.yml:1: cetak\.evidence: no such file: .*tidak-ada\.png"),
    ("cetak: pass\nponsel: {result: pass}\n", r"jawaban\.yml:1: cetak: must be a mapping"),
    ("cetak: {result: pass, note: x}\nponsel: {result: pass}\n", r"jawaban\.yml:1: cetak\.note: unknown field"),
])
def test_bad_answers_name_the_field(tmp_path, text, message):
    checklist, path = _answers(tmp_path, text)
    with pytest.raises(InputError, match=message):
        load_answers(path, checklist)


def test_good_answers_keep_comment_and_evidence_relative_to_the_file(tmp_path):
    (tmp_path / "layar.png").write_bytes(b"png")
    checklist, path = _answers(tmp_path, """\
        cetak: {result: pass, comment: " PDF terbuka ", evidence: layar.png}
        ponsel: {result: skip, comment: tidak ada ponsel}
        """)
    answers = load_answers(path, checklist)
    assert answers["cetak"].result == "pass" and answers["cetak"].comment == "PDF terbuka"
    assert answers["cetak"].evidence == tmp_path / "layar.png"
    assert answers["ponsel"].result == "skip" and answers["ponsel"].evidence is None
