"""The record kinds the connector offers, as declarations: method prefix, cursor field, select.

Event names map to kinds here too (the webhook dispatch table).
"""

from __future__ import annotations

from dataclasses import dataclass

from crmbridge.errors import Permanent


@dataclass(frozen=True)
class Kind:
    name: str  # deal, company, … (ChangedEvent.entity_kind)
    prefix: str  # crm.deal → crm.deal.get / .list / .add / .update
    modified: str  # the field `changes()` polls by
    select: tuple[str, ...] = ()  # () = the method's default selection


KINDS = {
    k.name: k
    for k in (
        Kind("deal", "crm.deal", "DATE_MODIFY", ("*", "UF_*")),
        Kind("company", "crm.company", "DATE_MODIFY", ("*", "UF_*", "PHONE", "EMAIL")),
        Kind("contact", "crm.contact", "DATE_MODIFY", ("*", "UF_*", "PHONE", "EMAIL")),
        Kind("requisite", "crm.requisite", "DATE_MODIFY"),
        Kind("product", "crm.product", "TIMESTAMP_X", ("*",)),
    )
}

# Outgoing / offline event name → kind (`api-reference/crm/*/events/`). Anything else is ignored.
EVENT_KINDS = {
    f"ONCRM{entity.upper()}{verb}": entity
    for entity in ("deal", "company", "contact", "requisite", "product")
    for verb in ("ADD", "UPDATE", "DELETE")
}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise Permanent(
            f"bitrix24 has no record kind {name!r}; known: {', '.join(KINDS)}"
        ) from None
