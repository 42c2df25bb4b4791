"""Child processes of the local stack that never outlive it.

Each child runs in its own session (so the terminal's Ctrl-C reaches only the stack, which then
stops its children in order) and, on Linux, is sent SIGTERM by the kernel if the stack itself dies
without cleaning up (PR_SET_PDEATHSIG): `make run` leaves no process behind either way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["ManagedProcess"]

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: ask the kernel for SIGTERM when the parent goes."""
    if not sys.platform.startswith("linux"):
        return
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ManagedProcess:
    """A named child process with a graceful stop (SIGTERM, then SIGKILL after a grace period)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        output = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads exec'd from here)
            )
        finally:
            if output:
                output.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        """None while running."""
        return self._process.poll() if self._process else None

    def stop(self, grace: float = 10.0) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0fs; killing it", self.name, grace)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
