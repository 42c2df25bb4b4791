"""Loopback helpers: free ports and waiting for a listener.

One implementation, owned by the benchmarks (bench/_loopback.py: the benchmarks must not import
the tests, while the tests may use what bench owns).
"""

from __future__ import annotations

from bench._loopback import free_port, wait_for_http

__all__ = ["free_port", "wait_for_http"]
