"""apt: manage Debian/Ubuntu packages with apt-get (Ansible's `ansible.builtin.apt`, the common subset).

Options (Ansible's names and meaning):

- `name` (list of str, aliases `pkg`, `package`; a comma-separated string is split): packages, each a
  name or `name=VERSION` (VERSION may hold fnmatch wildcards, e.g. `nginx=1.22*`) or `name>=VERSION`.
  Name wildcards (`apt*`) and `*` (upgrade everything) are refused with a message.
- `state` (str, default `present`; `present`, `absent`, `latest`, and the spellings `installed` = present,
  `removed` = absent): `present` installs what is missing (or at the wrong pinned version); `latest` also
  upgrades an installed package when apt's candidate is newer; `absent` removes installed packages.
- `update_cache` (bool, alias `update-cache`): run `apt-get update` first; may be the task's only option.
- `cache_valid_time` (int seconds, default 0): update only when the last update is older than this; when
  set it implies `update_cache` (Ansible 2.4+). The age is the mtime of
  /var/lib/apt/periodic/update-success-stamp, else of /var/lib/apt/lists, as Ansible reads it.
- `purge` (bool, default false): with `absent` (or `autoremove`), also remove configuration files; a
  package removed earlier but not purged (dpkg state "config-files") is then purged too.
- `autoremove` (bool, default false): remove dependencies no longer needed (`--auto-remove` with the
  install/remove command, or `apt-get autoremove` when no package is named).
- `install_recommends` (bool, alias `install-recommends`, default: the OS default): false adds
  `--no-install-recommends`, true adds `-o APT::Install-Recommends=yes`.
- `force` (bool, default false): Ansible documents it as implying `allow_unauthenticated` and
  `allow_downgrade`; it adds `--allow-unauthenticated --allow-downgrades` (apt's current spelling of the
  deprecated `--force-yes`). Destructive: almost never the right answer.
- `allow_downgrade` (bool, default false, aliases `allow-downgrade`, `allow_downgrades`,
  `allow-downgrades`): let a pinned `name=VERSION` replace a newer installed version.
- `dpkg_options` (str, default `force-confdef,force-confold`): comma-separated dpkg options, each passed as
  `-o Dpkg::Options::=--OPTION`.
- `lock_timeout` (int, default 60): seconds apt waits for the dpkg lock (`-o DPkg::Lock::Timeout=N`).

How it looks: one `dpkg-query -W` for all named packages (installed = status "… installed"; a package
dpkg does not list is not installed); `apt-cache policy` for the packages whose candidate matters
(`latest`, a version pin, or a package to install — to say "No package matching 'x' is available" before
running anything). When a cache update is due, the package lists are stale until it runs, so candidates
are left to apt-get then and the result's `changed` comes from apt-get's own summary line.

Commands: `apt-get update -q`, `apt-get install -y -q -o Dpkg::Options::=--force-confdef
-o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=60 … PKGS` and `apt-get remove -y -q … [--purge]
PKGS`, run as argv with DEBIAN_FRONTEND=noninteractive, DEBIAN_PRIORITY=critical and LC_ALL=C.

Check mode: full — the same observation predicts what would be installed, upgraded or removed, and
`cache_updated` is true when an update is due (as Ansible says in check mode). Diff: the packages' versions
before and after (`latest`/`candidate` where apt will choose).

Returns: `cache_updated` (bool), `cache_update_time` (epoch seconds of the cache, 0 if unknown), and after a
command `stdout`, `stderr` (and `rc`, `msg` when it failed: "'apt-get install …' failed: STDERR").

EXAMPLES:

    - name: Install the SSH server and curl
      apt:
        name: [openssh-server, curl]
        state: present

    - name: Refresh the package lists if older than an hour, then upgrade openssh-server
      apt:
        name: openssh-server
        state: latest
        update_cache: true
        cache_valid_time: 3600

    - name: Pin a version
      apt:
        name: nginx=1.22.1-9

    - name: Remove telnet and its configuration
      apt:
        name: telnet
        state: absent
        purge: true

    - name: Remove dependencies that are no longer required
      apt:
        autoremove: true
"""

