"""Benchmarks T1–T6 (issue 4 §4): `make bench` or `python -m bench.run`; see docs/PERFORMANCE.md."""
