"""Declarative checks: `checks/*.yml` (every file but `sop.yml`), loaded and validated into frozen data.

A check file has one top-level key, `checks:`, a list of checks. Each check names the SOP items it
evidences, one probe (what to observe on a host) and one or more expectations (what the observed value
must be). The file is written by hand, so loading validates everything and reports the first mistake as
`file:line: field: what is wrong` (an `InputError`); nothing is returned for a bad file. The format is
described in docs/checks.md.

This module is the schema: which probe kinds, options and expectations exist, which OS each probe runs on.
`probes` turns a Probe into host operations, `expect` judges what came back, `runner` ties them together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path
from typing import Any, Iterable

from sopctl.compliance.catalog import Catalog, validate_check_refs
from sopctl.errors import InputError
from sopctl.yamlsrc import Fields, describe, field_error, load_yaml
from sopctl.yamlsrc import field_name as _dotted

# --------------------------------------------------------------------------------------------- schema

SEVERITIES = ("low", "medium", "high", "critical")
OSES = ("linux", "windows")
CHECK_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SOP_FILE = "sop.yml"
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 3600.0

#: probe kind -> the OSes it runs on (a check's `applies_to.os` defaults to these)
PROBE_OS: dict[str, tuple[str, ...]] = {
    "command": ("linux",),
    "file": ("linux", "windows"),
    "sshd": ("linux",),
    "package": ("linux",),
    "service": ("linux", "windows"),
    "sysctl": ("linux",),
    "fact": ("linux", "windows"),
    "http": ("linux", "windows"),
    "registry": ("windows",),
    "powershell": ("windows",),
}
PROBE_KINDS = tuple(PROBE_OS)

#: probe kind -> option keys allowed beside the kind key (`timeout` and `extract` are added below)
_PROBE_OPTIONS: dict[str, tuple[str, ...]] = {
    "command": ("field", "env", "na_rc", "error_rc"),
    "file": ("property", "match"),
    "sshd": ("sshd_match",),
    "package": (),
    "service": ("process",),
    "sysctl": (),
    "fact": (),
    "http": ("field",),
    "registry": (),
    "powershell": (),
}
_NO_TIMEOUT = ("fact",)  # evaluated on the control machine from data already there

COMMAND_FIELDS = ("stdout", "stderr", "rc", "lines")
FILE_PROPERTIES = ("exists", "content", "mode", "owner", "group", "size", "mtime", "line")
#: what a file probe without `property:` observes, one expectation block per field
FILE_STAT_FIELDS = ("mode", "owner", "group", "size", "mtime", "type")
WINDOWS_FILE_PROPERTIES = ("exists", "content", "line", "size", "mtime", "owner")
WINDOWS_STAT_FIELDS = ("size", "mtime", "type")
HTTP_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
SSHD_MATCH_KEYS = ("user", "host", "addr", "laddr", "lport", "rdomain")
REGISTRY_PATH = re.compile(r"^(?:HKLM|HKCU|HKCR|HKU|HKCC):\\|^Registry::", re.IGNORECASE)
PS_ENDS_WITH_JSON = re.compile(r"ConvertTo-Json\b[^|;\n]*\s*$", re.IGNORECASE)
JSON_PROPERTY = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|\d+)(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|\d+))*$")

#: expectation kinds; `ignore_case` is an option of the block, not an expectation
TEXT_KINDS = ("equals", "not_equals")
LIST_KINDS = ("in", "not_in")
REGEX_KINDS = ("regex", "not_regex")
NUMBER_KINDS = ("lt", "le", "gt", "ge")
EXPECTATION_KINDS = TEXT_KINDS + LIST_KINDS + REGEX_KINDS + NUMBER_KINDS + ("age_days", "absent", "present")

_CHECK_FIELDS = ("id", "title", "sop", "severity", "applies_to", "rationale", "remediation", "probe", "expect")


# ---------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Probe:
    """What to observe on a host. `target` is the kind's main value (see the table in docs/checks.md):

    command: the shell command; file: the path; sshd: the option, lowercased; package / service / sysctl /
    fact: the name; http: the URL; registry: the key path; powershell: the script.
    `property` is the file property, the registry value name, or the powershell JSON property path;
    `field` is the command's stdout|stderr|rc|lines or the http probe's status|body|header:NAME.
    """

    kind: str
    target: str
    property: str | None = None
    field: str | None = None
    extract: str | None = None
    match: str | None = None
    sshd_match: str | None = None
    process: str | None = None
    method: str = "GET"
    status: tuple[int, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    env: tuple[tuple[str, str], ...] = ()  # command: (NAME, template) pairs, rendered per host
    na_rc: int | None = None  # command: this exit code means "does not apply to this host"
    error_rc: int | None = None  # command: this exit code means "could not observe" (an error)
    line: int | None = _field(default=None, compare=False)


@dataclass(frozen=True)
class Expectation:
    """One condition on the observed value; `field` names a file stat field (file probe, no property).

    A number expectation (lt/le/gt/ge/age_days) may be a template of host variables, like
    `"{{ disk_used_max_pct | default(85) }}"`: its value is then that text until the runner renders it
    for one host (`templated` is true)."""

    kind: str
    value: Any  # str | tuple[str, ...] | float | True; str for a templated number
    ignore_case: bool = False
    field: str | None = None
    line: int | None = _field(default=None, compare=False)

    @property
    def templated(self) -> bool:
        return self.kind in NUMBER_KINDS + ("age_days",) and isinstance(self.value, str)


@dataclass(frozen=True)
class Remediation:
    """How to fix a failure: words, and optionally the playbook (and task) that does it."""

    text: str
    playbook: str | None = None
    task: str | None = None


@dataclass(frozen=True)
class AppliesTo:
    """Which hosts a check is for: an OS list (always set) and, optionally, inventory groups."""

    os: tuple[str, ...]
    groups: tuple[str, ...] = ()

    def reason_not(self, host_os: str, host_groups: Iterable[str]) -> str | None:
        """Why a host is out of scope, or None when the check applies to it."""
        if host_os not in self.os:
            return f"host OS {host_os} is not one of: {', '.join(self.os)}"
        if self.groups and not set(self.groups) & set(host_groups):
            return f"host is in none of the groups: {', '.join(self.groups)}"
        return None


@dataclass(frozen=True)
class Check:
    """One check: identity, SOP items, scope, one probe and the expectations that must all hold."""

    id: str
    title: str
    sop: tuple[str, ...]
    severity: str
    rationale: str
    remediation: Remediation
    probe: Probe
    expect: tuple[Expectation, ...]
    applies_to: AppliesTo
    path: str = _field(default="", compare=False)
    line: int | None = _field(default=None, compare=False)
    field_path: str = _field(default="id", compare=False)  # like checks[3].id, for error messages

    @property
    def where(self) -> str:
        """`file:line` of the check's definition."""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    @property
    def uses_host_vars(self) -> bool:
        """Whether the check has templates of host variables (probe `env`, templated numbers), which the
        runner renders for each host before probing."""
        return bool(self.probe.env) or any(e.templated for e in self.expect)


