"""INI inventories: Ansible's sections and value parsing, equivalence with YAML, and line-numbered errors."""

from pathlib import Path

import pytest

from sopctl.errors import InputError
from sopctl.inventory import load_inventory
from sopctl.inventory.ini_loader import parse_value

DATA = Path(__file__).parent / "data"
ERRORS = DATA / "errors"


@pytest.fixture(scope="module")
def pair():
    return (load_inventory(DATA / "office_yaml" / "inventory.yml"),
            load_inventory(DATA / "office_ini" / "inventory.ini"))


def test_ini_yields_same_hosts_in_same_order(pair):
    yaml_inv, ini_inv = pair
    assert list(ini_inv.hosts) == list(yaml_inv.hosts)


def test_ini_yields_same_groups_and_memberships(pair):
    yaml_inv, ini_inv = pair
    assert set(ini_inv.groups) == set(yaml_inv.groups)
    for name, group in yaml_inv.groups.items():
        other = ini_inv.groups[name]
        # The YAML file also lists `servers` directly under `all`; INI cannot say that. Edges to
        # `all` therefore differ, while membership, depth and vars must not.
        assert set(other.children) - {"servers"} == set(group.children) - {"servers"}, name
        assert set(other.parents) - {"all"} == set(group.parents) - {"all"}, name
        assert other.depth == group.depth, name
        assert [h.name for h in ini_inv.group_hosts(name)] == [h.name for h in yaml_inv.group_hosts(name)]
    for name, host in yaml_inv.hosts.items():
        assert ini_inv.hosts[name].groups == host.groups


def test_ini_yields_same_vars_with_same_types(pair):
    yaml_inv, ini_inv = pair
    for name in yaml_inv.hosts:
        assert ini_inv.host_vars(name) == yaml_inv.host_vars(name), name
    assert ini_inv.hosts["srv-db"].vars["ansible_port"] == 2222
    assert ini_inv.hosts["srv-app"].vars["backup"] is True


def test_hosts_before_any_section_are_ungrouped(pair):
    assert pair[1].groups["ungrouped"].hosts == ["gateway"]


@pytest.mark.parametrize("text, value", [
    ("22", 22), ("1.5", 1.5), ("True", True), ("False", False), ("None", None),
    ("true", "true"), ("yes", "yes"), ("0755", "0755"), ("'22'", "22"), ('"quoted text"', "quoted text"),
    ("[1, 'a']", [1, "a"]), ("{'k': 1}", {"k": 1}), ("(1, 2)", [1, 2]), ("192.0.2.1", "192.0.2.1"),
    ("plain words", "plain words"), ("1j", "1j"), ("...", "..."), ("b'x'", "x"),
])
def test_value_parsing_follows_ansible(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


def write(tmp_path, text, name="hosts"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_host_line_quoting_comments_and_types(tmp_path):
    inv = load_inventory(write(tmp_path, (
        "[pcs]\n"
        "pc-01 motd='Selamat datang di PA' ansible_port=2200 enabled=True # trailing comment\n"
        "pc-02 quoted_number=\"22\" nested='\"22\"'\n")))
    pc1, pc2 = inv.hosts["pc-01"].vars, inv.hosts["pc-02"].vars
    assert pc1 == {"motd": "Selamat datang di PA", "ansible_port": 2200, "enabled": True}
    # Ansible strips shell quotes first and then literal-parses: "22" is the int 22
    assert pc2 == {"quoted_number": 22, "nested": "22"}


def test_vars_section_takes_everything_after_equals(tmp_path):
    inv = load_inventory(write(tmp_path, (
        "[pcs]\npc-01\n[pcs:vars]\n"
        "motd = Selamat datang  \n"
        "timeout=30\n"
        "url=http://a/b?c=d\n")))
    assert inv.hosts["pc-01"].vars == {"motd": "Selamat datang", "timeout": 30, "url": "http://a/b?c=d"}


def test_children_may_be_declared_later_and_vars_before(tmp_path):
    inv = load_inventory(write(tmp_path, (
        "[office:children]\npcs\n"
        "[pcs:vars]\nrole=desktop\n"
        "[pcs]\npc-01\n")))
    assert inv.groups["office"].children == ["pcs"]
    assert inv.hosts["pc-01"].vars == {"role": "desktop"}
    assert inv.hosts["pc-01"].groups == ["office", "pcs"]


def test_empty_child_section_still_declares_group(tmp_path):
    inv = load_inventory(write(tmp_path, "[office:children]\npcs\n[pcs]\n"))
    assert inv.groups["pcs"].parents == ["office"] and inv.groups["pcs"].hosts == []


def test_host_in_explicit_group_leaves_ungrouped(tmp_path):
    inv = load_inventory(write(tmp_path, "pc-01\n[pcs]\npc-01\n"))
    assert inv.groups["ungrouped"].hosts == []
    assert inv.hosts["pc-01"].groups == ["pcs"]


def test_ranges_alpha_step_and_nested(tmp_path):
    inv = load_inventory(write(tmp_path, "[x]\nr[a:c]-[1:2]\nn-[0:10:5]\n"))
    assert list(inv.hosts) == ["ra-1", "ra-2", "rb-1", "rb-2", "rc-1", "rc-2", "n-0", "n-5", "n-10"]


def test_ipv6_hosts_are_not_split_as_ports(tmp_path):
    inv = load_inventory(write(tmp_path, "[x]\n2001:db8::1\n[2001:db8::2]:2222\n"))
    assert list(inv.hosts) == ["2001:db8::1", "2001:db8::2"]
    assert inv.hosts["2001:db8::2"].vars == {"ansible_port": 2222}
    assert inv.host_vars("2001:db8::1")["inventory_hostname_short"] == "2001:db8::1"


def test_group_priority_from_ini(tmp_path):
    inv = load_inventory(write(tmp_path, (
        "[a]\nh\n[b]\nh\n[a:vars]\nx=a\nansible_group_priority=5\n[b:vars]\nx=b\n")))
    assert inv.hosts["h"].vars == {"x": "a"}
    assert inv.groups["a"].priority == 5


def load_error(name):
    with pytest.raises(InputError) as info:
        load_inventory(ERRORS / name)
    return info.value


@pytest.mark.parametrize("name, line, text", [
    ("vars_no_equals.ini", 6, "expected key=value group variable, got 'ansible_become'"),
    ("unknown_section.ini", 6, "section [pcs:variables] has unknown type 'variables'"),
    ("undefined_child.ini", 6, "section [office:children] includes group 'printers', which is never declared"),
    ("undefined_vars_group.ini", 4, "section [servers:vars] is for group 'servers', which is never declared"),
    ("bad_section.ini", 3, "invalid section header '[web servers]'"),
    ("host_token.ini", 2, "expected key=value host variable, got 'windows'"),
    ("unclosed_quote.ini", 2, "cannot parse host line"),
    ("cycle.ini", 8, "group 'a' would become its own ancestor (a -> b -> c -> a)"),
])
def test_ini_errors_name_file_and_line(name, line, text):
    err = load_error(name)
    assert err.path == str(ERRORS / name)
    assert err.line == line
    assert text in str(err)
    assert str(err).startswith(f"{ERRORS / name}:{line}: ")


def test_yaml_looking_content_in_ini_file(tmp_path):
    with pytest.raises(InputError, match="looks like a YAML file"):
        load_inventory(write(tmp_path, "---\nall:\n  hosts:\n"))


def test_host_ending_in_colon(tmp_path):
    with pytest.raises(InputError, match="reserved for a port") as info:
        load_inventory(write(tmp_path, "[x]\nall:\n"))
    assert info.value.line == 2
