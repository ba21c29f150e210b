"""Probes: how a check's Probe becomes host operations, and how their answers become an Observation.

Linux: each probe becomes one or more agent operations (`run`, `stat`, `read`); every probe of a host goes
out in ONE `agent.batch` call, identical operations (like `sshd -T`) only once. Every command runs under
`/bin/sh` with `locale_c` (LC_ALL=C), so what we parse never depends on the host's language.

Windows: each probe becomes a PowerShell fragment; all of a host's fragments are combined into ONE script
that prints one JSON object keyed by check id. Each fragment runs in its own try/catch, and a user's
script is parsed at run time (`[scriptblock]::Create`), so one broken fragment is that check's error,
never the others'. Dates are written with ToString('o'); both Windows PowerShell 5.1 (`/Date(ms)/`
dates, enums as numbers) and PowerShell 7 answers parse.

`fact` and `http` probes need no host operation: facts are already gathered, and http is fetched from the
control machine.

An Observation keeps three outcomes apart: a value (possibly ""), `absent` (the thing is not there), and
`error` (we could not tell: permission denied, command missing, timeout, a non-JSON answer).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import shlex
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from sopctl.compliance.checks import WINDOWS_FILE_PROPERTIES, Probe
from sopctl.transport.quoting import Command, ps, ps_quote, sh

VALUE, ABSENT, ERROR = "value", "absent", "error"
NOT_APPLICABLE = "na"  # the host itself says the check does not apply (a powershell probe's NotApplicable)
NA_PROPERTY = "NotApplicable"
READ_LIMIT = 4 << 20  # bytes of a file a content/line probe reads
HTTP_BODY_LIMIT = 1 << 20


class ProbeUnsupported(Exception):
    """This probe cannot run on this kind of host (or with this executor)."""


@dataclass(frozen=True)
class Observation:
    """What a probe saw: a value, absent, or an error; `command`/`output` are shown in the report."""

    state: str
    value: str | None = None
    fields: Mapping[str, str] | None = None  # a file probe without property: its stat fields
    error: str | None = None
    command: str = ""
    output: str = ""

    @classmethod
    def of(cls, value: Any, command: str = "", output: str | None = None) -> Observation:
        text = as_text(value)
        return cls(VALUE, text, command=command, output=text if output is None else output)

    @classmethod
    def absent(cls, command: str = "", output: str = "") -> Observation:
        return cls(ABSENT, command=command, output=output)

    @classmethod
    def failed(cls, error: str, command: str = "", output: str = "") -> Observation:
        return cls(ERROR, error=error, command=command, output=output)

    @classmethod
    def not_applicable(cls, reason: str, command: str = "", output: str = "") -> Observation:
        return cls(NOT_APPLICABLE, error=reason, command=command, output=output)


def as_text(value: Any) -> str:
    """How a non-text value is compared and shown: true/false, integers without .0, JSON for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


# ------------------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    """One agent operation: `request` goes to the agent, `display` is what a person reads."""

    request: Mapping[str, Any]
    display: str

    @property
    def key(self) -> str:
        return json.dumps(self.request, sort_keys=True)


def run_operation(command: Command, timeout: float) -> Operation:
    """A shell command under /bin/sh with LC_ALL=C and the probe's timeout."""
    return Operation({"op": "run", "cmd": command.text, "shell": True, "timeout": timeout, "locale_c": True},
                     command.display)


