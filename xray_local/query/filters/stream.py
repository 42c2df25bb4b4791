"""The parser's token cursor: one token of lookahead, positioned errors, literal values.

Kept apart from the grammar so that `parser` reads as the grammar it implements; everything here is
about consuming tokens and saying what was expected where.
"""

from __future__ import annotations

from collections.abc import Iterator

from xray_local.query.filters.ast import Kind, Operator, Value
from xray_local.query.filters.errors import FilterSyntaxError
from xray_local.query.filters.lexer import Token, TokenKind, describe

__all__ = ["MAX_DEPTH", "WORD_OPERATORS", "TokenStream"]

#: Nesting limit for parentheses and braces, so hostile input cannot exhaust the stack.
MAX_DEPTH = 64

#: Operators spelled as words (matched case-insensitively).
WORD_OPERATORS = frozenset({"contains", "beginswith", "endswith"})


class TokenStream:
    """A cursor over lazily produced tokens, so a lexical error surfaces only when reached."""

    def __init__(self, tokens: Iterator[Token]) -> None:
        self.tokens = tokens
        self.token = next(tokens)  # one token of lookahead is all the grammar needs
        self.depth = 0

    def advance(self) -> Token:
        token = self.token
        if token.kind is not TokenKind.END:
            self.token = next(self.tokens)
        return token

    def at(self, kind: TokenKind) -> bool:
        return self.token.kind is kind

    def word(self) -> str | None:
        """The current token's lower-cased text if it is a word."""
        return self.token.text.lower() if self.token.kind is TokenKind.WORD else None

    def fail(self, expected: str, token: Token | None = None) -> FilterSyntaxError:
        token = token or self.token
        return FilterSyntaxError(token.position, f"expected {expected} but found {describe(token)}")

    def expect(self, kind: TokenKind, expected: str) -> Token:
        if self.token.kind is not kind:
            raise self.fail(expected)
        return self.advance()

    def nest(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterSyntaxError(
                token.position, f"expression is nested too deeply (more than {MAX_DEPTH} levels)"
            )

    def operator(self) -> tuple[Operator, Token] | None:
        token = self.token
        if token.kind is TokenKind.OPERATOR:
            return token.text, self.advance()
        if token.kind is TokenKind.WORD and token.text.lower() in WORD_OPERATORS:
            return token.text.lower(), self.advance()
        return None

    def boolean_value(self, after: Token) -> bool:
        token = self.token
        text = token.value if token.kind is TokenKind.STRING else self.word()
        if text not in ("true", "false"):
            raise self.fail(f"true or false after '{after.text}'")
        self.advance()
        return text == "true"

    def value(self, after: Token, kind: Kind | None) -> Value:
        """The value after an operator; `kind` None (annotations) accepts any literal."""
        token = self.token
        if token.kind is TokenKind.STRING and kind in (Kind.STRING, None):
            self.advance()
            assert isinstance(token.value, str)
            return token.value
        if token.kind is TokenKind.NUMBER and kind in (Kind.NUMBER, None):
            self.advance()
            assert isinstance(token.value, float)
            return token.value
        if kind is None and self.word() in ("true", "false"):
            self.advance()
            return token.text.lower() == "true"
        wanted = {Kind.STRING: "a quoted string", Kind.NUMBER: "a number", None: "a value"}[kind]
        raise self.fail(f"{wanted} after '{after.text}'")
