"""Recursive-descent parser: tokens to a checked AST.

Grammar (keywords and AND/OR/CONTAINS/... are case-insensitive):

    expression := [or]                       -- empty matches every trace
    or         := and (OR and)*
    and        := unary ([AND] unary)*       -- juxtaposition is AND: `ok !partial duration < 3`
    unary      := '!' unary | '(' or ')' | term
    term       := keyword [operator value]
                | annotation.KEY [operator value]
                | service '(' [selector] ')' [body] | id '(' id-args ')' [body]
                                  -- id-args: name: "..", type: "..", account.id: ".."
                | edge '(' selector ',' selector ')' [body]
                | rootcause.KIND.LEVEL [body] | group.(name|arn) (=|!=) string
    body       := '{' [or] '}'

Scope rules (which keywords are allowed inside which braces) are checked here, so that the error
can point at the offending keyword; the evaluator trusts the result.
"""

from __future__ import annotations

from typing import Any

from xray_local.query.filters.ast import (
    And,
    Annotation,
    Check,
    Edge,
    Expr,
    Group,
    Kind,
    MatchAll,
    Not,
    Or,
    RootCauseTest,
    Selector,
    Service,
)
from xray_local.query.filters.errors import FilterSyntaxError
from xray_local.query.filters.keywords import (
    ALL_KEYWORDS,
    EDGE,
    ROOT_CAUSE_SCOPES,
    SERVICE,
    TRACE,
    Scope,
)
from xray_local.query.filters.lexer import Token, TokenKind, tokenize
from xray_local.query.filters.stream import MAX_DEPTH, WORD_OPERATORS, TokenStream

__all__ = ["MAX_DEPTH", "parse"]

_NUMBER_OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_STRING_OPERATORS = frozenset({"=", "!="}) | WORD_OPERATORS
_ROOT_CAUSE_KINDS = ("fault", "error", "throttle", "responsetime")
#: The parts of `id(...)`, as the filter language documents them.
_ID_FIELDS = ("name", "type", "account.id")
_ALLOWED = {
    Kind.BOOLEAN: "= or !=",
    Kind.NUMBER: "=, !=, <, <=, > or >=",
    Kind.STRING: "=, !=, CONTAINS, BEGINSWITH or ENDSWITH",
}


def parse(text: str) -> Expr:
    """Parse a whole filter expression, raising FilterSyntaxError at the first problem."""
    return _Parser(tokenize(text)).expression()


