"""Ansible-compatible Jinja2 templating: `{{ ... }}` in task fields, `when:` conditions, lazy variables.

One `Templar` wraps one host's variables. `render()` walks dicts and lists and renders every string that
contains `{{`, `{%` or `{#`; a string that is exactly one `{{ expr }}` gives the expression's native value
(a list stays a list, `8080` stays an int), anything else gives a string. `evaluate()` and `is_true()` take
the bare expressions of `when`, `that`, `changed_when`, `failed_when` and `until`.

Rules that make it Ansible-compatible (see docs/templating.md for the full list and the differences):

* Variables are templated lazily: a variable whose value is itself `"{{ other }}"` is rendered when it is
  used, with the same variables, and a loop (`a: "{{ b }}"`, `b: "{{ a }}"`) is an error naming the loop.
* An undefined variable is an error naming it (`undefined variable 'foo'`), except under `default`/`d`,
  `is defined`/`is undefined` and `mandatory`, which see it as undefined - also at the end of an
  attribute chain (`foo.bar.baz | default(1)` when `foo` or `foo.bar` is missing).
* `omit` is a unique placeholder string; `strip_omit()` drops the arguments that rendered to it.

Secrets: a `Secret` (or, when the Templar has a vault, a `VaultValue`) reached through a variable renders
as its real text, because the command that runs needs it; every render call records whether it touched
one (`touched_secret`, or the second item of `render_tainted()`), so the caller can hide that task's
output as if it had `no_log: true`. `render()` never returns a `Secret`.

A Templar keeps per-call state and is not thread-safe: use one per host (or per thread). Compiled
templates are shared (an LRU cache keyed on the source), so creating Templars is cheap.
"""

from __future__ import annotations

import base64
import contextvars
import datetime
import functools
import hashlib
import itertools
import json
import math
import ntpath
import os
import random as _random
import re
import time
import uuid
from collections import ChainMap
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, nodes
from jinja2.exceptions import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.filters import pass_environment
from jinja2.lexer import TOKEN_STRING, TOKEN_VARIABLE_BEGIN, TOKEN_VARIABLE_END, Lexer
from jinja2.parser import Parser
from jinja2.runtime import Context, missing

from sopctl.errors import SopctlError
from sopctl.inventory.model import VaultValue
from sopctl.transport.quoting import Secret, sh

__all__ = ["OMIT", "TemplateError", "Templar", "UndefinedVariableError", "UnsafeText", "is_template",
           "mark_unsafe", "strip_omit"]

#: The value of the `omit` variable: a task argument that renders to exactly this is dropped.
OMIT = "__omit_place_holder__" + hashlib.sha1(os.urandom(64)).hexdigest()

_MARKERS = ("{{", "{%", "{#")
_SNIPPET = 120


class TemplateError(SopctlError):
    """A template could not be rendered; the message says why and shows the template."""

    exit_code = 2

    def __init__(self, reason: str, template: str | None = None):
        self.reason, self.template = reason, template
        super().__init__(reason if template is None else f"{reason} in {_snippet(template)}")


class UndefinedVariableError(TemplateError):
    """The template used a variable (or attribute, or key) that does not exist."""


class UnsafeText(str):
    """Text that is never templated, like Ansible's `!unsafe`: use it for command output and facts."""

    __slots__ = ()


def mark_unsafe(value: Any) -> Any:
    """A copy of `value` whose strings are `UnsafeText`; registered results and facts must go through
    this so that a `{{` printed by a remote command is never evaluated on the controller."""
    if isinstance(value, str):
        return value if isinstance(value, UnsafeText) else UnsafeText(value)
    if isinstance(value, Mapping):
        return {mark_unsafe(k): mark_unsafe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mark_unsafe(v) for v in value]
    return value


def is_template(value: Any) -> bool:
    """True for a (safe) string that contains `{{`, `{%` or `{#`."""
    return (isinstance(value, str) and not isinstance(value, UnsafeText) and "{" in value
            and any(m in value for m in _MARKERS))


def strip_omit(args: Mapping[str, Any]) -> dict[str, Any]:
    """`args` without the keys whose value is the `omit` placeholder, in nested dicts too (and dicts
    inside lists), like Ansible's remove_omit. The input is not changed."""
    result: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str) and value == OMIT:
            continue
        if isinstance(value, Mapping):
            value = strip_omit(value)
        elif isinstance(value, list):
            value = [strip_omit(v) if isinstance(v, Mapping) else v for v in value]
        result[key] = value
    return result


def _snippet(source: str) -> str:
    text = source if len(source) <= _SNIPPET else source[:_SNIPPET - 3] + "..."
    return repr(text)


# -- undefined values and failed variables ---------------------------------------------------------


class _VariableError(TemplateError):
    """Raised when a value that failed to resolve (a marker) is used; `root` is the first cause."""

    def __init__(self, root: str, chain: tuple = (), undefined: bool = True):
        self.root, self.chain, self.undefined = root, chain, undefined
        if not chain:
            message = root
        elif len(chain) == 1:
            message = f"{root} (through variable {chain[0]!r})"
        else:
            message = f"{root} (through variables {' -> '.join(chain)})"
        super().__init__(message)


class _LoopError(_VariableError):
    """A variable that needs itself; the message already shows the whole loop."""


class _Raise:
    """The `exc` of a marker: builds the error to raise when the marker is used."""

    __slots__ = ("root", "chain", "undefined", "loop")

    def __init__(self, root: str, chain: tuple, undefined: bool, loop: bool = False):
        self.root, self.chain, self.undefined, self.loop = root, chain, undefined, loop

    def __call__(self, _message: str) -> _VariableError:
        cls = _LoopError if self.loop else _VariableError
        return cls(self.root, self.chain, self.undefined)


