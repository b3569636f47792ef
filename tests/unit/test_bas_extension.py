"""The BAS extension in extensions/bas, checked against what crmbridge does and verifies.

No 1C platform runs here, so nothing below executes BSL. What is checked: the dump is
well-formed and consistent (every object listed once, every handler an exported procedure of
the module it names), the HTTP service answers the path the connector requests, the event
subscription covers exactly the receipts crmbridge polls, the JSON body the BSL builds is the
one crmbridge reads, the signing scheme in the BSL is Standard Webhooks', and the test vectors
the BSL recomputes in 1C (GET …/hs/crm/selftest) are accepted by crmbridge's own verifier.
"""

from __future__ import annotations

import ast
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmbridge.clock import FakeClock
from crmbridge.connectors.onec import metadata, webhooks
from crmbridge.connectors.onec.auth import Utf8BasicAuth
from crmbridge.connectors.onec.client import ODataClient
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.connectors.onec.profile import PROFILES, RECEIPTS

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extensions" / "bas"
SRC = EXTENSION / "src"
RECORDED = ROOT / "tests" / "fixtures" / "recorded" / "bas"
MD = "{http://v8.1c.ru/8.3/MDClasses}"
V8 = "{http://v8.1c.ru/8.1/data/core}"
# Configuration.xml child tag -> the folder of its descriptors (Designer's dump layout).
FOLDERS = {
    "Language": "Languages",
    "Role": "Roles",
    "CommonModule": "CommonModules",
    "HTTPService": "HTTPServices",
    "EventSubscription": "EventSubscriptions",
    "ScheduledJob": "ScheduledJobs",
    "Constant": "Constants",
    "Document": "Documents",
    "InformationRegister": "InformationRegisters",
}


def descriptor(tag: str, name: str) -> ET.Element:
    """The object element (<HTTPService>, <CommonModule>, …) of a descriptor file."""
    found = ET.parse(SRC / FOLDERS[tag] / f"{name}.xml").getroot().find(MD + tag)
    assert found is not None, f"{FOLDERS[tag]}/{name}.xml has no <{tag}>"
    return found


def prop(element: ET.Element, name: str) -> str:
    return (element.findtext(f"{MD}Properties/{MD}{name}") or "").strip()


def bsl(*parts: str) -> str:
    return (SRC.joinpath(*parts)).read_text(encoding="utf-8-sig")


def module(name: str) -> str:
    return bsl("CommonModules", name, "Ext", "Module.bsl")


def exported(text: str) -> set[str]:
    """Names of the exported procedures and functions of a BSL module."""
    pattern = r"^(?:Процедура|Функция)\s+(\w+)\s*\([^)]*\)\s*Экспорт"
    return set(re.findall(pattern, text, flags=re.MULTILINE))


def declared(text: str) -> set[str]:
    return set(re.findall(r"^(?:Процедура|Функция)\s+(\w+)\s*\(", text, flags=re.MULTILINE))


def body_of(text: str, function: str) -> str:
    start = re.search(rf"^Функция\s+{function}\s*\(", text, flags=re.MULTILINE)
    assert start is not None, f"no function {function}"
    end = text.index("КонецФункции", start.end())
    return text[start.start() : end]


def bsl_string(literal: str) -> str:
    """A BSL string literal's value: doubled quotes stand for one."""
    return literal.replace('""', '"')


def children() -> list[tuple[str, str]]:
    config = ET.parse(SRC / "Configuration.xml").getroot().find(MD + "Configuration")
    assert config is not None
    objects = config.find(MD + "ChildObjects")
    assert objects is not None
    return [(child.tag.removeprefix(MD), (child.text or "").strip()) for child in objects]


@pytest.mark.parametrize(
    "path", sorted(EXTENSION.rglob("*.xml")), ids=lambda p: str(p.relative_to(EXTENSION))
)
def test_every_xml_file_parses(path: Path) -> None:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf<?xml")  # the Designer's dumps carry a BOM
    ET.parse(path)


