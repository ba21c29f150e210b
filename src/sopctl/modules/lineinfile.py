"""lineinfile — manage one line in a text file (Ansible's `ansible.builtin.lineinfile`).

Ensures a particular line is in a file, or replaces an existing line found with a regular expression or a
fixed string, or removes every line that matches. Works on bytes, line by line, exactly as Ansible does;
the file is rewritten atomically (temp file + rename) and a symlinked path is followed (its target is
edited, the link kept).

OPTIONS
  path (path, required; aliases: dest, destfile, name)
      The file to modify.
  state (str, default "present"; choices: present, absent)
      Whether the line should be there or not.
  regexp (str; alias: regex)
      Python regular expression searched in every line. With state=present the LAST matching line is
      replaced (the first with firstmatch=true); when nothing matches, the line is inserted as
      insertafter/insertbefore say, unless the exact line is already in the file. With state=absent every
      matching line is removed. Mutually exclusive with search_string.
  search_string (str)
      A literal string searched in every line; otherwise like regexp. Mutually exclusive with regexp and
      backrefs.
  line (str; alias: value)
      The line to insert or to replace with. Required with state=present. With state=absent and neither
      regexp nor search_string, every line equal to it (line ending ignored) is removed.
  backrefs (bool, default false)
      `line` may use backreferences (\\1, \\g<name>) to the regexp's groups. When the regexp matches
      nothing, the file is left unchanged (nothing is inserted). Requires regexp.
  insertafter (str; "EOF" or a regular expression)
      Where to insert when regexp/search_string found nothing: after the LAST line matching this regular
      expression (the first with firstmatch), at the end when nothing matches. Default EOF. "BOF" inserts
      at the beginning.
  insertbefore (str; "BOF" or a regular expression)
      Insert before the LAST line matching (the first with firstmatch); at the end when nothing matches.
      Mutually exclusive with insertafter.
  firstmatch (bool, default false)
      Use the first line matching regexp/search_string/insertafter/insertbefore instead of the last.
  create (bool, default false)
      With state=present, create the file (and its missing parent folders) when it does not exist;
      otherwise a missing file fails with rc 257 "Destination PATH does not exist !".
  backup (bool, default false)
      Keep a timestamped copy of the original file (its name is returned as `backup`).
  mode (raw), owner (str), group (str)
      Attributes of the file: mode as an octal string ("0644"), a YAML octal int (0644) or a symbolic mode
      ("u=rw,g=r,o="); owner/group as names or numeric ids.
  unsafe_writes (bool, default false)
      Accepted for compatibility; writes are always atomic.
  validate (str)
      Not supported yet: giving it is an error (the agent cannot check the temporary file before moving it).

CHECK MODE
  Full: the plan (line added/replaced/removed, attributes) is computed without writing anything.

DIFF
  Supported: the file's content before/after (headers "PATH (content)"), and a second entry with the
  mode/owner/group before/after when they change ("PATH (file attributes)").

RETURN
  changed, msg ("line added", "line replaced", "N line(s) removed", "file not present", "" when nothing
  changed, "... and ownership, perms or SE linux context changed"), backup (backup file name or ""),
  found (state=absent: how many lines matched).

EXAMPLES
  - name: Disable root login over SSH
    lineinfile:
      path: /etc/ssh/sshd_config
      regexp: '^#?PermitRootLogin'
      line: PermitRootLogin no
      backup: true

  - name: Make sure the host name resolves
    lineinfile:
      path: /etc/hosts
      line: 127.0.1.1 sidang.pa-batulicin.go.id sidang
      insertafter: '^127\\.0\\.0\\.1'

  - name: Change the log level, keeping the option's spacing
    lineinfile:
      path: /etc/app.conf
      regexp: '^(log_level\\s*=\\s*).*$'
      line: '\\1warning'
      backrefs: true

  - name: Remove an old mirror
    lineinfile:
      path: /etc/apt/sources.list
      regexp: 'old-mirror\\.example'
      state: absent
"""

from __future__ import annotations

import re

from .base import ModuleArgError, ModuleSpec, Option, Plan
from .files_common import EDIT_OPTIONS, compile_regex, edit_plan, edit_target, missing_folder, reject_validate, split_lines

