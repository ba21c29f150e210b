"""Backups of real lab hosts, end to end through the CLI: backup, restore-test (JUnit, --against-source),
restore --to and --to-host, a tampered archive, a wrong passphrase, prune, and what the store records.

The tests of this module run in order and share one project folder (one identity, one store).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml

from sopctl.backup import ledger
from sopctl.store import Store
from tests.helpers import REPO, ssh_run, write_project_config

PASSPHRASE = "lab passphrase"
TASKS = """\
from sopctl.cli import ns
from sopctl.cli import backup as _backup

if "backup" not in ns.collections:          # until cli/__init__.py registers them
    for _task in _backup.ns_tasks:
        ns.add_task(_task)
    ns.add_collection(_backup.ns)
"""
TRICKY = r"""
set -e
rm -rf /srv/site /var/backups/db
mkdir -p "/srv/site/empty dir" /srv/site/cache
printf 'spaces\n' > "/srv/site/name with spaces.txt"
printf 'newline\n' > "/srv/site/new
line.txt"
printf 'latin1\n' > "/srv/site/$(printf 'caf\351').txt"
: > /srv/site/zero.bin
head -c 200000 /dev/urandom > /srv/site/random.bin
for i in $(seq 1 300); do printf 'perkara %s sidang\n' $i; done > /srv/site/index.html
ln /srv/site/index.html /srv/site/hardlink.html
ln -s index.html /srv/site/link.html
truncate -s 30M /srv/site/sparse.img && printf 'tail' >> /srv/site/sparse.img
printf 'skip me' > /srv/site/cache/page.tmp
chmod 0640 /srv/site/index.html
"""


@pytest.fixture(scope="module")
def project(lab, tmp_path_factory):
    root = tmp_path_factory.mktemp("backup-project")
    (root / "tasks.py").write_text(TASKS)
    (root / "inventory").mkdir()
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["vars"].pop("backup_paths", None)  # only the hosts named below are backed up here
    hosts = data["all"]["children"]["lab"]["children"]
    hosts["servers"]["hosts"]["srv-01"] = {
        "ansible_host": lab.host("srv-01").address, "backup_paths": ["/srv/site", "/var/backups/db"],
        "backup_exclude": ["*.tmp"], "backup_sop": "F.2",
        "backup_pre_commands": ["mkdir -p /var/backups/db && printf 'CREATE TABLE perkara;\\n' > /var/backups/db/site.sql"],
    }
    hosts["pcs"]["hosts"]["pc-01"]["backup_paths"] = ["/etc/ssh"]
    (root / "inventory" / "lab.yml").write_text(yaml.safe_dump(data))
    write_project_config(root, "inventory/lab.yml")
    ssh_run(lab, "srv-01", TRICKY)
    done = run(root, "backup.keygen")
    assert done.returncode == 0, done.stderr
    return root


def run(root: Path, *args: str, passphrase: str | None = PASSPHRASE):
    env = {**os.environ, "SOPCTL_BACKUP_SCRYPT_LOG_N": "10", "CI": "1"}
    env.pop("SOPCTL_BACKUP_PASSPHRASE", None)
    if passphrase is not None:
        env["SOPCTL_BACKUP_PASSPHRASE"] = passphrase
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=root, env=env, text=True, capture_output=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def archives(root: Path, host: str) -> list[Path]:
    return sorted((root / "backups" / host).glob("*.sopbak"))


def store(root: Path) -> Store:
    return Store.open(root / "var" / "sopctl.db")


def test_keygen_writes_0600_identity_and_recipient(project):
    identity = project / "offline" / "identity"
    assert oct(identity.stat().st_mode & 0o777) == "0o600"
    assert json.loads(identity.read_text())["kdf"]["log_n"] == 10
    lines = [line for line in (project / "backups" / "recipients.txt").read_text().splitlines()
             if line.startswith("sopctl-x25519-")]
    assert len(lines) == 1
    again = run(project, "backup.keygen")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_backup_writes_archives_and_records_them(project):
    done = run(project, "backup", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["host"]: r for r in json.loads(done.stdout)}
    assert rows["srv-01"]["status"] == "ok" and rows["pc-01"]["status"] == "ok"
    assert rows["pc-02"]["status"] == "skipped"
    assert rows["srv-01"]["files"] == 8        # 7 site files (one of the hard-linked pair is a link) + the dump
    assert len(archives(project, "srv-01")) == 1 and len(archives(project, "pc-01")) == 1
    assert not list((project / "backups").rglob("*.partial"))
    with store(project) as db:
        (row,) = ledger.archives(db, ["srv-01"])
        assert row.file_count == 8 and len(row.sha256) == 64 and row.size == archives(project, "srv-01")[0].stat().st_size
        assert row.recipients and row.recipients[0].startswith("x25519:")
        run_row = db.get_run(row.run_id)
        assert run_row.kind == "backup" and run_row.status == "complete"
        assert [e.host for e in db.evidence_for("F.2") if e.kind == "backup"] == ["srv-01"]
        assert [e.host for e in db.evidence_for("D.7") if e.kind == "backup"] == ["pc-01"]


def test_restore_test_passes_with_junit_and_evidence(project, tmp_path):
    junit = tmp_path / "restore.xml"
    done = run(project, "restore-test", "--junit", str(junit), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {r["host"]: r["status"] for r in rows} == {"pc-01": "pass", "srv-01": "pass"}
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "0"
    with store(project) as db:
        assert [e.host for e in db.evidence_for("F.2") if e.kind == "restore-test"] == ["srv-01"]
        assert db.runs(kind="restore-test")[-1].status == "complete"


def test_against_source_reports_what_changed(project, lab):
    ssh_run(lab, "srv-01", "printf 'changed\\n' >> /srv/site/index.html; rm /srv/site/zero.bin; "
                           "printf new > /srv/site/added.txt")
    done = run(project, "restore-test", "--limit", "srv-01", "--against-source", "--json")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    change = row["against_source"]
    assert change["counts"]["added"] == 1 and change["added"] == ["srv/site/added.txt"]
    assert change["removed"] == ["srv/site/zero.bin"]
    assert "srv/site/index.html" in change["content"] or "srv/site/hardlink.html" in change["content"]


def test_restore_to_local_folder(project, tmp_path, lab):
    target = tmp_path / "restored"
    done = run(project, "restore", "--host", "srv-01", "--to", str(target))
    assert done.returncode == 0, done.stderr + done.stdout
    site = target / "srv" / "site"
    assert (site / "name with spaces.txt").read_text() == "spaces\n"
    assert (site / "new\nline.txt").read_text() == "newline\n"
    assert (site / os.fsdecode(b"caf\xe9.txt")).read_bytes() == b"latin1\n"
    assert (site / "zero.bin").read_bytes() == b"" and (site / "empty dir").is_dir()
    assert os.readlink(site / "link.html") == "index.html"
    assert os.stat(site / "index.html").st_ino == os.stat(site / "hardlink.html").st_ino
    assert oct(os.stat(site / "index.html").st_mode & 0o777) == "0o640"
    assert os.path.getsize(site / "sparse.img") == 30 * 1024 * 1024 + 4
    assert os.stat(site / "sparse.img").st_blocks * 512 < 1024 * 1024
    assert not (site / "cache" / "page.tmp").exists()                 # excluded
    assert (target / "var" / "backups" / "db" / "site.sql").read_text() == "CREATE TABLE perkara;\n"
    live = ssh_run(lab, "srv-01", "sha256sum /srv/site/random.bin").split()[0]
    import hashlib
    assert hashlib.sha256((site / "random.bin").read_bytes()).hexdigest() == live


def test_restore_onto_the_host(project, lab):
    done = run(project, "restore", "--host", "srv-01", "--to-host", "--to", "/restored")
    assert done.returncode == 0, done.stderr + done.stdout
    out = ssh_run(lab, "srv-01", "cd /restored/srv/site && cat 'name with spaces.txt' && stat -c %a index.html && "
                                 "readlink link.html && test -d 'empty dir' && stat -c %s sparse.img && "
                                 "sha256sum random.bin")
    lines = out.splitlines()
    assert lines[:4] == ["spaces", "640", "index.html", str(30 * 1024 * 1024 + 4)]
    assert lines[4].split()[0] == ssh_run(lab, "srv-01", "sha256sum /srv/site/random.bin").split()[0]


def test_wrong_passphrase_is_one_line(project):
    done = run(project, "restore-test", passphrase="not it")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "wrong passphrase for backup identity" in done.stderr


def test_tampered_archive_fails_naming_archive_and_chunk(project, tmp_path):
    assert run(project, "backup", "--limit", "srv-01").returncode == 0
    newest = archives(project, "srv-01")[-1]
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0x40
    newest.write_bytes(bytes(data))
    junit = tmp_path / "bad.xml"
    done = run(project, "restore-test", "--limit", "srv-01", "--junit", str(junit), "--json")
    assert done.returncode == 1
    (row,) = json.loads(done.stdout)
    assert row["status"] == "fail"
    assert newest.name in row["detail"] and "chunk" in row["detail"] and "failed authentication" in row["detail"]
    assert ET.parse(junit).getroot().get("failures") == "1"


def test_prune_keeps_newest_and_newest_restore_tested(project):
    assert run(project, "backup", "--limit", "srv-01").returncode == 0
    with store(project) as db:
        rows = ledger.archives(db, ["srv-01"])
        tested = ledger.newest_passed(db, "srv-01")
    assert len(rows) == 3 and tested == rows[0].id
    dry = run(project, "backup.prune", "--keep-daily", "1", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = {r["id"]: r for r in json.loads(dry.stdout) if r["host"] == "srv-01"}
    assert plan[rows[0].id]["action"] == "keep" and "restore-tested" in plan[rows[0].id]["why"]
    assert plan[rows[1].id]["action"] == "would delete"
    assert plan[rows[2].id]["action"] == "keep"
    assert len(archives(project, "srv-01")) == 3
    done = run(project, "backup.prune", "--keep-daily", "1")
    assert done.returncode == 0, done.stderr
    assert [p.name for p in archives(project, "srv-01")] == [Path(rows[0].path).name, Path(rows[2].path).name]
    with store(project) as db:
        assert [r.id for r in ledger.archives(db, ["srv-01"], status="pruned")] == [rows[1].id]


def test_list_shows_each_host(project):
    done = run(project, "backup.list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["host", "archives"]
    assert any(line.startswith("srv-01") and " 2 " in line for line in lines)
    assert any(line.startswith("pc-01") for line in lines)


def test_restore_test_all_archives_of_a_host(project):
    assert run(project, "backup", "--limit", "pc-01").returncode == 0
    done = run(project, "restore-test", "--all", "--limit", "pc-01", "--json")
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in json.loads(done.stdout)] == ["pass", "pass"]


def test_changed_and_missing_files_are_reported_not_fatal(project, lab):
    data = yaml.safe_load((project / "inventory" / "lab.yml").read_text())
    pc = data["all"]["children"]["lab"]["children"]["pcs"]["hosts"]["pc-01"]
    pc["backup_paths"] = ["/srv/growing", "/srv/not-there"]
    (project / "inventory" / "grow.yml").write_text(yaml.safe_dump(data))
    ssh_run(lab, "pc-01", "mkdir -p /srv/growing && head -c 30000000 /dev/zero > /srv/growing/app.log && "
                          "(nohup sh -c 'while :; do echo line >> /srv/growing/app.log; done' >/dev/null 2>&1 & "
                          "echo $! > /tmp/grower.pid)")
    try:
        done = run(project, "backup", "-i", "inventory/grow.yml", "--limit", "pc-01", "--json")
    finally:
        ssh_run(lab, "pc-01", "kill $(cat /tmp/grower.pid)")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert row["status"] == "ok" and "warning" in row["error"]
    test = run(project, "restore-test", "--limit", "pc-01", "--json")
    assert test.returncode == 0, test.stderr
    with store(project) as db:
        newest = ledger.archives(db, ["pc-01"])[-1]
        (detail,) = [json.loads(r["detail"]) for r in db._query(
            "SELECT detail FROM restore_tests WHERE archive_id = ?", (newest.id,))]
    assert any("srv/not-there" in note and "Cannot stat" in note for note in detail["notes"])
    assert any(s.startswith("srv/growing/app.log: file changed as we read it") for s in detail["skipped"])


def test_failing_pre_command_fails_the_host_and_writes_nothing(project):
    data = yaml.safe_load((project / "inventory" / "lab.yml").read_text())
    data["all"]["children"]["lab"]["children"]["pcs"]["hosts"]["pc-01"]["backup_pre_commands"] = ["echo dump failed >&2; exit 3"]
    (project / "inventory" / "bad.yml").write_text(yaml.safe_dump(data))
    before = archives(project, "pc-01")
    done = run(project, "backup", "-i", "inventory/bad.yml", "--limit", "pc-01", "--json")
    assert done.returncode == 1
    (row,) = json.loads(done.stdout)
    assert row["status"] == "failed" and "pre-backup command failed (exit 3)" in row["error"]
    assert "dump failed" in row["error"]
    assert archives(project, "pc-01") == before and not list((project / "backups").rglob("*.partial"))
