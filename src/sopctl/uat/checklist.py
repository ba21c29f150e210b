"""UAT checklists (`checks/uat/<app>.yml`) and manual answers files, loaded and validated.

A checklist describes one application (name, version, owner, the hosts it runs on, its URL) and its test
steps: automated ones (http, login, tls, tcp, command, service, file, database) and manual ones (a question
for the tester). See docs/uat.md for every field. Every mistake is an `InputError` naming file, line and
field (`checks/uat/sipp.yml:14: steps[2].http.status: must be an integer ...`); nothing is run for a bad file.

An answers file (`--answers FILE`) gives the manual steps' results for a non-interactive run:

    cetak-laporan: {result: pass, comment: "PDF terbuka", evidence: bukti/cetak.png}

Its ids must be exactly the checklist's manual steps: missing and unknown ids are one error naming them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sopctl import yamlsrc
from sopctl.errors import InputError, UsageError
from sopctl.inventory.model import VaultValue
from sopctl.yamlsrc import TYPE_NAMES, Fields, Node, describe, field_error

SCHEMA_VERSION = 1
DEFAULT_TIMEOUT = 10.0
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$")
STEP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

AUTOMATED_KINDS = ("http", "login", "tls", "tcp", "command", "service", "file", "database")
KINDS = (*AUTOMATED_KINDS, "manual")
HOST_KINDS = ("command", "service", "file")          # always run on the application's hosts
ANSWER_RESULTS = ("pass", "fail", "skip")
DB_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "sqlserver": 1433, "oracle": 1521,
            "mongodb": 27017, "redis": 6379}
DB_ENGINES = ("sqlite", "tcp", *DB_PORTS)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


# ------------------------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class TextExpect:
    """What a text (a body, a command's stdout, a file) must hold: every condition must be met."""

    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    regex: tuple[re.Pattern, ...] = ()
    equals: str | None = None

    def __bool__(self) -> bool:
        return bool(self.contains or self.not_contains or self.regex or self.equals is not None)

    def describe(self) -> list[str]:
        out = [f"contains {c!r}" for c in self.contains]
        out += [f"does not contain {c!r}" for c in self.not_contains]
        out += [f"matches /{r.pattern}/" for r in self.regex]
        if self.equals is not None:
            out.append(f"equals {self.equals!r}")
        return out

    def problems(self, text: str) -> list[str]:
        """What does not hold for `text` (empty: all hold)."""
        out = [f"{c!r} not found" for c in self.contains if c not in text]
        out += [f"{c!r} found" for c in self.not_contains if c in text]
        out += [f"no match for /{r.pattern}/" for r in self.regex if not r.search(text)]
        if self.equals is not None and text.strip() != self.equals:
            out.append(f"is {_short(text.strip())!r}, not {self.equals!r}")
        return out


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class HttpSpec:
    url: str                       # absolute (the checklist's url joined with `path`)
    method: str
    status: tuple[int, ...]
    expect: TextExpect
    redirect: str | None           # expected Location, absolute
    follow: bool
    max_ms: float | None


@dataclass(frozen=True)
class PageSpec:
    url: str
    status: tuple[int, ...]
    expect: TextExpect


@dataclass(frozen=True)
class LoginSpec:
    form_url: str                  # GET first: the form page (its fields must be there)
    post_url: str                  # where the form posts
    username_field: str
    password_field: str
    username: str | VaultValue
    password: VaultValue | None    # a !vault value ...
    password_var: str | None       # ... or the name of a vault variable
    extra: tuple[tuple[str, str], ...]
    status: tuple[int, ...]        # accepted statuses of the POST
    cookie: str | None             # the session cookie's name, when it must be a particular one
    then: PageSpec                 # the page behind the login, fetched with the session cookie


@dataclass(frozen=True)
class TlsSpec:
    host: str
    port: int
    days: int


@dataclass(frozen=True)
class TcpSpec:
    host: str
    port: int
    state: str                     # open | closed


@dataclass(frozen=True)
class CommandSpec:
    run: str
    rc: int
    expect: TextExpect


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    process: str
    state: str                     # running | stopped


@dataclass(frozen=True)
class FileSpec:
    path: str
    state: str                     # present | absent
    type: str | None
    mode: str | None
    owner: str | None
    expect: TextExpect


@dataclass(frozen=True)
class DatabaseSpec:
    engine: str
    path: str | None               # sqlite: the database file on the hosts
    host: str | None
    port: int | None
    origin: str                    # controller | hosts: where a TCP connect is made from


@dataclass(frozen=True)
class ManualSpec:
    question: str
    pass_when: str


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    title: str
    spec: Any
    optional: bool = False
    timeout: float = DEFAULT_TIMEOUT
    hosts: str | None = None       # inventory pattern, for steps that run on hosts
    line: int | None = field(default=None, compare=False)

    @property
    def manual(self) -> bool:
        return self.kind == "manual"

    @property
    def on_hosts(self) -> bool:
        if self.kind in HOST_KINDS:
            return True
        return self.kind == "database" and (self.spec.engine == "sqlite" or self.spec.origin == "hosts")


@dataclass(frozen=True)
class Checklist:
    name: str
    version: str
    owner: str
    steps: tuple[Step, ...]
    path: str
    sha256: str
    title: str | None = None
    description: str | None = None
    url: str | None = None
    hosts: str | None = None
    start: _dt.date | None = None
    tls_verify: bool = True
    ca_file: str | None = None
    vault_file: str | None = None

    @property
    def record(self) -> str:
        """The record id of this application version in the workflow evidence: `name@version`."""
        return record_id(self.name, self.version)

    @property
    def manual_steps(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.manual)

    @property
    def host_patterns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for step in self.steps:
            if step.on_hosts and step.hosts:
                seen[step.hosts] = None
        return tuple(seen)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def record_id(name: str, version: str) -> str:
    return f"{name}@{version}"


@dataclass(frozen=True)
class Answer:
    """A manual step's answer: from the terminal or from an answers file."""

    result: str                    # pass | fail | skip
    comment: str = ""
    evidence: Path | None = None
    line: int | None = None


# ------------------------------------------------------------------------------------ YAML with !vault


class _Loader(yamlsrc._TrackingLoader):  # type: ignore[misc, valid-type]
    """yamlsrc's line-tracking loader, plus `!vault` values kept encrypted (as the inventory keeps them)."""


def _construct_vault(loader: _Loader, node: yaml.Node) -> VaultValue:
    if not isinstance(node, yaml.ScalarNode):
        raise InputError("a !vault value must be the encrypted text block", path=loader.source_path,
                         line=node.start_mark.line + 1)
    return VaultValue(str(loader.construct_scalar(node)))


_Loader.add_constructor("!vault", _construct_vault)


def load_yaml(path: str | Path) -> Any:
    """`sopctl.yamlsrc.load_yaml`, accepting `!vault` values (kept as `VaultValue`, not decrypted)."""
    return _load(Path(path), str(path))


def _load(path: Path, shown: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=shown) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=shown) from None
    loader = _Loader(text)
    loader.source_path = shown
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise yamlsrc._yaml_error(shown, exc) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=shown) from None
    finally:
        loader.dispose()
    yamlsrc._assign_paths(data, (), set())
    return data


