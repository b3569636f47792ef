"""Typed view of a metadata profile: entity sets, their wire fields and tabular sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from crmbridge.sandbox.bas.profiles import Profile

Role = Literal["plain", "ref", "composite", "composite_type"]
Kind = Literal["Catalog", "Document", "InformationRegister"]
EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
UNDEFINED_TYPE = "StandardODATA.Undefined"


@dataclass(frozen=True)
class Field:
    name: str  # as on the wire: Контрагент_Key, Сделка, Сделка_Type, Цена
    edm: str
    attr: str  # the configuration attribute: Контрагент, Сделка
    role: Role = "plain"
    target: str | None = None  # the referenced set, for refs


@dataclass(frozen=True)
class Table:
    name: str  # Товары
    set_name: str  # Document_СчетНаОплатуПокупателю_Товары
    owner: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @cached_property  # a name lookup on every value of every request: a dict, not a scan
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


@dataclass(frozen=True)
class EntitySet:
    name: str
    kind: Kind
    head: tuple[Field, ...]  # standard fields and attributes, in wire order
    tail: tuple[Field, ...]  # standard fields written after the tabular sections
    tables: dict[str, Table] = field(default_factory=dict)
    published: bool = True
    dimensions: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.head + self.tail

    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @cached_property  # as Table's: fields are looked up per value, 40 to a counterparty
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def refs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.role == "ref")


def _attr_fields(attrs: dict[str, str]) -> list[Field]:
    fields: list[Field] = []
    for attr, kind in attrs.items():
        if kind.startswith("ref:"):
            fields.append(Field(f"{attr}_Key", "Edm.Guid", attr, "ref", kind[4:]))
        elif kind == "composite":
            fields.append(Field(attr, "Edm.String", attr, "composite"))
            fields.append(Field(f"{attr}_Type", "Edm.String", attr, "composite_type"))
        else:
            fields.append(Field(attr, kind, attr))
    return fields


def _plain(*pairs: tuple[str, str]) -> list[Field]:
    return [Field(name, edm, name) for name, edm in pairs]


def _catalog_head(name: str, spec: dict[str, Any]) -> list[Field]:
    head = [Field("Ref_Key", "Edm.Guid", "Ref")]
    head += _plain(("DataVersion", "Edm.String"), ("DeletionMark", "Edm.Boolean"))
    if spec.get("hierarchical"):
        head.append(Field("Parent_Key", "Edm.Guid", "Parent", "ref", name))
        head += _plain(("IsFolder", "Edm.Boolean"))
    if "owner" in spec:
        head.append(Field("Owner_Key", "Edm.Guid", "Owner", "ref", spec["owner"]))
    return head + _plain(("Code", "Edm.String"), ("Description", "Edm.String"))


def _document_head() -> list[Field]:
    head = [Field("Ref_Key", "Edm.Guid", "Ref")]
    return head + _plain(
        ("DataVersion", "Edm.String"),
        ("DeletionMark", "Edm.Boolean"),
        ("Number", "Edm.String"),
        ("Date", "Edm.DateTime"),
        ("Posted", "Edm.Boolean"),
    )


def _table(owner: str, name: str, attrs: dict[str, str]) -> Table:
    keys = [Field("Ref_Key", "Edm.Guid", "Ref"), Field("LineNumber", "Edm.Int64", "LineNumber")]
    return Table(name, f"{owner}_{name}", owner, tuple(keys + _attr_fields(attrs)))


def _entity_set(name: str, spec: dict[str, Any]) -> EntitySet:
    kind: Kind = spec["kind"]
    published = bool(spec.get("published", True))
    if kind == "InformationRegister":
        dims = _attr_fields(spec["dimensions"])
        head = [Field("Period", "Edm.DateTime", "Period"), *dims, *_attr_fields(spec["attrs"])]
        names = tuple(f.name for f in dims)
        return EntitySet(name, kind, tuple(head), (), {}, published, names)
    head = _catalog_head(name, spec) if kind == "Catalog" else _document_head()
    head += _attr_fields(spec["attrs"])
    tail = _plain(("Predefined", "Edm.Boolean"), ("PredefinedDataName", "Edm.String"))
    tables = {t: _table(name, t, attrs) for t, attrs in spec.get("tables", {}).items()}
    return EntitySet(
        name, kind, tuple(head), tuple(tail if kind == "Catalog" else ()), tables, published
    )


class Schema:
    """The entity sets of one profile, looked up by their OData names."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.sets = {name: _entity_set(name, spec) for name, spec in profile["sets"].items()}
        self.tables = {t.set_name: t for s in self.sets.values() for t in s.tables.values()}

    @property
    def name(self) -> str:
        return str(self.profile["name"])

    def published(self, name: str) -> EntitySet | None:
        found = self.sets.get(name)
        return found if found is not None and found.published else None

    def published_table(self, name: str) -> Table | None:
        table = self.tables.get(name)
        return table if table is not None and self.sets[table.owner].published else None

    def is_published(self, name: str) -> bool:
        return self.published(name) is not None
