"""Gathers an invoice's print data from BAS over the standard OData interface (the I/O side).

Reads go through `Reads`, which `ODataClient` is: GET an object by Ref_Key, call a register's
virtual table. The sandbox's emulated print service passes an in-process client of its own OData
interface, so BAS's "own print form" and crmbridge's are gathered by this one module.

What is read, for one invoice: the invoice (its lines are inline), the organisation (its contact
information rows are inline) and the legal-address kind, the bank account and its bank, the VAT
status (a SliceLast of the profile's register as of the invoice's date), the counterparty, the
contract, and each product and unit once. A reference left empty, or a set or register outside
the OData composition (404), prints as blank rather than failing: the document is still worth
sending. Where the VAT register cannot be read, the invoice's own VAT says whether the
organisation charges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from crmbridge.connectors.onec import literals, query
from crmbridge.connectors.onec.errors import NotFound
from crmbridge.documents import sources as s
from crmbridge.documents.model import Account, InvoicePrint, Line, Party

Record = dict[str, Any]
EMPTY = "00000000-0000-0000-0000-000000000000"


class Reads(Protocol):
    """The OData reads gathering needs (`ODataClient` has them); a 404 raises `NotFound`."""

    def read(self, entity_set: str, ref: str, select: tuple[str, ...] = ()) -> Record: ...

    def function(
        self, entity_set: str, function: str, params: Mapping[str, str]
    ) -> list[Record]: ...


class _Objects:
    """Objects by Ref_Key, each read once (a product on two lines is one request); None when
    the reference is empty or the object or its set is not there."""

    def __init__(self, reads: Reads) -> None:
        self.reads = reads
        self._seen: dict[tuple[str, str], Record | None] = {}

    def __call__(self, entity_set: str, ref: object) -> Record | None:
        key = (entity_set, str(ref or ""))
        if key[1] in ("", EMPTY):
            return None
        if key not in self._seen:
            try:
                self._seen[key] = self.reads.read(entity_set, key[1])
            except NotFound:
                self._seen[key] = None
        return self._seen[key]


def invoice_print(reads: Reads, where: s.PrintSources, ref: str) -> InvoicePrint | None:
    """The print data of invoice `ref`, or None if BAS has no such invoice."""
    get = _Objects(reads)
    invoice = get(s.INVOICES, ref)
    if invoice is None:
        return None
    org = get(s.ORGANISATIONS, invoice.get("Организация_Key")) or {}
    buyer = get(s.COUNTERPARTIES, invoice.get("Контрагент_Key")) or {}
    date = literals.parse_datetime(str(invoice["Date"]))
    rows = [r for section in where.sections for r in _numbered(invoice.get(section))]
    vat = sum((_decimal(r.get("СуммаНДС")) for r in rows), Decimal(0))
    return InvoicePrint(
        number=str(invoice.get("Number") or ""),
        date=date,
        supplier=Party(_name(org), _codes(where, org, buyer=False), _address(get, org)),
        account=_account(get, where, invoice, org),
        vat_status=_vat_status(where, org, _vat_payer(reads, where, org, date, vat > 0)),
        buyer=Party(_name(buyer), _codes(where, buyer, buyer=True)),
        contract=_contract(get(s.CONTRACTS, invoice.get("ДоговорКонтрагента_Key"))),
        lines=tuple(_line(get, where, n, row) for n, row in enumerate(rows, start=1)),
        vat=vat,
        vat_included=bool(invoice.get("СуммаВключаетНДС")),
        total=_decimal(invoice.get("СуммаДокумента")),
    )


def _decimal(value: object) -> Decimal:
    return Decimal(str(value or 0))


def _name(party: Record) -> str:
    return str(party.get("НаименованиеПолное") or party.get("Description") or "")


def _numbered(rows: object) -> list[Record]:
    found = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
    return sorted(found, key=lambda r: int(r.get("LineNumber") or 0))


def _codes(where: s.PrintSources, party: Record, *, buyer: bool) -> tuple[str, ...]:
    """The party's codes as printed; the buyer's include its VAT number (the supplier's goes
    with its VAT status). A value printed once is not printed again under another label."""
    codes = where.codes + ((where.vat_number,) if buyer and where.vat_number else ())
    texts: list[str] = []
    printed: set[str] = set()
    for code in codes:
        value = str(party.get(code.field) or "").strip()
        if value and value not in printed:
            texts.append(code.text(value))
            printed.add(value)
    return tuple(texts)


def _address(get: _Objects, org: Record) -> str:
    """The legal address among the organisation's contact information, else its first address."""
    rows = [r for r in _numbered(org.get("КонтактнаяИнформация")) if r.get("Тип") == "Адрес"]
    legal = [
        r
        for r in rows
        if (get(s.CONTACT_KINDS, r.get("Вид_Key")) or {}).get("PredefinedDataName")
        == s.LEGAL_ADDRESS
    ]
    chosen = (legal or rows)[:1]
    return str(chosen[0].get("Представление") or "") if chosen else ""


