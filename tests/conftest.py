"""Shared fixtures. The lab is real: sshd hosts on 127.0.1.x started by the project's own lab code.

Lab tests need root and openssh-server (`.ci/run` installs it). They fail rather than skip when those
are missing, so a CI run can never go green by testing nothing; set SOPCTL_SKIP_LAB=1 to deselect them
on purpose on a machine without root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

LAB_HOSTS = int(os.environ.get("SOPCTL_TEST_LAB_HOSTS", "4"))
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Lab:
    hosts: list  # list[LabHost]
    inventory: Path

    def host(self, name: str):
        return next(h for h in self.hosts if h.name == name)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SOPCTL_SKIP_LAB") == "1":
        skip = pytest.mark.skip(reason="SOPCTL_SKIP_LAB=1")
        for item in items:
            if "lab" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    """A fresh lab for the whole test session, torn down at the end.

    The lab is one per machine, so a session holds a lock on it: a second test run (another checkout,
    another terminal) waits instead of tearing down the hosts under the first one's feet.
    """
    from sopctl.lab import core
    from sopctl.lab.inventory import write_inventory

    with core.exclusive():
        hosts = core.up(LAB_HOSTS, fresh=True)
        inventory = write_inventory(tmp_path_factory.mktemp("lab") / "lab.yml", hosts,
                                    REPO / "inventory" / "group_vars" / "all.yml")
        try:
            yield Lab(hosts, inventory)
        finally:
            core.down()