from __future__ import annotations

import fnmatch
import re
import time
from dataclasses import dataclass
from types import SimpleNamespace

from sopctl.modules.base import ModuleSpec, Option, Plan, text_diff
from sopctl.modules.pkgfacts import (APT_GET_NOTHING, DPKG_FORMAT, AptPolicy, PackageState, compare_versions,
                                     outcomes, parse_apt_policy, parse_dpkg_status, run)

APT_UPDATE_STAMP = "/var/lib/apt/periodic/update-success-stamp"
APT_LISTS = "/var/lib/apt/lists"
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "DEBIAN_PRIORITY": "critical"}
SIMULATE = ["apt-get", "-s", "-o", "Debug::NoLocking=true"]
STATE_ALIASES = {"installed": "present", "removed": "absent"}

SPEC = ModuleSpec(
    name="apt",
    options={
        "name": Option("list", elements="str", aliases=("pkg", "package"),
                       help="packages: NAME, NAME=VERSION (wildcards allowed in VERSION) or NAME>=VERSION"),
        "state": Option("str", default="present", choices=("present", "absent", "latest", "installed", "removed"),
                        help="present/installed, absent/removed, or latest (upgrade when newer)"),
        "update_cache": Option("bool", aliases=("update-cache",), help="run apt-get update first"),
        "cache_valid_time": Option("int", default=0, help="update only if the cache is older (s); implies update"),
        "purge": Option("bool", default=False, help="remove configuration files too"),
        "autoremove": Option("bool", default=False, help="remove dependencies no longer needed"),
        "install_recommends": Option("bool", aliases=("install-recommends",),
                                     help="install recommended packages (default: as the OS does)"),
        "force": Option("bool", default=False, help="allow unauthenticated packages and downgrades"),
        "allow_downgrade": Option("bool", default=False,
                                  aliases=("allow-downgrade", "allow_downgrades", "allow-downgrades"),
                                  help="let a pinned version replace a newer one"),
        "dpkg_options": Option("str", default="force-confdef,force-confold", help="comma-separated dpkg options"),
        "lock_timeout": Option("int", default=60, help="seconds to wait for the dpkg lock"),
    },
    check_mode="full",
    diff=True,
    doc=__doc__,
)


@dataclass(frozen=True)
class PackageWanted:
    """One entry of `name`: NAME, NAME=VERSION or NAME>=VERSION."""

    text: str
    name: str
    op: str | None = None
    version: str | None = None

    def satisfied_by(self, version: str) -> bool:
        if self.op == "=":
            return fnmatch.fnmatchcase(version, self.version)
        if self.op == ">=":
            return compare_versions(version, self.version) >= 0
        return True

    def best(self, policy: AptPolicy) -> str | None:
        """The version apt would install for this spec, as Ansible picks it (None: nothing fits)."""
        if self.op == "=":
            return next((v for v in policy.versions if fnmatch.fnmatchcase(v, self.version)), None)
        if policy.candidate and self.satisfied_by(policy.candidate):
            return policy.candidate
        return None


def parse_wanted(text: str) -> PackageWanted:
    if text == "*":
        raise ValueError("apt: name '*' (upgrade every package) is not supported; name the packages")
    if text.count("=") > 1:
        raise ValueError(f"apt: invalid package spec: {text}")
    parts = re.split(r"(>?=)", text, maxsplit=1)
    name = parts[0].strip()
    if not name or set("*?[]!") & set(name):
        raise ValueError(f"apt: package name patterns are not supported ({text!r}); name the packages")
    if len(parts) == 1:
        return PackageWanted(text, name)
    return PackageWanted(text, name, parts[1], parts[2].strip())


def cache_time(host) -> int:
    """Epoch seconds of the last cache update, as Ansible reads it; 0 when unknown."""
    for path in (APT_UPDATE_STAMP, APT_LISTS):
        info = host.stat(path, follow=True)
        if info.get("exists"):
            return int(info.get("mtime") or 0)
    return 0


