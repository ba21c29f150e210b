"""The Linux security baseline end to end on lab hosts, through the real CLI (docs/baseline-linux.md).

A fresh host fails the baseline checks; `sopctl play playbooks/baseline-linux.yml` fixes it; the checks then
pass; a second apply changes nothing. Then someone re-enables root login in a drop-in that sorts first
and opens an unlisted port: the report turns C.3 and D.1 non-compliant, showing what was observed. The
false-positive traps of each check are tried on a second host: a commented-out sshd line, an Included
file, a Match block, localised command output (LANG=id_ID.UTF-8 in the host's environment), files
absent rather than empty. Hosts are reset to a fresh overlay before and after, so other tests see a
clean lab.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO
from tests.unit.baseline import labkit

CHECKS = ",".join(c["id"] for c in yaml.safe_load((REPO / "checks" / "baseline-linux.yml").read_text())["checks"])
# A fresh lab host is this machine's Debian as installed: these are off in Debian's defaults.
FRESH_FAILURES = {"sshd-x11-forwarding", "sshd-max-auth-tries", "login-banner", "pass-max-days",
                  "sysctl-network", "firewall-active", "fail2ban-running", "fail2ban-sshd-jail"}


inventory = labkit.inventory_fixture("baseline-inventory")


@pytest.fixture(scope="module")
def hosts(lab):
    """(baselined host, trap host), fresh now and fresh again afterwards."""
    names = (labkit.host_name(lab, 0), labkit.host_name(lab, 1))
    labkit.reset(lab, *set(names))
    yield names
    labkit.reset(lab, *set(names))


def _machine_privileged_extras() -> set[str]:
    """Accounts of this machine (so of every fresh lab host) that privileged-accounts would name."""
    extras = set()
    for line in Path("/etc/passwd").read_text().splitlines():
        name, _, uid = line.split(":")[:3]
        if uid == "0" and name != "root":
            extras.add(name)
    for line in Path("/etc/group").read_text().splitlines():
        parts = line.rstrip("\n").split(":")
        if parts[0] in ("sudo", "admin", "wheel") and parts[3]:
            extras |= {m for m in parts[3].split(",") if m and m != "root"}
    return extras


def test_fresh_host_fails_play_fixes_second_play_changes_nothing_tampering_shows(lab, inventory, hosts, tmp_path):
    host, _ = hosts
    rows = labkit.audit(inventory, host, CHECKS, tmp_path / "fresh.db")
    fresh = labkit.statuses(rows, host)
    assert {c for c, s in fresh.items() if s == "fail"} >= FRESH_FAILURES, fresh
    # the lab judges the firewall by /etc/nftables.conf (the network is the machine's), and says so
    assert rows[host, "firewall-active"]["observed"].startswith(("inbound allowed by default", "no firewall"))
    assert "/etc/nftables.conf" in rows[host, "firewall-active"]["observed"]

    applied = labkit.play(inventory, labkit.BASELINE, host)
    assert applied["returncode"] == 0 and not labkit.failed_tasks(applied), (labkit.failed_tasks(applied),
                                                                                applied["stderr"])
    assert applied["recap"][host]["changed"] > 0
    # every task says which SOP items it serves
    assert all(t["sop"] for t in applied["plays"][0]["tasks"] if not t["handler"] and t["task"] != "Gathering Facts")

    rows = labkit.audit(inventory, host, CHECKS, tmp_path / "applied.db")
    after = labkit.statuses(rows, host)
    extras = _machine_privileged_extras()
    expected = {check: "pass" for check in after}
    expected["time-sync"] = "na"          # the lab's clock is the machine's: not applicable, not a pass
    if extras:
        expected["privileged-accounts"] = "fail"
    if labkit.ssh(lab, host, "test -e /var/run/reboot-required && echo yes || echo no").stdout.strip() == "yes":
        expected["reboot-required"] = "fail"   # the machine's own flag, seen through the overlay
    assert after == expected, {c: (rows[host, c]["observed"], rows[host, c]["expected"]) for c in after
                               if after[c] != expected[c]}
    assert rows[host, "sysctl-network"]["observed"].startswith("all ")
    assert "sysctl files" in rows[host, "sysctl-network"]["observed"]   # the lab reads config, and says so
    assert "policy drop" in rows[host, "firewall-active"]["observed"]
    assert rows[host, "time-sync"]["observed"] == "(not applicable)"
    assert "shares its kernel" in rows[host, "time-sync"]["output"]

    # the kernel was not touched: the machine's own firewall and sysctls are as before
    again = labkit.play(inventory, labkit.BASELINE, host)
    assert again["returncode"] == 0 and again["recap"][host]["changed"] == 0, [
        (t["task"], t["msg"]) for p in again["plays"] for t in p["tasks"] if t["changed"]]

    # root login re-enabled in a drop-in that sorts first, and a listener on an unlisted port
    labkit.ssh(lab, host, "printf 'PermitRootLogin yes\\n' > /etc/ssh/sshd_config.d/10-tamper.conf")
    port = 18760 + lab.host(host).index
    pid = labkit.ssh(lab, host, f"nohup python3 -m http.server {port} --bind {labkit.address(lab, host)} "
                                f">/dev/null 2>&1 & echo $!").stdout.strip()
    try:
        labkit.ssh(lab, host, f"for i in $(seq 50); do ss -Hltn | grep -q ':{port} ' && exit 0; sleep 0.1; done; exit 1")
        store = tmp_path / "tampered.db"
        rows = labkit.audit(inventory, host, CHECKS + ",listening-ports", store)
    finally:
        labkit.ssh(lab, host, f"kill {pid}")
    assert rows[host, "sshd-permit-root-login"]["status"] == "fail"
    assert rows[host, "sshd-permit-root-login"]["observed"] == "yes"
    assert rows[host, "listening-ports"]["status"] == "fail"
    assert f"{port} ({labkit.address(lab, host)}:{port} python3" in rows[host, "listening-ports"]["observed"]

    items = labkit.report(store, labkit.this_month())
    assert items["C.3"]["status"] == "non-compliant"
    assert labkit.evidence(items["C.3"], "sshd-permit-root-login", host)["observed"] == "yes"
    assert items["D.1"]["status"] == "non-compliant"
    assert str(port) in labkit.evidence(items["D.1"], "listening-ports", host)["observed"]
    # the rest of the baseline still holds: only the tampered checks fail
    failing = {c for (h, c), r in rows.items() if r["status"] == "fail"}
    assert failing - {"privileged-accounts", "reboot-required"} == {"sshd-permit-root-login", "listening-ports"}


def _statuses(lab, inventory, host, tmp_path, name, checks=None, env=None):
    everything = CHECKS + ",ssh-failed-logins,disk-usage,memory-usage,load-average,uptime"
    return labkit.audit(inventory, host, checks or everything, tmp_path / f"{name}.db", env=env)


def test_false_positive_traps(lab, inventory, hosts, tmp_path):
    _, host = hosts
    applied = labkit.play(inventory, labkit.BASELINE, host)
    assert applied["returncode"] == 0, labkit.failed_tasks(applied)

    # 1. a commented-out line and a Match block in a drop-in that sorts first: not the global setting
    labkit.ssh(lab, host, "printf '%s\\n' '#PermitRootLogin yes' '# PasswordAuthentication yes' "
                          "'Match User sopctl-trap Address 192.0.2.0/24' '    PasswordAuthentication yes' "
                          "'    X11Forwarding yes' '    PermitRootLogin yes' > /etc/ssh/sshd_config.d/10-trap.conf")
    rows = _statuses(lab, inventory, host, tmp_path, "match", "sshd-*")
    for check in ("sshd-permit-root-login", "sshd-password-authentication", "sshd-x11-forwarding"):
        assert rows[host, check]["status"] == "pass", rows[host, check]
    assert rows[host, "sshd-password-authentication"]["observed"] == "no"
    # ... while the Match block is real: sshd -T for that connection sees it (so the probe is right to
    # read the global value and not the file's text)
    matched = labkit.ssh(lab, host, "sshd -T -C user=sopctl-trap,host=x,addr=192.0.2.7 | grep -i '^passwordauthentication'")
    assert matched.stdout.split() == ["passwordauthentication", "yes"]

    # 2. an Included file counts (sshd reads it first): a reader of sshd_config.d alone would miss it
    labkit.ssh(lab, host, "printf 'PasswordAuthentication yes\\n' > /etc/ssh/sopctl-trap-included.conf; "
                          "printf 'Include /etc/ssh/sopctl-trap-included.conf\\n' > /etc/ssh/sshd_config.d/05-trap.conf")
    rows = _statuses(lab, inventory, host, tmp_path, "include", "sshd-*")
    assert rows[host, "sshd-password-authentication"]["status"] == "fail"
    assert rows[host, "sshd-password-authentication"]["observed"] == "yes"
    labkit.ssh(lab, host, "rm /etc/ssh/sshd_config.d/05-trap.conf /etc/ssh/sshd_config.d/10-trap.conf "
                          "/etc/ssh/sopctl-trap-included.conf")

    # 3. sysctl files: a commented assignment is nothing, a later file overrides an earlier one
    labkit.ssh(lab, host, "printf '# net.ipv4.ip_forward = 1\\n; net.ipv4.tcp_syncookies=0\\n' > /etc/sysctl.d/99-trap.conf")
    rows = _statuses(lab, inventory, host, tmp_path, "sysctl-comment", "sysctl-network")
    assert rows[host, "sysctl-network"]["status"] == "pass", rows[host, "sysctl-network"]["observed"]
    labkit.ssh(lab, host, "printf 'net.ipv4.ip_forward = 1\\n' > /etc/sysctl.d/99-trap.conf")
    rows = _statuses(lab, inventory, host, tmp_path, "sysctl-override", "sysctl-network")
    assert rows[host, "sysctl-network"]["status"] == "fail"
    assert "net.ipv4.ip_forward=1 (want 0)" in rows[host, "sysctl-network"]["observed"]
    labkit.ssh(lab, host, "rm /etc/sysctl.d/99-trap.conf")

    # 4. absent is not empty: the banner file, login.defs' line, the reboot flag, the auth log. (On the lab
    # sshd re-creates /var/log/auth.log at every connection, the audit's included, so the log's absence
    # is shown with a log path of the host's own: monitoring_auth_log in host_vars.)
    host_vars = inventory.parent / "host_vars"
    host_vars.mkdir(exist_ok=True)
    (host_vars / f"{host}.yml").write_text("monitoring_auth_log: /var/log/sopctl-trap/auth.log\n")
    try:
        labkit.ssh(lab, host, "cp /etc/issue.net /tmp/issue.net.saved; : > /etc/issue.net; : > /var/run/reboot-required; "
                              "sed -i 's/^PASS_MAX_DAYS/#PASS_MAX_DAYS/' /etc/login.defs; rm -rf /var/log/sopctl-trap")
        empty = _statuses(lab, inventory, host, tmp_path, "empty", "login-banner,reboot-required,pass-max-days,ssh-failed-logins")
        labkit.ssh(lab, host, "rm /etc/issue.net /var/run/reboot-required; mkdir /var/log/sopctl-trap; "
                              ": > /var/log/sopctl-trap/auth.log")
        absent = _statuses(lab, inventory, host, tmp_path, "absent", "login-banner,reboot-required,pass-max-days,ssh-failed-logins")
    finally:
        (host_vars / f"{host}.yml").unlink()
    assert empty[host, "login-banner"]["observed"] == "no banner: /etc/issue.net is empty"
    assert absent[host, "login-banner"]["observed"] == "no banner: /etc/issue.net does not exist"
    assert empty[host, "login-banner"]["status"] == absent[host, "login-banner"]["status"] == "fail"
    assert empty[host, "reboot-required"]["status"] == "fail"        # an empty flag file is still the flag
    assert absent[host, "reboot-required"]["status"] == "pass"
    assert empty[host, "pass-max-days"]["observed"] == "(absent)"      # only a commented line: no maximum
    assert empty[host, "pass-max-days"]["status"] == "fail"
    # no auth log at all (and no journal on the lab): not "0 failed logins" but nothing observed ...
    assert empty[host, "ssh-failed-logins"]["observed"] == "(absent)"
    assert empty[host, "ssh-failed-logins"]["status"] == "fail"
    assert "no SSH log found" in empty[host, "ssh-failed-logins"]["output"]
    # ... while an empty log is a real zero
    assert absent[host, "ssh-failed-logins"]["observed"] == "0"
    assert absent[host, "ssh-failed-logins"]["status"] == "pass"
    labkit.ssh(lab, host, "mv /tmp/issue.net.saved /etc/issue.net; sed -i 's/^#PASS_MAX_DAYS/PASS_MAX_DAYS/' /etc/login.defs")

    # 5. localised output: the host's sessions run under LANG=id_ID.UTF-8; the tools really do speak
    # Indonesian there (and write 1,5 for 1.5), and the probes (LC_ALL=C) see the same as before
    base = _statuses(lab, inventory, host, tmp_path, "before-locale")
    labkit.ssh(lab, host, "localedef -i id_ID -f UTF-8 id_ID.UTF-8 && echo LANG=id_ID.UTF-8 > /etc/default/locale")
    shown = labkit.ssh(lab, host, "echo $LANG; df -P / | head -n 1; awk 'BEGIN { printf \"%.1f\\n\", 1.5 }'").stdout
    assert shown.splitlines()[0] == "id_ID.UTF-8"
    assert "Sistem Berkas" in shown and "1,5" in shown
    local = _statuses(lab, inventory, host, tmp_path, "localised", env={"LANG": "id_ID.UTF-8", "LC_ALL": "id_ID.UTF-8"})
    assert local.keys() == base.keys()
    assert {k: r["status"] for k, r in local.items()} == {k: r["status"] for k, r in base.items()}
    for check in ("disk-usage", "memory-usage", "load-average", "uptime"):
        assert "," not in local[host, check]["observed"], local[host, check]
        float(local[host, check]["observed"])
