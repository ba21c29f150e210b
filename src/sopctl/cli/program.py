"""The `sopctl` console program: the tasks of `tasks.py`, usable from any folder."""

from invoke import Program

from .. import __version__
from . import ns

program = Program(namespace=ns, version=__version__, name="sopctl", binary="sopctl")


def main() -> None:
    program.run()
