"""The `/odata/standard.odata/` interface: one decoded request in, one reply out.

Free of the web framework so that it can be exercised directly; `app.py` adapts it to ASGI and
adds what the web server and the platform do before OData sees a request (auth, maintenance).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from crmbridge.sandbox.bas import atom, metadata
from crmbridge.sandbox.bas.errors import ODataError, json_error, unknown_set, xml_error
from crmbridge.sandbox.bas.filterparse import Lit
from crmbridge.sandbox.bas.query import Options, matches, order, page, parse_options
from crmbridge.sandbox.bas.registers import virtual_table
from crmbridge.sandbox.bas.resource import Resource, parse
from crmbridge.sandbox.bas.schema import EntitySet, Schema, Table
from crmbridge.sandbox.bas.store import Row, Store
from crmbridge.sandbox.bas.values import to_wire
from crmbridge.sandbox.bas.wire import Owner, Wire

JSON = "application/json;charset=utf-8"
TEXT = "text/plain;charset=utf-8"
XML = "application/xml;charset=utf-8"


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, relative to .../standard.odata/
    params: dict[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    base: str  # absolute URL of .../standard.odata/

    @property
    def wants_json(self) -> bool:
        return wants_json(self.method, self.params, self.headers)


def wants_json(method: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    """JSON by `$format` or `Accept`; atom otherwise (the 1C default, reference §1.5).

    A write whose body is JSON is also answered in JSON (an assumption: unverified on a server).
    """
    fmt = params.get("$format", "")
    if fmt:
        return "json" in fmt
    if "application/json" in headers.get("accept", ""):
        return True
    return method != "GET" and "json" in headers.get("content-type", "")


@dataclass
class Reply:
    status: int
    body: str | bytes = ""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def _dumps(data: Any) -> str:
    # One property per line, no indentation: the layout of raw 1C JSON in recorded answers.
    return json.dumps(data, ensure_ascii=False, indent=0)


class ODataService:
    def __init__(self, schema: Schema, store: Store, now: Callable[[], datetime]) -> None:
        self.schema = schema
        self.store = store
        self.wire = Wire(schema, store)
        self._now = now
        self._listings: dict[tuple[str, str, str], tuple[int, list[Row]]] = {}

    def _updated(self) -> str:
        return self._now().strftime("%Y-%m-%dT%H:%M:%S")

    def handle(self, request: Request) -> Reply:
        try:
            return self._dispatch(request)
        except ODataError as error:
            if request.wants_json:
                return Reply(error.status, json_error(error, self.schema.profile["lang"]))
            return Reply(error.status, xml_error(error), XML)

    def _dispatch(self, request: Request) -> Reply:
        path = request.path.strip("/")
        if path == "":
            return self._service_document(request)
        if path == "$metadata":
            return Reply(200, metadata.render(self.schema), XML)
        resource = parse(path)
        table = self.schema.published_table(resource.set_name)
        if table is not None:
            return self._table(request, resource, table)
        entity = self.schema.published(resource.set_name)
        if entity is None:
            raise unknown_set(resource.set_name)
        if entity.kind == "InformationRegister":
            return self._register(request, resource, entity)
        if resource.has_key:
            return self._single(request, resource, entity)
        return self._collection(request, resource, entity)

    # reading ----------------------------------------------------------------------------
    def _service_document(self, request: Request) -> Reply:
        names = [s.name for s in self.schema.sets.values() if s.published]
        names += [
            t.set_name for t in self.schema.tables.values() if self.schema.is_published(t.owner)
        ]
        if not request.wants_json:
            return Reply(200, atom.service(request.base, names), "application/xml;charset=utf-8")
        value = [{"name": n, "url": n} for n in names]
        return Reply(200, _dumps({"odata.metadata": f"{request.base}$metadata", "value": value}))

    def _select(
        self, owner: Owner, rows: list[Row], options: Options, *, stored: bool = True
    ) -> list[Row]:
        """Filter and order `rows`; `stored` says they are the owner's stored rows (not a
        virtual table's), so the result can be cached until the store changes."""

        def resolve(row: Row, path: tuple[str, ...]) -> Any:
            return self.wire.typed(owner, row, path)

        def sort(row: Row, path: tuple[str, ...]) -> Any:
            return self.wire.sort_value(owner, row, path)

        with self.store.locked():
            # A client pages through one listing with $skip: filtering and sorting the whole
            # set again for every page made a 10,000-product read quadratic.
            key = (
                owner.name if isinstance(owner, EntitySet) else owner.set_name,
                repr(options.filter),
                repr(options.orderby),
            )
            cached = self._listings.get(key) if stored else None
            if cached is not None and cached[0] == self.store.changes:
                return cached[1]
            found = [row for row in rows if matches(options.filter, row, resolve)]
            order(found, options.orderby, sort)
            if stored:
                if len(self._listings) >= 16:
                    self._listings.clear()
                self._listings[key] = (self.store.changes, found)
        return found

    def _listing(
        self,
        request: Request,
        owner: Owner,
        rows: list[Row],
        options: Options,
        *,
        stored: bool = True,
    ) -> Reply:
        name = owner.name if isinstance(owner, EntitySet) else owner.set_name
        found = self._select(owner, rows, options, stored=stored)
        body: dict[str, Any] = {}
        if options.metadata != "nometadata":
            body["odata.metadata"] = f"{request.base}$metadata#{name}"
        if options.inlinecount:
            body["odata.count"] = str(len(found))  # Edm.Int64, so a string
        shown = page(found, options, bool(self.schema.profile["inlinecount_ignores_paging"]))
        entities = [self.wire.entity(owner, row, options) for row in shown]
        if not request.wants_json:
            count = len(found) if options.inlinecount else None
            text = atom.feed(request.base, name, entities, self._updated(), count)
            return Reply(200, text, atom.FEED_TYPE)
        return Reply(200, _dumps(body | {"value": entities}))

    def _collection(self, request: Request, resource: Resource, entity: EntitySet) -> Reply:
        if request.method == "POST" and not resource.rest:
            return self._create(request, entity)
        _only(request, "GET")
        options = parse_options(request.params)
        rows = self.store.rows(entity.name)
        if [s.name for s in resource.rest] == ["$count"]:
            return Reply(
                200, str(len(self._select(entity, rows, options))), "text/plain;charset=utf-8"
            )
        if resource.rest:
            raise ODataError(400, "6", f"Неверный адрес ресурса: {request.path}")
        return self._listing(request, entity, rows, options)

    def _table(self, request: Request, resource: Resource, table: Table) -> Reply:
        if request.method == "POST":
            raise ODataError(400, "13", "Создание строк табличной части напрямую не поддерживается")
        _only(request, "GET")
        rows = self.store.table_rows(table)
        if resource.has_key:
            ref, line = resource.named_key.get("Ref_Key"), resource.named_key.get("LineNumber")
            if ref is None or line is None:
                raise ODataError(400, "7", "Не задан элемент ключа Ref_Key или LineNumber")
            rows = [r for r in rows if r["Ref_Key"] == ref.value and r["LineNumber"] == line.value]
            if not rows:
                raise ODataError(
                    404,
                    "9",
                    f'Экземпляр сущности "{table.set_name}" не найден по переданному ключу.',
                )
            return self._one(request, table, rows[0])
        return self._listing(request, table, rows, parse_options(request.params))

    def _register(self, request: Request, resource: Resource, entity: EntitySet) -> Reply:
        _only(request, "GET")
        options = parse_options(request.params)
        rows = self.store.rows(entity.name)
        if resource.has_key:  # one record: (Period=datetime'…', Номенклатура_Key=guid'…', …)
            keys = {"Period", *entity.dimensions}
            if set(resource.named_key) != keys:
                raise ODataError(400, "7", f"Ключ записи регистра: {', '.join(sorted(keys))}")
            found = [r for r in rows if all(r[k] == v.value for k, v in resource.named_key.items())]
            if not found:
                raise ODataError(404, "9", f'Запись регистра "{entity.name}" не найдена по ключу.')
            return self._one(request, entity, found[0])
        if resource.rest:
            rows = virtual_table(self.wire, entity, rows, resource.rest, request.params)
            options.orderby = []  # 1C silently ignores $orderby on virtual tables
            return self._listing(request, entity, rows, options, stored=False)
        return self._listing(request, entity, rows, options)

    def _one(self, request: Request, owner: Owner, row: Row) -> Reply:
        options = parse_options(request.params)
        if options.expand:
            raise ODataError(400, "0", "$expand не поддерживается при получении одной сущности")
        name = owner.name if isinstance(owner, EntitySet) else owner.set_name
        entity = self.wire.entity(owner, row, options)
        if not request.wants_json:
            text = atom.entry(request.base, name, entity, self._updated())
            return Reply(200, text, atom.ENTRY_TYPE)
        body: dict[str, Any] = {}
        if options.metadata != "nometadata":
            body["odata.metadata"] = f"{request.base}$metadata#{name}/@Element"
        return Reply(200, _dumps(body | entity))

    def _single(self, request: Request, resource: Resource, entity: EntitySet) -> Reply:
        ref = _ref(resource)
        if resource.rest:
            return self._member(request, resource, entity, ref)
        if request.method == "GET":
            return self._one(request, entity, self.store.get(entity.name, ref))
        if request.method in ("PATCH", "MERGE", "PUT"):
            updated = self.store.update(
                entity.name, ref, _body(request), request.headers.get("if-match")
            )
            return self._one(request, entity, updated)
        if request.method == "DELETE":
            self.store.delete(entity.name, ref, request.headers.get("if-match"))
            return Reply(204)
        raise _method_not_allowed(request)

    def _member(self, request: Request, resource: Resource, entity: EntitySet, ref: str) -> Reply:
        name = resource.rest[0].name
        if entity.kind == "Document" and name in ("Post", "Unpost"):
            _only(request, "POST")
            self.store.set_posted(entity.name, ref, name == "Post")
            return Reply(200)
        _only(request, "GET")
        obj = self.store.get(entity.name, ref)
        nav = entity.field(f"{name}_Key")
        if nav is not None and nav.target and self.schema.is_published(nav.target):
            target = self.schema.sets[nav.target]
            return self._one(request, target, self.store.get(nav.target, obj[nav.name]))
        prop = entity.field(name)
        if prop is None:
            raise ODataError(400, "10", f"Не найдено свойство '{name}' у '{entity.name}'")
        value = to_wire(prop, obj[name])
        if not request.wants_json:
            xml = f'<?xml version="1.0" encoding="UTF-8"?>{atom.scalar_document(name, value)}'
            return Reply(200, xml, XML)
        body = {"odata.metadata": f"{request.base}$metadata#{prop.edm}"}
        return Reply(200, _dumps(body | {"value": value}))

    # writing ----------------------------------------------------------------------------
    def _create(self, request: Request, entity: EntitySet) -> Reply:
        obj = self.store.create(entity.name, _body(request))
        location = f"{request.base}{quote(entity.name)}(guid'{obj['Ref_Key']}')"
        reply = self._one(request, entity, obj)
        return Reply(201, reply.body, reply.content_type, {"Location": location})


def _ref(resource: Resource) -> str:
    key: Lit | None = resource.key or resource.named_key.get("Ref_Key")
    if key is None or key.kind != "guid":
        raise ODataError(400, "7", "Ключ сущности должен быть задан как guid'…'")
    return str(key.value)


def _body(request: Request) -> dict[str, Any]:
    if request.body.lstrip().startswith(b"<"):
        raise ODataError(
            400, "3", "Тело запроса в формате atom эмулятор не принимает; используйте JSON"
        )
    try:
        body = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ODataError(400, "2", "Неверный формат тела запроса") from exc
    if not isinstance(body, dict):
        raise ODataError(400, "2", "Неверный формат тела запроса")
    return body


def _method_not_allowed(request: Request) -> ODataError:
    return ODataError(405, "19", f"Метод {request.method} не допускается для этого ресурса")


def _only(request: Request, method: str) -> None:
    if request.method != method:
        raise _method_not_allowed(request)
