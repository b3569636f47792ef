"""What the config's mappings name, walked once for both systems' checks: the field each one
writes, and the fields its expressions read from which input."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crmbridge.config.expressions import compile_expression
from crmbridge.config.load import LoadedConfig
from crmbridge.config.model import Mapping as MappingSection


def expressions(
    loaded: LoadedConfig,
) -> Iterator[tuple[tuple[Any, ...], MappingSection, str | None, str]]:
    """(where, mapping, the field it writes or None for `when`, the CEL source) for each."""
    for name, mapping in loaded.config.mappings.items():
        for field, source in mapping.fields.items():
            yield ("mappings", name, "fields", field), mapping, field, source
        if mapping.when is not None:
            yield ("mappings", name, "when"), mapping, None, mapping.when


def reads(source: str, inputs: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(variable, field, what the variable is) for each field `source` reads of an input."""
    return [
        (variable, field, inputs[variable])
        for variable, field in sorted(compile_expression(source).fields)
        if variable in inputs
    ]
