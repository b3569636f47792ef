"""The systems crmbridge talks to, looked up by the config's `type`.

Each system package under connectors/ declares itself in its module `system.py` as `SYSTEM`: a
`CrmSystem` or an `AccountingSystem` naming its settings model (what `systems.crm` /
`systems.bas` holds), how its port is built, its webhook routes and its checks. config/, app.py,
web/ and readiness/ look the type up here and never name a system; packages are found by walking
connectors/, so a new system is a new folder and nothing else.

Who calls what, and when:
- `settings` validates the config's section (pydantic; errors carry the section's path);
- `problems(settings)`: what is wrong with the section without calling the system (the static
  part of `crmbridge check`), as (path inside the section, message) pairs;
- `connect(settings, wiring)` builds the port once per process, on first use, and may read from
  the system then (BAS reads `$metadata`);
- `routes(settings, intake)` returns the FastAPI router of its webhook intake, mounted by `serve`;
- `check(loaded, report)` (optional) asks the system itself whether the config fits it, for
  `crmbridge check`, and adds what it finds to `report.problems`.
"""

from __future__ import annotations

import builtins
import importlib.util
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from crmbridge.errors import ConfigError
from crmbridge.flows.ports import TaxCodeKind

if TYPE_CHECKING:
    import httpx
    from fastapi import APIRouter

    from crmbridge.clock import Clock
    from crmbridge.config.load import LoadedConfig
    from crmbridge.config.model import Config, SystemSettings
    from crmbridge.connectors.http import ExchangeRecorder
    from crmbridge.flows.ports import Accounting, Crm
    from crmbridge.store.database import Database
    from crmbridge.web.hooks import Intake

Side = Literal["crm", "bas"]
Problems = list[tuple[tuple[str | int, ...], str]]


@dataclass(frozen=True)
class Wiring:
    """What a port is built from besides its own settings: the whole config (flow settings a
    port honours), the shared HTTP client, the database (token stores), the clock, the exchange
    recorder (None: not logged, e.g. `crmbridge check`), and for a CRM the kind of tax code the
    accounting system identifies counterparties by."""

    config: Config
    client: httpx.Client
    db: Database | None
    clock: Clock
    recorder: ExchangeRecorder | None
    tax_code_kind: TaxCodeKind = "edrpou"


@dataclass
class Report:
    """What `crmbridge check` found: one line per problem, and what answered (for the closing
    line). A live check gets the shared HTTP client, and `database` opens the config's database
    where an OAuth application's tokens are (read only)."""

    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # "Bitrix24 https://… (scopes crm, task)"
    client: httpx.Client | None = None
    database: Callable[[], Database] | None = None


def _no_problems(_settings: Any) -> Problems:
    return []


@dataclass(frozen=True)
class CrmSystem:
    type: str
    title: str  # how messages name it: "Bitrix24", "Kommo"
    settings: builtins.type[SystemSettings]
    connect: Callable[[Any, Wiring], Crm]
    routes: Callable[[Any, Intake], APIRouter]
    problems: Callable[[Any], Problems] = _no_problems
    check: Callable[[LoadedConfig, Report], None] | None = None
    side: Side = "crm"


@dataclass(frozen=True)
class AccountingSystem:
    type: str
    title: str
    settings: builtins.type[SystemSettings]
    connect: Callable[[Any, Wiring], Accounting]
    routes: Callable[[Any, Intake], APIRouter]
    # The kind of tax code it identifies counterparties by, from the settings alone: the CRM's
    # port is built with it before the accounting system is reached.
    tax_code_kind: Callable[[Any], TaxCodeKind]
    problems: Callable[[Any], Problems] = _no_problems
    check: Callable[[LoadedConfig, Report], None] | None = None
    side: Side = "bas"


System = CrmSystem | AccountingSystem


@cache
def declared() -> dict[tuple[Side, str], System]:
    """Every system the installed packages declare, by side and type."""
    import crmbridge.connectors as package

    found: dict[tuple[Side, str], System] = {}
    for module in _system_modules(package.__path__, package.__name__):
        system = getattr(module, "SYSTEM", None)
        if isinstance(system, CrmSystem | AccountingSystem):
            key = (system.side, system.type)
            if key in found:
                raise ConfigError(f"two packages declare the {system.side} type {system.type!r}")
            found[key] = system
    return found


def _system_modules(path: Any, prefix: str) -> Iterator[Any]:
    for info in pkgutil.iter_modules(path):
        if info.ispkg and importlib.util.find_spec(f"{prefix}.{info.name}.system") is not None:
            yield importlib.import_module(f"{prefix}.{info.name}.system")


def configured(config: Config) -> list[tuple[Side, SystemSettings]]:
    """The config's two systems with their sides."""
    return [("crm", config.systems.crm), ("bas", config.systems.bas)]


def types(side: Side) -> list[str]:
    return sorted(t for s, t in declared() if s == side)


def of(side: Side, type_: str) -> System:
    found = declared().get((side, type_))
    if found is None:
        known = ", ".join(types(side))
        raise ConfigError(f"systems.{side}.type: unknown type {type_!r}; known: {known}")
    return found


def crm(type_: str) -> CrmSystem:
    found = of("crm", type_)
    assert isinstance(found, CrmSystem)
    return found


def accounting(type_: str) -> AccountingSystem:
    found = of("bas", type_)
    assert isinstance(found, AccountingSystem)
    return found