class _Undefined(StrictUndefined):
    """Strict, but chainable: `foo.bar.baz` stays undefined so `default` and `is defined` can see it;
    any other use (printing, comparing, iterating, testing truth) is an error naming the variable."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> "_Undefined":
        return self

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        obj, name = self._undefined_obj, self._undefined_name
        if obj is missing or isinstance(obj, _Scope):
            return f"undefined variable {name!r}"
        what = "attribute" if isinstance(name, str) else "item"
        return f"object of type {type(obj).__name__!r} has no {what} {name!r}"


class _Broken(_Undefined):
    """A variable whose template failed for a reason other than an undefined variable (a loop, a bad
    filter argument): `default` and `is defined` do not hide it; any use raises the original error."""

    __slots__ = ()


def _marker(exc: BaseException, name: str) -> _Undefined:
    """Turn the failure to resolve variable `name` into a value that raises when used."""
    if isinstance(exc, _VariableError):
        if isinstance(exc, _LoopError):
            raise_ = _Raise(exc.root, exc.chain, False, loop=True)
        else:
            raise_ = _Raise(exc.root, (name,) + exc.chain, exc.undefined)
    elif isinstance(exc, UndefinedError):
        raise_ = _Raise(str(exc.message or exc), (name,), True)
    elif isinstance(exc, TemplateError):
        raise_ = _Raise(exc.reason, (name,), isinstance(exc, UndefinedVariableError))
    else:
        raise_ = _Raise(_describe(exc), (name,), False)
    cls = _Undefined if raise_.undefined else _Broken
    return cls(hint=str(raise_("")), exc=raise_)  # type: ignore[arg-type]


def _fail(value: Undefined) -> None:
    value._fail_with_undefined_error()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"template syntax error: {exc.message} (line {exc.lineno})"
    if isinstance(exc, TemplateError):
        return exc.reason
    text = str(exc)
    return text if text else type(exc).__name__


def _convert(exc: BaseException, source: str | None) -> BaseException:
    """The error a caller sees for a failed template: one TemplateError naming the cause and showing
    the template. Other sopctl errors (a wrong vault password) pass through unchanged."""
    if isinstance(exc, _VariableError):
        cls = UndefinedVariableError if exc.undefined else TemplateError
        return cls(str(exc), source)
    if isinstance(exc, TemplateError):
        return exc if exc.template is not None or source is None else type(exc)(exc.reason, source)
    if isinstance(exc, SopctlError):
        return exc
    if isinstance(exc, UndefinedError):
        return UndefinedVariableError(str(exc.message or exc), source)
    return TemplateError(_describe(exc), source)


# -- variable lookup --------------------------------------------------------------------------------


class _Scope(Mapping):
    """The parent of every Jinja context: names resolve through the Templar (lazily, memoised)."""

    __slots__ = ("templar",)

    def __init__(self, templar: "Templar"):
        self.templar = templar

    def lookup(self, key: str) -> Any:
        return self.templar._lookup(key)

    def __getitem__(self, key: str) -> Any:
        value = self.templar._lookup(key)
        if value is missing:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.templar._lookup(key) is not missing

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.templar.variables, "omit", "vars", *self.templar._env.globals]))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return "<variables>"


class _Context(Context):
    """A context whose missing names are looked up through the Templar instead of a copied dict."""

    def resolve_or_missing(self, key: str) -> Any:
        if key in self.vars:
            return self.vars[key]
        parent = self.parent
        if type(parent) is _Scope:
            return parent.lookup(key)
        return parent[key] if key in parent else missing


# -- compiled templates (shared by all Templars) ----------------------------------------------------


class _Compiled:
    """A compiled template: `expr` for a single `{{ expr }}` (native result), else `text`."""

    __slots__ = ("kind", "template", "trailing")

    def __init__(self, kind: str, template: Any, trailing: int):
        self.kind, self.template, self.trailing = kind, template, trailing


def _expression_template(env: Environment, expr: nodes.Expr) -> Any:
    body = [nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)]
    return env.from_string(nodes.Template(body, lineno=1))


#: On while compiling a task field's template: see `_Lexer`.
_ESCAPE_BACKSLASHES = contextvars.ContextVar("sopctl_escape_backslashes", default=False)


class _Lexer(Lexer):
    """Ansible's rule for string literals inside `{{ }}` of task fields: backslashes are literal.

    Playbooks are YAML, whose double-quoted strings already process escapes; so `'\\1'` written in a
    `{{ }}` of a task field reaches the regex as a backreference, not as chr(1). `{% %}` blocks,
    conditions (`when:` etc.) and template files keep Jinja's own escapes, as in Ansible.
    """

    def tokeniter(self, *args: Any, **kwargs: Any) -> Iterator[tuple[int, str, str]]:
        stream = super().tokeniter(*args, **kwargs)
        if not _ESCAPE_BACKSLASHES.get():
            yield from stream
            return
        in_variable = False
        for token in stream:
            kind = token[1]
            if kind == TOKEN_VARIABLE_BEGIN:
                in_variable = True
            elif kind == TOKEN_VARIABLE_END:
                in_variable = False
            elif in_variable and kind == TOKEN_STRING:
                token = (token[0], kind, token[2].replace("\\", "\\\\"))
            yield token


class _Environment(Environment):
    @property
    def lexer(self) -> Lexer:  # type: ignore[override]
        lexer = self.__dict__.get("_sopctl_lexer")
        if lexer is None:
            lexer = self.__dict__["_sopctl_lexer"] = _Lexer(self)
        return lexer


@functools.lru_cache(maxsize=8192)
def _compile(env: Environment, source: str, escape: bool = True) -> _Compiled:
    """Parse once per distinct source; a lone `{{ expr }}` compiles to an expression."""
    trailing = len(source) - len(source.rstrip("\n"))
    token = _ESCAPE_BACKSLASHES.set(escape)
    try:
        tree = env.parse(source)
    finally:
        _ESCAPE_BACKSLASHES.reset(token)
    body = tree.body
    if (len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1
            and not isinstance(body[0].nodes[0], nodes.TemplateData)):
        return _Compiled("expr", _expression_template(env, body[0].nodes[0]), trailing)
    return _Compiled("text", env.from_string(tree), trailing)


@functools.lru_cache(maxsize=4096)
def _compile_expression(env: Environment, source: str) -> Any:
    """A bare expression (`when:`): exactly one expression, nothing after it."""
    parser = Parser(env, source, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        token = parser.stream.current
        raise TemplateSyntaxError(f"unexpected {token.value!r} after the expression", token.lineno)
    expr.set_environment(env)
    return _expression_template(env, expr)


def _finalize_output(value: Any) -> Any:
    """Inside a larger string, None renders as '' like Ansible (not 'None')."""
    return "" if value is None else value


@functools.lru_cache(maxsize=64)
def _environment(search_paths: tuple[str, ...]) -> Environment:
    env = _Environment(
        undefined=_Undefined,
        trim_blocks=True,
        autoescape=False,
        finalize=_finalize_output,
        extensions=["jinja2.ext.loopcontrols"],
        loader=FileSystemLoader(list(search_paths)) if search_paths else None,
    )
    env.context_class = _Context
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    env.globals.update(GLOBALS)
    return env


def _map_copying(value: dict | list, fn: Callable[[Any], Any]) -> dict | list:
    """`value` with `fn` applied to every item, copied only when some item changed (most variables hold
    no template: they stay the very same object, which `_CLEAN` and the callers rely on)."""
    if isinstance(value, dict):
        out = None
        for key, item in value.items():
            new = fn(item)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    out_list = None
    for index, item in enumerate(value):
        new = fn(item)
        if new is not item:
            if out_list is None:
                out_list = list(value)
            out_list[index] = new
    return value if out_list is None else out_list


def _native(value: Any) -> Any:
    """A single-expression result as plain data: iterators, tuples and sets become lists (like
    Ansible), and a failed or undefined value anywhere inside raises its error."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Undefined):
        _fail(value)
    if isinstance(value, (dict, list)):
        return _map_copying(value, _native)
    if isinstance(value, (tuple, set, frozenset, range, Iterator, KeysView, ValuesView, ItemsView)):
        return [_native(item) for item in value]
    return value


