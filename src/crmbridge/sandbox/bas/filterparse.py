"""Tokenizer and recursive-descent parser for the OData v3 `$filter` dialect 1C accepts.

Literals follow v3 (reference §1.7): `guid'…'`, `datetime'…'`, strings in single quotes with `''`
escaping, `true`/`false`/`null`, numbers. The same tokenizer parses URL keys
(`(guid'…')`, `(Ref_Key=guid'…', LineNumber=1)`) and virtual-table parameters, so `(`, `'` and `,`
inside string literals never confuse the URL parser.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmbridge.sandbox.bas.errors import ODataError
from crmbridge.sandbox.bas.values import parse_datetime

KEYWORDS = {"and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "add", "sub", "mul", "div"}
COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
_TYPED_PREFIXES = ("guid", "datetime", "X", "binary", "time", "datetimeoffset")
_PUNCT = "(),/:="


@dataclass(frozen=True)
class Token:
    kind: str  # ident | string | typed | number | punct | end
    value: str
    pos: int
    prefix: str = ""  # for typed literals: guid, datetime


@dataclass(frozen=True)
class Lit:
    value: Any
    kind: str  # string | guid | datetime | number | bool | null


@dataclass(frozen=True)
class Prop:
    path: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str  # not | neg
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


Node = Lit | Prop | Unary | Binary | Call


def syntax_error(option: str, text: str, pos: int, why: str) -> ODataError:
    return ODataError(
        400, "14", f"Ошибка разбора параметра {option} ({why}, позиция {pos + 1}): {text}"
    )


class Lexer:
    def __init__(self, text: str, option: str = "$filter") -> None:
        self.text = text
        self.option = option
        self.pos = 0

    def error(self, pos: int, why: str) -> ODataError:
        return syntax_error(self.option, self.text, pos, why)

    def tokens(self) -> list[Token]:
        found: list[Token] = []
        while True:
            token = self._next()
            found.append(token)
            if token.kind == "end":
                return found

    def _next(self) -> Token:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        start = self.pos
        if start >= len(text):
            return Token("end", "", start)
        char = text[start]
        if char == "'":
            return Token("string", self._quoted(), start)
        if char in _PUNCT:
            self.pos += 1
            return Token("punct", char, start)
        if char.isdigit() or (char in "-+" and text[start + 1 : start + 2].isdigit()):
            return self._number(start)
        if char.isalpha() or char in "_*$":
            return self._word(start)
        raise self.error(start, f"неожиданный символ «{char}»")

    def _quoted(self) -> str:
        text, out = self.text, []
        self.pos += 1
        while self.pos < len(text):
            char = text[self.pos]
            self.pos += 1
            if char != "'":
                out.append(char)
            elif text[self.pos : self.pos + 1] == "'":  # '' is an escaped quote
                out.append("'")
                self.pos += 1
            else:
                return "".join(out)
        raise self.error(len(text), "незакрытая строка")

    def _number(self, start: int) -> Token:
        text = self.text
        self.pos += 1
        while self.pos < len(text) and (text[self.pos].isdigit() or text[self.pos] in ".eE"):
            if text[self.pos] in "eE" and text[self.pos + 1 : self.pos + 2] in ("-", "+"):
                self.pos += 1
            self.pos += 1
        value = text[start : self.pos]
        if self.pos < len(text) and text[self.pos] in "mMdDfFlL":  # v3 type suffixes: 1.5M
            self.pos += 1
        return Token("number", value, start)

    def _word(self, start: int) -> Token:
        text = self.text
        while self.pos < len(text) and (text[self.pos].isalnum() or text[self.pos] in "_*$"):
            self.pos += 1
        word = text[start : self.pos]
        if word in _TYPED_PREFIXES and text[self.pos : self.pos + 1] == "'":
            return Token("typed", self._quoted(), start, prefix=word)
        return Token("ident", word, start)


class Parser:
    """`expr := or`; precedence: or < and < comparison < add/sub < mul/div < not/neg < primary."""

    def __init__(self, text: str, option: str = "$filter") -> None:
        self.lexer = Lexer(text, option)
        self.tokens = self.lexer.tokens()
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at_word(self, *words: str) -> bool:
        return self.current.kind == "ident" and self.current.value in words

    def at_punct(self, char: str) -> bool:
        return self.current.kind == "punct" and self.current.value == char

    def expect_punct(self, char: str) -> None:
        if not self.at_punct(char):
            raise self.lexer.error(self.current.pos, f"ожидается «{char}»")
        self.advance()

    def parse(self) -> Node:
        node = self.expression()
        if self.current.kind != "end":
            raise self.lexer.error(self.current.pos, f"лишний текст «{self.current.value}»")
        return node

    def expression(self) -> Node:
        return self._binary(0)

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("or",),
        ("and",),
        COMPARISONS,
        ("add", "sub"),
        ("mul", "div"),
    )

    def _binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self._binary(level + 1)
        while self.at_word(*self._LEVELS[level]):
            token = self.advance()
            right = self._binary(level + 1)
            node = Binary(token.value, node, right, token.pos)
            if level == 2 and self.at_word(*COMPARISONS):  # a eq b eq c is not v3
                raise self.lexer.error(self.current.pos, "сравнение после сравнения")
        return node

    def unary(self) -> Node:
        if self.at_word("not"):
            self.advance()
            return Unary("not", self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "end":
            raise self.lexer.error(token.pos, "неожиданный конец выражения")
        if self.at_punct("("):
            self.advance()
            node = self.expression()
            self.expect_punct(")")
            return node
        if token.kind in ("string", "typed", "number"):
            return self.literal()
        if token.kind == "ident" and token.value not in KEYWORDS:
            return self.name()
        raise self.lexer.error(token.pos, f"неожиданный элемент «{token.value}»")

    def literal(self) -> Lit:
        token = self.advance()
        if token.kind == "string":
            return Lit(token.value, "string")
        if token.kind == "number":
            try:
                return Lit(Decimal(token.value), "number")
            except ArithmeticError as exc:
                raise self.lexer.error(token.pos, "неверное число") from exc
        return typed_literal(token, self.lexer)

    def name(self) -> Node:
        token = self.advance()
        if token.value in ("true", "false"):
            return Lit(token.value == "true", "bool")
        if token.value == "null":
            return Lit(None, "null")
        if self.at_punct("("):
            return self.call(token)
        path = [token.value]
        while self.at_punct("/"):
            self.advance()
            if self.current.kind != "ident":
                raise self.lexer.error(self.current.pos, "ожидается имя свойства")
            path.append(self.advance().value)
        return Prop(tuple(path), token.pos)

    def call(self, token: Token) -> Call:
        self.expect_punct("(")
        args: list[Node] = []
        while not self.at_punct(")"):
            args.append(self.expression())
            if not self.at_punct(")"):
                self.expect_punct(",")
        self.advance()
        return Call(token.value, tuple(args), token.pos)


def typed_literal(token: Token, lexer: Lexer) -> Lit:
    if token.prefix == "guid":
        try:
            return Lit(str(uuid.UUID(token.value)), "guid")
        except ValueError as exc:
            raise lexer.error(token.pos, "неверный guid") from exc
    if token.prefix == "datetime":
        try:
            return Lit(parse_datetime(token.value), "datetime")
        except ValueError as exc:
            raise lexer.error(token.pos, "неверная дата") from exc
    raise lexer.error(token.pos, f"литерал {token.prefix}'…' не поддерживается")


def parse_filter(text: str) -> Node:
    return Parser(text).parse()


def parse_params(text: str, option: str = "key") -> tuple[Lit | None, dict[str, Lit]]:
    """Contents of `(…)` after a set or a function: one bare literal, or `Name=literal, …`."""
    parser = Parser(text, option)
    bare: Lit | None = None
    named: dict[str, Lit] = {}
    while parser.current.kind != "end":
        if parser.current.kind == "ident" and parser.tokens[parser.index + 1].value == "=":
            name = parser.advance().value
            parser.advance()
            named[name] = parser.literal()
        else:
            bare = parser.literal()
        if parser.current.kind != "end":
            parser.expect_punct(",")
    return bare, named


def parse_orderby(text: str) -> list[tuple[tuple[str, ...], bool]]:
    """`A/B desc, C` → [(("A", "B"), True), (("C",), False)]; True means descending."""
    parser = Parser(text, "$orderby")
    keys: list[tuple[tuple[str, ...], bool]] = []
    while True:
        node = parser.name() if parser.current.kind == "ident" else None
        if not isinstance(node, Prop):
            raise parser.lexer.error(parser.current.pos, "ожидается имя свойства")
        descending = parser.at_word("desc")
        if parser.at_word("asc", "desc"):
            parser.advance()
        keys.append((node.path, descending))
        if parser.current.kind == "end":
            return keys
        parser.expect_punct(",")
