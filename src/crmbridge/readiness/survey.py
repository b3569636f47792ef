"""What `crmbridge setup` learns from both systems before it asks or writes anything, and the
plain values it works with: the options the flags give, the deal fields crmbridge needs, what
the survey found. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from crmbridge.clock import SystemClock
from crmbridge.connectors.bitrix24.auth import Webhook
from crmbridge.connectors.bitrix24.connector import Bitrix24Connector
from crmbridge.connectors.bitrix24.kinds import EVENT_KINDS
from crmbridge.connectors.bitrix24.oauth import OAUTH_SERVER
from crmbridge.connectors.bitrix24.scopes import granted_scopes
from crmbridge.connectors.bitrix24.settings import Bitrix24System
from crmbridge.connectors.bitrix24.system import bitrix24_connector
from crmbridge.connectors.bitrix24.tokens import NotInstalled
from crmbridge.connectors.onec import publication, wiring
from crmbridge.connectors.onec.metadata import parse as parse_metadata
from crmbridge.connectors.onec.profile import PROFILES
from crmbridge.connectors.onec.query import Query
from crmbridge.connectors.onec.system import ODATA_ROOT
from crmbridge.errors import ConfigError, CrmbridgeError
from crmbridge.flows.jobs import EVENT_JOBS
from crmbridge.readiness.ask import Asker
from crmbridge.readiness.crm import b24_answer
from crmbridge.readiness.findings import bas_answer, transport
from crmbridge.store.database import Database, open_database, parse_url
from crmbridge.store.migrate import current_revision


@dataclass(frozen=True)
class DealField:
    """A deal field crmbridge writes. `name` is the FIELD_NAME asked for: the portal prefixes it
    with UF_CRM_ and allows 20 characters in all (`crm-deal-userfield-add.md`)."""

    role: str
    name: str
    type: str
    label: str
    multiple: bool = False

    @property
    def full_name(self) -> str:
        return f"UF_CRM_{self.name}"


DEAL_FIELDS = (
    DealField("number", "INV_NUMBER", "string", "Рахунок BAS №"),
    DealField("status", "PAY_STATUS", "string", "Оплата рахунку BAS"),
    DealField("pdf", "INVOICE_PDF", "file", "Рахунок BAS (PDF)", multiple=True),
)
HOOK = "/hooks/bitrix24"  # where crmbridge serve takes the portal's events
# The events the flows follow (deals and companies), for the outgoing-webhook form.
EVENTS = sorted(e for e, kind in EVENT_KINDS.items() if kind in EVENT_JOBS and "DELETE" not in e)


@dataclass
class Options:
    """What the flags say. The portal is reached through `webhook_url`, or as the local
    application `client_id` of `portal` (`auth: oauth`), whose tokens the install route keeps
    in `database`."""

    webhook_url: str | None
    odata_url: str
    bas_user: str
    bas_password: str = field(repr=False)
    config: Path
    public_url: str | None = None
    application_token: str | None = None
    invoice_stage: str | None = None
    paid_stage: str | None = None
    organisation: str | None = None
    price_type: str | None = None
    database: str = "sqlite:///crmbridge.db"
    portal: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    oauth_server: str = OAUTH_SERVER

    def crm(self) -> Bitrix24System:
        """The config's `systems.crm` these options describe (pydantic checks the pair)."""
        if self.webhook_url is not None:
            hook, token = SecretStr(self.webhook_url), SecretStr("-")  # the token is not used
            return Bitrix24System(webhook_url=hook, application_token=token)
        try:
            return Bitrix24System(
                auth="oauth",
                portal=self.portal,
                client_id=self.client_id,
                client_secret=SecretStr(self.client_secret) if self.client_secret else None,
                oauth_server=self.oauth_server,
            )
        except ValidationError:
            raise ConfigError(
                "give --webhook-url, or the local application's --portal, --client-id and "
                "--client-secret"
            ) from None


@dataclass
class Survey:
    crm: Bitrix24Connector | None  # None: the application is not installed yet
    funnels: dict[int, str]  # id → name
    existing: dict[str, str]  # FIELD_NAME (UF_CRM_…) → USER_TYPE_ID of the deal fields
    profile: str
    unpublished: list[str]
    organisations: list[tuple[str, str]]  # (code, label)
    price_types: list[str]


