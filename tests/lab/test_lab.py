"""The lab itself: real hosts, isolated filesystems, idempotent start, clean stop, stale state replaced."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sopctl.errors import LabError
from sopctl.lab import core
from tests.helpers import REPO, ssh_run


def test_hosts_have_names_groups_and_addresses(lab):
    names = [h.name for h in lab.hosts]
    assert names[-1] == "srv-01" and names[:-1] == [f"pc-{k:02d}" for k in range(1, len(names))]
    for host in lab.hosts:
        assert ssh_run(lab, host.name, "hostname").strip() == host.name
        assert ssh_run(lab, host.name, "cat /etc/hostname").strip() == host.name


def test_a_write_on_one_host_is_invisible_on_the_others_and_the_machine(lab):
    marker = "/etc/sopctl-isolation-test"
    ssh_run(lab, "pc-01", f"echo pc-01 > {marker}")
    assert ssh_run(lab, "pc-01", f"cat {marker}").strip() == "pc-01"
    for other in lab.hosts[1:]:
        assert ssh_run(lab, other.name, f"test -e {marker} && echo present || echo absent").strip() == "absent"
    assert not os.path.exists(marker)
    ssh_run(lab, "pc-01", f"rm {marker}")


def test_up_is_idempotent_and_keeps_running_hosts(lab):
    before = {s.host.name: s.pid for s in core.status()}
    core.up(len(lab.hosts))
    after = {s.host.name: s.pid for s in core.status()}
    assert before == after and all(after.values())


def test_a_stale_pid_file_is_found_and_the_host_replaced(lab):
    host = lab.host("pc-02")
    core.stop_host(host)
    host.pid_file.write_text("999999\n")  # what a killed run leaves behind
    assert {s.host.name: s.state for s in core.status()}["pc-02"] == "stale"
    core.up(len(lab.hosts))
    assert {s.host.name: s.state for s in core.status()}["pc-02"] == "running"
    assert ssh_run(lab, "pc-02", "hostname").strip() == "pc-02"


def test_stop_kills_every_process_of_the_host_and_nothing_else(lab):
    host = lab.host("pc-02")
    ssh_run(lab, "pc-02", "nohup sleep 300 >/dev/null 2>&1 & echo $! > /run/test-sleep.pid")
    sleeper = int(ssh_run(lab, "pc-02", "cat /run/test-sleep.pid"))
    outsider = subprocess.Popen(["sleep", "300"])
    try:
        core.stop_host(host)
        assert not core._alive(sleeper)
        assert outsider.poll() is None  # a process of the machine is never touched
    finally:
        outsider.kill()
        core.start_host(host)
    assert ssh_run(lab, "pc-02", "hostname").strip() == "pc-02"


def test_pid_of_another_process_is_never_killed(lab, tmp_path):
    host = lab.host("pc-01")
    outsider = subprocess.Popen(["sleep", "300"])
    try:
        assert not core._is_our_sshd(outsider.pid, host)
        assert core.running_pid(host) != outsider.pid
    finally:
        outsider.kill()


def test_plan_rejects_impossible_sizes():
    with pytest.raises(LabError, match="1 to 250"):
        core.plan(0)


def test_not_root_is_a_one_line_error(monkeypatch, capsys):
    from sopctl.cli.program import program

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SystemExit) as exit_:
        program.run(["sopctl", "lab.up"])
    assert exit_.value.code == 3
    assert capsys.readouterr().err.strip() == (
        "sopctl: error: the lab needs root (it mounts overlays and starts sshd): run it as root")


def test_lab_status_task_lists_every_host(lab):
    done = subprocess.run([sys.executable, "-m", "invoke", "lab.status"], cwd=REPO, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    for host in lab.hosts:
        assert host.name in done.stdout and host.address in done.stdout
    assert done.stdout.count("running") == len(lab.hosts)
