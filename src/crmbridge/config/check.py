"""The static checks of `crmbridge check`: ownership, expressions, references between sections.

Every problem is collected, not only the first, so one run shows the whole list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from crmbridge import systems
from crmbridge.config.expressions import ENGINE_FUNCTIONS, compile_expression
from crmbridge.config.load import LoadedConfig
from crmbridge.config.locate import Located
from crmbridge.config.model import Mapping
from crmbridge.errors import ConfigError

# What a mapping's expressions may read, by (entity, direction): the record(s) the built-in flow
# hands it. Anything else is a typo the check reports.
MAPPING_INPUTS: dict[tuple[str, str], frozenset[str]] = {
    ("client", "crm->bas"): frozenset({"company", "requisite", "deal_total"}),
    ("product", "bas->crm"): frozenset({"product", "price"}),
    ("deal", "bas->crm"): frozenset({"invoice", "paid", "status", "deal"}),
}
# Which mapping each built-in flow uses: (entity, direction) it must have.
FLOW_MAPPINGS: dict[str, tuple[str, str]] = {
    "clients": ("client", "crm->bas"),
    "catalog": ("product", "bas->crm"),
    "issue_invoice": ("deal", "bas->crm"),
}


def check(loaded: LoadedConfig) -> list[Located]:
    problems: list[Located] = []
    problems += _ownership(loaded)
    problems += _expressions(loaded)
    problems += _flows(loaded)
    problems += _functions(loaded)
    problems += _plugins(loaded)
    problems += _urls(loaded)
    return problems


def _ownership(loaded: LoadedConfig) -> list[Located]:
    config, problems = loaded.config, []
    writers: dict[tuple[str, str], list[tuple[str, Mapping]]] = {}
    for name, mapping in config.mappings.items():
        for field in mapping.fields:
            writers.setdefault((mapping.entity, field), []).append((name, mapping))
    for (entity, field), written_by in writers.items():
        owner = config.ownership.owner(entity, field)
        sides = {m.source for _, m in written_by}
        for name, mapping in written_by:
            where = ("mappings", name, "fields", field)
            if owner is None:
                message = f"no owner is declared for {entity} (add ownership.entities.{entity})"
            elif len(sides) > 1:
                others = [n for n, m in written_by if m.source != mapping.source]
                message = (
                    f"{entity}.{field} is written from both sides (also by mapping "
                    f"{', '.join(others)}); one system must own it"
                )
            elif mapping.source != owner:
                message = (
                    f"writes {entity}.{field} from {mapping.source} into {mapping.target}, but "
                    f"{owner} owns it: only {owner} may write it"
                )
            elif len(written_by) > 1:
                message = f"{entity}.{field} is written by several mappings of the same side"
            else:
                continue
            problems.append(loaded.at(where, message))
    return problems


def _expressions(loaded: LoadedConfig) -> list[Located]:
    problems = []
    for name, mapping in loaded.config.mappings.items():
        allowed = MAPPING_INPUTS.get((mapping.entity, mapping.direction))
        if allowed is None:
            known = ", ".join(f"{e} {d}" for e, d in MAPPING_INPUTS)
            problems.append(
                loaded.at(
                    ("mappings", name),
                    f"no built-in flow maps {mapping.entity} {mapping.direction} (known: {known})",
                )
            )
            continue
        for field, source in mapping.fields.items():
            problems += _expression(loaded, ("mappings", name, "fields", field), source, allowed)
        if mapping.when is not None:
            problems += _expression(loaded, ("mappings", name, "when"), mapping.when, allowed)
    return problems


def _expression(
    loaded: LoadedConfig, where: tuple[Any, ...], source: str, allowed: frozenset[str]
) -> list[Located]:
    try:
        expression = compile_expression(source)
    except ConfigError as exc:
        return [loaded.at(where, exc.message)]
    custom = set(loaded.config.functions)
    unknown = sorted(expression.variables - allowed - custom)
    if unknown:
        names = ", ".join(sorted(allowed))
        return [loaded.at(where, f"unknown name {', '.join(unknown)} (this mapping has {names})")]
    return [
        loaded.at(
            where,
            f"unknown CEL function {name}() (the engine has {', '.join(sorted(ENGINE_FUNCTIONS))}; "
            "register your own under functions:)",
        )
        for name in sorted(expression.calls - ENGINE_FUNCTIONS - custom)
    ]


def _flows(loaded: LoadedConfig) -> list[Located]:
    config, problems = loaded.config, []
    for flow_name, (entity, direction) in FLOW_MAPPINGS.items():
        flow = getattr(config.flows, flow_name)
        if flow is None or not flow.enabled:
            continue
        mapping = config.mappings.get(flow.mapping)
        where = ("flows", flow_name, "mapping")
        if mapping is None:
            problems.append(loaded.at(where, f"there is no mapping {flow.mapping!r}"))
        elif (mapping.entity, mapping.direction) != (entity, direction):
            problems.append(
                loaded.at(where, f"mapping {flow.mapping!r} must map {entity} {direction}")
            )
    for flow_name in ("clients", "issue_invoice"):
        flow = getattr(config.flows, flow_name)
        if flow is not None and flow.when is not None:
            allowed = MAPPING_INPUTS[FLOW_MAPPINGS[flow_name]]
            problems += _expression(loaded, ("flows", flow_name, "when"), flow.when, allowed)
    return problems


def _plugins(loaded: LoadedConfig) -> list[Located]:
    """Each plugin imports, is a Plugin, and its settings fit its model."""
    from crmbridge import plugins

    problems = []
    for name, section in loaded.config.plugins.items():
        try:
            plugins.load({name: section})
        except ConfigError as exc:
            problems.append(loaded.at(("plugins", name), exc.message))
    return problems


def _functions(loaded: LoadedConfig) -> list[Located]:
    problems = []
    for name, target in loaded.config.functions.items():
        try:
            resolve_function(target)
        except ConfigError as exc:
            problems.append(loaded.at(("functions", name), exc.message))
    return problems


def _urls(loaded: LoadedConfig) -> list[Located]:
    """What each system's section says wrong without calling the system (its addresses)."""
    problems = []
    for side, section in systems.configured(loaded.config):
        system = systems.of(side, section.type)
        for path, message in system.problems(section):
            problems.append(loaded.at(("systems", side, *path), message))
    return problems


def resolve_function(target: str) -> Callable[..., Any]:
    """`package.module:function` → the function (custom logic registered by name)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{target!r} is not of the form package.module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name}: {exc}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ConfigError(f"{module_name} has no function {attribute}")
    return function  # type: ignore[no-any-return]
