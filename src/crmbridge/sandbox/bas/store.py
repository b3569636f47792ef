"""The infobase in memory: objects by set, register records, numbering and `DataVersion`.

Writes follow the platform (reference §1.8–1.9): unknown properties are ignored, a tabular
section sent is replaced whole, `Posted` is changed only by posting, every write bumps the
object's `DataVersion` (even an identical rewrite), `If-Match` against a stale version is 412.
"""

from __future__ import annotations

import base64
import re
import struct
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from crmbridge.sandbox.bas.errors import INTERNAL_ERROR, ODataError, not_found
from crmbridge.sandbox.bas.schema import EMPTY_REF, EntitySet, Schema, Table
from crmbridge.sandbox.bas.values import coerce, default

Row = dict[str, Any]
# Written only by the server: the client's values for these are ignored.
_SERVER_OWNED = {"DataVersion", "Posted", "Predefined", "PredefinedDataName"}
_CODE = re.compile(r"^(.*?)(\d+)$")


def data_version(counter: int) -> str:
    """Opaque 8-byte base64 like real servers send (`AAAACgAAAAA=` is the 10th write)."""
    return base64.b64encode(struct.pack(">II", counter, 0)).decode()


def next_code(codes: list[str], default_code: str) -> str:
    best: tuple[int, str, int] | None = None
    for code in codes:
        parsed = _parse_code(code)
        if parsed is not None and (best is None or parsed[0] > best[0]):
            best = parsed
    if best is None:
        return default_code
    return f"{best[1]}{best[0] + 1:0{best[2]}d}"


@lru_cache(maxsize=100_000)  # every create numbers itself against all its siblings' codes
def _parse_code(code: str) -> tuple[int, str, int] | None:
    """(number, prefix, digits) of a code or number such as `00-000012`, or None."""
    found = _CODE.match(code)
    return None if found is None else (int(found.group(2)), found.group(1), len(found.group(2)))


def etag_value(header: str) -> str:
    value = header.strip()
    value = value.removeprefix("W/")
    return value.strip('"')


