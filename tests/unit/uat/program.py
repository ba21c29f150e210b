"""The `sopctl` program with the `uat` collection added, for the tests while `sopctl.cli.ns` does not
register it yet: `python -m tests.unit.uat.program uat --app NAME` behaves like `python -m sopctl uat ...`.
Once the lead adds `uat.ns` to `sopctl.cli.ns`, `support.cli_command()` uses `python -m sopctl` itself."""

from __future__ import annotations

from invoke import Collection, Program

from sopctl import __version__
from sopctl.cli import ns as base
from sopctl.cli import uat


def namespace() -> Collection:
    if "uat" in base.collections:
        return base
    root = Collection()
    for name, task in base.tasks.items():
        root.add_task(task, name)
    for name, collection in base.collections.items():
        root.add_collection(collection, name)
    root.add_collection(uat.ns)
    root.configure(base.configuration())
    return root


def main() -> None:
    Program(namespace=namespace(), version=__version__, name="sopctl", binary="sopctl").run()


if __name__ == "__main__":
    main()
