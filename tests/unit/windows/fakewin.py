"""A fake Windows host for win_* module tests: it answers only the PowerShell observations a test
recorded (keyed by the script's display form) and fails loudly on any other question.

The recorded answers are HAND-WRITTEN JSON in the shape the module's own observation script prints
(`ConvertTo-Json -Compress` of its hashtable): no Windows PC was queried to make them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sopctl.modules.base import validate
from sopctl.transport.quoting import Command


class UnexpectedQuestion(AssertionError):
    pass


@dataclass
class FakeWinHost:
    answers: dict = field(default_factory=dict)   # display -> dict (printed as JSON) | {"rc","stdout","stderr"}
    facts: dict = field(default_factory=dict)
    check_mode: bool = False
    diff_mode: bool = False
    asked: list = field(default_factory=list)

    def powershell(self, script: Command) -> dict:
        self.asked.append(script)
        if script.display not in self.answers:
            raise UnexpectedQuestion(f"no recorded answer for {script.display!r}; recorded: {sorted(self.answers)}")
        answer = self.answers[script.display]
        if isinstance(answer, dict) and set(answer) <= {"rc", "stdout", "stderr"} and "stdout" in answer:
            return {"rc": 0, "stderr": "", **answer}
        return {"rc": 0, "stdout": json.dumps(answer, separators=(",", ":")) + "\r\n", "stderr": ""}


def plan(module: Any, args: dict, host: FakeWinHost):
    return module.plan(validate(module.spec, args), host)
