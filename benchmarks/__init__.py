"""Benchmarks: ``python -m benchmarks.<name>``; they print figures and assert nothing."""
