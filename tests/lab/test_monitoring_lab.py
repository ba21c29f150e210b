"""The monitoring checks (checks/monitoring-linux.yml) and the C.6 inventory diff on lab hosts, against
what really happened there: real failed SSH logins made with the OpenSSH client, real listeners, the real
package database. Expected values are read independently (plain ssh and standard tools) where they come
from the host's state. Hosts are reset to a fresh overlay before and after.
"""

from __future__ import annotations

import socket
import subprocess
import time

from sopctl.compliance import inventory_diff
from sopctl.engine.targets import connection_spec
from sopctl.inventory import load_inventory
from sopctl.store import Store
from sopctl.transport import Fleet
from tests.unit.baseline import labkit

inventory = labkit.inventory_fixture("monitoring-inventory")
host = labkit.fresh_host_fixture(2)


def _attempt(lab, host: str, user: str, key) -> int:
    """One real SSH login attempt with the OpenSSH client and a key the host does not accept."""
    from sopctl.lab import core

    argv = ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={core.STATE_DIR / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
            f"{user}@{labkit.address(lab, host)}", "true"]
    return subprocess.run(argv, capture_output=True, timeout=30).returncode


def test_brute_force_is_counted_named_and_banned_without_touching_the_network(lab, inventory, host, tmp_path):
    applied = labkit.play(inventory, labkit.BASELINE, host, "--tags", "fail2ban")
    assert applied["returncode"] == 0, labkit.failed_tasks(applied)
    key = tmp_path / "wrong_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    # 5 invalid users, then 3 tries as root with a key root does not accept: 8 failed logins
    for user in ("admin", "test", "oracle", "ubuntu", "pa-batulicin"):
        assert _attempt(lab, host, user, key) == 255
    for _ in range(3):
        assert _attempt(lab, host, "root", key) == 255

    # fail2ban counts them (the lab's lines have no date: datepattern {NONE}) and bans 127.0.0.1 with the
    # lab's dummy action: nothing reaches this machine's firewall, and ssh keeps working
    deadline = time.monotonic() + 15
    status = ""
    while time.monotonic() < deadline:
        status = labkit.ssh(lab, host, "fail2ban-client status sshd").stdout
        if "127.0.0.1" in status.split("Banned IP list:")[-1]:
            break
        time.sleep(0.5)
    assert "127.0.0.1" in status.split("Banned IP list:")[-1], status
    assert "+127.0.0.1" in labkit.ssh(lab, host, "cat /run/fail2ban/fail2ban.dummy").stdout
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True)
    assert "f2b" not in ruleset.stdout and "127.0.0.1" not in ruleset.stdout

    store = tmp_path / "c2.db"
    rows = labkit.audit(inventory, host, "ssh-failed-logins,fail2ban-sshd-jail", store)
    logins = rows[host, "ssh-failed-logins"]
    assert logins["status"] == "fail"
    assert logins["observed"] == "8" and logins["expected"] == "<= 5"    # the lab's threshold (group vars)
    assert logins["output"].splitlines()[0] == "8 failed SSH logins in " + labkit.this_month() + \
        "; top source: 127.0.0.1 (8)"
    assert "invalid users: 5 attempts; existing users: 3 attempts" in logins["output"]
    jail = rows[host, "fail2ban-sshd-jail"]
    assert jail["status"] == "pass" and "banned: 127.0.0.1" in jail["observed"]

    items = labkit.report(store, labkit.this_month())
    assert items["C.2"]["status"] == "non-compliant"
    line = labkit.evidence(items["C.2"], "ssh-failed-logins", host)
    assert line["observed"] == "8" and "top source: 127.0.0.1 (8)" in line["output"]


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def test_listening_ports_are_judged_per_host_on_the_shared_network(lab, inventory, host, tmp_path):
    other = labkit.host_name(lab, 3) if labkit.host_name(lab, 3) != host else labkit.host_name(lab, 0)
    machine = socket.socket()                       # a listener of this machine itself, on every address
    machine.bind(("0.0.0.0", 0))
    machine.listen()
    machine_port = machine.getsockname()[1]
    wildcard, loopback = _free_port("0.0.0.0"), _free_port("127.0.0.1")
    started = labkit.ssh(lab, host, f"nohup python3 -m http.server {wildcard} --bind 0.0.0.0 >/dev/null 2>&1 & "
                                    f"echo $!; nohup python3 -m http.server {loopback} --bind 127.0.0.1 "
                                    f">/dev/null 2>&1 & echo $!").stdout.split()
    try:
        labkit.ssh(lab, host, f"for i in $(seq 50); do ss -Hltn | grep -q ':{loopback} ' && "
                              f"ss -Hltn | grep -q ':{wildcard} ' && exit 0; sleep 0.1; done; exit 1")
        rows = labkit.audit(inventory, f"{host},{other}", "listening-ports", tmp_path / "ports.db")
    finally:
        labkit.ssh(lab, host, "kill " + " ".join(started))
        machine.close()
    mine, theirs = rows[host, "listening-ports"], rows[other, "listening-ports"]
    assert mine["status"] == "fail"
    assert mine["observed"].startswith(f"unlisted listening ports: {wildcard} (0.0.0.0:{wildcard} python3")
    assert f"127.0.0.1:{loopback} python3: ignored (loopback only)" in mine["output"]
    machine_line = next(line for line in mine["output"].splitlines()
                        if line.startswith(f"0.0.0.0:{machine_port} "))
    assert machine_line.endswith("ignored (wildcard of another host on the shared network)")
    # the other host sees the same sockets (one network namespace) but none of them is its own
    assert theirs["status"] == "pass", theirs
    assert f"0.0.0.0:{wildcard} python3: ignored (wildcard of another host on the shared network)" in theirs["output"]
    assert f"{labkit.address(lab, host)}:22 sshd: ignored (another host's address" in theirs["output"]


