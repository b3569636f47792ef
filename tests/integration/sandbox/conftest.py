from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.sandbox.b24 import Portal, Receiver, running_portal, running_receiver


@pytest.fixture
def portal() -> Iterator[Portal]:
    with running_portal() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running
