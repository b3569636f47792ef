"""The config's mappings and conditions, compiled once, evaluated with every decision recorded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crmbridge.config.check import resolve_function
from crmbridge.config.expressions import Expression, compile_expression
from crmbridge.config.model import Config
from crmbridge.errors import Permanent


@dataclass(frozen=True)
class CompiledMapping:
    name: str
    entity: str
    direction: str
    fields: dict[str, Expression]
    when: Expression | None


@dataclass(frozen=True)
class Rules:
    mappings: dict[str, CompiledMapping]
    conditions: dict[str, Expression]  # flow name → its `when`
    functions: dict[str, Callable[..., Any]]

    def mapping(self, name: str) -> CompiledMapping:
        return self.mappings[name]

    def evaluate(self, expression: Expression, inputs: Mapping[str, Any]) -> Any:
        return self._run(expression, cel_values(inputs))

    def _run(self, expression: Expression, converted: Any) -> Any:
        try:
            return expression.evaluate(converted, self.functions)
        except (RuntimeError, ValueError, TypeError) as exc:
            # A rule that cannot be evaluated on this record is a data problem: a person must
            # look (the job goes to the dead letter with the rule and the message).
            raise Permanent(f"rule {expression.source!r} failed: {exc}") from None

    def values(self, mapping: CompiledMapping, inputs: Mapping[str, Any]) -> dict[str, Any]:
        converted = cel_values(inputs)  # once per record, not once per field
        return {field: self._run(expr, converted) for field, expr in mapping.fields.items()}


def compile_rules(config: Config) -> Rules:
    mappings = {
        name: CompiledMapping(
            name,
            m.entity,
            m.direction,
            {field: compile_expression(source) for field, source in m.fields.items()},
            compile_expression(m.when) if m.when else None,
        )
        for name, m in config.mappings.items()
    }
    conditions = {}
    for flow_name in ("clients", "issue_invoice"):
        flow = getattr(config.flows, flow_name)
        if flow is not None and flow.when:
            conditions[flow_name] = compile_expression(flow.when)
    functions = {name: resolve_function(target) for name, target in config.functions.items()}
    return Rules(mappings, conditions, functions)


def cel_values(value: Any) -> Any:
    """Plain data CEL understands: Decimals become doubles, tuples lists, keys strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): cel_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cel_values(v) for v in value]
    return value
