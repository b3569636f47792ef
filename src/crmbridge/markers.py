"""How crmbridge marks what it makes, so a retry, a person and reconciliation find it again.

- The keys of the objects it creates in the accounting system are derived from the CRM id
  (UUIDv5), so a retry after a crash creates nothing new: 1C refuses a second object with the
  same key, and the lookup by key finds the first.
- `[crm:deal:<id>]` in an invoice's comment: a person sees and searches the link in BAS, and an
  invoice made by hand for the deal is found instead of a second one being made.
- `[crm:invoice:<ref>]` in the note and the task put on a deal: found again before another is
  added.
"""

from __future__ import annotations

import re
import uuid

_NAMESPACE = uuid.UUID("0b3c8a52-6a3e-4c7e-9f0d-3f1f0f6b9a10")
_DEAL = re.compile(r"\[crm:deal:(\d+)\]")


def ref_for(*parts: object) -> str:
    """The key crmbridge gives the object it creates for these parts (e.g. "invoice", deal id)."""
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts)))


def deal(deal_id: str) -> str:
    return f"[crm:deal:{deal_id}]"


def deal_in(text: str) -> str | None:
    """The deal id of the first deal marker in `text`, or None."""
    found = _DEAL.search(text)
    return found.group(1) if found else None


def invoice(ref: str) -> str:
    return f"[crm:invoice:{ref}]"
