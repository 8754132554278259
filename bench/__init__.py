"""Benchmarks run by `make bench`; each module prints figures compared as ratios in one run."""
