"""Relative links in the docs and the anchors they point at, as GitHub renders them.

A link is `[text](target)` or `![alt](target)` outside code (fenced blocks and inline code spans);
`target` is a path relative to the document, optionally with `#anchor`, or `#anchor` alone. A
heading's anchor follows GitHub's rule: lower-cased, every character that is not a letter, a
digit, a space, `-` or `_` dropped, spaces turned into `-`; a repeated heading gets `-1`, `-2`...
Explicit `<a name="...">` / `id="..."` anchors count too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DocLink", "anchors_of", "links_in", "slug"]

_FENCE = re.compile(r"^\s*(```+|~~~+)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_HTML_ANCHOR = re.compile(r"""<a\s+[^>]*(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


@dataclass(frozen=True)
class DocLink:
    """One relative link: where it is written and what it points at."""

    document: Path
    line: int
    target: str

    @property
    def path_part(self) -> str:
        return self.target.partition("#")[0]

    @property
    def anchor(self) -> str | None:
        _, hashed, anchor = self.target.partition("#")
        return anchor if hashed else None


def _prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line outside fenced code blocks."""
    fence: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        opening = _FENCE.match(line)
        if opening and (fence is None or opening[1].startswith(fence)):
            fence = None if fence else opening[1]
            continue
        if fence is None:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (inline markup's punctuation dropped with the rest)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors_of(path: Path) -> set[str]:
    """Every anchor a document has: its headings' (with GitHub's -1, -2 suffixes) and HTML ones."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose_lines(path):
        heading = _HEADING.match(line)
        if heading:
            base = slug(heading[2])
            count = seen.get(base, 0)
            seen[base] = count + 1
            anchors.add(base if count == 0 else f"{base}-{count}")
        anchors.update(_HTML_ANCHOR.findall(line))
    return anchors


def links_in(path: Path) -> Iterator[DocLink]:
    """Every relative link of a document, in order (external URLs are not followed)."""
    for number, line in _prose_lines(path):
        prose = _INLINE_CODE.sub("", line)
        for target in _LINK.findall(prose):
            if not _EXTERNAL.match(target):
                yield DocLink(path, number, target)
