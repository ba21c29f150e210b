"""Model helpers: host ranges, host:port, the group graph, magic vars."""

import pytest

from sopctl.errors import PatternError
from sopctl.inventory import Inventory, VaultValue
from sopctl.inventory.model import InventoryGraphError, expand_hostname_range, short_hostname, split_host_port


@pytest.mark.parametrize("pattern, expected", [
    ("pc-[01:03]", ["pc-01", "pc-02", "pc-03"]),
    ("pc-[8:10]", ["pc-8", "pc-9", "pc-10"]),
    ("pc-[008:010]", ["pc-008", "pc-009", "pc-010"]),
    ("[a:c].pa.local", ["a.pa.local", "b.pa.local", "c.pa.local"]),
    ("x[y:B]", ["xy", "xz", "xA", "xB"]),
    ("n[:2]", ["n0", "n1", "n2"]),
    ("n[0:6:3]", ["n0", "n3", "n6"]),
    ("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"]),
])
def test_expand_hostname_range(pattern, expected):
    assert expand_hostname_range(pattern) == expected


@pytest.mark.parametrize("pattern, message", [
    ("pc-[01:9]", "equal width"), ("pc-[3:1]", "start <= end"), ("pc-[1]", "[start:end]"),
    ("pc-[1:]", "no end"), ("pc-[1:x]", "non-numeric"), ("pc-[1:3", "closing"), ("pc-[1:3:0]", "positive step"),
])
def test_bad_ranges(pattern, message):
    with pytest.raises(InventoryGraphError, match=message.replace("[", r"\[")):
        expand_hostname_range(pattern)


@pytest.mark.parametrize("entry, expected", [
    ("srv", ("srv", None)), ("srv:22", ("srv", 22)), ("192.0.2.1:2222", ("192.0.2.1", 2222)),
    ("pc-[01:20]", ("pc-[01:20]", None)), ("pc-[01:20]:2200", ("pc-[01:20]", 2200)),
    ("fe80::1", ("fe80::1", None)), ("[fe80::1]:22", ("fe80::1", 22)), ("a:b:22", ("a:b:22", None)),
])
def test_split_host_port(entry, expected):
    assert split_host_port(entry) == expected


def test_short_hostname():
    assert short_hostname("pc-01.pa.local") == "pc-01"
    assert short_hostname("192.0.2.1") == "192.0.2.1"


def test_cycle_refused_including_self_loop():
    inv = Inventory()
    inv.add_child("a", "b")
    with pytest.raises(InventoryGraphError, match=r"\(a -> b -> a\)"):
        inv.add_child("b", "a")
    with pytest.raises(InventoryGraphError, match="own ancestor"):
        inv.add_child("c", "c")


def test_repeated_edges_and_hosts_are_idempotent():
    inv = Inventory()
    inv.add_child("a", "b")
    inv.add_child("a", "b")
    inv.add_host("h", "b")
    inv.add_host("h", "b")
    inv.finalize()
    assert inv.groups["a"].children == ["b"] and inv.groups["b"].hosts == ["h"]


def test_finalize_attaches_orphans_to_all_and_ungrouped():
    inv = Inventory()
    inv.add_host("lonely")
    inv.add_group("empty")
    inv.finalize()
    assert inv.groups["ungrouped"].hosts == ["lonely"]
    assert "empty" in inv.groups["all"].children


def test_host_vars_unknown_host():
    with pytest.raises(PatternError, match="no host named 'ghost'"):
        Inventory().host_vars("ghost")


def test_magic_vars_override_user_vars():
    inv = Inventory()
    inv.add_host("h")
    inv.set_host_var("h", "inventory_hostname", "spoofed")
    inv.finalize()
    assert inv.hosts["h"].vars["inventory_hostname"] == "spoofed"
    assert inv.host_vars("h")["inventory_hostname"] == "h"


def test_vault_value_is_a_value_object():
    assert VaultValue("abc") == VaultValue("abc")
    assert "abc" not in repr(VaultValue("abc"))
