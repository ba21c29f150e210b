"""The playbook engine end to end on lab hosts: check mode, diff, idempotence, handlers, failures, secrets."""

from __future__ import annotations

import json
import textwrap

from tests.helpers import BECOME_BOOK, sopctl, ssh_run


def _book(tmp_path, text: str):
    path = tmp_path / "book.yml"
    path.write_text(textwrap.dedent(text))
    return path


def _play(lab, book, *args):
    done = sopctl("play", str(book), "-i", str(lab.inventory), "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done, json.loads(done.stdout)


BASELINE = """\
    - hosts: pcs
      gather_facts: false
      tasks:
        - file: {path: /srv/engine, state: directory, mode: "0755"}
        - name: config
          copy: {dest: /srv/engine/app.conf, content: "a=1\\n", mode: "0600"}
          notify: reload
        - name: setting
          lineinfile: {path: /srv/engine/app.conf.d, regexp: '^b=', line: b=2, create: true}
          notify: reload
      handlers:
        - name: reload
          shell: echo reloaded >> /srv/engine/handler.log
    """


def test_check_changes_nothing_apply_converges_second_run_is_clean(lab, tmp_path):
    pcs = [h.name for h in lab.hosts if h.group == "pcs"]
    for host in pcs:
        ssh_run(lab, host, "rm -rf /srv/engine")
    book = _book(tmp_path, BASELINE)
    done, checked = _play(lab, book, "--check", "--diff")
    assert done.returncode == 0
    statuses = [t["status"] for t in checked["plays"][0]["tasks"]]
    # 3 tasks changed on each pc; the notified handler's shell is skipped in check mode, as in Ansible
    assert statuses.count("changed") == 3 * len(pcs) and statuses.count("skipped") == len(pcs)
    assert ssh_run(lab, "pc-01", "test -e /srv/engine && echo yes || echo no").strip() == "no"
    diffs = [d for t in checked["plays"][0]["tasks"] for d in t["diff"]]
    assert any("+++ after: /srv/engine/app.conf" in d and "+a=1" in d for d in diffs)

    done, applied = _play(lab, book)
    recap = applied["recap"]
    assert recap["pc-01"]["changed"] == 4 and recap["pc-01"]["failed"] == 0  # 3 tasks + handler once
    assert ssh_run(lab, "pc-01", "cat /srv/engine/app.conf /srv/engine/app.conf.d") == "a=1\nb=2\n"
    assert ssh_run(lab, "pc-01", "stat -c %a /srv/engine/app.conf").strip() == "600"
    assert ssh_run(lab, "pc-01", "cat /srv/engine/handler.log") == "reloaded\n"  # notified twice, ran once

    done, again = _play(lab, book)
    assert all(c["changed"] == 0 for c in again["recap"].values())
    assert ssh_run(lab, "pc-01", "cat /srv/engine/handler.log") == "reloaded\n"
    assert "srv-01" not in again["recap"]


def test_a_failing_host_stops_alone(lab, tmp_path):
    book = _book(tmp_path, """\
        - hosts: all
          gather_facts: false
          tasks:
            - command: "test {{ inventory_hostname }} != pc-02"
            - shell: echo after > /tmp/after-failure
        """)
    done, data = _play(lab, book)
    assert done.returncode == 1 and "pc-02" in done.stderr
    recap = data["recap"]
    assert recap["pc-02"]["failed"] == 1 and recap["pc-02"]["changed"] == 0
    assert all(recap[h.name]["failed"] == 0 and recap[h.name]["changed"] == 2 for h in lab.hosts if h.name != "pc-02")
    assert ssh_run(lab, "pc-02", "test -e /tmp/after-failure && echo yes || echo no").strip() == "no"


def test_ignore_errors_counts_like_ansible(lab, tmp_path):
    book = _book(tmp_path, """\
        - hosts: pc-01
          gather_facts: false
          tasks:
            - command: "false"
              ignore_errors: true
            - command: "true"
        """)
    done, data = _play(lab, book)
    assert done.returncode == 0
    assert data["recap"]["pc-01"] == {"ok": 2, "changed": 2, "unreachable": 0, "failed": 0, "skipped": 0,
                                      "rescued": 0, "ignored": 1}


def test_undefined_variable_names_task_host_and_variable(lab, tmp_path):
    book = _book(tmp_path, """\
        - hosts: pc-01
          gather_facts: false
          tasks:
            - name: use a typo
              command: "echo {{ greting }}"
        """)
    done, data = _play(lab, book)
    (task,) = data["plays"][0]["tasks"]
    assert task["status"] == "failed"
    assert "use a typo" in task["msg"] and "pc-01" in task["msg"] and "greting" in task["msg"]


def test_no_log_hides_a_tasks_result(lab, tmp_path):
    book = _book(tmp_path, """\
        - hosts: pc-01
          gather_facts: false
          tasks:
            - name: secret
              shell: "echo {{ token }}"
              no_log: true
        """)
    for extra in ([], ["--json"]):
        done = sopctl("play", str(book), "-i", str(lab.inventory), "-e", "token=s3cr3t-value", *extra)
        assert done.returncode == 0, done.stderr
        assert "s3cr3t-value" not in done.stdout + done.stderr
    assert "no_log: true" in done.stdout  # the JSON result says why it is empty


def test_vault_secret_is_used_but_never_printed(lab, tmp_path):
    """A `!vault` host variable reaches the command, and is masked even where a later task prints it."""
    from sopctl.vault import encrypt_bytes, vault_yaml_block

    password_file = tmp_path / "vault-pass"
    password_file.write_text("correct horse\n")
    block = vault_yaml_block(encrypt_bytes("Sup3r-Secret-Token", "correct horse"), name="api_token")
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(lab.inventory.read_text())
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "pc-01.yml").write_text(block + "\n")
    book = _book(tmp_path, """\
        - hosts: pc-01
          gather_facts: false
          tasks:
            - name: use the token
              shell: "echo {{ api_token }} > /root/token.txt; cat /root/token.txt"
              register: out
            - debug: var=out.stdout
        """)
    for extra in ([], ["--json"]):
        done = sopctl("play", str(book), "-i", str(inventory), "--vault-password-file", str(password_file), *extra)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Sup3r-Secret-Token" not in done.stdout + done.stderr
    assert ssh_run(lab, "pc-01", "cat /root/token.txt") == "Sup3r-Secret-Token\n"
    assert "***" in done.stdout

    wrong = tmp_path / "wrong-pass"
    wrong.write_text("nope\n")
    done = sopctl("play", str(book), "-i", str(inventory), "--vault-password-file", str(wrong))
    assert done.returncode != 0
    assert "wrong password or the file was changed" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_tags_select_tasks(lab, tmp_path):
    book = _book(tmp_path, """\
        - hosts: pc-01
          gather_facts: false
          tasks:
            - {name: one, command: "true", tags: [a]}
            - {name: two, command: "true", tags: [b]}
            - {name: three, command: "true", tags: [always]}
            - {name: four, command: "true", tags: [never, c]}
        """)
    _, data = _play(lab, book, "--tags", "a")
    assert [t["task"] for t in data["plays"][0]["tasks"]] == ["one", "three"]
    _, data = _play(lab, book, "--skip-tags", "a")
    assert [t["task"] for t in data["plays"][0]["tasks"]] == ["two", "three"]
    _, data = _play(lab, book, "--tags", "c")
    assert [t["task"] for t in data["plays"][0]["tasks"]] == ["three", "four"]


