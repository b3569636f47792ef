"""The scope each method crmbridge calls needs, declared once (`connectors/bitrix24/scopes.py`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crmbridge.connectors.bitrix24 import scopes
from crmbridge.connectors.bitrix24.kinds import KINDS

PACKAGE = Path(scopes.__file__).parent
_LITERAL = re.compile(r"\"((?:crm|tasks|task|user|disk|event|placement|app)\.[a-z.]+[a-z])\"")


@pytest.mark.parametrize(
    ("method", "scope"),
    [
        ("crm.deal.get", "crm"),
        ("crm.timeline.comment.add", "crm"),
        ("tasks.task.add", "task"),
        ("user.get", "user"),
        ("disk.folder.uploadfile", "disk"),
        ("batch", None),
        ("scope", None),
        ("event.offline.get", None),
        ("app.info", None),
    ],
)
def test_scope_of_a_method(method: str, scope: str | None) -> None:
    assert scopes.scope_of(method) == scope


def test_crmbridge_needs_crm_and_task() -> None:
    assert scopes.required_scopes() == frozenset({"crm", "task"})


def test_every_method_the_connector_names_is_declared() -> None:
    named = {
        match
        for path in PACKAGE.glob("*.py")
        for match in _LITERAL.findall(path.read_text(encoding="utf-8"))
        if path.name != "scopes.py"
    } - {k.prefix for k in KINDS.values()}
    by_kind = {f"{k.prefix}.{verb}" for k in KINDS.values() for verb in ("get", "add", "update")}
    assert named | by_kind <= set(scopes.CALLED), (named | by_kind) - set(scopes.CALLED)
    assert named  # the scan found the literals it is meant to check
