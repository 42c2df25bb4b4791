"""The one error the filter language raises.

GetTraceSummaries answers an expression it cannot parse with InvalidRequestException; the API layer
only has to catch this one type and copy `str(e)` into the message, so every syntax problem,
whatever stage finds it, is reported the same way: where it is and what was expected.
"""

from __future__ import annotations

__all__ = ["FilterSyntaxError"]


class FilterSyntaxError(ValueError):
    """An expression the filter language cannot parse.

    `position` is the 0-based character offset of the offending text (the length of the expression
    when the problem is that it ended too early); `message` says what was expected and found.
    """

    def __init__(self, position: int, message: str) -> None:
        self.position = position
        self.message = message
        super().__init__(f"Invalid filter expression at position {position}: {message}")

    def __reduce__(self) -> tuple[type[FilterSyntaxError], tuple[int, str]]:
        # Keeps the error picklable (e.g. across a process pool) despite the two-argument init.
        return (type(self), (self.position, self.message))
