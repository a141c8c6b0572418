"""A dry run of an install against the public index, as a stock machine would resolve it: no pip
configuration, no local wheels. Prints what would be installed and fails if any CUDA package is among it.

    python requirements/check_install.py requirements/cpu.txt        # the CPU path (make check-install)
    python requirements/check_install.py --plain torch==2.13.0       # what an unlocked command pulls

The lock is resolved *with* dependencies here (an install uses --no-deps), so a package in it that
drags in CUDA shows up. torch's +cpu build comes from PyTorch's CPU index; where that index cannot be
reached, pass --torch-from DIR (a folder with that very wheel) to stand in for it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CUDA = re.compile(r"^(nvidia-(?!ml-py$).*|triton|cuda-.*)$")


def dry_run(args: list[str]) -> list[str]:
    """`pip install --dry-run --report` with no configuration; the names it would install."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # no pip.conf: no mirror, no find-links, no constraints
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--report", str(report), "--index-url", "https://pypi.org/simple", *args]
        subprocess.run(cmd, check=True, env=env)
        installs = json.loads(report.read_text())["install"]
    return sorted(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in installs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="+", help="a lock file, or with --plain, requirement specifiers")
    parser.add_argument("--plain", action="store_true", help="resolve these specifiers from PyPI alone")
    parser.add_argument("--torch-index", default="https://download.pytorch.org/whl/cpu")
    parser.add_argument("--torch-from", type=Path, help="a folder holding torch's +cpu wheel, for --torch-index")
    options = parser.parse_args()
    if options.plain:
        args = list(options.what)
    else:
        source = ["--find-links", str(options.torch_from)] if options.torch_from else \
            ["--extra-index-url", options.torch_index]
        args = [*source, *(arg for lock in options.what for arg in ("-r", lock))]
    names = dry_run(args)
    cuda = [n for n in names if CUDA.match(n.split("==")[0].lower())]
    print(f"{len(names)} packages would be installed, {len(cuda)} of them CUDA: {', '.join(cuda) or 'none'}")
    return 1 if cuda and not options.plain else 0


if __name__ == "__main__":
    raise SystemExit(main())