NEWLINE = b"\n"


class LineInFile:
    spec = ModuleSpec(
        name="lineinfile",
        options={
            "path": Option("path", required=True, aliases=("dest", "destfile", "name"), help="the file to modify"),
            "state": Option("str", "present", choices=("present", "absent")),
            "regexp": Option("str", aliases=("regex",)),
            "search_string": Option("str"),
            "line": Option("str", aliases=("value",)),
            "backrefs": Option("bool", False),
            "insertafter": Option("str"),
            "insertbefore": Option("str"),
            "firstmatch": Option("bool", False),
            **EDIT_OPTIONS,
        },
        check_mode="full",
        diff=True,
        doc=__doc__,
        mutually_exclusive=(("insertbefore", "insertafter"), ("regexp", "search_string"),
                            ("backrefs", "search_string")),
    )

    def plan(self, params: dict, host) -> Plan:
        reject_validate("lineinfile", params)
        path = params["path"]
        state = params["state"]
        regexp, search, line = params["regexp"], params["search_string"], params["line"]
        warnings = []
        if regexp == "" or search == "":
            what = "regular expression" if regexp == "" else "search string"
            warning = (f"The {what} is an empty string, which will match every line in the file. This may have "
                       "unintended consequences, such as replacing the last line in the file rather than appending.")
            if regexp == "":
                warning += " If this is desired, use '^' to match every line in the file and avoid this warning."
            warnings.append(warning)
        if state == "present":
            if params["backrefs"] and regexp is None:
                return Plan(failed=True, msg="regexp is required with backrefs=true")
            if line is None:
                return Plan(failed=True, msg="line is required with state=present")
        elif (regexp, search, line) == (None, None, None):
            return Plan(failed=True, msg="one of line, search_string, or regexp is required with state=absent")
        regex = compile_regex("lineinfile", "regexp", regexp) if regexp is not None else None

        real, info, refused = edit_target(host, path)
        if refused:
            return refused
        exists = bool(info.get("exists"))

        if state == "absent":
            if not exists:
                return _with_warnings(Plan(changed=False, result={"msg": "file not present"}),
                                      warnings)
            lines = split_lines(host.read(real) or b"")
            kept, found = remove_lines(lines, regex, search, line)
            plan = self._finish(params, path, real, info, lines, kept,
                                f"{found} line(s) removed" if found else "", created=False)
            plan.result["found"] = found
            return _with_warnings(plan, warnings)

        actions = []
        if not exists:
            if not params["create"]:
                return Plan(failed=True, msg=f"Destination {path} does not exist !", result={"rc": 257})
            lines = []
            actions = missing_folder(host, real)
        else:
            lines = split_lines(host.read(real) or b"")

        insert_re = None
        after, before = params["insertafter"], params["insertbefore"]
        if before is None and after is None:
            after = "EOF"
        if after not in (None, "BOF", "EOF"):
            insert_re = compile_regex("lineinfile", "insertafter", after)
        elif before not in (None, "BOF"):
            insert_re = compile_regex("lineinfile", "insertbefore", before)
        try:
            new_lines, msg = present_lines(lines, line, regex, search, after, before, insert_re,
                                           params["backrefs"], params["firstmatch"])
        except (re.error, IndexError) as exc:
            raise ModuleArgError(f"lineinfile: line {line!r} cannot be expanded with the regexp's groups: {exc}") \
                from None
        plan = self._finish(params, path, real, info, lines, new_lines, msg, created=not exists,
                            pre_actions=actions)
        return _with_warnings(plan, warnings)

    def _finish(self, params: dict, path: str, real: str, info: dict, lines: list[bytes],
                new_lines: list[bytes], msg: str, created: bool, pre_actions: list | None = None) -> Plan:
        """Turn the new lines into the edit's plan (shared with state=absent); lineinfile reports `backup`."""
        # a missing file is only created when a line goes in (backrefs without a match leaves it missing)
        return edit_plan(params, path, real, info, b"".join(lines), b"".join(new_lines), msg, created=created,
                         pre_actions=pre_actions or [], result={"backup": ""}, backup_keys=("backup", "backup_file"))