def linux_operations(probe: Probe) -> list[Operation]:
    """The agent operations a Linux probe needs ([] for probes evaluated on the control machine)."""
    kind = probe.kind
    if kind == "command":
        return [run_operation(command_text(probe), probe.timeout)]
    if kind == "file":
        if probe.property in ("content", "line"):
            return [Operation({"op": "read", "path": probe.target, "max_bytes": READ_LIMIT},
                              sh("cat {}", probe.target).display)]
        return [Operation({"op": "stat", "path": probe.target, "follow": True},
                          sh("stat -L {}", probe.target).display)]
    if kind == "sshd":
        command = sh("sshd -T -C {}", probe.sshd_match) if probe.sshd_match else sh("sshd -T")
        return [run_operation(command, probe.timeout)]
    if kind == "package":
        return [run_operation(sh("dpkg-query -W -f {} {}", r"${Status}\t${Version}\n", probe.target),
                              probe.timeout)]
    if kind == "service":
        return [run_operation(service_command(probe.target, probe.process or probe.target), probe.timeout)]
    if kind == "sysctl":
        path = "/proc/sys/" + probe.target.replace(".", "/")
        return [Operation({"op": "read", "path": path, "max_bytes": 1 << 20}, sh("cat {}", path).display)]
    if kind in ("fact", "http"):
        return []
    raise ProbeUnsupported(f"a {kind} probe does not run on Linux hosts")


def command_text(probe: Probe) -> Command:
    """A command probe's shell text: its `env` (already rendered for the host) exported on a first line,
    so what runs and what the report shows are the same text."""
    if not probe.env:
        return Command(probe.target, probe.target)
    exports = "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in probe.env) + "\n"
    return Command(exports + probe.target, exports + probe.target)


def parse_linux(probe: Probe, answers: Sequence[Mapping[str, Any]], operations: Sequence[Operation]) -> Observation:
    """Turn the agent's answers to `linux_operations(probe)` into an Observation."""
    display = operations[0].display if operations else ""
    answer = answers[0]
    parser = _LINUX_PARSERS[probe.kind]
    observation = parser(probe, answer, display)
    return apply_extract(probe, observation)


def _agent_failure(answer: Mapping[str, Any], timeout: float) -> str | None:
    """The error text when the agent could not do the operation at all."""
    if answer.get("ok"):
        return None
    kind, message = answer.get("kind", "error"), answer.get("error", "unknown error")
    if kind == "timeout":
        return f"probe timed out after {timeout:g}s"
    if kind in ("permission", "PermissionError"):
        return f"could not read: permission denied ({message})"
    return f"could not read: {message}"


def _run_output(result: Mapping[str, Any]) -> str:
    out = (result.get("stdout") or "").rstrip("\n")
    err = (result.get("stderr") or "").rstrip("\n")
    if err:
        out += ("\n" if out else "") + "--- stderr ---\n" + err
    if result.get("rc"):
        out += ("\n" if out else "") + f"(exit code {result['rc']})"
    return out


def _run_result(probe: Probe, answer: Mapping[str, Any], display: str):
    """(result, None) for a command that ran, (None, error Observation) when it did not or is missing."""
    failure = _agent_failure(answer, probe.timeout)
    if failure:
        return None, Observation.failed(failure, display)
    result = answer["result"]
    rc = result.get("rc")
    if not isinstance(rc, int):
        raise ValueError(f"no exit code in the answer to {display!r}")
    if rc == 127:
        return None, Observation.failed(f"command not found (exit code 127): {_first_line(result.get('stderr'))}",
                                        display, _run_output(result))
    if rc == 126:
        return None, Observation.failed(f"command could not be executed (exit code 126): "
                                        f"{_first_line(result.get('stderr'))}", display, _run_output(result))
    return result, None


def _first_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def _parse_command(probe: Probe, answer: Mapping[str, Any], display: str) -> Observation:
    result, error = _run_result(probe, answer, display)
    if error:
        return error
    output = _run_output(result)
    stdout, stderr = result.get("stdout") or "", result.get("stderr") or ""
    if result.get("rc") in (probe.na_rc, probe.error_rc) and result.get("rc") is not None:
        reason = _first_line(stdout) or _first_line(stderr) or f"the command exited {result.get('rc')}"
        if result.get("rc") == probe.na_rc:
            return Observation.not_applicable(reason, display, output)
        return Observation.failed(reason, display, output)
    value = {"stdout": stdout.strip(), "stderr": stderr.strip(), "rc": str(result.get("rc")),
             "lines": str(sum(1 for line in stdout.splitlines() if line.strip()))}[probe.field or "stdout"]
    return Observation.of(value, display, output)


