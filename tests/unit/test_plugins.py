"""Plugins: a flow of one's own, loaded from the config, run like a built-in one over the
ports; it cannot replace a built-in flow, and a wrong one is refused before it runs. The example
plugin (examples/plugins/overdue_invoices.py) runs over the in-memory fakes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from crmbridge import plugins
from crmbridge.config.model import PluginSection
from crmbridge.connectors.base import ChangedEvent
from crmbridge.errors import ConfigError
from crmbridge.flows import invoice
from crmbridge.queue.worker import JobContext
from crmbridge.store import journal
from tests.support.flows import World, typical, world

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plugins"


@pytest.fixture(autouse=True)
def on_path() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    yield
    sys.path.remove(str(EXAMPLES))


def overdue(**settings: object) -> plugins.Loaded:
    section = PluginSection(module="overdue_invoices:plugin", every=3600, settings=settings)
    (loaded,) = plugins.load({"overdue": section})
    return loaded


def run(w: World, loaded: plugins.Loaded) -> None:
    handler = plugins.handlers([loaded], lambda: w.ctx)[loaded.flow]
    scheduled = SimpleNamespace(payload={})  # what the schedule enqueues: no entity
    handler(JobContext(scheduled, w.ctx.db, w.clock, "test"))  # type: ignore[arg-type]


def test_the_example_reminds_the_rep_of_an_unpaid_invoice_once(tmp_path: Path) -> None:
    w = world(tmp_path)
    typical(w)
    issued = invoice.issue_invoice(w.ctx, "1")
    loaded = overdue(days=7)
    assert loaded.flow == "plugin:overdue" and loaded.every == 3600
    run(w, loaded)
    assert "1" not in w.crm.state.tasks  # not overdue yet
    w.clock.advance(8 * 86400)
    run(w, loaded)
    run(w, loaded)  # again: no second reminder
    ((_, task, responsible),) = w.crm.state.tasks["1"]
    assert issued.number in task.title and responsible == "5"
    rules = [d["rule"] for d in journal.decisions_for(w.ctx.db, "deal", "1")]
    assert "remind about an unpaid invoice" in rules


def test_a_paid_invoice_gets_no_reminder(tmp_path: Path) -> None:
    w = world(tmp_path)
    typical(w)
    issued = invoice.issue_invoice(w.ctx, "1")
    w.accounting.record_payment(issued.ref, issued.total)
    w.clock.advance(30 * 86400)
    run(w, overdue())
    assert "1" not in w.crm.state.tasks


def test_a_plugin_follows_the_events_it_names() -> None:
    section = PluginSection(module="overdue_invoices:plugin", events=["deal"])
    loaded = plugins.load({"watch": section})
    deal = ChangedEvent("kommo", "e1", "leads.status", "deal", "24000001")
    company = ChangedEvent("kommo", "e2", "companies.update", "company", "7")
    (job,) = plugins.jobs_for(loaded, deal)
    assert (job.flow, job.payload, job.lock_key) == (
        "plugin:watch",
        {"kind": "deal", "id": "24000001"},
        "deal:24000001",
    )
    assert plugins.jobs_for(loaded, company) == []


@pytest.mark.parametrize(
    ("module", "settings", "message"),
    [
        ("no_such_module:plugin", {}, "plugins.p: cannot import no_such_module"),
        ("overdue_invoices:Settings", {}, "is not a crmbridge.plugins.Plugin"),
        ("overdue_invoices:plugin", {"days": 0}, "plugins.p.settings.days: Input should be"),
        ("overdue_invoices:plugin", {"weeks": 1}, "plugins.p.settings.weeks: Extra inputs"),
    ],
)
def test_a_wrong_plugin_is_refused_with_what_is_wrong(
    module: str, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        plugins.load({"p": PluginSection(module=module, settings=settings)})


def test_a_plugin_never_replaces_a_built_in_flow() -> None:
    def mine(_job: JobContext) -> None:
        raise AssertionError("never run")

    with pytest.raises(ConfigError, match="would replace the flows issue-invoice"):
        plugins.merged({"issue-invoice": mine}, {"issue-invoice": mine})
    assert set(plugins.merged({"issue-invoice": mine}, {"plugin:x": mine})) == {
        "issue-invoice",
        "plugin:x",
    }


def test_a_worker_plugin_module_cannot_replace_a_flow(tmp_path: Path) -> None:
    from crmbridge.queue.handlers import builtin_handlers, load_plugins

    (tmp_path / "sneaky.py").write_text(
        "def register(handlers):\n    handlers['prune'] = lambda job: None\n", encoding="utf-8"
    )
    (tmp_path / "adding.py").write_text(
        "def register(handlers):\n    handlers['my-flow'] = lambda job: None\n", encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        handlers = builtin_handlers()
        original = handlers["prune"]
        with pytest.raises(ConfigError, match="'sneaky' would replace the flows prune"):
            load_plugins(handlers, ["sneaky"])
        assert handlers["prune"] is original
        load_plugins(handlers, ["adding"])
        assert "my-flow" in handlers
    finally:
        sys.path.remove(str(tmp_path))
