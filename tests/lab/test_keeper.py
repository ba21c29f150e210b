"""`play --persist N` on real lab hosts: connections kept and reused, re-checked, and let go.

A login on a lab host shows as an "Accepted publickey" line in its /var/log/auth.log (sshd -E); counting
them tells, independently of sopctl, whether a run opened a new SSH connection or reused a kept one.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from sopctl.agent.kept import keeper_pid
from sopctl.lab import core
from tests.helpers import BECOME_BOOK, sopctl, ssh_run

BOOK = """\
    - hosts: all
      gather_facts: true
      tasks:
        - file: {path: /srv/keeper, state: directory, mode: "0755"}
        - copy: {dest: /srv/keeper/motd, content: "kept {{ ansible_hostname }}\\n", mode: "0644"}
        - lineinfile: {path: /srv/keeper/extra, line: "second line", create: true}
        - command: cat /srv/keeper/motd /srv/keeper/extra
          register: shown
          changed_when: false
        - assert: {that: ["'second line' in shown.stdout"]}
    """


@pytest.fixture
def keeper_env(tmp_path):
    """A private keeper folder for the test; the keeper the test started is stopped (by pid) at the end."""
    folder = tmp_path / "run"
    env = {"SOPCTL_RUNTIME_DIR": str(folder)}
    yield env
    sopctl("keeper.stop", env=env)
    assert keeper_pid(folder) is None, "the keeper did not stop"


def _book(tmp_path, text: str = BOOK, name: str = "book.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _play(env, book, inventory, *args):
    done = sopctl("play", str(book), "-i", str(inventory), "--json", *args, env=env)
    assert done.returncode in (0, 1), done.stderr
    return done, json.loads(done.stdout)


def _logins(lab, name: str) -> int:
    """Logins so far on the host, counting the one this question itself makes."""
    return int(ssh_run(lab, name, "grep -c 'Accepted publickey' /var/log/auth.log").strip())


def _statuses(report: dict) -> list[tuple[str, str, str]]:
    return [(t["task"], t["host"], t["status"]) for p in report["plays"] for t in p["tasks"]]


def test_second_run_reuses_the_kept_connection_with_the_same_results(lab, tmp_path, keeper_env):
    book = _book(tmp_path)
    limit = ("--limit", "pc-01:srv-01")
    _play({}, book, lab.inventory, *limit)  # applies the book: the runs below change nothing
    first_done, first = _play(keeper_env, book, lab.inventory, *limit, "--persist", "30")
    before = _logins(lab, "pc-01")
    done, second = _play(keeper_env, book, lab.inventory, *limit, "--persist", "30")
    after = _logins(lab, "pc-01")
    _, direct = _play({}, book, lab.inventory, *limit)  # without the keeper: the reference

    assert done.returncode == 0 and first_done.returncode == 0, done.stderr
    assert after - before == 1, "only the counting login itself: the run reused the kept connection"
    assert _statuses(second) == _statuses(first) == _statuses(direct)
    assert second["recap"] == direct["recap"]
    assert all(c["changed"] == 0 and c["failed"] == 0 for c in second["recap"].values())
    status = json.loads(sopctl("keeper.status", "--json", env=keeper_env).stdout)
    assert status["hosts"] == ["pc-01", "srv-01"] and status["persist"] == 30


def test_without_persist_every_run_logs_in(lab, tmp_path):
    book = _book(tmp_path)
    before = _logins(lab, "pc-01")
    _play({}, book, lab.inventory, "--limit", "pc-01")
    assert _logins(lab, "pc-01") - before == 2, "one login for the run, one for the count"


def test_a_key_removed_from_known_hosts_stops_reuse_at_once(lab, tmp_path, keeper_env):
    known = tmp_path / "known_hosts"
    known.write_text((core.STATE_DIR / "known_hosts").read_text())
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["vars"]["sopctl_known_hosts"] = str(known)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(data))
    book = _book(tmp_path)
    done, _ = _play(keeper_env, book, inventory, "--limit", "pc-01:pc-02", "--persist", "30")
    assert done.returncode == 0, done.stderr

    victim = lab.host("pc-02").address + " "
    known.write_text("".join(line for line in known.read_text().splitlines(keepends=True)
                             if not line.startswith(victim)))
    done, report = _play(keeper_env, book, inventory, "--limit", "pc-01:pc-02", "--persist", "30")

    assert done.returncode == 1
    refused = [t for p in report["plays"] for t in p["tasks"] if t["host"] == "pc-02"]
    assert refused[0]["status"] == "unreachable" and "--accept-new-host-keys" in refused[0]["msg"]
    assert report["recap"]["pc-01"]["failed"] == 0 and report["recap"]["pc-01"]["unreachable"] == 0


def test_a_restarted_host_is_reconnected(lab, tmp_path, keeper_env):
    book = _book(tmp_path)
    done, _ = _play(keeper_env, book, lab.inventory, "--limit", "pc-03", "--persist", "30")
    assert done.returncode == 0, done.stderr
    host = lab.host("pc-03")
    core.stop_host(host)  # ends sshd and every process on the host: the kept connection dies
    core.start_host(host)
    before = _logins(lab, "pc-03")
    done, report = _play(keeper_env, book, lab.inventory, "--limit", "pc-03", "--persist", "30")
    assert done.returncode == 0, done.stderr
    assert report["recap"]["pc-03"]["unreachable"] == 0
    assert _logins(lab, "pc-03") - before == 2, "a new connection replaced the dead one"


def test_the_keeper_stops_by_itself_when_idle(lab, tmp_path, keeper_env):
    done, _ = _play(keeper_env, _book(tmp_path), lab.inventory, "--limit", "pc-01", "--persist", "1")
    assert done.returncode == 0, done.stderr
    folder = keeper_env["SOPCTL_RUNTIME_DIR"]
    assert keeper_pid(Path(folder)) is not None
    deadline = time.monotonic() + 15
    while keeper_pid(Path(folder)) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert keeper_pid(Path(folder)) is None
    assert not os.path.exists(os.path.join(folder, "keeper.sock"))
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"


def test_a_folder_open_to_others_is_refused(lab, tmp_path):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    done = sopctl("play", str(_book(tmp_path)), "-i", str(lab.inventory), "--limit", "pc-01", "--persist", "30",
                  env={"SOPCTL_RUNTIME_DIR": str(folder)})
    assert done.returncode == 0, done.stderr  # the run goes on with its own connections
    assert "connection keeper not used" in done.stderr and "mode 0700" in done.stderr
    assert not (folder / "keeper.sock").exists()


def test_become_agents_are_kept_apart_from_the_login_users(lab, tmp_path, keeper_env):
    book = _book(tmp_path, BECOME_BOOK, "become.yml")
    for _ in range(2):  # the second run leases both kept agents, each still the user it was started as
        done, report = _play(keeper_env, book, lab.inventory, "--persist", "30")
        assert done.returncode == 0, done.stdout
        assert report["recap"]["pc-01"]["failed"] == 0


def test_a_connection_in_use_outlives_the_persist_time(lab, tmp_path, keeper_env):
    """persist counts from the end of a run: a task longer than it must not lose its connection."""
    book = _book(tmp_path, """\
        - hosts: pc-01
          gather_facts: false
          tasks:
            - command: sleep 3
            - command: echo still here
              register: after
            - assert: {that: ["after.stdout == 'still here'"]}
        """, "slow.yml")
    done, report = _play(keeper_env, book, lab.inventory, "--persist", "1")
    assert done.returncode == 0, done.stdout
    assert report["recap"]["pc-01"]["unreachable"] == 0 and report["recap"]["pc-01"]["failed"] == 0
