"""The score and its parts, and the changes since the previous month, on the mixed month."""

from __future__ import annotations

import pytest

from sopctl.compliance.status import evaluate_month

from .support import EXPECTED_MIXED, MIXED_TODAY, audit, build_mixed, result


@pytest.fixture
def report(catalog, store):
    build_mixed(store)
    return evaluate_month(catalog, store, "2026-11", MIXED_TODAY, generated_at="2026-12-05T01:00:00Z")


def test_mixed_month_statuses(report):
    assert {item_id: report.item(item_id).status for item_id in EXPECTED_MIXED} == EXPECTED_MIXED
    assert {entry.status for entry in report.items} == {
        "compliant", "partly", "non-compliant", "waived", "not-verified", "na"}


def test_score_is_compliant_over_compliant_partly_non_compliant(report):
    score = report.score
    expected = {status: sorted(i for i, s in EXPECTED_MIXED.items() if s == status)
                for status in ("compliant", "partly", "non-compliant", "waived", "na")}
    assert sorted(score.items["compliant"]) == expected["compliant"]
    assert sorted(score.items["partly"]) == expected["partly"]
    assert sorted(score.items["non-compliant"]) == expected["non-compliant"]
    assert sorted(score.items["waived"]) == expected["waived"] and sorted(score.items["na"]) == expected["na"]
    c, p, n = (len(expected[s]) for s in ("compliant", "partly", "non-compliant"))
    assert (score.counts["compliant"], score.denominator) == (c, c + p + n)
    assert score.percent == round(100 * c / (c + p + n), 1)
    assert sum(score.counts.values()) == 40
    assert score.counts["not-verified"] == 40 - len([s for s in EXPECTED_MIXED.values() if s != "not-verified"])


def test_score_dict_shows_its_parts(report):
    data = report.score.to_dict()
    assert data["formula"] == "compliant / (compliant + partly + non-compliant)"
    assert data["numerator"] == data["counts"]["compliant"]
    assert data["denominator"] == data["counts"]["compliant"] + data["counts"]["partly"] + data["counts"]["non-compliant"]
    assert data["excluded"] == ["waived", "not-verified", "na"]
    assert set(data["items"]) == set(data["counts"])
    assert all(len(data["items"][s]) == data["counts"][s] for s in data["counts"])


def test_check_level_score_counts_each_check_host_pair_once(report):
    checks = report.score.checks
    # November: ssh-failed-logins fail x3, sshd-permit-root-login pass x3, host-reachable pass x3,
    # disk-usage fail+pass, package-inventory waived+pass, pending-security-updates fail, antivirus error,
    # backup na x3, website pass
    assert checks == {"pass": 9, "fail": 5, "waived": 1, "error": 1, "na": 3}
    assert report.score.checks_percent == round(100 * 9 / 14, 1)


def test_no_verified_item_has_no_score(catalog, store):
    report = evaluate_month(catalog, store, "2026-11", MIXED_TODAY)
    assert report.score.percent is None and report.score.denominator == 0
    assert report.score.to_dict()["percent"] is None


def test_changes_since_previous_month(report):
    changes = report.changes
    assert changes.previous_month == "2026-10"
    by_id = {c.id: (c.before, c.after) for c in changes.items}
    assert by_id["C.2"] == ("compliant", "non-compliant")
    assert by_id["C.3"] == ("non-compliant", "compliant")
    assert "C.2" in changes.newly_non_compliant and "C.3" in changes.fixed
    assert "A.1" not in by_id                                   # compliant both months (yearly attestation)
    failing = {(c.check_id, c.host): c.before for c in changes.newly_failing}
    assert failing[("ssh-failed-logins", "pc-01")] == "pass"
    assert failing[("disk-usage", "pc-01")] is None             # not checked in October
    assert ("package-inventory", "pc-02") not in failing        # waived is not failing
    assert [(c.check_id, c.host, c.before, c.after) for c in changes.checks_fixed] == [
        ("sshd-permit-root-login", "pc-01", "fail", "pass")]


def test_changes_dict(report):
    data = report.changes.to_dict()
    assert set(data) == {"previous_month", "items", "newly_non_compliant", "fixed", "checks"}
    assert set(data["checks"]) == {"newly_failing", "fixed"}
    assert {"id": "C.3", "before": "non-compliant", "after": "compliant"} in data["items"]


def test_partly_to_non_compliant_is_newly_non_compliant(catalog, store):
    audit(store, "2026-10", [result("disk-usage", "pc-01", "fail", ["C.5"]), result("disk-usage", "pc-02", "pass", ["C.5"])])
    audit(store, "2026-11", [result("disk-usage", "pc-01", "fail", ["C.5"]), result("disk-usage", "pc-02", "fail", ["C.5"])])
    changes = evaluate_month(catalog, store, "2026-11", MIXED_TODAY).changes
    assert changes.newly_non_compliant == ("C.5",) and changes.fixed == ()
    assert [(c.host, c.before) for c in changes.newly_failing] == [("pc-02", "pass")]


def test_compare_can_be_turned_off(catalog, store):
    assert evaluate_month(catalog, store, "2026-11", MIXED_TODAY, compare=False).changes is None
