"""user: add, change or remove a local user account (Ansible's `ansible.builtin.user`, Linux shadow tools).

Options:

- `name` (str, required, alias `user`): the account name.
- `state` (str, default `present`; `present`, `absent`).
- `uid` (int): the user ID (`-u`); `non_unique` (bool, default false) allows a UID already in use (`-o`).
- `group` (str): primary group, by name or GID; it must exist. When not given and a group named like the
  user already exists, the user is created with `-N` (as Ansible does, so useradd does not refuse).
- `groups` (list of str; a comma string is split): supplementary groups (names or GIDs; each must exist).
  By default the user is removed from every other group; `append: true` only adds. An empty list with
  `append: false` removes the user from all supplementary groups.
- `append` (bool, default false): add to `groups` without removing others.
- `comment` (str): the GECOS field. `home` (path): home folder; `move_home` (bool, default false) moves the
  contents when `home` changes. `shell` (path): login shell.
- `create_home` (bool, default true, alias `createhome`): create the home folder (`useradd -m`, from
  `skeleton` (str) when given, else /etc/skel). As in Ansible, a present user whose home folder is missing
  gets it created (copied from the skeleton, owned by the user).
- `system` (bool, default false): create a system account (`-r`); no effect on an existing account.
- `password` (str, secret): the password *hash* (crypt(3) format, e.g. from `password_hash('sha512')`). It is
  never returned, shown in a diff or put on a command line: it reaches the host on the stdin of
  `chpasswd -e`. The result says `password: NOT_LOGGING_PASSWORD`, as Ansible's does.
- `update_password` (str, default `always`; `always`, `on_create`): `on_create` sets the password only when
  the account is created.
- `password_lock` (bool): lock (`usermod -L`) or unlock (`usermod -U`) the password.
- `expires` (float): account expiry, epoch seconds (compared by date); a negative value removes the expiry.
- `password_expire_max`, `password_expire_min`, `password_expire_warn` (int): days, set with `chage -M/-m/-W`.
- `remove` (bool, default false): with `absent`, also remove the home folder and mail spool (`userdel -r`).
- `force` (bool, default false): with `absent`, `userdel -f`.

Observed with `getent passwd NAME` (rc 2 = absent; any other failure fails the task with getent's stderr);
`getent group KEYS…` for the named groups; `id -Gn NAME` for the current groups; and `getent shadow NAME`
only when a password, lock, expiry or ageing option is given. A user who exists but whose shadow entry
cannot be read (getent rc 2: no entry, or /etc/shadow unreadable because sopctl is not root) fails the task
with that said, rather than treating the password as empty.

Commands: `useradd …`, `usermod …`, `userdel …`, `chpasswd -e` (hash on stdin), `chage …`; after creating,
`getent passwd NAME` reads back the UID and home the host chose.

Check mode: full (a new account's UID is null in check mode unless `uid` is given). Diff: not supported.

Returns: `name`, `state`, and with `present`: `uid`, `group` (the primary GID), `comment`, `home`, `shell`,
`groups` (as given, comma-joined), `append`/`move_home` (existing user) or `system`/`create_home` (created);
with `absent`: `force`, `remove`. On failure `msg` is the command's stderr.

EXAMPLES:

    - name: Administrator account, in sudo, with a password hash from the vault
      user:
        name: admin-it
        comment: Admin TI PA Batulicin
        shell: /bin/bash
        groups: [sudo]
        append: true
        password: "{{ vault_admin_it_hash }}"

    - name: Passwords of the operator account expire after 90 days
      user:
        name: operator1
        password_expire_max: 90
        password_expire_min: 1

    - name: Remove a former employee's account and home
      user:
        name: budi
        state: absent
        remove: true
"""

from __future__ import annotations

import posixpath
import re
import time
from types import SimpleNamespace

from sopctl.modules.base import ModuleSpec, Option, Plan
from sopctl.modules.group import command_failure
from sopctl.modules.pkgfacts import (GroupEntry, PasswdEntry, ShadowEntry, Unreadable, getent, parse_groups,
                                     parse_passwd, parse_shadow, run)

NOT_LOGGING_PASSWORD = "NOT_LOGGING_PASSWORD"
DEFAULT_SKELETON = "/etc/skel"
_HASH_CHARS = re.compile(r"[^a-zA-Z0-9./=]")