# -------------------------------------------------------------------------------------------- loading


def load_checks(source: str | Path | Iterable[str | Path], catalog: Catalog | None) -> list[Check]:
    """Load every check from a folder (each `*.yml`/`*.yaml` except `sop.yml`, sorted) or from files.

    Ids must be unique across all files and every `sop:` id must be an item of `catalog` (None skips
    that test). Raises InputError naming file, line and field; nothing is returned for a bad file.
    """
    files = _check_files(source)
    checks: list[Check] = []
    seen: dict[str, Check] = {}
    for path in files:
        for check in _load_file(path, catalog):
            if check.id in seen:
                first = seen[check.id]
                raise InputError(f"duplicate check id {check.id!r} (first defined at {first.where})",
                                 path=check.path, line=check.line, field=check.field_path)
            seen[check.id] = check
            checks.append(check)
    return checks


def _check_files(source: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            return sorted(p for p in path.iterdir()
                          if p.suffix in (".yml", ".yaml") and p.name != SOP_FILE and p.is_file())
        return [path]
    return [Path(p) for p in source if Path(p).name != SOP_FILE]


def _load_file(path: Path, catalog: Any | None) -> list[Check]:
    where = str(path)
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError(f"must be a mapping with a checks: list, not {describe(data)}", path=where,
                         line=getattr(data, "line", None))
    root = Fields(where, data)
    root.only("checks")
    entries = root.get("checks", list)
    checks = []
    local: dict[str, int | None] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise field_error(where, entries, index, f"must be a mapping (one check), not {describe(entry)}")
        check = _load_check(Fields(where, entry), catalog)
        if check.id in local:
            raise field_error(where, entry, "id",
                              f"duplicate check id {check.id!r} (first defined at {where}:{local[check.id]})")
        local[check.id] = check.line
        checks.append(check)
    return checks


def _load_check(fields: Fields, catalog: Any | None) -> Check:
    fields.only(*_CHECK_FIELDS)
    check_id = fields.text("id")
    if not CHECK_ID.match(check_id):
        raise fields.error("id", f"{check_id!r} is not a check id (kebab-case: lowercase letters, digits, "
                                 f"single dashes, like sshd-permit-root-login)")
    sop = _load_sop(fields, check_id, catalog)
    probe = _load_probe(fields)
    applies_to = _load_applies_to(fields, probe)
    expect = _load_expect(fields, probe)
    return Check(
        id=check_id, title=fields.text("title"), sop=sop, severity=fields.choice("severity", SEVERITIES),
        rationale=fields.text("rationale"), remediation=_load_remediation(fields.mapping("remediation")),
        probe=probe, expect=expect, applies_to=applies_to, path=fields.path, line=fields.node.line_of("id"),
        field_path=_dotted(tuple(fields.node.path) + ("id",)))


def _load_sop(fields: Fields, check_id: str, catalog: Any | None) -> tuple[str, ...]:
    ids = fields.texts("sop", required=True)
    if not ids:
        raise fields.error("sop", "must list at least one SOP item (like C.3)")
    node = fields.node["sop"]
    for index, sop_id in enumerate(ids):
        if sop_id in ids[:index]:
            raise field_error(fields.path, node, index, f"SOP item {sop_id!r} is listed twice")
    if catalog is not None:
        validate_check_refs(catalog, {check_id: node}, fields.path)
    return ids


def probe_oses(probe: Probe) -> tuple[str, ...]:
    """The OSes a probe can run on: its kind's, narrowed by a file path's style (/etc/... or C:\\...)."""
    if probe.kind == "file":
        return ("linux",) if probe.target.startswith("/") else ("windows",)
    return PROBE_OS[probe.kind]


def _load_applies_to(fields: Fields, probe: Probe) -> AppliesTo:
    supported = probe_oses(probe)
    block = fields.mapping("applies_to", required=False)
    if block is None:
        return AppliesTo(supported)
    block.only("os", "groups")
    oses = block.texts("os")
    for index, name in enumerate(oses):
        if name not in OSES:
            raise field_error(fields.path, block.node["os"], index, f"{name!r} is not one of: {', '.join(OSES)}")
        if name not in supported:
            what = f"{_a(probe.kind)} probe" if probe.kind != "file" else f"file {probe.target}"
            raise field_error(fields.path, block.node["os"], index,
                              f"{what} does not run on {name} hosts (only on: {', '.join(supported)})")
    return AppliesTo(oses or supported, block.texts("groups"))


def _load_remediation(block: Fields) -> Remediation:
    block.only("text", "playbook", "task")
    task = block.text("task", required=False)
    playbook = block.text("playbook", required=False)
    if task is not None and playbook is None:
        raise block.error("task", "names a task of a playbook: give playbook: too")
    return Remediation(block.text("text"), playbook, task)


# --------------------------------------------------------------------------------------------- probes


def _load_probe(check: Fields) -> Probe:
    block = check.mapping("probe")
    kinds = [key for key in block.node if key in PROBE_OS]
    if not kinds:
        unknown = [key for key in block.node if key not in _all_probe_options()]
        if unknown:
            raise block.error(unknown[0], f"unknown probe kind; expected one of: {', '.join(PROBE_KINDS)}")
        raise check.error("probe", f"needs one probe kind: {', '.join(PROBE_KINDS)}")
    if len(kinds) > 1:
        raise block.error(kinds[1], f"a check has exactly one probe, and this one also has {kinds[0]}:")
    kind = kinds[0]
    allowed = (kind,) + _PROBE_OPTIONS[kind] + ("extract",) + (() if kind in _NO_TIMEOUT else ("timeout",))
    for key in block.node:
        if key not in allowed:
            what = "unknown probe kind or option" if key not in _all_probe_options() else \
                f"does not apply to {_a(kind)} probe"
            raise block.error(key, f"{what}; {_a(kind)} probe takes: {', '.join(allowed)}")
    probe = _PROBE_LOADERS[kind](block)
    timeout = _timeout(block, "timeout")
    if timeout is not None:
        if probe.kind == "http" and "timeout" in block.node[kind]:
            raise block.error("timeout", "give the timeout once, inside http: or here, not both")
        probe = _replace(probe, timeout=timeout)
    extract = block.get("extract", str, required=False)
    if extract is not None:
        _refuse_extract(block, probe)
        compiled = _regex(block, "extract")
        if compiled.groups != 1:
            raise block.error("extract", f"must have exactly one (group), it has {compiled.groups}")
        probe = _replace(probe, extract=extract)
    return _replace(probe, line=block.node.line_of(kind))


def _all_probe_options() -> set[str]:
    return {opt for opts in _PROBE_OPTIONS.values() for opt in opts} | {"extract", "timeout"}


def _refuse_extract(block: Fields, probe: Probe) -> None:
    if probe.kind == "command" and probe.field in ("rc", "lines"):
        raise block.error("extract", f"cannot apply to field {probe.field} (a number)")
    if probe.kind == "file" and probe.property not in ("content", "line"):
        raise block.error("extract", "applies to property content or line only")
    if probe.kind == "service":
        raise block.error("extract", "does not apply to a service probe (running|stopped|absent)")


def _a(kind: str) -> str:
    """`a command`, `an sshd`: the kind with its article."""
    return ("an " if kind in ("sshd", "http") else "a ") + kind


def _replace(probe: Probe, **changes: Any) -> Probe:
    from dataclasses import replace

    return replace(probe, **changes)


def _timeout(block: Fields, key: str) -> float | None:
    value = block.get(key, (int, float), required=False)
    if value is None:
        return None
    if isinstance(value, bool) or not 0 < value <= MAX_TIMEOUT:
        raise block.error(key, f"must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}")
    return float(value)


ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
RESERVED_ENV = ("LC_ALL", "LANG", "PATH", "HOME", "IFS", "SHELL", "ENV", "BASH_ENV")


def _probe_command(block: Fields) -> Probe:
    command = block.text("command")
    field_name = block.choice("field", COMMAND_FIELDS, required=False) or "stdout"
    env = _command_env(block)
    codes = {}
    for key in ("na_rc", "error_rc"):
        code = block.get(key, int, required=False)
        if code is not None and (isinstance(code, bool) or not 1 <= code <= 125):
            raise block.error(key, f"must be an exit code from 1 to 125 (0, 126 and 127 have their own "
                                   f"meaning), not {code}")
        codes[key] = code
    if codes["na_rc"] is not None and codes["na_rc"] == codes["error_rc"]:
        raise block.error("error_rc", "must differ from na_rc")
    if field_name == "rc" and any(code is not None for code in codes.values()):
        raise block.error("field", "field rc observes the exit code itself: na_rc/error_rc would hide it")
    return Probe("command", command, field=field_name, env=env, **codes)


def _command_env(block: Fields) -> tuple[tuple[str, str], ...]:
    """`env: {NAME: "text or {{ template }}"}`: environment variables of the command, rendered with the
    host's variables for each host (see docs/baseline-linux.md, "Host variables in checks")."""
    spec = block.mapping("env", required=False)
    if spec is None:
        return ()
    pairs = []
    for name in spec.node:
        if not isinstance(name, str) or not ENV_NAME.match(name) or name in RESERVED_ENV:
            raise spec.error(name, f"{name!r} is not a usable environment variable name (uppercase letters, "
                                   f"digits and _, not one of {', '.join(RESERVED_ENV)})")
        value = spec.node[name]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise spec.error(name, f"must be text (a template like \"{{{{ var }}}}\") or a number, not "
                                   f"{describe(value)}")
        text = str(value)
        _template_syntax(spec, name, text)
        pairs.append((name, text))
    return tuple(pairs)


def _template_syntax(block: Fields, key: Any, text: str) -> None:
    """Refuse a template that does not parse, at load time rather than on every host."""
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return
    import jinja2

    try:
        jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise block.error(key, f"bad template {text!r}: {exc.message}") from None


def _probe_file(block: Fields) -> Probe:
    path = block.text("file")
    if not (path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path)):
        raise block.error("file", f"{path!r} must be an absolute path (/etc/shadow, C:\\Windows\\...)")
    prop = block.choice("property", FILE_PROPERTIES, required=False)
    match = block.get("match", str, required=False)
    if prop == "line":
        if match is None:
            raise block.error("property", "property line needs match: REGEX (the line to find)")
        _regex(block, "match")
    elif match is not None:
        raise block.error("match", "applies to property: line only")
    if not path.startswith("/") and prop in ("mode", "group"):
        raise block.error("property", f"{prop} is a POSIX property; a Windows file has: "
                                      f"{', '.join(WINDOWS_FILE_PROPERTIES)}")
    return Probe("file", path, property=prop, match=match)


