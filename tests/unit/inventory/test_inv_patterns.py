"""Host patterns (`--limit`, `hosts:`): Ansible's terms and operators, results in inventory order."""

from pathlib import Path

import pytest

from sopctl.errors import PatternError
from sopctl.inventory import load_inventory
from sopctl.inventory.patterns import order_terms, split_pattern

DATA = Path(__file__).parent / "data"
PCS = [f"pc-{n:02d}" for n in range(1, 13)]
PRINTERS = ["printer-a", "printer-b", "printer-c"]


@pytest.fixture(scope="module")
def inv():
    return load_inventory(DATA / "office_yaml" / "inventory.yml")


def names(inv, pattern):
    return [h.name for h in inv.select(pattern)]


@pytest.mark.parametrize("pattern", [None, "", "all", "*", ["all"]])
def test_everything(inv, pattern):
    assert names(inv, pattern) == list(inv.hosts)


def test_host_and_group_names(inv):
    assert names(inv, "srv-db") == ["srv-db"]
    assert names(inv, "printers") == PRINTERS
    assert names(inv, "office") == PCS + PRINTERS  # children's hosts included
    assert names(inv, "ungrouped") == ["gateway"]


@pytest.mark.parametrize("pattern", ["servers:printers", "servers,printers", "printers:servers",
                                     " servers , printers "])
def test_union_in_inventory_order(inv, pattern):
    assert names(inv, pattern) == PRINTERS + ["srv-app", "srv-db"]


def test_union_has_no_duplicates(inv):
    assert names(inv, "linux:pcs:pc-01") == PCS + ["srv-app", "srv-db"]


def test_intersection(inv):
    assert names(inv, "office:&linux") == ["pc-01"]
    assert names(inv, "linux,&servers") == ["srv-app", "srv-db"]


def test_exclusion(inv):
    assert names(inv, "linux:!servers") == ["pc-01"]
    assert names(inv, "pcs:!pc-0*") == ["pc-10", "pc-11", "pc-12"]


def test_operators_apply_unions_then_intersections_then_exclusions(inv):
    # written order does not matter: the exclusion comes last even when written first
    assert names(inv, "!pc-01:&linux:office") == []
    assert names(inv, "!srv-db,&linux,office,servers") == ["pc-01", "srv-app"]


def test_only_exclusions_start_from_all(inv):
    assert names(inv, "!office") == ["gateway", "srv-app", "srv-db"]
    assert names(inv, "&servers") == ["srv-app", "srv-db"]


def test_wildcards_match_hosts_and_groups(inv):
    assert names(inv, "pc-1?") == ["pc-10", "pc-11", "pc-12"]
    assert names(inv, "print*") == PRINTERS  # group `printers` and hosts printer-*
    assert names(inv, "serv*") == ["srv-app", "srv-db"]  # group only
    assert names(inv, "srv-[ad]*") == ["srv-app", "srv-db"]


def test_wildcard_matching_nothing_is_empty_not_an_error(inv):
    assert names(inv, "nothing-*") == []
    assert names(inv, "~^nothing") == []


def test_regex_is_anchored_at_start_like_re_match(inv):
    assert names(inv, "~pc-0[1-3]") == ["pc-01", "pc-02", "pc-03"]
    assert names(inv, "~(srv|printer)-a") == ["printer-a", "srv-app"]
    assert names(inv, "~app") == []  # re.match, not re.search


def test_regex_with_colon_and_comma_separation(inv):
    assert names(inv, "~pc-1[0-1],gateway") == ["gateway", "pc-10", "pc-11"]


def test_subscripts(inv):
    assert names(inv, "pcs[0]") == ["pc-01"]
    assert names(inv, "pcs[-1]") == ["pc-12"]
    assert names(inv, "pcs[1:3]") == ["pc-02", "pc-03", "pc-04"]
    assert names(inv, "pcs[10:]") == ["pc-11", "pc-12"]


def test_subscript_out_of_range(inv):
    with pytest.raises(PatternError, match="out of range"):
        inv.select("pcs[40]")


def test_unknown_name_is_an_error_with_suggestions(inv):
    with pytest.raises(PatternError) as info:
        inv.select("office:!printrs")
    text = str(info.value)
    assert "no host or group named 'printrs'" in text
    assert "did you mean 'printers'" in text
    assert "groups: office, pcs, printers, servers, linux" in text


def test_unknown_name_in_intersection_is_an_error(inv):
    with pytest.raises(PatternError, match="'nope'"):
        inv.select("office:&nope")


def test_empty_group_is_not_unknown(tmp_path):
    (tmp_path / "hosts").write_text("[pcs]\npc-01\n[spare]\n")
    assert load_inventory(tmp_path / "hosts").select("spare") == []


def test_invalid_regex(inv):
    with pytest.raises(PatternError, match="invalid regular expression"):
        inv.select("~pc-(")


def test_empty_operator_term(inv):
    with pytest.raises(PatternError, match="empty term"):
        inv.select("office:!")


def test_exact_host_name_wins_over_same_named_group(tmp_path):
    (tmp_path / "hosts").write_text("[web]\nweb\nweb2\n")
    inv = load_inventory(tmp_path / "hosts")
    assert names(inv, "web") == ["web"]
    assert names(inv, "all:!web") == []  # `!web` resolves the group first, as in Ansible
    assert any("both a group and a host named 'web'" in w for w in inv.warnings)


def test_split_and_order():
    assert split_pattern("a:b:&c:!d") == ["a", "b", "&c", "!d"]
    assert split_pattern("a,b:c") == ["a", "b:c"]
    assert split_pattern("web[1:3]:db") == ["web[1:3]", "db"]
    assert split_pattern("2001:db8::1") == ["2001:db8::1"]
    assert split_pattern(["a:b", "c"]) == ["a", "b", "c"]
    assert order_terms(["!x", "a", "&y", "b"]) == ["a", "b", "&y", "!x"]
