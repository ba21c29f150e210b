"""file — manage files, directories and symlinks and their attributes (Ansible's `ansible.builtin.file`).

OPTIONS
  path (path, required; aliases: dest, name)
      The path to manage.
  state (str; choices: absent, directory, file, link, touch, hard)
      - file: the path must already be a file (a missing path FAILS: "file (PATH) is absent, cannot
        continue"); only its attributes are set. This is the default for a missing path.
      - directory: create it with all missing parents (mode/owner/group applied to every folder
        created); with recurse, also set attributes on everything inside.
      - absent: remove it (a directory recursively).
      - touch: create an empty file, or update the times of an existing path (always "changed", as in
        Ansible, unless both times are "preserve").
      - link: a symbolic link to src.
      - hard: hard links are not supported yet (an error).
      Default: the current type of the path when it exists, otherwise "file" ("directory" with recurse).
  src (path)
      The target of the link (state=link only): written as given; a relative src is relative to the
      link's folder. Without force, it must exist.
  mode (raw), owner (str), group (str)
      Attributes: octal string ("0755"), YAML octal int, or symbolic ("u=rwX,g=rX,o="); names or ids.
  recurse (bool, default false)
      With state=directory, set mode/owner/group on everything inside too (symlinks inside are not
      followed: their own owner/group are set, their targets are left alone).
  force (bool, default false)
      With state=link: replace a file or an empty directory by the link, and allow a src that does not
      exist.
  follow (bool, default true)
      When path is a symlink, work on its target (state file/directory/touch; attributes with link).
  modification_time (str)
      "preserve" (default for file, directory, link) or "now" (default for touch). Explicit timestamps
      are not supported yet (an error).
  access_time (str)
      Like modification_time, for the access time.
  modification_time_format (str, default "%Y%m%d%H%M.%S"), access_time_format (str, same default)
      Accepted (only used with explicit timestamps).
  unsafe_writes (bool, default false)
      Accepted for compatibility.

CHECK MODE
  Full: every state is planned from the current stat, nothing is changed.

DIFF
  Supported: {path, state} before/after when the state changes, plus mode/owner/group/src changes.

RETURN
  path (or dest for touch/link), state, src (link), mode/owner/group of the result when known.

EXAMPLES
  - name: Folder for court recordings
    file:
      path: /srv/rekaman/2024
      state: directory
      owner: panitera
      group: panitera
      mode: "0750"

  - name: Lock down the whole tree
    file:
      path: /srv/rekaman
      state: directory
      recurse: true
      mode: u=rwX,g=rX,o=

  - name: Current release
    file:
      src: /opt/app/releases/2024.06
      dest: /opt/app/current
      state: link

  - name: No more legacy cron job
    file:
      path: /etc/cron.d/legacy-backup
      state: absent
"""

from __future__ import annotations

import posixpath

from .base import ModuleArgError, ModuleSpec, Option, Plan
from .files_common import (LinkLoop, attrs_change, attrs_diff, finish_actions, mode_str, owner_matches,
                           parse_mode, resolve_links, stat_mode)

_TIMES = ("preserve", "now")


def _kind(info: dict) -> str:
    """Ansible's get_state: absent, link, directory, or file (anything else counts as a file)."""
    if not info.get("exists"):
        return "absent"
    kind = info.get("type")
    return kind if kind in ("link", "directory") else "file"


