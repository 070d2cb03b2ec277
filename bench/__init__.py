"""Benchmarks of issue 6: one command each (`python -m bench.<name>`), see docs/PERFORMANCE.md."""
