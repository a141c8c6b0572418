"""`python -m implementor` is the same as the `implementor` command."""

from implementor.cli.main import main

main()