class _Parser(TokenStream):
    # -- structure -----------------------------------------------------------------------------

    def expression(self) -> Expr:
        if self.token.kind is TokenKind.END:
            return MatchAll()
        expr = self.or_(TRACE)
        token = self.token
        if token.kind is TokenKind.RPAREN:
            raise FilterSyntaxError(token.position, "unexpected ')' without a matching '('")
        if token.kind is TokenKind.RBRACE:
            raise FilterSyntaxError(token.position, "unexpected '}' without a matching '{'")
        if token.kind is not TokenKind.END:
            raise self.fail("AND, OR or end of expression")
        return expr

    def or_(self, scope: Scope[Any]) -> Expr:
        operands = [self.and_(scope)]
        while self.word() == "or":
            self.advance()
            operands.append(self.and_(scope))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_(self, scope: Scope[Any]) -> Expr:
        operands = [self.unary(scope)]
        while True:
            word = self.word()
            if word == "and":
                self.advance()
            elif not self.starts_term() or word == "or":
                break
            operands.append(self.unary(scope))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def starts_term(self) -> bool:
        return self.token.kind in (TokenKind.BANG, TokenKind.LPAREN, TokenKind.WORD)

    def unary(self, scope: Scope[Any]) -> Expr:
        negations = 0
        while self.at(TokenKind.BANG):  # a loop, not recursion: `!!!!ok` nests nothing
            self.advance()
            negations += 1
        operand = self.primary(scope)
        if negations % 2 == 0:
            return operand
        return operand.operand if isinstance(operand, Not) else Not(operand)

    def primary(self, scope: Scope[Any]) -> Expr:
        token = self.token
        if token.kind is TokenKind.LPAREN:
            self.advance()
            self.nest(token)
            expr = self.or_(scope)
            self.expect(TokenKind.RPAREN, f"')' to close the '(' at position {token.position}")
            self.depth -= 1
            return expr
        if token.kind is not TokenKind.WORD or self.word() in ("and", "or"):
            raise self.fail("a keyword, '!' or '('")
        return self.term(scope)

    def body(self, scope: Scope[Any]) -> Expr | None:
        """Optional `{ expr }` evaluated in `scope`; empty braces are the same as none."""
        if self.token.kind is not TokenKind.LBRACE:
            return None
        brace = self.advance()
        self.nest(brace)
        if self.at(TokenKind.END):
            raise self.fail(f"an expression or '}}' to close the '{{' at position {brace.position}")
        expr = None if self.at(TokenKind.RBRACE) else self.or_(scope)
        self.expect(TokenKind.RBRACE, f"'}}' to close the '{{' at position {brace.position}")
        self.depth -= 1
        return expr

    # -- terms ---------------------------------------------------------------------------------

    def term(self, scope: Scope[Any]) -> Expr:
        token = self.advance()
        word = token.text.lower()
        if word in ("service", "edge", "id") or word.split(".")[0] in (
            "annotation",
            "rootcause",
            "group",
        ):
            if scope is not TRACE:
                head = word.split(".")[0]
                shown = f"{head}(...)" if head in ("service", "edge", "id") else f"{head}.*"
                if head == "annotation":
                    shown = "annotation.KEY"
                raise FilterSyntaxError(token.position, f"{shown} cannot be used {scope.where}")
            return self.complex_term(token, word)
        kind = scope.kind(word)
        if kind is None:
            if word in ALL_KEYWORDS:
                raise FilterSyntaxError(
                    token.position, f"keyword '{token.text}' cannot be used {scope.where}"
                )
            raise FilterSyntaxError(token.position, f"unknown keyword '{token.text}'")
        operator = self.operator()
        if operator is None:
            return Check(word, kind)
        if operator[0] not in (_NUMBER_OPERATORS if kind is Kind.NUMBER else _STRING_OPERATORS) or (
            kind is Kind.BOOLEAN and operator[0] not in ("=", "!=")
        ):
            raise FilterSyntaxError(
                operator[1].position,
                f"operator '{operator[1].text}' cannot be used with {kind.value} keyword "
                f"'{token.text}'; use {_ALLOWED[kind]}",
            )
        if kind is Kind.BOOLEAN:
            truth = self.boolean_value(operator[1])
            test = Check(word, kind)
            return test if truth == (operator[0] == "=") else Not(test)
        value = self.value(operator[1], kind)
        assert not isinstance(value, bool)
        return Check(word, kind, operator[0], value)

    def complex_term(self, token: Token, word: str) -> Expr:
        if word == "service":
            self.expect(TokenKind.LPAREN, "'(' after 'service'")
            selector = None if self.token.kind is TokenKind.RPAREN else self.selector()
            self.expect(TokenKind.RPAREN, "')' after the service name")
            return Service(selector, self.body(SERVICE))
        if word == "id":
            return Service(self.id_selector(token), self.body(SERVICE))
        if word == "edge":
            self.expect(TokenKind.LPAREN, "'(' after 'edge'")
            source = self.selector()
            self.expect(TokenKind.COMMA, "',' between the two services of edge(...)")
            destination = self.selector()
            self.expect(TokenKind.RPAREN, "')' after the second service of edge(...)")
            return Edge(source, destination, self.body(EDGE))
        head, _, rest = token.text.partition(".")
        if word.startswith("annotation"):
            return self.annotation(token, rest)
        if word.startswith("group"):
            return self.group(token, rest.lower())
        return self.root_cause(token, rest.lower())

    def selector(self) -> Selector:
        token = self.token
        if token.kind is TokenKind.STRING:
            self.advance()
            assert isinstance(token.value, str)
            return Selector(token.value)
        if self.word() == "id":
            return self.id_selector(self.advance())
        raise self.fail("a quoted service name or id(...)")

    def id_selector(self, id_token: Token) -> Selector:
        self.expect(TokenKind.LPAREN, "'(' after 'id'")
        fields: dict[str, str] = {}
        while True:
            key = self.token
            name = self.word()
            if name in fields:
                raise FilterSyntaxError(key.position, f"'{key.text}' given twice in id(...)")
            if name not in _ID_FIELDS:
                raise self.fail("'name:', 'type:' or 'account.id:' in id(...)")
            self.advance()
            self.expect(TokenKind.COLON, f"':' after '{key.text}'")
            value = self.expect(TokenKind.STRING, f"a quoted string after '{key.text}:'")
            assert isinstance(value.value, str)
            fields[name] = value.value
            if self.token.kind is not TokenKind.COMMA:
                break
            self.advance()
        self.expect(TokenKind.RPAREN, "',' or ')' in id(...)")
        return Selector(
            fields.get("name"), fields.get("type"), by_id=True, account_id=fields.get("account.id")
        )

    def annotation(self, token: Token, key: str) -> Expr:
        if not key or "." in key or len(key) > 500:
            raise FilterSyntaxError(
                token.position, f"expected an annotation key ([A-Za-z0-9_]) in '{token.text}'"
            )
        operator = self.operator()
        if operator is None:
            return Annotation(key)
        op, op_token = operator
        value_token = self.token
        value = self.value(op_token, None)
        if op in ("<", "<=", ">", ">=") and not isinstance(value, float):
            raise self.fail(f"a number after '{op_token.text}'", value_token)
        if op in WORD_OPERATORS and not isinstance(value, str):
            raise self.fail(f"a quoted string after '{op_token.text}'", value_token)
        return Annotation(key, op, value)

    def group(self, token: Token, field: str) -> Expr:
        if field not in ("name", "arn"):
            raise FilterSyntaxError(token.position, f"unknown keyword '{token.text}'")
        operator = self.operator()
        if operator is None or operator[0] not in ("=", "!="):
            raise self.fail(f"= or != after '{token.text}'", operator[1] if operator else None)
        value = self.expect(TokenKind.STRING, f"a quoted string after '{operator[1].text}'")
        assert isinstance(value.value, str)
        return Group(field, operator[0] == "!=", value.value)

    def root_cause(self, token: Token, rest: str) -> Expr:
        kind, _, level = rest.partition(".")
        if kind == "json":
            raise FilterSyntaxError(token.position, "rootcause.json is not supported")
        if (
            kind not in _ROOT_CAUSE_KINDS
            or level not in ROOT_CAUSE_SCOPES
            or (kind == "responsetime" and level == "exception")
        ):
            raise FilterSyntaxError(
                token.position,
                f"unknown keyword '{token.text}'; expected rootcause.<fault|error|throttle|"
                "responsetime>.<service|entity|exception>",
            )
        return RootCauseTest(kind, level, self.body(ROOT_CAUSE_SCOPES[level]))
