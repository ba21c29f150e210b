"""Loading playbooks: Ansible's syntax read into plays and tasks; every mistake located by file and line."""

import textwrap

import pytest

from sopctl.engine.playbook import load_playbook
from sopctl.errors import InputError


def write(tmp_path, text):
    path = tmp_path / "site.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_plays_tasks_and_keywords(tmp_path):
    book = load_playbook(write(tmp_path, """\
        - name: Baseline
          hosts: servers:!srv-old
          become: yes
          gather_facts: false
          vars: {greeting: hi}
          tasks:
            - name: Say
              ansible.builtin.command: echo {{ greeting }}
              register: said
              changed_when: false
              tags: [audit, ssh]
              sop: [C.3, D.1]
            - shell: "echo {{ item }}"
              loop: [a, b]
              loop_control: {loop_var: x}
              when: greeting == 'hi'
              notify: restart ssh
          handlers:
            - name: restart ssh
              command: "true"
        """))
    (play,) = book.plays
    assert (play.name, play.hosts, play.become, play.gather_facts) == ("Baseline", "servers:!srv-old", True, False)
    first, second = play.tasks
    assert first.module == "command" and first.args == {"_raw_params": "echo {{ greeting }}"}
    assert first.register == "said" and first.changed_when is False and first.tags == ["audit", "ssh"]
    assert first.sop == ["C.3", "D.1"] and first.line == 7
    assert second.module == "shell" and second.loop == ["a", "b"] and second.loop_var == "x"
    assert second.notify == ["restart ssh"] and play.handlers[0].name == "restart ssh"


def test_free_form_key_value_arguments(tmp_path):
    book = load_playbook(write(tmp_path, """\
        - hosts: all
          tasks:
            - debug: msg="hello world"
        """))
    assert book.plays[0].tasks[0].args == {"msg": "hello world"}


@pytest.mark.parametrize("text, where, fragment", [
    ("- hosts: all\n  tasks:\n    - name: x\n      frobnicate: {a: 1}\n", ":4", "unknown module 'frobnicate'"),
    ("- hosts: all\n  tasks:\n    - command: ls\n      shell: ls\n", ":3", "exactly one module (found: command, shell)"),
    ("- hosts: all\n  tasks:\n    - name: only a name\n", ":3", "exactly one module (found: none)"),
    ("- hosts: all\n  taks: []\n", ":2", "unknown play keyword"),
    ("- name: no hosts\n  tasks: []\n", ":1", "every play needs `hosts:`"),
    ("- hosts: all\n  tasks:\n    - command: ls\n      become: maybe\n", ":4", "must be true or false"),
    ("- hosts: all\n  tasks:\n    - command:\n        cmd: ls\n        chdri: /tmp\n", ":3",
     "unsupported option(s) chdri; valid options: argv, chdir, cmd"),
    ("- hosts: all\n  tasks:\n    - block: []\n", ":3", "blocks are not supported"),
    ("- hosts: all\n  tasks: [\n", ":", "while parsing"),
    ("{}\n", ":1", "non-empty list of plays"),
])
def test_mistakes_are_located(tmp_path, text, where, fragment):
    path = tmp_path / "site.yml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_playbook(path)
    message = str(error.value)
    assert message.startswith(str(path) + where), message
    assert fragment in message


def test_fully_qualified_names_resolve():
    from sopctl.modules.registry import resolve

    assert resolve("ansible.builtin.copy") == "copy" and resolve("ansible.posix.sysctl") == "sysctl"
    assert resolve("ansible.builtin.sysctl") is None and resolve("community.general.copy") is None
    assert resolve("nope") is None
