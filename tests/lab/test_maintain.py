"""`maintain --month`: the monthly cycle end to end on the lab, with resume and the exit codes."""

from __future__ import annotations

import json

from tests.helpers import sopctl


def _maintain(lab, tmp_path, *args):
    return sopctl("maintain", "-i", str(lab.inventory), "--store", str(tmp_path / "sopctl.db"),
                  "--reports", str(tmp_path / "reports"), *args)


def test_dry_run_touches_nothing(lab, tmp_path):
    done = _maintain(lab, tmp_path, "--month", "2026-10", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "schedule" in done.stdout and "audit" in done.stdout
    assert not (tmp_path / "sopctl.db").exists() and not (tmp_path / "reports").exists()


def test_a_month_then_resume(lab, tmp_path):
    done = _maintain(lab, tmp_path, "--month", "2026-10")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    month = tmp_path / "reports" / "2026-10"
    names = sorted(p.name for p in month.iterdir())
    assert names == sorted(["jadwal-pemeliharaan-2026-10.md", "rekap-pemeliharaan-2026-10.md",
                            *(f"laporan-kepatuhan-2026-10.{x}" for x in ("html", "md", "json", "csv", "junit.xml"))])
    report = json.loads((month / "laporan-kepatuhan-2026-10.json").read_text())
    statuses = {item["id"]: item["status"] for item in report["items"]}
    assert len(statuses) == 40
    assert statuses["C.1"] == statuses["C.8"] == statuses["C.9"] == "compliant"  # generated this month
    assert statuses["A.1"] == "not-verified"  # a person must attest it

    again = _maintain(lab, tmp_path, "--month", "2026-10")
    # every step but the report, and the backup (no backup keys in this project: it runs again next time)
    assert again.stdout.count("already done this month") == 5, again.stdout
    assert "[5/7] backup: backups, then a restore test of each new archive … skipped: recipients file" in again.stdout
    forced = _maintain(lab, tmp_path, "--month", "2026-10", "--only", "audit", "--force")
    assert "already done" not in forced.stdout and "[1/1] audit" in forced.stdout


def test_unknown_step_and_bad_month_are_exit_2(lab, tmp_path):
    done = _maintain(lab, tmp_path, "--only", "nope")
    assert done.returncode == 2 and "unknown step 'nope'" in done.stderr
    done = _maintain(lab, tmp_path, "--month", "2026-13")
    assert done.returncode == 2 and "YYYY-MM" in done.stderr


def test_a_host_down_is_reported_not_fatal(lab, tmp_path):
    from sopctl.lab import core

    victim = lab.host("pc-02")
    core.stop_host(victim)
    try:
        done = _maintain(lab, tmp_path, "--month", "2026-09")
    finally:
        core.start_host(victim)
    assert done.returncode == 1, done.stdout + done.stderr  # C.4 cannot be compliant with a host down
    assert "down: pc-02" in done.stdout
    report = json.loads((tmp_path / "reports" / "2026-09" / "laporan-kepatuhan-2026-09.json").read_text())
    c4 = next(i for i in report["items"] if i["id"] == "C.4")
    assert c4["status"] in ("partly", "non-compliant") and "pc-02" in c4["hosts_failing"]