def _clock() -> float:
    """Now, on the control machine (a module attribute so tests can fix the time)."""
    return time.time()


def _apt_options(params: dict) -> list[str]:
    options = []
    for option in (o.strip() for o in params["dpkg_options"].split(",")):
        if option:
            options += ["-o", f"Dpkg::Options::=--{option}"]
    options += ["-o", f"DPkg::Lock::Timeout={params['lock_timeout']}"]
    return options


def _install_command(params: dict, packages: list[str]) -> list[str]:
    cmd = ["apt-get", "install", "-y", "-q"] + _apt_options(params)
    if params["install_recommends"] is False:
        cmd.append("--no-install-recommends")
    elif params["install_recommends"] is True:
        cmd += ["-o", "APT::Install-Recommends=yes"]
    if params["force"]:
        cmd += ["--allow-unauthenticated", "--allow-downgrades"]
    elif params["allow_downgrade"]:
        cmd.append("--allow-downgrades")
    if params["autoremove"]:
        cmd.append("--auto-remove")
    return cmd + packages


def _remove_command(params: dict, packages: list[str]) -> list[str]:
    cmd = ["apt-get", "remove", "-y", "-q"] + _apt_options(params)
    if params["purge"]:
        cmd.append("--purge")
    if params["autoremove"]:
        cmd.append("--auto-remove")
    return cmd + packages


def _satisfied(want: PackageWanted, states: dict[str, PackageState]) -> bool:
    current = states.get(want.name)
    return current is not None and current.installed and want.satisfied_by(current.version)


@dataclass
class _Decision:
    """What the observation says to do with the named packages."""

    install: list[str]
    remove: list[str]
    before: dict[str, str]
    after: dict[str, str]
    failure: str | None = None


def _decide(wanted: list[PackageWanted], state: str, states: dict[str, PackageState],
            policies: dict[str, AptPolicy] | None, params: dict) -> _Decision:
    """Pure decision. `policies` is None when the lists are about to be refreshed (apt-get decides then)."""
    decision = _Decision([], [], {}, {})
    for want in wanted:
        current = states.get(want.name)
        version = current.version if current is not None and current.installed else None
        decision.before[want.name] = decision.after[want.name] = version or "(not installed)"
        satisfied = _satisfied(want, states)
        if state == "absent":
            if satisfied or (params["purge"] and current is not None and current.config_files):
                decision.remove.append(want.name)
                decision.after[want.name] = "(removed)"
            continue
        if state == "present" and satisfied:
            continue
        if policies is None:  # stale lists: hand the spec to apt-get as written (">=": the candidate)
            decision.install.append(want.text if want.op == "=" else want.name)
            decision.after[want.name] = want.version if want.op == "=" else "(candidate)"
            continue
        policy = policies.get(want.name)
        if policy is None:
            decision.failure = f"No package matching '{want.name}' is available"
            return decision
        best = want.best(policy)
        if satisfied and (best is None or compare_versions(best, version) <= 0):
            continue  # latest, and nothing newer that fits
        if best is None and want.op:
            decision.failure = f"no available installation candidate for {want.text}"
            return decision
        # best is None without a pin: no candidate of its own (a virtual package): apt-get chooses or says why
        decision.install.append(f"{want.name}={best}" if want.op else want.name)
        decision.after[want.name] = best or "(provided by another package)"
    return decision


