"""command and shell: run a command on the host.

Options (Ansible's `ansible.builtin.command` / `ansible.builtin.shell`):

| option | type | default | meaning |
|---|---|---|---|
| free form / `cmd` | str | | the command line. `command` splits it into words and runs no shell (no `$VAR`, `*`, `|`, `>`); `shell` runs it with `/bin/sh -c` |
| `argv` | list | | (command only) the words to run, instead of a command line |
| `chdir` | path | | change into this folder first |
| `creates` | path | | skip when this path exists |
| `removes` | path | | skip when this path does not exist |
| `stdin` | str | | text fed to the command's standard input |
| `stdin_add_newline` | bool | true | add a newline after `stdin` |
| `strip_empty_ends` | bool | true | strip trailing newlines from stdout/stderr |
| `executable` | path | | (shell only) the shell to use instead of /bin/sh |

Check mode: the command is not run; the task is skipped (as in Ansible) unless `creates`/`removes` already
decide it. Diff: none. Always "changed" when it runs (use `changed_when`).
Returns: cmd, rc, stdout, stderr, stdout_lines, stderr_lines, start, end, delta, msg ("non-zero return
code" on failure). Commands run with `LC_ALL=C` so their output parses the same everywhere.

    - name: Show listening sockets
      ansible.builtin.command: ss -tlnp
      register: sockets
      changed_when: false
    - ansible.builtin.shell: journalctl -u ssh --since today | grep -c Failed || true
"""

from __future__ import annotations

import shlex
from datetime import datetime, timedelta, timezone

from .base import ModuleSpec, Option, Plan

_COMMON = {
    "_raw_params": Option("str"),
    "cmd": Option("str"),
    "chdir": Option("path"),
    "creates": Option("path"),
    "removes": Option("path"),
    "stdin": Option("str"),
    "stdin_add_newline": Option("bool", True),
    "strip_empty_ends": Option("bool", True),
}


class CommandModule:
    def __init__(self, name: str, shell: bool):
        options = dict(_COMMON)
        if shell:
            options["executable"] = Option("path")
        else:
            options["argv"] = Option("list", elements="str")
            options["expand_argument_vars"] = Option("bool", True)
        self.shell = shell
        self.spec = ModuleSpec(name, options, check_mode="partial", diff=False, free_form="_raw_params",
                               doc=__doc__)

    def _command_line(self, params: dict):
        text = params.get("cmd") or params.get("_raw_params")
        if self.shell:
            return text
        if params.get("argv"):
            return [str(a) for a in params["argv"]]
        return shlex.split(text) if text else None

    def plan(self, params: dict, host) -> Plan:
        command = self._command_line(params)
        if not command:
            return Plan(failed=True, msg="no command given")
        shown = command if isinstance(command, str) else " ".join(shlex.quote(w) for w in command)
        for option, wanted in (("creates", True), ("removes", False)):
            path = params.get(option)
            if path and host.stat(path, follow=True).get("exists", False) == wanted:
                verb = "exists" if wanted else "does not exist"
                return Plan(changed=False, result={"cmd": shown, "rc": 0, "stdout": f"skipped, since {path} {verb}"},
                            msg=f"Did not run command since '{path}' {verb}")
        if host.check_mode:
            # Ansible's command returns its empty result fields here, so a later `{{ out.stdout }}` works.
            empty = {"cmd": shown, "rc": None, "stdout": "", "stderr": "", "stdout_lines": [], "stderr_lines": [],
                     "start": None, "end": None, "delta": None}
            return Plan(skipped=True, msg="Command would have run if not in check mode", changed=False,
                        result=empty)
        stdin = params.get("stdin")
        if stdin is not None and params.get("stdin_add_newline"):
            stdin += "\n"
        if self.shell and params.get("executable"):
            action = {"op": "run", "cmd": [params["executable"], "-c", command], "shell": False}
        else:
            action = {"op": "run", "cmd": command, "shell": self.shell}
        action.update(stdin=stdin, cwd=params.get("chdir"))
        return Plan(actions=[action], changed=True,
                    finish=lambda results, result: _finish(shown, params, results[0], result))


def _strip(text: str, strip: bool) -> str:
    return text.rstrip("\r\n") if strip else text


def _finish(shown: str, params: dict, answer: dict, result: dict) -> dict:
    out = answer.get("result") or {}
    end = datetime.now(timezone.utc)
    delta = timedelta(seconds=out.get("duration", 0.0))
    stdout = _strip(out.get("stdout", ""), params.get("strip_empty_ends", True))
    stderr = _strip(out.get("stderr", ""), params.get("strip_empty_ends", True))
    result.update(cmd=shown, rc=out.get("rc"), stdout=stdout, stderr=stderr,
                  stdout_lines=stdout.splitlines(), stderr_lines=stderr.splitlines(),
                  start=str(end - delta), end=str(end), delta=str(delta))
    if not answer.get("ok"):
        result.update(failed=True, rc=None, msg=answer.get("error", "the command could not run"))
    elif out.get("rc") != 0:
        result.update(failed=True, msg="non-zero return code")
    return result


COMMAND = CommandModule("command", shell=False)
SHELL = CommandModule("shell", shell=True)
