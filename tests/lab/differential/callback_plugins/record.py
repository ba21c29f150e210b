"""A minimal stdout callback for the differential tests: one JSON document with each task's status per
host (ansible-core no longer ships the `json` callback; it moved to the ansible.posix collection)."""

import json

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "record"

    def __init__(self):
        super().__init__()
        self.tasks = []

    def _add(self, result, status):
        self.tasks.append({"task": result.task_name, "host": result._host.get_name(), "status": status,
                           "handler": bool(getattr(result._task, "_role", None) is None and
                                           result._task.__class__.__name__ == "Handler")})

    def v2_runner_on_ok(self, result):
        self._add(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._add(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._add(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        recap = {h: stats.summarize(h) for h in sorted(stats.processed)}
        self._display.display(json.dumps({"tasks": self.tasks, "recap": recap}))