#: Containers already seen to hold no template, Secret or VaultValue (by identity; the reference keeps
#: the id from being reused). Variables are replaced, not edited in place, so a verdict stays true.
_CLEAN: dict[int, Any] = {}
_CLEAN_MAX = 1024


# -- the Templar ------------------------------------------------------------------------------------


class Templar:
    """Render values with one host's variables (see the module docstring for the rules).

    `vault`, when given, is used to decrypt `VaultValue`s met in variables, only when they are used.
    """

    def __init__(self, variables: Mapping[str, Any], *, search_paths: Sequence[str | os.PathLike] = (),
                 vault: Any = None):
        self.variables = variables
        self.search_paths = tuple(str(p) for p in search_paths)
        self.vault = vault
        self._env = _environment(self.search_paths)
        self._scope = _Scope(self)
        self._memo: dict[str, Any] = {}
        self._stack: list[str] = []
        self._depth = 0
        self._tainted = False
        #: Whether the last render/evaluate/is_true call used a Secret (hide that task's output).
        self.touched_secret = False

    def child(self, extra: Mapping[str, Any]) -> "Templar":
        """A Templar whose variables are `extra` (e.g. `item`) over this one's."""
        return Templar(ChainMap(dict(extra), self.variables), search_paths=self.search_paths,
                       vault=self.vault)

    # -- public entry points ---------------------------------------------------------------------

    def render(self, value: Any) -> Any:
        """Render every template string inside `value` (dicts, lists, keys too)."""
        if type(value) is str and "{" not in value:
            self.touched_secret = False
            return value
        self._begin()
        try:
            return self._render_value(value)
        finally:
            self._end()

    def render_tainted(self, value: Any) -> tuple[Any, bool]:
        """`render(value)` and whether a Secret was used to produce it."""
        result = self.render(value)
        return result, self.touched_secret

    def evaluate(self, expr: Any) -> Any:
        """The value of a bare expression (`when`, `that`, `failed_when`...), native; an expression
        wrapped in `{{ }}` is accepted too. Non-strings (YAML `true`, numbers) are returned as is."""
        if not isinstance(expr, str) or isinstance(expr, UnsafeText):
            if isinstance(expr, (Secret, VaultValue)):
                raise TemplateError("a condition cannot be a secret value")
            return expr
        source = expr.strip()
        self._begin()
        try:
            template = None
            if source.startswith("{{") and source.endswith("}}"):
                compiled = _compile(self._env, source, False)
                if compiled.kind == "expr":
                    template = compiled.template
            if template is None:
                template = _compile_expression(self._env, source)
            return self._run_expression(template)
        except TemplateSyntaxError as exc:
            hint = ""
            if "{{" in source or "{%" in source:
                hint = "; a condition is a bare expression: write `x == 1`, not `{{ x }} == 1`"
            raise TemplateError(_describe(exc) + hint, source) from None
        except Exception as exc:
            raise _convert(exc, source) from None
        finally:
            self._end()

    def is_true(self, conditions: Any) -> bool:
        """Whether a condition holds: a bool as is, a string as an expression, a list when every item
        holds (AND, stopping at the first false one). None and '' hold (no condition)."""
        self._begin()
        try:
            return self._is_true(conditions)
        finally:
            self._end()

    def render_text(self, text: str) -> str:
        """Render a template's text as text, never a native value (the template module's case), keeping
        its trailing newlines like `render_file`."""
        self._begin()
        try:
            try:
                template = self._env.from_string(text)
            except TemplateSyntaxError as exc:
                raise TemplateError(f"template syntax error at line {exc.lineno}: {exc.message}") from None
            trailing = len(text) - len(text.rstrip("\n"))
            try:
                return self._run_text(template, trailing)
            except Exception as exc:
                raise _convert(exc, None) from None
        finally:
            self._end()

    def render_file(self, name: str | os.PathLike) -> str:
        """Render a template file (found in `search_paths`, or by its path) to text, keeping the source's
        trailing newlines like Ansible's template module."""
        self._begin()
        try:
            try:
                if self._env.loader is not None and not os.path.isabs(str(name)):
                    template = self._env.get_template(str(name))
                    source_text = Path(template.filename).read_text(encoding="utf-8")
                else:
                    source_text = Path(name).read_text(encoding="utf-8")
                    template = self._env.from_string(source_text)
            except TemplateNotFound:
                raise TemplateError(f"template file {str(name)!r} not found in "
                                    f"{list(self.search_paths)}") from None
            except TemplateSyntaxError as exc:
                raise TemplateError(f"template syntax error in {name}:{exc.lineno}: {exc.message}") from None
            except OSError as exc:
                raise TemplateError(f"cannot read template file {str(name)!r}: "
                                    f"{exc.strerror or exc}") from None
            trailing = len(source_text) - len(source_text.rstrip("\n"))
            try:
                return self._run_text(template, trailing)
            except Exception as exc:
                error = _convert(exc, None)
                if isinstance(error, TemplateError):
                    raise type(error)(f"{error.reason} (in template file {name})") from None
                raise error from None
        finally:
            self._end()

    # -- call bookkeeping --------------------------------------------------------------------------

    def _begin(self) -> None:
        if self._depth == 0:
            self._memo = {}
            self._stack = []
            self._tainted = False
        self._depth += 1

    def _end(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.touched_secret = self._tainted
            self._memo = {}

    # -- rendering ---------------------------------------------------------------------------------

    def _render_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._render_top(value) if is_template(value) else value
        if isinstance(value, dict):
            return {(self._render_top(k) if is_template(k) else k): self._render_value(v)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._render_value(v) for v in value]
        if isinstance(value, (Secret, VaultValue)):
            return self._reveal(value)
        return value

    def _render_top(self, source: str) -> Any:
        """A template string of the caller's: every failure becomes one TemplateError showing it."""
        try:
            return self._render_string(source)
        except Exception as exc:
            raise _convert(exc, source) from None

    def _render_string(self, source: str) -> Any:
        """One template string to its value; failures propagate as they are (see `_convert`)."""
        compiled = _compile(self._env, source)
        if compiled.kind == "expr":
            result = self._run_expression(compiled.template)
            if isinstance(result, str) and compiled.trailing:
                result += "\n" * compiled.trailing
            return result
        return self._run_text(compiled.template, compiled.trailing)

    def _run_expression(self, template: Any) -> Any:
        context = template.new_context(self._scope, shared=True)
        for _ in template.root_render_func(context):
            pass
        return _native(context.vars["result"])

    def _run_text(self, template: Any, trailing: int) -> str:
        context = template.new_context(self._scope, shared=True)
        text = "".join([str(piece) for piece in template.root_render_func(context)])
        if trailing:
            have = len(text) - len(text.rstrip("\n"))
            if trailing > have:
                text += "\n" * (trailing - have)
        return text

    def _is_true(self, conditions: Any) -> bool:
        if conditions is None or isinstance(conditions, bool):
            return True if conditions is None else conditions
        if isinstance(conditions, (list, tuple)):
            return all(self._is_true(c) for c in conditions)
        if isinstance(conditions, str) and not conditions.strip():
            return True
        return _truth(self.evaluate(conditions))

    # -- variables ---------------------------------------------------------------------------------

    def _lookup(self, name: str) -> Any:
        """A variable's value for this call: templated, secrets revealed, memoised; `missing` if none."""
        memo = self._memo
        if name in memo:
            return memo[name]
        if name == "omit":
            return OMIT
        if name == "vars":
            return self._scope
        try:
            raw = self.variables[name]
        except KeyError:
            value = self._env.globals.get(name, missing)
            memo[name] = value
            return value
        if name in self._stack:
            loop = self._stack[self._stack.index(name):] + [name]
            raise _LoopError(f"recursive loop in variables: {' -> '.join(loop)}")
        if _CLEAN.get(id(raw)) is raw:
            memo[name] = raw
            return raw
        self._stack.append(name)
        try:
            value = self._resolve(raw, name)
        finally:
            self._stack.pop()
        if value is raw and isinstance(raw, (dict, list)):
            if len(_CLEAN) >= _CLEAN_MAX:
                _CLEAN.clear()
            _CLEAN[id(raw)] = raw
        memo[name] = value
        return value

    def _resolve(self, value: Any, name: str) -> Any:
        """Template nested strings (a failure becomes a marker, raised only if used), reveal secrets.
        Containers are copied only when something inside changed."""
        kind = type(value)
        if kind is str or isinstance(value, str):
            if "{" in value and is_template(value):
                try:
                    return self._render_string(value)
                except Exception as exc:
                    if isinstance(exc, SopctlError) and not isinstance(exc, TemplateError):
                        raise
                    return _marker(exc, name)
            return value
        if isinstance(value, (dict, list)):
            return _map_copying(value, lambda item: self._resolve(item, name))
        if kind is Secret or kind is VaultValue:
            if kind is VaultValue and self.vault is None:
                return _marker(TemplateError(_NO_VAULT), name)
            return self._reveal(value)
        return value

    def _reveal(self, value: Secret | VaultValue) -> str:
        self._tainted = True
        if isinstance(value, VaultValue):
            if self.vault is None:
                raise TemplateError(_NO_VAULT)
            value = self.vault.decrypt_value(value)
        return value.reveal()


_NO_VAULT = "a !vault value is used but no vault password was configured"


def _truth(value: Any) -> bool:
    """How a condition's value counts: booleans as is; the strings yes/no/true/false/on/off/1/0
    (any case) as those words say; other values by Python truth (empty is false)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS or not word:
            return False
        return True
    return bool(value)


# == filters ========================================================================================

_TRUE_WORDS = {"yes", "on", "true", "1"}
_FALSE_WORDS = {"no", "off", "false", "0"}


def _text(value: Any) -> str:
    if isinstance(value, Undefined):
        _fail(value)
    return value if isinstance(value, str) else str(value)


def f_default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    """Ansible's default: replaces an undefined value (and, with boolean=True, any false value)."""
    if isinstance(value, Undefined):
        if isinstance(value, _Broken):
            _fail(value)
        return default_value
    if boolean and not value:
        return default_value
    return value


def f_bool(value: Any) -> bool:
    """Ansible's bool: yes/on/true/1 and no/off/false/0 in any case; anything else is False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        check: Any = value.lower()
    elif isinstance(value, int):
        check = str(value)
    else:
        check = value
    try:
        if check in _TRUE_WORDS:
            return True
        if check in _FALSE_WORDS:
            return False
        return bool(check == 1)
    except TypeError:
        return False


def f_mandatory(value: Any, msg: str | None = None) -> Any:
    if isinstance(value, Undefined):
        if isinstance(value, _Broken):
            _fail(value)
        if msg is not None:
            raise TemplateError(str(msg))
        if value._undefined_hint:
            raise UndefinedVariableError(f"mandatory value is not defined: {value._undefined_hint}")
        raise UndefinedVariableError(f"mandatory variable {value._undefined_name!r} is not defined")
    return value


def _flags(ignorecase: bool, multiline: bool) -> int:
    return (re.I if ignorecase else 0) | (re.M if multiline else 0)


def f_regex_search(value: Any, regex: str, *args: str, ignorecase: bool = False,
                   multiline: bool = False) -> Any:
    """The matched text; with '\\1' or '\\g<name>' arguments a list of those groups; None if no match."""
    groups: list[int | str] = []
    for arg in args:
        named = re.fullmatch(r"\\g<(\w+)>", arg) if isinstance(arg, str) else None
        numbered = re.fullmatch(r"\\(\d+)", arg) if isinstance(arg, str) else None
        if named:
            groups.append(named.group(1))
        elif numbered:
            groups.append(int(numbered.group(1)))
        else:
            raise TemplateError(f"regex_search: unknown argument {arg!r}; use '\\\\1' or '\\\\g<name>'")
    match = re.search(regex, _text(value), _flags(ignorecase, multiline))
    if not match:
        return None
    if not groups:
        return match.group()
    return [match.group(g) for g in groups]


def f_regex_replace(value: Any = "", pattern: str = "", replacement: str = "", ignorecase: bool = False,
                    multiline: bool = False, count: int = 0, mandatory_count: int = 0) -> str:
    compiled = re.compile(pattern, _flags(ignorecase, multiline))
    output, subs = compiled.subn(replacement, _text(value), count=count)
    if mandatory_count and mandatory_count != subs:
        raise TemplateError(f"regex_replace: {pattern!r} should match {mandatory_count} times, "
                            f"but matches {subs} times")
    return output


def f_regex_findall(value: Any, regex: str, multiline: bool = False, ignorecase: bool = False) -> list:
    return re.findall(regex, _text(value), _flags(ignorecase, multiline))


def f_regex_escape(string: Any, re_type: str = "python") -> str:
    text = _text(string)
    if re_type == "python":
        return re.escape(text)
    if re_type == "posix_basic":
        return re.sub(r"([].[^$*\\])", r"\\\1", text)
    raise TemplateError(f"regex_escape: unsupported regex type {re_type!r} (python or posix_basic)")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Undefined):
        _fail(obj)
    if isinstance(obj, (datetime.date, datetime.datetime, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple)) or isinstance(obj, Iterator):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, (Secret, VaultValue)):
        raise TemplateError("a secret cannot be serialised; use the variable, which renders its value")
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serializable")


def f_to_json(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, default=_json_default, **kwargs)


def f_to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, **kwargs: Any) -> str:
    kwargs.pop("separators", None)
    return json.dumps(value, default=_json_default, indent=indent, sort_keys=sort_keys,
                      separators=(",", ": "), **kwargs)


def f_from_json(value: Any, **kwargs: Any) -> Any:
    try:
        return json.loads(_text(value), **kwargs)
    except ValueError as exc:
        raise TemplateError(f"from_json: not valid JSON: {exc}") from None


class _Dumper(yaml.SafeDumper):
    """Safe YAML output that also accepts dict/list/str subclasses, tuples and iterators."""


def _represent_undefined(dumper: yaml.SafeDumper, value: Undefined) -> Any:
    _fail(value)


_Dumper.add_multi_representer(str, yaml.representer.SafeRepresenter.represent_str)
_Dumper.add_multi_representer(dict, yaml.representer.SafeRepresenter.represent_dict)
_Dumper.add_multi_representer(list, yaml.representer.SafeRepresenter.represent_list)
_Dumper.add_representer(tuple, yaml.representer.SafeRepresenter.represent_list)
_Dumper.add_multi_representer(Undefined, _represent_undefined)


def f_to_yaml(value: Any, *_args: Any, default_flow_style: bool | None = None, **kwargs: Any) -> str:
    text = yaml.dump(_native(value), Dumper=_Dumper, allow_unicode=True,
                     default_flow_style=default_flow_style, **kwargs)
    # A lone plain scalar gets PyYAML's document-end marker; Ansible's output has none.
    return text[:-4] if text.endswith("\n...\n") else text


def f_to_nice_yaml(value: Any, indent: int = 4, *_args: Any, default_flow_style: bool = False,
                   **kwargs: Any) -> str:
    return f_to_yaml(value, indent=indent, default_flow_style=default_flow_style, **kwargs)


def f_from_yaml(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise TemplateError(f"from_yaml: not valid YAML: {exc}") from None


def f_from_yaml_all(value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, str):
        return value
    try:
        return list(yaml.safe_load_all(value))
    except yaml.YAMLError as exc:
        raise TemplateError(f"from_yaml_all: not valid YAML: {exc}") from None


def f_b64encode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(_text(value).encode(encoding)).decode("ascii")


def f_b64decode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    decode = base64.urlsafe_b64decode if urlsafe else base64.b64decode
    try:
        return decode(_text(value).encode("ascii")).decode(encoding)
    except (ValueError, UnicodeError) as exc:
        raise TemplateError(f"b64decode: {exc}") from None


def f_quote(value: Any) -> str:
    """Shell-quote for a POSIX shell, by the same rule as every command sopctl builds."""
    return sh("{}", "" if value is None else _text(value)).text


def _path_filter(func: Callable[[str], Any]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        return func(_text(value))
    wrapped.__name__ = func.__name__
    return wrapped


def f_path_join(paths: Any) -> str:
    if isinstance(paths, str):
        return os.path.join(paths)
    if isinstance(paths, Sequence):
        return os.path.join(*[_text(p) for p in paths])
    raise TemplateError(f"path_join expects a string or a list, got {type(paths).__name__}")


def f_commonpath(paths: Any) -> str:
    if not _is_sequence(paths):
        raise TemplateError(f"commonpath expects a list, got {type(paths).__name__}")
    return os.path.commonpath([_text(p) for p in paths])


def _merge(low: Mapping, high: Mapping, recursive: bool, list_merge: str) -> dict:
    """Ansible's merge_hash: `high` wins; nested dicts merge when recursive; lists by `list_merge`."""
    result = dict(low)
    for key, high_value in high.items():
        if key not in result:
            result[key] = high_value
            continue
        low_value = result[key]
        if isinstance(low_value, Mapping) and isinstance(high_value, Mapping):
            result[key] = _merge(low_value, high_value, recursive, list_merge) if recursive else high_value
        elif isinstance(low_value, list) and isinstance(high_value, list):
            if list_merge == "replace":
                result[key] = high_value
            elif list_merge == "append":
                result[key] = low_value + high_value
            elif list_merge == "prepend":
                result[key] = high_value + low_value
            elif list_merge == "append_rp":
                result[key] = [x for x in low_value if x not in high_value] + high_value
            elif list_merge == "prepend_rp":
                result[key] = high_value + [x for x in low_value if x not in high_value]
            # keep: the lower-priority list stays
        else:
            result[key] = high_value
    return result


_LIST_MERGE = ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp")


def f_combine(*terms: Any, recursive: bool = False, list_merge: str = "replace", **kwargs: Any) -> dict:
    if kwargs:
        raise TemplateError(f"combine: unknown argument(s) {sorted(kwargs)}; only recursive and list_merge")
    if list_merge not in _LIST_MERGE:
        raise TemplateError(f"combine: list_merge must be one of {', '.join(_LIST_MERGE)}")
    dicts = f_flatten(terms, levels=1)
    for item in dicts:
        if not isinstance(item, Mapping):
            raise TemplateError(f"combine expects dictionaries, got {type(item).__name__}")
    if not dicts:
        return {}
    result = dict(dicts[0])
    for item in dicts[1:]:
        result = _merge(result, item, recursive, list_merge)
    return result


def f_dict2items(value: Any, key_name: str = "key", value_name: str = "value") -> list:
    if not isinstance(value, Mapping):
        raise TemplateError(f"dict2items requires a dictionary, got {type(value).__name__}")
    return [{key_name: k, value_name: v} for k, v in value.items()]


def f_items2dict(value: Any, key_name: str = "key", value_name: str = "value") -> dict:
    if not _is_sequence(value):
        raise TemplateError(f"items2dict requires a list, got {type(value).__name__}")
    try:
        return {item[key_name]: item[value_name] for item in value}
    except (KeyError, TypeError):
        raise TemplateError(f"items2dict requires a list of dictionaries with the keys "
                            f"{key_name!r} and {value_name!r}") from None


def f_ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    if value is None and none_val is not None:
        return none_val
    return true_val if value else false_val


def f_hash(value: Any, hashtype: str = "sha1") -> str:
    try:
        digest = hashlib.new(hashtype)
    except (ValueError, TypeError):
        raise TemplateError(f"hash: unsupported hash type {hashtype!r}") from None
    digest.update(_text(value).encode("utf-8"))
    return digest.hexdigest()


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def f_flatten(value: Any, levels: int | None = None, skip_nulls: bool = True) -> list:
    result: list = []
    for element in value:
        if skip_nulls and element in (None, "None", "null"):
            continue
        if _is_sequence(element):
            if levels is None:
                result.extend(f_flatten(element, skip_nulls=skip_nulls))
            elif levels >= 1:
                result.extend(f_flatten(element, levels=int(levels) - 1, skip_nulls=skip_nulls))
            else:
                result.append(element)
        else:
            result.append(element)
    return result


def _unique_list(items: Any) -> list:
    result: list = []
    seen: set = set()
    for item in items:
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:
            if item in result:
                continue
        result.append(item)
    return result


def _member_test(other: Any) -> Callable[[Any], bool]:
    items = list(other)
    try:
        pool = set(items)
    except TypeError:
        return lambda x: x in items

    def contains(x: Any) -> bool:
        try:
            return x in pool
        except TypeError:
            return x in items
    return contains


def f_union(a: Any, b: Any) -> list:
    """Items of a, then the new ones of b, without duplicates (Ansible's order is arbitrary)."""
    return _unique_list(itertools.chain(a, b))


def f_intersect(a: Any, b: Any) -> list:
    in_b = _member_test(b)
    return _unique_list(x for x in a if in_b(x))


def f_difference(a: Any, b: Any) -> list:
    in_b = _member_test(b)
    return _unique_list(x for x in a if not in_b(x))


def f_symmetric_difference(a: Any, b: Any) -> list:
    a, b = list(a), list(b)
    in_a, in_b = _member_test(a), _member_test(b)
    return _unique_list([x for x in a if not in_b(x)] + [x for x in b if not in_a(x)])


def f_zip(*args: Any) -> list:
    return [list(t) for t in zip(*args)]


def f_zip_longest(*args: Any, fillvalue: Any = None) -> list:
    return [list(t) for t in itertools.zip_longest(*args, fillvalue=fillvalue)]


def f_product(*args: Any, repeat: int = 1) -> list:
    return [list(t) for t in itertools.product(*args, repeat=repeat)]


def f_permutations(value: Any, r: int | None = None) -> list:
    return [list(t) for t in itertools.permutations(value, r)]


def f_combinations(value: Any, r: int) -> list:
    return [list(t) for t in itertools.combinations(value, r)]


def f_split(value: Any, sep: str | None = None, maxsplit: int = -1) -> list:
    return _text(value).split(sep, maxsplit)


def f_to_datetime(value: Any, format: str = "%Y-%m-%d %H:%M:%S") -> datetime.datetime:
    try:
        return datetime.datetime.strptime(_text(value), format)
    except ValueError as exc:
        raise TemplateError(f"to_datetime: {exc}") from None


def f_strftime(string_format: str, second: Any = None, utc: bool = False) -> str:
    if second is not None:
        try:
            second = float(second)
        except (TypeError, ValueError):
            raise TemplateError(f"strftime: invalid epoch value {second!r}") from None
    return time.strftime(string_format, (time.gmtime if utc else time.localtime)(second))


def f_log(x: Any, base: float = math.e) -> float:
    try:
        return math.log10(x) if base == 10 else math.log(x, base)
    except TypeError:
        raise TemplateError("log() can only be used on numbers") from None


def f_pow(x: Any, y: Any) -> float:
    try:
        return math.pow(x, y)
    except TypeError:
        raise TemplateError("pow() can only be used on numbers") from None


def f_root(x: Any, base: float = 2) -> float:
    try:
        return math.sqrt(x) if base == 2 else math.pow(x, 1.0 / float(base))
    except (TypeError, ValueError):
        raise TemplateError("root() can only be used on numbers") from None


@pass_environment
def f_extract(environment: Environment, item: Any, container: Any, morekeys: Any = None) -> Any:
    keys = [item] if morekeys is None else [item] + (morekeys if isinstance(morekeys, list) else [morekeys])
    value = container
    for key in keys:
        value = environment.getitem(value, key)
    return value


def f_subelements(obj: Any, subelements: Any, skip_missing: bool = False) -> list:
    elements = list(obj.values()) if isinstance(obj, Mapping) else list(obj)
    path = subelements.split(".") if isinstance(subelements, str) else list(subelements)
    results = []
    for element in elements:
        values: Any = element
        for part in path:
            try:
                values = values[part]
            except KeyError:
                if skip_missing:
                    values = []
                    break
                raise TemplateError(f"subelements: could not find {part!r} in an item") from None
            except TypeError:
                raise TemplateError(f"subelements: the key {part!r} should point to a dictionary") from None
        if not isinstance(values, list):
            raise TemplateError(f"subelements: the key {subelements!r} should point to a list")
        results.extend([element, v] for v in values)
    return results


_UUID_NAMESPACE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")  # Ansible's, for identical results


def f_to_uuid(value: Any, namespace: Any = _UUID_NAMESPACE) -> str:
    try:
        ns = namespace if isinstance(namespace, uuid.UUID) else uuid.UUID(str(namespace))
    except ValueError as exc:
        raise TemplateError(f"to_uuid: invalid namespace {namespace!r}: {exc}") from None
    return str(uuid.uuid5(ns, _text(value)))


def f_type_debug(value: Any) -> str:
    for cls in (bool, int, float, str, dict, list, tuple, set):
        if isinstance(value, cls):
            return cls.__name__
    return type(value).__name__


@pass_environment
def f_random(environment: Environment, end: Any, start: Any = None, step: Any = None,
             seed: Any = None) -> Any:
    rng = _random.SystemRandom() if seed is None else _random.Random(seed)
    if isinstance(end, int):
        return rng.randrange(start or 0, end, step or 1)
    if hasattr(end, "__iter__"):
        if start or step:
            raise TemplateError("random: start and step can only be used with integer values")
        return rng.choice(list(end))
    raise TemplateError("random can only be used on sequences and integers")


def f_shuffle(value: Any, seed: Any = None) -> list:
    items = list(value)
    (_random.Random(seed) if seed else _random.SystemRandom()).shuffle(items)
    return items


# -- versions -----------------------------------------------------------------------------------------

_LOOSE = re.compile(r"(\d+|[a-z]+|\.)")
_STRICT = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$", re.ASCII)
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")


def _loose_key(text: str) -> list:
    """distutils' LooseVersion: numbers and letter runs; comparing a number to letters fails."""
    return [int(p) if p.isdigit() else p for p in _LOOSE.split(text) if p and p != "."]


def _strict_key(text: str) -> tuple:
    match = _STRICT.match(text)
    if not match:
        raise ValueError(f"invalid version number {text!r}")
    major, minor, patch, pre, pre_num = match.groups()
    release = (int(major), int(minor), int(patch or 0))
    return (release, (1,) if pre is None else (0, pre, int(pre_num)))


class _PreRelease:
    """Semantic Versioning 2.0 pre-release order: numbers < words, by field; a longer list is later."""

    def __init__(self, text: str):
        self.parts = [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in text.split(".")]

    def __lt__(self, other: "_PreRelease") -> bool:
        return self.parts < other.parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _PreRelease) and self.parts == other.parts


