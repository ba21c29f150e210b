"""The baseline's variables, playbooks and templates: one set of defaults (inventory/group_vars/all.yml)
that the checks repeat exactly, lab overrides that only override, playbooks the engine accepts with an SOP
item on every task, and templates that render to configurations the real tools accept."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sopctl.engine.playbook import load_playbook
from sopctl.engine.templating import Templar

REPO = Path(__file__).resolve().parents[3]
DEFAULTS = yaml.safe_load((REPO / "inventory" / "group_vars" / "all.yml").read_text())
LAB = yaml.safe_load((REPO / "src" / "sopctl" / "lab" / "group_vars_lab.yml").read_text())
CHECK_FILES = [REPO / "checks" / f"{name}-linux.yml" for name in ("baseline", "monitoring", "antivirus")]
TEMPLATES = REPO / "playbooks" / "templates"
PLAYBOOKS = [REPO / "playbooks" / "baseline-linux.yml", REPO / "playbooks" / "antivirus-linux.yml"]
DEFAULT_OF = re.compile(r"\b([a-z_][a-z0-9_]*) \| default\(([^(){}]*)\)")


def _templates_in_checks():
    for path in CHECK_FILES:
        for check in yaml.safe_load(path.read_text())["checks"]:
            texts = list((check["probe"].get("env") or {}).values())
            texts += [v for v in check["expect"].values() if isinstance(v, str) and "{{" in v]
            for text in texts:
                yield check["id"], text


def test_every_default_written_in_a_check_is_the_group_vars_default():
    seen = 0
    for check_id, text in _templates_in_checks():
        for name, literal in DEFAULT_OF.findall(text):
            if name in DEFAULTS and not (isinstance(DEFAULTS[name], str) and "{{" in DEFAULTS[name]):
                assert yaml.safe_load(literal) == DEFAULTS[name], (check_id, name, literal, DEFAULTS[name])
                seen += 1
    assert seen >= 10


def test_lab_overrides_only_override_known_variables_and_never_ban_for_real():
    assert set(LAB) - set(DEFAULTS) == {"sshd_reload_command"}      # not in all.yml on purpose (see there)
    assert LAB["fail2ban_banaction"] == "dummy"
    assert LAB["sshd_reload_command"] == "kill -HUP $(cat /run/lab-sshd.pid)"


@pytest.mark.parametrize("lab, groups, ports", [(False, ["servers"], [22, 80, 443]), (False, ["pcs"], [22]),
                                               (True, [], [22])])
def test_allowed_ports_are_the_union_of_the_hosts_groups(lab, groups, ports):
    variables = {**DEFAULTS, "group_names": groups, "sopctl_lab": lab}
    templar = Templar(variables)
    assert templar.render("{{ baseline_allowed_tcp_ports }}") == ports
    assert templar.render("{{ baseline_load_kernel_state }}") is (not lab)


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_playbooks_load_and_every_task_names_its_sop_items(path):
    book = load_playbook(path)
    for play in book.plays:
        for task in play.tasks:
            assert task.sop, f"{path.name}: task {task.name!r} has no sop:"


def _render(name: str, **overrides) -> str:
    return Templar({**DEFAULTS, "group_names": ["servers"], **overrides}, search_paths=[TEMPLATES]).render_file(name)


def test_fail2ban_jail_on_the_lab_is_always_the_dummy_action():
    production = _render("fail2ban-sshd.local.j2")
    assert "banaction = nftables-multiport" in production and "dummy" not in production
    assert "ignoreip = 127.0.0.1/8 ::1" in production and "filter = sshd\n" in production
    lab = _render("fail2ban-sshd.local.j2", sopctl_lab=True, **{k: v for k, v in LAB.items() if k != "fail2ban_banaction"})
    assert "banaction = dummy" in lab and "nftables" not in lab       # even with a real action in the variables
    assert "datepattern = {NONE}" in lab and 'filter = sshd[__prefix_line=""]' in lab


def test_nftables_rules_drop_inbound_and_accept_the_groups_ports():
    text = _render("nftables.conf.j2")
    assert "type filter hook input priority filter; policy drop;" in text
    assert "tcp dport { 22, 80, 443 } accept" in text
    if os.geteuid() != 0 or shutil.which("nft") is None or shutil.which("unshare") is None:
        pytest.skip("checking the rules with nft needs root and nftables")
    # in a private network namespace: nothing reaches this machine's firewall
    done = subprocess.run(["unshare", "--net", "nft", "-c", "-f", "-"], input=text, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_sshd_drop_in_is_accepted_by_sshd(tmp_path):
    text = _render("sshd-baseline.conf.j2", baseline_sshd_extra={"ClientAliveInterval": 300})
    assert "PermitRootLogin prohibit-password\nPasswordAuthentication no\n" in text
    assert "MaxAuthTries 4\nX11Forwarding no\nBanner /etc/issue.net\nClientAliveInterval 300\n" in text
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    keys = list(Path("/etc/ssh").glob("ssh_host_*_key"))
    if os.geteuid() != 0 or not os.access(sshd, os.X_OK) or not keys or not Path("/run/sshd").is_dir():
        pytest.skip("sshd -t needs root, sshd, host keys and /run/sshd (the lab tests run it on real hosts)")
    drop_in = tmp_path / "50-sopctl-baseline.conf"
    drop_in.write_text(text)
    config = tmp_path / "sshd_config"
    config.write_text(f"Include {drop_in}\nHostKey {keys[0]}\n")
    done = subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
