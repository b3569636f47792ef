"""docs/real-systems.md and extensions/bas/odata-composition.bsl list what the code uses.

The entity-set table of the doc, the objects the OData-composition data processor publishes and
the sets crmbridge's BAS connector uses (connectors/onec/profile.py) must not drift apart: a set
missing from the composition answers 404 on a real infobase, and nothing else would tell.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crmbridge.connectors.onec import publication
from crmbridge.connectors.onec.profile import INVOICES, KINDS, PAYMENT_ROWS, PROFILES, RECEIPTS
from crmbridge.documents.sources import print_sets

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "real-systems.md"
COMPOSITION = ROOT / "extensions" / "bas" / "odata-composition.bsl"
# Metadata class in a full name (Справочник.Контрагенты) -> the OData prefix (Catalog_Контрагенты).
PREFIXES = {
    "Справочник": "Catalog",
    "Документ": "Document",
    "РегистрСведений": "InformationRegister",
}


def flow_sets(profile: str) -> set[str]:
    """The sets `crmbridge check` requires of a profile: every flow's, and the print form's."""
    return {*publication.needed(publication.FLOW_SETS), *print_sets(profile)}


def top_level_sets() -> set[str]:
    """What the composition data processor publishes: every profile's sets, and the kinds."""
    return {*KINDS.values(), *(s for profile in PROFILES for s in flow_sets(profile))}


def sets_of(profile: str) -> set[str]:
    """Every set a profile touches, with the tabular sections it reads or writes."""
    found = PROFILES[profile]
    sections = {found.goods_section, found.services_section}
    return (
        flow_sets(profile)
        | set(KINDS.values())
        | {f"{receipts}_{PAYMENT_ROWS}" for receipts in RECEIPTS}
        | {f"{INVOICES}_{section}" for section in sections}
    )


def documented() -> dict[str, set[str]]:
    """Profile -> the sets ticked for it in the doc's table."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- entity-sets -->", 1)[1].split("<!-- /entity-sets -->", 1)[0]
    rows = [line for line in table.strip().splitlines() if line.startswith("| `")]
    header = [c.strip(" `") for c in table.strip().splitlines()[0].strip("|").split("|")]
    columns = {name: header.index(name) for name in PROFILES}
    ticked: dict[str, set[str]] = {name: set() for name in PROFILES}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        entity_set = cells[0].strip("`")
        for name, index in columns.items():
            if cells[index] == "✓":
                ticked[name].add(entity_set)
    return ticked


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_doc_lists_every_set_the_profile_uses(profile: str) -> None:
    assert documented()[profile] == sets_of(profile)


def test_the_composition_data_processor_publishes_exactly_the_top_level_sets() -> None:
    text = COMPOSITION.read_text(encoding="utf-8-sig")
    names = re.findall(r'Нужные\.Добавить\("(\w+)\.(\w+)"\)', text)
    published = [f"{PREFIXES[kind]}_{name}" for kind, name in names]
    assert len(published) == len(set(published))
    assert set(published) == top_level_sets()
    # It adds to what is published instead of replacing it.
    assert "ПолучитьСоставСтандартногоИнтерфейсаOData()" in text
    assert "УстановитьСоставСтандартногоИнтерфейсаOData(Состав)" in text


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize(
    "path", [DOC, ROOT / "extensions" / "bas" / "README.md"], ids=lambda p: p.name
)
def test_the_doc_stands_alone_and_its_links_resolve(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    # Public sources only: nothing of the steering repository (its shared/ and reference/).
    assert "../shared" not in text and not re.search(r"(?<![\w-])reference/", text)
    for target in re.findall(r"\]\(([^)]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        assert resolved.exists(), target
        if anchor:
            assert anchor in anchors(resolved), target
