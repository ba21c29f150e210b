"""Builders for the report tests: synthetic runs, results and evidence written through the store's API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ALL_IDS = ([f"A.{n}" for n in range(1, 5)] + [f"B.{n}" for n in range(1, 7)] + [f"C.{n}" for n in range(1, 10)]
           + [f"D.{n}" for n in range(1, 8)] + [f"E.{n}" for n in range(1, 8)] + [f"F.{n}" for n in range(1, 8)])
STATUSES = {"compliant", "partly", "non-compliant", "waived", "not-verified", "na"}
NOV_20 = dt.date(2026, 11, 20)


def result(check, host, status, items=(), **fields):
    """One add_result() mapping; `items` are the SOP ids the check evidences."""
    return {"check_id": check, "host": host, "status": status, "sop_ids": list(items),
            "observed": fields.pop("observed", "x"), "expected": fields.pop("expected", "x"),
            "command": fields.pop("command", f"probe {check}"), "output": fields.pop("output", f"{check} on {host}"),
            **fields}


def audit(store, month, rows, *, who="operator", inventory="inventory/office.yml", evidence=(), at=None):
    """One complete audit run of `month` holding `rows` (and evidence tuples (sop_id, kind, summary, data))."""
    with store.run("audit", who=who, month=month, inventory=inventory) as run:
        for row in rows:
            run.add_result(**({"time": at} if at else {}), **row)
        for sop_id, kind, summary, data in evidence:
            run.add_evidence(sop_id, kind, summary, data=data, **({"time": at} if at else {}))
    return run


# ------------------------------------------------------------------- a month with every status in it

TRICKY = 'root, "admin"\nline two | <b>&'      # comma, quote, newline, pipe, markup
CONTROL = "ok \x1b[31mred\x1b[0m \x00 end"   # characters XML 1.0 and terminals must not get raw
MIXED_TODAY = dt.date(2026, 12, 5)
EXPECTED_MIXED = {
    "A.1": "compliant", "A.2": "not-verified", "B.1": "compliant", "B.2": "partly", "B.3": "not-verified",
    "C.1": "compliant", "C.2": "non-compliant", "C.3": "compliant", "C.4": "compliant", "C.5": "partly",
    "C.6": "waived", "C.7": "compliant", "D.4": "non-compliant", "D.5": "not-verified", "D.7": "na",
    "F.1": "compliant",
}


def build_mixed(store) -> None:
    """October and November 2026 with all six statuses in November (EXPECTED_MIXED), and changes:
    C.2 newly non-compliant, C.3 fixed (sshd-permit-root-login @ pc-01 fail -> pass)."""
    hosts = ("pc-01", "pc-02", "srv-01")
    october = [result("ssh-failed-logins", h, "pass", ["C.2"]) for h in hosts]
    october += [result("sshd-permit-root-login", "pc-01", "fail", ["C.3"], observed="yes", expected="no")]
    audit(store, "2026-10", october, at="2026-10-15T02:00:00Z")

    store.add_waiver("package-inventory", "pc-02", "inventory agent replaced next month", "Kasubag Perenc & IT",
                     "2026-12-31", created_at="2026-11-01T01:00:00Z", created_by="operator")
    store.add_waiver("pending-security-updates", "srv-01", "vendor patch pending", "Sekretaris", "2026-10-31",
                     created_at="2026-10-01T01:00:00Z", created_by="operator")
    november = [result("ssh-failed-logins", h, "fail", ["C.2"], observed="37 failures", expected="< 10")
                for h in hosts]
    november += [result("sshd-permit-root-login", h, "pass", ["C.3"], observed="no", expected="no") for h in hosts]
    november += [result("host-reachable", h, "pass", ["C.4"]) for h in hosts]
    november += [result("disk-usage", "pc-01", "fail", ["C.5"], observed="97%", expected="<= 90%"),
                 result("disk-usage", "pc-02", "pass", ["C.5"], observed="40%", expected="<= 90%")]
    november += [result("package-inventory", "pc-02", "fail", ["C.6"], observed="agent missing"),
                 result("package-inventory", "pc-01", "pass", ["C.6"])]
    november += [result("pending-security-updates", "srv-01", "fail", ["D.4"], observed="12 pending", expected="0")]
    november += [result("antivirus-installed", "pc-01", "error", ["D.5"], observed=None,
                        output="ssh: connect to host pc-01 port 22: Connection timed out")]
    november += [result("backup-restore-test", h, "na", ["D.7"]) for h in hosts]
    november += [result("website-available", "srv-01", "pass", ["F.1"], observed=TRICKY, expected="HTTP 200",
                        command="curl -sS -o /dev/null -w '%{http_code}' https://pa-batulicin.go.id/",
                        output=CONTROL + "\n<script>alert(1)</script>")]
    audit(store, "2026-11", november, at="2026-11-10T02:00:00Z", who="operator",
          evidence=[("C.1", "generated", "Jadwal pemeliharaan November 2026", {"path": "var/reports/c1.pdf"})])

    digest = "ab" * 32
    store.add_attestation("A.1", "kasubag_ptip", "Budi Santoso", note="Rencana program 2026", file_name="rencana.pdf",
                          file_sha256=digest, file_size=48213, stored_path="var/evidence/abababab/rencana.pdf",
                          attested_at="2026-03-01T03:00:00Z")
    store.add_attestation("A.2", "kasubag_ptip", "Budi Santoso", file_name="usulan.pdf", file_sha256=digest,
                          file_size=1000, attested_at="2025-06-01T03:00:00Z")
    store.add_attestation("C.4", "operator", "Rahmat", file_name="cek-kabel.jpg", file_sha256=digest, file_size=2048,
                          attested_at="2026-11-12T03:00:00Z")
    store.add_attestation("C.7", "operator", "Rahmat", file_name="notulen.pdf", file_sha256=digest, file_size=3000,
                          attested_at="2026-11-20T03:00:00Z")

    store.add_evidence("B.1", "service-request", "Permintaan 2026/11/01", time="2026-11-03T01:00:00Z",
                       data={"record": "2026/11/01", "status": "compliant", "detail": "selesai hari ke 1"})
    store.add_evidence("B.2", "service-request", "Permintaan 2026/11/01", time="2026-11-03T01:00:00Z",
                       data={"record": "2026/11/01", "on_time": True})
    store.add_evidence("B.2", "service-request", "Permintaan 2026/11/02", time="2026-11-04T01:00:00Z",
                       data={"record": "2026/11/02", "on_time": False, "detail": "disposisi hari ke 3"})
    store.add_evidence("B.3", "service-request", "Permintaan tanpa status", time="2026-11-05T01:00:00Z",
                       data={"record": "2026/11/03"})
