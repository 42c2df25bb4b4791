"""Split a filter expression into tokens, each remembering where it starts.

Positions are kept on every token so that any later stage can say exactly where an expression
went wrong. Character classes are ASCII on purpose: `str.isdigit` accepts characters such as '²'
that `float()` rejects, and X-Ray keywords and annotation keys are ASCII anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from xray_local.query.filters.errors import FilterSyntaxError

__all__ = ["Token", "TokenKind", "describe", "tokenize"]


class TokenKind(Enum):
    WORD = "word"  # keywords, AND/OR, CONTAINS..., true/false
    STRING = "string"
    NUMBER = "number"
    OPERATOR = "operator"  # = != < <= > >=
    BANG = "!"
    LPAREN = "("
    RPAREN = ")"
    LBRACE = "{"
    RBRACE = "}"
    COMMA = ","
    COLON = ":"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # the source text, quotes included for strings
    position: int
    value: str | float | None = None  # decoded string or number


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]*)*", re.ASCII)
_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
_PUNCTUATION = {
    "(": TokenKind.LPAREN,
    ")": TokenKind.RPAREN,
    "{": TokenKind.LBRACE,
    "}": TokenKind.RBRACE,
    ",": TokenKind.COMMA,
    ":": TokenKind.COLON,
}
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_HEX = frozenset("0123456789abcdefABCDEF")
_NOT_OPERATORS = {"&&": "AND", "||": "OR"}


def describe(token: Token) -> str:
    """How an error message names a token: its text in quotes, or 'end of expression'."""
    if token.kind is TokenKind.END:
        return "end of expression"
    text = token.text if len(token.text) <= 40 else token.text[:37] + "..."
    return text if token.kind is TokenKind.STRING else f"'{text}'"


def _string(text: str, start: int) -> tuple[Token, int]:
    """Decode a double-quoted string starting at `start`; JSON's escapes are accepted."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return Token(TokenKind.STRING, text[start : i + 1], start, "".join(out)), i + 1
        if char != "\\":
            out.append(char)
            i += 1
            continue
        escape = text[i + 1 : i + 2]
        if escape == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) != 4 or not set(digits) <= _HEX:
                raise FilterSyntaxError(i, "expected 4 hex digits after '\\u' in a string")
            out.append(chr(int(digits, 16)))
            i += 6
        elif escape in _ESCAPES:
            out.append(_ESCAPES[escape])
            i += 2
        elif escape == "":
            break
        else:
            raise FilterSyntaxError(i, f"invalid escape '\\{escape}' in a string")
    raise FilterSyntaxError(start, "unterminated string: expected a closing '\"'")


def tokenize(text: str) -> Iterator[Token]:
    """The tokens of `text`, ending with an END token positioned at `len(text)`.

    A generator, so that the parser reports the leftmost problem whether it is lexical or not.
    """
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in " \t\r\n":
            i += 1
            continue
        if char == '"':
            token, i = _string(text, i)
            yield token
            continue
        if char in _PUNCTUATION:
            yield Token(_PUNCTUATION[char], char, i)
            i += 1
            continue
        pair = text[i : i + 2]
        if pair in _NOT_OPERATORS:
            word = _NOT_OPERATORS[pair]
            raise FilterSyntaxError(i, f"'{pair}' is not an operator; use {word}")
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator is not None:
            yield Token(TokenKind.OPERATOR, operator, i)
            i += len(operator)
            continue
        if char == "!":
            yield Token(TokenKind.BANG, char, i)
            i += 1
            continue
        match = _NUMBER.match(text, i)
        if match is not None:
            yield Token(TokenKind.NUMBER, match.group(), i, float(match.group()))
            i = match.end()
            continue
        match = _WORD.match(text, i)
        if match is not None:
            yield Token(TokenKind.WORD, match.group(), i)
            i = match.end()
            continue
        raise FilterSyntaxError(i, f"unexpected character {char!r}")
    yield Token(TokenKind.END, "", n)