def _probe_sshd(block: Fields) -> Probe:
    option = block.text("sshd")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", option):
        raise block.error("sshd", f"{option!r} is not an sshd_config option name (like PermitRootLogin)")
    spec = block.text("sshd_match", required=False)
    if spec is not None:
        for part in spec.split(","):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in SSHD_MATCH_KEYS or not value.strip() or " " in part.strip():
                raise block.error("sshd_match", f"{spec!r} is not a connection spec for sshd -C: comma-separated "
                                                f"key=value with keys {', '.join(SSHD_MATCH_KEYS)} "
                                                f"(like user=root,host=pc-01,addr=192.0.2.5)")
        spec = ",".join(part.strip() for part in spec.split(","))
    return Probe("sshd", option.lower(), sshd_match=spec)


def _probe_package(block: Fields) -> Probe:
    name = block.text("package")
    if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?", name):
        raise block.error("package", f"{name!r} is not a Debian package name")
    return Probe("package", name)


_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:-]*$")


def _probe_service(block: Fields) -> Probe:
    name = block.text("service")
    if not _SERVICE_NAME.match(name):
        raise block.error("service", f"{name!r} is not a service name")
    process = block.text("process", required=False)
    if process is not None and not _SERVICE_NAME.match(process):
        raise block.error("process", f"{process!r} is not a process name")
    return Probe("service", name, process=process)


