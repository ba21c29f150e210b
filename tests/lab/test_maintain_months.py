"""Issue 9's end-to-end story on the lab: a month runs clean, things break (root login re-enabled, a
backup corrupted, a service request left late), the next month names exactly those items with their
evidence, and the month after the fix shows them fixed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ssh_run, write_project_config

PASSPHRASE = "kunci cadangan pengadilan"
ROOT_LOGIN = "/etc/ssh/sshd_config.d/00-someone.conf"


@pytest.fixture(scope="module")
def project(lab, tmp_path_factory):
    """A court's project folder: its own inventory (hosts back up /etc/ssh), store, backups and keys."""
    root = tmp_path_factory.mktemp("court")
    (root / "tasks.py").write_text("from sopctl.cli import ns  # noqa: F401\n")
    (root / "inventory").mkdir()
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["vars"]["backup_paths"] = ["/etc/ssh"]
    (root / "inventory" / "court.yml").write_text(yaml.safe_dump(data))
    write_project_config(root, "inventory/court.yml")
    assert run(root, "backup.keygen").returncode == 0
    return root


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOPCTL_BACKUP_SCRYPT_LOG_N": "10", "SOPCTL_BACKUP_PASSPHRASE": PASSPHRASE, "CI": "1"}
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=root, env=env, text=True,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL)


def month_report(root: Path, month: str) -> dict:
    data = json.loads((root / "reports" / month / f"laporan-kepatuhan-{month}.json").read_text())
    return data


def service_request(root: Path, received: str, steps: list[tuple[str, str]]) -> None:
    done = run(root, "request.new", "--from", "Panitera", "--unit", "Kepaniteraan", "--need", "printer driver",
               "--at", received)
    assert done.returncode == 0, done.stderr
    number = [w for w in done.stdout.split() if w.strip("#:").isdigit()][0].strip("#:")
    for step, at in steps:
        done = run(root, f"request.{step}", "--id", number, "--at", at, "--by", "operator")
        assert done.returncode == 0, done.stdout + done.stderr


ON_TIME = [("route", "{d}T10:00"), ("verify", "{d}T14:00"), ("consider", "{d}T15:00"), ("approve", "{d}T16:00"),
           ("done", "{d}T16:30")]


def test_three_months(lab, project):
    # ---- month 1: everything done on time
    service_request(project, "2026-06-01T09:00", [(s, a.format(d="2026-06-01")) for s, a in ON_TIME])
    first = run(project, "maintain", "--month", "2026-06")
    assert first.returncode in (0, 1), first.stdout + first.stderr
    report = month_report(project, "2026-06")
    items = {i["id"]: i for i in report["items"]}
    assert items["D.7"]["status"] == "compliant", items["D.7"]
    assert all(items[f"B.{n}"]["status"] == "compliant" for n in range(1, 7)), [items[f"B.{n}"]["status"] for n in range(1, 7)]

    # ---- things break
    ssh_run(lab, "pc-01", f"echo 'PermitRootLogin yes' > {ROOT_LOGIN}")
    service_request(project, "2026-07-01T09:00", [("route", "2026-07-06T09:00")])  # routed 3 working days late
    assert run(project, "maintain", "--month", "2026-07", "--only", "backup").returncode == 0
    archive = sorted((project / "backups" / "pc-02").glob("*.sopbak"))[-1]
    blob = bytearray(archive.read_bytes())
    blob[len(blob) // 2] ^= 0x01  # one bit, in the middle of the archive
    archive.write_bytes(bytes(blob))
    test = run(project, "restore-test", "--limit", "pc-02", "--month", "2026-07")
    assert test.returncode == 1 and "chunk" in test.stdout + test.stderr

    # ---- month 2: exactly those items turn non-compliant, with their evidence
    second = run(project, "maintain", "--month", "2026-07", "--skip", "backup")
    assert second.returncode == 1, second.stdout + second.stderr
    items = {i["id"]: i for i in month_report(project, "2026-07")["items"]}
    assert "pc-01" in items["C.3"]["hosts_failing"]
    root_login = [e for e in items["C.3"]["evidence"] if e.get("check_id") == "sshd-permit-root-login"
                  and e.get("host") == "pc-01"]
    assert root_login and root_login[0]["observed"] == "yes"
    assert items["D.7"]["status"] in ("partly", "non-compliant") and items["D.7"]["hosts_failing"] == ["pc-02"]
    assert items["B.2"]["status"] == "non-compliant"
    changes = month_report(project, "2026-07")["changes"]
    newly = {(c["check_id"], c["host"]) for c in changes["checks"]["newly_failing"]}
    assert ("sshd-permit-root-login", "pc-01") in newly and ("backup-restore-test", "pc-02") in newly

    # ---- the fix, and month 3 shows it fixed
    ssh_run(lab, "pc-01", f"rm -f {ROOT_LOGIN}")
    service_request(project, "2026-08-03T09:00", [(s, a.format(d="2026-08-03")) for s, a in ON_TIME])
    third = run(project, "maintain", "--month", "2026-08")
    assert third.returncode in (0, 1), third.stdout + third.stderr
    report = month_report(project, "2026-08")
    items = {i["id"]: i for i in report["items"]}
    assert items["D.7"]["status"] == "compliant"
    root_login = [e for e in items["C.3"]["evidence"] if e.get("check_id") == "sshd-permit-root-login"
                  and e.get("host") == "pc-01"]
    assert root_login and root_login[0]["status"] == "pass"
    fixed = {(c["check_id"], c["host"]) for c in report["changes"]["checks"]["fixed"]}
    assert ("sshd-permit-root-login", "pc-01") in fixed and ("backup-restore-test", "pc-02") in fixed
    assert all(items[f"B.{n}"]["status"] == "compliant" for n in range(1, 7))
