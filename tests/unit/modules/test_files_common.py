"""files_common: Ansible's mode rules, attribute comparison, content helpers, link resolution, finish."""

import base64

import pytest

from sopctl.modules.base import ModuleArgError
from sopctl.modules.files_common import (as_text, attrs_change, attrs_plan, decode_write, ensure_newline,
                                         ends_with_newline, finish_actions, is_binary, LinkLoop, mode_str,
                                         owner_matches, parent_of, parse_mode, reject_validate, resolve_links,
                                         split_lines, split_lines_universal, stat_mode, write_action)

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost


def fstat(mode="0644", kind="file", owner="root", group="root", uid=0, gid=0, **extra):
    return {"exists": True, "type": kind, "mode": mode, "uid": uid, "gid": gid, "owner": owner, "group": group,
            "size": 0, "mtime": 0.0, **extra}


# --- parse_mode: numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (None, None),
    (0o644, 0o644),          # YAML 0644 arrives as the int 420
    (420, 0o644),
    (644, 644),              # YAML 644 is decimal: used as is, exactly as Ansible does
    ("0644", 0o644),
    ("644", 0o644),
    ("0o644", 0o644),
    ("0755", 0o755),
    ("1777", 0o1777),
    ("04755", 0o4755),
    ("0", 0),
    (" 0600 ", 0o600),
])
def test_parse_mode_numbers(value, expected):
    assert parse_mode(value, 0o777, False) == expected


@pytest.mark.parametrize("value", ["preserve", "rw-r--r--", "ua=r", "u=rwz", "0o99999",
                                   "x=r", 0o17777, -1, True, "99999"])
def test_parse_mode_rejects_bad_values_naming_them(value):
    with pytest.raises(ModuleArgError) as err:
        parse_mode(value, 0o644, False)
    assert repr(value) in str(err.value) or str(value) in str(err.value)


# --- parse_mode: symbolic --------------------------------------------------------------------------

@pytest.mark.parametrize("value, current, is_dir, expected", [
    ("u=rw,g=r,o=r", 0o777, False, 0o644),
    ("u=rw,g=r,o=r", None, False, 0o644),      # absent: computed from 0
    ("u+x", 0o644, False, 0o744),
    ("u+x", None, False, 0o100),
    ("a-w", 0o666, False, 0o444),
    ("go=", 0o755, False, 0o700),
    ("u=rwX,g=rX,o=", 0o600, False, 0o640),    # X: not a directory, nobody may execute
    ("u=rwX,g=rX,o=", 0o700, False, 0o750),    # X: someone may execute
    ("u=rwX,g=rX,o=", 0o600, True, 0o750),     # X: a directory
    ("a+X", 0o644, True, 0o755),
    ("g=u", 0o640, False, 0o660),              # copy the owner's bits
    ("o=g", 0o754, False, 0o755),
    ("u+s", 0o755, False, 0o4755),
    ("g+s", 0o755, True, 0o2755),
    ("o+t", 0o777, True, 0o1777),
    ("u+t,o+s", 0o644, False, 0o644),          # t means nothing for u, s nothing for o
    ("u=rw-x+X", 0o711, False, 0o711),         # several operators in one clause, applied in order
    ("u-s", 0o4755, False, 0o755),
    ("u=r", 0o4755, False, 0o0455),            # '=' also clears the class's special bit
    ("+x", 0o644, False, 0o755),               # no "who": like "a" but without the umask's bits
    ("+w", 0o444, False, 0o644),               # umask 022 keeps w from group and others
    ("=r", 0o777, False, 0o444),
    ("u", 0o640, False, 0o640),                # a clause without operator changes nothing (as Ansible)
    ("u=rw,", 0o777, False, 0o677),            # an empty clause is accepted and does nothing (as Ansible)
    ("ug+rw,o-rwx", 0o604, False, 0o660),
])
def test_parse_mode_symbolic(value, current, is_dir, expected):
    assert parse_mode(value, current, is_dir) == expected


def test_parse_mode_symbolic_uses_given_umask():
    assert parse_mode("+w", 0o444, False, umask=0) == 0o666
    assert parse_mode("a+w", 0o444, False, umask=0o077) == 0o666  # explicit "who" ignores the umask


# --- modes and owners ------------------------------------------------------------------------------

def test_mode_str_and_stat_mode():
    assert mode_str(0o644) == "0644"
    assert mode_str(0o4755) == "4755"
    assert mode_str(None) is None
    assert stat_mode({"mode": "0640"}) == 0o640
    assert stat_mode({"mode": 0o640}) == 0o640
    assert stat_mode({}) is None


