"""UAT steps on a real host: command, service, file and database (SQLite file probe, TCP from the host)
run over SSH with the sopctl agent on one lab host (srv-01), by the real program, with the login password
taken from a `!vault` variable of the inventory. The host's real state is read first with plain OpenSSH."""

from __future__ import annotations

import textwrap

from sopctl.lab.inventory import inventory_text
from sopctl.store import Store
from sopctl.uat import records
from tests.helpers import ssh_run
from tests.uat_app import UatApp, make_certificate
from tests.unit.uat.support import APP_PASSWORD, cli, login_step, make_project, vault_block

HOST = "srv-01"


def test_host_steps_on_a_lab_host(lab, tmp_path):
    host = lab.host(HOST)
    ssh_run(lab, HOST, "mkdir -p /var/lib/uji && rm -f /var/lib/uji/uji.db && python3 -c \"import sqlite3; "
                       "c = sqlite3.connect('/var/lib/uji/uji.db'); c.execute('CREATE TABLE perkara (nomor TEXT)'); "
                       "c.commit()\"")
    real_hostname = ssh_run(lab, HOST, "hostname").strip()
    assert ssh_run(lab, HOST, "pidof sshd >/dev/null && echo up").strip() == "up"

    project = make_project(tmp_path / "proyek")
    inventory = project / "inventory" / "lab"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(inventory_text(lab.hosts))
    (inventory / "group_vars" / "all" / "vault.yml").write_text(
        f"uat_uji_password: !vault |\n{vault_block(APP_PASSWORD, 2)}\n")
    cert, key = make_certificate(project / "checks" / "uat", "ca")
    with UatApp(cert, key) as app:
        (project / "checks" / "uat" / "uji.yml").write_text(textwrap.dedent(f"""\
            name: uji
            version: "1.0.0"
            owner: Kasubag Perencanaan & IT
            hosts: {HOST}
            url: {app.url}
            tls: {{ca_file: ca.pem}}
            steps:
{login_step(12, password_var="uat_uji_password")}
            - id: nama-host
              command: {{run: hostname, equals: {real_hostname}}}
            - id: ssh-berjalan
              service: {{name: ssh, process: sshd}}
            - id: passwd
              file: {{path: /etc/passwd, type: file, contains: "root:x:0:0"}}
            - id: tidak-ada
              file: {{path: /etc/uji-tidak-ada.conf, state: absent}}
            - id: basis-data
              database: {{engine: sqlite, path: /var/lib/uji/uji.db}}
            - id: ssh-dari-host
              database: {{engine: tcp, host: {host.address}, port: 22, from: hosts}}
            - id: versi-salah
              command: {{run: "echo 0.9.0", equals: "1.0.0"}}
            - id: layanan-tidak-ada
              service: {{name: uji-tidak-ada}}
            - id: bukan-sqlite
              database: {{engine: sqlite, path: /etc/passwd}}
            - id: perintah-tidak-ada
              command: {{run: uji-perintah-tidak-ada}}
            """))
        done = cli(project, "uat", "--app", "uji", "--inventory", str(inventory), "--tester", "Budi", timeout=180)
        assert app.logins == [("penguji", True)]
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.strip() == ("sopctl: UAT of uji 1.0.0 failed: versi-salah, layanan-tidak-ada, bukan-sqlite, "
                                   "perintah-tidak-ada")
    with Store.open(project / "var" / "sopctl.db") as db:
        (run,) = db.runs(kind="uat")
        assert run.inventory == str(inventory)
        (uat_run,) = records.runs(db, "uji")
        steps = {s.step_id: s for s in records.steps(db, uat_run.id)}
    results = {step_id: step.result for step_id, step in steps.items()}
    assert results == {"masuk": "pass", "nama-host": "pass", "ssh-berjalan": "pass", "passwd": "pass",
                       "tidak-ada": "pass", "basis-data": "pass", "ssh-dari-host": "pass", "versi-salah": "fail",
                       "layanan-tidak-ada": "fail", "bukan-sqlite": "fail", "perintah-tidak-ada": "error"}
    assert steps["nama-host"].observed == f"exit code 0, stdout '{real_hostname}'"
    assert steps["nama-host"].hosts == {HOST: "pass"} and steps["nama-host"].command == "hostname"
    assert steps["ssh-berjalan"].observed.startswith("running")
    assert steps["passwd"].observed.startswith("file mode=0644 owner=root")
    assert steps["basis-data"].observed.startswith("SQLite database, ") and "1 table(s)" in steps["basis-data"].observed
    assert steps["ssh-dari-host"].observed == f"tcp at {host.address}:22: TCP open (connected)"
    assert steps["versi-salah"].detail == "stdout is '0.9.0', not '1.0.0'"
    assert steps["layanan-tidak-ada"].detail == "service uji-tidak-ada is absent, expected running"
    assert steps["bukan-sqlite"].detail == "/etc/passwd is not a SQLite database"
    assert steps["perintah-tidak-ada"].detail.startswith("the command could not run (exit code 127)")
