"""How the Templar renders: native types, undefined variables, omit, lazy variables, secrets, conditions."""

import time

import pytest

from sopctl.engine import templating
from sopctl.engine.templating import (OMIT, Templar, TemplateError, UndefinedVariableError, UnsafeText,
                                      is_template, mark_unsafe, strip_omit)
from sopctl.errors import SopctlError
from sopctl.inventory.model import VaultValue
from sopctl.transport.quoting import MASK, Secret


def render(source, **variables):
    return Templar(variables).render(source)


# -- native values and strings --------------------------------------------------------------------


@pytest.mark.parametrize("source, variables, expected", [
    ("{{ x }}", {"x": [1, 2]}, [1, 2]),
    ("{{ x }}", {"x": {"a": 1}}, {"a": 1}),
    ("{{ x }}", {"x": 8080}, 8080),
    ("{{ x }}", {"x": True}, True),
    ("{{ x }}", {"x": None}, None),
    ("{{ x + 1 }}", {"x": 1}, 2),
    ("{{ '123' }}", {}, "123"),
    ("{{ (1, 2) }}", {}, [1, 2]),
    ("{{ x.keys() }}", {"x": {"a": 1}}, ["a"]),
    ("{{ range(3) }}", {}, [0, 1, 2]),
    ("{{- x -}}", {"x": 3}, 3),
    ("{{ x }}{# note #}", {"x": [1]}, [1]),
])
def test_a_lone_expression_gives_its_native_value(source, variables, expected):
    result = render(source, **variables)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("source, variables, expected", [
    (" {{ x }}", {"x": 1}, " 1"),
    ("{{ x }} and {{ y }}", {"x": True, "y": None}, "True and "),
    ("port={{ x }}", {"x": 8080}, "port=8080"),
    ("{{ x }}{{ x }}", {"x": 1}, "11"),
    ("{% if x %}{{ x }}{% endif %}", {"x": [1]}, "[1]"),
    ("{% for i in x %}{{ i }},{% endfor %}", {"x": [1, 2]}, "1,2,"),
    ("{% for i in x %}{% if i > 1 %}{% break %}{% endif %}{{ i }}{% endfor %}", {"x": [1, 2, 3]}, "1"),
    ("{% set y = x * 2 %}{{ y }}", {"x": 2}, "4"),
    ("{% macro m(a) %}<{{ a }}>{% endmacro %}{{ m(x) }}", {"x": 5}, "<5>"),
    ("{{ 'a' ~ x }}", {"x": [1]}, "a[1]"),
])
def test_anything_else_gives_a_string(source, variables, expected):
    assert render(source, **variables) == expected


def test_trailing_newlines_are_kept_like_ansible():
    assert render("a={{ x }}\n", x=1) == "a=1\n"
    assert render("a={{ x }}\n\n", x=1) == "a=1\n\n"
    assert render("{{ x }}\n", x="s") == "s\n"
    assert render("{{ x }}\n", x=1) == 1  # Ansible: a native value drops the newline
    assert render("{% if true %}\nA\n{% endif %}\n") == "A\n"


def test_containers_are_rendered_recursively_and_plain_values_pass():
    t = Templar({"x": 1, "name": "web"})
    value = {"a": "{{ x }}", "b": ["{{ name }}-1", "plain", 3, None], "{{ name }}_key": "k", "c": {"d": "{{ x }}"}}
    assert t.render(value) == {"a": 1, "b": ["web-1", "plain", 3, None], "web_key": "k", "c": {"d": 1}}
    for plain in ("no braces", "{ not a template }", "a } b", 7, None, 1.5, True):
        assert t.render(plain) == plain


def test_unsafe_text_is_never_templated():
    t = Templar({"out": UnsafeText("{{ 7 * 7 }}"), "x": 1,
                 "result": mark_unsafe({"stdout": "{{ x }}", "lines": ["{% if %}"]})})
    assert t.render(UnsafeText("{{ x }}")) == "{{ x }}"
    assert t.render("{{ out }}") == "{{ 7 * 7 }}"
    assert t.render("{{ result.stdout }}") == "{{ x }}"
    assert t.render("{{ result.lines[0] }}") == "{% if %}"
    assert not is_template(UnsafeText("{{ x }}")) and is_template("{{ x }}") and not is_template("{x}")