class File:
    spec = ModuleSpec(
        name="file",
        options={
            "path": Option("path", required=True, aliases=("dest", "name")),
            "state": Option("str", choices=("absent", "directory", "file", "hard", "link", "touch")),
            "src": Option("path"),
            "mode": Option("raw"),
            "owner": Option("str"),
            "group": Option("str"),
            "recurse": Option("bool", False),
            "force": Option("bool", False),
            "follow": Option("bool", True),
            "access_time": Option("str"),
            "access_time_format": Option("str", "%Y%m%d%H%M.%S"),
            "modification_time": Option("str"),
            "modification_time_format": Option("str", "%Y%m%d%H%M.%S"),
            "unsafe_writes": Option("bool", False),
        },
        check_mode="full",
        diff=True,
        doc=__doc__,
    )

    def plan(self, params: dict, host) -> Plan:
        for option in ("access_time", "modification_time"):
            value = params[option]
            if value is not None and value not in _TIMES:
                raise ModuleArgError(f"file: {option}={value!r} is not supported yet (use 'preserve' or 'now')")
        parse_mode(params["mode"], 0, False)  # a bad mode is an error whatever the state
        path = params["path"]
        info = host.stat(path, follow=False)
        prev = _kind(info)
        state = params["state"]
        if state is None:
            state = prev if prev != "absent" else ("directory" if params["recurse"] else "file")
        if params["recurse"] and state != "directory":
            return Plan(failed=True, msg="recurse option requires state to be 'directory'", result={"path": path})
        if params["src"] and state not in ("link", "hard"):
            return Plan(failed=True, msg="src option requires state to be 'link' or 'hard'", result={"path": path})
        if state == "hard":
            raise ModuleArgError("file: state=hard (hard links) is not supported yet")
        default_time = "now" if state == "touch" else "preserve"
        times = (params["modification_time"] or default_time, params["access_time"] or default_time)
        try:
            if state == "absent":
                return _absent(path, prev)
            if state == "file":
                return _file(host, params, path, info, prev, times)
            if state == "directory":
                return _directory(host, params, path, info, prev, times)
            if state == "link":
                return _link(host, params, path, info, prev, times)
            return _touch(host, params, path, info, prev, times)
        except LinkLoop as exc:
            return Plan(failed=True, msg=str(exc), result={"path": path})


# --- states ----------------------------------------------------------------------------------------

def _absent(path: str, prev: str) -> Plan:
    result = {"path": path, "state": "absent"}
    if prev == "absent":
        return Plan(changed=False, result=result)
    diff = _diff(path, prev, "absent", {}, {})
    return Plan(actions=[{"op": "remove", "path": path}], diff=[diff], result=result, finish=finish_actions())


def _file(host, params: dict, path: str, info: dict, prev: str, times: tuple) -> Plan:
    if prev == "link" and params["follow"]:
        path, info = resolve_links(host, path)
        prev = _kind(info)
    if prev != "file":
        return Plan(failed=True, msg=f"file ({path}) is {prev}, cannot continue", result={"path": path, "state": prev})
    change = attrs_change(info, params["mode"], params["owner"], params["group"])
    actions = _attrs_actions(path, change)
    actions += _time_actions(path, times)
    return _done(path, "file", prev, info, change, actions, {"path": path})


def _directory(host, params: dict, path: str, info: dict, prev: str, times: tuple) -> Plan:
    if prev == "link" and params["follow"]:
        path, info = resolve_links(host, path)
        prev = _kind(info)
    mode, owner, group = params["mode"], params["owner"], params["group"]
    if prev == "absent":
        change = attrs_change({"exists": False, "type": "directory"}, mode, owner, group)
        actions = [{"op": "mkdir", "path": path, "mode": change.get("mode"), "owner": change.get("owner"),
                    "group": change.get("group")}]
        actions += _time_actions(path, times)
        return _done(path, "directory", prev, info, change, actions, {"path": path})
    if prev != "directory":
        return Plan(failed=True, msg=f"{path} already exists as a {prev}", result={"path": path})
    change = attrs_change(info, mode, owner, group)
    actions = _attrs_actions(path, change)
    if params["recurse"] and (mode is not None or owner is not None or group is not None):
        inner = _recurse(host, path, mode, owner, group)
        if isinstance(inner, Plan):
            return inner
        if inner == "all":
            # one recursive `attrs` sets the folder and everything inside to the same values
            actions = [{"op": "attrs", "path": path, "mode": parse_mode(mode, stat_mode(info), True),
                        "owner": owner, "group": group, "recurse": True, "follow": False}]
        else:
            actions += inner
    actions += _time_actions(path, times)
    return _done(path, "directory", prev, info, change, actions, {"path": path})


