"""The Implementor's command line: each command parses its options and calls one function of the product.

The product itself lives in contracts/, config/, models/, workers/ and bot/.
"""

__version__ = "0.1.0"