# ------------------------------------------------------------------------------------- typed fields

class _Fields(Fields):
    """A checklist's reads: fields are optional unless said, flags and choices have defaults, `texts`
    takes one text or a list, and types are named for the testers who write checklists."""

    type_names = {**TYPE_NAMES, str: "text", VaultValue: "a !vault value"}

    def get(self, key: str, kinds: tuple[type, ...], required: bool = False) -> Any:
        return super().get(key, kinds, required)

    def text(self, key: str, required: bool = False) -> str | None:
        return super().text(key, required)

    def integer(self, key: str, required: bool = False, low: int | None = None,
                high: int | None = None) -> int | None:
        return super().integer(key, required, low, high)

    def number(self, key: str, required: bool = False, positive: bool = True) -> float | None:
        value = self.get(key, (int, float), required)
        if value is not None and positive and value <= 0:
            raise self.error(key, "must be more than 0")
        return None if value is None else float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, (bool,))
        return default if value is None else value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        value = super().choice(key, choices, required=False)
        return default if value is None else value

    def mapping(self, key: str, required: bool = False) -> _Fields | None:
        return super().mapping(key, required)

    def texts(self, key: str) -> tuple[str, ...]:
        """Text or a list of texts."""
        value = self.node.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            if not value:
                raise self.error(key, "must not be empty")
            return (value,)
        if not isinstance(value, list):
            raise self.error(key, f"must be text or a list of texts, not {describe(value, self.type_names)}")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise field_error(self.path, value, index, f"must be non-empty text, not {describe(item, self.type_names)}"
                                  + (" (quote it)" if isinstance(item, (bool, int, float)) else ""))
        return tuple(value)

    def regexes(self, key: str) -> tuple[re.Pattern, ...]:
        out = []
        node = self.node.get(key)
        for index, pattern in enumerate(self.texts(key)):
            try:
                out.append(re.compile(pattern))
            except re.error as exc:
                if isinstance(node, list):
                    raise field_error(self.path, node, index, f"bad regular expression {pattern!r}: {exc}") from None
                raise self.error(key, f"bad regular expression {pattern!r}: {exc}") from None
        return tuple(out)

    def statuses(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self.node.get(key)
        if value is None:
            return default
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool) or not isinstance(item, int) or not 100 <= item <= 599:
                raise self.error(key, f"must be an HTTP status (100-599) or a list of them, not {item!r}")
        if not values:
            raise self.error(key, "must name at least one status")
        return tuple(values)

    def text_expect(self, *, equals: bool = False) -> TextExpect:
        return TextExpect(self.texts("contains"), self.texts("not_contains"), self.regexes("regex"),
                          self.text("equals") if equals else None)


