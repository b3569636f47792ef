"""Store rows to JSON entities (and back to typed values for `$filter`/`$orderby`).

Entity layout copies the recorded BP 3.0 responses (`LARAVEL` `app/Kontragent.php`,
`app/Act.php`): header fields, then tabular sections as arrays whose rows repeat the owner's
`Ref_Key` and carry `LineNumber` as a string, then `Predefined`/`PredefinedDataName` for
catalogs, then one `X@navigationLinkUrl` per *filled* reference (empty references get none).
"""

from __future__ import annotations

from typing import Any

from crmbridge.sandbox.bas.errors import ODataError
from crmbridge.sandbox.bas.query import Options, Typed
from crmbridge.sandbox.bas.schema import EMPTY_REF, EntitySet, Schema, Table
from crmbridge.sandbox.bas.store import Row, Store
from crmbridge.sandbox.bas.values import to_wire

_KINDS = {
    "Edm.Guid": "guid",
    "Edm.DateTime": "datetime",
    "Edm.Double": "number",
    "Edm.Int64": "number",
    "Edm.Boolean": "bool",
    "Edm.String": "string",
}
Owner = EntitySet | Table


class Wire:
    def __init__(self, schema: Schema, store: Store) -> None:
        self.schema = schema
        self.store = store

    # typed values -----------------------------------------------------------------------
    def typed(self, owner: Owner, row: Row | None, path: tuple[str, ...]) -> Typed:
        if row is None:
            return None, "null"
        name = path[0]
        f = owner.field(name)
        if f is not None and len(path) == 1:
            if f.role == "composite":
                return (row[name], row[f"{name}_Type"]), "composite"
            return row[name], _KINDS.get(f.edm, "string")
        nav = owner.field(f"{name}_Key")
        if nav is not None and nav.target and len(path) > 1:
            target = self.schema.sets[nav.target]
            return self.typed(target, self.store.find(nav.target, row[nav.name]), path[1:])
        raise ODataError(400, "10", f"Не найдено свойство '{'/'.join(path)}' у '{_name(owner)}'")

    def sort_value(self, owner: Owner, row: Row, path: tuple[str, ...]) -> Typed:
        """Ordering by a reference orders by the referenced object's presentation, as 1C does."""
        value = self.typed(owner, row, path)
        f = owner.field(path[-1]) if len(path) == 1 else None
        if value[1] == "guid" and f is not None:
            target: str | None = f.target
            if f.name == "Ref_Key":  # a tabular row's Ref_Key is its document
                target = owner.name if isinstance(owner, EntitySet) else owner.owner
            return self.presentation(target, value[0]), "string"
        return value

    def presentation(self, set_name: str | None, ref: str) -> str:
        obj = self.store.find(set_name, ref) if set_name else None
        if obj is None:
            return ""
        if "Number" in obj:
            return f"{obj['Date']} {obj['Number']}"
        return str(obj.get("Description", ""))

    # entities ---------------------------------------------------------------------------
    def entity(self, owner: Owner, row: Row, options: Options) -> dict[str, Any]:
        chosen = _chooser(options.select)
        out: dict[str, Any] = {}
        if options.metadata == "fullmetadata":
            out["odata.type"] = f"StandardODATA.{_name(owner)}"
        head = owner.head if isinstance(owner, EntitySet) else owner.fields
        out |= {f.name: to_wire(f, row[f.name]) for f in head if chosen(f.name, False)}
        if isinstance(owner, EntitySet):
            for table in owner.tables.values():
                if chosen(table.name, True):
                    columns = _columns(options.select, table.name)
                    out[table.name] = [_row(table, r, columns) for r in row[table.name]]
            out |= {f.name: to_wire(f, row[f.name]) for f in owner.tail if chosen(f.name, False)}
            out |= self._expanded(owner, row, options.expand)
            if options.metadata != "nometadata" and owner.kind != "InformationRegister":
                out |= self._links(owner, row, chosen)
        return out

    def _links(self, owner: EntitySet, row: Row, chosen: Any) -> dict[str, str]:
        links = {}
        for f in owner.refs:
            published = f.target is not None and self.schema.is_published(f.target)
            if published and row[f.name] != EMPTY_REF and chosen(f.name, False):
                url = f"{owner.name}(guid'{row['Ref_Key']}')/{f.attr}"
                links[f"{f.attr}@navigationLinkUrl"] = url
        return links

    def _expanded(self, owner: EntitySet, row: Row, names: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in names:
            f = owner.field(f"{name}_Key")
            if f is None or f.target is None or not self.schema.is_published(f.target):
                raise ODataError(400, "10", f"Не найдено навигационное свойство '{name}'")
            target = self.store.find(f.target, row[f.name])
            plain = Options(metadata="nometadata")
            out[name] = (
                None if target is None else self.entity(self.schema.sets[f.target], target, plain)
            )
        return out


def _columns(select: list[str] | None, table: str) -> set[str] | None:
    """`$select=Товары/Сумма` keeps only that column of the rows; `Товары` keeps them all."""
    if select is None or table in select or "*" in select:
        return None
    return {s.split("/", 1)[1] for s in select if s.startswith(f"{table}/")}


def _row(table: Table, row: Row, columns: set[str] | None = None) -> dict[str, Any]:
    fields = [f for f in table.fields if columns is None or f.name in columns]
    return {f.name: to_wire(f, row[f.name]) for f in fields}


def _name(owner: Owner) -> str:
    return owner.name if isinstance(owner, EntitySet) else owner.set_name


def _chooser(select: list[str] | None) -> Any:
    def chosen(name: str, is_table: bool) -> bool:
        if select is None or "*" in select:
            return True
        if "**" in select and not is_table:
            return True
        return name in select or any(s.startswith(f"{name}/") for s in select)

    return chosen