def _with_warnings(plan: Plan, warnings: list[str]) -> Plan:
    if warnings:
        plan.result.setdefault("warnings", []).extend(warnings)
    return plan


def remove_lines(lines: list[bytes], regex: re.Pattern | None, search: str | None,
                 line: str | None) -> tuple[list[bytes], int]:
    """state=absent: the lines kept and how many were removed.

    A line goes when the regexp matches it, else when it contains search_string, else when it equals
    `line` once its line ending is stripped.
    """
    b_search = search.encode("utf-8", errors="surrogateescape") if search is not None else None
    b_line = (line if line is not None else "None").encode("utf-8", errors="surrogateescape")
    kept = []
    found = 0
    for current in lines:
        if regex is not None:
            hit = regex.search(current) is not None
        elif b_search is not None:
            hit = b_search in current
        else:
            hit = current.rstrip(b"\r\n") == b_line
        if hit:
            found += 1
        else:
            kept.append(current)
    return kept, found


def present_lines(lines: list[bytes], line: str, regex: re.Pattern | None, search: str | None,
                  insertafter: str | None, insertbefore: str | None, insert_re: re.Pattern | None,
                  backrefs: bool, firstmatch: bool) -> tuple[list[bytes], str]:
    """state=present, Ansible's algorithm: the new lines and the message ("" when nothing changes).

    1. regexp (or search_string) is looked for in every line: the last hit (first with firstmatch) is
       the line to replace.
    2. Only when that found nothing: every line is compared with `line` (exact, ending ignored: the last
       equal line counts as found) and, when not equal, with the insertafter/insertbefore regexp (the last
       hit is the anchor; with firstmatch the scan stops at the first anchor).
    3. A found line is replaced by `line` (expanded with backrefs) plus "\\n" when different; nothing found
       and backrefs → unchanged; BOF → first line; EOF or no anchor → appended (a newline is first added
       to a last line lacking one); an insertafter anchor → inserted after it unless the following line
       already is `line`; an insertbefore anchor → inserted before it.
    """
    lines = list(lines)
    b_line = line.encode("utf-8", errors="surrogateescape")
    found = -1
    anchor = -1
    match = None
    if regex is not None:
        for number, current in enumerate(lines):
            hit = regex.search(current)
            if hit:
                found, match = number, hit
                if firstmatch:
                    break
    if search is not None:
        b_search = search.encode("utf-8", errors="surrogateescape")
        for number, current in enumerate(lines):
            if b_search in current:
                found, match = number, True
                if firstmatch:
                    break
    if not match:
        for number, current in enumerate(lines):
            if current.rstrip(b"\r\n") == b_line:
                found = number
            elif insert_re is not None and insert_re.search(current):
                anchor = number + 1 if insertafter else number
                if firstmatch:
                    break

    if found != -1:
        new = match.expand(b_line) if backrefs and isinstance(match, re.Match) else b_line
        if not new.endswith(NEWLINE):
            new += NEWLINE
        if lines[found] != new:
            lines[found] = new
            return lines, "line replaced"
        return lines, ""
    if backrefs:
        return lines, ""  # without a match there is nothing to fill the backreferences with
    if insertbefore == "BOF" or insertafter == "BOF":
        lines.insert(0, b_line + NEWLINE)
        return lines, "line added"
    if insertafter == "EOF" or anchor == -1:
        if lines and lines[-1][-1:] not in (b"\n", b"\r"):
            lines[-1] += NEWLINE
        lines.append(b_line + NEWLINE)
        return lines, "line added"
    if insertafter:
        if anchor == len(lines):
            if lines[anchor - 1].rstrip(b"\r\n") != b_line:
                lines.append(b_line + NEWLINE)
                return lines, "line added"
            return lines, ""
        if lines[anchor].rstrip(b"\r\n") != b_line:
            lines.insert(anchor, b_line + NEWLINE)
            return lines, "line added"
        return lines, ""
    lines.insert(anchor, b_line + NEWLINE)
    return lines, "line added"


MODULE = LineInFile()
