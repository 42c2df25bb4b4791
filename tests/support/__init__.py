"""Test support shared across the suites: real sockets, real processes, real moto."""