def test_pending_updates_disk_memory_units_agree_with_the_host(lab, inventory, host, tmp_path):
    labkit.ssh(lab, host, ": > /var/run/reboot-required")
    rows = labkit.audit(inventory, host, "pending-*,disk-usage,memory-usage,load-average,failed-units,uptime,"
                                         "reboot-required,apt-lists-fresh,package-inventory", tmp_path / "c5.db")
    labkit.ssh(lab, host, "rm /var/run/reboot-required")
    real = labkit.ssh(lab, host, "LC_ALL=C apt-get -s -o Debug::NoLocking=true upgrade | grep '^Inst ' > /tmp/inst; "
                                 "grep -c . /tmp/inst; grep -cE '(Debian-Security:|Ubuntu:[^/]*/[^-]*-security)' /tmp/inst; "
                                 "df -P -l -x tmpfs -x devtmpfs -x squashfs -x iso9660 -x udf -x efivarfs | "
                                 "awk 'NR > 1 { sub(\"%\", \"\", $5); print $5 }' | sort -n | tail -n 1; "
                                 "dpkg-query -W -f '${db:Status-Abbrev}\\n' | grep -c '^ii'", check=False).stdout.split()
    total, security, disk, packages = (int(x) for x in real)
    assert rows[host, "pending-updates"]["observed"] == str(total)
    assert rows[host, "pending-security-updates"]["observed"] == str(security)
    assert rows[host, "pending-security-updates"]["status"] == ("pass" if security == 0 else "fail")
    assert int(rows[host, "disk-usage"]["observed"]) >= disk         # inodes may be fuller than blocks
    assert 0 < float(rows[host, "memory-usage"]["observed"]) < 100
    assert float(rows[host, "load-average"]["observed"]) >= 0
    assert rows[host, "failed-units"]["status"] == "na"              # no systemd here: not a pass
    assert "no systemd" in rows[host, "failed-units"]["output"]
    assert rows[host, "reboot-required"]["status"] == "fail"
    assert rows[host, "package-inventory"]["observed"].startswith(f"{packages} packages installed, 0 unfinished")
    items = labkit.report(tmp_path / "c5.db", labkit.this_month())
    d4 = [rows[host, check]["status"] for check in ("pending-updates", "pending-security-updates", "apt-lists-fresh")]
    assert items["D.4"]["status"] == ("compliant" if d4 == ["pass"] * 3 else "non-compliant")
    assert rows[host, "pending-updates"]["status"] == ("pass" if total <= 50 else "fail")


def _deb(folder, name: str, version: str):
    root = folder / f"{name}_{version}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: sopctl tests <t@example.org>\n"
        f"Description: empty package for the C.6 inventory test\n")
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(folder / f"{name}_{version}.deb")],
                   check=True, capture_output=True)
    return folder / f"{name}_{version}.deb"


def _install(lab, host, *debs):
    for deb in debs:
        labkit.copy_to(lab, host, deb, f"/tmp/{deb.name}")
    labkit.ssh(lab, host, "dpkg -i " + " ".join(f"/tmp/{d.name}" for d in debs))


def _collect(lab, inventory_path, host):
    inventory = load_inventory(inventory_path)
    contexts = [(host, inventory.host_vars(host), {}, inventory.hosts[host].groups)]
    with Fleet([connection_spec(host, inventory.host_vars(host))]) as fleet:
        (outcome,) = inventory_diff.collect_fleet(fleet, contexts)
    assert outcome.ok, outcome.error
    return outcome.value


def _previous(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def test_inventory_diff_lists_added_removed_upgraded_packages(lab, inventory, host, tmp_path):
    month = labkit.this_month()
    a10, a11, b10, c10 = (_deb(tmp_path, "sopctl-test-a", "1.0"), _deb(tmp_path, "sopctl-test-a", "1.1"),
                          _deb(tmp_path, "sopctl-test-b", "1.0"), _deb(tmp_path, "sopctl-test-c", "1:0.9"))
    _install(lab, host, a10, b10)
    store_path = tmp_path / "c6.db"
    with Store.open(store_path) as store:
        _, first = inventory_diff.record(store, host, _collect(lab, inventory, host), _previous(month))
        assert first.summary == "first inventory of this host: nothing to compare with"
        _install(lab, host, a11, c10)
        labkit.ssh(lab, host, "dpkg -r sopctl-test-b")
        snapshot, change = inventory_diff.record(store, host, _collect(lab, inventory, host), month)
    assert change.data["added"] == {"sopctl-test-c": "1:0.9"}
    assert change.data["removed"] == {"sopctl-test-b": "1.0"}
    assert change.data["upgraded"] == {"sopctl-test-a": ["1.0", "1.1"]}
    assert change.data["downgraded"] == {} and change.data["hardware"] == {}   # same machine, same month's hardware
    assert change.summary == (f"since {_previous(month)}: 1 added, 1 removed, 1 upgraded, 0 downgraded; "
                              "hardware unchanged")
    assert snapshot.data["packages"]["sopctl-test-a"] == "1.1"

    rows = labkit.audit(inventory, host, "package-inventory", store_path)
    assert rows[host, "package-inventory"]["status"] == "pass"
    item = labkit.report(store_path, month)["C.6"]
    assert item["status"] == "compliant"
    summaries = [line.get("summary") for line in item["evidence"] if line["kind"] == "record"]
    assert change.summary in summaries