def stat_fields(result: Mapping[str, Any]) -> dict[str, str]:
    """The agent's stat answer as the file probe's text fields."""
    return {"exists": "true", "type": str(result.get("type")), "mode": str(result.get("mode")),
            "owner": str(result.get("owner")), "group": str(result.get("group")),
            "size": str(result.get("size")), "mtime": str(int(result.get("mtime") or 0))}


def _parse_file(probe: Probe, answer: Mapping[str, Any], display: str) -> Observation:
    failure = _agent_failure(answer, probe.timeout)
    if failure:
        return Observation.failed(failure, display)
    result = answer["result"]
    if not result.get("exists"):
        return Observation.absent(display, f"{probe.target}: no such file")
    if probe.property in ("content", "line"):
        text = base64.b64decode(result.get("content_b64", "")).decode("utf-8", "replace")
        return file_text_observation(probe, text, display)
    fields = stat_fields(result)
    shown = " ".join(f"{k}={fields[k]}" for k in ("type", "mode", "owner", "group", "size", "mtime"))
    if probe.property is None:
        return Observation(VALUE, "exists", fields=fields, command=display, output=shown)
    return Observation.of(fields[probe.property], display, shown)


def file_text_observation(probe: Probe, text: str, display: str) -> Observation:
    """content: the text itself; line: the first line matching `match`, commented lines (#) ignored."""
    if probe.property == "content":
        return Observation.of(text, display)
    pattern = re.compile(probe.match or "")
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if pattern.search(line):
            return Observation.of(line.strip(), display, line)
    return Observation.absent(display, f"no uncommented line of {probe.target} matches /{probe.match}/")


def parse_sshd_t(text: str) -> dict[str, str]:
    """`sshd -T` output as lowercase key -> value; a key printed on several lines has its values joined."""
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        values.setdefault(key.lower(), []).append(value.strip())
    return {key: " ".join(parts) for key, parts in values.items()}


def _parse_sshd(probe: Probe, answer: Mapping[str, Any], display: str) -> Observation:
    result, error = _run_result(probe, answer, display)
    if error:
        return error
    if result.get("rc") != 0:
        stderr = (result.get("stderr") or "").strip() or "(no error output)"
        return Observation.failed(f"{display} failed (exit code {result.get('rc')}): {stderr}", display,
                                  _run_output(result))
    stdout = result.get("stdout") or ""
    config = parse_sshd_t(stdout)
    lines = [line for line in stdout.splitlines() if line.split(" ", 1)[0].lower() == probe.target]
    if probe.target not in config:
        return Observation.absent(display, f"{display} printed no {probe.target} line")
    return Observation.of(config[probe.target], display, "\n".join(lines))


def _parse_package(probe: Probe, answer: Mapping[str, Any], display: str) -> Observation:
    result, error = _run_result(probe, answer, display)
    if error:
        return error
    output = _run_output(result)
    if result.get("rc") != 0:
        if "no packages found" in (result.get("stderr") or ""):
            return Observation.absent(display, output)
        return Observation.failed(f"dpkg-query failed (exit code {result.get('rc')}): "
                                  f"{_first_line(result.get('stderr'))}", display, output)
    for line in (result.get("stdout") or "").splitlines():
        status, _, version = line.partition("\t")
        if status.split()[-1:] == ["installed"]:
            return Observation.of(version.strip(), display, output)
    return Observation.absent(display, output)


