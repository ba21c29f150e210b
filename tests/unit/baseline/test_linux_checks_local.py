"""The Linux checks' own scripts (checks/*-linux.yml), run for real on this machine through the real runner
(templates rendered with host variables, probes, expectations), with the tools they call replaced by
stubs that print recorded output: ufw, nft (JSON recorded from real nft in a private network namespace),
ss, apt-get, sshd, fail2ban-client, chronyc, apt-config, dpkg-query, df. What the lab cannot show (a real
ufw, Ubuntu's archive names, rsyslog's timestamps, a busy server) is shown here on recorded output.
"""

from __future__ import annotations

import gzip
import shlex
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from sopctl.compliance import load_catalog
from sopctl.compliance.checks import load_checks
from sopctl.compliance.runner import check_host

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).parent / "data"
CHECKS = {c.id: c for c in load_checks([REPO / "checks" / f"{name}-linux.yml" for name in
                                        ("baseline", "monitoring", "antivirus")],
                                       load_catalog(REPO / "checks" / "sop.yml"))}
DEFAULTS = yaml.safe_load((REPO / "inventory" / "group_vars" / "all.yml").read_text())
SYSTEMD = Path("/run/systemd/system").is_dir()


class LocalExecutor:
    """Runs `run` operations here, under /bin/sh with LC_ALL=C like the agent, stubs first on PATH (and
    without /usr/sbin, so the real nft, ufw, iptables, sshd of this machine are never reached)."""

    def __init__(self, stubs: Path):
        self.stubs = stubs

    def batch(self, host, operations):
        answers = []
        for op in operations:
            request = op.request
            assert request["op"] == "run", request
            env = {"PATH": f"{self.stubs}:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "HOME": str(self.stubs)}
            done = subprocess.run(request["cmd"], shell=True, capture_output=True, text=True,
                                  timeout=request["timeout"], env=env)
            answers.append({"ok": True, "result": {"rc": done.returncode, "stdout": done.stdout,
                                                   "stderr": done.stderr}})
        return answers


@pytest.fixture
def stubs(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def stub(folder: Path, name: str, body: str) -> None:
    """A fake program: a shell script (its arguments in "$@")."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def prints(folder: Path, name: str, text: str, rc: int = 0) -> None:
    data = folder / f"{name}.out"
    data.write_text(text)
    stub(folder, name, f"cat {shlex.quote(str(data))}; exit {rc}")


def run(check_id: str, stubs: Path, groups=("servers",), **hostvars):
    variables = {**DEFAULTS, "group_names": list(groups), **hostvars}
    (result,) = check_host([CHECKS[check_id]], ("srv-01", variables, {}, groups), LocalExecutor(stubs))
    return result


# ---- firewall-active -------------------------------------------------------------------------------

UFW_ACTIVE = """Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW IN    Anywhere
"""


def test_firewall_ufw_active_default_deny(stubs):
    prints(stubs, "ufw", UFW_ACTIVE)
    result = run("firewall-active", stubs)
    assert result.status == "pass"
    assert result.observed == "inbound default deny: ufw active, default deny (incoming), allow (outgoing), disabled (routed)"


def test_firewall_ufw_allowing_incoming_fails(stubs):
    prints(stubs, "ufw", UFW_ACTIVE.replace("deny (incoming)", "allow (incoming)"))
    assert run("firewall-active", stubs).observed.startswith("inbound allowed by default: ufw active")


def test_firewall_nft_baseline_ruleset(stubs):
    prints(stubs, "ufw", "Status: inactive\n")
    prints(stubs, "nft", (DATA / "nft-baseline-servers.json").read_text())
    result = run("firewall-active", stubs)
    assert result.status == "pass"
    assert result.observed == ("inbound default deny: nftables (running rules, nft list ruleset): inet sopctl_baseline "
                               "input policy drop; tcp ports accepted: 22, 80, 443")
    assert "$ ufw status verbose\nStatus: inactive" in result.output


@pytest.mark.parametrize("recording, observed", [
    ("nft-debian-default.json", ("inbound allowed by default: nftables (running rules, nft list ruleset): "
                                 "1 input chain(s), none drops by default")),
    ("nft-ipv4-only.json", ("inbound partly open: nftables (running rules, nft list ruleset): ip filter input policy "
                            "drop (only ip: the other IP version is open)")),
    ("nft-catch-all-drop.json", ("inbound default deny: nftables (running rules, nft list ruleset): inet filter input "
                                 "ends with a catch-all drop; tcp ports accepted: 22, 8000-8010")),
])
def test_firewall_nft_judged_by_policy_family_and_catch_all(stubs, recording, observed):
    prints(stubs, "nft", (DATA / recording).read_text())
    assert run("firewall-active", stubs).observed == observed


def test_firewall_iptables_only_and_nothing_at_all(stubs):
    stub(stubs, "iptables", 'echo "-P INPUT DROP"; echo "-A INPUT -p tcp --dport 22 -j ACCEPT"')
    stub(stubs, "ip6tables", 'echo "-P INPUT ACCEPT"')
    assert run("firewall-active", stubs).observed == "inbound allowed by default: iptables INPUT policy DROP, ip6tables ACCEPT"
    (stubs / "iptables").unlink()
    (stubs / "ip6tables").unlink()
    result = run("firewall-active", stubs)
    assert (result.status, result.observed) == ("fail", "no firewall found: no ufw, nft or iptables answered")


# ---- ssh-failed-logins -----------------------------------------------------------------------------

def _auth_log(folder: Path) -> Path:
    now = datetime.now().astimezone()
    this, old = now.isoformat(timespec="microseconds"), (now - timedelta(days=40)).isoformat()
    bsd = f"{now:%b} {now.day:2d} {now:%H:%M:%S}"
    log = folder / "auth.log"
    log.write_text("\n".join([
        f"{this} srv sshd[101]: Invalid user admin from 203.0.113.5 port 40000",
        f"{this} srv sshd[101]: Failed password for invalid user admin from 203.0.113.5 port 40000 ssh2",
        f"{this} srv sshd[101]: Connection closed by invalid user admin 203.0.113.5 port 40000 [preauth]",
        f"{this} srv sshd[102]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root",
        f"{this} srv sshd[102]: Failed password for root from 203.0.113.5 port 40010 ssh2",
        f"{this} srv sshd[102]: Failed password for root from 203.0.113.5 port 40010 ssh2",
        f"{this} srv sshd[102]: Failed password for root from 203.0.113.5 port 40010 ssh2",
        f"{this} srv sshd[102]: error: maximum authentication attempts exceeded for root from 203.0.113.5 port 40010 ssh2 [preauth]",
        f"{this} srv sshd[103]: Connection closed by authenticating user root 198.51.100.7 port 50000 [preauth]",
        f"{this} srv sshd[105]: Accepted publickey for root from 192.0.2.10 port 50100 ssh2: ED25519 SHA256:x",
        f"{old} srv sshd[90]: Invalid user lastmonth from 192.0.2.1 port 1000",
        f"{this} srv myapp[7]: Invalid user bob from 192.0.2.99 port 1",
        f"{bsd} srv sshd[104]: Invalid user oracle from 198.51.100.7 port 50010",
        ""]))
    (folder / "auth.log.1").write_text(f"{this} srv sshd[106]: Invalid user pi from 203.0.113.9 port 1\n")
    with gzip.open(folder / "auth.log.2.gz", "wt") as handle:
        handle.write(f"{this} srv sshd-session[107]: Invalid user git from 203.0.113.9 port 2\n")
    return log


def test_failed_logins_counted_once_per_attempt_this_month_with_top_sources(stubs, tmp_path):
    log = _auth_log(tmp_path)
    result = run("ssh-failed-logins", stubs, monitoring_auth_log=str(log), monitoring_max_failed_logins=5)
    lines = result.output.splitlines()
    assert (result.status, result.observed, result.expected) == ("fail", "8", "<= 5")
    month = datetime.now().astimezone().strftime("%Y-%m")
    assert lines[0] == f"8 failed SSH logins in {month}; top source: 203.0.113.5 (4)"
    assert lines[1] == "top sources: 203.0.113.5 (4), 198.51.100.7 (2), 203.0.113.9 (2)"
    assert lines[2] == ("invalid users: 4 attempts; existing users: 4 attempts; users tried: root (4), admin (1), "
                        "oracle (1), pi (1), git (1)")
    assert lines[3] == f"read: {log}, {log}.1, {log}.2.gz"


def test_failed_logins_lab_lines_without_date_and_an_empty_log(stubs, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text("Invalid user a from 127.0.0.1 port 1\nConnection closed by invalid user a 127.0.0.1 port 1 [preauth]\n"
                   "Connection closed by authenticating user root 127.0.0.1 port 2 [preauth]\n"
                   "kex_exchange_identification: Connection closed by remote host\n")
    result = run("ssh-failed-logins", stubs, monitoring_auth_log=str(log))
    assert (result.status, result.observed, result.expected) == ("pass", "2", "<= 50")
    assert "(2 matching lines without a date counted as" in result.output
    log.write_text("")
    assert run("ssh-failed-logins", stubs, monitoring_auth_log=str(log)).observed == "0"


@pytest.mark.skipif(SYSTEMD, reason="a systemd machine reads its journal when the log file is missing")
def test_failed_logins_without_any_log_is_absent_not_zero(stubs, tmp_path):
    result = run("ssh-failed-logins", stubs, monitoring_auth_log=str(tmp_path / "missing.log"))
    assert (result.status, result.observed) == ("fail", "(absent)")
    assert "no SSH log found" in result.output


# ---- listening-ports -------------------------------------------------------------------------------

SS = """LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=10,fd=3))
LISTEN 0      128             [::]:22           [::]:*    users:(("sshd",pid=10,fd=4))
LISTEN 0      4096       127.0.0.1:5432      0.0.0.0:*    users:(("postgres",pid=11,fd=5))
LISTEN 0      511         192.0.2.5:80        0.0.0.0:*    users:(("nginx",pid=12,fd=6),("nginx",pid=14,fd=6))
LISTEN 0      511                *:8080            *:*    users:(("java",pid=13,fd=7))
LISTEN 0      5              [::1]:631          [::]:*
LISTEN 0      128   [fe80::1%eth0]:53           [::]:*    users:(("dnsmasq",pid=15,fd=8))
"""


def test_listening_ports_against_the_groups_allow_list(stubs):
    prints(stubs, "ss", SS)
    servers = run("listening-ports", stubs, groups=("servers",), ansible_host="192.0.2.5")
    assert servers.status == "fail"
    assert servers.observed == ("unlisted listening ports: 8080 (*:8080 java pid 13), 53 ([fe80::1%eth0]:53 dnsmasq "
                                "pid 15) (allowed: 22 80 443)")
    assert "192.0.2.5:80 nginx: allowed (own address)" in servers.output
    assert "127.0.0.1:5432 postgres: ignored (loopback only)" in servers.output
    pcs = run("listening-ports", stubs, groups=("pcs",), ansible_host="192.0.2.5")
    assert pcs.observed.startswith("unlisted listening ports: 80 (192.0.2.5:80 nginx pid 12,14), 8080")
    assert "(allowed: 22)" in pcs.observed


def test_listening_ports_own_allow_list_and_ss_failure(stubs):
    prints(stubs, "ss", SS)
    result = run("listening-ports", stubs, baseline_allowed_tcp_ports=[22, 53, 80, 8080])
    assert result.observed == "no unlisted listening ports (listening: 22 53 80 8080; allowed: 22 53 80 8080)"
    prints(stubs, "ss", "", rc=1)
    assert run("listening-ports", stubs).status == "error"


# ---- pending updates -------------------------------------------------------------------------------

UBUNTU = """Inst libssl3 [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst openssl [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst tzdata [2023c-0ubuntu0.22.04.0] (2024a-0ubuntu0.22.04 Ubuntu:22.04/jammy-updates [all])
Conf libssl3 (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
"""

needs_lists = pytest.mark.skipif(not list(Path("/var/lib/apt/lists").glob("*_Packages*")),
                                 reason="the script first checks that package lists exist on the host")


@needs_lists
@pytest.mark.parametrize("recording, security, total", [
    ((DATA / "apt-get-s-upgrade-debian12.txt").read_text(), 4, 8), (UBUNTU, 2, 3), ("Reading package lists...\n", 0, 0)])
def test_pending_updates_count_inst_lines_and_security_origins(stubs, recording, security, total):
    prints(stubs, "apt-get", recording)
    sec = run("pending-security-updates", stubs)
    assert sec.observed == str(security) and sec.status == ("pass" if security == 0 else "fail")
    assert sec.output.splitlines()[0] == f"{security} pending security updates ({total} pending updates in all)"
    assert run("pending-updates", stubs, monitoring_max_pending_updates=5).status == ("pass" if total <= 5 else "fail")


@needs_lists
def test_pending_updates_apt_failure_is_an_error(stubs):
    prints(stubs, "apt-get", "E: The package lists or status file could not be parsed or opened.\n", rc=100)
    result = run("pending-security-updates", stubs)
    assert result.status == "error"
    assert result.reason == "apt-get -s upgrade failed: E: The package lists or status file could not be parsed or opened."


# ---- sysctl-network (live) -------------------------------------------------------------------------

def test_sysctl_live_values_compared_and_missing_keys_not_counted(stubs):
    value = " ".join(Path("/proc/sys/net/ipv4/tcp_syncookies").read_text().split())
    wanted = {"net.ipv4.tcp_syncookies": value, "net.ipv9.no_such_key": 1}
    result = run("sysctl-network", stubs, baseline_sysctl=wanted, baseline_check_config_only=False)
    assert (result.status, result.observed) == ("pass", "all 1 network settings as required (running kernel)")
    assert "net.ipv9.no_such_key: want 1, no such key on this kernel (not counted)" in result.output
    other = "0" if value != "0" else "1"
    result = run("sysctl-network", stubs, baseline_sysctl={"net.ipv4.tcp_syncookies": other},
                 baseline_check_config_only=False)
    assert result.observed == (f"1 of 1 network settings differ (running kernel): net.ipv4.tcp_syncookies={value} "
                               f"(want {other})")


# ---- login-banner, fail2ban-sshd-jail ------------------------------------------------------------

def test_login_banner_from_sshd_t(stubs, tmp_path):
    banner = tmp_path / "issue.net"
    banner.write_text("\nPERINGATAN: hanya untuk pengguna yang berwenang.\n")
    prints(stubs, "sshd", f"port 22\nbanner {banner}\n")
    result = run("login-banner", stubs)
    assert (result.status, result.observed) == ("pass", f"Banner {banner}: PERINGATAN: hanya untuk pengguna yang berwenang.")
    prints(stubs, "sshd", "port 22\nbanner none\n")
    assert run("login-banner", stubs).observed == "no banner (sshd: Banner none)"
    prints(stubs, "sshd", "sshd: no hostkeys available -- exiting.\n", rc=1)
    result = run("login-banner", stubs)
    assert (result.status, result.reason) == ("error", "sshd -T failed: sshd: no hostkeys available -- exiting.")


F2B = """Status for the jail: sshd
|- Filter
|  |- Currently failed:\t1
|  |- Total failed:\t6
|  `- Journal matches:\t_SYSTEMD_UNIT=sshd.service + _COMM=sshd
`- Actions
   |- Currently banned:\t1
   |- Total banned:\t1
   `- Banned IP list:\t203.0.113.5
"""


def test_fail2ban_jail_counters_and_a_stopped_server(stubs):
    prints(stubs, "fail2ban-client", F2B)
    result = run("fail2ban-sshd-jail", stubs)
    assert (result.status, result.observed) == ("pass", ("jail sshd active: currently failed 1, total failed 6, "
                                                         "currently banned 1, total banned 1; banned: 203.0.113.5"))
    prints(stubs, "fail2ban-client", "2026-11-24 21:27:57,889 fail2ban [12528]: ERROR   Failed to access socket path: "
                                     "/var/run/fail2ban/fail2ban.sock. Is fail2ban running?\n", rc=255)
    result = run("fail2ban-sshd-jail", stubs)
    assert result.status == "fail"
    assert result.observed == "no sshd jail: Failed to access socket path: /var/run/fail2ban/fail2ban.sock. Is fail2ban running?"


# ---- time-sync, unattended-upgrades, failed-units, package-inventory, disk-usage ---------------------

def test_time_sync_not_applicable_where_the_kernel_is_shared(stubs):
    result = run("time-sync", stubs, sopctl_lab=True)
    assert result.status == "na" and "shares its kernel" in result.reason


@pytest.mark.skipif(SYSTEMD, reason="on a systemd machine the script asks timedatectl")
def test_time_sync_from_chrony(stubs):
    prints(stubs, "chronyc", "Reference ID    : C6336401 (198.51.100.1)\nLeap status     : Normal\n")
    result = run("time-sync", stubs)
    assert (result.status, result.observed) == ("pass", "synchronised=yes (chrony: leap status Normal)")
    prints(stubs, "chronyc", "Reference ID    : 00000000 ()\nLeap status     : Not synchronised\n")
    assert run("time-sync", stubs).observed == "synchronised=no (chrony: leap status Not synchronised)"


@pytest.mark.skipif(SYSTEMD, reason="on a systemd machine the timers are asked too")
def test_unattended_upgrades_effective_settings(stubs):
    prints(stubs, "dpkg-query", "ii ")
    prints(stubs, "apt-config", "UL='1'\nUU='1'\n")
    result = run("unattended-upgrades-enabled", stubs)
    assert result.status == "pass", result.observed
    assert result.observed == ("unattended-upgrades installed; Update-Package-Lists=1; Unattended-Upgrade=1; "
                               "timers=n/a (no systemd: cron.daily)")
    prints(stubs, "apt-config", "UL='1'\nUU='0'\n")
    assert run("unattended-upgrades-enabled", stubs).status == "fail"
    prints(stubs, "dpkg-query", "", rc=1)
    prints(stubs, "apt-config", "")
    assert run("unattended-upgrades-enabled", stubs).observed.startswith(
        "unattended-upgrades not installed; Update-Package-Lists=unset; Unattended-Upgrade=unset")


@pytest.mark.skipif(SYSTEMD, reason="this machine runs systemd")
def test_failed_units_without_systemd_is_not_applicable_not_a_pass(stubs):
    result = run("failed-units", stubs)
    assert (result.status, result.observed) == ("na", "(not applicable)")
    assert result.reason == "not applicable: no systemd on this host: there are no units that could fail"


def test_package_inventory_counts_installed_and_unfinished(stubs):
    prints(stubs, "dpkg-query", "ii \tbash\t5.2.15-2+b8\nii \tcoreutils\t9.1-1\niU \tnginx\t1.22.1-9\nrc \told\t1.0\n")
    stub(stubs, "dpkg", 'echo "The following packages are only half configured:"; echo " nginx"')
    result = run("package-inventory", stubs)
    assert result.status == "fail"
    assert result.observed.startswith("2 packages installed, 1 unfinished (inventory sha256 ")
    assert "only half configured" in result.output


def test_disk_usage_takes_the_fullest_of_blocks_and_inodes(stubs):
    stub(stubs, "df", """case "$*" in
  *-i*) printf 'Filesystem Inodes IUsed IFree IUse%% Mounted on\\n/dev/vda1 1000 950 50 95%% /\\n/dev/vdb1 0 0 0 - /data\\n';;
  *) printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/vda1 100 40 60 40%% /\\n/dev/vdb1 100 88 12 88%% /data\\n';;
esac""")
    result = run("disk-usage", stubs)
    assert (result.status, result.observed, result.expected) == ("fail", "95", "<= 85")
    assert result.output.splitlines()[0] == "95% used: / (inodes)"
