"""Every supported filter and test against the value Ansible gives for the same expression.

The expected values were checked against ansible-core 2.19's Templar; where sopctl deliberately differs
(set operations keep the input order; see docs/templating.md) the row says so.
"""

import datetime
import os

import pytest

from sopctl.engine.templating import OMIT, Templar, TemplateError

VARS = {
    "num": 42,
    "text": "Hello World",
    "words": ["b", "a", "c", "a"],
    "nums": [3, 1, 2],
    "nested": [1, [2, [3, None]], "null"],
    "users": [{"name": "ana", "admin": True, "uid": 1001}, {"name": "budi", "admin": False, "uid": 1002}],
    "conf": {"port": 80, "tls": {"on": False, "ciphers": ["a"]}},
    "empty": "",
    "nothing": None,
    "ok_result": {"changed": False, "failed": False, "rc": 0},
    "bad_result": {"changed": True, "failed": True, "rc": 1},
    "skipped_result": {"skipped": True, "changed": False},
    "loop_result": {"results": [{"changed": False}, {"changed": True}]},
    "json_text": '{"a": [1, 2], "b": null}',
    "yaml_text": "a: [1, 2]\nb: text\n",
    "path": "/etc/nginx/nginx.conf",
    "two_lines": "a\nb",
    "yaml_docs": "---\na: 1\n---\nb: 2\n",
}