SPEC = ModuleSpec(
    name="user",
    options={
        "name": Option("str", required=True, aliases=("user",), help="account name"),
        "state": Option("str", default="present", choices=("present", "absent"), help="present or absent"),
        "uid": Option("int", help="user ID"),
        "non_unique": Option("bool", default=False, help="allow a duplicate UID"),
        "group": Option("str", help="primary group (name or GID)"),
        "groups": Option("list", elements="str", help="supplementary groups"),
        "append": Option("bool", default=False, help="add to groups, keep the others"),
        "comment": Option("str", help="GECOS field"),
        "home": Option("path", help="home folder"),
        "move_home": Option("bool", default=False, help="move the contents when home changes"),
        "shell": Option("path", help="login shell"),
        "create_home": Option("bool", default=True, aliases=("createhome",), help="create the home folder"),
        "skeleton": Option("str", help="skeleton folder for a new home"),
        "system": Option("bool", default=False, help="create a system account"),
        "password": Option("str", no_log=True, help="password hash (crypt format)"),
        "update_password": Option("str", default="always", choices=("always", "on_create"),
                                  help="always, or only when creating"),
        "password_lock": Option("bool", help="lock or unlock the password"),
        "expires": Option("float", help="account expiry, epoch seconds; negative = never"),
        "password_expire_max": Option("int", help="days before the password must change"),
        "password_expire_min": Option("int", help="days before the password may change"),
        "password_expire_warn": Option("int", help="days of warning before it expires"),
        "remove": Option("bool", default=False, help="userdel -r: remove home and mail spool"),
        "force": Option("bool", default=False, help="userdel -f"),
    },
    check_mode="full",
    diff=False,
    doc=__doc__,
)

SHADOW_OPTIONS = ("password_lock", "expires", "password_expire_max", "password_expire_min", "password_expire_warn")


def looks_hashed(password: str) -> bool:
    """Ansible's check that `password` is a crypt hash and not clear text (it only warns)."""
    if password in ("*", "!", "*************"):
        return True
    fields = password.split("$")
    if any(c in password for c in ":*!") or len(fields) < 3:
        return False
    expected = {"1": 22, "5": 43, "6": 86, "y": 43}.get(fields[1])
    return not _HASH_CHARS.search(fields[-1]) and (expected is None or len(fields[-1]) == expected)


def expiry_argument(expires: float) -> str:
    return "" if expires < 0 else time.strftime("%Y-%m-%d", time.gmtime(expires))


def expiry_differs(expires: float, current_day: int | None) -> bool:
    if expires < 0:
        return current_day is not None and current_day >= 0
    if current_day is None or current_day < 0:
        return True
    return time.gmtime(current_day * 86400)[:3] != time.gmtime(expires)[:3]


def _resolve(key: str, groups: list[GroupEntry]) -> GroupEntry | None:
    for entry in groups:
        if entry.name == key or (key.isdigit() and entry.gid == int(key)):
            return entry
    return None


def _chage(params: dict, shadow: ShadowEntry | None) -> list[str]:
    cmd = []
    for option, flag, current in (("password_expire_min", "-m", shadow.min_days if shadow else None),
                                  ("password_expire_max", "-M", shadow.max_days if shadow else None),
                                  ("password_expire_warn", "-W", shadow.warn_days if shadow else None)):
        if params[option] is not None and (shadow is None or params[option] != current):
            cmd += [flag, str(params[option])]
    return cmd


def _set_password(name: str, password: str, lock: bool | None) -> dict:
    hashed = ("!" + password.lstrip("!")) if lock else password
    return run(["chpasswd", "-e"], stdin=f"{name}:{hashed}\n")


def _observe_groups(host, params: dict, creating: bool) -> list[GroupEntry] | Plan:
    keys = [k for k in ([params["group"]] if params["group"] else []) + list(params["groups"] or []) if k]
    if creating and params["group"] is None:
        keys.append(params["name"])
    keys = list(dict.fromkeys(keys))
    if not keys:
        return []
    answer = host.query(["getent", "group"] + keys)
    if answer["rc"] not in (0, 2):  # 2: one or more keys not found; the found ones are printed
        return Plan(failed=True, msg=f"user: could not read groups (getent group, rc={answer['rc']}): "
                                     f"{answer.get('stderr', '').strip()}")
    entries = parse_groups(answer["stdout"])
    for key in ([params["group"]] if params["group"] else []) + list(params["groups"] or []):
        if key and _resolve(key, entries) is None:
            return Plan(failed=True, msg=f"Group {key} does not exist")
    return entries


