"""blockinfile — insert, update or remove a block of lines between marker lines
(Ansible's `ansible.builtin.blockinfile`).

The block is surrounded by a BEGIN and an END marker line. When both markers are in the file, the lines
between them (markers included) are replaced by the new block; otherwise the block is inserted as
insertafter/insertbefore say. The file is rewritten atomically; a symlinked path is followed.

OPTIONS
  path (path, required; aliases: dest, destfile, name)
      The file to modify.
  state (str, default "present"; choices: present, absent)
      Whether the block should be there. An empty block with state=present also removes it.
  block (str, default ""; alias: content)
      The text to put between the markers (a final newline is added when missing).
  marker (str, default "# {mark} ANSIBLE MANAGED BLOCK")
      The marker line template; "{mark}" is replaced by marker_begin / marker_end. Use a different marker
      per block when a file holds several blocks.
  marker_begin (str, default "BEGIN"), marker_end (str, default "END")
      What replaces "{mark}" in the first and in the last marker line.
  insertafter (str; "EOF" or a regular expression)
      Where a new block goes: after the LAST line matching the expression (default EOF; end of file when
      nothing matches). With a multi-line expression ((?m) flag) the whole file is searched once and the
      block goes after the line where the first match ends.
  insertbefore (str; "BOF" or a regular expression)
      Before the LAST line matching the expression (BOF: at the beginning; end of file when nothing
      matches). Mutually exclusive with insertafter.
  create (bool, default false)
      Create the file (and missing parent folders) when it does not exist; otherwise a missing file fails
      with rc 257 "Path PATH does not exist !".
  backup (bool, default false)
      Keep a timestamped copy of the original file (its name is returned as `backup_file`).
  append_newline (bool, default false)
      Add a blank line after the block unless one is already there or the block ends the file.
  prepend_newline (bool, default false)
      Add a blank line before the block unless one is already there or the block starts the file.
  mode (raw), owner (str), group (str)
      Attributes of the file (octal string, YAML octal int or symbolic mode; names or numeric ids).
  unsafe_writes (bool, default false)
      Accepted for compatibility; writes are always atomic.
  validate (str)
      Not supported yet: giving it is an error.

CHECK MODE
  Full: the new content and attribute changes are computed without writing.

DIFF
  Supported: content before/after ("PATH (content)") and attributes ("PATH (file attributes)").

RETURN
  changed, msg ("Block inserted", "Block removed", "File created", "File PATH not present", "" when
  nothing changed, possibly followed by "and ownership, perms or SE linux context changed"),
  backup_file when a backup was made.

EXAMPLES
  - name: Office proxy settings for apt
    blockinfile:
      path: /etc/apt/apt.conf.d/95proxy
      create: true
      block: |
        Acquire::http::Proxy "http://proxy.pa-batulicin.go.id:3128";
        Acquire::https::Proxy "http://proxy.pa-batulicin.go.id:3128";

  - name: Static host entries, after localhost
    blockinfile:
      path: /etc/hosts
      marker: "# {mark} SIDANG HOSTS"
      insertafter: '^127\\.0\\.0\\.1'
      block: |
        192.0.2.10 sidang1
        192.0.2.11 sidang2

  - name: Remove the block
    blockinfile:
      path: /etc/hosts
      marker: "# {mark} SIDANG HOSTS"
      state: absent
"""

from __future__ import annotations

import re

from .base import ModuleSpec, Option, Plan
from .files_common import EDIT_OPTIONS, compile_regex, edit_plan, edit_target, missing_folder, reject_validate

NEWLINE = b"\n"


