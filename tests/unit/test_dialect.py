"""The flows speak business verbs: no system's method name, field code or entity-set name in
their code. A name from a system's dialect belongs in its package under connectors/ (behind the
ports of flows/ports.py) or in the user's config (mappings), never in a flow.

The dialects are read from the systems as the sandbox models them: every Bitrix24 method
crmbridge may call and every standard field of the CRM records it reads, every entity set and
property of both BAS profiles' `$metadata`. Comments and docstrings may name them (they explain
what the connectors do); code and string literals may not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import crmbridge
from crmbridge.connectors.bitrix24 import scopes
from crmbridge.connectors.onec.metadata import parse
from crmbridge.sandbox.bas.metadata import render
from crmbridge.sandbox.bas.profiles import profile as load_profile
from crmbridge.sandbox.bas.schema import Schema
from crmbridge.sandbox.bitrix24.fields import STANDARD

PACKAGE = Path(crmbridge.__file__).parent
# Names of a system's own that are also plain words a flow may use for itself.
COMMON = {"ID", "Code", "Date", "Number", "Description", "Posted", "DeletionMark", "Owner"}
PATTERNS = (
    re.compile(r"^(crm|tasks|user|disk|event|catalog|department|entity)\.[a-z_.]+$"),  # methods
    re.compile(r"^(UF_CRM_|RQ_)\w+$"),  # Bitrix24 user fields and requisites
    re.compile(r"\w+_Key$"),  # 1C references
    re.compile(r"^(Catalog|Document|InformationRegister|AccumulationRegister)_\w+$"),
)


@cache
def dialect() -> frozenset[str]:
    names = set(scopes.CALLED)
    for fields in STANDARD.values():
        names.update(fields)
    for profile in ("bas-buh", "bp30"):
        metadata = parse(render(Schema(load_profile(profile))))
        names.update(metadata.sets)
        for entity in metadata.types.values():
            names.update(entity.properties)
    return frozenset(names - COMMON)


def literals(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of the string constants and names in the code, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                yield node.lineno, node.value
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr
        elif isinstance(node, ast.Name):
            yield node.lineno, node.id


def foreign(text: str) -> bool:
    return text in dialect() or any(p.search(text) for p in PATTERNS)


def test_the_dialect_is_read_from_the_systems() -> None:
    # The check is only as good as its vocabulary: it must know what the flows used to name.
    for name in ("crm.timeline.comment.add", "STAGE_ID", "OPPORTUNITY", "Комментарий"):
        assert foreign(name), name
    for name in ("Document_СчетНаОплатуПокупателю", "СуммаДокумента", "Ref_Key", "RQ_EDRPOU"):
        assert foreign(name), name
    assert not foreign("deal") and not foreign("Рахунок № {number}")


@pytest.mark.parametrize("package", ["flows"])
def test_no_system_dialect_in(package: str) -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {text!r}"
        for path in sorted((PACKAGE / package).glob("*.py"))
        for line, text in literals(path)
        if foreign(text)
    ]
    assert found == [], "\n".join(found)
