"""The `implementor` command: `main.py` builds the Typer app, each `*_commands.py` adds one family.

Each command parses its options and calls one function of the product; `console.py` holds what they
share (clear one-line errors, progress on stderr). This room may import every other room.
"""
