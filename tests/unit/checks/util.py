"""Build checks for tests the way users do: YAML in a file, through the real loader."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from sopctl.compliance.checks import Check, load_checks


def make_checks(*specs: dict) -> list[Check]:
    """Each spec: probe and expect (required), optionally id, sop, applies_to, severity."""
    entries = []
    for number, spec in enumerate(specs, start=1):
        entry = {"id": spec.get("id", f"check-{number}"), "title": spec.get("title", "a test check"),
                 "sop": spec.get("sop", ["C.3"]), "severity": spec.get("severity", "medium"),
                 "rationale": "test", "remediation": {"text": "fix it"},
                 "probe": spec["probe"], "expect": spec["expect"]}
        if "applies_to" in spec:
            entry["applies_to"] = spec["applies_to"]
        entries.append(entry)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checks.yml"
        path.write_text(yaml.safe_dump({"checks": entries}, sort_keys=False))
        return load_checks(path, None)


def make_check(probe: dict, expect: dict, **spec) -> Check:
    return make_checks({"probe": probe, "expect": expect, **spec})[0]
