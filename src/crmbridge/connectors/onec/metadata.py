"""`$metadata` (CSDL of OData v3, reference §1.3/§1.6) read once, used to check every write.

1C silently ignores properties it does not know (§1.6: a typo loses the value without an error),
so a field a mapping writes must exist in the published schema before the request is sent.
A tabular section is a property of type `Collection(StandardODATA.<Set>_<Section>_RowType)`;
its columns come from that complex type, or — when a server (or an excerpt) omits it — from the
entity type of the section's own set `<Set>_<Section>`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

_EDM = "{http://schemas.microsoft.com/ado/2009/11/edm}"
_NS = "StandardODATA."
# Written only by the server or by an action: 1C ignores them in a body (Posted via /Post).
SERVER_OWNED = frozenset({"DataVersion", "Posted", "Predefined", "PredefinedDataName"})


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class EntityType:
    name: str
    keys: tuple[str, ...]
    properties: Mapping[str, str]  # name → Edm type or Collection(...)
    navigations: frozenset[str] = frozenset()

    def tables(self) -> dict[str, str]:
        """Tabular section name → its row type name (without the namespace)."""
        return {
            name: kind.removeprefix("Collection(").removesuffix(")").removeprefix(_NS)
            for name, kind in self.properties.items()
            if kind.startswith("Collection(")
        }


@dataclass(frozen=True)
class Metadata:
    types: Mapping[str, EntityType]  # entity and complex types by name
    sets: Mapping[str, str]  # entity set → entity type name
    functions: Mapping[str, frozenset[str]] = field(default_factory=dict)  # bound type → names

    def entity(self, entity_set: str) -> EntityType | None:
        name = self.sets.get(entity_set)
        return None if name is None else self.types.get(name)

    def has_function(self, entity_set: str, function: str) -> bool:
        return function in self.functions.get(self.sets.get(entity_set, ""), frozenset())

    def row_type(self, entity_set: str, table: str) -> EntityType | None:
        owner = self.entity(entity_set)
        row = None if owner is None else owner.tables().get(table)
        if row is None:
            return None
        return self.types.get(row) or self.entity(row.removesuffix("_RowType"))

    def check_fields(self, entity_set: str, field_names: Iterable[str]) -> list[Problem]:
        """What is wrong with writing these fields to the set (empty: nothing)."""
        entity = self.entity(entity_set)
        if entity is None:
            return [Problem(entity_set, "no such entity set in $metadata (not published?)")]
        return [p for name in field_names for p in _check(entity, name)]

    def check_record(self, entity_set: str, record: Mapping[str, Any]) -> list[Problem]:
        """`check_fields` plus every column of every tabular row sent."""
        problems = self.check_fields(entity_set, record)
        entity = self.entity(entity_set)
        if entity is None:
            return problems
        for table in entity.tables():
            rows = record.get(table)
            if isinstance(rows, list):
                problems += self._check_rows(entity_set, table, rows)
        return problems

    def _check_rows(self, entity_set: str, table: str, rows: list[Any]) -> list[Problem]:
        row_type = self.row_type(entity_set, table)
        if row_type is None:
            return [Problem(table, "row type missing from $metadata")]
        problems = []
        for n, row in enumerate(rows, start=1):
            if not isinstance(row, Mapping) or "LineNumber" not in row:
                # 1C answers a row without LineNumber with an opaque internal error (§1.8)
                problems.append(Problem(f"{table}[{n}]", "every row needs LineNumber"))
                continue
            problems += [
                Problem(f"{table}[{n}].{p.field}", p.message)
                for name in row
                for p in _check(row_type, name)
            ]
        return problems


def _check(entity: EntityType, name: str) -> list[Problem]:
    base = name.split("@", 1)[0]  # Товары@odata.type, Организация@odata.bind
    if name == "odata.type" or (base != name and _known(entity, base)):
        return []
    if name in SERVER_OWNED:
        return [Problem(name, "set by 1C itself; a value sent is ignored")]
    if name in entity.properties:
        return []
    hint = difflib.get_close_matches(name, list(entity.properties), n=1)
    suffix = f"; did you mean {hint[0]}?" if hint else ""
    return [Problem(name, f"not a property of {entity.name}; 1C would drop it silently{suffix}")]


def _known(entity: EntityType, name: str) -> bool:
    return name in entity.properties or name in entity.navigations


def _entity_type(element: ElementTree.Element) -> EntityType:
    keys = tuple(str(k.get("Name")) for k in element.iter(f"{_EDM}PropertyRef"))
    props = {str(p.get("Name")): str(p.get("Type")) for p in element.findall(f"{_EDM}Property")}
    navs = frozenset(str(n.get("Name")) for n in element.findall(f"{_EDM}NavigationProperty"))
    return EntityType(str(element.get("Name")), keys, props, navs)


def _functions(container: ElementTree.Element) -> dict[str, frozenset[str]]:
    bound: dict[str, set[str]] = {}
    for fn in container.findall(f"{_EDM}FunctionImport"):
        for param in fn.findall(f"{_EDM}Parameter"):
            if param.get("Name") == "bindingParameter":
                target = str(param.get("Type")).removeprefix(_NS)
                bound.setdefault(target, set()).add(str(fn.get("Name")))
    return {k: frozenset(v) for k, v in bound.items()}


def parse(xml: bytes | str) -> Metadata:
    """The schema of one `$metadata` document."""
    root = ElementTree.fromstring(xml)
    types: dict[str, EntityType] = {}
    sets: dict[str, str] = {}
    functions: dict[str, frozenset[str]] = {}
    for schema in root.iter(f"{_EDM}Schema"):
        for tag in ("EntityType", "ComplexType"):
            for element in schema.findall(f"{_EDM}{tag}"):
                found = _entity_type(element)
                types[found.name] = found
        for container in schema.findall(f"{_EDM}EntityContainer"):
            for entity_set in container.findall(f"{_EDM}EntitySet"):
                sets[str(entity_set.get("Name"))] = str(entity_set.get("EntityType")).removeprefix(
                    _NS
                )
            functions |= _functions(container)
    return Metadata(types, sets, functions)
