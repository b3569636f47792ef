"""CEL expressions: compiled once when the config loads, evaluated per record.

CEL identifiers are ASCII, so a Cyrillic 1C field is read with an index: `product["Цена"]`.
`references()` finds which fields of which variables an expression reads, for the config check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cel

from crmbridge.errors import ConfigError

_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[.\[\]])
      | (?P<other>\s+|.)""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Expression:
    source: str
    program: cel.Program
    variables: frozenset[str]
    fields: frozenset[tuple[str, str]]  # (variable, field) pairs read by the expression

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
    return Expression(source, program, frozenset(program.variables()), references(source))


def references(source: str) -> frozenset[tuple[str, str]]:
    """Pairs (variable, field) for `var.field` and `var["field"]` in the expression."""
    tokens = [
        (m.lastgroup, m.group())
        for m in _TOKEN.finditer(source)
        if m.lastgroup != "other" or not m.group().isspace()
    ]
    found = set()
    for i, (kind, text) in enumerate(tokens[:-2]):
        if kind != "ident" or (i > 0 and tokens[i - 1][1] == "."):
            continue
        nxt, after = tokens[i + 1], tokens[i + 2]
        if nxt[1] == "." and after[0] == "ident":
            found.add((text, after[1]))
        elif nxt[1] == "[" and after[0] == "string":
            found.add((text, after[1][1:-1]))
    return frozenset(found)
