"""YAML inventories: structure, ranges, host:port, and errors that name file, line and field."""

from pathlib import Path

import pytest

from sopctl.errors import InputError
from sopctl.inventory import VaultValue, load_inventory

DATA = Path(__file__).parent / "data"
ERRORS = DATA / "errors"


@pytest.fixture(scope="module")
def office():
    return load_inventory(DATA / "office_yaml" / "inventory.yml")


def test_hosts_in_order_of_first_appearance_with_ranges_expanded(office):
    pcs = [f"pc-{n:02d}" for n in range(1, 13)]
    assert list(office.hosts) == ["gateway", *pcs, "printer-a", "printer-b", "printer-c", "srv-app", "srv-db"]


def test_implicit_groups_always_exist(office):
    assert {"all", "ungrouped"} <= set(office.groups)
    assert office.groups["ungrouped"].hosts == ["gateway"]
    assert office.groups["all"].depth == 0


def test_nested_children_and_multiple_parents(office):
    assert office.groups["office"].children == ["pcs", "printers"]
    assert set(office.groups["servers"].parents) == {"all", "linux"}
    assert office.groups["servers"].depth == 2  # longest path: all -> linux -> servers
    assert office.hosts["pc-01"].groups == ["linux", "office", "pcs"]
    assert office.hosts["srv-app"].groups == ["linux", "servers"]
    assert office.hosts["gateway"].groups == []


def test_host_in_several_groups_is_one_host(office):
    assert list(office.hosts).count("pc-01") == 1
    assert "pc-01" in office.groups["pcs"].hosts and "pc-01" in office.groups["linux"].hosts


def test_vars_from_groups_and_hosts(office):
    pc = office.hosts["pc-05"].vars
    assert pc["ansible_user"] == "Administrator"  # pcs overrides all
    assert pc["ansible_shell_type"] == "powershell"
    assert pc["ntp_server"] == "ntp.pa-batulicin.go.id"
    app = office.hosts["srv-app"].vars
    assert app == {"ntp_server": "ntp.pa-batulicin.go.id", "ansible_user": "admin",
                   "ansible_become": True, "ansible_host": "192.0.2.10", "backup": True}


def test_host_port_shorthand_sets_ansible_port(office):
    assert "srv-db:2222" not in office.hosts
    assert office.hosts["srv-db"].vars["ansible_port"] == 2222


def test_magic_vars(office):
    hv = office.host_vars("pc-01")
    assert hv["inventory_hostname"] == "pc-01"
    assert hv["inventory_hostname_short"] == "pc-01"
    assert hv["group_names"] == ["linux", "office", "pcs"]
    assert hv["groups"]["office"] == [f"pc-{n:02d}" for n in range(1, 13)] + ["printer-a", "printer-b", "printer-c"]
    assert hv["groups"]["ungrouped"] == ["gateway"]
    assert hv["groups"]["all"] == list(office.hosts)


def test_group_names_keeps_ungrouped_like_ansible(office):
    assert office.host_vars("gateway")["group_names"] == ["ungrouped"]


def test_magic_vars_are_copies(office):
    office.host_vars("pc-01")["groups"]["pcs"].append("intruder")
    assert "intruder" not in office.host_vars("pc-01")["groups"]["pcs"]


def test_bare_string_hosts_and_null_sections(tmp_path):
    path = tmp_path / "inv.yml"
    path.write_text("all:\n  children:\n    web:\n      hosts: web1\n      vars:\n    empty:\n")
    inv = load_inventory(path)
    assert list(inv.hosts) == ["web1"]
    assert inv.groups["empty"].hosts == [] and inv.groups["empty"].parents == ["all"]


def test_explicit_ansible_port_beats_shorthand(tmp_path):
    path = tmp_path / "inv.yml"
    path.write_text("all:\n  hosts:\n    srv:2222:\n      ansible_port: 2200\n")
    assert load_inventory(path).hosts["srv"].vars["ansible_port"] == 2200


def test_vault_value_in_inventory_and_group_vars():
    inv = load_inventory(DATA / "vault" / "hosts.yml")
    hv = inv.host_vars("srv-app")
    assert isinstance(hv["ansible_become_password"], VaultValue)
    assert hv["ansible_become_password"].ciphertext.startswith("$ANSIBLE_VAULT;1.1;AES256\n6231")
    assert isinstance(hv["db_password"], VaultValue)
    assert hv["plain"] == "visible"
    assert "6231" not in repr(hv["ansible_become_password"])


