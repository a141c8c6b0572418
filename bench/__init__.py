"""Benchmarks: each prints ratios measured side by side in one run and writes JSON to bench/results/.

Run from a clone of the repository (`python -m bench NAME`, or `make bench` for all); they are not
installed with the package. The queue benchmark and the integration tests share one scaffolding, a
redis-server and real worker processes on this machine: `tests/support/local_stack.py`, put on the
path here.
"""

import sys
from pathlib import Path

_SUPPORT = str(Path(__file__).resolve().parents[1] / "tests" / "support")
if _SUPPORT not in sys.path:
    sys.path.append(_SUPPORT)
