"""Expectations: every kind, and the four observed outcomes kept apart (value, empty, absent, could not read)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sopctl.compliance.checks import Expectation
from sopctl.compliance.expect import describe, evaluate, parse_number, parse_timestamp
from sopctl.compliance.probes import Observation

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def E(kind, value=True, **kw):  # noqa: N802 - reads like the YAML
    if isinstance(value, list):
        value = tuple(value)
    return Expectation(kind, value, **kw)


def judge(observation, *expectations):
    return evaluate(observation, expectations, NOW)


VALUE = Observation.of
ABSENT = Observation.absent()
EMPTY = Observation.of("")
UNREADABLE = Observation.failed("could not read: permission denied ([Errno 13] Permission denied: '/etc/x')")


@pytest.mark.parametrize("expectation, good, bad", [
    (E("equals", "no"), "no", "yes"),
    (E("not_equals", "yes"), "no", "yes"),
    (E("in", ["no", "prohibit-password"]), "prohibit-password", "yes"),
    (E("not_in", ["yes", "without-password"]), "no", "yes"),
    (E("regex", r"^\d+ \d+$"), "32768 60999", "32768"),
    (E("not_regex", r"(?i)telnet"), "ssh", "Telnet"),
    (E("lt", 5.0), "4", "5"),
    (E("le", 4.0), "4", "4.5"),
    (E("gt", 0.0), "0.5", "0"),
    (E("ge", 90.0), "90", "89.99"),
    (E("age_days", 1.0), "2026-11-24T07:10:00Z", "2026-11-20T07:10:00Z"),
])
def test_each_kind_passes_and_fails(expectation, good, bad):
    assert judge(VALUE(good), expectation).status == "pass"
    verdict = judge(VALUE(bad), expectation)
    assert verdict.status == "fail" and verdict.observed == bad and verdict.reason


@pytest.mark.parametrize("expectation", [
    E("equals", "no"), E("not_equals", "yes"), E("in", ["no"]), E("not_in", ["yes"]), E("regex", "."),
    E("not_regex", "x"), E("lt", 5.0), E("ge", 0.0), E("age_days", 7.0), E("present"),
])
def test_absent_is_a_failure_shown_as_absent_never_a_pass(expectation):
    verdict = judge(ABSENT, expectation)
    assert (verdict.status, verdict.observed) == ("fail", "(absent)")
    assert verdict.reason.startswith("absent, expected ")


def test_not_equals_on_absent_still_fails():  # "key absent silently passing" is the classic bug
    verdict = judge(ABSENT, E("not_equals", "yes"))
    assert verdict.status == "fail" and verdict.reason == "absent, expected not: yes"


def test_absent_true_is_the_only_way_absence_passes():
    assert judge(ABSENT, E("absent")).status == "pass"
    assert judge(ABSENT, E("absent")).observed == "(absent)"
    present = judge(VALUE("1"), E("absent"))
    assert (present.status, present.reason) == ("fail", "present, expected absent")


def test_empty_is_a_value_distinct_from_absent():
    assert judge(EMPTY, E("equals", "")).status == "pass"
    assert judge(EMPTY, E("present")).status == "pass"
    empty_vs_absent = judge(EMPTY, E("absent"))
    assert (empty_vs_absent.status, empty_vs_absent.observed) == ("fail", '""')
    wrong = judge(EMPTY, E("equals", "no"))
    assert (wrong.status, wrong.observed, wrong.reason) == ("fail", '""', '"" is not no')
    assert judge(ABSENT, E("equals", "")).status == "fail"  # absent is not ""


@pytest.mark.parametrize("expectation", [E("equals", "no"), E("absent"), E("present"), E("not_equals", "x"),
                                         E("age_days", 1.0), E("lt", 3.0)])
def test_could_not_read_is_an_error_whatever_is_expected(expectation):
    verdict = judge(UNREADABLE, expectation)
    assert verdict.status == "error"
    assert verdict.observed == "(error) " + UNREADABLE.error and "permission denied" in verdict.reason


def test_wrong_value_shows_what_was_seen_and_wanted():
    verdict = judge(VALUE("yes"), E("in", ["no", "prohibit-password"]))
    assert verdict.status == "fail" and verdict.observed == "yes"
    assert verdict.expected == "one of: no, prohibit-password"
    assert verdict.reason == "yes is not one of: no, prohibit-password"


def test_case_matters_unless_ignore_case_is_asked_for():
    assert judge(VALUE("No"), E("equals", "no")).status == "fail"
    assert judge(VALUE("No"), E("equals", "no", ignore_case=True)).status == "pass"
    assert judge(VALUE("YES"), E("in", ["yes"], ignore_case=True)).status == "pass"
    assert judge(VALUE("YES"), E("not_in", ["yes"], ignore_case=True)).status == "fail"
    assert judge(VALUE("Pengadilan"), E("regex", "^pengadilan$")).status == "fail"
    assert judge(VALUE("Pengadilan"), E("regex", "^pengadilan$", ignore_case=True)).status == "pass"
    assert describe([E("equals", "no", ignore_case=True)]) == "equals: no (ignoring case)"


def test_regex_works_line_by_line():
    text = "Authorized use only\nPengadilan Agama Batulicin\n"
    assert judge(VALUE(text), E("regex", "^Pengadilan Agama")).status == "pass"


def test_all_expectations_must_hold_and_each_failure_is_named():
    verdict = judge(VALUE("6"), E("ge", 1.0), E("le", 4.0), E("not_equals", "6"))
    assert verdict.status == "fail"
    assert verdict.reason == "6 is not <= 4; 6 is 6, which the check refuses"
    assert verdict.expected == ">= 1; <= 4; not: 6"


def test_numbers_a_non_number_fails_with_the_reason():
    verdict = judge(VALUE("unlimited"), E("le", 90.0))
    assert (verdict.status, verdict.reason) == ("fail", "unlimited is not a number")
    assert judge(VALUE(" 4294967295 "), E("ge", 4294967295.0)).status == "pass"
    assert judge(VALUE("-1"), E("lt", 0.0)).status == "pass"
    for text in ("", "nan", "inf", "1,5", "0x10", "4 days"):
        assert parse_number(text) is None, text
    assert parse_number("1e3") == 1000.0 and parse_number(".5") == 0.5


def test_file_fields_are_judged_one_by_one():
    stat = Observation("value", "exists", fields={"mode": "0644", "owner": "root", "group": "shadow"})
    expectations = (E("in", ["0640", "0600"], field="mode"), E("equals", "root", field="owner"))
    verdict = evaluate(stat, expectations, NOW)
    assert verdict.status == "fail" and verdict.observed == "mode=0644 owner=root"
    assert verdict.reason == "mode: 0644 is not one of: 0640, 0600"
    assert verdict.expected == "mode one of: 0640, 0600; owner equals: root"
    missing_file = evaluate(Observation.absent(), expectations, NOW)
    assert (missing_file.status, missing_file.observed) == ("fail", "(absent)")


def test_long_values_are_cut_in_observed():
    verdict = judge(VALUE("x" * 1000), E("equals", "y"))
    assert verdict.observed.startswith("x" * 300) and verdict.observed.endswith("(1000 characters)")


# ------------------------------------------------------------------------------------- timestamps

AT = datetime(2026, 11, 24, 7, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", [
    "1795504200",                          # epoch seconds
    "1795504200.0",
    "2026-11-24T07:10:00Z",                # ISO 8601
    "2026-11-24T07:10:00.0000000Z",        # .NET ToString('o'): seven fraction digits
    "2026-11-24T14:10:00.0000000+07:00",   # WIB
    "2026-11-24T07:10:00",                 # no zone: UTC
    "/Date(1795504200000)/",               # Windows PowerShell 5.1 ConvertTo-Json
    "\\/Date(1795504200000)\\/",           # the same as it stands inside the JSON text
    "/Date(1795504200000+0700)/",          # with an offset, which does not move the instant
    "24 Nov 2026 07:10 +0000",             # sigtool -i "Build time:"
    "Build time: 24 Nov 2026 14:10 +0700",
    "Tue, 24 Nov 2026 07:10:00 GMT",       # HTTP Last-Modified
])
def test_timestamp_formats(text):
    assert parse_timestamp(text) == AT


@pytest.mark.parametrize("text", ["", "yesterday", "24 Foo 2026 07:10 +0000", "2026-13-01", "/Date(abc)/",
                                  "31 Feb 2026 07:10 +0000"])
def test_not_timestamps(text):
    assert parse_timestamp(text) is None


def test_age_days():
    assert judge(VALUE("24 Nov 2026 07:10 +0000"), E("age_days", 1.0)).status == "pass"
    old = judge(VALUE("Build time: 20 Nov 2026 07:10 +0000"), E("age_days", 1.0))
    assert old.status == "fail" and old.reason.startswith("4.2 days old (2026-11-20T07:10:00+00:00), more than 1")
    future = (NOW + timedelta(days=3)).isoformat()
    assert judge(VALUE(future), E("age_days", 0.0)).status == "pass"  # not older than N days
    garbage = judge(VALUE("never"), E("age_days", 7.0))
    assert garbage.status == "fail" and "is not a timestamp" in garbage.reason
    assert describe([E("age_days", 7.0)]) == "at most 7 days old"


def test_describe_reads_like_a_sentence():
    assert describe([E("in", ["no", "prohibit-password"])]) == "one of: no, prohibit-password"
    assert describe([E("absent")]) == "absent"
    assert describe([E("regex", "^a"), E("lt", 2.5)]) == "matches /^a/; < 2.5"
