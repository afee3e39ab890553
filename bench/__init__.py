"""Benchmarks at network scale (not part of the test run): ``python -m bench.run``."""
