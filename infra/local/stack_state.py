"""Where a running `xray-signup up` listens: `stack.json` in its data directory.

Why: `up --aws-port N` (or any other port option) moves the stack, and the commands that talk to
it (`xray-signup scenario`) should find it without being told the port again. `up` writes the
file once everything answers and removes it when it stops; a file left by a stack that was killed
names a process that is gone, and is treated as no stack at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_DATA_DIR",
    "STATE_FILE",
    "NoRunningStack",
    "StackState",
    "read",
    "remove",
    "write",
]

DEFAULT_DATA_DIR = Path(".data")
STATE_FILE = "stack.json"


class NoRunningStack(LookupError):
    """No `xray-signup up` runs with this data directory; the message says how to start one."""


@dataclass(frozen=True)
class StackState:
    pid: int
    app_url: str
    aws_url: str
    xray_url: str
    locust_url: str | None


def _path(data_dir: Path) -> Path:
    return Path(data_dir) / STATE_FILE


def write(data_dir: Path, state: StackState) -> Path:
    path = _path(data_dir)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2) + "\n")
    temporary.replace(path)  # readers never see half a file
    return path


def remove(data_dir: Path, pid: int) -> None:
    """Remove the file if it is still this process's (another stack may have replaced it)."""
    path = _path(data_dir)
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def read(data_dir: Path) -> StackState:
    """The running stack's addresses; NoRunningStack when none runs with `data_dir`."""
    path = _path(data_dir)
    hint = "start it with `make run` or `xray-signup up`"
    try:
        raw = json.loads(path.read_text())
        state = StackState(**raw)
    except FileNotFoundError:
        raise NoRunningStack(f"no local stack is running ({path} does not exist): {hint}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise NoRunningStack(f"{path} is unreadable ({exc}): {hint}") from None
    if not _alive(state.pid):
        raise NoRunningStack(
            f"no local stack is running ({path} names process {state.pid}, which has exited): "
            + hint
        )
    return state
