"""`crm.<kind>.fields`: each kind describes exactly the fields its records carry, in the real shape.

Shapes: the "Response Handling" examples of `bitrix24/b24restdocs` (`crm-deal-fields.md`,
`crm-company-fields.md`, `crm-contact-fields.md`, `crm-requisite-fields.md`) and the recorded
`crm.lead.fields` in `tests/fixtures/recorded/bitrix24/crm_lead_fields.json`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.sandbox.b24 import Portal, assert_same_shape
from tests.integration.sandbox.test_bitrix24_recorded import recorded

FLAGS = ("isRequired", "isReadOnly", "isImmutable", "isMultiple", "isDynamic")
NEW = {
    "deal": {"TITLE": "Нова угода"},
    "company": {"TITLE": "Нова компанія"},
    "requisite": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": 1, "PRESET_ID": 1, "NAME": "Реквізити"},
    "product": {"NAME": "Новий товар"},
}


@pytest.mark.parametrize("kind", sorted(NEW))
def test_a_new_record_carries_exactly_the_described_fields(portal: Portal, kind: str) -> None:
    described = portal.result(f"crm.{kind}.fields")
    new_id = portal.result(f"crm.{kind}.add", {"fields": NEW[kind]})
    assert set(portal.result(f"crm.{kind}.get", {"id": new_id})) == set(described)


def test_a_contact_carries_exactly_the_described_fields(portal: Portal) -> None:
    described = portal.result("crm.contact.fields")
    assert set(portal.result("crm.contact.get", {"id": 1})) == set(described)


@pytest.mark.parametrize("kind", ["deal", "company", "contact", "requisite", "product"])
def test_every_description_has_the_flags_and_a_title(portal: Portal, kind: str) -> None:
    for name, meta in portal.result(f"crm.{kind}.fields").items():
        assert list(meta)[:6] == ["type", *FLAGS], name
        assert all(isinstance(meta[flag], bool) for flag in FLAGS), name
        assert isinstance(meta["title"], str) and meta["title"], name


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("deal", "ID", {"type": "integer", "isReadOnly": True}),
        ("deal", "STAGE_ID", {"type": "crm_status", "statusType": "DEAL_STAGE"}),
        ("deal", "CATEGORY_ID", {"type": "crm_category", "isImmutable": True}),
        ("deal", "COMPANY_ID", {"type": "crm_company", "settings": {"parentEntityTypeId": 4}}),
        ("deal", "CONTACT_ID", {"type": "crm_contact", "isDeprecated": True}),
        ("deal", "ASSIGNED_BY_ID", {"type": "user"}),
        ("deal", "BEGINDATE", {"type": "date"}),
        ("deal", "OPPORTUNITY", {"type": "double"}),
        ("company", "TITLE", {"type": "string", "isRequired": True}),
        ("company", "COMPANY_TYPE", {"type": "crm_status", "statusType": "COMPANY_TYPE"}),
        ("company", "PHONE", {"type": "crm_multifield", "isMultiple": True}),
        ("company", "HAS_EMAIL", {"type": "char", "isReadOnly": True}),
        ("company", "DATE_CREATE", {"type": "datetime", "isReadOnly": True}),
        ("contact", "COMPANY_ID", {"type": "crm_company", "isDeprecated": True}),
        ("contact", "HONORIFIC", {"type": "crm_status", "statusType": "HONORIFIC"}),
        ("requisite", "ENTITY_ID", {"type": "integer", "isRequired": True, "isImmutable": True}),
        ("requisite", "RQ_EDRPOU", {"type": "string"}),
        ("requisite", "RQ_VAT_PAYER", {"type": "char"}),
        ("product", "PRICE", {"type": "double"}),
        ("product", "NAME", {"type": "string", "isRequired": True}),
        ("product", "PREVIEW_PICTURE", {"type": "product_file"}),
    ],
)
def test_field_types_and_flags(
    portal: Portal, kind: str, name: str, expected: dict[str, Any]
) -> None:
    meta = portal.result(f"crm.{kind}.fields")[name]
    assert {key: meta.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    ("kind", "name", "recorded_name"),
    [
        ("company", "TITLE", "TITLE"),
        ("company", "COMPANY_TYPE", "HONORIFIC"),
        ("company", "PHONE", "PHONE"),
        ("deal", "ID", "ID"),
        ("contact", "HONORIFIC", "HONORIFIC"),
    ],
)
def test_descriptions_have_the_recorded_shape(
    portal: Portal, kind: str, name: str, recorded_name: str
) -> None:
    fields = recorded("crm_lead_fields.json")["response"]["result"]
    assert_same_shape(fields[recorded_name], portal.result(f"crm.{kind}.fields")[name])


@pytest.mark.parametrize("kind", sorted(NEW))
def test_read_only_fields_are_not_written_and_immutable_ones_only_on_add(
    portal: Portal, kind: str
) -> None:
    """`crm/data-types.md#crm_rest_field_description`: read-only fields are never written, an
    immutable one "can only be filled once when creating a new element"."""
    described = portal.result(f"crm.{kind}.fields")
    read_only = {n for n, m in described.items() if m["isReadOnly"]}
    immutable = {n for n, m in described.items() if m["isImmutable"]}
    new_id = portal.result(
        f"crm.{kind}.add", {"fields": {**NEW[kind], **dict.fromkeys(read_only, "77")}}
    )
    record = portal.result(f"crm.{kind}.get", {"id": new_id})
    assert [n for n in read_only if record[n] == "77"] == []
    changes = dict.fromkeys(read_only | immutable, "78")
    portal.result(f"crm.{kind}.update", {"id": new_id, "fields": changes})
    after = portal.result(f"crm.{kind}.get", {"id": new_id})
    assert {n: after[n] for n in immutable} == {n: record[n] for n in immutable}
    assert [n for n in read_only if after[n] == "78"] == []