TEXT_KEYS = ("contains", "not_contains", "regex")


# ------------------------------------------------------------------------------------------ checklist


def find_checklist(folder: str | Path, app: str) -> Path:
    """`folder/<app>.yml` (or `.yaml`); `app` must be a plain application name."""
    if not NAME.match(app or ""):
        raise UsageError(f"--app {app!r}: an application name is lowercase letters, digits, '.', '_' or '-'")
    folder = Path(folder)
    for suffix in (".yml", ".yaml"):
        path = folder / f"{app}{suffix}"
        if path.is_file():
            return path
    known = sorted(p.stem for p in folder.glob("*.y*ml")) if folder.is_dir() else []
    raise UsageError(f"no checklist for {app!r} in {folder} (expected {folder / (app + '.yml')}); "
                     f"known applications: {', '.join(known) or 'none'}")


def checklist_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file()
                  and not p.name.endswith((".vault.yml", ".vault.yaml")))


def load_checklist(path: str | Path, shown: str | None = None) -> Checklist:
    """Load and validate one checklist; InputError (file, line, field) on the first problem.

    `shown` is how the file is named in messages and records (e.g. relative to the project)."""
    path = Path(path)
    shown = shown or str(path)
    data = _load(path, shown)
    if not isinstance(data, Node):
        raise InputError("a UAT checklist must be a mapping (name, version, owner, steps ...)", path=shown, line=1)
    root = _Fields(shown, data)
    root.only("schema", "name", "title", "description", "version", "owner", "hosts", "url", "start", "timeout",
              "tls", "vault_file", "steps")
    schema = root.integer("schema")
    if schema is not None and schema != SCHEMA_VERSION:
        raise root.error("schema", f"must be {SCHEMA_VERSION}, the version this sopctl reads")
    name = root.text("name", required=True)
    if not NAME.match(name):
        raise root.error("name", f"{name!r}: use lowercase letters, digits, '.', '_' or '-' (it names files)")
    if name != path.stem:
        raise root.error("name", f"{name!r} differs from the file name {path.name}: name the file {name}.yml")
    version = root.text("version", required=True)
    if not VERSION.match(version):
        raise root.error("version", f"{version!r}: use letters, digits, '.', '_', '+', '~' or '-' (it names files)")
    owner = root.text("owner", required=True)
    url = root.text("url")
    if url is not None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise root.error("url", f"{url!r} is not an http:// or https:// address with a host")
    hosts = root.text("hosts")
    start = data.get("start")
    if start is not None and not (isinstance(start, _dt.date) and not isinstance(start, _dt.datetime)):
        raise root.error("start", "must be a date (YYYY-MM-DD): the first day of the implementation (SOP 'Hari ke 1')")
    timeout = root.number("timeout") or DEFAULT_TIMEOUT
    tls_verify, ca_file = True, None
    tls = root.mapping("tls")
    if tls is not None:
        tls.only("verify", "ca_file")
        tls_verify = tls.flag("verify", True)
        ca_name = tls.text("ca_file")
        if ca_name is not None:
            ca_path = _relative(path, ca_name)
            if not ca_path.is_file():
                raise tls.error("ca_file", f"no such file: {ca_path}")
            ca_file = str(ca_path)
    vault_file = None
    vault_name = root.text("vault_file")
    if vault_name is not None:
        vault_path = _relative(path, vault_name)
        if not vault_path.is_file():
            raise root.error("vault_file", f"no such file: {vault_path}")
        vault_file = str(vault_path)
    steps_node = root.get("steps", (list,), required=True)
    if not steps_node:
        raise root.error("steps", "must list at least one step")
    context = _Context(shown, url, hosts, timeout)
    steps: list[Step] = []
    seen: dict[str, int | None] = {}
    for index, node in enumerate(steps_node):
        if not isinstance(node, Node):
            raise field_error(shown, steps_node, index, f"a step must be a mapping, not {describe(node, _Fields.type_names)}")
        step = _load_step(_Fields(shown, node), context)
        if step.id in seen:
            raise field_error(shown, node, "id", f"duplicate step id {step.id!r} (first at line {seen[step.id]})")
        seen[step.id] = step.line
        steps.append(step)
    return Checklist(name=name, version=version, owner=owner, steps=tuple(steps), path=shown,
                     sha256=hashlib.sha256(path.read_bytes()).hexdigest(), title=root.text("title"),
                     description=root.text("description"), url=url, hosts=hosts, start=start,
                     tls_verify=tls_verify, ca_file=ca_file, vault_file=vault_file)


