"""copy — put a file (from the control machine, from inline content, or from the host itself) at a path on
the host (Ansible's `ansible.builtin.copy`, for single files).

The destination is compared by SHA-256 (the agent's stat checksum), so an unchanged file is neither
re-read nor re-sent; only its mode/owner/group are corrected when they differ. A changed file is written
atomically (temp file + rename), keeping the existing file's mode and owner unless told otherwise.

OPTIONS
  src (path)
      The file to copy: looked up on the control machine in the play's `files/` folders (then the play
      folder), or on the host with remote_src=true. Copying a directory is not supported yet (an error).
      Mutually exclusive with content; one of them is required.
  content (raw, no_log)
      The file's content as text (a mapping or list is written as JSON, as Ansible does).
  dest (path, required)
      Where to put the file. A dest ending with "/" or naming an existing directory receives the file
      under src's base name (not with content: "can not use content with a dir as dest"). With a final
      "/", missing folders are created (with directory_mode); otherwise a missing folder is an error.
  force (bool, default true)
      Replace a file whose content differs. With false, an existing dest is left alone.
  backup (bool, default false)
      Keep a timestamped copy of the replaced file (returned as `backup_file`).
  mode (raw)
      The file's permissions: octal string ("0644"), YAML octal int (0644), symbolic ("u=rw,g=r,o=") or
      "preserve" (the source file's mode; with content, the default is kept).
  owner (str), group (str)
      Owner and group, as names or numeric ids.
  directory_mode (raw)
      Mode of the folders created for a dest ending with "/".
  remote_src (bool, default false)
      src is a path on the host. The host's file is read only when dest differs from it.
  follow (bool, default false)
      When dest is a symlink, write its target (keeping the link). Without it the link is replaced by a
      regular file, as in Ansible.
  local_follow (bool, default true)
      Accepted; local sources are always read through symlinks.
  checksum (str)
      Expected SHA-1 of the source: the task fails when the source differs.
  unsafe_writes (bool, default false)
      Accepted for compatibility; writes are always atomic.
  validate (str)
      Not supported yet: giving it is an error.

CHECK MODE
  Full: whether the file would be written (checksums differ) and attribute changes are predicted.

DIFF
  Supported: dest's content before and the new content after (binary or larger than 100 KiB contents are
  not shown: dst_binary/src_binary/dst_larger/src_larger as in Ansible); attribute changes as a second
  entry.

RETURN
  dest (the final file path), src, checksum (SHA-1 of the content, as Ansible), md5sum, size, state
  ("file"), backup_file (when a backup was made), msg ("file already exists" with force=false and
  remote_src=true).

EXAMPLES
  - name: Office CA certificate
    copy:
      src: pa-batulicin-ca.crt
      dest: /usr/local/share/ca-certificates/
      mode: "0644"

  - name: Message of the day
    copy:
      content: |
        Pengadilan Agama Batulicin — authorised use only.
      dest: /etc/motd
      owner: root
      group: root
      mode: u=rw,g=r,o=r
      backup: true

  - name: Keep the distribution's config as a reference copy
    copy:
      src: /etc/ssh/sshd_config
      dest: /root/sshd_config.orig
      remote_src: true
      force: false
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Callable

from .base import ModuleArgError, ModuleSpec, Option, Plan
from .files_common import (MAX_DIFF_SIZE, LinkLoop, as_text, attrs_change, attrs_diff, attrs_diff_entry,
                           finish_actions, is_binary, md5, parent_of, parse_mode, reject_validate,
                           resolve_links, sha1, sha256, stat_mode, write_action)

# Options copy and template share (template adds its own).
FILE_OPTIONS = {
    "dest": Option("path", required=True, help="where the file goes"),
    "backup": Option("bool", False),
    "force": Option("bool", True),
    "mode": Option("raw"),
    "owner": Option("str"),
    "group": Option("str"),
    "follow": Option("bool", False),
    "unsafe_writes": Option("bool", False),
    "validate": Option("str"),
}


@dataclass
class Source:
    """What to put at dest: the bytes (or a way to load them), their SHA-256, and where they come from."""

    data: bytes | None = None
    digest: str | None = None  # sha256
    load: Callable[[], bytes] | None = None
    label: str | None = None  # `src` as given, for the result and the diff header
    basename: str | None = None  # name used when dest is a directory (None: content, no name)

    def bytes(self) -> bytes:
        if self.data is None:
            loaded = self.load() if self.load else None
            if loaded is None:
                raise ModuleArgError(f"source {self.label} could not be read")
            self.data = loaded
        return self.data

    def sha256(self) -> str:
        if self.digest is None:
            self.digest = sha256(self.bytes())
        return self.digest


def local_mode(host, path: str, kind: str) -> int:
    """The mode of a control-machine file, for mode=preserve (needs the executor's `local_stat`)."""
    local_stat = getattr(host, "local_stat", None)
    if local_stat is None:
        raise ModuleArgError("mode=preserve with a source on the control machine is not supported yet "
                             "(the executor does not report local file modes); give the mode explicitly")
    return stat_mode(local_stat(path, kind)) or 0


def put_file(host, params: dict, source: Source, mode=None, remote_mode: int | None = None,
             result_extra: dict | None = None) -> Plan:
    """Plan putting `source` at params["dest"] (the part copy and template share).

    `mode` is the wanted mode value (after "preserve" was resolved); `remote_mode` is the mode a
    remote_src file gives a replaced dest when no mode is asked (Ansible copies the source's stat).
    """
    dest = params["dest"]
    follow = params.get("follow", False)
    force = params.get("force", True)
    trailing = dest.endswith("/")
    if trailing and source.basename is None:
        return Plan(failed=True, msg="can not use content with a dir as dest")
    dest_file = posixpath.join(dest, source.basename) if trailing else dest
    try:
        dest_file, info = _dest_stat(host, dest_file, follow, force)
        if info.get("exists") and info.get("type") == "directory":
            if source.basename is None:
                return Plan(failed=True, msg="can not use content with a dir as dest")
            dest_file, info = _dest_stat(host, posixpath.join(dest_file, source.basename), follow, force)
            if info.get("exists") and info.get("type") == "directory":
                return Plan(failed=True, msg=f"Destination {dest_file} is a directory")
    except LinkLoop as exc:
        return Plan(failed=True, msg=str(exc))
    exists = bool(info.get("exists"))
    result = {"dest": dest_file, **({"src": source.label} if source.label is not None else {}),
              **(result_extra or {})}
    if exists and not force:
        if params.get("remote_src"):
            result["msg"] = "file already exists"
        return Plan(changed=False, result=result)

    actions: list[dict] = []
    if not exists:
        folder = parent_of(dest_file)
        if folder:
            folder_info = host.stat(folder, follow=True)
            if not folder_info.get("exists"):
                if not trailing and host.check_mode:
                    # Ansible's copy action predicts "changed" from the checksum alone in check mode; the
                    # folder may well be created by an earlier task that check mode did not run.
                    diffs = [_content_diff(host, dest_file, info, source.bytes(), source)] if host.diff_mode else []
                    return Plan(changed=True, result=result, diff=diffs)
                if not trailing:
                    return Plan(failed=True, msg=f"Destination directory {folder} does not exist", result=result)
                dir_mode = parse_mode(params.get("directory_mode"), 0o755, True)
                actions.append({"op": "mkdir", "path": folder, "mode": dir_mode, "owner": None, "group": None})
            elif folder_info.get("type") != "directory":
                return Plan(failed=True, msg=f"Destination directory {folder} does not exist", result=result)

    is_file = exists and info.get("type") == "file"
    same = is_file and info.get("sha256") is not None and info["sha256"] == source.sha256()
    # a dest that is a symlink we do not follow is replaced by a file: its attributes are all to be set
    attrs_of = info if is_file else {"exists": False}
    wanted_mode = mode
    if wanted_mode is None and remote_mode is not None and not same and exists:
        wanted_mode = remote_mode
    change = attrs_change(attrs_of, wanted_mode, params.get("owner"), params.get("group"))
    diffs = []
    if not same:
        data = source.bytes()
        actions.append(write_action(dest_file, data, change.get("mode"), change.get("owner"), change.get("group"),
                                    params.get("backup", False) and exists))
        if host.diff_mode:
            diffs.append(_content_diff(host, dest_file, info, data, source))
    elif change:
        actions.append({"op": "attrs", "path": dest_file, "mode": change.get("mode"), "owner": change.get("owner"),
                        "group": change.get("group"), "recurse": False, "follow": True})
    if change and is_file:
        before, after = attrs_diff(info, change)
        diffs.append(attrs_diff_entry(dest_file, before, after))
    if source.data is not None:
        result.update(checksum=sha1(source.data), md5sum=md5(source.data), size=len(source.data))
    result["state"] = "file"
    if not actions:
        return Plan(changed=False, result=result)
    return Plan(actions=actions, diff=diffs, result=result, finish=finish_actions())


def _dest_stat(host, path: str, follow: bool, checksum: bool) -> tuple[str, dict]:
    if follow:
        return resolve_links(host, path, checksum=checksum)
    return path, host.stat(path, checksum=checksum, follow=False)


def _content_diff(host, dest_file: str, info: dict, data: bytes, source: Source) -> dict:
    diff: dict = {"before_header": dest_file,
                  "after_header": dest_file if source.basename is None or source.label is None else source.label}
    if not info.get("exists") or info.get("type") != "file":
        diff["before"] = ""
    elif (info.get("size") or 0) > MAX_DIFF_SIZE:
        diff["dst_larger"] = MAX_DIFF_SIZE
    else:
        before = host.read(dest_file) or b""
        if is_binary(before):
            diff["dst_binary"] = 1
        else:
            diff["before"] = as_text(before)
    if len(data) > MAX_DIFF_SIZE:
        diff["src_larger"] = MAX_DIFF_SIZE
    elif is_binary(data):
        diff["src_binary"] = 1
    else:
        diff["after"] = as_text(data)
    return diff


class Copy:
    spec = ModuleSpec(
        name="copy",
        options={
            "src": Option("path"),
            "content": Option("raw", no_log=True),
            **FILE_OPTIONS,
            "directory_mode": Option("raw"),
            "remote_src": Option("bool", False),
            "local_follow": Option("bool", True),
            "checksum": Option("str"),
        },
        check_mode="full",
        diff=True,
        doc=__doc__,
        mutually_exclusive=(("src", "content"),),
        required_one_of=(("src", "content"),),
    )

    def plan(self, params: dict, host) -> Plan:
        reject_validate("copy", params)
        src, content, mode = params["src"], params["content"], params["mode"]
        remote_mode = None
        if content is not None:
            text = json.dumps(content) if isinstance(content, (dict, list)) else str(content)
            source = Source(data=text.encode("utf-8", errors="surrogateescape"))
            if mode == "preserve":
                mode = None
        elif params["remote_src"]:
            if src.endswith("/"):
                raise ModuleArgError("copy: directory src is not supported yet (copy single files)")
            info = host.stat(src, checksum=True, follow=True)
            if not info.get("exists"):
                return Plan(failed=True, msg=f"Source {src} not found")
            if info.get("type") == "directory":
                raise ModuleArgError("copy: directory src is not supported yet (copy single files)")
            if info.get("type") != "file":
                return Plan(failed=True, msg=f"Cannot copy invalid source '{src}': not a file")
            source = Source(digest=info.get("sha256"), load=lambda: host.read(src), label=src,
                            basename=posixpath.basename(src))
            remote_mode = stat_mode(info)
            if mode == "preserve":
                mode = remote_mode
        else:
            if src.endswith("/"):
                raise ModuleArgError("copy: directory src is not supported yet (copy single files)")
            try:
                data = host.local_file(src, "files")
            except IsADirectoryError:
                raise ModuleArgError("copy: directory src is not supported yet (copy single files)") from None
            source = Source(data=data, label=src, basename=posixpath.basename(src))
            if mode == "preserve":
                mode = local_mode(host, src, "files")
        if params["checksum"] is not None and sha1(source.bytes()) != params["checksum"].lower():
            return Plan(failed=True, msg="Copied file does not match the expected checksum. Transfer failed.",
                        result={"checksum": sha1(source.bytes()), "expected_checksum": params["checksum"]})
        parse_mode(mode, 0o644, False)  # reject a bad mode before anything else
        return put_file(host, params, source, mode, remote_mode)


MODULE = Copy()
