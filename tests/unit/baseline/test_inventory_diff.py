"""C.6 inventory diff (sopctl.compliance.inventory_diff): Debian version order, the diff, and the evidence rows
in a real results store."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from sopctl.compliance import inventory_diff as inv
from sopctl.store import Store

PAIRS = [("1.0", "1.0", 0), ("1.0", "1.1", -1), ("1.10", "1.9", 1), ("1.0~rc1", "1.0", -1), ("1.0~~", "1.0~", -1),
         ("1:0.9", "2.0", 1), ("0:1.0", "1.0", 0), ("1.0-1", "1.0-0", 1), ("1.0", "1.0-0", 0), ("1.0+b1", "1.0", 1),
         ("2.0a", "2.0", 1), ("1.0.0", "1.0", 1), ("5.2.15-2+b8", "5.2.15-2+b13", -1),
         ("1:4.13+dfsg1-1+deb12u1", "1:4.13+dfsg1-1+deb12u2", -1), ("3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.12", -1),
         ("1.2.3-1~bpo12+1", "1.2.3-1", -1), ("1.0a", "1.0+", -1), ("1.0-1ubuntu1", "1.0-1", 1)]


@pytest.mark.parametrize("a, b, order", PAIRS)
def test_debian_version_order(a, b, order):
    assert inv.compare_versions(a, b) == order
    assert inv.compare_versions(b, a) == -order


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg to compare with")
def test_agrees_with_dpkg():
    for a, b, order in PAIRS:
        relation = {-1: "lt", 0: "eq", 1: "gt"}[order]
        assert subprocess.run(["dpkg", "--compare-versions", a, relation, b]).returncode == 0, (a, b)


def _inv(packages, **hardware):
    base = {"cpu_model": "Intel Xeon", "cpus": 4, "memory_mb": 16000, "disks": {"sda": "480 GB SSD S1"},
            "interfaces": {"eth0": "52:54:00:12:34:56"}, "kernel": "6.1.0-18-amd64"}
    return inv.Inventory(packages, {**base, **hardware}, "2026-10-30T00:00:00Z")


def test_diff_added_removed_upgraded_downgraded_and_hardware():
    old = _inv({"bash": "5.2.15-2+b8", "nginx": "1.22.1-9", "telnet": "0.17-44", "openssl": "3.0.11-1~deb12u2"})
    new = _inv({"bash": "5.2.15-2+b13", "nginx": "1.22.1-9", "openssl": "3.0.11-1~deb12u1", "fail2ban": "1.0.2-2"},
               memory_mb=32000, disks={"sda": "480 GB SSD S1", "sdb": "2000 GB HDD Z2"}, kernel="6.1.0-25-amd64")
    change = inv.diff(old, new)
    assert change.added == {"fail2ban": "1.0.2-2"}
    assert change.removed == {"telnet": "0.17-44"}
    assert change.upgraded == {"bash": ("5.2.15-2+b8", "5.2.15-2+b13")}
    assert change.downgraded == {"openssl": ("3.0.11-1~deb12u2", "3.0.11-1~deb12u1")}
    assert change.hardware == {"disks.sdb": (None, "2000 GB HDD Z2"), "kernel": ("6.1.0-18-amd64", "6.1.0-25-amd64"),
                               "memory_mb": (16000, 32000)}
    assert inv.describe(change, "2026-10") == ("since 2026-10: 1 added, 1 removed, 1 upgraded, 1 downgraded; hardware: "
                                               "disks.sdb none -> 2000 GB HDD Z2; kernel 6.1.0-18-amd64 -> 6.1.0-25-amd64; "
                                               "memory_mb 16000 -> 32000")


def test_memory_moving_by_a_few_mib_is_not_a_hardware_change():
    assert inv.diff(_inv({}), _inv({}, memory_mb=15950)).hardware == {}
    assert inv.diff(_inv({}), _inv({}, memory_mb=8000)).hardware == {"memory_mb": (16000, 8000)}


def test_parse_collected_and_its_errors():
    text = json.dumps({"packages": {"bash": "5.2"}, "hardware": {"cpus": 2}, "errors": []})
    got = inv.parse_collected("some noise\n" + text + "\n", collected="2026-11-24T00:00:00Z")
    assert got == inv.Inventory({"bash": "5.2"}, {"cpus": 2}, "2026-11-24T00:00:00Z")
    with pytest.raises(ValueError, match="did not print JSON"):
        inv.parse_collected("Traceback (most recent call last):")
    with pytest.raises(ValueError, match="no packages"):
        inv.parse_collected('{"hardware": {}}')


def test_record_compares_with_the_newest_earlier_month_and_says_which(tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        _, first = inv.record(store, "srv-01", _inv({"a": "1.0"}), "2026-08")
        assert first.summary == "first inventory of this host: nothing to compare with" and first.data["previous"] is None
        inv.record(store, "srv-01", _inv({"a": "1.1"}), "2026-09")
        inv.record(store, "pc-01", _inv({"zzz": "9"}), "2026-10")          # another host: never a basis
        # October was missed for srv-01: November compares with September, and says so
        snapshot, change = inv.record(store, "srv-01", _inv({"a": "1.2", "b": "1"}), "2026-11")
        assert change.summary == "since 2026-09: 1 added, 0 removed, 1 upgraded, 0 downgraded; hardware unchanged"
        assert change.data["previous"]["month"] == "2026-09"
        assert change.data["upgraded"] == {"a": ["1.1", "1.2"]}
        # recording November again compares with the same basis (not with November's own first snapshot)
        _, again = inv.record(store, "srv-01", _inv({"a": "1.2", "b": "1"}), "2026-11")
        assert again.summary == change.summary
        rows = [(r.kind, r.host, r.month) for r in store.evidence_for("C.6")]
    assert rows.count(("package-inventory", "srv-01", "2026-11")) == 2
    assert snapshot.summary == "2 packages; 4 CPUs Intel Xeon; 16000 MiB; disks sda 480 GB"
    assert inv.Inventory.from_data(snapshot.data).packages == {"a": "1.2", "b": "1"}


def test_a_snapshot_of_another_schema_is_refused():
    with pytest.raises(ValueError, match="schema-1"):
        inv.Inventory.from_data({"schema": 2, "packages": {}})


def test_the_collect_script_runs_here_and_reads_this_machine(tmp_path):
    if shutil.which("dpkg-query") is None:
        pytest.skip("needs a Debian-family machine")
    done = subprocess.run(["/bin/sh", "-c", inv.COLLECT_SCRIPT], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, timeout=60)
    assert done.returncode == 0, done.stderr
    got = inv.parse_collected(done.stdout)
    assert got.packages["dpkg"] and got.hardware["cpus"] >= 1 and got.hardware["memory_mb"] > 0