@pytest.mark.parametrize("wanted, name, number, expected", [
    ("root", "root", 0, True),
    ("0", "root", 0, True),
    (0, "root", 0, True),
    ("www-data", "root", 0, False),
    ("33", "www-data", 33, True),
    ("34", "www-data", 33, False),
    ("1001", "1001", 1001, True),   # an id without a name: the agent reports the number as the name
    (None, "root", 0, True),
])
def test_owner_matches_by_name_or_id(wanted, name, number, expected):
    assert owner_matches(wanted, name, number) is expected


def test_attrs_plan_no_change():
    assert attrs_plan("/f", fstat(), "0644", "root", "0") == ([], {}, {})


def test_attrs_plan_sets_only_what_differs():
    actions, before, after = attrs_plan("/f", fstat(owner="app", uid=1000), "0600", "app", "root")
    assert actions == [{"op": "attrs", "path": "/f", "mode": 0o600, "owner": None, "group": None,
                        "recurse": False, "follow": True}]
    assert (before, after) == ({"mode": "0644"}, {"mode": "0600"})


def test_attrs_plan_owner_and_group():
    actions, before, after = attrs_plan("/d", fstat(kind="directory", mode="0755"), None, "app", "staff",
                                        recurse=True)
    assert actions == [{"op": "attrs", "path": "/d", "mode": None, "owner": "app", "group": "staff",
                        "recurse": True, "follow": True}]
    assert before == {"owner": "root", "group": "root"}
    assert after == {"owner": "app", "group": "staff"}


def test_attrs_plan_symbolic_mode_on_directory():
    actions, before, after = attrs_plan("/d", fstat(kind="directory", mode="0700"), "g+rX", None, None)
    assert actions[0]["mode"] == 0o750
    assert after == {"mode": "0750"}


def test_attrs_change_for_a_missing_path_wants_everything_asked():
    assert attrs_change({"exists": False}, "u+x", "app", None) == {"mode": 0o744, "owner": "app"}
    assert attrs_change({"exists": False, "type": "directory"}, "g+w", None, None) == {"mode": 0o775}
    assert attrs_change({"exists": False}, None, None, None) == {}


# --- content ---------------------------------------------------------------------------------------

def test_write_action_encodes_content():
    action = write_action("/etc/x", b"a\n\xff", 0o600, "root", 0, backup=True)
    assert action == {"op": "write", "path": "/etc/x", "content_b64": base64.b64encode(b"a\n\xff").decode(),
                      "mode": 0o600, "owner": "root", "group": "0", "backup": True}
    assert decode_write(action) == b"a\n\xff"
    assert write_action("/x", b"", None, None, None, False)["owner"] is None


@pytest.mark.parametrize("data, lines", [
    (b"", []),
    (b"a", [b"a"]),
    (b"a\n", [b"a\n"]),
    (b"a\nb", [b"a\n", b"b"]),
    (b"a\r\nb\rc\n", [b"a\r\n", b"b\rc\n"]),   # like readlines(): only \n ends a line
    (b"\n\n", [b"\n", b"\n"]),
])
def test_split_lines_like_readlines(data, lines):
    assert split_lines(data) == lines
    assert b"".join(lines) == data


def test_split_lines_universal_like_splitlines():
    assert split_lines_universal(b"a\r\nb\rc\nd") == [b"a\r\n", b"b\r", b"c\n", b"d"]


def test_newline_helpers():
    assert ends_with_newline(b"a\n") and ends_with_newline(b"a\r") and not ends_with_newline(b"a")
    assert not ends_with_newline(b"")
    assert ensure_newline(b"a") == b"a\n"
    assert ensure_newline(b"a\n") == b"a\n"
    assert is_binary(b"a\x00b") and not is_binary(b"text")
    assert as_text(b"caf\xc3\xa9") == "café"
    assert as_text(None) == ""
    assert "\ufffd" in as_text(b"\xff")


# --- paths -----------------------------------------------------------------------------------------

def test_resolve_links_follows_relative_and_absolute_targets():
    host = FakeHost(files={"/srv/real.conf": b"x"}, stats={
        "/etc/app.conf": fstat(kind="link", link_target="../srv/link2"),
        "/srv/link2": fstat(kind="link", link_target="/srv/real.conf"),
    })
    path, info = resolve_links(host, "/etc/app.conf")
    assert path == "/srv/real.conf"
    assert info["type"] == "file"


def test_resolve_links_of_a_plain_file_and_a_dangling_link():
    host = FakeHost(files={"/a": b""}, stats={"/l": fstat(kind="link", link_target="missing")})
    assert resolve_links(host, "/a")[0] == "/a"
    assert resolve_links(host, "/l") == ("/missing", {"exists": False})


