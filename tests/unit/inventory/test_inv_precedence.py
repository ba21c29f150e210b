"""Variable precedence as Ansible's (VARIABLE_PRECEDENCE default), one test per rule.

Lowest to highest: inventory `all` vars, inventory group vars, group_vars/all, group_vars/<group>,
inventory host vars, host_vars/<host>. Within group layers: (depth, ansible_group_priority, name).
Each p_* variable in data/precedence is set in exactly two adjacent layers, so each test can fail.
"""

from pathlib import Path

import pytest

from sopctl.errors import InputError
from sopctl.inventory import load_inventory

DATA = Path(__file__).parent / "data"
PRECEDENCE = DATA / "precedence"


@pytest.fixture(scope="module")
def inv():
    return load_inventory(PRECEDENCE / "hosts.yml")


@pytest.fixture(scope="module")
def h1(inv):
    return inv.host_vars("h1")


def test_inventory_group_beats_inventory_all(h1):
    assert h1["p_l1_l2"] == "inventory-app"


def test_group_vars_all_beats_inventory_group_vars(h1):
    # Ansible: "inventory file or script group vars" < "inventory group_vars/all"
    assert h1["p_l2_l3"] == "group_vars-all"


def test_group_vars_group_beats_group_vars_all(h1):
    assert h1["p_l3_l4"] == "group_vars-app"


def test_inventory_host_vars_beat_group_vars_files(h1):
    assert h1["p_l4_l5"] == "inventory-host"


def test_host_vars_files_beat_inventory_host_vars(h1):
    assert h1["p_l5_l6"] == "host_vars"


def test_child_group_beats_parent_in_inventory(h1):
    # zone is app's parent; zone sorts later by name and has priority 100, yet depth decides first
    assert h1["depth_var"] == "app"


def test_child_group_beats_parent_in_group_vars(h1):
    assert h1["gv_depth"] == "app"


def test_same_depth_later_name_wins_in_inventory(h1):
    assert h1["alpha_beta"] == "beta"


def test_same_depth_later_name_wins_in_group_vars(h1):
    assert h1["gv_alpha_beta"] == "beta"


def test_group_priority_beats_name_order(inv):
    assert inv.host_vars("h2")["prio_var"] == "delta"
    assert inv.groups["delta"].priority == 10 and inv.groups["gamma"].priority == 1


def test_group_priority_is_consumed_not_a_variable(inv):
    assert "ansible_group_priority" not in inv.groups["delta"].vars
    assert "ansible_group_priority" not in inv.host_vars("h1")


def test_group_priority_in_group_vars_is_only_a_variable(inv):
    # group_vars/gamma.yml sets 1000; Ansible ignores it for ordering (and so do we)
    assert inv.groups["gamma"].priority == 1
    assert inv.host_vars("h2")["prio_var"] == "delta"
    assert inv.host_vars("h2")["ansible_group_priority"] == 1000


def test_merge_replaces_dicts_instead_of_deep_merging(h1):
    assert h1["merged"] == {"a": 3}


def test_sorted_groups_order(inv):
    assert [g.name for g in inv.sorted_groups("h1")] == ["alpha", "beta", "zone", "app"]
    assert [g.name for g in inv.sorted_groups("h2")] == ["gamma", "delta"]


def test_var_layers_explain_the_order(inv):
    labels = [label for label, _ in inv.var_layers("h1")]
    base = str(PRECEDENCE)
    assert labels == [
        "inventory group all", "inventory group alpha", "inventory group beta", "inventory group zone",
        "inventory group app", f"{base}/group_vars/all", f"{base}/group_vars/alpha", f"{base}/group_vars/beta",
        f"{base}/group_vars/zone", f"{base}/group_vars/app", "inventory host h1", f"{base}/host_vars/h1"]


def test_group_vars_directory_files_merge_in_sorted_order(h1):
    assert h1["dir_order"] == "second"
    assert h1["only_in_01"] is True
    assert h1["nested_loaded"] is True  # extension-less subdirectories are read too


def test_group_vars_directory_skips_hidden_and_unknown_extensions(h1):
    assert "hidden_loaded" not in h1


def test_directory_shadows_same_named_file_like_ansible(inv, h1):
    assert "shadowed_loaded" not in h1
    assert any("alpha.yml: ignored" in w and "alpha" in w for w in inv.warnings)


def test_files_for_unknown_groups_are_warned_about_not_loaded(inv):
    assert any("nosuchgroup.yml: ignored, the inventory has no group named 'nosuchgroup'" in w
               for w in inv.warnings)
    assert all("orphan" not in inv.host_vars(h) for h in inv.hosts)


def test_group_vars_only_reach_member_hosts(inv):
    assert "gv_depth" not in inv.host_vars("h2")
    assert inv.host_vars("h2")["p_l3_l4"] == "group_vars-all"


def test_malformed_group_vars_reports_file_line_column():
    path = DATA / "errors" / "bad_group_vars" / "group_vars" / "all.yml"
    with pytest.raises(InputError) as info:
        load_inventory(DATA / "errors" / "bad_group_vars" / "hosts.yml")
    err = info.value
    assert err.path == str(path)
    assert err.line == 3 and err.column is not None
    assert str(err).startswith(f"{path}:3:")


def test_group_vars_top_level_must_be_a_mapping():
    path = DATA / "errors" / "list_group_vars" / "group_vars" / "all.yml"
    with pytest.raises(InputError, match="must be a mapping of variable names") as info:
        load_inventory(DATA / "errors" / "list_group_vars" / "hosts.yml")
    assert info.value.path == str(path) and info.value.line == 1


def test_malformed_host_vars_with_ini_inventory():
    path = DATA / "errors" / "bad_host_vars" / "host_vars" / "pc-01.yml"
    with pytest.raises(InputError) as info:
        load_inventory(DATA / "errors" / "bad_host_vars" / "hosts")
    assert info.value.path == str(path) and info.value.line == 2


def test_empty_vars_file_is_no_vars(tmp_path):
    (tmp_path / "hosts").write_text("[pcs]\npc-01\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "pcs.yml").write_text("# nothing yet\n")
    assert load_inventory(tmp_path / "hosts").hosts["pc-01"].vars == {}


def test_host_vars_for_dotted_host_name(tmp_path):
    (tmp_path / "hosts").write_text("[srv]\ndb.pa.local\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "db.pa.local.yml").write_text("role: db\n")
    inv = load_inventory(tmp_path / "hosts")
    assert inv.hosts["db.pa.local"].vars == {"role": "db"}
    assert inv.host_vars("db.pa.local")["inventory_hostname_short"] == "db"
    assert inv.warnings == []