def _relative(checklist: Path, name: str) -> Path:
    given = Path(name).expanduser()
    return given if given.is_absolute() else checklist.parent / given


@dataclass(frozen=True)
class _Context:
    path: str
    url: str | None
    hosts: str | None
    timeout: float


def _load_step(step: _Fields, ctx: _Context) -> Step:
    kinds = [key for key in step.node if key in KINDS]
    common = ("id", "title", "optional", "timeout", "hosts")
    if not kinds:
        for key in step.node:
            if key not in common:
                raise step.error(key, f"unknown field; a step has {', '.join(common)} and one kind: "
                                      f"{', '.join(KINDS)}")
    if len(kinds) != 1:
        where = step.error(kinds[1] if len(kinds) > 1 else None,
                           f"a step needs exactly one kind ({', '.join(KINDS)}); "
                           + (f"it has {', '.join(kinds)}" if kinds else "it has none"))
        raise where
    kind = kinds[0]
    step.only(*common, kind)
    step_id = step.text("id", required=True)
    if not STEP_ID.match(step_id):
        raise step.error("id", f"{step_id!r}: use letters, digits, '.', '_' or '-'")
    hosts = step.text("hosts") or ctx.hosts
    if "hosts" in step.node and kind in ("http", "login", "tls", "tcp", "manual"):
        raise step.error("hosts", f"a {kind} step runs on the control machine, not on hosts")
    timeout = step.number("timeout") or ctx.timeout
    block_node = step.node.get(kind)
    if not isinstance(block_node, Node):
        raise step.error(kind, f"must be a mapping of the {kind} step's options, not {describe(block_node, _Fields.type_names)}")
    block = _Fields(ctx.path, block_node)
    spec = _SPECS[kind](block, ctx)
    built = Step(step_id, kind, step.text("title") or _default_title(kind, spec), spec,
                 optional=step.flag("optional", False), timeout=timeout, hosts=hosts, line=step.node.line)
    if built.on_hosts and not hosts:
        raise step.error(kind, f"a {kind} step runs on the application's hosts: give `hosts:` (an inventory "
                               "pattern) at the top of the checklist or in the step")
    return built