def _semver_key(text: str) -> tuple:
    match = _SEMVER.match(text)
    if not match:
        raise ValueError(f"invalid semantic version {text!r}")
    major, minor, patch, pre, _build = match.groups()
    release = (int(major), int(minor), int(patch))
    return (release, (1,) if pre is None else (0, _PreRelease(pre)))


def _pep440_key(text: str) -> Any:
    try:
        from packaging.version import Version
    except ImportError:  # pragma: no cover - packaging ships with pip/setuptools environments
        raise TemplateError("the pep440 version_type needs the Python 'packaging' library") from None
    return Version(text)


_VERSION_TYPES = {"loose": _loose_key, "strict": _strict_key, "semver": _semver_key,
                  "semantic": _semver_key, "pep440": _pep440_key}
_VERSION_OPS = {"==": "eq", "=": "eq", "eq": "eq", "<": "lt", "lt": "lt", "<=": "le", "le": "le",
                ">": "gt", "gt": "gt", ">=": "ge", "ge": "ge", "!=": "ne", "<>": "ne", "ne": "ne"}


def f_version_compare(value: Any, version: Any, operator: str = "eq", strict: Any = None,
                      version_type: str | None = None) -> bool:
    import operator as ops

    if strict is not None and version_type is not None:
        raise TemplateError("version: give either strict or version_type, not both")
    if not value:
        raise TemplateError("version: the version to compare cannot be empty")
    if not version:
        raise TemplateError("version: the version to compare against cannot be empty")
    key = _strict_key if strict else _VERSION_TYPES.get(version_type or "loose")
    if key is None:
        raise TemplateError(f"version: invalid version_type {version_type!r}; one of "
                            f"{', '.join(_VERSION_TYPES)}")
    if operator not in _VERSION_OPS:
        raise TemplateError(f"version: invalid operator {operator!r}; one of {', '.join(_VERSION_OPS)}")
    try:
        return bool(getattr(ops, _VERSION_OPS[operator])(key(str(value)), key(str(version))))
    except TemplateError:
        raise
    except Exception as exc:
        raise TemplateError(f"version comparison of {str(value)!r} and {str(version)!r} "
                            f"failed: {exc}") from None