class Store:
    def __init__(self, schema: Schema, now: Callable[[], datetime]) -> None:
        self.schema = schema
        self._now = now
        self._lock = threading.RLock()
        self.version = 0
        # Counts every change (deletes and register records too, which keep no DataVersion):
        # the OData side caches sorted listings until it moves.
        self.changes = 0
        self.objects: dict[str, dict[str, Row]] = {}
        self.records: dict[str, list[Row]] = {}
        for name, entity in schema.sets.items():
            if entity.kind == "InformationRegister":
                self.records[name] = []
            else:
                self.objects[name] = {}

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    # reading ----------------------------------------------------------------------------
    def get(self, set_name: str, ref: str) -> Row:
        found = self.find(set_name, ref)
        if found is None:
            raise not_found(set_name)
        return found

    def find(self, set_name: str, ref: str) -> Row | None:
        with self._lock:
            return self.objects.get(set_name, {}).get(ref)

    def rows(self, set_name: str) -> list[Row]:
        with self._lock:  # helpers run in other threads than the server's
            if set_name in self.records:
                return list(self.records[set_name])
            return list(self.objects[set_name].values())

    def table_rows(self, table: Table) -> list[Row]:
        with self._lock:
            return [row for obj in self.objects[table.owner].values() for row in obj[table.name]]

    # writing ----------------------------------------------------------------------------
    def _bump(self, obj: Row) -> None:
        self.changes += 1
        self.version += 1
        obj["DataVersion"] = data_version(self.version)

    def _blank(self, entity: EntitySet, ref: str) -> Row:
        obj: Row = {f.name: default(f) for f in entity.fields}
        obj["Ref_Key"] = ref
        for table in entity.tables.values():
            obj[table.name] = []
        return obj

    def _rows(self, table: Table, ref: str, rows: Any) -> list[Row]:
        if not isinstance(rows, list):
            raise ODataError(400, "4", f"Неверное значение свойства '{table.name}'")
        result = []
        for sent in rows:
            if not isinstance(sent, dict) or "LineNumber" not in sent:
                raise ODataError(500, "-1", INTERNAL_ERROR)  # a row without LineNumber
            row = {f.name: coerce(f, sent.get(f.name)) for f in table.fields}
            row["Ref_Key"] = ref
            result.append(row)
        return result

    def _apply(self, entity: EntitySet, obj: Row, body: dict[str, Any]) -> None:
        for name, value in body.items():
            field = entity.field(name)
            if name in entity.tables:
                obj[name] = self._rows(entity.tables[name], obj["Ref_Key"], value)
            elif field is not None and name not in _SERVER_OWNED and name != "Ref_Key":
                obj[name] = coerce(field, value)
            # anything else (typos, annotations, navigation links) is ignored, as 1C does
        if obj.get("DeletionMark") and obj.get("Posted"):
            obj["Posted"] = False  # marking a posted document for deletion unposts it

    def _number(self, entity: EntitySet, obj: Row) -> None:
        siblings = [o for o in self.objects[entity.name].values() if o is not obj]
        if entity.kind == "Document":
            if not obj["Number"]:
                prefix = str(self.schema.profile["number_prefix"])
                codes = [o["Number"] for o in siblings if o["Number"].startswith(prefix)]
                obj["Number"] = next_code(codes, f"{prefix}000001")
            if obj["Date"] == default(entity.field("Date")):  # type: ignore[arg-type]
                obj["Date"] = self._now().strftime("%Y-%m-%dT%H:%M:%S")
        elif not obj["Code"]:
            obj["Code"] = next_code([o["Code"] for o in siblings], "000000001")

    def create(self, set_name: str, body: dict[str, Any]) -> Row:
        entity = self.schema.sets[set_name]
        ref = coerce(entity.fields[0], body.get("Ref_Key")) if body.get("Ref_Key") else ""
        ref = ref if ref and ref != EMPTY_REF else str(uuid.uuid4())
        with self._lock:
            if ref in self.objects[set_name]:
                raise ODataError(400, "15", f"Объект с ключом {ref} уже существует")
            obj = self._blank(entity, ref)
            self._apply(entity, obj, body)
            self._number(entity, obj)
            self._bump(obj)
            self.objects[set_name][ref] = obj
            return obj

    def _check_version(self, obj: Row, if_match: str | None) -> None:
        if if_match is not None and etag_value(if_match) not in ("*", obj["DataVersion"]):
            raise ODataError(412, "-1", "Версия объекта не совпадает с версией в базе данных")

    def update(self, set_name: str, ref: str, body: dict[str, Any], if_match: str | None) -> Row:
        entity = self.schema.sets[set_name]
        with self._lock:
            obj = self.get(set_name, ref)
            self._check_version(obj, if_match)
            self._apply(entity, obj, body)
            self._number(entity, obj)
            self._bump(obj)
            return obj

    def delete(self, set_name: str, ref: str, if_match: str | None) -> None:
        with self._lock:
            obj = self.get(set_name, ref)
            self._check_version(obj, if_match)
            del self.objects[set_name][ref]
            self.changes += 1

    def set_posted(self, set_name: str, ref: str, posted: bool) -> Row:
        with self._lock:
            obj = self.get(set_name, ref)
            if posted:
                self._check_posting(obj)
            obj["Posted"] = posted
            self._bump(obj)
            return obj

    def _check_posting(self, obj: Row) -> None:
        if obj["DeletionMark"]:
            raise ODataError(500, "-1", "Помеченный на удаление документ не может быть проведен!")
        for attr in ("Организация", "Контрагент"):
            if obj.get(f"{attr}_Key", EMPTY_REF) == EMPTY_REF:
                raise ODataError(500, "-1", f'Поле "{attr}" не заполнено')

    def add_record(self, register: str, values: dict[str, Any]) -> Row:
        entity = self.schema.sets[register]
        record = {f.name: coerce(f, values.get(f.name)) for f in entity.fields}
        with self._lock:
            self.records[register].append(record)
            self.changes += 1
        return record

    def put_object(self, set_name: str, values: dict[str, Any]) -> Row:
        """Load an object as it is (seeding, restore): server-owned fields are taken as given."""
        entity = self.schema.sets[set_name]
        obj = self._blank(entity, str(values["Ref_Key"]))
        for f in entity.fields:
            if f.name in values:
                obj[f.name] = coerce(f, values[f.name])
        for table in entity.tables.values():
            obj[table.name] = self._rows(table, obj["Ref_Key"], values.get(table.name, []))
        if "DataVersion" not in values:
            self._bump(obj)
        self.objects[set_name][obj["Ref_Key"]] = obj
        return obj

    # state ------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "profile": self.schema.name,
                "version": self.version,
                "objects": {
                    n: [_plain(o) for o in objs.values()] for n, objs in self.objects.items()
                },
                "records": {n: [_plain(r) for r in recs] for n, recs in self.records.items()},
            }

    def restore(self, data: dict[str, Any]) -> None:
        if data.get("profile") != self.schema.name:
            raise ValueError(
                f"snapshot of profile {data.get('profile')!r}, not {self.schema.name!r}"
            )
        with self._lock:
            self.changes += 1
            for name in self.objects:
                self.objects[name] = {}
            for name in self.records:
                self.records[name] = []
            for name, objs in data["objects"].items():
                for obj in objs:
                    self.put_object(name, obj)
            for name, recs in data["records"].items():
                for rec in recs:
                    self.add_record(name, rec)
            self.version = int(data["version"])


def _plain(value: Any) -> Any:
    """JSON-safe copy: Decimals become strings (restore converts them back by field type)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Decimal) else value
