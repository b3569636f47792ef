"""docs/reliability.md names, for each guarantee, the tests that prove it: they must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_named_in_docs_reliability_exists() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    current = None
    named, missing = 0, []
    for path, name in re.findall(r"`(?:([\w/]+\.py))?::(\w+)`", text):
        current = path or current
        assert current is not None, f"{name} is named before any test file"
        source = (ROOT / "tests" / current).read_text(encoding="utf-8")
        named += 1
        if not re.search(rf"^def {name}\(", source, re.M):
            missing.append(f"{current}::{name}")
    assert named >= 20
    assert missing == []
