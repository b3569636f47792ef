"""The application loads the config's plugins: their handlers next to the built-in ones (so
`serve --with-worker` and `worker` run them), their jobs for the events they follow, their
schedule; `crmbridge check` reports a plugin that cannot load."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmbridge.app import Application
from crmbridge.cli import _scheduler
from crmbridge.config.check import check
from crmbridge.config.load import load_config
from crmbridge.config.model import PluginSection
from crmbridge.connectors.base import ChangedEvent
from crmbridge.store.database import Database

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sandbox.yaml"


@pytest.fixture(autouse=True)
def on_path() -> Iterator[None]:
    sys.path.insert(0, str(ROOT / "examples" / "plugins"))
    yield
    sys.path.remove(str(ROOT / "examples" / "plugins"))


def test_plugins_join_the_handlers_the_events_and_the_schedule(db: Database) -> None:
    config = load_config(EXAMPLE, {}).config
    section = PluginSection(module="overdue_invoices:plugin", every=600, events=["deal"])
    app = Application(config.model_copy(update={"plugins": {"overdue": section}}), db)
    try:
        assert "plugin:overdue" in app.handlers() and "issue-invoice" in app.handlers()
        event = ChangedEvent("bitrix24", "e1", "ONCRMDEALUPDATE", "deal", "1")
        assert [j.flow for j in app.jobs_for(event)] == ["deal-changed", "plugin:overdue"]
        periodic = {p.flow: p.every for p in _scheduler(app, db)._periodic}
        assert periodic["plugin:overdue"] == 600
    finally:
        app.close()


def test_check_reports_a_plugin_that_cannot_load(tmp_path: Path) -> None:
    text = (
        EXAMPLE.read_text(encoding="utf-8") + "\nplugins:\n  broken:\n    module: nowhere:plugin\n"
    )
    path = tmp_path / "crmbridge.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = [p for p in check(load_config(path, {})) if "plugins" in str(p)]
    assert "plugins.broken: cannot import nowhere" in str(problem)
