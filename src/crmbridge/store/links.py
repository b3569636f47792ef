"""Links: which CRM id is which BAS Ref_Key, per entity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from crmbridge.store.database import Database, upsert_insert
from crmbridge.store.schema import links


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
    with db.write() as conn:
        inserted = conn.execute(
            upsert_insert(db.dialect, links)
            .values(entity=entity, crm_id=crm_id, bas_ref=bas_ref, created_at=now, updated_at=now)
            .on_conflict_do_nothing()
            .returning(links.c.id)
        ).scalar()
        if inserted is None:
            conn.execute(
                update(links)
                .where(links.c.entity == entity, links.c.crm_id == crm_id)
                .values(bas_ref=bas_ref, updated_at=now)
            )


def all_for(db: Database, entity: str) -> dict[str, str]:
    """Every link of an entity as {CRM id: BAS Ref_Key} (reconciliation reads them at once)."""
    with db.read() as conn:
        rows = conn.execute(select(links.c.crm_id, links.c.bas_ref).where(links.c.entity == entity))
        return {str(crm): str(ref) for crm, ref in rows}
