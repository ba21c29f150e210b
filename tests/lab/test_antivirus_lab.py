"""ClamAV (SOP D.5) on a lab host, for real: `sopctl play playbooks/antivirus-linux.yml` installs it and
builds a local signature database from the EICAR sample's hash with sigtool (no download), clamd starts
and really detects the sample. Then the antivirus is broken three ways on that host only, and each time
the detection check fails, reported with what was observed: clamd stopped, the signature database older
than allowed, the ClamAV programs gone (renamed inside the host). The host is reset before and after.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sopctl.compliance.expect import parse_timestamp
from tests.unit.baseline import labkit

CHECKS = "antivirus-installed,antivirus-clamd-running,antivirus-updates,antivirus-signatures-fresh,antivirus-detection"

FORGE_OLD_DATABASE = r"""python3 - <<'PY'
import time
path = "/var/lib/clamav/sopctl-local.cud"
data = bytearray(open(path, "rb").read())
fields = data[:512].decode("ascii").rstrip(" \0").split(":")
old = time.time() - 30 * 86400
fields[1] = time.strftime("%d %b %Y %H-%M +0000", time.gmtime(old))   # the header's build time
fields[-1] = str(int(old))
data[:512] = ":".join(fields).ljust(512).encode("ascii")
open(path, "wb").write(bytes(data))
PY
clamdscan --reload >/dev/null && clamdscan --ping 30:1"""


inventory = labkit.inventory_fixture("antivirus-inventory")
host = labkit.fresh_host_fixture(3)


def _scenario(inventory, host, tmp_path, name):
    store = tmp_path / f"{name}.db"
    rows = labkit.audit(inventory, host, CHECKS, store)
    item = labkit.report(store, labkit.this_month())["D.5"]
    return rows, item


def test_clamav_detects_for_real_and_fails_reported_when_stopped_stale_or_missing(lab, inventory, host, tmp_path):
    # before the playbook: the programs are there (the machine's packages), but no clamd, no signatures
    rows, item = _scenario(inventory, host, tmp_path, "before")
    assert rows[host, "antivirus-installed"]["status"] == "pass"
    assert rows[host, "antivirus-detection"]["status"] == "fail"
    assert rows[host, "antivirus-detection"]["observed"].startswith("not detected: clamd is not answering")
    assert rows[host, "antivirus-signatures-fresh"]["observed"] == "(absent)"
    assert item["status"] == "non-compliant"

    applied = labkit.play(inventory, labkit.ANTIVIRUS, host)
    assert applied["returncode"] == 0 and not labkit.failed_tasks(applied), labkit.failed_tasks(applied)
    info = labkit.ssh(lab, host, "sigtool -i /var/lib/clamav/sopctl-local.cud; cat /run/clamav/clamd.pid").stdout
    assert "Build time:" in info and "Builder: sopctl" in info
    again = labkit.play(inventory, labkit.ANTIVIRUS, host)
    assert again["recap"][host]["changed"] == 0 and again["recap"][host]["failed"] == 0

    rows, item = _scenario(inventory, host, tmp_path, "working")
    assert {check: row["status"] for (h, check), row in rows.items()} == dict.fromkeys(CHECKS.split(","), "pass")
    detection = rows[host, "antivirus-detection"]
    assert detection["observed"].startswith("detected: Sopctl.Test.EICAR.UNOFFICIAL (by clamdscan; signatures 0.")
    assert "eicar.com: Sopctl.Test.EICAR.UNOFFICIAL FOUND" in detection["output"]
    assert item["status"] == "compliant"
    # the sample was removed after the scan
    assert labkit.ssh(lab, host, "ls /tmp | grep -c sopctl-av || true").stdout.strip() == "0"

    # 1. ClamAV stopped
    labkit.ssh(lab, host, "service clamav-daemon stop")
    rows, item = _scenario(inventory, host, tmp_path, "stopped")
    assert rows[host, "antivirus-detection"]["status"] == "fail"
    assert rows[host, "antivirus-detection"]["observed"].startswith("not detected: clamd is not answering (stopped?)")
    assert rows[host, "antivirus-clamd-running"]["status"] == "fail"
    assert item["status"] == "non-compliant"
    assert labkit.evidence(item, "antivirus-detection", host)["observed"].startswith("not detected: clamd")
    assert labkit.play(inventory, labkit.ANTIVIRUS, host)["recap"][host]["failed"] == 0   # back up

    # 2. the signature database older than allowed (its build time 30 days back; clamd reloads it)
    labkit.ssh(lab, host, FORGE_OLD_DATABASE)
    rows, item = _scenario(inventory, host, tmp_path, "stale")
    fresh = rows[host, "antivirus-signatures-fresh"]
    assert fresh["status"] == "fail" and fresh["expected"] == "at most 2 days old"
    age = datetime.now(timezone.utc) - parse_timestamp(fresh["observed"])      # "24 Oct 2026 21:30 +0000"
    assert timedelta(days=29.9) < age < timedelta(days=30.1), fresh["observed"]
    assert labkit.evidence(item, "antivirus-signatures-fresh", host)["status"] == "fail"
    detection = rows[host, "antivirus-detection"]
    assert detection["status"] == "fail"
    assert detection["observed"].startswith("not detected with current signatures: the database is 30.0 days old "
                                            "(allowed 2); the scan said detected: Sopctl.Test.EICAR.UNOFFICIAL")
    assert item["status"] == "non-compliant"

    # 3. ClamAV missing on this host only: its programs renamed inside the host
    labkit.ssh(lab, host, "mv /usr/bin/clamscan /usr/bin/clamscan.hidden; mv /usr/bin/clamdscan /usr/bin/clamdscan.hidden")
    other = labkit.host_name(lab, 0) if labkit.host_name(lab, 0) != host else labkit.host_name(lab, 1)
    rows, item = _scenario(inventory, f"{host},{other}", tmp_path, "missing")
    assert rows[host, "antivirus-installed"]["status"] == "fail"
    assert rows[host, "antivirus-installed"]["observed"].startswith("not installed: no clamscan program (dpkg: clamav ii")
    assert rows[host, "antivirus-detection"]["observed"] == "not detected: ClamAV is not installed (no clamdscan program)"
    assert rows[other, "antivirus-installed"]["status"] == "pass"          # the other host still has them
    assert item["status"] == "non-compliant"      # the other host has no clamd either: it fails detection too
    assert labkit.evidence(item, "antivirus-installed", host)["observed"].startswith("not installed")
