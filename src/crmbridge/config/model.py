"""The configuration's shape, validated by pydantic. Secrets are SecretStr: they never print.

A config declares the two systems, who owns what (`ownership`), how records map between the
systems (`mappings`: target field → CEL expression over the source record) and which built-in
flows run with which settings (`flows`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError

Side = Literal["crm", "bas"]
Direction = Literal["crm->bas", "bas->crm"]
Attach = Literal["timeline", "field"]
PdfSource = Literal["render", "bas-extension"]
PaymentState = Literal["unpaid", "partial", "paid"]


def _default_statuses() -> dict[PaymentState, str]:
    return {"unpaid": "Очікує оплати", "partial": "Частково оплачено", "paid": "Оплачено"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SystemSettings(Strict):
    """A system's section of the config (`systems.crm`, `systems.bas`): each system package
    declares its own model (crmbridge.systems), chosen by `type`."""

    type: str


_DEFAULT_TYPES = {"crm": "bitrix24", "bas": "bas"}


def _by_type(side: Literal["crm", "bas"], value: Any) -> Any:
    """The section validated by its system's own model (errors keep the section's path)."""
    if not isinstance(value, dict):
        return value
    from crmbridge import systems

    kind = str(value.get("type") or _DEFAULT_TYPES[side])
    if (side, kind) not in systems.declared():
        raise PydanticCustomError(
            "system_type",
            f"unknown type {kind!r}; known: {', '.join(systems.types(side))}",
        )
    model: type[SystemSettings] = systems.of(side, kind).settings
    return model.model_validate(value)


class Systems(Strict):
    crm: SystemSettings
    bas: SystemSettings

    @field_validator("crm", mode="before")
    @classmethod
    def _crm(cls, value: Any) -> Any:
        return _by_type("crm", value)

    @field_validator("bas", mode="before")
    @classmethod
    def _bas(cls, value: Any) -> Any:
        return _by_type("bas", value)


class Ownership(Strict):
    entities: dict[str, Side]
    fields: dict[str, Side] = Field(default_factory=dict)  # "deal.UF_CRM_INVOICE_NUMBER": bas

    def owner(self, entity: str, field: str) -> Side | None:
        return self.fields.get(f"{entity}.{field}", self.entities.get(entity))


class Mapping(Strict):
    entity: str  # the business entity: client, product, deal, invoice …
    direction: Direction
    fields: dict[str, str]  # field written on the target side → CEL expression
    when: str | None = None  # CEL: map only records for which this is true

    @property
    def source(self) -> Side:
        return "crm" if self.direction == "crm->bas" else "bas"

    @property
    def target(self) -> Side:
        return "bas" if self.direction == "crm->bas" else "crm"


class ClientsFlow(Strict):
    enabled: bool = True
    mapping: str = "client"
    when: str | None = None  # e.g. deal_total > 50000.0: only clients with a big deal
    contract: bool = True  # ensure a main contract for a new counterparty


class CatalogFlow(Strict):
    enabled: bool = True
    mapping: str = "product"
    poll_every: float = Field(default=300.0, gt=0)
    keep_manual_discounts: bool = True  # a deal row with a discount keeps its price


class InvoiceFlow(Strict):
    enabled: bool = True
    invoice_stage: str = "PREPAYMENT_INVOICE"
    mapping: str = "deal_invoice"  # BAS invoice → deal fields (number, status)
    attach: list[Attach] = Field(default_factory=lambda: list[Attach](["timeline"]))
    pdf_field: str = "UF_CRM_INVOICE_PDF"
    # render: crmbridge draws the «Рахунок на оплату» from OData (any BAS); bas-extension: BAS's
    # own print form from the HTTP service of an installed extension (hs/crm/invoice/<ref>/pdf)
    pdf: PdfSource = "render"
    when: str | None = None


class TaskSpec(Strict):
    title: str = "Відвантажити замовлення за рахунком {number}"
    due: Literal["next_working_day", "same_day"] = "next_working_day"


class PaymentsFlow(Strict):
    enabled: bool = True
    poll_every: float = Field(default=60.0, gt=0)
    # The sweep finds receipts entered with an old date (month-end catch-up), which the poll by
    # `Date` has passed: every `sweep_every` seconds, for invoices issued in the last
    # `sweep_days` and not yet paid in full.
    sweep_every: float = Field(default=3600.0, gt=0, description="Seconds between two sweeps.")
    sweep_days: int = Field(default=90, ge=1, description="How old an invoice may be to be swept.")
    paid_stage: str = "UC_PAID"
    statuses: dict[PaymentState, str] = Field(default_factory=_default_statuses)
    task: TaskSpec | None = Field(default_factory=TaskSpec)


ReconcileEntity = Literal["clients", "products", "prices", "invoices"]


class ReconcileFlow(Strict):
    """A scheduled `crmbridge reconcile` (report only): its count goes to the decision log and a
    WARNING when anything differs."""

    enabled: bool = True
    every: float = Field(default=86400.0, gt=0, description="Seconds between two runs.")
    entities: list[ReconcileEntity] = Field(
        default_factory=lambda: list[ReconcileEntity](["clients", "products", "prices", "invoices"])
    )


class CrmPoll(Strict):
    """The safety net under lost webhooks: every `every` seconds, the deals and clients the CRM
    changed since the last poll get the jobs their events would have made."""

    enabled: bool = True
    every: float = Field(default=300.0, gt=0, description="Seconds between two polls.")


class DriftPolicy(Strict):
    policy: Literal["report", "overwrite"] = "report"


class Flows(Strict):
    clients: ClientsFlow | None = None
    catalog: CatalogFlow | None = None
    issue_invoice: InvoiceFlow | None = None
    payments: PaymentsFlow | None = None
    reconcile: ReconcileFlow | None = None
    poll_crm: CrmPoll | None = None
    drift: DriftPolicy = Field(default_factory=DriftPolicy)

    def mapping_of(self, flow: Literal["clients", "catalog", "issue_invoice"]) -> str:
        """The mapping `flow` uses: the one its section names, or its default when the config
        has no such section (reconciliation and the manual bridge still use that mapping)."""
        default = {"clients": ClientsFlow, "catalog": CatalogFlow, "issue_invoice": InvoiceFlow}
        section = getattr(self, flow) or default[flow]()
        return str(section.mapping)


class PluginSection(Strict):
    """A flow of your own (crmbridge.plugins): where its `Plugin` is, what starts it, and its
    settings (checked by the plugin's own model)."""

    module: str = Field(pattern=r"^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$")  # package.module:attr
    enabled: bool = True
    every: float | None = Field(default=None, gt=0, description="Seconds between two runs.")
    events: list[Literal["deal", "company"]] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)


