"""Run the website/incident/request tasks as a user would, in a fresh process.

The collections are not registered in `sopctl.cli` yet (the lead does that), so the program here is
the `sopctl` program's own code with only these three collections.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROGRAM = """
import sys
from invoke import Collection, Program
from sopctl.cli import requests, website
ns = Collection()
ns.add_collection(website.ns)
ns.add_collection(website.incident_ns)
ns.add_collection(requests.ns)
Program(namespace=ns, name="sopctl", binary="sopctl").run(["sopctl", *sys.argv[1:]])
"""


def sopctl(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], cwd=cwd or REPO, text=True, capture_output=True,
                          env=full_env, timeout=timeout)