def _recurse(host, path: str, mode, owner, group):
    """What `recurse` must change inside `path`: "all" (one recursive attrs action will do), a list of
    per-entry attrs actions (a symbolic mode gives each entry its own mode), or a failed Plan."""
    cmd = ["find", "-P", path, "-mindepth", "1", "-printf", "%y %m %U %G %u %g %p\\0"]
    answer = host.query(cmd)
    if answer.get("rc") != 0:
        return Plan(failed=True, msg=f"could not list {path}: {str(answer.get('stderr', '')).strip()}",
                    result={"path": path})
    numeric = mode is None or isinstance(mode, int) or _is_octal(mode)
    actions = []
    for record in str(answer.get("stdout", "")).split("\0"):
        if not record.strip():
            continue
        kind, perms, uid, gid, user, grp, entry = record.split(" ", 6)
        is_link = kind == "l"
        change: dict = {}
        if mode is not None and not is_link:
            current = int(perms, 8)
            wanted = parse_mode(mode, current, kind == "d")
            if wanted != current:
                change["mode"] = wanted
        if owner is not None and not owner_matches(owner, user, int(uid)):
            change["owner"] = str(owner)
        if group is not None and not owner_matches(group, grp, int(gid)):
            change["group"] = str(group)
        if not change:
            continue
        if numeric:
            return "all"
        actions.append({"op": "attrs", "path": entry, "mode": change.get("mode"), "owner": change.get("owner"),
                        "group": change.get("group"), "recurse": False, "follow": False})
    return actions


def _is_octal(value) -> bool:
    try:
        int(str(value).strip(), 8)
        return True
    except ValueError:
        return False


def _link(host, params: dict, path: str, info: dict, prev: str, times: tuple) -> Plan:
    src, force, follow = params["src"], params["force"], params["follow"]
    if src is None and follow and prev == "link":
        src = info.get("link_target")  # keep the link; only its target's attributes are managed
        keep = True
    else:
        keep = False
    folder = path if prev == "directory" else posixpath.dirname(path)
    absrc = posixpath.join(folder, src) if src is not None else None
    if not force and src is not None and not keep and not host.stat(absrc, follow=True).get("exists"):
        return Plan(failed=True, msg="src file does not exist, use 'force=yes' if you really want to create the "
                                     f"link: {absrc}", result={"path": path, "src": src})
    if prev == "directory":
        if not force:
            return Plan(failed=True, msg=f"refusing to convert from directory to symlink for {path}",
                        result={"path": path})
        answer = host.query(["find", path, "-mindepth", "1", "-maxdepth", "1", "-print", "-quit"])
        if answer.get("rc") != 0 or str(answer.get("stdout", "")).strip():
            return Plan(failed=True, msg=f"the directory {path} is not empty, refusing to convert it",
                        result={"path": path})
    elif prev == "file" and not force:
        return Plan(failed=True, msg=f"refusing to convert from file to symlink for {path}", result={"path": path})

    actions: list[dict] = []
    extra_before: dict = {}
    extra_after: dict = {}
    if prev in ("file", "directory", "absent"):
        if src is None:
            return Plan(failed=True, msg="src is required for creating new symlinks", result={"path": path})
        if prev == "directory":
            actions.append({"op": "remove", "path": path})
        actions.append({"op": "symlink", "src": src, "dest": path, "force": prev == "file"})
    elif src is not None and info.get("link_target") != src:
        extra_before["src"], extra_after["src"] = info.get("link_target"), src
        actions.append({"op": "symlink", "src": src, "dest": path, "force": True})

    result = {"dest": path, "src": src, "state": "link"}
    warnings = []
    change: dict = {}
    attrs_info = info if prev == "link" else {"exists": False}
    wanted = (params["mode"], params["owner"], params["group"])
    if any(v is not None for v in wanted):
        if follow:
            target = host.stat(absrc, follow=True) if absrc is not None else {"exists": False}
            if not target.get("exists"):
                warnings.append("Cannot set fs attributes on a non-existent symlink target. follow should be "
                                "set to False to avoid this.")
            else:
                attrs_info = target
                change = attrs_change(target, *wanted)
                if change:
                    actions.append({"op": "attrs", "path": path, "mode": change.get("mode"),
                                    "owner": change.get("owner"), "group": change.get("group"),
                                    "recurse": False, "follow": True})
        else:
            # the link itself: its owner/group (a symlink's mode cannot be changed on Linux)
            change = attrs_change(attrs_info, None, params["owner"], params["group"])
            if change:
                actions.append({"op": "attrs", "path": path, "mode": None, "owner": change.get("owner"),
                                "group": change.get("group"), "recurse": False, "follow": False})
    if follow and absrc is not None and not warnings:
        actions += _time_actions(path, times)
    plan = _done(path, "link", prev, attrs_info, change, actions, result, extra_before, extra_after)
    if warnings:
        plan.result["warnings"] = warnings
    return plan


