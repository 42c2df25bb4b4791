"""A real UDP socket listening as the X-Ray daemon does, collecting what the SDK sends.

One implementation, owned by the benchmarks (bench/_loopback.py: the benchmarks must not import
the tests, while the tests may use what bench owns).
"""

from __future__ import annotations

from bench._loopback import DaemonListener

__all__ = ["DaemonListener"]
