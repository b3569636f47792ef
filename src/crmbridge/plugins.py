"""Flows of your own next to the built-in ones, without forking (procrastinate's blueprints).

A plugin is a `Plugin` object in an importable module, named in the config:

    plugins:
      overdue:
        module: my_company.crm_plugins:overdue   # the Plugin object
        every: 3600          # run on a schedule (seconds), and/or
        events: [deal]       # when a deal (or company) changes in the CRM
        settings: {days: 7}  # its own section, checked by its own model

Its job is `plugin:<name>`, with a built-in flow's guarantees: durable, retried by the same
policy, every call in the exchange log, its decisions in the trace. `run(ctx, settings, trigger)`
gets the `FlowContext` (the CRM and accounting ports, the effect ledger, `decide`), its settings
validated by its own pydantic model, and what started it. A plugin cannot replace a built-in flow
(its jobs are named `plugin:…`) nor another plugin (config keys are unique). `serve
--with-worker` and `worker` load the same plugins, from the config.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from crmbridge.config.model import PluginSection
from crmbridge.connectors.base import ChangedEvent
from crmbridge.errors import ConfigError
from crmbridge.flows.context import FlowContext
from crmbridge.queue.worker import Handler, JobContext
from crmbridge.store.jobs import NewJob

PREFIX = "plugin:"


class NoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Trigger:
    """What started a run: a changed entity (`kind` deal | company, `id`), or the schedule
    (both None)."""

    kind: str | None = None
    id: str | None = None


Run = Callable[[FlowContext, Any, Trigger], object]


@dataclass(frozen=True)
class Plugin:
    run: Run
    settings: type[BaseModel] = NoSettings
    description: str = ""


@dataclass(frozen=True)
class Loaded:
    name: str
    plugin: Plugin
    settings: BaseModel
    every: float | None
    events: tuple[str, ...] = field(default=())

    @property
    def flow(self) -> str:
        return f"{PREFIX}{self.name}"


def load(sections: dict[str, PluginSection]) -> list[Loaded]:
    """Import each enabled plugin and check its settings; ConfigError says which and why."""
    return [_load(name, s) for name, s in sections.items() if s.enabled]


def _load(name: str, section: PluginSection) -> Loaded:
    where = f"plugins.{name}"
    module_name, _, attribute = section.module.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{where}: cannot import {module_name}: {exc}") from None
    plugin = getattr(module, attribute or "plugin", None)
    if not isinstance(plugin, Plugin):
        raise ConfigError(f"{where}: {section.module} is not a crmbridge.plugins.Plugin")
    try:
        settings = plugin.settings.model_validate(section.settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}.settings.{path}: {first['msg']}") from None
    return Loaded(name, plugin, settings, section.every, tuple(section.events))


def handlers(loaded: Iterable[Loaded], context: Callable[[], FlowContext]) -> dict[str, Handler]:
    def handler(one: Loaded) -> Handler:
        def run(job: JobContext) -> None:
            payload = job.payload
            trigger = Trigger(payload.get("kind"), payload.get("id"))
            one.plugin.run(context(), one.settings, trigger)

        return run

    return {one.flow: handler(one) for one in loaded}


def jobs_for(loaded: Iterable[Loaded], event: ChangedEvent) -> list[NewJob]:
    """The plugins' jobs for an event: one per plugin that follows its entity kind."""
    return [
        NewJob(
            one.flow,
            {"kind": event.entity_kind, "id": event.entity_id},
            lock_key=f"{event.entity_kind}:{event.entity_id}",
            coalesce=True,
        )
        for one in loaded
        if event.entity_kind in one.events
    ]


def merged(builtin: dict[str, Handler], mine: dict[str, Handler]) -> dict[str, Handler]:
    """The built-in handlers and the plugins'; a plugin never replaces one."""
    clash = sorted(set(builtin) & set(mine))
    if clash:
        raise ConfigError(f"plugins would replace the flows {', '.join(clash)}")
    return {**builtin, **mine}