def check_addresses(options: Options) -> None:
    if options.webhook_url is not None:
        Webhook(options.webhook_url)  # ConfigError with the expected shape, never the code
    options.crm()
    if not options.odata_url.rstrip("/").endswith(ODATA_ROOT.rstrip("/")):
        raise ConfigError(
            f"--odata-url {options.odata_url!r} must be the publication's OData root, ending "
            f"with {ODATA_ROOT}"
        )


def survey(options: Options, client: httpx.Client, asker: Asker) -> Survey:
    bas = _survey_bas(options, client, asker)
    system = options.crm()
    where = system.portal or Webhook(options.webhook_url or "").portal
    tried = (
        f"the method scope at {Webhook(options.webhook_url)!r}"
        if options.webhook_url
        else f"the method scope at {where} as the application {system.client_id}"
    )
    try:
        db = None if options.webhook_url else _tokens_db(options.database)
        crm = bitrix24_connector(system, client, db=db, clock=SystemClock(), recorder=None)
        scopes = granted_scopes(crm.rest)
    except NotInstalled:
        asker.say(f"Bitrix24 {where}: the application {system.client_id} is not installed yet")
        return Survey(None, {}, {}, *bas)
    except CrmbridgeError as exc:
        host = where.split("://", 1)[-1]
        finding = transport("bitrix24", tried, exc, host) or b24_answer(tried, exc)
        raise ConfigError(str(finding)) from None
    asker.say(f"Bitrix24 {where}: scopes {', '.join(sorted(scopes))}")
    categories = crm.rest.result("crm.category.list", {"entityTypeId": 2}) or {}
    funnels = {int(c["id"]): str(c["name"]) for c in categories.get("categories", [])}
    fields = crm.rest.result("crm.deal.userfield.list", {"filter": {}}) or []
    existing = {str(f["FIELD_NAME"]): str(f["USER_TYPE_ID"]) for f in fields}
    return Survey(crm, funnels, existing, *bas)


def _tokens_db(url: str) -> Database:
    """The database the install route keeps the application's tokens in; NotInstalled while
    it does not exist (nothing was installed into it yet)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        raise NotInstalled()
    db = open_database(url)
    if current_revision(db) is None:
        raise NotInstalled()
    return db


def _survey_bas(
    options: Options, client: httpx.Client, asker: Asker
) -> tuple[str, list[str], list[tuple[str, str]], list[str]]:
    settings = wiring.BasSettings(options.odata_url, options.bas_user, options.bas_password)
    odata = wiring.odata_client(settings, client, recorder=None, clock=SystemClock())
    tried = f"GET {odata.base}$metadata as «{options.bas_user}»"
    try:
        metadata = parse_metadata(odata.metadata())
    except CrmbridgeError as exc:
        host = odata.base.split("://", 1)[-1].split("/", 1)[0]
        finding = transport("bas", tried, exc, host) or bas_answer(tried, exc, options.bas_user)
        raise ConfigError(str(finding)) from None
    fits = [name for name, p in PROFILES.items() if not p.check(metadata)]
    profile = fits[0] if fits else "bas-buh"
    unpublished = publication.unpublished(metadata, publication.needed(publication.FLOW_SETS))
    asker.say(f"BAS {odata.root}: profile {profile if fits else '(none fits)'}")
    organisations = [
        (str(o.get("КодПоЕДРПОУ") or o.get("ИНН") or ""), str(o.get("Description") or ""))
        for o in _records(odata, publication.ORGANISATIONS, unpublished)
    ]
    prices = [str(t["Description"]) for t in _records(odata, publication.PRICE_TYPES, unpublished)]
    return profile, unpublished, organisations, prices


def _records(odata: Any, entity_set: str, unpublished: list[str]) -> list[dict[str, Any]]:
    if entity_set in unpublished:
        return []
    found = odata.find(entity_set, Query(orderby=("Ref_Key",)))
    return [r for r in found if not r.get("DeletionMark")]