def _probe_sysctl(block: Fields) -> Probe:
    key = block.text("sysctl")
    if not re.fullmatch(r"[a-z0-9_]+(?:\.[A-Za-z0-9_-]+)+", key):
        raise block.error("sysctl", f"{key!r} is not a sysctl key (dotted, like net.ipv4.ip_forward)")
    return Probe("sysctl", key)


def _probe_fact(block: Fields) -> Probe:
    name = block.text("fact")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*", name):
        raise block.error("fact", f"{name!r} is not a fact name (like distribution or os_family)")
    return Probe("fact", name)


def _probe_http(block: Fields) -> Probe:
    spec = block.mapping("http")
    spec.only("url", "method", "status", "timeout")
    url = spec.text("url")
    if not re.match(r"^https?://[^/\s]+", url):
        raise spec.error("url", f"{url!r} is not an http:// or https:// URL")
    method = (spec.text("method", required=False) or "GET").upper()
    if method not in HTTP_METHODS:
        raise spec.error("method", f"must be one of {', '.join(HTTP_METHODS)}")
    field_name = block.text("field", required=False) or "status"
    if field_name not in ("status", "body") and not re.fullmatch(r"header:[A-Za-z0-9-]+", field_name):
        raise block.error("field", "must be status, body or header:NAME (like header:Last-Modified)")
    status = _statuses(spec)
    if status and field_name == "status":
        raise spec.error("status", "is what a body/header probe needs first; to judge the status itself, "
                                   "put it under expect: (like equals: 200)")
    timeout = _timeout(spec, "timeout")
    return Probe("http", url, field=field_name, method=method, status=status,
                 timeout=timeout if timeout is not None else DEFAULT_TIMEOUT)


