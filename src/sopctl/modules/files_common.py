"""Helpers shared by the file modules (lineinfile, blockinfile, copy, template, file, stat).

Everything here is pure: it works on stat dicts and bytes a module already obtained through its
`HostView`, and builds agent actions (see `sopctl/agent/remote.py`) as plain dicts.

* `parse_mode` turns Ansible's `mode` values (int, octal string, symbolic `u=rw,g=r`) into an int, with
  Ansible's rules for symbolic modes (`X`, `s`, `t`, copying `u`/`g`/`o`, umask when no "who" is given).
* `attrs_plan` compares a stat with the wanted mode/owner/group and gives the `attrs` action and the
  before/after dicts of a diff entry.
* `write_action`, `split_lines` and friends build content writes.
* `resolve_links` follows a symlink chain with `host.stat` (what `os.path.realpath` does for the last path
  component), so modules that "always follow" write the link's target and keep the link.
* `edit_target` and `edit_plan` are the two ends of an in-place edit (lineinfile, blockinfile): where the
  edit writes and what may stop it, then the write, attribute change, message and diff of the new content.
* `finish_actions` is the `Plan.finish` callback file modules share: it turns a failed agent answer into a
  failed result and copies the backup file name to the keys Ansible returns.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import re
import stat as st
from typing import Any, Callable

from .base import ModuleArgError, Option, Plan, text_diff

# Modes Ansible assumes a freshly created file/directory gets (0666/0777 minus the usual umask 022): used
# to compute a symbolic mode for something that does not exist yet.
NEW_FILE_MODE = 0o644
NEW_DIR_MODE = 0o755
DEFAULT_UMASK = 0o022

# Ansible's C.MAX_FILE_SIZE_FOR_DIFF default: larger contents are not shown in a diff.
MAX_DIFF_SIZE = 104448

_OPERATOR = re.compile(r"[+=-]")
_WHO = re.compile(r"^[ugo]+$")
_PERMS = re.compile(r"^[rwxXstugo]*$")
_PERM_BITS = 0o7777
_WHO_BITS = {  # the bits '=' resets for each class (its rwx plus its special bit)
    "u": st.S_IRWXU | st.S_ISUID,
    "g": st.S_IRWXG | st.S_ISGID,
    "o": st.S_IRWXO | st.S_ISVTX,
}
_SHIFT = {"u": 6, "g": 3, "o": 0}
_SPECIAL = {"u": {"s": st.S_ISUID, "t": 0}, "g": {"s": st.S_ISGID, "t": 0}, "o": {"s": 0, "t": st.S_ISVTX}}


# --- modes -----------------------------------------------------------------------------------------

def mode_str(mode: int | None) -> str | None:
    """A mode as Ansible shows it: "0644" (4 octal digits at least)."""
    return None if mode is None else "%04o" % mode


def stat_mode(stat: dict) -> int | None:
    """The permission bits of an agent stat dict ("mode": "0644") as an int, None if unknown."""
    value = stat.get("mode")
    if value is None:
        return None
    return value if isinstance(value, int) else int(str(value), 8)


def parse_mode(value: Any, current: int | None, is_dir: bool, umask: int = DEFAULT_UMASK) -> int | None:
    """The permission bits Ansible would set for `mode: value` on a path whose mode is `current`.

    * None → None (leave the mode alone);
    * an int is used as is (YAML `0644` is already 420; YAML `644` is decimal 644, as in Ansible);
    * a string of octal digits ("0644", "644", "0o644", "1777") is octal;
    * otherwise it is a symbolic mode ("u=rw,g=r,o=", "u+x", "a-w", "go=u", "u=rwX"): comma-separated
      clauses `[ugoa]*[+=-][rwxXstugo]*...`, applied left to right to `current` (0 when None). `X` adds x
      only to a directory or to something already executable by someone; without "who" the umask's bits
      are not granted by r/w/x (chmod's rule, which Ansible follows with the host's umask — here `umask`).
    Anything else (including "preserve", which only copy/template understand) is a ModuleArgError.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ModuleArgError(f"mode {value!r} is not valid: use an octal string such as '0644' or a symbolic mode")
    if isinstance(value, int):
        if not 0 <= value <= _PERM_BITS:
            raise ModuleArgError(f"mode {value!r} is not valid: only permission bits (up to 07777) are allowed; "
                                 f"quote octal modes, e.g. mode: '0644'")
        return value
    text = str(value).strip()
    try:
        number = int(text, 8)
    except ValueError:
        number = None
    if number is not None:
        if not 0 <= number <= _PERM_BITS:
            raise ModuleArgError(f"mode {value!r} is not valid: only permission bits (up to 07777) are allowed")
        return number
    try:
        return _symbolic(text, current or 0, is_dir, umask)
    except ValueError as exc:
        raise ModuleArgError(f"mode {value!r} must be in octal or symbolic form ({exc})") from None