def _observe_shadow(host, name: str) -> ShadowEntry | Plan:
    answer = host.query(["getent", "shadow", name])
    found = getent(answer, f"getent shadow {name}")
    if isinstance(found, Unreadable):
        return Plan(failed=True, msg=f"user: {found}")
    entry = parse_shadow(found.splitlines()[0]) if found else None
    if entry is None:
        return Plan(failed=True, msg=f"user: could not read the shadow entry of {name} (getent shadow found "
                                     "none: the entry is missing, or /etc/shadow is not readable — run as root)")
    return entry


def _wanted_groups(params: dict, groups: list[GroupEntry]) -> list[str]:
    names = [_resolve(key, groups).name for key in (params["groups"] or []) if key]
    return list(dict.fromkeys(names))


def _plan_create(params: dict, host, groups: list[GroupEntry]) -> tuple[list[dict], dict] | Plan:
    name = params["name"]
    cmd = ["useradd"]
    if params["uid"] is not None:
        cmd += ["-u", str(params["uid"])] + (["-o"] if params["non_unique"] else [])
    if params["group"]:
        cmd += ["-g", params["group"]]
    elif _resolve(name, groups) is not None:
        cmd.append("-N")
    wanted = _wanted_groups(params, groups)
    if wanted:
        cmd += ["-G", ",".join(wanted)]
    if params["comment"] is not None:
        cmd += ["-c", params["comment"]]
    actions: list[dict] = []
    if params["home"] is not None:
        parent = posixpath.dirname(params["home"].rstrip("/")) or "/"
        if params["create_home"] and not host.stat(parent, follow=True).get("exists"):
            actions.append({"op": "mkdir", "path": parent})
        cmd += ["-d", params["home"]]
    if params["shell"] is not None:
        cmd += ["-s", params["shell"]]
    if params["expires"] is not None:
        cmd += ["-e", expiry_argument(params["expires"])]
    if params["create_home"]:
        cmd += ["-m"] + (["-k", params["skeleton"]] if params["skeleton"] else [])
    else:
        cmd.append("-M")
    if params["system"]:
        cmd.append("-r")
    actions.append(run(cmd + [name]))
    if params["password"] is not None:
        actions.append(_set_password(name, params["password"], params["password_lock"]))
    chage = _chage(params, None)
    if chage:
        actions.append(run(["chage"] + chage + [name]))
    primary = _resolve(params["group"], groups) if params["group"] else None
    predicted = {"uid": params["uid"], "group": primary.gid if primary else None, "comment": params["comment"],
                 "home": params["home"], "shell": params["shell"], "system": params["system"],
                 "create_home": params["create_home"]}
    return actions, predicted


def _plan_modify(params: dict, host, entry: PasswdEntry, groups: list[GroupEntry]) -> tuple[list[dict], dict] | Plan:
    name = params["name"]
    cmd: list[str] = []
    if params["uid"] is not None and params["uid"] != entry.uid:
        cmd += ["-u", str(params["uid"])] + (["-o"] if params["non_unique"] else [])
    primary_gid = entry.gid
    if params["group"]:
        primary = _resolve(params["group"], groups)
        if primary.gid != entry.gid:
            cmd += ["-g", str(primary.gid)]
            primary_gid = primary.gid
    if params["groups"] is not None:
        answer = host.query(["id", "-Gn", name])
        if answer["rc"] != 0:
            return Plan(failed=True, msg=f"user: could not read the groups of {name} (id -Gn): "
                                         f"{answer.get('stderr', '').strip()}")
        # id lists the primary group first; membership of the primary group comes with the GID, not -G.
        new_primary = {g.name for g in groups if g.gid == primary_gid}
        current = set(answer["stdout"].split()[1:]) - new_primary
        wanted = _wanted_groups(params, groups)
        if params["append"]:
            if set(wanted) - new_primary - current:
                cmd += ["-a", "-G", ",".join(wanted)]
        elif current != set(wanted) - new_primary:
            cmd += ["-G", ",".join(wanted)]
    if params["comment"] is not None and params["comment"] != entry.comment:
        cmd += ["-c", params["comment"]]
    home = entry.home
    if params["home"] is not None and params["home"] != entry.home:
        cmd += ["-d", params["home"]] + (["-m"] if params["move_home"] else [])
        home = params["home"]
    if params["shell"] is not None and params["shell"] != entry.shell:
        cmd += ["-s", params["shell"]]

    password = params["password"] if params["update_password"] == "always" else None
    shadow = None
    if password is not None or any(params[o] is not None for o in SHADOW_OPTIONS):
        shadow = _observe_shadow(host, name)
        if isinstance(shadow, Plan):
            return shadow
    if params["expires"] is not None and expiry_differs(params["expires"], shadow.expire_day):
        cmd += ["-e", expiry_argument(params["expires"])]
    lock = params["password_lock"]
    set_password = password is not None and shadow.password.lstrip("!") != password.lstrip("!")
    if not set_password:  # a new hash carries the lock itself ("!HASH"), as Ansible's usermod -p does
        if lock and not shadow.locked:
            cmd.append("-L")
        elif lock is False and shadow.locked:
            cmd.append("-U")

    actions: list[dict] = []
    if cmd:
        actions.append(run(["usermod"] + cmd + [name]))
    if set_password:
        actions.append(_set_password(name, password, lock))
    chage = _chage(params, shadow)
    if chage:
        actions.append(run(["chage"] + chage + [name]))
    if params["create_home"] and not (params["move_home"] and home != entry.home):
        uid = params["uid"] if params["uid"] is not None else entry.uid
        actions += _missing_home(host, params, home, uid, primary_gid)
    predicted = {"uid": params["uid"] if params["uid"] is not None else entry.uid, "group": primary_gid,
                 "comment": params["comment"] if params["comment"] is not None else entry.comment,
                 "home": home, "shell": params["shell"] or entry.shell,
                 "append": params["append"], "move_home": params["move_home"]}
    return actions, predicted