def test_the_configuration_lists_exactly_the_shipped_objects() -> None:
    listed = children()
    assert len(listed) == len(set(listed)), "an object is listed twice"
    shipped = {
        (tag, path.stem) for tag, folder in FOLDERS.items() for path in (SRC / folder).glob("*.xml")
    }
    assert set(listed) == shipped
    for tag, name in listed:
        assert prop(descriptor(tag, name), "Name") == name


def test_own_objects_carry_the_prefix_and_adopted_ones_are_marked() -> None:
    config = ET.parse(SRC / "Configuration.xml").getroot().find(MD + "Configuration")
    assert config is not None
    prefix = prop(config, "NamePrefix")
    assert prefix == "crmb_"
    assert prop(config, "KeepMappingToExtendedConfigurationObjectsByIDs") == "false"
    for tag, name in children():
        adopted = prop(descriptor(tag, name), "ObjectBelonging") == "Adopted"
        assert adopted == (tag in ("Language", "Document")), (tag, name)
        assert adopted or name.startswith(prefix), (tag, name)


def test_every_module_is_shipped_and_every_handler_is_an_exported_procedure() -> None:
    for tag, name in children():
        if tag == "CommonModule":
            assert module(name).strip(), f"CommonModules/{name}/Ext/Module.bsl is empty"
    for tag, field in (("EventSubscription", "Handler"), ("ScheduledJob", "MethodName")):
        for kind, name in children():
            if kind != tag:
                continue
            kind_of, module_name, procedure = prop(descriptor(tag, name), field).split(".")
            assert kind_of == "CommonModule"
            assert ("CommonModule", module_name) in children()
            assert procedure in exported(module(module_name)), f"{tag} {name} -> {procedure}"
    service = descriptor("HTTPService", "crmb_CRM")
    handlers = [h.text for h in service.iter(MD + "Handler")]
    assert handlers and set(handlers) <= declared(
        bsl("HTTPServices", "crmb_CRM", "Ext", "Module.bsl")
    )


def test_calls_between_own_modules_name_exported_procedures() -> None:
    own = {name: module(name) for tag, name in children() if tag == "CommonModule"}
    sources = [*own.values(), bsl("HTTPServices", "crmb_CRM", "Ext", "Module.bsl")]
    for text in sources:
        for module_name, procedure in re.findall(r"\b(crmb_\w+)\.(\w+)\(", text):
            if module_name in own:
                assert procedure in exported(own[module_name]), f"{module_name}.{procedure}"


