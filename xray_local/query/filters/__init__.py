"""X-Ray filter expressions, as GetTraceSummaries and the console accept them.

`compile_filter(text)` parses once and returns a predicate over `TraceView`s; any expression it
cannot parse raises `FilterSyntaxError` naming the character position. The language and the local
choices where AWS's documentation is silent are described in `parser` (syntax) and `evaluate`
(meaning).
"""

from __future__ import annotations

from collections.abc import Callable

from xray_local.query.filters.errors import FilterSyntaxError
from xray_local.query.filters.evaluate import compile_expr
from xray_local.query.filters.parser import parse
from xray_local.query.model import TraceView

__all__ = ["FilterSyntaxError", "compile_filter"]


def compile_filter(text: str) -> Callable[[TraceView], bool]:
    """Parse `text` once; the returned predicate is cheap to call on many traces.

    An empty or whitespace-only expression matches every trace.
    """
    return compile_expr(parse(text))