FILTERS = [
    # default / d
    ("{{ missing | default('x') }}", "x"),
    ("{{ missing | d('x') }}", "x"),
    ("{{ num | default('x') }}", 42),
    ("{{ empty | default('x') }}", ""),
    ("{{ empty | default('x', true) }}", "x"),
    ("{{ nothing | default('x') }}", None),
    ("{{ nothing | default('x', boolean=True) }}", "x"),
    ("{{ missing.deeper.still | default('chain') }}", "chain"),
    ("{{ conf.nokey | default(7) }}", 7),
    ("{{ conf.tls.nokey.more | default(8) }}", 8),
    ("{{ conf['nokey'] | default(9) }}", 9),
    ("{{ users[5] | default('none') }}", "none"),
    # bool
    ("{{ 'yes' | bool }}", True),
    ("{{ 'On' | bool }}", True),
    ("{{ 'TRUE' | bool }}", True),
    ("{{ '1' | bool }}", True),
    ("{{ 1 | bool }}", True),
    ("{{ 'no' | bool }}", False),
    ("{{ 'off' | bool }}", False),
    ("{{ 0 | bool }}", False),
    ("{{ 'x' | bool }}", False),
    ("{{ none | bool }}", False),
    # numbers and strings (Jinja builtins, as in Ansible)
    ("{{ '12' | int }}", 12),
    ("{{ 'abc' | int }}", 0),
    ("{{ 'abc' | int(5) }}", 5),
    ("{{ '3.7' | int }}", 3),
    ("{{ 1.5 | int }}", 1),
    ("{{ '0x1A' | int(base=16) }}", 26),
    ("{{ '2.5' | float }}", 2.5),
    ("{{ 'a' | float }}", 0.0),
    ("{{ 3 | string }}", "3"),
    ("{{ text | lower }}", "hello world"),
    ("{{ text | upper }}", "HELLO WORLD"),
    ("{{ 'hello WORLD' | capitalize }}", "Hello world"),
    ("{{ 'hello world' | title }}", "Hello World"),
    ("{{ '  pad  ' | trim }}", "pad"),
    ("{{ words | join(',') }}", "b,a,c,a"),
    ("{{ words | length }}", 4),
    ("{{ words | count }}", 4),
    ("{{ text | length }}", 11),
    ("{{ words | first }}", "b"),
    ("{{ words | last }}", "a"),
    ("{{ words | unique }}", ["b", "a", "c"]),
    ("{{ ['a', 'A', 'b'] | unique }}", ["a", "b"]),
    ("{{ nums | sort }}", [1, 2, 3]),
    ("{{ nums | sort(reverse=true) }}", [3, 2, 1]),
    ("{{ users | sort(attribute='uid', reverse=true) | map(attribute='name') | list }}", ["budi", "ana"]),
    ("{{ nums | min }}", 1),
    ("{{ nums | max }}", 3),
    ("{{ nums | sum }}", 6),
    ("{{ 'ab' | reverse }}", "ba"),
    ("{{ 'a-b' | replace('-', '_') }}", "a_b"),
    # map / select / reject / selectattr / rejectattr (lists, like Ansible, even without | list)
    ("{{ users | map(attribute='name') }}", ["ana", "budi"]),
    ("{{ words | map('upper') | list }}", ["B", "A", "C", "A"]),
    ("{{ nums | select('odd') | list }}", [3, 1]),
    ("{{ nums | reject('odd') | list }}", [2]),
    ("{{ users | selectattr('admin') | map(attribute='name') | list }}", ["ana"]),
    ("{{ users | rejectattr('admin') | map(attribute='name') | list }}", ["budi"]),
    ("{{ users | selectattr('uid', 'gt', 1001) | map(attribute='uid') | first }}", 1002),
    # set theory (sopctl keeps first-seen order; Ansible's order is arbitrary)
    ("{{ [1, 2, 3] | union([3, 4]) }}", [1, 2, 3, 4]),
    ("{{ [1, 2, 3, 2] | intersect([2, 3, 5]) }}", [2, 3]),
    ("{{ [3, 1, 2] | difference([1]) }}", [3, 2]),
    ("{{ [1, 2, 3] | symmetric_difference([3, 4]) }}", [1, 2, 4]),
    ("{{ [{'a': 1}, {'b': 2}] | union([{'a': 1}]) }}", [{"a": 1}, {"b": 2}]),
    # regex
    ("{{ 'server1.example.com' | regex_search('[0-9]+') }}", "1"),
    ("{{ 'abc' | regex_search('z') }}", None),
    ("{{ 'abc' | regex_search('(b)(c)', '\\2', '\\1') }}", ["c", "b"]),
    ("{{ 'key=value' | regex_search('(?P<k>\\w+)=(?P<v>\\w+)', '\\g<v>') }}", ["value"]),
    ("{{ 'ABC' | regex_search('b', ignorecase=True) }}", "B"),
    ("{{ two_lines | regex_search('^b', multiline=True) }}", "b"),
    ("{{ 'aaa' | regex_replace('a', 'b') }}", "bbb"),
    ("{{ 'aaa' | regex_replace('A', 'b', ignorecase=True) }}", "bbb"),
    ("{{ two_lines | regex_replace('^(\\w)', '>\\1', multiline=True) }}", ">a\n>b"),
    ("{{ 'aaa' | regex_replace('a', 'b', count=2) }}", "bba"),
    ("{{ 'host-01' | regex_replace('^host-(?P<n>\\d+)$', 'pc\\g<n>') }}", "pc01"),
    ("{{ 'a1b22c333' | regex_findall('\\d+') }}", ["1", "22", "333"]),
    ("{{ 'k1=v1 k2=v2' | regex_findall('(\\w+)=(\\w+)') }}", [["k1", "v1"], ["k2", "v2"]]),
    ("{{ 'a.b' | regex_replace('\\.', '\\\\') }}", "a\\b"),
    ("{{ 'a.b*c' | regex_escape }}", "a\\.b\\*c"),
    ("{{ 'a.b*c' | regex_escape('posix_basic') }}", "a\\.b\\*c"),
    # JSON / YAML
    ("{{ {'b': 1, 'a': [1, 2]} | to_json }}", '{"b": 1, "a": [1, 2]}'),
    ("{{ {'a': 'é'} | to_json }}", '{"a": "\\u00e9"}'),
    ("{{ {'b': 1, 'a': [1, 2]} | to_nice_json }}", '{\n    "a": [\n        1,\n        2\n    ],\n    "b": 1\n}'),
    ("{{ json_text | from_json }}", {"a": [1, 2], "b": None}),
    ("{{ {'b': 1, 'a': [1, 2]} | to_yaml }}", "a: [1, 2]\nb: 1\n"),
    ("{{ {'b': 1, 'a': [1, 2]} | to_nice_yaml }}", "a:\n- 1\n- 2\nb: 1\n"),
    ("{{ 'é' | to_nice_yaml }}", "é\n"),
    ("{{ yaml_text | from_yaml }}", {"a": [1, 2], "b": "text"}),
    ("{{ yaml_docs | from_yaml_all }}", [{"a": 1}, {"b": 2}]),
    # base64
    ("{{ 'ab' | b64encode }}", "YWI="),
    ("{{ 'aGk=' | b64decode }}", "hi"),
    ("{{ 'é' | b64encode | b64decode }}", "é"),
    # paths
    ("{{ path | basename }}", "nginx.conf"),
    ("{{ path | dirname }}", "/etc/nginx"),
    ("{{ 'x/y' | expanduser }}", "x/y"),
    ("{{ '~' | expanduser == lookup('env', 'HOME') }}", True),
    ("{{ path | splitext }}", ["/etc/nginx/nginx", ".conf"]),
    ("{{ ['/etc', 'app', 'a.conf'] | path_join }}", "/etc/app/a.conf"),
    ("{{ '/a/./b/../c' | normpath }}", "/a/c"),
    ("{{ 'C:\\Windows\\win.ini' | win_basename }}", "win.ini"),
    ("{{ 'C:\\Windows\\win.ini' | win_dirname }}", "C:\\Windows"),
    # shell quoting
    ("{{ 'a b' | quote }}", "'a b'"),
    ("{{ \"it's\" | quote }}", "'it'\"'\"'s'"),
    ("{{ 'plain' | quote }}", "plain"),
    ("{{ none | quote }}", "''"),
    # dictionaries
    ("{{ {'a': 1} | combine({'b': 2}) }}", {"a": 1, "b": 2}),
    ("{{ [{'a': 1}, {'b': 2}] | combine }}", {"a": 1, "b": 2}),
    ("{{ {'a': {'x': 1, 'y': 1}} | combine({'a': {'y': 2}}) }}", {"a": {"y": 2}}),
    ("{{ {'a': {'x': 1, 'y': 1}} | combine({'a': {'y': 2}}, recursive=True) }}", {"a": {"x": 1, "y": 2}}),
    ("{{ {'a': {'b': 1, 'c': [1]}} | combine({'a': {'b': 2, 'c': [2]}}, recursive=True, list_merge='append') }}",
     {"a": {"b": 2, "c": [1, 2]}}),
    ("{{ {'l': [1, 2]} | combine({'l': [2, 3]}, list_merge='prepend_rp') }}", {"l": [2, 3, 1]}),
    ("{{ {'l': [1]} | combine({'l': [2]}, list_merge='keep') }}", {"l": [1]}),
    ("{{ {'a': 1, 'b': 2} | dict2items }}", [{"key": "a", "value": 1}, {"key": "b", "value": 2}]),
    ("{{ {'a': 1} | dict2items(key_name='k', value_name='v') }}", [{"k": "a", "v": 1}]),
    ("{{ [{'key': 'a', 'value': 1}] | items2dict }}", {"a": 1}),
    ("{{ users | items2dict(key_name='name', value_name='uid') }}", {"ana": 1001, "budi": 1002}),
    ("{{ conf | dict2items | items2dict }}", VARS["conf"]),
    # ternary
    ("{{ (num > 1) | ternary('big', 'small') }}", "big"),
    ("{{ 0 | ternary('y', 'n') }}", "n"),
    ("{{ none | ternary('y', 'n', 'null') }}", "null"),
    # hashes
    ("{{ 'x' | hash('md5') }}", "9dd4e461268c8034f5c8564e155c67a6"),
    ("{{ 'x' | hash('sha1') }}", "11f6ad8ec52a2984abaafd7c3b516503785c2072"),
    ("{{ 'x' | hash('sha256') }}", "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"),
    ("{{ 'x' | hash }}", "11f6ad8ec52a2984abaafd7c3b516503785c2072"),
    ("{{ 'x' | checksum }}", "11f6ad8ec52a2984abaafd7c3b516503785c2072"),
    ("{{ 'x' | sha1 }}", "11f6ad8ec52a2984abaafd7c3b516503785c2072"),
    ("{{ 'x' | md5 }}", "9dd4e461268c8034f5c8564e155c67a6"),
    # versions (filter form)
    ("{{ '1.10' | version('1.9', '>') }}", True),
    ("{{ '1.10' | version_compare('1.9', 'gt') }}", True),
    ("{{ '2.0' | version('2.0') }}", True),
    ("{{ '1.2.3' | version('1.2.3-rc1', '>', version_type='semver') }}", True),
    ("{{ '1.0.0-alpha.1' | version('1.0.0-alpha.beta', '<', version_type='semver') }}", True),
    ("{{ '1.0a1' | version('1.0', '<', strict=true) }}", True),
    ("{{ '1.0rc1' | version('1.0', '<', version_type='pep440') }}", True),
    # lists
    ("{{ nested | flatten }}", [1, 2, 3]),
    ("{{ nested | flatten(levels=1) }}", [1, 2, [3, None]]),
    ("{{ nested | flatten(skip_nulls=false) }}", [1, 2, 3, None, "null"]),
    ("{{ [1, 2] | zip(['a', 'b']) }}", [[1, "a"], [2, "b"]]),
    ("{{ [1, 2] | zip(['a', 'b']) | list }}", [[1, "a"], [2, "b"]]),
    ("{{ [1, 2, 3] | zip_longest(['a'], fillvalue='-') }}", [[1, "a"], [2, "-"], [3, "-"]]),
    ("{{ [1, 2] | product(['a']) }}", [[1, "a"], [2, "a"]]),
    ("{{ [1, 2, 3] | combinations(2) }}", [[1, 2], [1, 3], [2, 3]]),
    ("{{ 'a,b,,c' | split(',') }}", ["a", "b", "", "c"]),
    ("{{ 'a b  c' | split }}", ["a", "b", "c"]),
    ("{{ 'a,b,c' | split(',', 1) }}", ["a", "b,c"]),
    ("{{ users | map(attribute='name') | zip(users | map(attribute='uid')) | list }}",
     [["ana", 1001], ["budi", 1002]]),
    ("{{ [0, 2] | map('extract', ['x', 'y', 'z']) | list }}", ["x", "z"]),
    ("{{ [{'n': 1, 'g': ['a', 'b']}] | subelements('g') | map('last') | list }}", ["a", "b"]),
    # dates
    ("{{ '2024-01-02 03:04:05' | to_datetime }}", datetime.datetime(2024, 1, 2, 3, 4, 5)),
    ("{{ ('2024-01-02' | to_datetime('%Y-%m-%d')).year }}", 2024),
    ("{{ (('2024-01-03' | to_datetime('%Y-%m-%d')) - ('2024-01-01' | to_datetime('%Y-%m-%d'))).days }}", 2),
    ("{{ '%Y-%m-%d' | strftime(0, utc=true) }}", "1970-01-01"),
    # math and misc
    ("{{ 100 | log(10) }}", 2.0),
    ("{{ 2 | pow(3) }}", 8.0),
    ("{{ 9 | root }}", 3.0),
    ("{{ 'x' | to_uuid }}", "66b2f013-1baa-5313-9c8c-e6f1182e0e90"),
    ("{{ conf | type_debug }}", "dict"),
    ("{{ [1, 2, 3] | shuffle(seed='s') | sort }}", [1, 2, 3]),
    ("{{ 10 | random(seed='x') < 10 }}", True),
    ("{{ num | mandatory }}", 42),
]