def _default_title(kind: str, spec: Any) -> str:
    if kind == "http":
        return f"{spec.method} {spec.url}"
    if kind == "login":
        return f"login at {spec.post_url}"
    if kind == "tls":
        return f"TLS certificate of {spec.host}:{spec.port}"
    if kind == "tcp":
        return f"TCP {spec.host}:{spec.port} {spec.state}"
    if kind == "command":
        return spec.run
    if kind == "service":
        return f"service {spec.name} {spec.state}"
    if kind == "file":
        return f"{spec.path} {spec.state}"
    if kind == "database":
        return f"{spec.engine} {spec.path or f'{spec.host}:{spec.port}'}"
    return spec.question


def _url(block: _Fields, ctx: _Context, path_key: str = "path", url_key: str = "url",
         required: bool = True) -> str | None:
    absolute = block.text(url_key) if url_key else None
    relative = block.text(path_key)
    if absolute and relative:
        raise block.error(url_key, f"give {url_key} or {path_key}, not both")
    if absolute:
        parts = urllib.parse.urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise block.error(url_key, f"{absolute!r} is not an http:// or https:// address with a host")
        return absolute
    if relative is None:
        if not required:
            return None
        if ctx.url is None:
            raise block.error(path_key, f"is required (or {url_key}: an absolute address)")
        return ctx.url
    if ctx.url is None:
        raise block.error(path_key, "a path needs the checklist's `url:` (or give an absolute `url:` here)")
    return urllib.parse.urljoin(ctx.url, relative)


def _controller_host(block: _Fields, ctx: _Context, key: str = "host") -> str:
    host = block.text(key)
    if host:
        return host
    if ctx.url is None:
        raise block.error(key, "is required (the checklist has no url to take it from)")
    return urllib.parse.urlsplit(ctx.url).hostname or ""