SERVICE_SCRIPT = r"""n={name}; p={process}
# processes named $1 that run on THIS host: the same root directory as ours (a process of another lab
# host, of a chroot or of a container shares /proc with us but not our root, and does not count)
own_pids() { r=$(stat -L -c %d:%i / 2>/dev/null); for q in $(pidof "$1" 2>/dev/null); do
  [ "$(stat -L -c %d:%i "/proc/$q/root/" 2>/dev/null)" = "$r" ] && printf '%s ' "$q"; done; }
if [ -d /run/systemd/system ]; then
  load=$(systemctl show -p LoadState --value "$n" 2>/dev/null)
  state=$(systemctl is-active "$n" 2>/dev/null)
  if [ "$load" = not-found ]; then echo absent; echo "systemd: no unit $n"; exit 0; fi
  case "$state" in active|reloading|activating) echo running;; *) echo stopped;; esac
  echo "systemd: LoadState=$load ActiveState=$state"; exit 0
fi
if [ -x "/etc/init.d/$n" ]; then
  out=$(service "$n" status 2>&1); rc=$?
  if [ "$rc" -eq 0 ]; then echo running; echo "service $n status: exit code 0: $out"; exit 0; fi
  pids=$(own_pids "$p")
  if [ -n "$pids" ]; then echo running; echo "service $n status: exit code $rc: $out"; echo "process $p: $pids"; exit 0; fi
  echo stopped; echo "service $n status: exit code $rc: $out"; echo "no process named $p"; exit 0
fi
pids=$(own_pids "$p")
if [ -n "$pids" ]; then echo running; echo "no systemd, no /etc/init.d/$n; process $p: $pids"; exit 0; fi
echo absent; echo "no systemd, no /etc/init.d/$n, no process named $p"
"""


def service_command(name: str, process: str) -> Command:
    """running|stopped|absent on line 1, how it was decided below: systemd, else init script, else pidof."""
    script = sh(SERVICE_SCRIPT.replace("{name}", "{}").replace("{process}", "{}"), name, process)
    shown = sh("systemctl is-active {} || service {} status || pidof {}", name, name, process)
    return Command(script.text, shown.display)


def _parse_service(probe: Probe, answer: Mapping[str, Any], display: str) -> Observation:
    result, error = _run_result(probe, answer, display)
    if error:
        return error
    lines = (result.get("stdout") or "").splitlines()
    state = lines[0].strip() if lines else ""
    output = "\n".join(lines[1:]) or _run_output(result)
    if state == "absent":
        return Observation.absent(display, output)
    if state in ("running", "stopped"):
        return Observation.of(state, display, output)
    return Observation.failed("could not tell the service state", display, _run_output(result))


def _parse_sysctl(probe: Probe, answer: Mapping[str, Any], display: str) -> Observation:
    failure = _agent_failure(answer, probe.timeout)
    if failure:
        return Observation.failed(failure, display)
    result = answer["result"]
    if not result.get("exists"):
        return Observation.absent(display, f"no sysctl key {probe.target} on this kernel")
    raw = base64.b64decode(result.get("content_b64", "")).decode("utf-8", "replace")
    return Observation.of(" ".join(raw.split()), display, raw.rstrip("\n"))


_LINUX_PARSERS = {"command": _parse_command, "file": _parse_file, "sshd": _parse_sshd,
                  "package": _parse_package, "service": _parse_service, "sysctl": _parse_sysctl}


def apply_extract(probe: Probe, observation: Observation) -> Observation:
    """With `extract: REGEX`, the value becomes the regex's group 1 (absent when nothing matches)."""
    if probe.extract is None or observation.state != VALUE or observation.value is None:
        return observation
    found = re.search(probe.extract, observation.value, re.MULTILINE)
    if found is None or found.group(1) is None:
        return Observation.absent(observation.command,
                                  f"{observation.output}\n(no match for extract /{probe.extract}/)".lstrip())
    return Observation(VALUE, found.group(1), command=observation.command, output=observation.output)


# ---------------------------------------------------------------------- control-machine probes


