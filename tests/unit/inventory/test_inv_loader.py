"""Several sources and inventory directories merged into one Inventory, all or nothing."""

import shutil
from pathlib import Path

import pytest

from sopctl.errors import InputError
from sopctl.inventory import load_inventory

DATA = Path(__file__).parent / "data"
MULTI = DATA / "multi"


def test_directory_loads_every_file_in_sorted_order_recursively():
    inv = load_inventory(MULTI)
    assert list(inv.hosts) == ["pc-01", "pc-02", "srv-app", "printer-a"]
    assert set(inv.groups) == {"all", "ungrouped", "pcs", "servers", "printers"}
    assert inv.sources == [str(MULTI)]


def test_later_file_overrides_earlier_group_vars():
    # 10-base.yml says desktop, 20-servers (INI) says workstation
    assert load_inventory(MULTI).hosts["pc-01"].vars["role"] == "workstation"


def test_directory_group_vars_apply():
    inv = load_inventory(MULTI)
    assert all(h.vars["site"] == "batulicin" for h in inv.hosts.values())


def test_ignored_entries_are_skipped(tmp_path):
    copy = tmp_path / "inv"
    shutil.copytree(MULTI, copy)
    for junk in ("20-servers~", "notes.md", "old.retry", "cache.pyc", ".hidden", "site.cfg", "x.orig"):
        (copy / junk).write_text("[broken\nnot an inventory\n")
    (copy / ".git").mkdir()
    (copy / ".git" / "config").write_text("[broken\n")
    assert list(load_inventory(copy).hosts) == ["pc-01", "pc-02", "srv-app", "printer-a"]


def test_group_vars_of_subdirectories_do_not_apply(tmp_path):
    copy = tmp_path / "inv"
    shutil.copytree(MULTI, copy)
    (copy / "sub" / "group_vars").mkdir()
    (copy / "sub" / "group_vars" / "all.yml").write_text("site: sub\n")
    assert load_inventory(copy).hosts["printer-a"].vars["site"] == "batulicin"


def test_list_of_sources_and_their_own_vars_dirs():
    extra = DATA / "extra" / "extra.ini"
    inv = load_inventory([MULTI, str(extra)])
    assert inv.sources == [str(MULTI), str(extra)]
    assert list(inv.hosts) == ["pc-01", "pc-02", "srv-app", "printer-a", "srv-backup"]
    assert inv.groups["servers"].hosts == ["srv-app", "srv-backup"]
    srv = inv.hosts["srv-app"].vars
    assert srv["from_extra_group_vars"] is True  # extra/group_vars applies to the merged group
    # extra.ini's [servers:vars] site=... is an inventory group var: group_vars/all still beats it
    assert srv["site"] == "batulicin"
    assert [vd.path for vd in inv.vars_dirs] == [str(MULTI), str(DATA / "extra")]


def test_two_files_in_one_directory_share_vars_dir(tmp_path):
    (tmp_path / "a.yml").write_text("all:\n  hosts:\n    h1:\n")
    (tmp_path / "b.ini").write_text("h2\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("x: 1\n")
    inv = load_inventory([tmp_path / "a.yml", tmp_path / "b.ini"])
    assert [h.vars for h in inv.hosts.values()] == [{"x": 1}, {"x": 1}]
    assert inv.vars_dirs[0] is inv.vars_dirs[1]


def test_json_inventory_is_yaml(tmp_path):
    path = tmp_path / "inv.json"
    path.write_text('{"all": {"children": {"pcs": {"hosts": {"pc-01": {"x": 1}}}}}}')
    assert load_inventory(path).hosts["pc-01"].vars == {"x": 1}


def test_missing_source_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="inventory source not found") as info:
        load_inventory(tmp_path / "nope.yml")
    assert info.value.path == str(tmp_path / "nope.yml")


def test_one_bad_file_fails_the_whole_load(tmp_path):
    copy = tmp_path / "inv"
    shutil.copytree(MULTI, copy)
    (copy / "99-bad.yml").write_text("all:\n  hots:\n")
    with pytest.raises(InputError) as info:
        load_inventory(copy)
    assert info.value.path == str(copy / "99-bad.yml") and info.value.line == 2


def test_undefined_child_may_come_from_an_earlier_source(tmp_path):
    (tmp_path / "a.yml").write_text("all:\n  children:\n    pcs:\n      hosts:\n        pc-01:\n")
    (tmp_path / "b.ini").write_text("[office:children]\npcs\n")
    inv = load_inventory([tmp_path / "a.yml", tmp_path / "b.ini"])
    assert inv.hosts["pc-01"].groups == ["office", "pcs"]


def test_non_utf8_file_is_an_input_error(tmp_path):
    (tmp_path / "hosts").write_bytes(b"[pcs]\npc-\xff\n")
    with pytest.raises(InputError, match="not valid UTF-8"):
        load_inventory(tmp_path / "hosts")


def test_empty_source_list_gives_empty_inventory():
    inv = load_inventory([])
    assert inv.hosts == {} and set(inv.groups) == {"all", "ungrouped"}
    assert inv.select("all") == []