def _statuses(spec: Fields) -> tuple[int, ...]:
    value = spec.get("status", (int, list), required=False)
    if value is None:
        return ()
    values = value if isinstance(value, list) else [value]
    for index, code in enumerate(values):
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            node, key = (spec.node["status"], index) if isinstance(value, list) else (spec.node, "status")
            raise field_error(spec.path, node, key, f"{code!r} is not an HTTP status (100-599)")
    return tuple(values)


def _probe_registry(block: Fields) -> Probe:
    spec = block.mapping("registry")
    spec.only("path", "name")
    path = spec.text("path")
    if not REGISTRY_PATH.match(path):
        raise spec.error("path", f"{path!r} is not a registry path (like 'HKLM:\\SOFTWARE\\OpenSSH')")
    name = spec.get("name", str)
    return Probe("registry", path, property=name)


def _probe_powershell(block: Fields) -> Probe:
    spec = block.mapping("powershell")
    spec.only("script", "property")
    script = spec.text("script")
    if not PS_ENDS_WITH_JSON.search(script.rstrip()):
        raise spec.error("script", "must end with ConvertTo-Json (its output is read as JSON)")
    prop = spec.text("property")
    if not JSON_PROPERTY.match(prop):
        raise spec.error("property", f"{prop!r} is not a property path (like AntivirusEnabled or Status.Name)")
    return Probe("powershell", script, property=prop)