def observe_fact(probe: Probe, facts: Mapping[str, Any] | None) -> Observation:
    """A gathered fact by dotted name; a fact the host did not report (None) is an error, not a value."""
    display = f"fact {probe.target}"
    if facts is not None and hasattr(facts, "as_dict"):
        facts = facts.as_dict()
    if not facts:
        return Observation.failed("no facts were gathered for this host", display)
    value: Any = facts
    for part in probe.target.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return apply_extract(probe, Observation.absent(display, f"no fact {probe.target}"))
    if value is None:
        return Observation.failed(f"the host did not report fact {probe.target}", display)
    return apply_extract(probe, Observation.of(value, display))


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch_http(probe: Probe) -> Observation:
    """Fetch the URL from the control machine; the observed value is the status, body or one header."""
    display = f"{probe.method} {probe.target}"
    request = urllib.request.Request(probe.target, method=probe.method, headers={"User-Agent": "sopctl-check"})
    handlers = [urllib.request.ProxyHandler({})] if _is_loopback(probe.target) else []
    opener = urllib.request.build_opener(*handlers)
    try:
        try:
            with opener.open(request, timeout=probe.timeout) as response:
                status, headers, body = response.status, response.headers, response.read(HTTP_BODY_LIMIT)
        except urllib.error.HTTPError as exc:
            status, headers = exc.code, exc.headers
            body = exc.read(HTTP_BODY_LIMIT) if exc.fp is not None else b""
    except TimeoutError:  # socket.timeout is TimeoutError
        return Observation.failed(f"probe timed out after {probe.timeout:g}s", display)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return Observation.failed(f"probe timed out after {probe.timeout:g}s", display)
        return Observation.failed(f"could not fetch {probe.target}: {reason}", display)
    except OSError as exc:
        return Observation.failed(f"could not fetch {probe.target}: {exc}", display)
    try:
        text = body.decode(headers.get_content_charset() or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        text = body.decode("utf-8", "replace")
    head = f"HTTP {status}\n" + "".join(f"{k}: {v}\n" for k, v in headers.items())
    if probe.status and status not in probe.status:
        return Observation.failed(f"HTTP {status} from {probe.target} (expected "
                                  f"{' or '.join(map(str, probe.status))} before reading it)", display, head)
    if probe.field == "body":
        return apply_extract(probe, Observation.of(text, display, head + "\n" + text))
    if probe.field and probe.field.startswith("header:"):
        name = probe.field.split(":", 1)[1]
        value = headers.get(name)
        if value is None:
            return Observation.absent(display, head)
        return apply_extract(probe, Observation.of(value, display, head))
    return apply_extract(probe, Observation.of(str(status), display, head))


# ------------------------------------------------------------------------------------- Windows

WINDOWS_PREAMBLE = ("[Threading.Thread]::CurrentThread.CurrentCulture = "
                    "[Globalization.CultureInfo]::InvariantCulture\n$sopctl = [ordered]@{}\n")
WINDOWS_EPILOGUE = "$sopctl | ConvertTo-Json -Depth 5 -Compress\n"


@dataclass(frozen=True)
class Fragment:
    """The PowerShell for one probe: `text` runs inside the combined script, `display` is shown."""

    text: str
    display: str


def windows_fragment(probe: Probe) -> Fragment:
    """The fragment for one Windows probe; it outputs @{v=...}, @{absent=$true} or @{json=...}."""
    kind = probe.kind
    if kind == "registry":
        code = ps("$k = Get-Item -LiteralPath {} -ErrorAction SilentlyContinue\n"
                  "$n = {}\n"
                  "if ($null -eq $k -or $k.GetValueNames() -notcontains $n) { @{ absent = $true } }\n"
                  "else { $v = $k.GetValue($n); if ($v -is [array]) { $v = $v -join \"`n\" }; "
                  "@{ v = [string]$v } }", probe.target, probe.property or "")
        return Fragment(code.text, ps("Get-ItemProperty -LiteralPath {} -Name {}", probe.target,
                                      probe.property or "").display)
    if kind == "powershell":
        code = ps("$sb = [scriptblock]::Create({})\n"
                  "$out = @(& $sb | ForEach-Object { [string]$_ }) -join \"`n\"\n"
                  "@{ json = $out }", probe.target)
        return Fragment(code.text, probe.target.strip())
    if kind == "service":
        code = ps("$s = Get-Service -Name {} -ErrorAction SilentlyContinue\n"
                  "if ($null -eq $s) { @{ absent = $true } }\n"
                  "elseif ($s.Status.ToString() -eq 'Running') { @{ v = 'running'; detail = 'Running' } }\n"
                  "else { @{ v = 'stopped'; detail = $s.Status.ToString() } }", probe.target)
        return Fragment(code.text, ps("(Get-Service -Name {}).Status", probe.target).display)
    if kind == "file":
        return _windows_file(probe)
    raise ProbeUnsupported(f"a {kind} probe does not run on Windows hosts")


def _windows_file(probe: Probe) -> Fragment:
    if probe.property is not None and probe.property not in WINDOWS_FILE_PROPERTIES:
        raise ProbeUnsupported(f"file property {probe.property} is not available on Windows hosts "
                               f"(use exists, content, line, size, mtime or owner)")
    head = ps("$p = {}\nif (-not (Test-Path -LiteralPath $p)) { @{ absent = $true } } else {\n"
              "$i = Get-Item -LiteralPath $p -Force\n", probe.target).text
    if probe.property in ("content", "line"):
        body = "@{ v = [IO.File]::ReadAllText($i.FullName) }"
        display = ps("Get-Content -Raw -LiteralPath {}", probe.target).display
    elif probe.property == "owner":
        body = "@{ v = (Get-Acl -LiteralPath $p).Owner }"
        display = ps("(Get-Acl -LiteralPath {}).Owner", probe.target).display
    else:
        body = ("@{ fields = @{ exists = 'true'; type = $(if ($i.PSIsContainer) { 'directory' } else { 'file' });"
                " size = [string]$i.Length; mtime = $i.LastWriteTimeUtc.ToString('o') } }")
        display = ps("Get-Item -LiteralPath {}", probe.target).display
    return Fragment(head + body + "\n}", display)


def windows_script(items: Iterable[tuple[str, Fragment]]) -> Command:
    """ONE script for all of a host's Windows probes, printing one JSON object keyed by check id."""
    parts, shown = [WINDOWS_PREAMBLE], []
    first: dict[str, str] = {}  # fragment text -> key of the check that runs it: identical fragments run once
    for check_id, fragment in items:
        key = ps_quote(check_id)
        shown.append(f"{check_id}: {fragment.display}")
        if fragment.text in first:
            parts.append(f"$sopctl[{key}] = $sopctl[{first[fragment.text]}]\n")
            continue
        first[fragment.text] = key
        parts.append(f"try {{ $sopctl[{key}] = & {{\n{fragment.text}\n}} }} "
                     f"catch {{ $sopctl[{key}] = @{{ error = $_.Exception.Message }} }}\n")
    parts.append(WINDOWS_EPILOGUE)
    return Command("".join(parts), "<windows probes: " + "; ".join(shown) + ">")


def parse_windows_answer(stdout: str) -> dict[str, Any]:
    """The combined script's JSON object; ValueError when the answer is not one."""
    text = (stdout or "").strip().lstrip("\ufeff")
    candidates = [text] + [line.strip() for line in reversed(text.splitlines()) if line.strip().startswith("{")]
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    raise ValueError(f"the PowerShell answer is not a JSON object: {_preview(text)}")


def _preview(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return repr(text[:limit] + ("…" if len(text) > limit else "")) if text else "(no output)"


def parse_windows_entry(probe: Probe, entry: Any, display: str) -> Observation:
    """One check's part of the combined answer."""
    if isinstance(entry, list):  # a fragment that wrote more than its result: the result comes last
        entry = next((e for e in reversed(entry) if isinstance(e, dict)), None)
    if not isinstance(entry, dict):
        return Observation.failed(f"unexpected answer for this check: {_preview(json.dumps(entry))}", display)
    if "error" in entry:
        return Observation.failed(f"PowerShell error: {entry['error']}", display, str(entry["error"]))
    if entry.get("absent"):
        return Observation.absent(display, "not found")
    if "fields" in entry and isinstance(entry["fields"], dict):
        fields = {k: as_text(normalise_ps_value(v)) for k, v in entry["fields"].items()}
        shown = " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        if probe.property is None:
            return Observation(VALUE, "exists", fields=fields, command=display, output=shown)
        if probe.property not in fields:
            return Observation.failed(f"no {probe.property} in the answer", display, shown)
        return Observation.of(fields[probe.property], display, shown)
    if "json" in entry:
        return apply_extract(probe, _powershell_property(probe, entry["json"], display))
    if "v" not in entry:
        return Observation.failed("the answer for this check has no value", display, json.dumps(entry))
    value = normalise_ps_value(entry["v"])
    if value is None:
        return Observation.absent(display, "null")
    if probe.kind == "file" and probe.property in ("content", "line"):
        return file_text_observation(probe, str(value), display)
    output = str(entry.get("detail") or as_text(value))
    return apply_extract(probe, Observation.of(value, display, output))


def _powershell_property(probe: Probe, text: Any, display: str) -> Observation:
    """The `property` path of the JSON a user's script printed; missing or non-JSON is an error."""
    raw = str(text or "")
    try:
        data = json.loads(raw.strip().lstrip("\ufeff"))
    except ValueError:
        return Observation.failed(f"the script's output is not JSON: {_preview(raw)}", display, raw)
    value: Any = data
    for part in (probe.property or "").split("."):
        reason = _not_applicable(value)
        if reason:
            return Observation.not_applicable(reason, display, raw)
        if isinstance(value, dict):
            key = part if part in value else next((k for k in value if k.lower() == part.lower()), None)
            if key is None:
                return Observation.failed(f"the script's JSON has no property {probe.property}", display, raw)
            value = normalise_ps_value(value[key])
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = normalise_ps_value(value[int(part)])
        else:
            return Observation.failed(f"the script's JSON has no property {probe.property}", display, raw)
    if value is None:
        return Observation.absent(display, raw)
    return Observation.of(value, display, raw)


def _not_applicable(value: Any) -> str | None:
    """A JSON object on the property's path with a non-empty `NotApplicable` text: the script found that
    the check does not apply to this host (e.g. Security Center on Windows Server), and says why."""
    if isinstance(value, dict):
        reason = value.get(NA_PROPERTY)
        if isinstance(reason, str) and reason.strip():
            return reason.strip()
    return None


_MS_DATE = re.compile(r"^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$")


def normalise_ps_value(value: Any) -> Any:
    """Windows PowerShell 5.1's shapes made like PowerShell 7's: `/Date(ms)/` -> ISO 8601 UTC, and a
    DateTime serialised with its note properties ({value, DisplayHint, DateTime}) -> its value."""
    if isinstance(value, dict) and "value" in value and "DateTime" in value:
        value = value["value"]
    if isinstance(value, str):
        found = _MS_DATE.match(value.strip())
        if found:
            moment = datetime.fromtimestamp(int(found.group(1)) / 1000, tz=timezone.utc)
            return moment.isoformat().replace("+00:00", "Z")
    return value


__all__ = [
    "ABSENT", "ERROR", "Fragment", "NOT_APPLICABLE", "Observation", "Operation", "ProbeUnsupported", "VALUE", "apply_extract",
    "command_text",
    "fetch_http", "linux_operations", "normalise_ps_value", "observe_fact", "parse_linux", "parse_sshd_t",
    "parse_windows_answer", "parse_windows_entry", "run_operation", "service_command", "windows_fragment",
    "windows_script",
]