def _b(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


class BlockInFile:
    spec = ModuleSpec(
        name="blockinfile",
        options={
            "path": Option("path", required=True, aliases=("dest", "destfile", "name")),
            "state": Option("str", "present", choices=("present", "absent")),
            "marker": Option("str", "# {mark} ANSIBLE MANAGED BLOCK"),
            "block": Option("str", "", aliases=("content",)),
            "insertafter": Option("str"),
            "insertbefore": Option("str"),
            "marker_begin": Option("str", "BEGIN"),
            "marker_end": Option("str", "END"),
            "append_newline": Option("bool", False),
            "prepend_newline": Option("bool", False),
            **EDIT_OPTIONS,
        },
        check_mode="full",
        diff=True,
        doc=__doc__,
        mutually_exclusive=(("insertbefore", "insertafter"),),
    )

    def plan(self, params: dict, host) -> Plan:
        reject_validate("blockinfile", params)
        path = params["path"]
        real, info, refused = edit_target(host, path)
        if refused:
            return refused
        exists = bool(info.get("exists"))
        present = params["state"] == "present"
        actions = []
        if not exists:
            if not params["create"]:
                return Plan(failed=True, msg=f"Path {path} does not exist !", result={"rc": 257})
            if not present:
                return Plan(changed=False, result={"msg": f"File {path} not present"})
            actions = missing_folder(host, real)
            original = None
        else:
            original = host.read(real) or b""

        insert_re = None
        after, before = params["insertafter"], params["insertbefore"]
        if after is None and before is None:
            after = "EOF"
        if after not in (None, "EOF"):
            insert_re = compile_regex("blockinfile", "insertafter", after)
        elif before not in (None, "BOF"):
            insert_re = compile_regex("blockinfile", "insertbefore", before)

        result = block_content(original, present, params["block"] or "", params["marker"],
                               params["marker_begin"], params["marker_end"], after, before, insert_re,
                               params["prepend_newline"], params["append_newline"])
        if original == result:
            msg = ""
        elif original is None:
            msg = "File created"
        elif not present or not params["block"]:
            msg = "Block removed"
        else:
            msg = "Block inserted"

        return edit_plan(params, path, real, info, original, result, msg, created=not exists, pre_actions=actions)


def block_content(original: bytes | None, present: bool, block: str, marker: str, marker_begin: str,
                  marker_end: str, insertafter: str | None, insertbefore: str | None,
                  insert_re: re.Pattern | None, prepend_newline: bool = False,
                  append_newline: bool = False) -> bytes:
    """The file's new content, by Ansible's algorithm.

    Lines are split with `bytes.splitlines` (\\n, \\r\\n, \\r). A marker line must equal the marker plus
    "\\n" exactly. With both markers found, the span between them goes (markers included) and the block
    takes its place; otherwise the block goes at the insertion point. A line before the insertion point
    that lacks its newline gets one (even with state=absent, as in Ansible).
    """
    lines = original.splitlines(keepends=True) if original else []
    b_marker = _b(marker)
    begin = b_marker.replace(b"{mark}", _b(marker_begin)) + NEWLINE
    end = b_marker.replace(b"{mark}", _b(marker_end)) + NEWLINE
    b_block = _b(block)
    if present and b_block:
        if not b_block.endswith(NEWLINE):
            b_block += NEWLINE
        blocklines = [begin] + b_block.splitlines(keepends=True) + [end]
    else:
        blocklines = []

    first = last = None
    for number, current in enumerate(lines):
        if current == begin:
            first = number
        if current == end:
            last = number

    if first is None or last is None:
        position = None
        if insert_re is not None:
            if insert_re.flags & re.MULTILINE:
                hit = insert_re.search(original or b"")
                if hit:
                    text = original or b""
                    position = text.count(NEWLINE, 0, hit.end() if insertafter else hit.start())
            else:
                for number, current in enumerate(lines):
                    if insert_re.search(current):
                        position = number
            if position is None:
                position = len(lines)
            elif insertafter is not None:
                position += 1
        elif insertbefore is not None:
            position = 0  # BOF
        else:
            position = len(lines)  # EOF
    elif first < last:
        del lines[first:last + 1]
        position = first
    else:
        del lines[last:first + 1]
        position = last

    if position > 0 and not lines[position - 1].endswith(NEWLINE):
        lines[position - 1] += NEWLINE
    if prepend_newline and present and position != 0 and lines[position - 1] != NEWLINE:
        lines.insert(position, NEWLINE)
        position += 1
    lines[position:position] = blocklines
    if append_newline and present:
        following = position + len(blocklines)
        if following < len(lines) and lines[following] != NEWLINE:
            lines.insert(following, NEWLINE)
    return b"".join(lines)


MODULE = BlockInFile()
