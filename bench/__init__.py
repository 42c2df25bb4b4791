"""Benchmarks, run by `make bench` (never by `make test`): each writes bench/results/<name>.json."""