def _missing_home(host, params: dict, home: str, uid: int, gid: int) -> list[dict]:
    """Ansible creates a present user's missing home folder: from the skeleton, owned by the user."""
    if host.stat(home, follow=True).get("exists"):
        return []
    actions = [{"op": "mkdir", "path": home, "owner": uid, "group": gid}]
    skeleton = params["skeleton"] or DEFAULT_SKELETON
    if host.stat(skeleton, follow=True).get("type") == "directory":
        actions += [run(["cp", "-a", f"{skeleton}/.", home]), run(["chown", "-R", f"{uid}:{gid}", home])]
    return actions


def plan(params: dict, host) -> Plan:
    name, state = params["name"], params["state"]
    found = getent(host.query(["getent", "passwd", name]), f"getent passwd {name}")
    if isinstance(found, Unreadable):
        return Plan(failed=True, msg=f"user: {found}")
    entry = parse_passwd(found.splitlines()[0]) if found else None
    if found and entry is None:
        return Plan(failed=True, msg=f"user: unexpected getent passwd output for {name}: {found.strip()!r}")
    result: dict = {"name": name, "state": state}

    if state == "absent":
        actions = []
        if entry is not None:
            cmd = ["userdel"] + (["-f"] if params["force"] else []) + (["-r"] if params["remove"] else [])
            actions.append(run(cmd + [name]))
            result.update(force=params["force"], remove=params["remove"])
        check = command_failure(actions)
        return Plan(actions=actions, result=result,
                    finish=(lambda results, out: check(results, out)[0]) if actions else None)

    groups = _observe_groups(host, params, creating=entry is None)
    if isinstance(groups, Plan):
        return groups
    planned = _plan_create(params, host, groups) if entry is None else _plan_modify(params, host, entry, groups)
    if isinstance(planned, Plan):
        return planned
    actions, predicted = planned
    result.update(predicted)
    if params["groups"] is not None:
        result["groups"] = ",".join(k for k in params["groups"] if k)
    if params["password"] is not None:
        result["password"] = NOT_LOGGING_PASSWORD
        if not looks_hashed(params["password"]):
            result["warnings"] = ["The input password appears not to have been hashed. The 'password' argument "
                                  "must be encrypted for this module to work properly."]
    changed = bool(actions)
    reads: set[int] = set()
    if entry is None:
        reads.add(len(actions))
        actions.append(run(["getent", "passwd", name]))
    check = command_failure(actions, reads)

    def finish(action_results: list, out: dict) -> dict:
        out, done = check(action_results, out)
        for index in reads:
            read_back = parse_passwd(done[index].stdout.splitlines()[0]) if done[index].stdout.strip() else None
            if read_back is not None:
                out.update(uid=read_back.uid, group=read_back.gid, comment=read_back.comment,
                           home=read_back.home, shell=read_back.shell)
        return out

    return Plan(actions=actions, result=result, changed=changed, finish=finish if actions else None)


MODULE = SimpleNamespace(spec=SPEC, plan=plan)
