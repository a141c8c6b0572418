"""The Implementor's command line. Each command parses its options and calls one function of the product, which lives in contracts/,
config/, models/, workers/ and bot/."""

__version__ = "0.1.0"
