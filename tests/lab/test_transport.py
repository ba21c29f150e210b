"""ping and facts against real lab hosts: host keys, a stopped host, a frozen host, parallel fan-out."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from sopctl.lab import core
from tests.helpers import sopctl, sopctl_json


def _inventory_with_known_hosts(lab, tmp_path, known_hosts_text: str):
    """A copy of the lab inventory whose hosts use our own known_hosts file."""
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_text)
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["vars"]["sopctl_known_hosts"] = str(known)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(data))
    return inventory, known


def test_ping_every_host_json(lab):
    done, rows = sopctl_json("ping", "-i", str(lab.inventory))
    assert done.returncode == 0, done.stderr
    assert [r["host"] for r in rows] == [h.name for h in lab.hosts]
    for row, host in zip(rows, lab.hosts):
        assert set(row) == {"host", "address", "status", "os", "rtt_ms", "error"}
        assert row["status"] == "ok" and row["address"] == host.address and row["error"] is None
        assert row["os"].startswith("Debian GNU/Linux") and row["rtt_ms"] > 0


def test_ping_table_and_limit(lab):
    done = sopctl("ping", "-i", str(lab.inventory), "--limit", "pcs:!pc-01")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["host", "address", "status"]
    hosts = [line.split()[0] for line in lines[2:]]
    assert hosts == [h.name for h in lab.hosts if h.group == "pcs" and h.name != "pc-01"]


def test_unknown_limit_names_the_pattern(lab):
    done = sopctl("ping", "-i", str(lab.inventory), "--limit", "pc-99")
    assert done.returncode == 2
    assert "pc-99" in done.stderr and "Traceback" not in done.stderr


def test_changed_host_key_is_refused_while_others_succeed(lab, tmp_path):
    victim = lab.host("pc-02")
    other_key = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True)
    forged = other_key.with_suffix(".pub").read_text().split()[:2]
    lines = []
    for line in (core.STATE_DIR / "known_hosts").read_text().splitlines():
        lines.append(" ".join([victim.address, *forged]) if line.startswith(victim.address + " ") else line)
    inventory, _ = _inventory_with_known_hosts(lab, tmp_path, "\n".join(lines) + "\n")
    done, rows = sopctl_json("ping", "-i", str(inventory))
    assert done.returncode == 1
    by_host = {r["host"]: r for r in rows}
    assert by_host["pc-02"]["status"] == "hostkey_refused"
    assert "CHANGED" in by_host["pc-02"]["error"] and "SHA256:" in by_host["pc-02"]["error"]
    assert all(r["status"] == "ok" for name, r in by_host.items() if name != "pc-02")


def test_unknown_host_key_refused_unless_accepted_explicitly(lab, tmp_path):
    inventory, known = _inventory_with_known_hosts(lab, tmp_path, "")
    done, rows = sopctl_json("ping", "-i", str(inventory), "--limit", "pc-01")
    assert done.returncode == 1
    assert rows[0]["status"] == "hostkey_refused" and "--accept-new-host-keys" in rows[0]["error"]
    assert known.read_text() == ""  # nothing recorded silently

    done, rows = sopctl_json("ping", "-i", str(inventory), "--limit", "pc-01", "--accept-new-host-keys")
    assert done.returncode == 0 and rows[0]["status"] == "ok"
    recorded = known.read_text().split()
    assert recorded[0] == "127.0.1.1" and recorded[1:3] == core.host_public_key(lab.host("pc-01"))

    done, rows = sopctl_json("ping", "-i", str(inventory), "--limit", "pc-01")
    assert done.returncode == 0, "a recorded key is trusted on the next run"


def test_stopped_host_is_unreachable_within_the_timeout(lab):
    victim = lab.host("srv-01")
    core.stop_host(victim)
    try:
        started = time.monotonic()
        done, rows = sopctl_json("ping", "-i", str(lab.inventory), "--timeout", "3")
        elapsed = time.monotonic() - started
    finally:
        core.start_host(victim)
    assert done.returncode == 1
    by_host = {r["host"]: r for r in rows}
    assert by_host["srv-01"]["status"] == "unreachable" and "refused" in by_host["srv-01"]["error"]
    assert all(r["status"] == "ok" for n, r in by_host.items() if n != "srv-01")
    assert elapsed < 30


def test_frozen_host_times_out_while_others_succeed(lab):
    victim = lab.host("pc-01")
    pid = core.running_pid(victim)
    os.kill(pid, signal.SIGSTOP)  # accepts TCP (kernel backlog) but never answers: a hung host
    try:
        done, rows = sopctl_json("ping", "-i", str(lab.inventory), "--timeout", "2")
    finally:
        os.kill(pid, signal.SIGCONT)
    by_host = {r["host"]: r for r in rows}
    assert done.returncode == 1
    assert by_host["pc-01"]["status"] == "timeout", by_host["pc-01"]
    assert all(r["status"] == "ok" for n, r in by_host.items() if n != "pc-01")


def test_facts_in_one_round_trip(lab):
    done, rows = sopctl_json("facts", "-i", str(lab.inventory))
    assert done.returncode == 0, done.stderr
    for row, host in zip(rows, lab.hosts):
        facts = row["facts"]
        assert row["status"] == "ok" and facts["hostname"] == host.name
        assert facts["os_family"] == "Debian" and facts["distribution"] == "Debian"
        assert facts["processor_vcpus"] >= 1 and facts["memtotal_mb"] > 0
        assert 0 < facts["disk_root_used_pct"] < 100 and facts["uptime_seconds"] >= 0
        assert facts["missing"] == []


def test_facts_table(lab):
    done = sopctl("facts", "-i", str(lab.inventory))
    assert done.returncode == 0, done.stderr
    assert "Debian 12" in done.stdout or "Debian" in done.stdout
    for host in lab.hosts:
        assert host.name in done.stdout


def test_sopctl_program_works_from_any_folder(lab, tmp_path):
    exe = shutil.which("sopctl")
    assert exe, "the sopctl console program is installed with the package"
    done = subprocess.run([exe, "ping", "-i", str(lab.inventory), "--json"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert '"status": "ok"' in done.stdout


def test_default_inventory_comes_from_the_running_lab_outside_a_project(lab, tmp_path):
    (core.STATE_DIR / "inventory").mkdir(exist_ok=True)
    (core.STATE_DIR / "inventory" / "lab.yml").write_text(lab.inventory.read_text())
    done = sopctl("ping", "--limit", "srv-01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "srv-01" in done.stdout


def test_invoke_list_from_repo_root():
    done = subprocess.run(["python", "-m", "invoke", "--list"], cwd=os.path.dirname(os.path.dirname(
        os.path.dirname(__file__))), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("ping", "facts", "lab.up", "lab.down", "lab.status"):
        assert name in done.stdout