def test_backslashes_in_string_literals_are_literal_like_ansible():
    # What a YAML double-quoted "{{ x | regex_replace('^(.*)$', '\\1!') }}" hands over: one backslash.
    assert render("{{ x | regex_replace('^(.*)$', '\\1!') }}", x="a") == "a!"
    assert render("{{ 'C:\\new' }}") == "C:\\new"
    assert render("{% set y = 'a\\tb' %}{{ y }}") == "a\tb"  # {% %} keeps Jinja's escapes (as Ansible)
    # Conditions are Jinja as is (as in Ansible): there '\\d' is the escape for a backslash and d.
    assert Templar({"x": "a1"}).evaluate("x is search('\\\\d')") is True


# -- undefined variables --------------------------------------------------------------------------


@pytest.mark.parametrize("source, name", [
    ("{{ foo }}", "foo"),
    ("echo {{ foo }}", "foo"),
    ("{{ foo.bar }}", "foo"),
    ("{{ foo['bar'].baz }}", "foo"),
    ("{{ foo | upper }}", "foo"),
    ("{{ foo == 1 }}", "foo"),
    ("{% for x in foo %}{% endfor %}", "foo"),
    ("{% if foo %}{% endif %}", "foo"),
    ("{{ vars['foo'] }}", "foo"),
    ("{{ 1 if foo else 2 }}", "foo"),
])
def test_an_undefined_variable_is_an_error_naming_it(source, name):
    with pytest.raises(UndefinedVariableError) as caught:
        render(source)
    assert f"undefined variable {name!r}" in str(caught.value)
    assert isinstance(caught.value, TemplateError) and isinstance(caught.value, SopctlError)
    assert caught.value.exit_code == 2
    assert caught.value.template == source and repr(source) in str(caught.value)


def test_a_missing_attribute_names_the_attribute():
    with pytest.raises(UndefinedVariableError, match="has no attribute 'nope'"):
        render("{{ conf.nope }}", conf={"a": 1})
    with pytest.raises(UndefinedVariableError, match="has no attribute 'nope'"):
        render("{{ conf.nope.deeper }}", conf={"a": 1})


@pytest.mark.parametrize("source", [
    "{{ foo | default('x') }}",
    "{{ foo.bar | default('x') }}",
    "{{ foo.bar.baz | d('x') }}",
    "{{ foo['a'][0].b | default('x') }}",
    "{{ conf.missing | default('x') }}",
    "{{ conf.a.missing | default('x') }}",
    "{{ conf['missing']['deeper'] | default('x') }}",
    "{{ 'x' if foo is undefined else 'y' }}",
    "{{ 'x' if foo.bar is not defined else 'y' }}",
    "{{ 'x' if conf.a.missing is not defined else 'y' }}",
])
def test_default_and_defined_see_undefined_chains(source):
    assert render(source, conf={"a": {"b": 1}}) == "x"


def test_omit():
    t = Templar({"mode": None})
    args = t.render({"path": "/etc/x", "mode": "{{ mode | default(omit) }}", "owner": "{{ user | default(omit) }}",
                     "nested": {"a": "{{ omit }}", "b": 1}, "items": [{"c": "{{ omit }}"}]})
    assert args["owner"] == OMIT and args["mode"] is None
    assert strip_omit(args) == {"path": "/etc/x", "mode": None, "nested": {"b": 1}, "items": [{}]}
    assert OMIT.startswith("__omit_place_holder__") and t.render("{{ omit }}") == OMIT


def test_mandatory_names_the_variable():
    with pytest.raises(UndefinedVariableError, match="mandatory variable 'db_host' is not defined"):
        render("{{ db_host | mandatory }}")


def test_syntax_errors_are_template_errors():
    with pytest.raises(TemplateError, match="template syntax error"):
        render("{{ x ")
    with pytest.raises(TemplateError, match="syntax error"):
        render("{% if %}")


def test_runtime_errors_are_template_errors():
    with pytest.raises(TemplateError, match="unsupported operand"):
        render("{{ 1 + 'a' }}")


# -- lazy variables -------------------------------------------------------------------------------


def test_variables_are_templated_when_used():
    t = Templar({"base": 8000, "port": "{{ base + 80 }}", "url": "http://{{ host }}:{{ port }}/",
                 "host": "{{ inventory_hostname }}", "inventory_hostname": "pc-01",
                 "ports": ["{{ port }}", "{{ base }}"], "conf": {"listen": "{{ port }}"}})
    assert t.render("{{ port }}") == 8080
    assert t.render("{{ url }}") == "http://pc-01:8080/"
    assert t.render("{{ ports }}") == [8080, 8000]
    assert t.render("{{ conf.listen + 1 }}") == 8081