def _account(get: _Objects, where: s.PrintSources, invoice: Record, org: Record) -> Account | None:
    """The invoice's bank account of the organisation, else the organisation's main one."""
    account = get(s.BANK_ACCOUNTS, invoice.get(where.account)) or get(
        s.BANK_ACCOUNTS, org.get("ОсновнойБанковскийСчет_Key")
    )
    if account is None:
        return None
    bank = get(s.BANKS, account.get("Банк_Key")) or {}
    code = str(bank.get("Code") or "")
    return Account(
        iban=str(account.get("НомерСчета") or ""),
        bank=str(bank.get("Description") or ""),
        bank_code=f"{where.bank_code} {code}" if code else "",
    )


def _vat_payer(
    reads: Reads, where: s.PrintSources, org: Record, at: datetime, charged: bool
) -> bool:
    """The register's flag for the organisation as of `at`; if it cannot be read, whether
    the invoice charges VAT."""
    if not org.get("Ref_Key"):
        return charged
    condition = literals.string(query.ref_eq("Организация_Key", str(org["Ref_Key"])))
    params = {"Period": literals.datetime_literal(at), "Condition": condition}
    try:
        rows = reads.function(where.vat_register, "SliceLast", params)
    except NotFound:  # the register is outside the OData composition
        return charged
    return bool(rows[0].get(where.vat_flag)) if rows else charged


def _vat_status(where: s.PrintSources, org: Record, payer: bool) -> str:
    if not payer:
        return "Не є платником ПДВ"
    code = where.vat_number
    number = str(org.get(code.field) or "") if code else ""
    return f"Платник ПДВ, {code.text(number)}" if code and number else "Платник ПДВ"


def _contract(contract: Record | None) -> str:
    """`Основний договір № Д-0001 від 01.01.2025`, or its name when it has no number."""
    if contract is None:
        return ""
    name, number = str(contract.get("Description") or ""), str(contract.get("Номер") or "")
    if not number:
        return name
    dated = literals.parse_datetime(str(contract.get("Дата") or "0001-01-01T00:00:00"))
    return f"{name} № {number}" + (f" від {dated:%d.%m.%Y}" if dated.year > 1 else "")


def _line(get: _Objects, where: s.PrintSources, n: int, row: Record) -> Line:
    product = get(s.PRODUCTS, row.get("Номенклатура_Key")) or {}
    unit = get(s.UNITS, product.get(where.unit)) or {}
    name = row.get("Содержание") or product.get("НаименованиеПолное") or product.get("Description")
    return Line(
        n=n,
        name=str(name or ""),
        quantity=_decimal(row.get("Количество")),
        unit=str(unit.get("Description") or ""),
        price=_decimal(row.get("Цена")),
        total=_decimal(row.get("Сумма")),
    )
