"""Benchmarks: every figure next to a baseline measured in the same run (ratios, not times)."""
