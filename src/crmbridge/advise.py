"""`crmbridge advise`: which of the three shapes fits a business, with the reasoning laid out.

A pure function from the answers (`Answers`) to a `Recommendation`. The criteria are the classic
ones: volume (a person keeps up with about 20 exchanges a day, a one-flow direct link with about
100, the middleware with any), direction (a direct link goes one way), transformation logic (a
person applies a couple of rules reliably, a direct link a handful), audit needs (a manual bridge
leaves no trail of who changed what) and time to start. They give the *lowest* shape that can do
the job. Then the cost argument: each exceptional case a month stalls an exchange for as long as
it takes to notice and mend it in that shape; stalled hours × the cost of one hour, plus the
shape's build cost spread over a year and its upkeep (engineer hours), is a monthly cost; a
higher shape that is cheaper a month is recommended instead, with the arithmetic in the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Shape = Literal["manual", "direct", "middleware"]
DirectionAnswer = Literal["one-way", "two-way"]
SHAPES: tuple[Shape, ...] = ("manual", "direct", "middleware")  # from least to most machinery

MANUAL_MAX_PER_DAY = 20  # exchanges a day one person handles by a written procedure
DIRECT_MAX_PER_DAY = 100  # beyond this a direct link needs queues, retries, a dead letter
MANUAL_MAX_RULES = 2  # transformation rules a person applies reliably by hand
DIRECT_MAX_RULES = 5  # rules a one-flow direct link keeps readable

# Hours an exceptional case stalls its exchange before it is noticed and mended.
STALL_HOURS: dict[Shape, float] = {
    "manual": 8.0,  # found at the next daily reconciliation, mended by hand
    "direct": 6.0,  # found when someone complains; no alert, trace by hand
    "middleware": 1.0,  # an alert, `crmbridge trace`, a fix and `crmbridge replay`
}
SETUP_HOURS: dict[Shape, float] = {"manual": 8.0, "direct": 40.0, "middleware": 120.0}
UPKEEP_HOURS: dict[Shape, float] = {"manual": 0.0, "direct": 2.0, "middleware": 8.0}  # a month
AMORTISE_MONTHS = 12  # the build cost is spread over a year
ENGINEER_HOUR_COST = 1000.0  # default value of an engineer hour (same currency as hour cost)
TIME_TO_START: dict[Shape, str] = {
    "manual": "a day (generate the procedure, export the first files)",
    "direct": "about a week (one flow, one config, one webhook)",
    "middleware": "two to four weeks (all flows, ownership, a server, monitoring)",
}
EXAMPLES: dict[Shape, str] = {
    "manual": "crmbridge procedure --config <your config> (the written manual procedure)",
    "direct": "examples/direct-link.yaml",
    "middleware": "examples/bitrix24-bas.yaml",
}

# Defaults for answers not given (documented in docs/reconciliation.md#advisor).
DEFAULTS = {
    "direction": "one-way",
    "rules": 0,
    "audit": False,
    "exceptions_per_month": 0,
    "hour_cost": 0.0,
}


@dataclass(frozen=True)
class Answers:
    exchanges_per_day: int
    direction: DirectionAnswer = "one-way"
    rules: int = 0
    audit: bool = False
    exceptions_per_month: int = 0
    hour_cost: float = 0.0
    engineer_hour_cost: float = ENGINEER_HOUR_COST

    def __post_init__(self) -> None:
        for name in ("exchanges_per_day", "rules", "exceptions_per_month"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', ' ')} cannot be negative")
        if self.hour_cost < 0 or self.engineer_hour_cost < 0:
            raise ValueError("a cost cannot be negative")
        if self.direction not in ("one-way", "two-way"):
            raise ValueError(f"direction is one-way or two-way, not {self.direction!r}")


@dataclass(frozen=True)
class Recommendation:
    shape: Shape
    reasons: list[str]
    example: str
    monthly_cost: dict[str, float]  # per shape that can do the job

    def json(self) -> dict[str, object]:
        return {
            "recommendation": self.shape,
            "reasons": self.reasons,
            "example": self.example,
            "monthly_cost": self.monthly_cost,
        }


def advise(answers: Answers) -> Recommendation:
    reasons: list[str] = []
    floor = _by_volume(answers.exchanges_per_day, reasons)
    excluded = _exclusions(answers, reasons)
    able = [s for s in SHAPES[SHAPES.index(floor) :] if s not in excluded]
    lowest = able[0]  # middleware is never excluded
    costs: dict[str, float] = {s: monthly_cost(answers, s) for s in able}
    chosen = min(able, key=lambda s: (costs[s], SHAPES.index(s)))
    reasons += [_cost_line(answers, s, costs[s]) for s in able]
    if chosen != lowest:
        reasons.append(
            f"cost: {chosen} costs {_money(costs[chosen])} a month against "
            f"{_money(costs[lowest])} for {lowest}: the exceptional cases make the extra "
            f"machinery pay for itself, so {chosen}"
        )
    elif len(able) > 1:
        reasons.append(
            f"cost: {lowest} is the cheapest shape that can do the job "
            f"({_money(costs[lowest])} a month)"
        )
    reasons.append(f"time to start with {chosen}: {TIME_TO_START[chosen]}")
    reasons.append(f"start from: {EXAMPLES[chosen]}")
    return Recommendation(chosen, reasons, EXAMPLES[chosen], costs)


def _by_volume(per_day: int, reasons: list[str]) -> Shape:
    if per_day <= MANUAL_MAX_PER_DAY:
        reasons.append(
            f"volume: {per_day} exchanges a day ≤ {MANUAL_MAX_PER_DAY}: a person can keep up "
            "by a written procedure"
        )
        return "manual"
    if per_day <= DIRECT_MAX_PER_DAY:
        reasons.append(
            f"volume: {per_day} exchanges a day > {MANUAL_MAX_PER_DAY} (too many by hand) and "
            f"≤ {DIRECT_MAX_PER_DAY}: a direct link copes"
        )
        return "direct"
    reasons.append(
        f"volume: {per_day} exchanges a day > {DIRECT_MAX_PER_DAY}: needs the middleware's "
        "queue, retries and rate limiting"
    )
    return "middleware"


def _exclusions(answers: Answers, reasons: list[str]) -> set[Shape]:
    out: set[Shape] = set()
    if answers.direction == "two-way":
        out.add("direct")
        reasons.append(
            "direction: two-way needs per-field ownership and drift checks; a direct link "
            "goes one way only"
        )
    else:
        reasons.append("direction: one-way: any shape can carry it")
    if answers.rules > DIRECT_MAX_RULES:
        out |= {"manual", "direct"}
        reasons.append(
            f"transformation logic: {answers.rules} rules > {DIRECT_MAX_RULES}: needs the "
            "middleware's rules engine (conditions and mappings in the config, each decision "
            "logged)"
        )
    elif answers.rules > MANUAL_MAX_RULES:
        out.add("manual")
        reasons.append(
            f"transformation logic: {answers.rules} rules > {MANUAL_MAX_RULES}: too many to "
            f"apply by hand reliably; ≤ {DIRECT_MAX_RULES} fit a direct link"
        )
    else:
        reasons.append(
            f"transformation logic: {answers.rules} rules ≤ {MANUAL_MAX_RULES}: simple enough "
            "for any shape"
        )
    if answers.audit:
        out.add("manual")
        reasons.append(
            "audit: needed: every exchange must be in the exchange log with its decisions, "
            "which a manual bridge does not keep"
        )
    else:
        reasons.append("audit: not needed: the files and the reconciliation report suffice")
    return out


def monthly_cost(answers: Answers, shape: Shape) -> float:
    """Stalled hours × hour cost + (build ÷ 12 + upkeep) × engineer hour cost."""
    stalled = answers.exceptions_per_month * STALL_HOURS[shape] * answers.hour_cost
    engineering = SETUP_HOURS[shape] / AMORTISE_MONTHS + UPKEEP_HOURS[shape]
    return round(stalled + engineering * answers.engineer_hour_cost, 2)


def _cost_line(answers: Answers, shape: Shape, total: float) -> str:
    return (
        f"cost of {shape}: {answers.exceptions_per_month} exceptional cases × "
        f"{STALL_HOURS[shape]:g} h stalled × {_money(answers.hour_cost)} = "
        f"{_money(answers.exceptions_per_month * STALL_HOURS[shape] * answers.hour_cost)}"
        f" + ({SETUP_HOURS[shape]:g} h build ÷ {AMORTISE_MONTHS} + {UPKEEP_HOURS[shape]:g} h "
        f"upkeep) × {_money(answers.engineer_hour_cost)} = {_money(total)} a month"
    )


def _money(value: float) -> str:
    return f"{value:,.2f}".replace(",", " ")