class ServesPdf:
    """A web server that records what the connector asks for and answers with a PDF."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        self.urls.append(url)
        return httpx.Response(
            200, content=b"%PDF-1.7\n", headers={"Content-Type": "application/pdf"}
        )


def test_the_http_service_answers_the_path_the_connector_requests() -> None:
    server = ServesPdf()
    client = ODataClient(
        server, "https://bas.example/buh/odata/standard.odata/", Utf8BasicAuth("crm", "pw")
    )
    schema = metadata.parse((RECORDED / "datex_metadata_excerpt.xml").read_bytes())
    connector = BasConnector(client, PROFILES["bas-buh"], schema, FakeClock())
    ref = "3f1d7a22-0f5e-4c59-9d57-5a6f8f3c1b11"
    assert connector.invoice_pdf(ref).startswith(b"%PDF")
    [url] = server.urls
    path = url.removeprefix("https://bas.example/buh/")

    service = descriptor("HTTPService", "crmb_CRM")
    root = prop(service, "RootURL")
    matching = []
    for template in service.iter(MD + "URLTemplate"):
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(prop(template, "Template")))
        methods = [m.text for m in template.iter(MD + "HTTPMethod")]
        if re.fullmatch(f"hs/{re.escape(root)}{pattern}", path) and "GET" in methods:
            matching.append(prop(template, "Template"))
    assert matching == ["/invoice/{ref}/pdf"]
    # The handler reads the GUID from the template's parameter of the same name.
    text = bsl("HTTPServices", "crmb_CRM", "Ext", "Module.bsl")
    assert 'ПараметрыURL.Получить("ref")' in text


def source_documents() -> set[str]:
    subscription = descriptor("EventSubscription", "crmb_ОплатаПроведена")
    assert prop(subscription, "Event") == "Posting"  # ОбработкаПроведения
    types = [t.text or "" for t in subscription.iter(V8 + "Type")]
    assert all(t.startswith("cfg:DocumentObject.") for t in types)
    return {t.removeprefix("cfg:DocumentObject.") for t in types}


def test_the_subscription_covers_exactly_the_receipts_crmbridge_polls() -> None:
    polled = {entity_set.removeprefix("Document_") for entity_set in RECEIPTS}
    assert source_documents() == polled
    # The queue keys its rows by those documents, and the extension adopts exactly them.
    queue = descriptor("InformationRegister", "crmb_ОчередьСобытий")
    dimension = queue.find(f"{MD}ChildObjects/{MD}Dimension")
    assert dimension is not None
    keys = {(t.text or "").removeprefix("cfg:DocumentRef.") for t in dimension.iter(V8 + "Type")}
    assert keys == polled
    assert {name for tag, name in children() if tag == "Document"} == polled


def inserted_keys(function_text: str, variable: str) -> list[str]:
    return re.findall(rf'{variable}\.Вставить\("(\w+)"', function_text)


def crmbridge_reads() -> tuple[set[str], set[str]]:
    """The envelope keys and the data keys connectors/onec/webhooks.py reads (from its source)."""
    tree = ast.parse(Path(webhooks.__file__).read_text(encoding="utf-8"))
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    strings = {
        name: {
            node.value
            for node in ast.walk(functions[name])
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        for name in ("_envelope", "parse")
    }
    envelope = {"type", "data"} & strings["_envelope"]
    data = {"entity_set", "Ref_Key", "Number", "Date", "Posted"} & strings["parse"]
    return envelope, data


def test_the_body_the_bsl_builds_is_the_body_crmbridge_reads(clock: FakeClock) -> None:
    text = body_of(module("crmb_Очередь"), "ТелоСобытия")
    envelope, data = inserted_keys(text, "Конверт"), inserted_keys(text, "Данные")
    read_envelope, read_data = crmbridge_reads()
    # "timestamp" is the spec's envelope field; crmbridge documents it and does not need it.
    assert set(envelope) == read_envelope | {"timestamp"}
    assert set(data) == read_data
    assert '"Document_" + ИмяДокумента' in text  # the entity set crmbridge maps to a kind

    # And by behaviour: a body of exactly those keys becomes one payment event, every data key
    # but Ref_Key is kept, and a key the BSL does not build is dropped.
    secret = webhooks.WebhookSecret("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")
    for entity_set in RECEIPTS:
        values: dict[str, Any] = {key: "x" for key in data} | {"Posted": True}
        values |= {"entity_set": entity_set, "Ref_Key": "3f1d7a22-0f5e-4c59-9d57-5a6f8f3c1b11"}
        body = json.dumps(
            {"type": "document.posted", "timestamp": "t", "data": values | {"Сумма": 1}}
        ).encode()
        headers = webhooks.sign(secret, "msg_1", int(clock.now().timestamp()), body)
        [event] = webhooks.parse(secret, body, headers, clock)
        assert (event.entity_kind, event.event_type) == ("payment", "document.posted")
        assert set(event.payload) == set(data) - {"Ref_Key"}


def test_the_bsl_signs_the_way_crmbridge_verifies() -> None:
    signing = module("crmb_Подпись")
    headers = re.findall(r'Результат\.Вставить\("(webhook-[a-z]+)"', signing)
    assert headers == ["webhook-id", "webhook-timestamp", "webhook-signature"]
    verify_source = Path(webhooks.__file__).read_text(encoding="utf-8")
    assert all(f'"{h}"' in verify_source for h in headers)
    signature = body_of(signing, "Подпись")
    # id.timestamp.body as UTF-8 bytes without a BOM, then the body's own bytes.
    assert 'Идентификатор + "." + Метка + "."' in signature
    assert "КодировкаТекста.UTF8, Ложь" in signature
    assert '"v1," + Base64БезПереносов(HMACSHA256(КлючИзСекрета(Секрет)' in signature
    key = body_of(signing, "КлючИзСекрета")
    assert 'СтрНачинаетсяС(Текст, "whsec_")' in key and "Base64Значение(" in key
    hmac = body_of(signing, "HMACSHA256")
    assert "РазмерБлока = 64" in hmac  # SHA-256's block, RFC 2104
    assert "ЗаполненныйБлок(РазмерБлока, 54)" in hmac and "ЗаполненныйБлок(РазмерБлока, 92)" in hmac
    assert "ХешФункция.SHA256" in signing
    # The timestamp is whole Unix seconds with no digit grouping (Формат would insert spaces).
    assert 'Формат(Секунд, "ЧГ=0")' in body_of(signing, "МеткаВремени")
    # The message id is made once, when the row is queued, and read back on every attempt.
    queue = module("crmb_Очередь")
    assert queue.count("Новый УникальныйИдентификатор") == 1
    assert "Сообщение.Идентификатор" in queue


def vectors() -> list[dict[str, str]]:
    found: list[dict[str, str]] = json.loads(
        (EXTENSION / "test-vector.json").read_text(encoding="utf-8")
    )["vectors"]
    return found


@pytest.mark.parametrize("vector", vectors(), ids=lambda v: v["name"])
def test_the_test_vectors_pass_crmbridges_verifier(vector: dict[str, str]) -> None:
    secret = webhooks.WebhookSecret(vector["secret"])
    sent = datetime.fromtimestamp(int(vector["timestamp"]), tz=UTC)
    headers = {
        "webhook-id": vector["id"],
        "webhook-timestamp": vector["timestamp"],
        "webhook-signature": vector["signature"],
    }
    body = vector["body"].encode("utf-8")
    assert webhooks.verify(secret, body, headers, FakeClock(sent)) == vector["id"]
    assert webhooks.sign(secret, vector["id"], int(vector["timestamp"]), body) == headers


def test_the_bsl_self_test_recomputes_the_same_vectors() -> None:
    text = body_of(module("crmb_Подпись"), "ПроверитьТестовыеВекторы")
    literal = r'"((?:[^"]|"")*)"'
    calls = re.findall(r"ДобавитьВектор\(Результат,\s*" + r",\s*".join([literal] * 6), text)
    in_bsl = [
        dict(
            zip(
                ("name", "secret", "id", "timestamp", "body", "signature"),
                map(bsl_string, c),
                strict=True,
            )
        )
        for c in calls
    ]
    in_file = [
        {k: v[k] for k in ("name", "secret", "id", "timestamp", "body", "signature")}
        for v in vectors()
    ]
    assert in_bsl == in_file


def test_the_crmbridge_vector_is_a_body_the_bsl_builds(clock: FakeClock) -> None:
    [vector] = [v for v in vectors() if v["name"] == "crmbridge"]
    body = json.loads(vector["body"])
    text = body_of(module("crmb_Очередь"), "ТелоСобытия")
    assert list(body) == inserted_keys(text, "Конверт")
    assert list(body["data"]) == inserted_keys(text, "Данные")
    assert body["data"]["entity_set"] in RECEIPTS
    assert vector["id"].startswith("msg_")


def test_the_roles_grant_rights_on_shipped_objects_only() -> None:
    listed = set(children())
    service = descriptor("HTTPService", "crmb_CRM")
    templates = {prop(t, "Name") for t in service.iter(MD + "URLTemplate")}
    ns = "{http://v8.1c.ru/8.2/roles}"
    granted: set[str] = set()
    for tag, role in listed:
        if tag != "Role":
            continue
        rights = ET.parse(SRC / "Roles" / role / "Ext" / "Rights.xml").getroot()
        granted |= {o.findtext(ns + "name") or "" for o in rights.iter(ns + "object")}
    for name in granted:
        kind, obj, *rest = name.split(".")
        assert (kind, obj) in listed, name
        if rest:
            assert rest[0] == "URLTemplate" and rest[1] in templates, name
    # The crmbridge user can call both templates of the service.
    assert {f"HTTPService.crmb_CRM.URLTemplate.{t}.Method.GET" for t in templates} <= granted
