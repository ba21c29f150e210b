"""Running a checklist: every step in order, automated ones by sopctl, manual ones answered by the tester
(on the terminal, one prompt per step with the progress "3/7", or from an answers file).

The run is judged **passed** when every step passes; an `optional: true` step may also be skipped. A failing
optional step still fails the run (optional means "may be left out", not "may be wrong").
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, TextIO

from sopctl.errors import UsageError
from sopctl.inventory.model import VaultValue
from sopctl.store.values import now as _now
from sopctl.transport.quoting import Secret
from sopctl.uat import i18n
from sopctl.uat.checklist import Answer, Checklist, LoginSpec, Step
from sopctl.uat.steps import Check, run_database_tcp, run_http, run_login, run_tcp, run_tls
from sopctl.uat.web import WebClient

MASK = "***"


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class EvidenceFile:
    """A file kept as a step's evidence: its copy under the store's evidence/ folder and its SHA-256."""

    name: str
    sha256: str
    size: int
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size, "path": self.path}


@dataclass
class StepResult:
    step: Step
    position: int
    result: str                       # pass | fail | skip | error
    expected: str = ""
    observed: str = ""
    detail: str = ""                  # why it failed, or the tester's comment
    output: str = ""
    command: str = ""
    evidence: list[EvidenceFile] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)
    started_at: str = ""
    duration_ms: float | None = None
    answered_by: str | None = None    # manual steps: "terminal" or "answers"

    @property
    def ok(self) -> bool:
        return self.result == "pass" or (self.result == "skip" and self.step.optional)


@dataclass
class UatOutcome:
    checklist: Checklist
    tester: str
    lang: str
    started_at: str
    finished_at: str = ""
    steps: list[StepResult] = field(default_factory=list)

    @property
    def result(self) -> str:
        return "passed" if self.steps and all(step.ok for step in self.steps) else "failed"

    @property
    def counts(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "total": len(self.steps)}
        key = {"pass": "passed", "fail": "failed", "error": "errors", "skip": "skipped"}
        for step in self.steps:
            counts[key[step.result]] += 1
        return counts


# ------------------------------------------------------------------------------------------ secrets


class Secrets:
    """The login steps' credentials, from the vault only: a `!vault` value in the checklist, or a variable
    found by `lookup(name) -> (value, where) | None` (the checklist's vault_file, then the inventory).

    Everything is decrypted by `prepare()` before the run starts, so a missing password or variable is an
    error before anything is stored. `mask(text)` hides every decrypted value in text that is kept."""

    def __init__(self, vault: Any, lookup: Callable[[str], tuple[Any, str] | None] | None = None):
        self.vault, self.lookup = vault, lookup
        self._logins: dict[str, tuple[str | Secret, Secret]] = {}
        self._texts: set[str] = set()

    def prepare(self, checklist: Checklist) -> None:
        for step in checklist.steps:
            if step.kind == "login":
                self._logins[step.id] = self._resolve(checklist, step)

    def login(self, step: Step) -> tuple[str | Secret, Secret]:
        return self._logins[step.id]

    def _resolve(self, checklist: Checklist, step: Step) -> tuple[str | Secret, Secret]:
        spec: LoginSpec = step.spec
        where = f"{checklist.path}: steps {step.id}"
        username: str | Secret = spec.username
        if isinstance(username, VaultValue):
            username = self._decrypt(username, f"{where}.login.username")
        if spec.password is not None:
            password = self._decrypt(spec.password, f"{where}.login.password")
        else:
            found = self.lookup(spec.password_var) if self.lookup else None
            if found is None:
                raise UsageError(f"{where}: login.password_var {spec.password_var!r}: no such vault variable "
                                 f"(looked in the checklist's vault_file and the inventory variables of its hosts)")
            value, place = found
            if isinstance(value, VaultValue):
                password = self._decrypt(value, f"variable {spec.password_var} ({place})")
            elif isinstance(value, Secret):
                password = value
            else:
                raise UsageError(f"{where}: login.password_var {spec.password_var!r} in {place} is plain text: "
                                 "a UAT password must come from the vault (a !vault value or an encrypted file)")
        for secret in (username, password):
            if isinstance(secret, Secret) and len(secret.reveal()) >= 3:
                self._texts.add(secret.reveal())
        return username, password

    def _decrypt(self, value: VaultValue, source: str) -> Secret:
        return self.vault.decrypt_value(value, source)

    def mask(self, text: str) -> str:
        for secret in sorted(self._texts, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text


# ----------------------------------------------------------------------------------------- the tester


class TerminalPrompter:
    """Asks the manual steps on a terminal: the question and what counts as a pass, then the result
    (p/f/s), a comment (required for fail and skip) and an optional evidence file (a screenshot)."""

    RESULTS: ClassVar[dict[str, str]] = {"p": "pass", "pass": "pass", "lulus": "pass", "y": "pass",
               "f": "fail", "fail": "fail", "gagal": "fail", "g": "fail", "n": "fail",
               "s": "skip", "skip": "skip", "lewati": "skip"}

    def __init__(self, lang: str, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 base: Path | None = None):
        self.lang = lang
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.base = base or Path.cwd()

    def _read(self, prompt: str) -> str:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            raise UsageError("the input ended before every manual step was answered; the run was not stored")
        return line.rstrip("\r\n").strip()

    def ask(self, step: Step, position: int, total: int) -> Answer:
        lang, out = self.lang, self.stdout
        out.write(f"\n[{position}/{total}] {step.id} · {i18n.kind_word(lang, 'manual')} · {step.title}"
                  + (f" ({i18n.t(lang, 'optional')})" if step.optional else "") + "\n")
        out.write(f"    {i18n.t(lang, 'question')}: {step.spec.question}\n")
        out.write(f"    {i18n.t(lang, 'pass_when')}: {step.spec.pass_when}\n")
        while True:
            result = self.RESULTS.get(self._read(i18n.t(lang, "prompt_result")).lower())
            if result:
                break
            out.write(f"    {i18n.t(lang, 'bad_result')}\n")
        while True:
            prompt = i18n.t(lang, "prompt_comment" if result == "pass" else "prompt_comment_required")
            comment = self._read(prompt)
            if comment or result == "pass":
                break
            out.write(f"    {i18n.t(lang, 'comment_needed')}\n")
        while True:
            name = self._read(i18n.t(lang, "prompt_evidence"))
            if not name:
                evidence = None
                break
            evidence = Path(name).expanduser()
            evidence = evidence if evidence.is_absolute() else self.base / evidence
            if evidence.is_file():
                break
            out.write(f"    {i18n.t(lang, 'no_such_file', path=evidence)}\n")
        return Answer(result, comment, evidence)


# ------------------------------------------------------------------------------------------- running


class Runner:
    """Runs one checklist. `hosts` (a `HostRunner`) is needed only for steps on hosts; `answers` (from
    an answers file) or `prompter` for manual steps; `keep_evidence(path)` copies an evidence file and
    returns its `EvidenceFile`; progress goes to `out`."""

    def __init__(self, checklist: Checklist, *, lang: str = "id", secrets: Secrets | None = None,
                 hosts: Any = None, answers: dict[str, Answer] | None = None, prompter: Any = None,
                 keep_evidence: Callable[[Path], EvidenceFile] | None = None, out: TextIO | None = None,
                 client: WebClient | None = None):
        self.checklist, self.lang = checklist, lang
        self.secrets = secrets or Secrets(None)
        self.hosts, self.answers, self.prompter = hosts, answers, prompter
        self.keep_evidence = keep_evidence
        self.out = out or sys.stdout
        self.client = client or WebClient(checklist.tls_verify, checklist.ca_file)
        if checklist.manual_steps and answers is None and prompter is None:
            raise UsageError(f"{checklist.name} has manual steps: give --answers FILE or run it on a terminal")
        if any(step.on_hosts for step in checklist.steps) and hosts is None:
            raise UsageError(f"{checklist.name} has steps on hosts: an inventory is needed")

    def run(self, tester: str) -> UatOutcome:
        outcome = UatOutcome(self.checklist, tester, self.lang, _now())
        total = len(self.checklist.steps)
        self._say(f"UAT {self.checklist.name} {self.checklist.version}: {total} "
                  + ("langkah" if self.lang == "id" else "steps") + f" ({i18n.t(self.lang, 'tester')}: {tester})")
        for position, step in enumerate(self.checklist.steps, start=1):
            started, clock = _now(), time.perf_counter()
            if step.manual:
                result = self._manual(step, position, total)
            else:
                result = self._automated(step, position)
            result.started_at = started
            if result.duration_ms is None and not step.manual:
                result.duration_ms = (time.perf_counter() - clock) * 1000
            self._report(result, total)
            outcome.steps.append(result)
        outcome.finished_at = _now()
        return outcome

    def _automated(self, step: Step, position: int) -> StepResult:
        try:
            check = self._check(step)
        except UsageError:
            raise
        except Exception as exc:
            check = Check("error", f"{type(exc).__name__}: {exc}", "", f"{type(exc).__name__}: {exc}")
        mask = self.secrets.mask
        return StepResult(step, position, check.result, mask(check.expected), mask(check.observed),
                          mask(check.detail), mask(check.output), mask(check.command), hosts=check.hosts)

    def _check(self, step: Step) -> Check:
        spec, timeout = step.spec, step.timeout
        if step.on_hosts:
            return self.hosts.run(step)
        if step.kind == "http":
            return run_http(spec, self.client, timeout)
        if step.kind == "login":
            username, password = self.secrets.login(step)
            return run_login(spec, self.client, timeout, username, password)
        if step.kind == "tls":
            return run_tls(spec, self.client, timeout)
        if step.kind == "tcp":
            return run_tcp(spec, timeout)
        if step.kind == "database":
            return run_database_tcp(spec, timeout)
        raise AssertionError(f"unhandled step kind {step.kind}")

    def _manual(self, step: Step, position: int, total: int) -> StepResult:
        if self.answers is not None:
            answer, how = self.answers[step.id], "answers"
        else:
            answer, how = self.prompter.ask(step, position, total), "terminal"
        evidence = []
        if answer.evidence is not None:
            if self.keep_evidence is None:
                raise UsageError("evidence files need a results store to be kept in")
            evidence.append(self.keep_evidence(answer.evidence))
        return StepResult(step, position, answer.result, expected=step.spec.pass_when, observed=step.spec.question,
                          detail=answer.comment, evidence=evidence, answered_by=how)

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _report(self, result: StepResult, total: int) -> None:
        step, lang = result.step, self.lang
        word = i18n.step_word(lang, result.result)
        took = f" ({i18n.duration_text(result.duration_ms)})" if result.duration_ms is not None else ""
        if step.manual and result.answered_by == "terminal":
            self._say(f"    -> {word}")
            return
        self._say(f"[{result.position}/{total}] {step.id} · {i18n.kind_word(lang, step.kind)} · {step.title} ... "
                  f"{word}{took}")
        if result.result in ("fail", "error") and result.detail:
            self._say(f"    {_one_line(result.detail)}")


def _one_line(text: str, limit: int = 300) -> str:
    from sopctl.compliance.report import terminal_safe

    flat = terminal_safe(text.replace("\n", " ⏎ "))
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"