def _symbolic(text: str, mode: int, is_dir: bool, umask: int) -> int:
    for clause in text.split(","):
        parts = _OPERATOR.split(clause)
        operators = _OPERATOR.findall(clause)
        who = parts.pop(0)
        use_umask = who == ""
        if who in ("", "a"):
            who = "ugo"
        if not _WHO.match(who):
            raise ValueError(f"bad symbolic permission for mode: {clause}")
        for operator, perms in zip(operators, parts):
            if not _PERMS.match(perms):
                raise ValueError(f"bad symbolic permission for mode: {clause}")
            for user in who:
                bits = _bits_for(user, perms, mode, is_dir, umask if use_umask else 0)
                if operator == "=":
                    mode = (mode & ~_WHO_BITS[user] & _PERM_BITS) | bits
                elif operator == "+":
                    mode |= bits
                else:
                    mode &= ~bits
    return mode


def _bits_for(user: str, perms: str, mode: int, is_dir: bool, umask: int) -> int:
    """The bits `perms` stands for in class `user`, given the mode computed so far."""
    shift = _SHIFT[user]
    allowed = ~umask & _PERM_BITS
    bits = 0
    for perm in perms:
        if perm in "rwx":
            bit = {"r": 4, "w": 2, "x": 1}[perm] << shift
            bits |= bit & allowed
        elif perm == "X":
            if is_dir or mode & 0o111:
                bits |= 1 << shift
        elif perm in "st":
            bits |= _SPECIAL[user][perm]
        else:  # u, g, o: copy that class's current rwx bits
            bits |= ((mode >> _SHIFT[perm]) & 0o7) << shift
    return bits


# --- ownership -------------------------------------------------------------------------------------

def owner_matches(wanted: Any, name: str | None, number: int | None) -> bool:
    """Whether a wanted owner/group (a name or a numeric id) is the one a stat shows (by name or by id)."""
    if wanted is None:
        return True
    text = str(wanted).strip()
    if name is not None and text == str(name):
        return True
    return text.isdigit() and number is not None and int(text) == int(number)


def attrs_plan(path: str, stat: dict, mode: Any = None, owner: Any = None, group: Any = None,
               recurse: bool = False, follow: bool = True, umask: int = DEFAULT_UMASK
               ) -> tuple[list[dict], dict, dict]:
    """The `attrs` action that gives `path` (as `stat` shows it) the wanted mode/owner/group.

    Returns ([], {}, {}) when everything already matches; otherwise one action setting only what differs,
    and the before/after dicts of a diff entry (`{"mode": "0644"}` → `{"mode": "0600"}`). `mode` may be
    any value `parse_mode` accepts (a symbolic mode is computed from the stat's mode). With `recurse`,
    only `path` itself is compared: the caller decides about the contents.
    """
    change = attrs_change(stat, mode, owner, group, umask)
    before, after = attrs_diff(stat, change)
    if not change:
        return [], {}, {}
    action = {"op": "attrs", "path": path, "mode": change.get("mode"), "owner": change.get("owner"),
              "group": change.get("group"), "recurse": recurse, "follow": follow}
    return [action], before, after


def attrs_change(stat: dict, mode: Any = None, owner: Any = None, group: Any = None,
                 umask: int = DEFAULT_UMASK) -> dict:
    """Only what must change: {"mode": int, "owner": str, "group": str} (keys absent when already right).

    A path that does not exist needs everything that was asked for.
    """
    exists = stat.get("exists", False)
    is_dir = stat.get("type") == "directory"
    current = stat_mode(stat) if exists else None
    if current is None:
        base_mode = NEW_DIR_MODE if is_dir else NEW_FILE_MODE
    else:
        base_mode = current
    wanted = parse_mode(mode, base_mode, is_dir, umask)
    change: dict = {}
    if wanted is not None and wanted != current:
        change["mode"] = wanted
    if owner is not None and not (exists and owner_matches(owner, stat.get("owner"), stat.get("uid"))):
        change["owner"] = str(owner)
    if group is not None and not (exists and owner_matches(group, stat.get("group"), stat.get("gid"))):
        change["group"] = str(group)
    return change


