"""package: the generic package module (Ansible's `ansible.builtin.package`): it hands `name` and `state`
to the host's own package module, chosen from the facts.

Options:

- `name` (list of str, required; a comma-separated string is split): packages, in the syntax of the
  package manager underneath (for apt: `NAME` or `NAME=VERSION`). Names are not translated between
  distributions.
- `state` (str, default `present`; `present`, `absent`, `latest`, `installed`, `removed`): passed on as is
  (Ansible documents `state` as required; it too falls back to the backend's default, `present`).
- `use` (str, default `auto`; `auto` or `apt`): force the backend instead of choosing it from the facts.

Choosing: the `pkg_mgr` fact when it names a supported manager, else `os_family` (Debian → apt). Any other
host fails with "package: no package manager supported for os_family X".

Check mode and diff: whatever the backend does (apt: full prediction, package-version diff).

EXAMPLES:

    - name: Install the NTP client on any supported host
      package:
        name: chrony
        state: present

    - name: Remove telnet
      package:
        name: telnet
        state: absent
"""

from __future__ import annotations

from types import SimpleNamespace

from sopctl.modules import apt
from sopctl.modules.base import ModuleSpec, Option, Plan, validate

SPEC = ModuleSpec(
    name="package",
    options={
        "name": Option("list", required=True, elements="str", help="packages, in the backend's syntax"),
        "state": Option("str", default="present", choices=("present", "absent", "latest", "installed", "removed"),
                        help="passed on to the backend"),
        "use": Option("str", default="auto", choices=("auto", "apt"), help="backend module (auto: from facts)"),
    },
    check_mode="full",
    diff=True,
    doc=__doc__,
)

BACKENDS = {"apt": apt}
FAMILY_BACKEND = {"Debian": "apt"}


def backend_for(facts: dict) -> str | None:
    if facts.get("pkg_mgr") in BACKENDS:
        return facts["pkg_mgr"]
    return FAMILY_BACKEND.get(facts.get("os_family") or "")


def plan(params: dict, host) -> Plan:
    chosen = params["use"] if params["use"] != "auto" else backend_for(host.facts or {})
    if chosen is None:
        family = (host.facts or {}).get("os_family") or "unknown"
        return Plan(failed=True, msg=f"package: no package manager supported for os_family {family}")
    backend = BACKENDS[chosen]
    backend_params = validate(backend.SPEC, {"name": params["name"], "state": params["state"]})
    return backend.plan(backend_params, host)


MODULE = SimpleNamespace(spec=SPEC, plan=plan)
