"""group: add, change or remove a group (Ansible's `ansible.builtin.group`).

Options:

- `name` (str, required): the group.
- `state` (str, default `present`; `present`, `absent`).
- `gid` (int): the group ID; an existing group with another GID is changed with `groupmod -g`.
- `system` (bool, default false): create a system group (`groupadd -r`); no effect on an existing group.
- `non_unique` (bool, default false): allow a GID that another group has (`-o`); needs `gid`.
- `force` (bool, default false): `groupdel -f` (delete even if it is some user's primary group).
- `local` (bool, default false): Ansible then uses the libuser tools (lgroupadd …) to touch only local files;
  accepted, and the shadow tools are used either way (they write the local files).

Observed with `getent group NAME` (rc 2 = absent; any other failure fails the task with getent's stderr).
Commands: `groupadd [-g GID [-o]] [-r] NAME`, `groupmod -g GID [-o] NAME`, `groupdel [-f] NAME`; after
`groupadd` without a GID, `getent group NAME` reads the GID the host chose.

Check mode: full. Diff: not supported.

Returns: `name`, `state`, and with `present` also `gid` (null in check mode when the host would choose it)
and `system`; on failure `msg` is the command's stderr.

EXAMPLES:

    - name: Group for the court's IT staff
      group:
        name: it-staff
        state: present

    - name: docker group with a fixed GID
      group:
        name: docker
        gid: 1750
"""

from __future__ import annotations

from types import SimpleNamespace

from sopctl.modules.base import ModuleSpec, Option, Plan
from sopctl.modules.pkgfacts import Unreadable, getent, outcomes, parse_groups, run

SPEC = ModuleSpec(
    name="group",
    options={
        "name": Option("str", required=True, help="group name"),
        "state": Option("str", default="present", choices=("present", "absent"), help="present or absent"),
        "gid": Option("int", help="group ID"),
        "system": Option("bool", default=False, help="create as a system group"),
        "non_unique": Option("bool", default=False, help="allow a duplicate GID"),
        "force": Option("bool", default=False, help="groupdel -f"),
        "local": Option("bool", default=False, help="accepted; local files are what the shadow tools change"),
    },
    check_mode="full",
    diff=False,
    doc=__doc__,
    required_if=(("non_unique", True, ("gid",)),),
)


def command_failure(actions: list[dict], reads: set[int] = frozenset()):
    """finish for account commands: the first failed action fails the task with its stderr (Ansible's
    msg); actions in `reads` are read-backs whose failure is not the task's."""

    def check(action_results: list, result: dict) -> tuple[dict, list]:
        done = outcomes(action_results, len(actions))
        for index, got in enumerate(done):
            if not got.ok and index not in reads:
                result.update(failed=True, changed=False, rc=got.rc, msg=got.message)
                break
        return result, done

    return check


def plan(params: dict, host) -> Plan:
    name, state, gid = params["name"], params["state"], params["gid"]
    command = f"getent group {name}"
    found = getent(host.query(["getent", "group", name]), command)
    if isinstance(found, Unreadable):
        return Plan(failed=True, msg=f"group: {found}")
    entry = next((g for g in parse_groups(found or "") if g.name == name), None)
    result: dict = {"name": name, "state": state}
    actions: list[dict] = []
    reads: set[int] = set()

    if state == "absent":
        if entry is not None:
            actions.append(run(["groupdel"] + (["-f"] if params["force"] else []) + [name]))
    else:
        unique = ["-o"] if params["non_unique"] else []
        if entry is None:
            cmd = ["groupadd"] + (["-g", str(gid)] + unique if gid is not None else [])
            actions.append(run(cmd + (["-r"] if params["system"] else []) + [name]))
            if gid is None:
                reads.add(len(actions))
                actions.append(run(["getent", "group", name]))
        elif gid is not None and entry.gid != gid:
            actions.append(run(["groupmod", "-g", str(gid)] + unique + [name]))
        result.update(gid=gid if gid is not None else (entry.gid if entry else None), system=params["system"])

    check = command_failure(actions, reads)

    def finish(action_results: list, out: dict) -> dict:
        out, done = check(action_results, out)
        for index in reads:
            read_back = next((g for g in parse_groups(done[index].stdout) if g.name == name), None)
            if read_back is not None:
                out["gid"] = read_back.gid
        return out

    changed = len(actions) - len(reads) > 0
    return Plan(actions=actions, result=result, changed=changed, finish=finish if actions else None)


MODULE = SimpleNamespace(spec=SPEC, plan=plan)
