"""The handler registry: flow name → function. Built-ins plus plugins named on the command line."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Iterable
from datetime import timedelta

from crmbridge.errors import ConfigError
from crmbridge.queue.worker import Handler, JobContext
from crmbridge.store import retention

log = logging.getLogger("crmbridge.retention")


def noop(job: JobContext) -> None:
    """Does nothing; used to measure the queue itself and to check a deployment end to end."""


def sleep(job: JobContext) -> None:
    """Waits `seconds` (at most 60), like a remote call would; for scale-out measurements."""
    time.sleep(min(60.0, float(job.payload.get("seconds", 0.0))))


def prune(job: JobContext) -> None:
    """Retention in the background: remove history older than `days`, in short batches, so
    intake goes on between them (scheduled every `retention.every` seconds by the leader)."""
    before = job.clock.now() - timedelta(days=int(job.payload["days"]))
    removed = retention.prune(job.db, before)
    log.info("retention: removed %s", ", ".join(f"{n} {table}" for table, n in removed.items()))


def builtin_handlers() -> dict[str, Handler]:
    return {"noop": noop, "sleep": sleep, "prune": prune}


def load_plugins(handlers: dict[str, Handler], modules: Iterable[str]) -> None:
    """Import each module and let its `register(handlers)` add custom flows by name; one that
    replaces or removes a flow already there is refused (crmbridge.plugins is the config's way)."""
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"plugin {name!r} cannot be imported: {exc}") from None
        register = getattr(module, "register", None)
        if not callable(register):
            raise ConfigError(f"plugin {name!r} has no register(handlers) function")
        before = dict(handlers)
        register(handlers)
        touched = sorted(f for f, h in before.items() if handlers.get(f) is not h)
        if touched:
            handlers.clear()
            handlers.update(before)
            raise ConfigError(f"plugin {name!r} would replace the flows {', '.join(touched)}")
