"""A fake HostView for module unit tests: it knows only the facts a case gives, and fails loudly on any
other question (pyinfra's rule), so a test cannot pass by accident on a fact it forgot to provide."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


class UnexpectedQuestion(AssertionError):
    pass


@dataclass
class FakeHost:
    files: dict = field(default_factory=dict)      # path -> bytes (content) for regular files
    stats: dict = field(default_factory=dict)      # path -> stat dict (overrides/extends derived ones)
    queries: dict = field(default_factory=dict)    # command (str) -> {"rc", "stdout", "stderr"}
    local: dict = field(default_factory=dict)      # (kind, path) -> bytes for local files
    facts: dict = field(default_factory=dict)
    check_mode: bool = False
    diff_mode: bool = False
    variables: dict = field(default_factory=dict)
    asked: list = field(default_factory=list)

    def stat(self, path, checksum=False, follow=False):
        self.asked.append(("stat", path))
        if path in self.stats:
            result = dict(self.stats[path])
            if checksum and path in self.files and result.get("type") == "file":
                result["sha256"] = hashlib.sha256(self.files[path]).hexdigest()
            return result
        if path in self.files:
            result = {"exists": True, "type": "file", "mode": "0644", "uid": 0, "gid": 0, "owner": "root",
                      "group": "root", "size": len(self.files[path]), "mtime": 0.0}
            if checksum:
                result["sha256"] = hashlib.sha256(self.files[path]).hexdigest()
            return result
        return {"exists": False}

    def read(self, path):
        self.asked.append(("read", path))
        if path in self.files:
            return self.files[path]
        if path in self.stats and self.stats[path].get("exists"):
            raise UnexpectedQuestion(f"read of {path}: the case gives its stat but not its content")
        return None

    def query(self, cmd, shell=False):
        key = cmd if isinstance(cmd, str) else " ".join(cmd)
        self.asked.append(("query", key))
        if key not in self.queries:
            raise UnexpectedQuestion(f"query not provided by the case: {key!r}")
        return {"rc": 0, "stdout": "", "stderr": "", **self.queries[key]}

    def local_file(self, path, kind="files"):
        if (kind, path) not in self.local:
            raise UnexpectedQuestion(f"local {kind} file not provided by the case: {path}")
        return self.local[(kind, path)]

    def render(self, text):
        from jinja2 import Environment, StrictUndefined

        return Environment(undefined=StrictUndefined, keep_trailing_newline=True).from_string(text).render(
            self.variables)
