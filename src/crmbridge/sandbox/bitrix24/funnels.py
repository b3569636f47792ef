"""The portal's deal funnels (categories) and their stages, declared as data.

Funnel 0 is the default one with the shared seed's stages; funnel 1, «Дилери», has four. Stage ids
of a funnel other than 0 carry its prefix `C<id>:` (`bitrix24/b24restdocs`
`api-reference/crm/status/crm-status-add.md`: `DECISION` in funnel 1 is saved as `C1:DECISION`);
its stages are the `crm.status.list` directory `DEAL_STAGE_<id>` with `CATEGORY_ID` "<id>", the
default funnel's `DEAL_STAGE` with `CATEGORY_ID` null (`crm/status/crm-status-list.md`,
`crm-status-entity-types.md`). `NEW`, `WON` and `LOSE` are the system stages of every funnel
(`crm-status-entity-types.md`: `START_FIELD`, `FINAL_SUCCESS_FIELD`, `FINAL_UNSUCCESS_FIELD`).
The methods reading this are in deals.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmbridge.sandbox.seed import DEAL_STAGES

SYSTEM_CODES = ("NEW", "WON", "LOSE")
_SEMANTIC_ID = {"process": "P", "success": "S", "failure": "F"}


@dataclass(frozen=True)
class Funnel:
    id: int
    name: str
    sort: int
    stages: tuple[tuple[str, str, str], ...]  # STATUS_ID, NAME, semantics (process|success|failure)

    @property
    def entity_id(self) -> str:
        """The `crm.status.list` directory of its stages."""
        return "DEAL_STAGE" if self.id == 0 else f"DEAL_STAGE_{self.id}"

    @property
    def first_stage(self) -> str:
        return self.stages[0][0]


FUNNELS = (
    Funnel(0, "Загальна", 100, DEAL_STAGES),
    Funnel(
        1,
        "Дилери",
        200,
        (
            ("C1:NEW", "Заявка дилера", "process"),
            ("C1:PREPAYMENT_INVOICE", "Рахунок", "process"),
            ("C1:WON", "Угода успішна", "success"),
            ("C1:LOSE", "Угода провалена", "failure"),
        ),
    ),
)
BY_ID = {funnel.id: funnel for funnel in FUNNELS}
CATEGORY = {code: funnel.id for funnel in FUNNELS for code, _name, _sem in funnel.stages}
SEMANTIC_ID = {code: _SEMANTIC_ID[sem] for f in FUNNELS for code, _name, sem in f.stages}
NAMES = {code: name for funnel in FUNNELS for code, name, _sem in funnel.stages}


def code(stage: str) -> str:
    """`C1:WON` → `WON`."""
    return stage.partition(":")[2] or stage
