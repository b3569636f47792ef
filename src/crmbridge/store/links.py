"""Links: which CRM id is which BAS Ref_Key, per entity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, literal, select

from crmbridge.store.database import Database, upsert_insert
from crmbridge.store.schema import effects, links


def bas_ref(db: Database, entity: str, crm_id: str) -> str | None:
    with db.read() as conn:
        value: str | None = conn.execute(
            select(links.c.bas_ref).where(links.c.entity == entity, links.c.crm_id == crm_id)
        ).scalar()
        return value


def crm_id(db: Database, entity: str, bas_ref: str) -> str | None:
    with db.read() as conn:
        value: str | None = conn.execute(
            select(links.c.crm_id).where(links.c.entity == entity, links.c.bas_ref == bas_ref)
        ).scalar()
        return value


def put(db: Database, entity: str, crm_id: str, bas_ref: str, now: datetime) -> None:
    """Link a CRM id to a BAS Ref_Key; re-linking a CRM id moves it to the new Ref_Key."""
    put_many(db, entity, [(crm_id, bas_ref)], now)


def put_many(db: Database, entity: str, pairs: Sequence[tuple[str, str]], now: datetime) -> None:
    """`put` for many (CRM id, Ref_Key) pairs in one transaction: a catalog chunk of 2,500
    products costs one commit (one fsync) instead of 2,500."""
    if not pairs:
        return
    insert = upsert_insert(db.dialect, links)
    statement = insert.on_conflict_do_update(
        index_elements=[links.c.entity, links.c.crm_id],
        set_={"bas_ref": insert.excluded.bas_ref, "updated_at": insert.excluded.updated_at},
    )
    rows = [
        {"entity": entity, "crm_id": c, "bas_ref": b, "created_at": now, "updated_at": now}
        for c, b in pairs
    ]
    with db.write() as conn:
        conn.execute(statement, rows)


def all_for(db: Database, entity: str) -> dict[str, str]:
    """Every link of an entity as {CRM id: BAS Ref_Key} (reconciliation reads them at once)."""
    with db.read() as conn:
        rows = conn.execute(select(links.c.crm_id, links.c.bas_ref).where(links.c.entity == entity))
        return {str(crm): str(ref) for crm, ref in rows}


def without_effect(
    db: Database, entity: str, since: datetime, key: tuple[str, str]
) -> list[tuple[str, str]]:
    """(CRM id, Ref_Key) of the entity's links made since `since` for which no effect
    `key[0] + crm_id + key[1] + bas_ref` is recorded: e.g. the invoices not yet seen paid."""
    effect_key = literal(key[0]) + links.c.crm_id + literal(key[1]) + links.c.bas_ref
    query = (
        select(links.c.crm_id, links.c.bas_ref)
        .where(links.c.entity == entity, links.c.created_at >= since)
        .where(~exists().where(effects.c.key == effect_key))
        .order_by(links.c.created_at)
    )
    with db.read() as conn:
        return [(str(crm), str(ref)) for crm, ref in conn.execute(query)]