_PROBE_LOADERS = {
    "command": _probe_command, "file": _probe_file, "sshd": _probe_sshd, "package": _probe_package,
    "service": _probe_service, "sysctl": _probe_sysctl, "fact": _probe_fact, "http": _probe_http,
    "registry": _probe_registry, "powershell": _probe_powershell,
}


# --------------------------------------------------------------------------------------- expectations


def _load_expect(fields: Fields, probe: Probe) -> tuple[Expectation, ...]:
    block = fields.mapping("expect")
    grouped = probe.kind == "file" and probe.property is None
    stat_fields = FILE_STAT_FIELDS if probe.target.startswith("/") else WINDOWS_STAT_FIELDS
    allowed = EXPECTATION_KINDS + ("ignore_case",)
    for key in block.node:
        if key in allowed or (grouped and key in stat_fields):
            continue
        hint = (f"; a file probe without property: takes absent/present and a block per field: "
                f"{', '.join(stat_fields)}") if grouped else ""
        raise block.error(key, f"unknown expectation; expected one of: {', '.join(allowed)}{hint}")
    expectations = _expectations(block, probe, None, grouped=grouped)
    for name in stat_fields if grouped else ():
        sub = block.mapping(name, required=False)
        if sub is None:
            continue
        for key in sub.node:
            if key not in allowed or key in ("absent", "present"):
                raise sub.error(key, "unknown expectation for a field; expected one of: "
                                     f"{', '.join(k for k in allowed if k not in ('absent', 'present'))}")
        field_expectations = _expectations(sub, probe, name, grouped=False)
        if not field_expectations:
            raise block.error(name, "needs at least one expectation")
        expectations += field_expectations
    if not expectations:
        raise fields.error("expect", "needs at least one expectation: " + ", ".join(EXPECTATION_KINDS))
    if any(e.kind == "absent" for e in expectations) and len(expectations) > 1:
        raise block.error("absent", "absent: true must stand alone (absence is then the expected state)")
    if grouped and not any(e.kind in ("absent", "present") or e.field for e in expectations):
        raise fields.error("expect", "a file probe without property: needs absent/present or a field block")
    return tuple(expectations)