def test_resolve_links_loop():
    host = FakeHost(stats={"/a": fstat(kind="link", link_target="/b"), "/b": fstat(kind="link", link_target="/a")})
    with pytest.raises(LinkLoop):
        resolve_links(host, "/a")


def test_parent_of():
    assert parent_of("/etc/x.conf") == "/etc"
    assert parent_of("/etc/dir/") == "/etc"
    assert parent_of("x.conf") == ""
    assert parent_of("/x") == "/"


def test_reject_validate():
    reject_validate("copy", {"validate": None})
    with pytest.raises(ModuleArgError, match="copy: validate is not supported"):
        reject_validate("copy", {"validate": "visudo -cf %s"})


# --- finish ----------------------------------------------------------------------------------------

def test_finish_copies_backup_file_to_the_keys():
    finish = finish_actions(("backup", "backup_file"))
    result = finish([{"ok": True, "result": {"backup_file": "/etc/x.1.2024~"}}], {"msg": "line added"})
    assert result == {"msg": "line added", "backup": "/etc/x.1.2024~", "backup_file": "/etc/x.1.2024~"}


def test_finish_fails_on_a_failed_answer():
    result = finish_actions()([{"ok": True, "result": {}}, {"ok": False, "kind": "no_such_user",
                                                             "error": "user 'x' does not exist on the host"}], {})
    assert result["failed"] is True
    assert result["msg"] == "no_such_user: user 'x' does not exist on the host"


def test_finish_fails_on_a_failed_command():
    result = finish_actions()([{"ok": True, "result": {"rc": 1, "stderr": "touch: cannot touch\n"}}], {})
    assert result["failed"] is True and result["rc"] == 1
    assert result["msg"] == "command failed with rc 1: touch: cannot touch"
    assert finish_actions()([{"ok": True, "result": {"rc": 0}}], {}) == {}


# --- the actions modules build are ones the agent accepts ------------------------------------------

def agent_operations():
    """{op: (all parameters, required parameters)} read from the agent's source (it is not importable:
    it runs its main loop on import)."""
    import ast
    from pathlib import Path

    import sopctl.agent

    tree = ast.parse((Path(sopctl.agent.__file__).parent / "remote.py").read_text())
    ops = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("op_"):
            names = [a.arg for a in node.args.args]
            required = names[:len(names) - len(node.args.defaults)]
            ops[node.name[3:]] = (set(names), set(required))
    return ops


def sample_plans():
    from sopctl.modules import blockinfile, copy, file, lineinfile
    from sopctl.modules.base import validate

    def run(module, host, **raw):
        return module.MODULE.plan(validate(module.MODULE.spec, raw), host)

    folder = fstat(kind="directory", mode="0755")
    yield run(lineinfile, FakeHost(), path="/a/b/c", line="x", create=True, mode="0600")
    yield run(lineinfile, FakeHost(files={"/f": b"x\n"}), path="/f", line="x", owner="app")
    yield run(blockinfile, FakeHost(files={"/f": b""}), path="/f", block="x", backup=True)
    yield run(copy, FakeHost(local={("files", "s"): b"x"}), src="s", dest="/new/dir/", directory_mode="0700")
    yield run(copy, FakeHost(files={"/f": b"x"}), content="x", dest="/f", mode="0600")
    yield run(file, FakeHost(), path="/d", state="directory", mode="0700")
    yield run(file, FakeHost(stats={"/d": folder}), path="/d", state="absent")
    yield run(file, FakeHost(), path="/t", state="touch")
    yield run(file, FakeHost(stats={"/d": folder}), path="/d", state="touch")
    yield run(file, FakeHost(stats={"/s": folder}), path="/l", src="/s", state="link")
    yield run(file, FakeHost(stats={"/d": folder}, queries={"find -P /d -mindepth 1 -printf %y %m %U %G %u %g %p\\0":
                                                            {"stdout": "f 644 0 0 root root /d/f\0"}}),
              path="/d", state="directory", recurse=True, mode="0700")
    yield run(file, FakeHost(stats={"/l": fstat(kind="link", link_target="/x"), "/x": fstat()}),
              path="/l", src="/x", state="link", follow=False, owner="app")


def test_actions_match_the_agent_operations():
    ops = agent_operations()
    seen = set()
    for plan in sample_plans():
        assert plan.actions, plan
        for action in plan.actions:
            op = action["op"]
            assert op in ops, op
            params, required = ops[op]
            keys = set(action) - {"op"}
            assert keys <= params, (op, keys - params)
            assert required <= keys, (op, required - keys)
            seen.add(op)
    assert seen == {"write", "mkdir", "attrs", "remove", "symlink", "touch", "run"}
