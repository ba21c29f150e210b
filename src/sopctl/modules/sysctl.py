"""sysctl: keep a kernel parameter in a sysctl file, and optionally in the running kernel (Ansible's
`ansible.posix.sysctl`).

Options:

- `name` (str, required, alias `key`): the dotted key, e.g. `net.ipv4.ip_forward`.
- `value` (str, alias `val`; required with `state: present`): the wanted value. Booleans and their
  spellings (yes/no/true/false/on/off) become `1`/`0`, as in Ansible.
- `state` (str, default `present`; `present`, `absent`): keep the `name=value` line, or remove the key's lines.
- `reload` (bool, default true): when something changed, run `sysctl -p FILE` so the kernel takes the
  file's values. With `state: present` a differing *live* value also counts as a change that reloads (as
  in Ansible), so a file that is right but not applied gets applied.
- `sysctl_file` (path, default /etc/sysctl.conf): the file to edit (created when missing).
- `sysctl_set` (bool, default false): also compare the live value (`sysctl -n NAME`) and set it with
  `sysctl -w NAME=VALUE` when it differs.
- `ignoreerrors` (bool, default false): pass `-e` to `sysctl -w`/`-p`, ignoring unknown keys.

The file is read and edited in memory: the key's first line becomes `name=value` (Ansible's format) and its
later duplicates are dropped (sysctl would let the last one win); every other line stays byte for byte.
Values are compared after whitespace normalisation ("4096 87380" equals "4096\\t87380"), for the file and
for the live value. The file value that counts is the last one for the key, as `sysctl -p` applies it.
The live value is read only when it matters (`state: present` with `reload` or `sysctl_set`): an unknown
key ("cannot stat /proc/sys/…") differs from any value; any other read failure fails the task.

Check mode: full. Diff: the file before and after.

Returns: `name`, `value`, `state`, `sysctl_file`; on failure `msg` ("Failed to reload sysctl: …",
"setting NAME failed: …").

EXAMPLES:

    - name: Forward IPv4 packets, now and after reboot
      sysctl:
        name: net.ipv4.ip_forward
        value: '1'
        sysctl_set: true

    - name: SYN cookies on, in a drop-in file, without reloading
      sysctl:
        name: net.ipv4.tcp_syncookies
        value: '1'
        sysctl_file: /etc/sysctl.d/60-sop.conf
        reload: false

    - name: Forget kernel.panic
      sysctl:
        name: kernel.panic
        state: absent
"""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace

from sopctl.modules.base import ModuleSpec, Option, Plan, text_diff
from sopctl.modules.pkgfacts import outcomes, run

SPEC = ModuleSpec(
    name="sysctl",
    options={
        "name": Option("str", required=True, aliases=("key",), help="dotted key"),
        "value": Option("str", aliases=("val",), help="wanted value (booleans become 1/0)"),
        "state": Option("str", default="present", choices=("present", "absent"), help="keep or remove the key"),
        "reload": Option("bool", default=True, help="sysctl -p FILE after a change"),
        "sysctl_file": Option("path", default="/etc/sysctl.conf", help="file to edit"),
        "sysctl_set": Option("bool", default=False, help="also set the live value with sysctl -w"),
        "ignoreerrors": Option("bool", default=False, help="ignore unknown keys (-e)"),
    },
    check_mode="full",
    diff=True,
    doc=__doc__,
    required_if=(("state", "present", ("value",)),),
)

_TRUE = {"yes", "on", "1", "true", "y", "t"}
_FALSE = {"no", "off", "0", "false", "n", "f"}
# sysctl may exit 0 and still have failed to set a key (Red Hat bug 1264080); these lines mean failure.
SET_FAILED = re.compile(r'^sysctl: setting key "[^"]+": (Invalid argument|Read-only file system)$', re.MULTILINE)


def wanted_value(value) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if text.lower() in _TRUE:
        return "1"
    if text.lower() in _FALSE:
        return "0"
    return text


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.split() == b.split()


def _key_of(line: str) -> tuple[str, str] | None:
    """(key, value) of a setting line; None for blank lines, comments and lines without `=`."""
    text = line.strip()
    if not text or text.startswith(("#", ";")) or "=" not in text:
        return None
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def edit(text: str, name: str, value: str, state: str) -> str:
    """The file text with the key set (or removed); unchanged when its value (the last one) already fits."""
    lines = text.splitlines(keepends=True)
    found = [(i, kv[1]) for i, kv in ((i, _key_of(line)) for i, line in enumerate(lines)) if kv and kv[0] == name]
    if state == "absent":
        drop = {i for i, _ in found}
        return "".join(line for i, line in enumerate(lines) if i not in drop)
    if found and same(found[-1][1], value):
        return text
    if not found:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return "".join(lines) + f"{name}={value}\n"
    first, later = found[0][0], {i for i, _ in found[1:]}
    lines[first] = f"{name}={value}\n"
    return "".join(line for i, line in enumerate(lines) if i not in later)


def live_value(host, name: str) -> str | None | Plan:
    """The running kernel's value; None for a key the kernel does not have; a failed Plan if unreadable."""
    answer = host.query(["sysctl", "-n", name])
    if answer["rc"] == 0:
        return answer["stdout"].strip()
    if "cannot stat" in answer.get("stderr", ""):
        return None
    return Plan(failed=True, msg=f"sysctl: could not read the live value of {name} (rc={answer['rc']}): "
                                 f"{answer.get('stderr', '').strip()}")


def plan(params: dict, host) -> Plan:
    name = params["name"].strip()
    if not name:
        return Plan(failed=True, msg="sysctl: name cannot be empty")
    value, state, path = wanted_value(params["value"]), params["state"], params["sysctl_file"]
    errors_flag = ["-e"] if params["ignoreerrors"] else []

    raw = host.read(path)
    before = (raw or b"").decode("utf-8", "surrogateescape")
    after = edit(before, name, value, state)
    file_changed = after != before

    needs_apply = False  # the running kernel differs: a reload (or -w) would change it
    set_live = False
    if state == "present" and (params["reload"] or params["sysctl_set"]):
        live = live_value(host, name)
        if isinstance(live, Plan):
            return live
        needs_apply = not same(live, value)
        set_live = params["sysctl_set"] and needs_apply

    actions: list[dict] = []
    messages: list[str] = []
    if set_live:
        actions.append(run(["sysctl"] + errors_flag + ["-w", f"{name}={value}"]))
        messages.append(f"setting {name} failed: {{out}}")
    if file_changed:
        actions.append({"op": "write", "path": path,
                        "content_b64": base64.b64encode(after.encode("utf-8", "surrogateescape")).decode("ascii")})
        messages.append(f"Failed to write {path}: {{out}}")
    if params["reload"] and (file_changed or (state == "present" and needs_apply)):
        actions.append(run(["sysctl"] + errors_flag + ["-p", path]))
        messages.append("Failed to reload sysctl: {out}")

    def finish(action_results: list, result: dict) -> dict:
        for got, message in zip(outcomes(action_results, len(actions)), messages):
            failed = not got.ok or bool(SET_FAILED.search(got.stderr))
            if failed:
                detail = got.error or (got.stdout + got.stderr).strip() or f"rc={got.rc}"
                result.update(failed=True, changed=False, rc=got.rc, msg=message.format(out=detail))
                break
        return result

    diff = [text_diff(before, after, path)] if file_changed else []
    result = {"name": name, "value": value if state == "present" else None, "state": state, "sysctl_file": path}
    return Plan(actions=actions, result=result, diff=diff, finish=finish if actions else None)


MODULE = SimpleNamespace(spec=SPEC, plan=plan)
