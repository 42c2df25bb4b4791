"""Screenshots the docs show, written by the browser tests and checked as this run's pictures.

A check that a committed PNG exists passes on any checkout, whether the test that writes it ran or
not. `save_screenshot` checks the file it just wrote: its bytes are the picture Chromium took now,
its modification time is from now, its size is the page's viewport (the full page's height with
`full_page`), and it is not blank (a blank page compresses to a few kilobytes).
"""

from __future__ import annotations

import struct
import time
from pathlib import Path
from typing import Any

from tests.support.processes import PROJECT_ROOT

__all__ = ["SCREENSHOTS", "png_size", "save_screenshot"]

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_BYTES = 10_000  # a page with content; a blank one is far smaller


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def save_screenshot(page: Any, name: str, full_page: bool = False) -> Path:
    """Write docs/screenshots/`name` from `page` and check that the file is this picture."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    before = time.time()
    taken: bytes = page.screenshot(path=str(path), full_page=full_page)
    written = path.read_bytes()
    assert written == taken, f"{name}: the file is not the screenshot just taken"
    assert path.stat().st_mtime >= before - 1, f"{name}: written before this screenshot"
    width, height = png_size(written)
    viewport = page.viewport_size
    assert width == viewport["width"], (name, width, viewport)
    assert height >= viewport["height"] if full_page else height == viewport["height"], name
    assert len(written) > MIN_BYTES, f"{name}: {len(written)} bytes, a blank page?"
    return path
