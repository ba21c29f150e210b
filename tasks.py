"""sopctl's Invoke tasks (`invoke --list`). The same collection is installed as the `sopctl` program."""

from sopctl.cli import ns  # noqa: F401  (Invoke finds the collection by this name)