@pytest.fixture(scope="module")
def templar():
    return Templar(VARS)


@pytest.mark.parametrize("source, expected", FILTERS, ids=[row[0] for row in FILTERS])
def test_filter(templar, source, expected):
    result = templar.render(source)
    assert result == expected
    assert type(result) is type(expected)


TESTS = [
    ("{{ num is defined }}", True),
    ("{{ missing is defined }}", False),
    ("{{ missing is undefined }}", True),
    ("{{ missing.a.b is undefined }}", True),
    ("{{ conf.port is defined }}", True),
    ("{{ conf.nope is defined }}", False),
    ("{{ conf.nope.deeper is defined }}", False),
    ("{{ nothing is none }}", True),
    ("{{ num is none }}", False),
    ("{{ 'x' is truthy }}", True),
    ("{{ '' is truthy }}", False),
    ("{{ 'no' is truthy }}", True),
    ("{{ 'no' is truthy(convert_bool=True) }}", False),
    ("{{ 0 is falsy }}", True),
    ("{{ 'yes' is falsy(convert_bool=True) }}", False),
    ("{{ 'abc' is match('b') }}", False),
    ("{{ 'abc' is match('a') }}", True),
    ("{{ 'abc' is search('b') }}", True),
    ("{{ 'ABC' is search('b', ignorecase=True) }}", True),
    ("{{ 'abc' is regex('b') }}", True),
    ("{{ 'abc' is regex('b', match_type='match') }}", False),
    ("{{ '1.10' is version('1.9', '>') }}", True),
    ("{{ '1.10' is version_compare('1.9', '<') }}", False),
    ("{{ 1 is version('1.9', '>') }}", False),
    ("{{ '8.6' is version('8.10', 'lt') }}", True),
    ("{{ ok_result is succeeded }}", True),
    ("{{ ok_result is success }}", True),
    ("{{ ok_result is successful }}", True),
    ("{{ bad_result is succeeded }}", False),
    ("{{ bad_result is failed }}", True),
    ("{{ bad_result is failure }}", True),
    ("{{ ok_result is failed }}", False),
    ("{{ bad_result is changed }}", True),
    ("{{ bad_result is change }}", True),
    ("{{ ok_result is changed }}", False),
    ("{{ loop_result is changed }}", True),
    ("{{ skipped_result is skipped }}", True),
    ("{{ skipped_result is skip }}", True),
    ("{{ ok_result is skipped }}", False),
    ("{{ ok_result is reachable }}", True),
    ("{{ [1] is subset([1, 2]) }}", True),
    ("{{ [3] is subset([1, 2]) }}", False),
    ("{{ [1, 2] is superset([1]) }}", True),
    ("{{ [1, 2] is issuperset([3]) }}", False),
    ("{{ [1, 2] is contains(1) }}", True),
    ("{{ users | selectattr('name', 'contains', 'u') | map(attribute='name') | list }}", ["budi"]),
    ("{{ 'x' is string }}", True),
    ("{{ 1 is string }}", False),
    ("{{ 1.5 is number }}", True),
    ("{{ conf is mapping }}", True),
    ("{{ words is sequence }}", True),
    ("{{ words is iterable }}", True),
    ("{{ num is iterable }}", False),
    ("{{ [true, false] is any }}", True),
    ("{{ [true, false] is all }}", False),
]


