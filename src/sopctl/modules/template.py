"""template — render a Jinja2 template on the control machine and put the result on the host
(Ansible's `ansible.builtin.template`).

The template is found in the play's `templates/` folders (then the play folder), rendered with the
host's variables, and then handled exactly like `copy` with content: compared by SHA-256, written
atomically only when it differs, attributes corrected when they differ.

OPTIONS
  src (path, required)
      The template file on the control machine.
  dest (path, required)
      Where to put the result. A dest ending with "/" or naming an existing directory receives the file
      under src's base name.
  force (bool, default true)
      Replace a file whose content differs; with false an existing dest is left alone.
  backup (bool, default false)
      Keep a timestamped copy of the replaced file (returned as `backup_file`).
  mode (raw), owner (str), group (str)
      Attributes of the file (octal string, YAML octal int, symbolic mode, or "preserve": the template
      file's mode; names or numeric ids).
  follow (bool, default false)
      When dest is a symlink, write its target (keeping the link); otherwise the link is replaced.
  newline_sequence (str, default "\\n"; choices: "\\n", "\\r", "\\r\\n")
      Line endings of the result. (Here every line ending of the rendered text is converted, including
      those coming from variables; Jinja2 converts only the template's own.)
  trim_blocks (bool, default true), lstrip_blocks (bool, default false)
      Jinja2 whitespace control. The executor's renderer uses Ansible's defaults; other values are passed
      to it when it accepts them, otherwise they are an error.
  output_encoding (str, default "utf-8")
      Only utf-8 is supported.
  unsafe_writes (bool, default false)
      Accepted for compatibility; writes are always atomic.
  validate (str)
      Not supported yet: giving it is an error.

CHECK MODE
  Full: the template is rendered and compared; nothing is written.

DIFF
  Supported: dest's content before and the rendered content after; attribute changes as a second entry.

RETURN
  dest, src, checksum (SHA-1 of the rendered content), md5sum, size, state, backup_file.

EXAMPLES
  - name: Chrony servers of the office
    template:
      src: chrony.conf.j2
      dest: /etc/chrony/chrony.conf
      owner: root
      group: root
      mode: "0644"
      backup: true

  - name: A Windows-style file for the shared folder
    template:
      src: readme.txt.j2
      dest: /srv/share/README.txt
      newline_sequence: "\\r\\n"
"""

from __future__ import annotations

import codecs
import inspect
import posixpath

from .base import ModuleArgError, ModuleSpec, Option, Plan
from .copy import FILE_OPTIONS, Source, local_mode, put_file
from .files_common import parse_mode, reject_validate

_ESCAPED = {"\\n": "\n", "\\r": "\r", "\\r\\n": "\r\n"}
_DEFAULTS = {"trim_blocks": True, "lstrip_blocks": False}


class Template:
    spec = ModuleSpec(
        name="template",
        options={
            "src": Option("path", required=True, help="the template on the control machine"),
            **FILE_OPTIONS,
            "newline_sequence": Option("str", "\n"),
            "trim_blocks": Option("bool", True),
            "lstrip_blocks": Option("bool", False),
            "output_encoding": Option("str", "utf-8"),
        },
        check_mode="full",
        diff=True,
        doc=__doc__,
    )

    def plan(self, params: dict, host) -> Plan:
        reject_validate("template", params)
        newline = _ESCAPED.get(params["newline_sequence"], params["newline_sequence"])
        if newline not in ("\n", "\r", "\r\n"):
            raise ModuleArgError("template: newline_sequence needs to be one of: \\n, \\r or \\r\\n")
        encoding = params["output_encoding"] or "utf-8"
        try:
            if codecs.lookup(encoding).name != "utf-8":
                raise LookupError
        except LookupError:
            raise ModuleArgError(f"template: output_encoding {encoding!r} is not supported (only utf-8)") from None
        src = params["src"]
        raw = host.local_file(src, "templates")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModuleArgError(f"template: {src} is not UTF-8 text ({exc})") from None
        rendered = _render(host, text, {k: params[k] for k in _DEFAULTS})
        if newline != "\n":
            rendered = rendered.replace("\r\n", "\n").replace("\r", "\n").replace("\n", newline)
        mode = params["mode"]
        if mode == "preserve":
            mode = local_mode(host, src, "templates")
        parse_mode(mode, 0o644, False)  # reject a bad mode early
        source = Source(data=rendered.encode("utf-8", errors="surrogateescape"), label=src,
                        basename=posixpath.basename(src))
        return put_file(host, params, source, mode)


def _render(host, text: str, options: dict) -> str:
    """Render with the host's templar; whitespace options go to it only when it accepts them."""
    asked = {k: v for k, v in options.items() if v != _DEFAULTS[k]}
    try:
        accepted = set(inspect.signature(host.render).parameters)
    except (TypeError, ValueError):
        accepted = set()
    if asked and not set(asked) <= accepted:
        names = ", ".join(f"{k}={str(v).lower()}" for k, v in asked.items())
        raise ModuleArgError(f"template: {names} is not supported by this renderer "
                             f"(it uses Ansible's defaults trim_blocks=true, lstrip_blocks=false)")
    return host.render(text, **asked) if asked else host.render(text)


MODULE = Template()
