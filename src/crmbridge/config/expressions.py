"""CEL expressions: compiled once when the config loads, evaluated per record.

CEL identifiers are ASCII, so a Cyrillic 1C field is read with an index: `product["Цена"]`.
`references()` finds which fields of which variables an expression reads, for the config check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import cel

from crmbridge.errors import ConfigError

_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[.\[\](])
      | (?P<other>\s+|.)""",
    re.VERBOSE | re.DOTALL,
)


# The functions and methods the CEL engine (package common-expression-language) has: anything
# else fails only when a record is evaluated ("Undefined variable or function"), so the check
# names it first. Custom functions come from the config's `functions:`. Each one is run by
# tests/unit/test_config.py, so the list cannot claim what the engine lacks.
ENGINE_FUNCTIONS = frozenset(
    {
        *("size", "has", "contains", "startsWith", "endsWith", "matches"),
        *("string", "int", "uint", "double", "bytes", "duration", "timestamp", "type", "dyn"),
        *("all", "exists", "exists_one", "map", "filter"),
        *("getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek"),
        *("getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds"),
    }
)


@dataclass(frozen=True)
class Expression:
    source: str
    program: cel.Program
    variables: frozenset[str]
    fields: frozenset[tuple[str, str]]  # (variable, field) pairs read by the expression
    calls: frozenset[str]  # functions and methods called: `f(…)` and `x.f(…)`

    def evaluate(
        self, inputs: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] | None = None
    ) -> Any:
        if not functions:
            return self.program.execute(dict(inputs))
        context = cel.Context()
        for name, value in inputs.items():
            context.add_variable(name, value)
        for name, function in functions.items():
            context.add_function(name, function)
        return self.program.execute(context)


def compile_expression(source: str) -> Expression:
    """Compile; a syntax error becomes a ConfigError with CEL's own explanation."""
    try:
        program = cel.compile(source)
    except ValueError as exc:
        detail = str(exc).split("ERROR: ", 1)[-1].splitlines()[0]
        raise ConfigError(f"CEL expression {source!r} does not compile: {detail}") from None
    tokens = _tokens(source)
    variables = frozenset(program.variables())
    return Expression(source, program, variables, references(source), _calls(tokens))


def _tokens(source: str) -> list[tuple[str | None, str]]:
    return [
        (m.lastgroup, m.group())
        for m in _TOKEN.finditer(source)
        if m.lastgroup != "other" or not m.group().isspace()
    ]


def _calls(tokens: list[tuple[str | None, str]]) -> frozenset[str]:
    return frozenset(
        text
        for (kind, text), (_, following) in pairwise(tokens)
        if kind == "ident" and following == "("
    )


def references(source: str) -> frozenset[tuple[str, str]]:
    """Pairs (variable, field) for `var.field` and `var["field"]` in the expression."""
    tokens = _tokens(source)
    found = set()
    for i, (kind, text) in enumerate(tokens[:-2]):
        if kind != "ident" or (i > 0 and tokens[i - 1][1] == "."):
            continue
        nxt, after = tokens[i + 1], tokens[i + 2]
        called = i + 3 < len(tokens) and tokens[i + 3][1] == "("  # `x.size()` reads no field
        if nxt[1] == "." and after[0] == "ident" and not called:
            found.add((text, after[1]))
        elif nxt[1] == "[" and after[0] == "string":
            found.add((text, after[1][1:-1]))
    return frozenset(found)