def test_a_variable_loop_is_an_error_naming_the_loop():
    t = Templar({"a": "{{ b }}", "b": "{{ c }}", "c": "{{ a }}", "d": "{{ d }}", "ok": 1})
    with pytest.raises(TemplateError, match="recursive loop in variables: a -> b -> c -> a"):
        t.render("{{ a }}")
    with pytest.raises(TemplateError, match="recursive loop in variables: d -> d"):
        t.render("x {{ d }}")
    with pytest.raises(TemplateError, match="recursive loop"):
        t.render("{{ d | default('hidden') }}")  # a loop is not "undefined"
    with pytest.raises(TemplateError, match="recursive loop"):
        t.render("{{ d is defined }}")
    assert t.render("{{ ok }}") == 1


def test_an_undefined_variable_inside_a_variable_names_both():
    t = Templar({"foo": "{{ bar }}", "outer": "{{ foo }}", "app": {"port": 80, "url": "{{ nope }}"}})
    with pytest.raises(UndefinedVariableError) as caught:
        t.render("{{ outer }}")
    assert "undefined variable 'bar'" in str(caught.value) and "outer -> foo" in str(caught.value)
    assert t.render("{{ foo | default('d') }}") == "d"  # like Ansible
    assert t.render("{{ foo is defined }}") is False
    assert t.render("{{ app.port }}") == 80  # only the broken part of a variable fails, when used
    assert t.render("{{ app.url | default('u') }}") == "u"
    with pytest.raises(UndefinedVariableError, match="undefined variable 'nope'"):
        t.render("{{ app }}")


def test_a_broken_template_in_a_variable_fails_where_used():
    t = Templar({"bad": "{{ 1 + 'a' }}", "syntax": "{{ oops", "fine": 1})
    assert t.render("{{ fine }}") == 1
    with pytest.raises(TemplateError, match="unsupported operand.*'bad'"):
        t.render("{{ bad }}")
    with pytest.raises(TemplateError, match="syntax error.*'syntax'"):
        t.render("{{ syntax | default(1) }}")


def test_variables_are_read_at_each_call():
    variables = {"x": 1}
    t = Templar(variables)
    assert t.render("{{ x }}") == 1
    variables["x"] = 2
    assert t.render("{{ x }}") == 2
    child = t.child({"item": "{{ x * 10 }}"})
    assert child.render("{{ item }}") == 20 and child.render("{{ x }}") == 2


# -- secrets --------------------------------------------------------------------------------------


def test_secrets_render_as_their_value_and_taint_the_call():
    t = Templar({"pw": Secret("hunter2"), "user": "ana", "creds": {"user": "ana", "pw": Secret("s3")},
                 "derived": "{{ pw }}!"})
    assert t.render_tainted("echo {{ user }}") == ("echo ana", False)
    assert t.render_tainted("chpasswd {{ user }}:{{ pw }}") == ("chpasswd ana:hunter2", True)
    assert t.touched_secret is True
    t.render("{{ user }}")
    assert t.touched_secret is False  # reset by every call
    assert t.render_tainted("{{ pw | length }}") == (7, True)
    assert t.render_tainted("{{ creds }}") == ({"user": "ana", "pw": "s3"}, True)
    assert t.render_tainted("{{ derived }}") == ("hunter2!", True)
    assert t.render_tainted({"a": "{{ user }}", "b": ["{{ pw }}"]}) == ({"a": "ana", "b": ["hunter2"]}, True)
    assert t.render_tainted(Secret("literal")) == ("literal", True)
    assert t.render_tainted("plain") == ("plain", False)
    assert MASK not in t.render("{{ pw }}")
    assert t.is_true("pw == 'hunter2'") and t.touched_secret


def test_a_secret_value_is_not_itself_templated():
    t = Templar({"pw": Secret("{{ not_a_template }}")})
    assert t.render("{{ pw }}") == "{{ not_a_template }}"


