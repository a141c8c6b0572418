"""Benchmarks: each prints ratios measured side by side in one run and writes JSON to bench/results/.

`local_stack.py` is their scaffolding and the integration tests': a redis-server and real worker
processes on this machine.
"""