class WebSettings(Strict):
    """Who may use the dashboard and `/api`: a bearer token and/or users with passwords.

    An empty value (an unset `${VAR:-}`) counts as not configured."""

    token: SecretStr | None = None  # `Authorization: Bearer <token>` for /api and /metrics
    users: dict[str, SecretStr] = Field(default_factory=dict)  # name → password (login, Basic)
    session_secret: SecretStr | None = None  # signs session cookies; random per process if unset
    session_hours: float = Field(default=12.0, gt=0)

    @field_validator("token", "session_secret")
    @classmethod
    def _empty_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("users")
    @classmethod
    def _no_empty_passwords(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        return {name: pw for name, pw in value.items() if pw.get_secret_value()}

    @property
    def configured(self) -> bool:
        return self.token is not None or bool(self.users)


class Retention(Strict):
    days: int = Field(default=180, ge=1, description="Keep exchanges, events, decisions this long.")
    every: float = Field(default=3600.0, gt=0, description="Seconds between background prunes.")
    enabled: bool = True


class SmtpSettings(Strict):
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    user: str | None = None
    password: SecretStr | None = None
    sender: str = Field(description="The From address.")
    to: list[str] = Field(min_length=1)
    timeout: float = Field(default=10.0, gt=0)


class Alerts(Strict):
    lag_threshold: float = Field(default=600.0, gt=0, description="Seconds of lag that alert.")
    dead_letters: bool = True  # alert when a job lands in the dead letter
    webhook: SecretStr | None = None  # a URL that receives a JSON POST (it may hold a token)
    smtp: SmtpSettings | None = None
    window: float = Field(default=900.0, gt=0, description="One message per alert per window.")
    check_every: float = Field(default=30.0, gt=0)


class Config(Strict):
    database: str | None = None
    systems: Systems
    ownership: Ownership
    mappings: dict[str, Mapping] = Field(default_factory=dict)
    flows: Flows = Field(default_factory=Flows)
    functions: dict[str, str] = Field(default_factory=dict)  # CEL name → "module:function"
    plugins: dict[str, PluginSection] = Field(default_factory=dict)

    @field_validator("plugins")
    @classmethod
    def _plugin_names(cls, value: dict[str, PluginSection]) -> dict[str, PluginSection]:
        for name in value:
            if not name.replace("_", "").replace("-", "").isalnum() or not name[0].isalpha():
                raise PydanticCustomError(
                    "plugin_name", f"plugin name {name!r}: letters, digits, - and _ only"
                )
        return value

    web: WebSettings = Field(default_factory=WebSettings)

    retention: Retention = Field(default_factory=Retention)
    alerts: Alerts | None = None
