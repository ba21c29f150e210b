"""Values on their way in: output trimming, secrets refused, display forms stored."""

from __future__ import annotations

import pytest

from sopctl.store import OUTPUT_CAP, trim_output
from sopctl.transport.quoting import Secret, sh


def test_short_output_is_kept_as_is():
    assert trim_output("hello") == ("hello", 5, False)
    assert trim_output("x" * OUTPUT_CAP) == ("x" * OUTPUT_CAP, OUTPUT_CAP, False)
    assert trim_output(None) == (None, None, False)
    assert trim_output(b"bytes \xff") == ("bytes \ufffd", 9, False)


def test_long_output_keeps_head_and_tail_and_says_what_was_cut():
    output = "HEAD" + "m" * 10_000 + "the error at the end"
    kept, size, trimmed = trim_output(output)
    assert trimmed and size == len(output)
    assert kept.startswith("HEAD") and kept.endswith("the error at the end")
    head, marker, tail = kept.split("\n")
    assert len(head.encode()) + len(tail.encode()) == OUTPUT_CAP
    assert marker == f"[... sopctl trimmed {size - OUTPUT_CAP} of {size} bytes of output ...]"


def test_trimming_never_splits_a_character():
    output = "é" * 5000  # 2 bytes each: 10000 bytes
    kept, size, trimmed = trim_output(output, cap=101)
    assert trimmed and size == 10_000
    head, _marker, tail = kept.split("\n")
    assert set(head) == {"é"} and set(tail) == {"é"}
    assert len(head.encode()) <= 50 and len(tail.encode()) <= 51


def test_stored_result_output_is_trimmed_and_noted(store):
    with store.run("audit", month="2025-03") as run:
        run.add_result("big", "pc-01", "error", output="z" * 100_000)
        run.add_result("small", "pc-01", "pass", output="ok\n")
    big, small = store.results_for_run(run.id)
    assert big.output_trimmed and big.output_size == 100_000
    assert "sopctl trimmed 95904 of 100000 bytes" in big.output
    assert len(big.output.encode()) < OUTPUT_CAP + 100
    assert not small.output_trimmed and small.output == "ok\n" and small.output_size == 3


@pytest.mark.parametrize("field", ["command", "observed", "expected", "output", "severity", "host", "check_id"])
def test_a_secret_in_a_result_field_is_refused_by_name(store, field):
    values = {"check_id": "c", "host": "h", "status": "pass", field: Secret("hunter2")}
    with store.run("audit", month="2025-03") as run:
        with pytest.raises(TypeError, match=f"^{field}: refusing to store a Secret"):
            run.add_result(**values)
    assert store.results_for_run(run.id) == []


def test_a_secret_anywhere_else_is_refused_by_name(store):
    with pytest.raises(TypeError, match="^what: refusing to store a Secret"):
        store.run("audit", what=Secret("s3cr3t-value"))
    with pytest.raises(TypeError, match="^meta: refusing"):
        store.run("audit", meta={"auth": {"password": Secret("s3cr3t-value")}})
    with store.run("audit", month="2025-03") as run:
        with pytest.raises(TypeError, match="^data: refusing"):
            run.add_evidence("C.3", "auto", "x", data={"list": [1, Secret("s3cr3t-value")]})
        with pytest.raises(TypeError, match="^meta: refusing"):
            run.set_meta(token=Secret("s3cr3t-value"))
        with pytest.raises(TypeError, match=r"^results\[0\]: sop_ids: refusing"):
            run.add_results([{"check_id": "c", "host": "h", "status": "pass", "sop_ids": [Secret("C.3")]}])
    with pytest.raises(TypeError, match="^reason: refusing"):
        store.add_waiver("c", "h", Secret("s3cr3t-value"), "Ketua", "2025-03-31")
    with pytest.raises(TypeError, match="^note: refusing"):
        store.add_attestation("F.7", "ketua", "X", note=Secret("s3cr3t-value"))
    with pytest.raises(TypeError, match="^summary: refusing"):
        store.add_evidence("C.3", "auto", Secret("s3cr3t-value"))
    everything = " ".join(str(tuple(row)) for table in ("runs", "results", "evidence", "waivers", "attestations")
                          for row in store._query(f"SELECT * FROM {table}"))
    assert "s3cr3t" not in everything


def test_a_command_is_stored_in_its_display_form(store):
    command = sh("mysql -u root -p{} -e {}", Secret("hunter2"), "SHOW DATABASES")
    with store.run("audit", what=command, month="2025-03") as run:
        run.add_result("db-list", "srv-01", "pass", command=command, observed=3, expected={"min": 1})
    result = store.results_for_run(run.id)[0]
    assert result.command == command.display and "hunter2" not in result.command and "***" in result.command
    assert store.get_run(run.id).what == command.display
    assert (result.observed, result.expected) == ("3", '{"min": 1}')