def test_facts_reach_templates(lab, tmp_path):
    book = _book(tmp_path, """\
        - hosts: srv-01
          tasks:
            - copy: {dest: /tmp/facts.txt, content: "{{ ansible_hostname }} {{ ansible_facts.os_family }} {{ ansible_distribution_major_version }}\\n"}
        """)
    done, data = _play(lab, book)
    assert done.returncode == 0, data
    assert ssh_run(lab, "srv-01", "cat /tmp/facts.txt") == "srv-01 Debian 12\n"
    assert data["plays"][0]["tasks"][0]["task"] == "Gathering Facts"


def test_an_interrupted_write_leaves_no_half_file(lab, tmp_path):
    """Writes go to a temp file renamed into place: after a run no temp file is left behind."""
    book = _book(tmp_path, """\
        - hosts: pc-01
          gather_facts: false
          tasks:
            - copy: {dest: /srv/atomic/big.txt, content: "{{ 'x' * 200000 }}"}
        """)
    ssh_run(lab, "pc-01", "mkdir -p /srv/atomic")
    done, _ = _play(lab, book)
    assert done.returncode == 0
    assert ssh_run(lab, "pc-01", "ls -A /srv/atomic").split() == ["big.txt"]


def test_become_another_user_with_sudo(lab, tmp_path):
    book = _book(tmp_path, BECOME_BOOK)
    done, data = _play(lab, book)
    assert done.returncode == 0, data
    assert data["recap"]["pc-01"]["failed"] == 0


def test_a_task_sees_what_an_earlier_task_changed(lab, tmp_path):
    """Files are looked at ahead of the run in one batch; a change must invalidate what was seen."""
    ssh_run(lab, "pc-02", "rm -rf /srv/ahead")
    book = _book(tmp_path, """\
        - hosts: pc-02
          gather_facts: false
          tasks:
            - file: {path: /srv/ahead, state: directory}
            - copy: {dest: /srv/ahead/app.conf, content: "a=1\\n", force: false}
            - lineinfile: {path: /srv/ahead/app.conf, line: b=2}
            - lineinfile: {path: /srv/ahead/app.conf, regexp: '^a=', line: a=3}
            - stat: {path: /srv/ahead/app.conf}
              register: conf
            - assert: {that: ["conf.stat.exists", "conf.stat.size == 8"]}
        """)
    done, first = _play(lab, book)
    assert done.returncode == 0, done.stdout
    assert [t["status"] for t in first["plays"][0]["tasks"]] == ["changed"] * 4 + ["ok", "ok"]
    assert ssh_run(lab, "pc-02", "cat /srv/ahead/app.conf") == "a=3\nb=2\n"
    done, second = _play(lab, book)
    assert second["recap"]["pc-02"]["changed"] == 0 and second["recap"]["pc-02"]["ok"] == 6