def test_vars_are_plain_containers(office, tmp_path):
    path = tmp_path / "inv.yml"
    path.write_text("all:\n  vars:\n    dns: [1.1.1.1]\n    opts: {a: {b: 1}}\n  hosts:\n    h:\n")
    hv = load_inventory(path).hosts["h"].vars
    assert type(hv["dns"]) is list and type(hv["opts"]) is dict and type(hv["opts"]["a"]) is dict


def load_error(name):
    with pytest.raises(InputError) as info:
        load_inventory(ERRORS / name)
    return info.value


def test_malformed_yaml_reports_file_line_and_column():
    err = load_error("malformed.yml")
    assert err.path == str(ERRORS / "malformed.yml")
    assert (err.line, err.column) == (4, 32)
    # libyaml and pure-Python PyYAML word the problem differently ("...here" / "...in this context")
    assert str(err).startswith(f"{ERRORS / 'malformed.yml'}:4:32: malformed YAML: mapping values are not allowed")


def test_unclosed_quote_points_back_to_where_it_started():
    err = load_error("unclosed_quote.yml")
    assert (err.line, err.column) == (6, 1)
    assert "found unexpected end of stream (while scanning a quoted scalar started at line 4, column 21)" in str(err)


def test_bad_indentation_reports_its_line():
    err = load_error("bad_indent.yml")
    assert (err.line, err.column) == (6, 6)
    assert "malformed YAML" in str(err)


def test_hosts_must_be_a_mapping():
    err = load_error("hosts_is_list.yml")
    assert err.field == "all.children.pcs.hosts"
    assert (err.line, err.column) == (4, 7)
    assert "'hosts' must be a mapping, got a list" in str(err)
    assert str(err).startswith(f"{ERRORS / 'hosts_is_list.yml'}:4:7: all.children.pcs.hosts: ")


def test_unknown_group_key_is_an_error():
    err = load_error("unknown_key.yml")
    assert err.field == "all.children.servers.host"
    assert err.line == 6
    assert "unknown key 'host'" in str(err) and "hosts, vars and children" in str(err)


def test_host_vars_must_be_a_mapping():
    err = load_error("host_vars_string.yml")
    assert err.field == "all.children.pcs.hosts.pc-01"
    assert err.line == 5
    assert "vars of host 'pc-01' must be a mapping, got a string" in str(err)


def test_group_body_must_be_a_mapping():
    err = load_error("group_is_list.yml")
    assert err.field == "all.children.pcs" and err.line == 3


def test_top_level_must_be_a_mapping():
    err = load_error("top_level_list.yml")
    assert err.line == 2 and "top level must be a mapping" in str(err)


def test_empty_yaml_inventory_is_an_error(tmp_path):
    (tmp_path / "empty.yml").write_text("# nothing\n")
    with pytest.raises(InputError, match="empty YAML inventory"):
        load_inventory(tmp_path / "empty.yml")


def test_inventory_plugin_config_is_refused_clearly(tmp_path):
    (tmp_path / "aws.yml").write_text("# dynamic\nplugin: amazon.aws.aws_ec2\nregions: [ap-southeast-3]\n")
    with pytest.raises(InputError, match="inventory plugins") as info:
        load_inventory(tmp_path / "aws.yml")
    assert info.value.line == 2


def test_cycle_is_an_error_naming_the_loop():
    err = load_error("cycle.yml")
    assert err.field == "all.children.a.children.b.children.c.children.a"
    assert err.line == 9
    assert "group 'a' would become its own ancestor (a -> b -> c -> a)" in str(err)


def test_cycle_through_yaml_alias_does_not_recurse_forever(tmp_path):
    path = tmp_path / "inv.yml"
    path.write_text("all:\n  children:\n    a: &loop\n      children:\n        a: *loop\n")
    with pytest.raises(InputError, match="own ancestor"):
        load_inventory(path)


def test_bad_host_range():
    err = load_error("bad_range.yml")
    assert err.field == "all.hosts.pc-[01:9]" and err.line == 3
    assert "equal width" in str(err)


def test_non_integer_group_priority():
    err = load_error("bad_priority.yml")
    assert err.field == "all.children.pcs.vars.ansible_group_priority" and err.line == 5


def test_unsafe_tags_are_rejected_with_position():
    err = load_error("unknown_tag.yml")
    assert err.line == 3 and "malformed YAML" in str(err)
