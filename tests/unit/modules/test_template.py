"""template: rendering through the host's renderer, then copy's comparison and writes, through FakeHost."""

import hashlib

import pytest

from sopctl.modules.base import ModuleArgError, validate
from sopctl.modules.files_common import decode_write
from sopctl.modules.template import MODULE

try:
    from fakehost import FakeHost
except ImportError:  # pragma: no cover - when tests/unit/modules becomes a package
    from tests.unit.modules.fakehost import FakeHost

TEMPLATE = b"server {{ ntp_server }} iburst\n{% for h in extra %}server {{ h }}\n{% endfor %}"
RENDERED = b"server ntp.pa-batulicin.go.id iburst\nserver a\nserver b\n"
VARS = {"ntp_server": "ntp.pa-batulicin.go.id", "extra": ["a", "b"]}
ETC = {"/etc": {"exists": True, "type": "directory", "mode": "0755", "uid": 0, "gid": 0, "owner": "root",
                "group": "root", "size": 0, "mtime": 0.0}}


def plan(host, **raw):
    return MODULE.plan(validate(MODULE.spec, raw), host)


def host_with(files=None, template=TEMPLATE, **kw):
    return FakeHost(files=dict(files or {}), stats=dict(ETC), local={("templates", "chrony.conf.j2"): template},
                    variables=dict(VARS), **kw)


def test_renders_and_writes():
    result = plan(host_with(), src="chrony.conf.j2", dest="/etc/chrony.conf", mode="0644")
    write = result.actions[0]
    assert write["path"] == "/etc/chrony.conf" and decode_write(write) == RENDERED and write["mode"] == 0o644
    assert result.result["checksum"] == hashlib.sha1(RENDERED).hexdigest()
    assert result.result["src"] == "chrony.conf.j2"


def test_unchanged_rendering_is_no_change():
    host = host_with({"/etc/chrony.conf": RENDERED})
    assert plan(host, src="chrony.conf.j2", dest="/etc/chrony.conf").actions == []


def test_changed_rendering_has_a_diff_and_backup():
    host = host_with({"/etc/chrony.conf": b"server old\n"}, diff_mode=True)
    result = plan(host, src="chrony.conf.j2", dest="/etc/chrony.conf", backup=True)
    assert result.actions[0]["backup"] is True
    assert result.diff[0]["before"] == "server old\n" and result.diff[0]["after"] == RENDERED.decode()
    assert result.diff[0]["after_header"] == "chrony.conf.j2"


def test_directory_dest_uses_the_template_name():
    result = plan(host_with(), src="chrony.conf.j2", dest="/etc")
    assert result.actions[0]["path"] == "/etc/chrony.conf.j2"


def test_force_false():
    host = host_with({"/etc/chrony.conf": b"other"})
    assert plan(host, src="chrony.conf.j2", dest="/etc/chrony.conf", force=False).actions == []


@pytest.mark.parametrize("sequence, expected", [
    ("\r\n", RENDERED.replace(b"\n", b"\r\n")),
    ("\\r\\n", RENDERED.replace(b"\n", b"\r\n")),   # written escaped in YAML single quotes
    ("\r", RENDERED.replace(b"\n", b"\r")),
    ("\n", RENDERED),
])
def test_newline_sequence(sequence, expected):
    result = plan(host_with(), src="chrony.conf.j2", dest="/etc/chrony.conf", newline_sequence=sequence)
    assert decode_write(result.actions[0]) == expected


def test_bad_newline_sequence():
    with pytest.raises(ModuleArgError, match="newline_sequence"):
        plan(host_with(), src="chrony.conf.j2", dest="/etc/x", newline_sequence="\\t")


def test_non_ascii_output_is_utf8():
    host = host_with(template="Pengadilan {{ '—' }} Batulicin\n".encode())
    assert decode_write(plan(host, src="chrony.conf.j2", dest="/etc/x").actions[0]) == \
        "Pengadilan — Batulicin\n".encode()


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf_8"])
def test_output_encoding_utf8_spellings(encoding):
    assert plan(host_with(), src="chrony.conf.j2", dest="/etc/x", output_encoding=encoding).actions


def test_other_output_encoding_is_rejected():
    with pytest.raises(ModuleArgError, match="output_encoding 'latin-1' is not supported"):
        plan(host_with(), src="chrony.conf.j2", dest="/etc/x", output_encoding="latin-1")


def test_default_whitespace_options_render_with_the_host_renderer():
    assert plan(host_with(), src="chrony.conf.j2", dest="/etc/x", trim_blocks=True, lstrip_blocks=False).actions


def test_non_default_whitespace_options_need_a_renderer_that_takes_them():
    with pytest.raises(ModuleArgError, match="lstrip_blocks=true is not supported"):
        plan(host_with(), src="chrony.conf.j2", dest="/etc/x", lstrip_blocks=True)

    class Host(FakeHost):
        def render(self, text, trim_blocks=True, lstrip_blocks=False):
            self.seen = (trim_blocks, lstrip_blocks)
            return "rendered\n"

    host = Host(stats=dict(ETC), local={("templates", "chrony.conf.j2"): TEMPLATE})
    result = plan(host, src="chrony.conf.j2", dest="/etc/x", trim_blocks=False)
    assert host.seen == (False, False) and decode_write(result.actions[0]) == b"rendered\n"


def test_non_utf8_template_is_an_error():
    with pytest.raises(ModuleArgError, match="not UTF-8"):
        plan(host_with(template=b"\xff\xfe"), src="chrony.conf.j2", dest="/etc/x")


def test_mode_preserve_needs_local_stat():
    with pytest.raises(ModuleArgError, match="mode=preserve"):
        plan(host_with(), src="chrony.conf.j2", dest="/etc/x", mode="preserve")


def test_validate_is_rejected():
    with pytest.raises(ModuleArgError, match="validate is not supported"):
        plan(host_with(), src="chrony.conf.j2", dest="/etc/x", validate="chronyd -p -f %s")


def test_src_is_required_and_unknown_options_are_named():
    with pytest.raises(ModuleArgError, match="missing required option 'src'"):
        plan(host_with(), dest="/etc/x")
    with pytest.raises(ModuleArgError) as err:
        plan(host_with(), src="chrony.conf.j2", dest="/etc/x", state="present")
    assert "unsupported option(s) state" in str(err.value) and "newline_sequence" in str(err.value)


def test_spec_documents_every_option():
    for name in MODULE.spec.options:
        assert f"  {name} (" in MODULE.spec.doc or f", {name} (" in MODULE.spec.doc, name
