"""What a flow may use: the two ports, links, the effect ledger, the decision log, a clock.

One `FlowContext` per worker process; it is thread-safe because everything it holds is (the
ports' connectors share a thread-safe httpx client and limiter; the store opens a connection per
call).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crmbridge import correlation
from crmbridge.clock import Clock
from crmbridge.config.model import Config
from crmbridge.errors import ConfigError, Permanent
from crmbridge.flows.ports import Accounting, Crm
from crmbridge.flows.rules import Rules
from crmbridge.markers import ref_for
from crmbridge.store import effects, journal, links
from crmbridge.store.database import Database

if TYPE_CHECKING:
    from crmbridge.connectors.bitrix24.connector import Bitrix24Connector
    from crmbridge.connectors.onec.connector import BasConnector

__all__ = ["FlowContext", "ref_for"]


@dataclass
class FlowContext:
    crm: Crm
    accounting: Accounting
    db: Database
    clock: Clock
    config: Config
    rules: Rules

    # Reconciliation and the manual bridge still read Bitrix24 and BAS in their own words; these
    # two go once they speak through the ports too. The flows never use them (tests/unit/
    # test_dialect.py).
    @property
    def bitrix24(self) -> Bitrix24Connector:
        connector = getattr(self.crm, "connector", None)
        if self.crm.system != "bitrix24" or connector is None:
            raise ConfigError(f"this needs Bitrix24 as the CRM, not {self.crm.system}")
        return connector  # type: ignore[no-any-return]

    @property
    def bas(self) -> BasConnector:
        connector = getattr(self.accounting, "connector", None)
        if connector is None:
            raise ConfigError(f"this needs BAS over OData, not {self.accounting.system}")
        return connector  # type: ignore[no-any-return]

    # decisions --------------------------------------------------------------------------------
    def decide(
        self,
        flow: str,
        rule: str,
        inputs: dict[str, Any],
        result: Any,
        *,
        entity: tuple[str, str],
        matched: bool | None = None,
    ) -> Any:
        """Record a rule evaluation for the trace; returns `result` for chaining."""
        call = correlation.current()
        journal.record_decision(
            self.db,
            journal.Decision(
                at=self.clock.now(),
                flow=flow,
                rule=rule,
                inputs=_jsonable(inputs),
                result=_jsonable(result),
                matched=matched,
                entity_kind=entity[0],
                entity_id=entity[1],
                job_id=call.job_id if call else None,
                correlation_id=call.correlation_id if call else None,
            ),
        )
        return result

    def guard(self, entity: str, writer: str, fields: list[str]) -> None:
        """The runtime half of the ownership rule: refuse to write a field the writer does not
        own (the config check should have caught it; this catches code that forgot)."""
        foreign = [f for f in fields if self.config.ownership.owner(entity, f) != writer]
        if foreign:
            raise Permanent(
                f"refused to write {entity} field(s) {', '.join(sorted(foreign))} from {writer}: "
                "the other system owns them (see ownership in the config)"
            )

    # effects and links --------------------------------------------------------------------------
    def done(self, key: str) -> effects.Effect | None:
        return effects.get(self.db, key)

    def record(self, key: str, system: str, external_id: str | None, **result: Any) -> None:
        call = correlation.current()
        effects.record(
            self.db,
            key,
            system,
            self.clock.now(),
            external_id=external_id,
            result=_jsonable(result),
            job_id=call.job_id if call else None,
        )

    def link(self, entity: str, crm_id: str, bas_ref: str) -> None:
        links.put(self.db, entity, crm_id, bas_ref, self.clock.now())

    def link_many(self, entity: str, pairs: list[tuple[str, str]]) -> None:
        links.put_many(self.db, entity, pairs, self.clock.now())

    def bas_ref(self, entity: str, crm_id: str) -> str | None:
        return links.bas_ref(self.db, entity, crm_id)

    def crm_id(self, entity: str, bas_ref: str) -> str | None:
        return links.crm_id(self.db, entity, bas_ref)

    def links_without(
        self, entity: str, since: datetime, effect: tuple[str, str]
    ) -> list[tuple[str, str]]:
        """Links made since `since` with no effect `effect[0]<crm id>effect[1]<Ref_Key>`."""
        return links.without_effect(self.db, entity, since, effect)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
