"""The Implementor's command line. The product itself lives in config/, models/, workers/ and bot/."""

__version__ = "0.1.0"