def _expectations(block: Fields, probe: Probe, field_name: str | None, grouped: bool) -> list[Expectation]:
    ignore_case = block.flag("ignore_case")
    out = []
    for kind in EXPECTATION_KINDS:
        if kind not in block.node:
            continue
        if grouped and kind not in ("absent", "present"):
            raise block.error(kind, f"a file probe without property: observes several fields; put {kind} "
                                    f"under a field (like mode:), or set property:")
        value = _expectation_value(block, kind, probe, field_name)
        out.append(Expectation(kind, value, ignore_case, field_name, block.node.line_of(kind)))
    if "ignore_case" in block.node and not any(e.kind in TEXT_KINDS + LIST_KINDS + REGEX_KINDS for e in out):
        raise block.error("ignore_case", "applies to equals, not_equals, in, not_in, regex and not_regex only")
    return out


_BOOL_HINT = ("YAML reads unquoted yes/no/true/false/on/off as a boolean; quote the value as the host "
              "prints it (like \"no\" or \"true\")")


def _expectation_value(block: Fields, kind: str, probe: Probe, field_name: str | None) -> Any:
    raw = block.node[kind]
    is_mode = field_name == "mode" or (probe.kind == "file" and probe.property == "mode")
    if kind in ("absent", "present"):
        if raw is not True:
            raise block.error(kind, f"must be true ({'present: true' if kind == 'absent' else 'absent: true'} "
                                    f"states the opposite)")
        return True
    if kind in TEXT_KINDS:
        return _scalar_text(block, block.node, kind, raw, is_mode)
    if kind in LIST_KINDS:
        if not isinstance(raw, list) or not raw:
            raise block.error(kind, f"must be a non-empty list, not {describe(raw)}")
        return tuple(_scalar_text(block, raw, index, item, is_mode) for index, item in enumerate(raw))
    if kind in REGEX_KINDS:
        _regex(block, kind)
        return raw
    # numbers: lt/le/gt/ge, age_days; or a template of host variables, rendered per host by the runner
    if isinstance(raw, str) and "{{" in raw:
        _template_syntax(block, kind, raw)
        return raw
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise block.error(kind, f"must be a number, not {describe(raw)} (a host variable is written as a "
                                f"template: \"{{{{ max_days | default(7) }}}}\")")
    if kind == "age_days" and raw < 0:
        raise block.error(kind, "must not be negative")
    return float(raw)


def _scalar_text(block: Fields, node: Any, key: Any, value: Any, is_mode: bool) -> str:
    if isinstance(value, bool):
        raise field_error(block.path, node, key, _BOOL_HINT)
    if is_mode:
        if not isinstance(value, str):
            raise field_error(block.path, node, key, f"quote the mode, like \"0640\" (YAML reads {value!r} "
                                                     f"as a number)")
        if not re.fullmatch(r"[0-7]{3,4}", value):
            raise field_error(block.path, node, key, f"{value!r} is not an octal mode like \"0640\"")
        return f"{int(value, 8):04o}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # as observed numbers are shown: 1.0 reads 1
    if isinstance(value, (int, float, str)):
        return str(value)
    raise field_error(block.path, node, key, f"must be a plain value (text or number), not {describe(value)}")


def _regex(block: Fields, key: str) -> re.Pattern[str]:
    pattern = block.node[key]
    if not isinstance(pattern, str):
        raise block.error(key, f"must be a regular expression (text), not {describe(pattern)}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise block.error(key, f"bad regular expression {pattern!r}: {exc}") from None


# ------------------------------------------------------------------------------- typed field access


__all__ = [
    "AppliesTo", "Check", "EXPECTATION_KINDS", "Expectation", "PROBE_KINDS", "PROBE_OS", "Probe",
    "Remediation", "SEVERITIES", "load_checks",
]