def _touch(host, params: dict, path: str, info: dict, prev: str, times: tuple) -> Plan:
    mode, owner, group = params["mode"], params["owner"], params["group"]
    result = {"dest": path}
    if prev == "absent":
        change = attrs_change({"exists": False}, mode, owner, group)
        action = {"op": "touch", "path": path, "mode": change.get("mode"), "owner": change.get("owner"),
                  "group": change.get("group")}
        return _done(path, "touch", prev, info, change, [action], result)
    target, target_info, kind = path, info, prev
    if prev == "link" and params["follow"]:
        target, target_info = resolve_links(host, path)
        kind = _kind(target_info)
        if kind == "absent":  # a dangling link: touching creates its target
            change = attrs_change({"exists": False}, mode, owner, group)
            action = {"op": "touch", "path": target, "mode": change.get("mode"), "owner": change.get("owner"),
                      "group": change.get("group")}
            return _done(path, "touch", prev, info, change, [action], result)
    change = attrs_change(target_info, mode, owner, group) if kind != "link" else \
        attrs_change(target_info, None, owner, group)
    actions: list[dict] = []
    m_now, a_now = times[0] == "now", times[1] == "now"
    if kind == "file" and m_now and a_now:
        actions.append({"op": "touch", "path": target, "mode": change.get("mode"), "owner": change.get("owner"),
                        "group": change.get("group")})
    else:
        actions += _attrs_actions(target, change, follow=kind != "link")
        actions += _time_actions(target, times)
    return _done(path, "touch", prev, target_info, change, actions, result)


# --- pieces ----------------------------------------------------------------------------------------

def _attrs_actions(path: str, change: dict, follow: bool = True) -> list[dict]:
    if not change:
        return []
    return [{"op": "attrs", "path": path, "mode": change.get("mode"), "owner": change.get("owner"),
             "group": change.get("group"), "recurse": False, "follow": follow}]


def _time_actions(path: str, times: tuple) -> list[dict]:
    """Set the modification/access time to now (`touch -c`, which never creates anything)."""
    m_now, a_now = times[0] == "now", times[1] == "now"
    if not (m_now or a_now):
        return []
    cmd = ["touch", "-c"]
    if m_now and not a_now:
        cmd.append("-m")
    elif a_now and not m_now:
        cmd.append("-a")
    cmd += ["--", path]  # a symlink's target gets the times (touch follows links)
    return [{"op": "run", "cmd": cmd, "shell": False}]


def _diff(path: str, prev: str, state: str, before_attrs: dict, after_attrs: dict) -> dict:
    before, after = {"path": path}, {"path": path}
    if prev != state:
        before["state"], after["state"] = prev, state
    before.update(before_attrs)
    after.update(after_attrs)
    return {"before": before, "after": after, "before_header": path, "after_header": path}


def _done(path: str, state: str, prev: str, info: dict, change: dict, actions: list[dict], result: dict,
          extra_before: dict | None = None, extra_after: dict | None = None) -> Plan:
    """The plan with its diff and Ansible's path information (the state after the change)."""
    result = dict(result)
    result.setdefault("state", "file" if state == "touch" else state)
    if info.get("exists") or change:
        current_mode = stat_mode(info) if info.get("exists") else None
        mode = change.get("mode", current_mode)
        if mode is not None:
            result["mode"] = mode_str(mode)
        for key, number in (("owner", "uid"), ("group", "gid")):
            value = change.get(key, info.get(key) if info.get("exists") else None)
            if value is not None:
                result[key] = value
            if key not in change and info.get(number) is not None:
                result[number] = info[number]
    if not actions:
        return Plan(changed=False, result=result)
    before_attrs, after_attrs = attrs_diff(info, change)
    before_attrs.update(extra_before or {})
    after_attrs.update(extra_after or {})
    diff = _diff(path, prev, state, before_attrs, after_attrs)
    return Plan(actions=actions, diff=[diff], result=result, finish=finish_actions())


MODULE = File()
