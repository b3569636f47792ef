"""`crmbridge trace`: one timeline of everything crmbridge did about a business entity.

Events received, rule decisions with their inputs, jobs and their attempts, every external call
(operation, status, duration) and every error, across both systems, in time order: the answer
to "why is the payment status in the CRM wrong?".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmbridge.errors import ConfigError
from crmbridge.store import links
from crmbridge.store import trace as trace_rows
from crmbridge.store.database import Database

KINDS = ("deal", "company", "invoice", "counterparty", "product")


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # event | decision | job | attempt | call | effect
    what: str
    detail: dict[str, Any]

    def json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind, "what": self.what, **self.detail}


def resolve(db: Database, kind: str, key: str) -> tuple[str, str]:
    """(entity kind, CRM id) for what the user typed: an id, an invoice number, a tax code, a
    product's BAS Ref_Key."""
    if kind not in KINDS:
        raise ConfigError(f"trace what? {kind!r} is not one of {', '.join(KINDS)}")
    if kind == "deal" or (kind in ("company", "product") and key.isdigit()):
        return kind, key
    if kind == "product":  # a BAS Ref_Key (linked by the catalog flow) or a product code
        crm_id = links.crm_id(db, "product", key) or trace_rows.entity_seen_with(
            db, "product", key, ("key", "bas_ref")
        )
        if crm_id is None:
            raise ConfigError(f"crmbridge has not seen a product with Ref_Key or code {key!r}")
        return "product", crm_id
    if kind == "invoice":
        for effect in trace_rows.effects_like(db, "invoice:deal:"):
            number = (effect["result"] or {}).get("number")
            if key in (number, effect["external_id"]):
                return "deal", effect["key"].split(":")[2]
        raise ConfigError(f"no invoice {key!r} was issued by crmbridge")
    return "company", _company_by_tax_code(db, key)


def _company_by_tax_code(db: Database, code: str) -> str:
    company = trace_rows.entity_seen_with(db, "company", code, ("tax_code", "code"), "clients")
    if company is None:
        raise ConfigError(f"crmbridge has not seen a company with tax code {code!r}")
    return company


def timeline(db: Database, kind: str, key: str) -> tuple[str, str, list[Entry]]:
    entity, crm_id = resolve(db, kind, key)
    rows = trace_rows.rows_for(db, entity, crm_id, [f"{entity}:{crm_id}"])
    entries = [
        *(
            Entry(
                r["received_at"],
                "event",
                f"{r['source']} {r['event_type']}",
                {"event_id": r["event_id"]},
            )
            for r in rows["events"]
        ),
        *(_job(r) for r in rows["jobs"]),
        *(_attempt(r) for r in rows["attempts"]),
        *(
            Entry(
                r["at"],
                "decision",
                f"{r['flow']}: {r['rule']}",
                {"inputs": r["inputs"], "result": r["result"]},
            )
            for r in rows["decisions"]
        ),
        *(_call(r) for r in rows["exchanges"]),
        *(
            Entry(
                r["created_at"],
                "effect",
                r["key"],
                {"system": r["system"], "external_id": r["external_id"]},
            )
            for r in rows["effects"]
        ),
    ]
    return entity, crm_id, sorted(entries, key=lambda e: (e.at, _ORDER[e.kind]))


_ORDER = {"event": 0, "job": 1, "attempt": 2, "decision": 3, "call": 3, "effect": 4}


def _job(row: dict[str, Any]) -> Entry:
    detail = {"job": row["id"], "status": row["status"], "attempts": row["attempts"]}
    if row["last_error"]:
        detail["error"] = row["last_error"]
    return Entry(row["enqueued_at"], "job", f"{row['flow']} queued", detail)


def _attempt(row: dict[str, Any]) -> Entry:
    detail = {"job": row["job_id"], "attempt": row["attempt"], "outcome": row["outcome"]}
    if row["error"]:
        detail["error"] = row["error"]
    return Entry(
        row["started_at"], "attempt", f"job {row['job_id']} attempt {row['attempt']}", detail
    )


def _call(row: dict[str, Any]) -> Entry:
    detail = {
        "status": row["status"],
        "ms": round(row["duration_ms"] or 0, 1),
        "job": row["job_id"],
    }
    if row["error"]:
        detail["error"] = row["error"]
    return Entry(row["at"], "call", f"{row['system']} {row['operation']}", detail)