def plan(params: dict, host) -> Plan:
    state = STATE_ALIASES.get(params["state"], params["state"])
    try:
        wanted = [parse_wanted(text.strip()) for text in (params["name"] or []) if text and text.strip()]
    except ValueError as exc:
        return Plan(failed=True, msg=str(exc))
    update_wanted = bool(params["update_cache"]) or params["cache_valid_time"] > 0
    if not wanted and not update_wanted and not params["autoremove"]:
        return Plan(failed=True, msg="apt: one of these options is required: name, update_cache, autoremove")

    actions: list[dict] = []
    roles: list[str] = []
    result: dict = {"cache_updated": False, "cache_update_time": 0}
    cache_due = False
    if update_wanted:
        result["cache_update_time"] = cache_time(host)
        cache_due = result["cache_update_time"] + params["cache_valid_time"] < _clock()
        if cache_due:
            result["cache_updated"] = True  # the prediction; finish reads the new cache time
            actions += [run(["apt-get", "update", "-q"], env=APT_ENV),
                        {"op": "stat", "path": APT_UPDATE_STAMP, "follow": True},
                        {"op": "stat", "path": APT_LISTS, "follow": True}]
            roles += ["update", "stamp", "lists"]

    diff: list[dict] = []
    if wanted:
        names = [w.name for w in wanted]
        answer = host.query(["dpkg-query", "-W", DPKG_FORMAT] + names)
        if answer["rc"] not in (0, 1):
            return Plan(failed=True, msg=f"apt: could not read the package states (dpkg-query rc={answer['rc']}): "
                                         f"{answer.get('stderr', '').strip()}")
        states = parse_dpkg_status(answer["stdout"])
        policies = None
        if not cache_due:
            needs = [] if state == "absent" else [
                w.name for w in wanted if state == "latest" or not _satisfied(w, states)]
            policies = {}
            if needs:
                policy_answer = host.query(["apt-cache", "policy"] + needs)
                if policy_answer["rc"] != 0:
                    return Plan(failed=True, msg="apt: could not read apt's candidates (apt-cache policy): "
                                                 f"{policy_answer.get('stderr', '').strip()}")
                policies = parse_apt_policy(policy_answer["stdout"])
        decision = _decide(wanted, state, states, policies, params)
        if decision.failure:
            return Plan(failed=True, msg=decision.failure, result=result)
        if decision.install:
            actions.append(run(_install_command(params, decision.install), env=APT_ENV))
            roles.append("install")
        if decision.remove:
            actions.append(run(_remove_command(params, decision.remove), env=APT_ENV))
            roles.append("remove")
        if decision.before != decision.after:
            diff.append(text_diff("".join(f"{k}: {v}\n" for k, v in decision.before.items()),
                                  "".join(f"{k}: {v}\n" for k, v in decision.after.items()), "apt packages"))
    elif params["autoremove"]:
        purge = ["--purge"] if params["purge"] else []
        answer = host.query(SIMULATE + ["autoremove"] + purge)
        if answer["rc"] != 0:
            return Plan(failed=True, msg=f"apt: could not simulate autoremove: {answer.get('stderr', '').strip()}")
        if re.search(r"^(Remv|Purg) ", answer["stdout"], re.MULTILINE):  # apt-get -s prints Purg with --purge
            actions.append(run(["apt-get", "autoremove", "-y", "-q"] + _apt_options(params) + purge, env=APT_ENV))
            roles.append("autoremove")

    changes = [r for r in roles if r in ("install", "remove", "autoremove")]
    before_time = result["cache_update_time"]

    def finish(action_results: list, out: dict) -> dict:
        done = outcomes(action_results, len(actions))
        stamp_time = None
        for role, action, got in zip(roles, actions, done):
            if role in ("stamp", "lists"):
                if stamp_time is None and got.ok and got.data.get("exists"):
                    stamp_time = int(got.data.get("mtime") or 0)
                continue
            if role == "update":
                if not got.ok:
                    out.update(failed=True, rc=got.rc, msg=f"Failed to update apt cache: {got.message}")
                continue
            out["stdout"], out["stderr"] = got.stdout, got.stderr
            if not got.ok and not out.get("failed"):
                out.update(failed=True, rc=got.rc,
                           msg=f"'{' '.join(action['cmd'])}' failed: {got.message}")
        if "update" in roles:
            out["cache_update_time"] = stamp_time if stamp_time is not None else before_time
            out["cache_updated"] = out["cache_update_time"] != before_time
        did_something = bool(changes) and not APT_GET_NOTHING.search(out.get("stdout", ""))
        out["changed"] = not out.get("failed") and (bool(out["cache_updated"]) or did_something)
        return out

    return Plan(actions=actions, result=result, diff=diff, finish=finish if actions else None)


MODULE = SimpleNamespace(spec=SPEC, plan=plan)
