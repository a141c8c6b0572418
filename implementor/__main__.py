"""`python -m implementor` is the same as the `implementor` command."""

from implementor.cli import main

main()