@pytest.mark.parametrize("source, expected", TESTS, ids=[row[0] for row in TESTS])
def test_test(templar, source, expected):
    result = templar.render(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("source, message", [
    ("{{ missing | mandatory }}", "mandatory variable 'missing' is not defined"),
    ("{{ missing | mandatory('give me missing') }}", "give me missing"),
    ("{{ 'x' is failed }}", "expects a task result"),
    ("{{ '1.0a' is version('1.0.1', '<') }}", "version comparison"),
    ("{{ '' is version('1.0') }}", "cannot be empty"),
    ("{{ '1.0' is version('1.0', 'bogus') }}", "invalid operator"),
    ("{{ 'abc' | regex_search('b', 'x') }}", "unknown argument"),
    ("{{ 'aaa' | regex_replace('a', 'b', mandatory_count=2) }}", "should match 2 times"),
    ("{{ 'not json' | from_json }}", "not valid JSON"),
    ("{{ 'x' | hash('nope') }}", "unsupported hash type"),
    ("{{ 1 | combine({}) }}", "expects dictionaries"),
    ("{{ {'a': 1} | combine({}, list_merge='x') }}", "list_merge"),
    ("{{ [1] | dict2items }}", "requires a dictionary"),
    ("{{ [1] | items2dict }}", "list of dictionaries"),
    ("{{ 'x' | to_datetime }}", "to_datetime"),
    ("{{ 'x' | nosuchfilter }}", "No filter named 'nosuchfilter'"),
    ("{{ 'x' is nosuchtest }}", "No test named 'nosuchtest'"),
])
def test_filter_errors_are_template_errors(templar, source, message):
    with pytest.raises(TemplateError, match=None) as caught:
        templar.render(source)
    assert message in str(caught.value)
    assert caught.value.exit_code == 2


def test_omit_renders_to_the_placeholder(templar):
    assert templar.render("{{ omit }}") == OMIT
    assert templar.render({"mode": "{{ missing | default(omit) }}"}) == {"mode": OMIT}


def test_lookup_env_and_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SOPCTL_TEST_LOOKUP", "from-env")
    (tmp_path / "motd").write_text("welcome\n")
    t = Templar({"f": str(tmp_path / "motd")})
    assert t.render("{{ lookup('env', 'SOPCTL_TEST_LOOKUP') }}") == "from-env"
    assert t.render("{{ lookup('env', 'SOPCTL_TEST_UNSET_XYZ') }}") == ""
    assert t.render("{{ lookup('file', f) }}") == "welcome"
    assert t.render("{{ query('env', 'SOPCTL_TEST_LOOKUP') }}") == ["from-env"]
    with pytest.raises(TemplateError, match="not supported"):
        t.render("{{ lookup('pipe', 'id') }}")


def test_now_global():
    now = Templar({}).render("{{ now() }}")
    assert isinstance(now, datetime.datetime)
    assert Templar({}).render("{{ now(fmt='%Y') }}") == str(datetime.datetime.now().year)
    assert os.environ.get("HOME") is None or Templar({}).render("{{ '~' | expanduser }}") == os.path.expanduser("~")
