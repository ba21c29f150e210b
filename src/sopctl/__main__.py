"""`python -m sopctl` is the `sopctl` program."""

from .cli.program import main

main()
