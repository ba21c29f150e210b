"""Loading check files: the real examples, and one located error (file:line: field: message) per mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sopctl.compliance import load_catalog
from sopctl.compliance.checks import AppliesTo, Check, Expectation, Probe, load_checks
from sopctl.errors import InputError

REPO = Path(__file__).resolve().parents[3]
EXAMPLES_FILE = REPO / "tests" / "unit" / "checks" / "data" / "examples.yml"
DATA = Path(__file__).parent / "data"
ERRORS = DATA / "errors"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(REPO / "checks" / "sop.yml")


def marked_line(path: Path) -> int:
    """The 1-based line a data file marks with `# <-`: where the error must point."""
    lines = [n for n, text in enumerate(path.read_text().splitlines(), start=1) if "# <-" in text]
    assert len(lines) == 1, f"{path.name} must mark exactly one line"
    return lines[0]


# ------------------------------------------------------------------------------------ real files


def test_examples_load_with_the_real_catalog(catalog):
    checks = load_checks(EXAMPLES_FILE, catalog)
    ids = [c.id for c in checks]
    assert ids[:5] == ["sshd-permit-root-login", "sshd-permit-empty-passwords", "shadow-permissions",
                       "passwd-permissions", "reboot-required"]
    refs = catalog.referenced_checks()
    for check in checks:  # every example uses an id the catalog's items refer to, under those items
        assert check.id in refs and set(check.sop) <= set(refs[check.id]), check.id
    root = checks[0]
    assert root.probe == Probe("sshd", "permitrootlogin")
    assert root.expect == (Expectation("in", ("no", "prohibit-password", "without-password")),)
    assert root.applies_to == AppliesTo(("linux",)) and root.severity == "high"
    assert root.path.endswith("examples.yml") and root.line == 5 and root.where.endswith("examples.yml:5")
    shadow = checks[2]
    assert shadow.probe == Probe("file", "/etc/shadow")
    assert [(e.field, e.kind, e.value) for e in shadow.expect] == [
        ("mode", "in", ("0640", "0600")), ("owner", "equals", "root"), ("group", "in", ("shadow", "root"))]
    assert checks[1].expect[0].ignore_case is True
    assert checks[-1].applies_to.os == ("windows",) and checks[-1].probe.property == "RealTimeProtectionEnabled"


def test_dataclasses_are_frozen(catalog):
    check = load_checks(EXAMPLES_FILE, catalog)[0]
    for obj, attr in ((check, "id"), (check.probe, "target"), (check.expect[0], "kind")):
        with pytest.raises(AttributeError):
            setattr(obj, attr, "x")
    assert isinstance(check, Check)


def test_folder_skips_sop_yml_and_reads_files_in_name_order(tmp_path, catalog):
    shutil.copy(REPO / "checks" / "sop.yml", tmp_path / "sop.yml")
    (tmp_path / "b.yml").write_text(_one("b-check"))
    (tmp_path / "a.yaml").write_text(_one("a-check"))
    (tmp_path / "notes.txt").write_text("not a check file")
    assert [c.id for c in load_checks(tmp_path, catalog)] == ["a-check", "b-check"]
    assert [c.id for c in load_checks([tmp_path / "b.yml", tmp_path / "sop.yml"], catalog)] == ["b-check"]


def test_duplicate_id_across_files_names_both_places(tmp_path, catalog):
    (tmp_path / "a.yml").write_text(_one("host-reachable"))
    (tmp_path / "b.yml").write_text("# another baseline\n\n" + _one("host-reachable"))
    with pytest.raises(InputError) as caught:
        load_checks(tmp_path, catalog)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'b.yml'}:4: checks[0].id: duplicate check id 'host-reachable'")
    assert f"first defined at {tmp_path / 'a.yml'}:2" in message


def test_empty_checks_list_is_fine_but_an_empty_file_is_not(tmp_path, catalog):
    (tmp_path / "none.yml").write_text("checks: []\n")
    assert load_checks(tmp_path / "none.yml", catalog) == []
    (tmp_path / "empty.yml").write_text("")
    with pytest.raises(InputError, match="must be a mapping with a checks: list"):
        load_checks(tmp_path / "empty.yml", catalog)


def test_without_a_catalog_sop_ids_are_not_looked_up(tmp_path):
    (tmp_path / "a.yml").write_text(_one("x-check").replace("[C.3]", "[Z.9]"))
    assert load_checks(tmp_path / "a.yml", None)[0].sop == ("Z.9",)


def test_defaults_and_normalisation(tmp_path, catalog):
    (tmp_path / "a.yml").write_text(
        "checks:\n"
        "  - {id: m, title: t, sop: [C.3], severity: low, rationale: r, remediation: {text: x, playbook: p.yml,\n"
        "     task: T}, applies_to: {groups: [servers]}, probe: {file: /etc/shadow, property: mode},\n"
        "     expect: {in: ['640', '0600']}}\n"
        "  - {id: h, title: t, sop: [F.1], severity: low, rationale: r, remediation: {text: x},\n"
        "     probe: {http: {url: 'https://example.invalid/', status: [200, 304], timeout: 3}, field: body,\n"
        "     extract: '<title>(.*)</title>'}, expect: {regex: Pengadilan, ignore_case: true}}\n")
    mode, http = load_checks(tmp_path / "a.yml", catalog)
    assert mode.expect[0].value == ("0640", "0600")  # modes compared as 4 octal digits
    assert mode.applies_to == AppliesTo(("linux",), ("servers",))
    assert mode.remediation.playbook == "p.yml" and mode.remediation.task == "T"
    assert mode.probe.timeout == 10.0
    assert http.probe == Probe("http", "https://example.invalid/", field="body", extract="<title>(.*)</title>",
                               method="GET", status=(200, 304), timeout=3.0)
    assert http.applies_to.os == ("linux", "windows") and http.expect[0].ignore_case


def _one(check_id: str) -> str:
    return (f"checks:\n  - id: {check_id}\n    title: t\n    sop: [C.3]\n    severity: low\n    rationale: r\n"
            f"    remediation: {{text: fix}}\n    probe: {{command: 'true', field: rc}}\n    expect: {{equals: 0}}\n")


# --------------------------------------------------------------------------------- located errors

CASES = [
    ("unknown_key.yml", "checks[0].severty", "unknown field; expected one of: id, title, sop"),
    ("unknown_probe.yml", "checks[0].probe.procfs", "unknown probe kind; expected one of: command, file"),
    ("two_probes.yml", "checks[0].probe.file", "a check has exactly one probe, and this one also has command:"),
    ("no_probe_kind.yml", "checks[0].probe", "needs one probe kind: command, file, sshd"),
    ("unknown_expectation.yml", "checks[0].expect.equal", "unknown expectation; expected one of: equals"),
    ("bad_regex.yml", "checks[0].expect.regex", "bad regular expression 'Pengadilan (Agama': missing )"),
    ("bad_match_regex.yml", "checks[0].probe.match", "bad regular expression '^PASS_MAX_DAYS['"),
    ("extract_groups.yml", "checks[0].probe.extract", "must have exactly one (group), it has 0"),
    ("duplicate_id.yml", "checks[1].id", "duplicate check id 'passwd-permissions' (first defined at {path}:2)"),
    ("unknown_sop.yml", "checks[0].sop[1]", "refers to SOP item 'G.1', which"),
    ("bad_severity.yml", "checks[0].severity", "'urgent' is not one of: low, medium, high, critical"),
    ("unquoted_no.yml", "checks[0].expect.equals", "YAML reads unquoted yes/no/true/false/on/off as a boolean"),
    ("mode_number.yml", "checks[0].expect.mode.in[0]", "quote the mode, like \"0640\" (YAML reads 416"),
    ("option_wrong_kind.yml", "checks[0].probe.field", "does not apply to an sshd probe; an sshd probe takes"),
    ("bad_check_id.yml", "checks[0].id", "'Shadow_Permissions' is not a check id (kebab-case"),
    ("missing_rationale.yml", "checks[0].rationale", "is required"),
    ("absent_not_alone.yml", "checks[0].expect.absent", "absent: true must stand alone"),
    ("os_mismatch.yml", "checks[0].applies_to.os[0]", "an sshd probe does not run on windows hosts"),
    ("ps_no_json.yml", "checks[0].probe.powershell.script", "must end with ConvertTo-Json"),
    ("line_without_match.yml", "checks[0].probe.property", "property line needs match: REGEX"),
    ("bad_timeout.yml", "checks[0].probe.timeout", "must be a number of seconds above 0"),
    ("bad_sshd_match.yml", "checks[0].probe.sshd_match", "is not a connection spec for sshd -C"),
    ("number_not_number.yml", "checks[0].expect.le", "must be a number, not a string"),
    ("top_level.yml", "check", "unknown field; expected one of: checks"),
    ("field_unknown_expectation.yml", "checks[0].expect.perms", "unknown expectation; expected one of"),
]


@pytest.mark.parametrize("name, field, message", CASES, ids=[c[0] for c in CASES])
def test_each_mistake_names_file_line_and_field(catalog, name, field, message):
    path = ERRORS / name
    with pytest.raises(InputError) as caught:
        load_checks(path, catalog)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), marked_line(path), field), str(error)
    assert str(error).startswith(f"{path}:{marked_line(path)}: {field}: ")
    assert message.format(path=path) in error.reason


def test_every_error_file_is_a_case():
    assert sorted(p.name for p in ERRORS.glob("*.yml")) == sorted(c[0] for c in CASES)


def test_a_bad_file_among_good_ones_loads_nothing(tmp_path, catalog):
    (tmp_path / "a.yml").write_text(_one("good-one"))
    shutil.copy(ERRORS / "bad_regex.yml", tmp_path / "b.yml")
    with pytest.raises(InputError, match=r"b\.yml:10: checks\[0\]\.expect\.regex"):
        load_checks(tmp_path, catalog)