def attrs_diff(stat: dict, change: dict) -> tuple[dict, dict]:
    """Before/after dicts of a diff entry for an `attrs_change` result."""
    before: dict = {}
    after: dict = {}
    if "mode" in change:
        before["mode"] = mode_str(stat_mode(stat)) if stat.get("exists") else None
        after["mode"] = mode_str(change["mode"])
    for key in ("owner", "group"):
        if key in change:
            before[key] = stat.get(key) if stat.get("exists") else None
            after[key] = change[key]
    return before, after


def attrs_diff_entry(path: str, before: dict, after: dict, header: str | None = None) -> dict:
    """A diff entry of attribute dicts, headed by `header` (default: the path)."""
    head = header or path
    return {"before": before, "after": after, "before_header": head, "after_header": head}


# --- content ---------------------------------------------------------------------------------------

def write_action(path: str, content: bytes, mode: int | None = None, owner: Any = None, group: Any = None,
                 backup: bool = False) -> dict:
    """The agent's `write` (atomic temp file + rename; None keeps the existing file's mode/owner)."""
    return {"op": "write", "path": path, "content_b64": base64.b64encode(content).decode("ascii"),
            "mode": mode, "owner": None if owner is None else str(owner),
            "group": None if group is None else str(group), "backup": bool(backup)}


def decode_write(action: dict) -> bytes:
    """The bytes a `write` action would put (for tests and diffs)."""
    return base64.b64decode(action["content_b64"])


def split_lines(data: bytes) -> list[bytes]:
    """Lines as Python's `readlines()` on a binary file gives them: split after each b"\\n", endings kept.

    (A lone b"\\r" does not end a line; b"\\r\\n" ends with b"\\n".) The last line may lack its newline.
    """
    if not data:
        return []
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def split_lines_universal(data: bytes) -> list[bytes]:
    """Lines as `bytes.splitlines(keepends=True)` gives them (\\n, \\r\\n and \\r all end a line)."""
    return data.splitlines(keepends=True)


def ends_with_newline(data: bytes) -> bool:
    return data[-1:] in (b"\n", b"\r")


def ensure_newline(line: bytes, newline: bytes = b"\n") -> bytes:
    """`line` with `newline` appended unless it already ends with one."""
    return line if line.endswith(newline) else line + newline


def is_binary(data: bytes) -> bool:
    """Ansible's guess: a NUL byte in the first 8 KiB."""
    return b"\x00" in data[:8192]


def as_text(data: bytes | None) -> str:
    """Bytes shown as text in a diff (undecodable bytes replaced)."""
    return "" if data is None else data.decode("utf-8", errors="replace")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def compile_regex(module: str, option: str, pattern: str) -> re.Pattern:
    """A bytes regex from an option, or a ModuleArgError naming the option."""
    try:
        return re.compile(pattern.encode("utf-8", errors="surrogateescape"))
    except re.error as exc:
        raise ModuleArgError(f"{module}: {option} {pattern!r} is not a valid regular expression: {exc}") from None


# --- paths -----------------------------------------------------------------------------------------

class LinkLoop(Exception):
    """Too many levels of symbolic links."""


def resolve_links(host, path: str, checksum: bool = False, max_hops: int = 40) -> tuple[str, dict]:
    """Follow `path` while it is a symlink (with `host.stat`, no follow): the final path and its stat.

    Like `os.path.realpath` for the last component: a relative target is taken from the link's folder.
    The final stat may say `exists: False` (a dangling link: writing goes to its target). Raises LinkLoop.
    """
    current = path
    for _ in range(max_hops):
        info = host.stat(current, checksum=checksum, follow=False)
        if info.get("exists") and info.get("type") == "link" and info.get("link_target") is not None:
            target = info["link_target"]
            current = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
            continue
        return current, info
    raise LinkLoop(f"{path}: too many levels of symbolic links")


def parent_of(path: str) -> str:
    """The folder holding `path` ("" for a bare relative name)."""
    return posixpath.dirname(path.rstrip("/")) if path.rstrip("/") else ""


def reject_validate(module: str, params: dict) -> None:
    """`validate` needs the agent to run a command on the temporary file before the rename: not yet."""
    if params.get("validate") is not None:
        raise ModuleArgError(f"{module}: validate is not supported (the agent cannot check the temporary file "
                             f"before moving it into place yet); remove the option or check in a later task")


