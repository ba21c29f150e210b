"""Parsing system facts. The Debian sample was recorded from a lab host. No Windows host runs here: the
Windows samples are written to the documented output of the gathering script (ISO dates from
ToString('o'), numbers for UInt64 fields) in the shapes Windows PowerShell 5.1 (compressed) and
PowerShell 7 (indented) print; they are not recordings from a real PC."""

from pathlib import Path

import pytest

from sopctl.facts import system

DATA = Path(__file__).parent / "data"


def test_debian_lab_sample():
    facts = system.parse("sh", (DATA / "debian12-lab.txt").read_text())
    assert (facts.os_family, facts.distribution, facts.distribution_version) == ("Debian", "Debian", "12")
    assert facts.distribution_major_version == "12" and facts.hostname == "srv-01"
    assert facts.processor_vcpus >= 1 and facts.memtotal_mb > facts.memavailable_mb > 0
    assert facts.missing == []


def test_absent_values_are_none_and_listed_not_zero():
    facts = system.parse("sh", "system=Linux\nkernel=6.1.0\nhostname=h\nvcpus=\n")
    assert facts.processor_vcpus is None and facts.memtotal_mb is None and facts.os_family is None
    assert {"processor_vcpus", "memtotal_mb", "distribution", "disk_root_used_pct"} <= set(facts.missing)


def test_ubuntu_maps_to_debian_family_via_id():
    facts = system.parse("sh", "distribution_id=ubuntu\ndistribution_like=debian\ndistribution_version=24.04\n")
    assert (facts.os_family, facts.distribution, facts.distribution_major_version) == ("Debian", "Ubuntu", "24")


def test_unknown_distribution_falls_back_to_id_like():
    facts = system.parse("sh", "distribution_id=pop\ndistribution_like=ubuntu debian\n")
    assert facts.os_family == "Debian" and facts.distribution == "Pop"


def test_windows_51_sample():
    facts = system.parse("powershell", (DATA / "windows11-ps51.json").read_text())
    assert facts.os_family == "Windows" and facts.distribution == "Microsoft Windows 11 Pro"
    assert facts.hostname == "PC-KASUBAG" and facts.processor_vcpus == 8
    assert facts.uptime_seconds == ((3 * 24 + 8) * 3600 + 47 * 60 + 4)  # 2026-11-20T23:14:05.5 → 11-24T08:01:10.12
    assert facts.disk_root_total_mb == 487424 and facts.disk_root_used_pct == pytest.approx(60.6, abs=0.1)


def test_windows_7_sample_with_a_missing_field():
    facts = system.parse("powershell", (DATA / "windows10-pwsh7.json").read_text())
    assert facts.uptime_seconds == 2 * 3600 and facts.memtotal_mb == 8092
    assert facts.disk_root_used_mb is None and "disk_root_used_mb" in facts.missing


def test_windows_non_json_is_an_error_not_a_pass():
    with pytest.raises(ValueError, match="did not answer JSON"):
        system.parse("powershell", "#< CLIXML\n<Objs Version=...")
    with pytest.raises(ValueError, match="not an object"):
        system.parse("powershell", "[1, 2]")


def test_gathering_script_forces_the_c_locale():
    assert system.POSIX_SCRIPT.startswith("export LC_ALL=C")
    assert "$ProgressPreference" not in system.WINDOWS_SCRIPT  # the transport adds the preamble once
