# sopctl host agent: started once per host over one SSH channel, it answers JSON-line requests on
# stdin/stdout, so a task costs a message instead of a new SSH exec (the way Mitogen speeds up Ansible).
#
# It is deliberately dumb: it observes (stat, read) and applies primitive changes (write, mkdir, chmod,
# chown, remove, symlink, run). Every decision is made on the control machine by pure module code.
# Standard library only, Python 3.6+, because it runs on whatever python3 the host has.
# Every file write goes to a temporary file in the same folder and is renamed into place: a host never
# holds a half-written file.
# Only what every run needs is imported here: the agent starts on every host for every run, and each
# module imported costs milliseconds there. The rest (hashlib, shutil, subprocess, tempfile) loads on use.
import binascii
import grp
import json
import os
import pwd
import stat as st
import sys
import time


class OpError(Exception):
    def __init__(self, kind, message):
        Exception.__init__(self, message)
        self.kind = kind


def _owner(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _uid(owner):
    if owner is None:
        return -1
    if isinstance(owner, int) or str(owner).isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise OpError("no_such_user", "user %r does not exist on the host" % owner)


def _gid(group):
    if group is None:
        return -1
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise OpError("no_such_group", "group %r does not exist on the host" % group)


def _sha256(path):
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _kind(mode):
    if st.S_ISREG(mode):
        return "file"
    if st.S_ISDIR(mode):
        return "directory"
    if st.S_ISLNK(mode):
        return "link"
    return "other"


def op_stat(path, checksum=False, follow=False):
    try:
        info = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    except NotADirectoryError:
        return {"exists": False}
    except PermissionError as exc:
        raise OpError("permission", str(exc))
    out = {"exists": True, "type": _kind(info.st_mode), "mode": "%04o" % st.S_IMODE(info.st_mode),
           "uid": info.st_uid, "gid": info.st_gid, "owner": _owner(info.st_uid), "group": _group(info.st_gid),
           "size": info.st_size, "mtime": info.st_mtime}
    if out["type"] == "link":
        out["link_target"] = os.readlink(path)
    if checksum and out["type"] == "file":
        out["sha256"] = _sha256(path)
    return out


def op_read(path, max_bytes=64 << 20):
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return {"exists": False}
    if not st.S_ISREG(info.st_mode):
        raise OpError("not_a_file", "%s is not a regular file" % path)
    if info.st_size > max_bytes:
        raise OpError("too_large", "%s is %d bytes, more than %d" % (path, info.st_size, max_bytes))
    with open(path, "rb") as fh:
        data = fh.read()
    return {"exists": True, "content_b64": binascii.b2a_base64(data, newline=False).decode("ascii"),
            "mode": "%04o" % st.S_IMODE(info.st_mode)}


def _apply_attrs(path, mode=None, owner=None, group=None, follow=True):
    uid, gid = _uid(owner), _gid(group)
    if uid != -1 or gid != -1:
        if follow:
            os.chown(path, uid, gid)
        else:
            os.lchown(path, uid, gid)
    if mode is not None and (follow or not os.path.islink(path)):
        os.chmod(path, int(mode))


def op_write(path, content_b64, mode=None, owner=None, group=None, backup=False):
    import shutil
    import tempfile

    data = binascii.a2b_base64(content_b64)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OpError("no_folder", "folder %s does not exist" % folder)
    existing = None
    try:
        existing = os.stat(path)
    except FileNotFoundError:
        pass
    backup_file = None
    if backup and existing is not None:
        backup_file = "%s.%d.%s~" % (path, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S"))
        shutil.copy2(path, backup_file)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".sopctl-tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if existing is not None:
            os.chown(tmp, existing.st_uid, existing.st_gid)
            os.chmod(tmp, st.S_IMODE(existing.st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        _apply_attrs(tmp, mode, owner, group)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {"backup_file": backup_file}


def op_mkdir(path, mode=None, owner=None, group=None):
    created = []
    missing = []
    current = os.path.abspath(path)
    while not os.path.exists(current):
        missing.append(current)
        current = os.path.dirname(current)
    for folder in reversed(missing):
        os.mkdir(folder)
        _apply_attrs(folder, mode, owner, group)
        created.append(folder)
    return {"created": created}


def op_attrs(path, mode=None, owner=None, group=None, recurse=False, follow=True):
    _apply_attrs(path, mode, owner, group, follow)
    if recurse and os.path.isdir(path) and not os.path.islink(path):
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                _apply_attrs(os.path.join(root, name), mode, owner, group, follow=False)
    return {}


def op_remove(path):
    import shutil

    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
    return {}


def op_symlink(src, dest, force=False):
    if os.path.lexists(dest):
        if os.path.isdir(dest) and not os.path.islink(dest):
            raise OpError("exists", "%s exists and is a directory" % dest)
        if not force and not os.path.islink(dest):
            raise OpError("exists", "%s exists and is not a link (use force)" % dest)
        tmp = "%s.sopctl-link-%d" % (dest, os.getpid())
        os.symlink(src, tmp)
        os.rename(tmp, dest)
    else:
        os.symlink(src, dest)
    return {}


def op_touch(path, mode=None, owner=None, group=None):
    existed = os.path.exists(path)
    with open(path, "ab"):
        pass
    os.utime(path, None)
    if not existed and mode is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(path, 0o666 & ~umask)
    _apply_attrs(path, mode, owner, group)
    return {"created": not existed}


def op_run(cmd, shell=False, stdin=None, env=None, cwd=None, timeout=None, locale_c=True):
    import subprocess

    full_env = dict(os.environ)
    if locale_c:
        full_env["LC_ALL"] = "C"
        full_env["LANG"] = "C"
    full_env.update(env or {})
    argv = ["/bin/sh", "-c", cmd] if shell else cmd
    started = time.time()
    try:
        proc = subprocess.run(argv, input=(stdin or "").encode("utf-8"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=full_env, cwd=cwd, timeout=timeout)
    except FileNotFoundError as exc:
        return {"rc": 127, "stdout": "", "stderr": str(exc), "duration": time.time() - started}
    except subprocess.TimeoutExpired:
        raise OpError("timeout", "command timed out after %ss" % timeout)
    return {"rc": proc.returncode, "stdout": proc.stdout.decode("utf-8", "replace"),
            "stderr": proc.stderr.decode("utf-8", "replace"), "duration": time.time() - started}


def op_ping():
    return {"pid": os.getpid(), "uid": os.getuid(), "python": sys.version.split()[0]}


OPS = {"stat": op_stat, "read": op_read, "write": op_write, "mkdir": op_mkdir, "attrs": op_attrs,
       "remove": op_remove, "symlink": op_symlink, "touch": op_touch, "run": op_run, "ping": op_ping}


def handle(request):
    op = request.pop("op", None)
    if op == "batch":
        # A plan's actions depend on each other: after a failure the rest are not run (unless asked).
        answers, failed = [], False
        for item in request.get("ops", []):
            if failed and request.get("stop_on_error", True):
                answers.append({"ok": False, "kind": "not_run", "error": "not run: an earlier action failed"})
                continue
            answer = handle(dict(item))
            rc = (answer.get("result") or {}).get("rc") if answer.get("ok") else None
            failed = not answer.get("ok") or (item.get("op") == "run" and rc not in (None, 0))
            answers.append(answer)
        return {"ok": True, "result": answers}
    fn = OPS.get(op)
    if fn is None:
        return {"ok": False, "kind": "unknown_op", "error": "unknown operation %r" % op}
    try:
        return {"ok": True, "result": fn(**request)}
    except OpError as exc:
        return {"ok": False, "kind": exc.kind, "error": str(exc)}
    except (OSError, ValueError, TypeError) as exc:
        return {"ok": False, "kind": type(exc).__name__, "error": str(exc)}


def main():
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    stdout.write(b'{"ready": true}\n')
    stdout.flush()
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line.decode("utf-8"))
        rid = request.pop("id", None)
        response = handle(request)
        response["id"] = rid
        stdout.write(json.dumps(response).encode("utf-8") + b"\n")
        stdout.flush()


main()