# --- in-place edits (lineinfile, blockinfile) -------------------------------------------------------

ATTRS_MSG = "ownership, perms or SE linux context changed"

# The options every in-place edit has, as Ansible documents them for lineinfile and blockinfile.
EDIT_OPTIONS = {
    "create": Option("bool", False),
    "backup": Option("bool", False),
    "mode": Option("raw"),
    "owner": Option("str"),
    "group": Option("str"),
    "unsafe_writes": Option("bool", False),
    "validate": Option("str"),
}


def edit_target(host, path: str) -> tuple[str, dict, Plan | None]:
    """The file an in-place edit writes (symlinks followed, the link kept) and its stat, or the failed
    Plan that stops the edit: a symlink loop, or a directory where the file should be."""
    try:
        real, info = resolve_links(host, path)
    except LinkLoop as exc:
        return path, {}, Plan(failed=True, msg=str(exc))
    if info.get("exists") and info.get("type") == "directory":
        return real, info, Plan(failed=True, msg=f"Path {path} is a directory !", result={"rc": 256})
    return real, info, None


def missing_folder(host, real: str) -> list[dict]:
    """The `mkdir` action for a file created in a folder that does not exist yet (Ansible's `create`)."""
    folder = parent_of(real)
    if folder and not host.stat(folder, follow=True).get("exists"):
        return [{"op": "mkdir", "path": folder, "mode": None, "owner": None, "group": None}]
    return []


def edit_plan(params: dict, path: str, real: str, info: dict, before: bytes | None, after: bytes, msg: str, *,
              created: bool, pre_actions: list[dict] = (), result: dict | None = None,
              backup_keys: tuple[str, ...] = ("backup_file",)) -> Plan:
    """An in-place edit's plan from the old and new content: the write (after `pre_actions`, such as the
    folder of a new file) when the content changes, the attributes of `mode`/`owner`/`group`, the message
    and the diff. For a missing file, `before=None` writes it whatever its content (blockinfile), while
    `before=b""` leaves it missing when nothing goes in (lineinfile, backrefs without a match)."""
    content_changed = before != after
    change = attrs_change({"exists": False} if created else info, params["mode"], params["owner"], params["group"])
    actions, diffs = [], []
    if content_changed:
        actions.extend(pre_actions)
        actions.append(write_action(real, after, change.get("mode"), change.get("owner"), change.get("group"),
                                    params["backup"] and not created))
        diffs.append(text_diff(as_text(before), as_text(after), f"{path} (content)"))
    if change and not created:
        if not content_changed:
            actions.append({"op": "attrs", "path": real, "mode": change.get("mode"), "owner": change.get("owner"),
                            "group": change.get("group"), "recurse": False, "follow": True})
        msg = f"{msg} and {ATTRS_MSG}" if msg else ATTRS_MSG
        attr_before, attr_after = attrs_diff(info, change)
        diffs.append(attrs_diff_entry(path, attr_before, attr_after, f"{path} (file attributes)"))
    result = {"msg": msg, **(result or {})}
    if not actions:
        return Plan(changed=False, result=result)
    return Plan(actions=actions, diff=diffs, result=result, finish=finish_actions(backup_keys))


# --- finishing -------------------------------------------------------------------------------------

def finish_actions(backup_keys: tuple[str, ...] = ("backup_file",)) -> Callable[[list[dict], dict], dict]:
    """A `Plan.finish` callback: a failed agent answer (or a `run` answer with a non-zero rc) fails the
    task; a backup file name from a `write` answer is copied to each of `backup_keys` (lineinfile returns
    it as `backup`, the other modules as `backup_file`)."""

    def finish(answers: list[dict], result: dict) -> dict:
        for answer in answers:
            if not answer.get("ok", True):
                result.update(failed=True, changed=False,
                              msg=f"{answer.get('kind', 'error')}: {answer.get('error', 'the action failed')}")
                return result
            body = answer.get("result") if "result" in answer else answer
            body = body if isinstance(body, dict) else {}
            if body.get("rc") not in (None, 0):  # a `run` action (e.g. `touch`) that failed
                stderr = str(body.get("stderr", "")).strip()
                result.update(failed=True, changed=False, rc=body["rc"],
                              msg=f"command failed with rc {body['rc']}" + (f": {stderr}" if stderr else ""))
                return result
            backup = body.get("backup_file")
            if backup:
                for key in backup_keys:
                    result[key] = backup
        return result

    return finish
