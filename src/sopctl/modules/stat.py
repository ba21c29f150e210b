"""stat — facts about a path on the host (Ansible's `ansible.builtin.stat`). Never changes anything.

OPTIONS
  path (path, required; aliases: dest, name)
      The path to look at.
  follow (bool, default false)
      Follow a symlink: report on its target.
  get_checksum (bool, default true)
      Return the checksum of a regular file.
  checksum_algorithm (str, default "sha256"; aliases: checksum, checksum_algo)
      Only sha256 is supported (the agent computes SHA-256; Ansible's default is sha1): any other
      algorithm is an error.
  get_mime (bool, default true; aliases: mime, mime_type, mime-type)
      Accepted and ignored (mimetype/charset are not returned).
  get_attributes (bool, default true; aliases: attr, attributes)
      Accepted and ignored (attributes are not returned).

CHECK MODE
  Full (the module only reads).

DIFF
  None.

RETURN
  stat: {exists: false} for a missing path, otherwise Ansible's fields: exists, path, mode ("0644"),
  isdir, isreg, islnk, ischr/isblk/isfifo/issock (false: the agent reports them as "other"), uid, gid,
  pw_name, gr_name (when the id has a name), size, mtime, the rwx/suid flags (rusr, wusr, xusr, rgrp,
  wgrp, xgrp, roth, woth, xoth, isuid, isgid), checksum (regular files, when asked), lnk_target and
  lnk_source (symlinks). Fields the agent does not report (atime, ctime, inode, dev, nlink, readable,
  writeable, executable, mimetype, attributes) are left out unless the stat provides them.

EXAMPLES
  - name: Is there a custom sshd config?
    stat:
      path: /etc/ssh/sshd_config.d/50-sop.conf
    register: sop_sshd

  - name: Checksum of the backup script
    stat:
      path: /usr/local/sbin/backup.sh
      checksum_algorithm: sha256
    register: backup_script

  - debug:
      msg: "{{ backup_script.stat.checksum }}"
    when: backup_script.stat.exists
"""

from __future__ import annotations

import stat as st

from .base import ModuleArgError, ModuleSpec, Option, Plan
from .files_common import LinkLoop, resolve_links, stat_mode

_PASS_THROUGH = ("atime", "ctime", "inode", "dev", "nlink", "readable", "writeable", "executable")


class Stat:
    spec = ModuleSpec(
        name="stat",
        options={
            "path": Option("path", required=True, aliases=("dest", "name")),
            "follow": Option("bool", False),
            "get_checksum": Option("bool", True),
            "checksum_algorithm": Option("str", "sha256", aliases=("checksum", "checksum_algo"),
                                         choices=("md5", "sha1", "sha224", "sha256", "sha384", "sha512")),
            "get_mime": Option("bool", True, aliases=("mime", "mime_type", "mime-type")),
            "get_attributes": Option("bool", True, aliases=("attr", "attributes")),
        },
        check_mode="full",
        diff=False,
        doc=__doc__,
    )

    def plan(self, params: dict, host) -> Plan:
        algorithm = params["checksum_algorithm"]
        if params["get_checksum"] and algorithm != "sha256":
            raise ModuleArgError(f"stat: checksum_algorithm {algorithm!r} is not supported: only sha256 "
                                 f"(the agent computes SHA-256 checksums)")
        path = params["path"]
        info = host.stat(path, checksum=params["get_checksum"], follow=params["follow"])
        if not info.get("exists"):
            return Plan(changed=False, result={"stat": {"exists": False}})
        out = stat_result(path, info)
        if out["islnk"]:
            out["lnk_target"] = info.get("link_target")
            try:
                out["lnk_source"] = resolve_links(host, path)[0]
            except LinkLoop as exc:
                return Plan(failed=True, msg=str(exc))
        if params["get_checksum"] and out["isreg"] and info.get("sha256"):
            out["checksum"] = info["sha256"]
        return Plan(changed=False, result={"stat": out})


def stat_result(path: str, info: dict) -> dict:
    """Ansible's stat fields from an agent stat dict."""
    mode = stat_mode(info) or 0
    kind = info.get("type")
    out = {
        "exists": True,
        "path": path,
        "mode": "%04o" % mode,
        "isdir": kind == "directory",
        "ischr": False,
        "isblk": False,
        "isreg": kind == "file",
        "isfifo": False,
        "islnk": kind == "link",
        "issock": False,
        "uid": info.get("uid"),
        "gid": info.get("gid"),
        "size": info.get("size"),
        "mtime": info.get("mtime"),
        "wusr": bool(mode & st.S_IWUSR), "rusr": bool(mode & st.S_IRUSR), "xusr": bool(mode & st.S_IXUSR),
        "wgrp": bool(mode & st.S_IWGRP), "rgrp": bool(mode & st.S_IRGRP), "xgrp": bool(mode & st.S_IXGRP),
        "woth": bool(mode & st.S_IWOTH), "roth": bool(mode & st.S_IROTH), "xoth": bool(mode & st.S_IXOTH),
        "isuid": bool(mode & st.S_ISUID), "isgid": bool(mode & st.S_ISGID),
    }
    for key, number, name in (("pw_name", "uid", "owner"), ("gr_name", "gid", "group")):
        value = info.get(name)
        # the agent gives the number as text when the id has no name: Ansible then omits the field
        if value is not None and str(value) != str(info.get(number)):
            out[key] = value
    for key in _PASS_THROUGH:
        if key in info:
            out[key] = info[key]
    return out


MODULE = Stat()
