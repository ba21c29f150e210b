"""yamlsrc: YAML loaded with the line of every key and item, and errors that name file, line and field."""

from __future__ import annotations

import textwrap

import pytest

from sopctl.errors import InputError
from sopctl.yamlsrc import Node, NodeList, field_error, field_name, load_yaml


def write(tmp_path, text, name="f.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


DOC = """\
    title: demo
    items:
      - id: A.1
        time:
          kind: day
      - plain
      -
        id: A.2
    flow: {a: 1, b: [x, y]}
    """


def test_mappings_and_lists_are_tracked_subclasses(tmp_path):
    data = load_yaml(write(tmp_path, DOC))
    assert isinstance(data, Node) and isinstance(data, dict)
    assert isinstance(data["items"], NodeList) and isinstance(data["items"], list)
    assert data == {"title": "demo",
                    "items": [{"id": "A.1", "time": {"kind": "day"}}, "plain", {"id": "A.2"}],
                    "flow": {"a": 1, "b": ["x", "y"]}}


def test_lines_of_keys_and_items_are_one_based(tmp_path):
    data = load_yaml(write(tmp_path, DOC))
    assert data.line == 1
    assert data.line_of("title") == 1 and data.line_of("items") == 2 and data.line_of("flow") == 9
    items = data["items"]
    assert items.line == 3
    assert [items.line_of(i) for i in range(3)] == [3, 6, 8]
    assert items[0].line_of("time") == 4 and items[0]["time"].line_of("kind") == 5
    assert data["flow"]["b"].line_of(1) == 9


def test_absent_keys_and_indexes_have_no_line(tmp_path):
    data = load_yaml(write(tmp_path, DOC))
    assert data.line_of("missing") is None
    assert data["items"].line_of(7) is None and data["items"].line_of(-1) is None


def test_nodes_know_their_field_path(tmp_path):
    data = load_yaml(write(tmp_path, DOC))
    assert data.path == ()
    assert data["items"][0]["time"].path == ("items", 0, "time")
    assert field_name(data["items"][0]["time"].path + ("kind",)) == "items[0].time.kind"


def test_field_error_names_file_line_and_dotted_field(tmp_path):
    path = write(tmp_path, DOC)
    data = load_yaml(path)
    err = field_error(path, data["items"][0]["time"], "kind", "must be one of day, deadline, duration")
    assert str(err) == f"{path}:5: items[0].time.kind: must be one of day, deadline, duration"
    assert (err.line, err.field) == (5, "items[0].time.kind")
    assert err.reason == "must be one of day, deadline, duration"


def test_field_error_for_a_missing_key_points_at_the_mapping(tmp_path):
    path = write(tmp_path, DOC)
    err = field_error(path, load_yaml(path)["items"][2], "title", "is required")
    assert str(err) == f"{path}:8: items[2].title: is required"


def test_field_error_on_plain_data_has_no_line():
    err = field_error("x.yml", {"a": 1}, "a", "bad")
    assert str(err) == "x.yml: a: bad" and err.line is None


def test_broken_yaml_gives_line_and_column(tmp_path):
    path = write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(InputError) as caught:
        load_yaml(path)
    assert (caught.value.path, caught.value.line, caught.value.column) == (str(path), 3, 2)
    assert str(caught.value).startswith(f"{path}:3:2: invalid YAML: ")


def test_bad_indentation_gives_line(tmp_path):
    path = write(tmp_path, "a:\n  b: 1\n c: 2\n")
    with pytest.raises(InputError) as caught:
        load_yaml(path)
    assert caught.value.line == 3


def test_duplicate_key_is_an_error_naming_both_lines(tmp_path):
    path = write(tmp_path, "a: 1\nb:\n  x: 1\n  x: 2\n")
    with pytest.raises(InputError, match=r":4:3: duplicate key 'x' \(first at line 3\)"):
        load_yaml(path)


def test_merge_keys_may_be_overridden(tmp_path):
    data = load_yaml(write(tmp_path, "base: &b {k: 1, j: 2}\nd:\n  <<: *b\n  k: 3\n"))
    assert data["d"] == {"k": 3, "j": 2} and data["d"].line_of("k") == 4


def test_empty_file_is_none(tmp_path):
    assert load_yaml(write(tmp_path, "")) is None


def test_missing_file_and_bad_encoding_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        load_yaml(tmp_path / "absent.yml")
    bad = tmp_path / "latin1.yml"
    bad.write_bytes("a: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_yaml(bad)


def test_scalars_keep_yaml_types(tmp_path):
    data = load_yaml(write(tmp_path, "n: 3\nb: true\ns: '3'\nz: null\n"))
    assert data == {"n": 3, "b": True, "s": "3", "z": None}