def test_vault_values_decrypt_only_when_used():
    class FakeVault:
        calls = 0

        def decrypt_value(self, value):
            FakeVault.calls += 1
            return Secret(value.ciphertext.upper())

    t = Templar({"pw": VaultValue("abc"), "user": "ana"}, vault=FakeVault())
    assert t.render_tainted("{{ user }}") == ("ana", False) and FakeVault.calls == 0
    assert t.render_tainted("{{ pw }}") == ("ABC", True) and FakeVault.calls == 1
    no_vault = Templar({"pw": VaultValue("abc"), "user": "ana"})
    assert no_vault.render("{{ user if true else pw }}") == "ana"  # named but unused: no error
    with pytest.raises(TemplateError, match="no vault password.*'pw'"):
        no_vault.render("{{ pw }}")


def test_vault_errors_pass_through_unchanged():
    from sopctl.vault import Vault, VaultError, encrypt_bytes

    value = VaultValue(encrypt_bytes("s3cret", "right"))
    assert Templar({"pw": value}, vault=Vault("right")).render("{{ pw }}") == "s3cret"
    with pytest.raises(VaultError, match="wrong password"):
        Templar({"pw": value}, vault=Vault("wrong")).render("{{ pw }}")


# -- conditions -----------------------------------------------------------------------------------


def test_evaluate_takes_bare_and_wrapped_expressions():
    t = Templar({"x": 3, "names": ["a"], "result": {"rc": 0, "stdout": "ok"}})
    assert t.evaluate("x > 2") is True
    assert t.evaluate("{{ x > 2 }}") is True
    assert t.evaluate("  x  ") == 3
    assert t.evaluate("names") == ["a"]
    assert t.evaluate("result.rc == 0 and 'ok' in result.stdout") is True
    assert t.evaluate(True) is True and t.evaluate(1) == 1
    with pytest.raises(TemplateError, match="bare expression"):
        t.evaluate("{{ x }} == 3")
    with pytest.raises(TemplateError, match="after the expression"):
        t.evaluate("x == 3 y")
    with pytest.raises(UndefinedVariableError, match="undefined variable 'nope'"):
        t.evaluate("nope == 1")


@pytest.mark.parametrize("conditions, expected", [
    (True, True), (False, False), (None, True), ("", True), ([], True),
    ("x == 3", True), ("x == 4", False), ("{{ x == 3 }}", True),
    (["x == 3", "name == 'web'"], True), (["x == 3", "name == 'db'"], False),
    ("flag", False), ("yes_word", True), ("name", True), ("empty", False), ("items", True), ("none_var", False),
    ("0", False), ("1", True), ("x", True),
    ("nope is defined", False), ("nope is not defined", True), ("nope | default(false)", False),
])
def test_is_true(conditions, expected):
    t = Templar({"x": 3, "name": "web", "flag": "false", "yes_word": "Yes", "empty": "", "items": [1],
                 "none_var": None})
    assert t.is_true(conditions) is expected


def test_is_true_stops_at_the_first_false_condition():
    t = Templar({"x": None})
    assert t.is_true(["x is not none", "x.attr == 1"]) is False
    with pytest.raises(UndefinedVariableError):
        t.is_true(["nope"])


# -- files, caching -------------------------------------------------------------------------------


def test_render_file(tmp_path):
    (tmp_path / "motd.j2").write_text("Hello {{ name }}\n{% for u in users %}\n- {{ u }}\n{% endfor %}\n")
    (tmp_path / "bad.j2").write_text("{{ missing }}\n")
    t = Templar({"name": "pc-01", "users": ["ana", "budi"]}, search_paths=[tmp_path])
    assert t.render_file("motd.j2") == "Hello pc-01\n- ana\n- budi\n"
    assert t.render_file(tmp_path / "motd.j2") == "Hello pc-01\n- ana\n- budi\n"
    with pytest.raises(UndefinedVariableError, match="undefined variable 'missing'.*bad.j2"):
        t.render_file("bad.j2")
    with pytest.raises(TemplateError, match="not found"):
        t.render_file("nope.j2")


def test_compiled_templates_are_cached_and_plain_strings_short_circuit(monkeypatch):
    templating._compile.cache_clear()
    t = Templar({"x": 1})
    for _ in range(50):
        t.render("{{ x }} {{ x }}")
        t.render("no template here")
    info = templating._compile.cache_info()
    assert info.misses == 1 and info.hits == 49
    assert Templar({"x": 2}).render("{{ x }} {{ x }}") == "2 2"
    assert templating._compile.cache_info().misses == 1