# == tests ==========================================================================================


def _result(value: Any, test: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise TemplateError(f"the {test!r} test expects a task result (a dictionary), "
                            f"got {type(value).__name__}")
    return value


def t_failed(value: Any) -> bool:
    return bool(_result(value, "failed").get("failed"))


def t_success(value: Any) -> bool:
    return not bool(_result(value, "succeeded").get("failed"))


def t_changed(value: Any) -> bool:
    result = _result(value, "changed")
    if "changed" in result:
        return bool(result["changed"])
    results = result.get("results")
    if isinstance(results, list):
        return any(isinstance(r, Mapping) and r.get("changed") for r in results)
    return False


def t_skipped(value: Any) -> bool:
    return bool(_result(value, "skipped").get("skipped"))


def t_unreachable(value: Any) -> bool:
    return bool(_result(value, "unreachable").get("unreachable"))


def t_reachable(value: Any) -> bool:
    return not t_unreachable(value)


def t_regex(value: Any = "", pattern: str = "", ignorecase: bool = False, multiline: bool = False,
            match_type: str = "search") -> bool:
    compiled = re.compile(pattern, _flags(ignorecase, multiline))
    if match_type not in ("search", "match", "fullmatch"):
        raise TemplateError(f"regex: match_type must be search, match or fullmatch, not {match_type!r}")
    return bool(getattr(compiled, match_type)(_text(value)))


def t_match(value: Any, pattern: str = "", ignorecase: bool = False, multiline: bool = False) -> bool:
    return t_regex(value, pattern, ignorecase, multiline, "match")


def t_search(value: Any, pattern: str = "", ignorecase: bool = False, multiline: bool = False) -> bool:
    return t_regex(value, pattern, ignorecase, multiline, "search")


_BOOLEAN_TRUE = {"y", "yes", "on", "1", "true", "t"}
_BOOLEAN_FALSE = {"n", "no", "off", "0", "false", "f"}


def t_truthy(value: Any, convert_bool: bool = False) -> bool:
    if convert_bool:
        if isinstance(value, bool):
            pass
        elif isinstance(value, (str, int, float)):
            word = str(value).strip().lower()
            if isinstance(value, float) and value in (0.0, 1.0):
                word = str(int(value))
            if word in _BOOLEAN_TRUE:
                value = True
            elif word in _BOOLEAN_FALSE:
                value = False
    return bool(value)


def t_falsy(value: Any, convert_bool: bool = False) -> bool:
    return not t_truthy(value, convert_bool)


def t_defined(value: Any) -> bool:
    if isinstance(value, _Broken):
        _fail(value)
    return not isinstance(value, Undefined)


def t_undefined(value: Any) -> bool:
    return not t_defined(value)


def t_subset(a: Any, b: Any) -> bool:
    contains = _member_test(b)
    return all(contains(x) for x in a)


def t_superset(a: Any, b: Any) -> bool:
    return t_subset(b, a)


def t_contains(seq: Any, value: Any) -> bool:
    return value in seq


def t_nan(value: Any) -> bool:
    try:
        return math.isnan(value)
    except TypeError:
        return False


# == globals ========================================================================================


def g_now(utc: bool = False, fmt: str | None = None) -> Any:
    if utc:
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    else:
        now = datetime.datetime.now()
    return now.strftime(fmt) if fmt else now


def _lookup_values(name: str, terms: tuple, kwargs: dict) -> list:
    if name in ("env", "ansible.builtin.env"):
        default = kwargs.get("default", "")
        return [os.environ.get(_text(t), default) for t in terms]
    if name in ("file", "ansible.builtin.file"):
        values = []
        for term in terms:
            try:
                text = Path(_text(term)).expanduser().read_text(encoding="utf-8")
            except OSError as exc:
                raise TemplateError(f"lookup('file'): cannot read {term!r}: {exc.strerror or exc}") from None
            values.append(text.rstrip("\n") if kwargs.get("rstrip", True) else text)
        return values
    raise TemplateError(f"lookup plugin {name!r} is not supported (only 'env' and 'file')")


def g_lookup(name: str, *terms: Any, wantlist: bool = False, **kwargs: Any) -> Any:
    values = _lookup_values(name, terms, kwargs)
    return values if wantlist else ",".join(str(v) for v in values)


def g_query(name: str, *terms: Any, **kwargs: Any) -> list:
    return _lookup_values(name, terms, kwargs)


def g_undef(hint: str | None = None) -> Undefined:
    return _Undefined(hint=f"undefined: {hint}" if hint else None, name="undef()")


FILTERS: dict[str, Callable] = {
    "default": f_default, "d": f_default,
    "bool": f_bool,
    "mandatory": f_mandatory,
    "regex_search": f_regex_search, "regex_replace": f_regex_replace, "regex_findall": f_regex_findall,
    "regex_escape": f_regex_escape,
    "to_json": f_to_json, "to_nice_json": f_to_nice_json, "from_json": f_from_json,
    "to_yaml": f_to_yaml, "to_nice_yaml": f_to_nice_yaml, "from_yaml": f_from_yaml,
    "from_yaml_all": f_from_yaml_all,
    "b64encode": f_b64encode, "b64decode": f_b64decode,
    "basename": _path_filter(os.path.basename), "dirname": _path_filter(os.path.dirname),
    "expanduser": _path_filter(os.path.expanduser), "expandvars": _path_filter(os.path.expandvars),
    "normpath": _path_filter(os.path.normpath), "splitext": _path_filter(lambda p: list(os.path.splitext(p))),
    "path_join": f_path_join, "commonpath": f_commonpath,
    "win_basename": _path_filter(ntpath.basename), "win_dirname": _path_filter(ntpath.dirname),
    "win_splitdrive": _path_filter(lambda p: list(ntpath.splitdrive(p))),
    "quote": f_quote,
    "combine": f_combine, "dict2items": f_dict2items, "items2dict": f_items2dict,
    "ternary": f_ternary,
    "hash": f_hash, "checksum": lambda v: f_hash(v, "sha1"), "sha1": lambda v: f_hash(v, "sha1"),
    "md5": lambda v: f_hash(v, "md5"),
    "version_compare": f_version_compare, "version": f_version_compare,
    "flatten": f_flatten,
    "union": f_union, "intersect": f_intersect, "difference": f_difference,
    "symmetric_difference": f_symmetric_difference,
    "zip": f_zip, "zip_longest": f_zip_longest,
    "product": f_product, "permutations": f_permutations, "combinations": f_combinations,
    "split": f_split,
    "to_datetime": f_to_datetime, "strftime": f_strftime,
    "log": f_log, "pow": f_pow, "root": f_root,
    "extract": f_extract, "subelements": f_subelements,
    "to_uuid": f_to_uuid, "type_debug": f_type_debug,
    "random": f_random, "shuffle": f_shuffle,
}

TESTS: dict[str, Callable] = {
    "defined": t_defined, "undefined": t_undefined,
    "failed": t_failed, "failure": t_failed,
    "succeeded": t_success, "success": t_success, "successful": t_success,
    "changed": t_changed, "change": t_changed,
    "skipped": t_skipped, "skip": t_skipped,
    "reachable": t_reachable, "unreachable": t_unreachable,
    "match": t_match, "search": t_search, "regex": t_regex,
    "version": f_version_compare, "version_compare": f_version_compare,
    "truthy": t_truthy, "falsy": t_falsy,
    "subset": t_subset, "issubset": t_subset, "superset": t_superset, "issuperset": t_superset,
    "contains": t_contains,
    "nan": t_nan, "isnan": t_nan,
    "any": any, "all": all,
}

GLOBALS: dict[str, Any] = {
    "now": g_now,
    "lookup": g_lookup, "query": g_query, "q": g_query,
    "undef": g_undef,
}
