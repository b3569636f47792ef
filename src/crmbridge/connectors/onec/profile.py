"""What differs between the supported configurations, declared once (reference §2).

`bas-buh` (BAS Бухгалтерія, UA lineage): tax code in `КодПоЕДРПОУ`, invoice lines split into
`Товары` and `Услуги`, a payment row names its invoice in the composite `Сделка` (+ `Сделка_Type`),
meaningful when the contract settles by documents (`ВедениеВзаиморасчетов`).
`bp30` (1С:Бухгалтерия 3.0): tax code in `ИНН`, one `Товары` section, the row's `СчетНаОплату_Key`.
Everything else reads the profile instead of asking which configuration it talks to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from crmbridge.connectors.onec import query
from crmbridge.connectors.onec.metadata import Metadata, Problem
from crmbridge.errors import ConfigError

COUNTERPARTIES = "Catalog_Контрагенты"
CONTRACTS = "Catalog_ДоговорыКонтрагентов"
PRODUCTS = "Catalog_Номенклатура"
PRICES = "InformationRegister_ЦеныНоменклатуры"
INVOICES = "Document_СчетНаОплатуПокупателю"
BANK_RECEIPTS = "Document_ПоступлениеНаРасчетныйСчет"
CASH_RECEIPTS = "Document_ПриходныйКассовыйОрдер"
RECEIPTS = (BANK_RECEIPTS, CASH_RECEIPTS)
PAYMENT_ROWS = "РасшифровкаПлатежа"

# The connector's kinds (what flows and the contract suite name) and their entity sets.
KINDS: Mapping[str, str] = {
    "counterparty": COUNTERPARTIES,
    "contract": CONTRACTS,
    "product": PRODUCTS,
    "invoice": INVOICES,
    "payment": BANK_RECEIPTS,
    "cash_payment": CASH_RECEIPTS,
    "organisation": "Catalog_Организации",
    "currency": "Catalog_Валюты",
    "price_type": "Catalog_ТипыЦенНоменклатуры",
    "bank_account": "Catalog_БанковскиеСчета",
}


class PaymentLink(Protocol):
    """How a payment-decoding row names the invoice it pays."""

    @property
    def fields(self) -> tuple[str, ...]: ...

    def condition(self, invoice_ref: str) -> str: ...

    def links(self, row: Mapping[str, Any], invoice_ref: str) -> bool: ...

    def values(self, invoice_ref: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CompositeLink:
    """`Сделка` = the invoice's Ref_Key and `Сделка_Type` = its type (composite attribute)."""

    attribute: str = "Сделка"

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.attribute, f"{self.attribute}_Type")

    def condition(self, invoice_ref: str) -> str:
        return query.composite_eq(self.attribute, invoice_ref, INVOICES)

    def links(self, row: Mapping[str, Any], invoice_ref: str) -> bool:
        kind = row.get(f"{self.attribute}_Type")
        return bool(row.get(self.attribute) == invoice_ref and kind == f"StandardODATA.{INVOICES}")

    def values(self, invoice_ref: str) -> dict[str, Any]:
        return {self.attribute: invoice_ref, f"{self.attribute}_Type": f"StandardODATA.{INVOICES}"}


@dataclass(frozen=True)
class ReferenceLink:
    """A plain reference column, `СчетНаОплату_Key`."""

    field: str = "СчетНаОплату_Key"

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def condition(self, invoice_ref: str) -> str:
        return query.ref_eq(self.field, invoice_ref)

    def links(self, row: Mapping[str, Any], invoice_ref: str) -> bool:
        return bool(row.get(self.field) == invoice_ref)

    def values(self, invoice_ref: str) -> dict[str, Any]:
        return {self.field: invoice_ref}


@dataclass(frozen=True)
class Profile:
    name: str
    tax_code_field: str
    # edrpou: a Ukrainian ЄДРПОУ or РНОКПП; inn: the ИНН of 1С:Бухгалтерия 3.0
    tax_code_kind: Literal["edrpou", "inn"]
    goods_section: str
    services_section: str
    payment_link: PaymentLink
    contract_defaults: Mapping[str, Any] = field(default_factory=dict)

    def required(self) -> dict[str, tuple[str, ...]]:
        """Fields this profile relies on, per entity set, checked against `$metadata`."""
        return {
            COUNTERPARTIES: (self.tax_code_field, "Description"),
            CONTRACTS: ("Owner_Key", *self.contract_defaults),
            INVOICES: tuple({self.goods_section, self.services_section}),
        }

    def check(self, metadata: Metadata) -> list[Problem]:
        problems = [
            p for s, names in self.required().items() for p in metadata.check_fields(s, names)
        ]
        for receipts in RECEIPTS:
            row = metadata.row_type(receipts, PAYMENT_ROWS)
            missing = [
                f for f in self.payment_link.fields if row is None or f not in row.properties
            ]
            problems += [Problem(f"{receipts}.{PAYMENT_ROWS}.{f}", "missing") for f in missing]
        return problems


PROFILES: Mapping[str, Profile] = {
    "bas-buh": Profile(
        name="bas-buh",
        tax_code_field="КодПоЕДРПОУ",
        tax_code_kind="edrpou",
        goods_section="Товары",
        services_section="Услуги",
        payment_link=CompositeLink(),
        contract_defaults={"ВедениеВзаиморасчетов": "ПоРасчетнымДокументам"},
    ),
    "bp30": Profile(
        name="bp30",
        tax_code_field="ИНН",
        tax_code_kind="inn",
        goods_section="Товары",
        services_section="Товары",
        payment_link=ReferenceLink(),
    ),
}


def profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ConfigError(f"unknown BAS profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name]


def checked(name: str, metadata: Metadata) -> Profile:
    """The profile, if the server's `$metadata` has what it relies on; ConfigError if not."""
    found = profile(name)
    problems = found.check(metadata)
    if problems:
        listed = "; ".join(str(p) for p in problems)
        raise ConfigError(f"BAS profile {name!r} does not fit this infobase: {listed}")
    return found
