from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crmbridge.app import Application
from crmbridge.config.load import load_config
from crmbridge.sandbox.server import Sandbox
from crmbridge.store.database import Database
from tests.support.sandbox import running_sandbox

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """Both emulators on a loopback port, rate limits off, the default seed."""
    with running_sandbox() as running:
        yield running


@pytest.fixture
def app(sandbox: Sandbox, db: Database) -> Iterator[Application]:
    """The bridge wired from examples/sandbox.yaml against that sandbox."""
    env = {"CRMBRIDGE_SANDBOX_URL": sandbox.settings.public_url}
    application = Application(load_config(EXAMPLE, env).config, db)
    yield application
    application.close()
