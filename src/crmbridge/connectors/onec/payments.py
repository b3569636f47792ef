"""Which payments pay an invoice, and how much is paid (reference §2.6).

Payments are bank receipts (`ПоступлениеНаРасчетныйСчет`) and cash receipts
(`ПриходныйКассовыйОрдер`); the invoice is named in their `РасшифровкаПлатежа` rows, the way the
profile's `payment_link` says. The rows are read from the tabular-section set with a filter on
the link, then their documents, by key, in small `or` groups (1C rejects over-long URLs, §1.13).
Only posted, not deleted documents count as paid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from crmbridge.connectors.base import Record
from crmbridge.connectors.onec import literals, query
from crmbridge.connectors.onec.connector import BasConnector
from crmbridge.connectors.onec.profile import PAYMENT_ROWS, RECEIPTS

KEYS_PER_REQUEST = 20
_HEAD = ("Ref_Key", "Number", "Date", "Posted", "DeletionMark", "DataVersion")


@dataclass(frozen=True)
class Payment:
    ref: str
    entity_set: str
    number: str
    date: str
    posted: bool
    amount: Decimal  # what this payment pays on the invoice (its rows linked to it)


def payments_for_invoice(bas: BasConnector, invoice_ref: str) -> list[Payment]:
    """Every receipt not marked for deletion with rows paying the invoice, posted or not."""
    found: list[Payment] = []
    for entity_set in RECEIPTS:
        amounts = _linked_amounts(bas, entity_set, invoice_ref)
        for doc in _documents(bas, entity_set, list(amounts)):
            if not doc.get("DeletionMark"):
                found.append(_payment(entity_set, doc, amounts[str(doc["Ref_Key"])]))
    return sorted(found, key=lambda p: (p.date, p.number))


def receipts_paying(bas: BasConnector, invoice_refs: list[str]) -> list[tuple[str, Record]]:
    """(invoice Ref_Key, receipt) for every posted, not deleted receipt with rows paying one of
    the invoices, whatever its date: what the sweep of open invoices reads. The rows are found
    by the invoices, in `or` groups that fit a URL, then their documents by key."""
    link = bas.profile.payment_link
    found: list[tuple[str, Record]] = []
    for entity_set in RECEIPTS:
        pays: dict[str, set[str]] = defaultdict(set)  # receipt Ref_Key → the invoices it pays
        for group in query.or_groups(invoice_refs, link.condition):
            condition = query.any_of(group, link.condition)
            rows = bas.client.find(
                f"{entity_set}_{PAYMENT_ROWS}",
                query.Query(filter=condition, select=("Ref_Key", *link.fields)),
            )
            for row in rows:
                pays[str(row["Ref_Key"])].update(r for r in group if link.links(row, r))
        for doc in _documents(bas, entity_set, sorted(pays)):
            if doc.get("Posted") and not doc.get("DeletionMark"):
                found += [(invoice, doc) for invoice in sorted(pays[str(doc["Ref_Key"])])]
    return found


def paid_amount(bas: BasConnector, invoice_ref: str) -> Decimal:
    """The sum of posted payments on the invoice."""
    return sum((p.amount for p in payments_for_invoice(bas, invoice_ref) if p.posted), Decimal(0))


def _linked_amounts(bas: BasConnector, entity_set: str, invoice_ref: str) -> dict[str, Decimal]:
    link = bas.profile.payment_link
    rows = bas.client.find(
        f"{entity_set}_{PAYMENT_ROWS}",
        query.Query(
            filter=link.condition(invoice_ref),
            select=("Ref_Key", "LineNumber", "СуммаПлатежа", *link.fields),
            orderby=("Ref_Key", "LineNumber"),
        ),
    )
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if link.links(row, invoice_ref):  # the filter already did; a server may not
            amounts[str(row["Ref_Key"])] += Decimal(str(row["СуммаПлатежа"]))
    return dict(amounts)


def _documents(bas: BasConnector, entity_set: str, refs: list[str]) -> Iterable[Record]:
    for start in range(0, len(refs), KEYS_PER_REQUEST):
        chunk = refs[start : start + KEYS_PER_REQUEST]
        condition = " or ".join(f"Ref_Key eq {literals.guid(r)}" for r in chunk)
        yield from bas.client.find(entity_set, query.Query(filter=condition, select=_HEAD))


def _payment(entity_set: str, doc: Record, amount: Decimal) -> Payment:
    return Payment(
        ref=str(doc["Ref_Key"]),
        entity_set=entity_set,
        number=str(doc["Number"]),
        date=str(doc["Date"]),
        posted=bool(doc["Posted"]),
        amount=amount,
    )