def _url_port(ctx: _Context) -> int | None:
    if ctx.url is None:
        return None
    parts = urllib.parse.urlsplit(ctx.url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def _http(block: _Fields, ctx: _Context) -> HttpSpec:
    block.only("path", "url", "method", "status", "redirect", "follow", *TEXT_KEYS, "max_ms")
    url = _url(block, ctx)
    method = block.choice("method", ("GET", "HEAD"), "GET")
    redirect = block.text("redirect")
    follow = block.flag("follow", redirect is None)
    if redirect is not None and follow:
        raise block.error("follow", "a redirect is checked on the first answer: it cannot be followed too")
    status = block.statuses("status", REDIRECT_STATUSES if redirect is not None else (200,))
    expect = block.text_expect()
    if method == "HEAD" and expect:
        raise block.error("method", "a HEAD answer has no body to check contains/regex on")
    return HttpSpec(url, method, status, expect,
                    urllib.parse.urljoin(url, redirect) if redirect is not None else None, follow,
                    block.number("max_ms"))


def _login(block: _Fields, ctx: _Context) -> LoginSpec:
    block.only("path", "url", "form", "fields", "username", "password", "password_var", "extra", "status",
               "cookie", "then")
    post_url = _url(block, ctx)
    form = block.text("form")
    form_url = urllib.parse.urljoin(post_url, form) if form else post_url
    fields = block.mapping("fields", required=True)
    fields.only("username", "password")
    username_field = fields.text("username", required=True)
    password_field = fields.text("password", required=True)
    username = block.get("username", (str, VaultValue), required=True)
    password = block.node.get("password")
    password_var = block.text("password_var")
    if password is not None and password_var is not None:
        raise block.error("password_var", "give password (a !vault value) or password_var, not both")
    if password is None and password_var is None:
        raise block.error("password", "is required: a !vault value, or password_var naming a vault variable")
    if password is not None and not isinstance(password, VaultValue):
        raise block.error("password", "must not be written in plain text: encrypt it (`sopctl vault.encrypt-string"
                                      " --name password`) and paste the `!vault |` block, or use password_var")
    extra: list[tuple[str, str]] = []
    extra_block = block.mapping("extra")
    if extra_block is not None:
        for key in extra_block.node:
            extra.append((str(key), str(extra_block.text(key, required=True))))
    then_block = block.mapping("then", required=True)
    then_block.only("path", "url", "status", *TEXT_KEYS)
    then = PageSpec(_url(then_block, ctx), then_block.statuses("status", (200,)), then_block.text_expect())
    return LoginSpec(form_url, post_url, username_field, password_field, username, password, password_var,
                     tuple(extra), block.statuses("status", (200, 302, 303)), block.text("cookie"), then)


def _tls(block: _Fields, ctx: _Context) -> TlsSpec:
    block.only("host", "port", "days")
    host = _controller_host(block, ctx)
    port = block.integer("port", low=1, high=65535) or _url_port(ctx)
    if port is None:
        raise block.error("port", "is required (the checklist has no url to take it from)")
    days = block.integer("days", low=0)
    return TlsSpec(host, port, 30 if days is None else days)


def _tcp(block: _Fields, ctx: _Context) -> TcpSpec:
    block.only("host", "port", "state")
    port = block.integer("port", required=True, low=1, high=65535)
    return TcpSpec(_controller_host(block, ctx), port, block.choice("state", ("open", "closed"), "open"))


def _command(block: _Fields, ctx: _Context) -> CommandSpec:
    block.only("run", "rc", "equals", *TEXT_KEYS)
    rc = block.integer("rc", low=0, high=255)
    return CommandSpec(block.text("run", required=True), 0 if rc is None else rc, block.text_expect(equals=True))


def _service(block: _Fields, ctx: _Context) -> ServiceSpec:
    block.only("name", "process", "state")
    name = block.text("name", required=True)
    return ServiceSpec(name, block.text("process") or name, block.choice("state", ("running", "stopped"), "running"))


def _file(block: _Fields, ctx: _Context) -> FileSpec:
    block.only("path", "state", "type", "mode", "owner", *TEXT_KEYS)
    path = block.text("path", required=True)
    if not path.startswith("/"):
        raise block.error("path", f"{path!r}: give an absolute path on the host")
    mode = block.text("mode")
    if mode is not None and not re.fullmatch(r"0?[0-7]{3}", mode):
        raise block.error("mode", f"{mode!r}: give octal digits in quotes, like \"0640\"")
    state = block.choice("state", ("present", "absent"), "present")
    expect = block.text_expect()
    if state == "absent" and (expect or mode or block.node.get("type") or block.node.get("owner")):
        raise block.error("state", "an absent file has no type, mode, owner or content to check")
    return FileSpec(path, state, block.choice("type", ("file", "directory", "link")),
                    mode.rjust(4, "0") if mode else None, block.text("owner"), expect)


def _database(block: _Fields, ctx: _Context) -> DatabaseSpec:
    block.only("engine", "path", "host", "port", "from")
    engine = block.choice("engine", DB_ENGINES)
    if engine is None:
        raise block.error("engine", f"is required: one of {', '.join(DB_ENGINES)}")
    if engine == "sqlite":
        for key in ("host", "port", "from"):
            if key in block.node:
                raise block.error(key, "a sqlite database is a file on the application's hosts: give path only")
        path = block.text("path", required=True)
        if not path.startswith("/"):
            raise block.error("path", f"{path!r}: give an absolute path on the host")
        return DatabaseSpec(engine, path, None, None, "hosts")
    if "path" in block.node:
        raise block.error("path", f"a {engine} database is reached over TCP: give host and port, not path")
    origin = block.choice("from", ("controller", "hosts"), "controller")
    port = block.integer("port", low=1, high=65535) or DB_PORTS.get(engine)
    if port is None:
        raise block.error("port", "is required for engine tcp")
    host = block.text("host") or ("127.0.0.1" if origin == "hosts" else _controller_host(block, ctx))
    return DatabaseSpec(engine, None, host, port, origin)


def _manual(block: _Fields, ctx: _Context) -> ManualSpec:
    block.only("question", "pass_when")
    return ManualSpec(block.text("question", required=True), block.text("pass_when", required=True))


_SPECS = {"http": _http, "login": _login, "tls": _tls, "tcp": _tcp, "command": _command, "service": _service,
          "file": _file, "database": _database, "manual": _manual}


# -------------------------------------------------------------------------------------------- answers


def load_answers(path: str | Path, checklist: Checklist) -> dict[str, Answer]:
    """The answers file for `checklist`'s manual steps. Missing and unknown step ids are ONE InputError
    naming all of them; evidence paths are relative to the answers file and must exist."""
    path = Path(path)
    shown = str(path)
    data = _load(path, shown)
    manual = [step.id for step in checklist.manual_steps]
    if data is None:
        data = Node()
    if not isinstance(data, Node):
        raise InputError("an answers file is a mapping: step id -> {result, comment, evidence}", path=shown, line=1)
    keys = [str(key) for key in data]
    unknown = [key for key in keys if key not in manual]
    missing = [step_id for step_id in manual if step_id not in keys]
    if unknown or missing:
        automated = [key for key in unknown if any(s.id == key for s in checklist.steps)]
        parts = []
        if missing:
            parts.append(f"missing answers for manual step(s): {', '.join(missing)}")
        if unknown:
            text = f"unknown step id(s): {', '.join(unknown)}"
            if automated:
                text += f" ({', '.join(automated)} {'is' if len(automated) == 1 else 'are'} automated)"
            parts.append(text)
        parts.append(f"the manual steps of {checklist.name} {checklist.version} are: {', '.join(manual) or 'none'}")
        first = data.line_of(unknown[0]) if unknown else None
        raise InputError("; ".join(parts), path=shown, line=first or 1)
    answers: dict[str, Answer] = {}
    for key in keys:
        node = data[key]
        if not isinstance(node, Node):
            raise field_error(shown, data, key, "must be a mapping: {result: pass|fail|skip, comment, evidence}")
        block = _Fields(shown, node)
        block.only("result", "comment", "evidence")
        result = block.choice("result", ANSWER_RESULTS)
        if result is None:
            raise block.error("result", f"is required: one of {', '.join(ANSWER_RESULTS)}")
        comment = block.get("comment", (str,)) or ""
        if result != "pass" and not comment.strip():
            raise block.error("comment", f"is required for a {result} result: say why")
        evidence = None
        name = block.text("evidence")
        if name is not None:
            evidence = _relative(path, name)
            if not evidence.is_file():
                raise block.error("evidence", f"no such file: {evidence}")
        answers[key] = Answer(result, comment.strip(), evidence, data.line_of(key))
    return answers


__all__ = [
    "AUTOMATED_KINDS", "Answer", "Checklist", "CommandSpec", "DatabaseSpec", "FileSpec", "HttpSpec", "KINDS",
    "LoginSpec", "ManualSpec", "PageSpec", "ServiceSpec", "Step", "TcpSpec", "TextExpect", "TlsSpec",
    "checklist_files", "find_checklist", "load_answers", "load_checklist", "load_yaml", "record_id",
]
