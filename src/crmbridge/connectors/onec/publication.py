"""What crmbridge needs published in the standard OData interface, per built-in flow.

1C publishes nothing until someone sets the composition
(`УстановитьСоставСтандартногоИнтерфейсаOData`, reference §1.2), and an entity set outside it
answers 404 like a misspelt one. `crmbridge check`
lists every set the enabled flows need that `$metadata` lacks, all at once, so the administrator
publishes them in one go; docs/real-systems.md prints the same lists.
"""

from __future__ import annotations

from collections.abc import Iterable

from crmbridge.connectors.onec.metadata import Metadata
from crmbridge.connectors.onec.profile import (
    BANK_RECEIPTS,
    CASH_RECEIPTS,
    CONTRACTS,
    COUNTERPARTIES,
    INVOICES,
    KINDS,
    PRICES,
    PRODUCTS,
)

ORGANISATIONS, CURRENCIES, PRICE_TYPES = (
    KINDS["organisation"],
    KINDS["currency"],
    KINDS["price_type"],
)

# Flow → the sets it reads or writes (the invoice print form's own sets come from its renderer).
FLOW_SETS: dict[str, tuple[str, ...]] = {
    "clients": (COUNTERPARTIES, CONTRACTS, ORGANISATIONS, CURRENCIES),
    "issue_invoice": (COUNTERPARTIES, CONTRACTS, ORGANISATIONS, CURRENCIES, PRODUCTS, INVOICES),
    "payments": (INVOICES, BANK_RECEIPTS, CASH_RECEIPTS),
    "catalog": (PRODUCTS, PRICES, PRICE_TYPES),
    "reconcile": (
        COUNTERPARTIES,
        PRODUCTS,
        PRICES,
        PRICE_TYPES,
        INVOICES,
        BANK_RECEIPTS,
        CASH_RECEIPTS,
    ),
}


def needed(flows: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The sets the given flows need, each once, in a stable order."""
    return list(dict.fromkeys([*(s for f in flows for s in FLOW_SETS.get(f, ())), *extra]))


def unpublished(metadata: Metadata, sets: Iterable[str]) -> list[str]:
    return [name for name in sets if metadata.entity(name) is None]
