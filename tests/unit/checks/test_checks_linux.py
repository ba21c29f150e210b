"""Linux probes against recorded agent answers: the operations they send, and how answers are read.

The sshd -T sample (data/sshd-T-debian12.txt) was recorded from a lab host (Debian 12, OpenSSH 9.2).
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sopctl.compliance.probes import linux_operations, parse_sshd_t, service_command
from sopctl.compliance.runner import RecordedExecutor, check_host

from .util import make_check, make_checks

DATA = Path(__file__).parent / "data"
SSHD_T = (DATA / "sshd-T-debian12.txt").read_text()
HOST = ("pc-01", {}, {"os_family": "Debian", "distribution": "Debian", "uptime_seconds": 5,
                      "missing": ["disk_root_used_pct"], "disk_root_used_pct": None}, ["pcs"])


NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def run(checks, answers, **kw):
    executor = RecordedExecutor(answers, **kw)
    results = check_host(checks if isinstance(checks, list) else [checks], HOST, executor, now=NOW)
    return (results if isinstance(checks, list) else results[0]), executor


# ---------------------------------------------------------------------------- operations and locale

ALL_KINDS = make_checks(
    {"probe": {"command": "ufw status verbose"}, "expect": {"regex": "Status: active"}},
    {"probe": {"file": "/etc/shadow", "property": "mode"}, "expect": {"equals": "0640"}},
    {"probe": {"file": "/etc/issue.net", "property": "content"}, "expect": {"present": True}},
    {"probe": {"sshd": "PermitRootLogin"}, "expect": {"equals": "no"}},
    {"probe": {"sshd": "PermitRootLogin", "sshd_match": "user=root,host=pc-01,addr=192.0.2.5"},
     "expect": {"equals": "no"}},
    {"probe": {"package": "clamav"}, "expect": {"present": True}},
    {"probe": {"service": "ssh", "process": "sshd", "timeout": 3}, "expect": {"equals": "running"}},
    {"probe": {"sysctl": "net.ipv4.ip_forward"}, "expect": {"equals": "0"}},
)


def test_every_command_runs_under_sh_with_lc_all_c_and_a_timeout():
    """Localised output cannot reach a parser: every command the probes run carries locale_c, which the
    agent turns into LC_ALL=C and LANG=C (remote.op_run)."""
    runs = [op for check in ALL_KINDS for op in linux_operations(check.probe) if op.request["op"] == "run"]
    assert len(runs) == 5
    for op in runs:
        assert op.request["locale_c"] is True and op.request["shell"] is True
        assert op.request["timeout"] == (3.0 if "ssh" in op.display and "pidof" in op.display else 10.0)
    displays = [op.display for check in ALL_KINDS for op in linux_operations(check.probe)]
    assert displays == [
        "ufw status verbose", "stat -L /etc/shadow", "cat /etc/issue.net", "sshd -T",
        "sshd -T -C user=root,host=pc-01,addr=192.0.2.5",
        "dpkg-query -W -f '${Status}\\t${Version}\\n' clamav",
        "systemctl is-active ssh || service ssh status || pidof sshd", "cat /proc/sys/net/ipv4/ip_forward"]


def test_the_agent_really_sets_lc_all_c():
    """The agent's run operation, executed here (not mocked), with a localised caller environment."""
    source = (Path(__file__).resolve().parents[3] / "src/sopctl/agent/remote.py").read_text()
    namespace: dict = {}
    assert source.endswith("\nmain()\n")  # the agent starts itself last; run its code without starting it
    exec(compile(source.replace("\nmain()\n", "\n"), "remote.py", "exec"), namespace)  # noqa: S102
    op = linux_operations(make_check({"command": 'echo "$LC_ALL/$LANG"'}, {"equals": "C/C"}).probe)[0]
    env = {"LANG": "id_ID.UTF-8", "LC_ALL": "id_ID.UTF-8"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = namespace["op_run"](**{k: v for k, v in op.request.items() if k != "op"})
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    assert result["stdout"] == "C/C\n"


def test_one_batch_per_host_with_identical_operations_once():
    checks = make_checks(*[{"probe": {"sshd": option}, "expect": {"present": True}}
                           for option in ("PermitRootLogin", "PasswordAuthentication", "MaxAuthTries",
                                          "X11Forwarding", "PermitEmptyPasswords")],
                         {"probe": {"file": "/etc/shadow"}, "expect": {"mode": {"equals": "0640"}}},
                         {"probe": {"file": "/etc/shadow", "property": "owner"}, "expect": {"equals": "root"}},
                         {"probe": {"fact": "os_family"}, "expect": {"equals": "Debian"}})
    results, executor = run(checks, {"sshd -T": SSHD_T, "stat -L /etc/shadow": {"mode": "0640"}})
    assert len(executor.batches) == 1
    assert [op.display for op in executor.batches[0][1]] == ["sshd -T", "stat -L /etc/shadow"]
    assert [r.status for r in results] == ["pass"] * 8
    assert [r.observed for r in results[:4]] == ["without-password", "yes", "6", "yes"]


def test_no_batch_when_nothing_needs_the_host():
    results, executor = run(make_checks({"probe": {"fact": "os_family"}, "expect": {"equals": "Debian"}}), {})
    assert executor.batches == [] and results[0].status == "pass" and results[0].command == "fact os_family"


# ------------------------------------------------------------------------------------------- sshd


def test_sshd_t_parsing():
    config = parse_sshd_t(SSHD_T)
    assert config["permitrootlogin"] == "without-password"
    assert config["hostkey"] == "/etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_ecdsa_key /etc/ssh/ssh_host_ed25519_key"
    assert config["acceptenv"] == "LANG LC_*"
    assert config["subsystem"] == "sftp /usr/lib/openssh/sftp-server"
    assert config["listenaddress"] == "[::]:22 0.0.0.0:22"
    assert parse_sshd_t("PermitRootLogin yes\n")["permitrootlogin"] == "yes"


def test_a_commented_line_in_sshd_config_is_irrelevant():
    """Only `sshd -T` is asked: the file is never read, so `#PermitRootLogin yes` (a comment) cannot
    count, and neither can a line that a Match block or an Include overrides."""
    check = make_check({"sshd": "PermitRootLogin"}, {"in": ["no", "prohibit-password", "without-password"]})
    config_file = "#PermitRootLogin yes\nPermitRootLogin no\n"
    result, executor = run(check, {"sshd -T": SSHD_T, "cat /etc/ssh/sshd_config": config_file})
    assert [op.display for op in executor.batches[0][1]] == ["sshd -T"]
    assert (result.status, result.observed) == ("pass", "without-password")
    assert result.output == "permitrootlogin without-password" and result.command == "sshd -T"
    broken = SSHD_T.replace("permitrootlogin without-password", "permitrootlogin yes")
    result, _ = run(check, {"sshd -T": broken})
    assert (result.status, result.observed) == ("fail", "yes")
    assert result.expected == "one of: no, prohibit-password, without-password"


def test_match_block_through_the_connection_spec():
    check = make_check({"sshd": "PasswordAuthentication", "sshd_match": "user=backup, addr=192.0.2.9"},
                       {"equals": "no"})
    matched = SSHD_T.replace("passwordauthentication yes", "passwordauthentication no")
    result, executor = run(check, {"sshd -T -C user=backup,addr=192.0.2.9": matched})
    assert executor.batches[0][1][0].request["cmd"] == "sshd -T -C user=backup,addr=192.0.2.9"
    assert result.status == "pass"


@pytest.mark.parametrize("answer, message", [
    ((255, "", '/etc/ssh/sshd_config line 1: unsupported option "maybe".\n'),
     'sshd -T failed (exit code 255): /etc/ssh/sshd_config line 1: unsupported option "maybe".'),
    ((1, "", "sshd: no hostkeys available -- exiting.\n"),
     "sshd -T failed (exit code 1): sshd: no hostkeys available -- exiting."),
    ((127, "", "/bin/sh: 1: sshd: not found\n"), "command not found (exit code 127): /bin/sh: 1: sshd: not found"),
    ({"ok": False, "kind": "timeout", "error": "command timed out after 10s"}, "probe timed out after 10s"),
])
def test_failing_sshd_t_is_an_error_never_a_pass(answer, message):
    for expect in ({"absent": True}, {"not_equals": "yes"}, {"present": True}):
        result, _ = run(make_check({"sshd": "PermitRootLogin"}, expect), {"sshd -T": answer})
        assert result.status == "error" and result.reason == message
        assert result.observed == f"(error) {message}"


def test_failing_sshd_t_with_some_output_is_still_an_error():
    result, _ = run(make_check({"sshd": "PermitRootLogin"}, {"equals": "no"}),
                    {"sshd -T": (255, "permitrootlogin no\n", "Missing privilege separation directory: /run/sshd\n")})
    assert result.status == "error" and "Missing privilege separation directory" in result.reason


def test_an_option_sshd_does_not_print_is_absent():
    result, _ = run(make_check({"sshd": "NoSuchOption"}, {"equals": "no"}), {"sshd -T": SSHD_T})
    assert (result.status, result.observed) == ("fail", "(absent)")


# ---------------------------------------------------------------------------------------- command


@pytest.mark.parametrize("field, expect, answer, observed", [
    ("stdout", {"equals": "Status: active"}, (0, "Status: active\n", ""), "Status: active"),
    ("stderr", {"regex": "denied"}, (1, "", "ERROR: permission denied\n"), "ERROR: permission denied"),
    ("rc", {"equals": 3}, (3, "", ""), "3"),
    ("lines", {"le": 0}, (0, "Inst libc6 [2.36-9]\n\nInst openssl [3.0.11]\n", ""), "2"),
])
def test_command_fields(field, expect, answer, observed):
    result, _ = run(make_check({"command": "probe-it", "field": field}, expect), {"probe-it": answer})
    assert result.observed == observed
    assert result.status == ("fail" if field == "lines" else "pass")


def test_command_output_is_shown_with_stderr_and_exit_code():
    result, _ = run(make_check({"command": "probe-it"}, {"equals": "x"}), {"probe-it": (2, "out\n", "err\n")})
    assert result.output == "out\n--- stderr ---\nerr\n(exit code 2)"


def test_empty_output_is_a_value_and_no_extract_match_is_absent():
    result, _ = run(make_check({"command": "probe-it"}, {"equals": ""}), {"probe-it": ""})
    assert (result.status, result.observed) == ("pass", '""')
    check = make_check({"command": "probe-it", "extract": r"Version: (\d+)"}, {"ge": 27000})
    result, _ = run(check, {"probe-it": "Build time: 24 Nov 2026 07:10 +0000\nVersion: 27461\n"})
    assert (result.status, result.observed) == ("pass", "27461")
    result, _ = run(check, {"probe-it": "nothing useful\n"})
    assert (result.status, result.observed) == ("fail", "(absent)")
    assert "(no match for extract /Version: (\\d+)/)" in result.output


@pytest.mark.parametrize("answer, reason", [
    ((127, "", "/bin/sh: 1: sigtool: not found\n"), "command not found (exit code 127): /bin/sh: 1: sigtool: not found"),
    ((126, "", "/bin/sh: 1: ./x: Permission denied\n"), "command could not be executed (exit code 126)"),
    ({"ok": False, "kind": "timeout", "error": "command timed out after 10s"}, "probe timed out after 10s"),
])
def test_command_that_could_not_run_is_an_error(answer, reason):
    result, _ = run(make_check({"command": "probe-it"}, {"absent": True}), {"probe-it": answer})
    assert result.status == "error" and result.reason.startswith(reason)


# ------------------------------------------------------------------------------------------- files


def test_file_stat_fields_absent_and_unreadable():
    check = make_check({"file": "/etc/shadow"}, {"mode": {"in": ["0640", "0600"]}, "owner": {"equals": "root"}})
    result, _ = run(check, {"stat -L /etc/shadow": {"mode": "0644", "owner": "root", "group": "shadow"}})
    assert (result.status, result.observed) == ("fail", "mode=0644 owner=root")
    assert result.output == "type=file mode=0644 owner=root group=shadow size=0 mtime=0"
    result, _ = run(check, {"stat -L /etc/shadow": None})
    assert (result.status, result.observed) == ("fail", "(absent)")
    denied = {"ok": False, "kind": "permission", "error": "[Errno 13] Permission denied: '/etc/shadow'"}
    result, _ = run(check, {"stat -L /etc/shadow": denied})
    assert result.status == "error" and result.reason.startswith("could not read: permission denied")


def test_file_properties():
    stat = {"stat -L /srv/backup.tar": {"mode": "0600", "owner": "backup", "group": "backup", "size": 1024,
                                        "mtime": 1795504200.7}}
    for prop, value in (("exists", "true"), ("mode", "0600"), ("owner", "backup"), ("size", "1024"),
                        ("mtime", "1795504200")):
        result, _ = run(make_check({"file": "/srv/backup.tar", "property": prop}, {"equals": value}), stat)
        assert result.status == "pass", (prop, result)
    missing = make_check({"file": "/srv/backup.tar", "property": "exists"}, {"present": True})
    result, _ = run(missing, {"stat -L /srv/backup.tar": None})
    assert (result.status, result.observed) == ("fail", "(absent)")


def test_line_property_skips_comments_and_returns_the_first_match():
    defs = ("# PASS_MAX_DAYS  Maximum number of days a password may be used.\n"
            "#PASS_MAX_DAYS 30\n   # PASS_MAX_DAYS 45\nPASS_MAX_DAYS\t99999\nPASS_MAX_DAYS 60\n")
    check = make_check({"file": "/etc/login.defs", "property": "line", "match": r"^\s*PASS_MAX_DAYS",
                        "extract": r"PASS_MAX_DAYS\s+(\d+)"}, {"le": 90})
    result, executor = run(check, {"cat /etc/login.defs": defs})
    assert executor.batches[0][1][0].request == {"op": "read", "path": "/etc/login.defs", "max_bytes": 4 << 20}
    assert (result.status, result.observed, result.reason) == ("fail", "99999", "99999 is not <= 90")
    result, _ = run(check, {"cat /etc/login.defs": "# PASS_MAX_DAYS 30\n"})
    assert (result.status, result.observed) == ("fail", "(absent)")


def test_content_property_and_an_empty_file():
    check = make_check({"file": "/etc/issue.net", "property": "content"}, {"regex": "Pengadilan Agama"})
    result, _ = run(check, {"cat /etc/issue.net": "Sistem milik Pengadilan Agama Batulicin\n"})
    assert result.status == "pass"
    result, _ = run(check, {"cat /etc/issue.net": ""})
    assert (result.status, result.observed) == ("fail", '""')
    too_big = {"ok": False, "kind": "too_large", "error": "/etc/issue.net is 9999999 bytes, more than 4194304"}
    result, _ = run(check, {"cat /etc/issue.net": too_big})
    assert result.status == "error" and "more than 4194304" in result.reason


# ------------------------------------------------------------------------- packages, services, sysctl


@pytest.mark.parametrize("answer, status, observed", [
    ((0, "install ok installed\t1:1.0.7+dfsg-1~deb12u1\n", ""), "pass", "1:1.0.7+dfsg-1~deb12u1"),
    ((0, "deinstall ok config-files\t1.0.7\n", ""), "fail", "(absent)"),
    ((1, "", "dpkg-query: no packages found matching clamav\n"), "fail", "(absent)"),
    ((0, "unknown ok not-installed\t\ninstall ok installed\t1.0.7\n", ""), "pass", "1.0.7"),  # multi-arch
    ((127, "", "/bin/sh: 1: dpkg-query: not found\n"), "error", None),
    ((2, "", "dpkg-query: error: --show needs a valid package name\n"), "error", None),
])
def test_package(answer, status, observed):
    result, _ = run(make_check({"package": "clamav"}, {"present": True}),
                    {"dpkg-query -W -f '${Status}\\t${Version}\\n' clamav": answer})
    assert result.status == status
    if observed:
        assert result.observed == observed


@pytest.mark.parametrize("stdout, status, observed", [
    ("running\nsystemd: LoadState=loaded ActiveState=active\n", "pass", "running"),
    ("stopped\nservice ssh status: exit code 3: sshd is not running ... failed!\nno process named sshd\n",
     "fail", "stopped"),
    ("absent\nno systemd, no /etc/init.d/ssh, no process named sshd\n", "fail", "(absent)"),
    ("", "error", None),
])
def test_service_answers(stdout, status, observed):
    result, _ = run(make_check({"service": "ssh", "process": "sshd"}, {"equals": "running"}),
                    {"systemctl is-active ssh || service ssh status || pidof sshd": stdout})
    assert result.status == status
    if observed:
        assert result.observed == observed


def test_service_script_really_runs_without_systemd(tmp_path):
    """The script itself, run here by /bin/sh (this machine, like the lab, has no systemd)."""
    assert not Path("/run/systemd/system").exists()
    name = f"sopctl-test-{os.getpid()}"
    script = tmp_path / name
    script.write_text("#!/bin/sh\nexec sleep 30\n")
    script.chmod(0o755)

    def state(service: str, process: str) -> str:
        command = service_command(service, process)
        done = subprocess.run(["/bin/sh", "-c", command.text], capture_output=True, text=True, check=False,
                              env={**os.environ, "LC_ALL": "C"}, timeout=30)
        return done.stdout.splitlines()[0]

    assert state("sopctl-no-such-service", "sopctl-no-such-process") == "absent"
    sleeper = subprocess.Popen([str(script)])
    try:
        time.sleep(0.2)
        assert state("sopctl-no-such-service", "sleep") == "running"  # found by pidof
    finally:
        sleeper.kill()
        sleeper.wait()


def test_sysctl():
    check = make_check({"sysctl": "net.ipv4.ip_local_port_range"}, {"equals": "32768 60999"})
    result, executor = run(check, {"cat /proc/sys/net/ipv4/ip_local_port_range": "32768\t60999\n"})
    assert result.status == "pass" and executor.batches[0][1][0].request["path"] == \
        "/proc/sys/net/ipv4/ip_local_port_range"
    result, _ = run(check, {"cat /proc/sys/net/ipv4/ip_local_port_range": None})
    assert (result.status, result.observed) == ("fail", "(absent)")
    denied = {"ok": False, "kind": "PermissionError", "error": "[Errno 13] Permission denied"}
    result, _ = run(check, {"cat /proc/sys/net/ipv4/ip_local_port_range": denied})
    assert result.status == "error"


# ------------------------------------------------------------------------------------------ facts


def test_facts():
    result, _ = run(make_check({"fact": "os_family"}, {"equals": "Debian"}), {})
    assert result.status == "pass"
    result, _ = run(make_check({"fact": "uptime_seconds"}, {"ge": 86400}), {})
    assert (result.status, result.observed) == ("fail", "5")
    result, _ = run(make_check({"fact": "no_such_fact"}, {"equals": "x"}), {})
    assert (result.status, result.observed) == ("fail", "(absent)")
    result, _ = run(make_check({"fact": "disk_root_used_pct"}, {"lt": 90}), {})  # gathered but not reported
    assert result.status == "error" and result.reason == "the host did not report fact disk_root_used_pct"


# ------------------------------------------------------------------------------------------- http


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/slow":
            time.sleep(2)
        code = 404 if self.path == "/missing" else 200
        body = b"<html><title>Pengadilan Agama Batulicin</title></html>"
        try:
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Last-Modified", "Tue, 24 Nov 2026 07:10:00 GMT")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the slow page's client gave up: as intended
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_probes_from_the_control_machine(site):
    checks = make_checks(
        {"probe": {"http": {"url": site + "/"}}, "expect": {"equals": 200}},
        {"probe": {"http": {"url": site + "/missing"}}, "expect": {"equals": 200}},
        {"probe": {"http": {"url": site + "/", "status": 200}, "field": "body", "extract": "<title>(.*)</title>"},
         "expect": {"regex": "Batulicin"}},
        {"probe": {"http": {"url": site + "/missing", "status": 200}, "field": "body"}, "expect": {"present": True}},
        {"probe": {"http": {"url": site + "/"}, "field": "header:Last-Modified"}, "expect": {"age_days": 1}},
        {"probe": {"http": {"url": site + "/"}, "field": "header:X-Nothing"}, "expect": {"present": True}},
        {"probe": {"http": {"url": site + "/slow", "timeout": 0.5}}, "expect": {"equals": 200}},
        {"probe": {"http": {"url": "http://127.0.0.1:9/"}}, "expect": {"equals": 200}},
    )
    results, executor = run(checks, {})
    assert executor.batches == []
    assert [r.status for r in results] == ["pass", "fail", "pass", "error", "pass", "fail", "error", "error"]
    assert results[1].observed == "404" and results[2].observed == "Pengadilan Agama Batulicin"
    assert results[3].reason.startswith("HTTP 404 from") and results[5].observed == "(absent)"
    assert results[6].reason == "probe timed out after 0.5s"
    assert results[7].reason.startswith("could not fetch http://127.0.0.1:9/")
    assert results[0].command == f"GET {site}/" and results[0].output.startswith("HTTP 200\n")
