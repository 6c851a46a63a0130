"""Benchmarks: scripts that print their figures (bench/README.md). Run from the repository root as
python -m bench.NAME."""
