"""The half of `crmbridge check` that needs the systems: do the mapped fields exist there?

BAS ignores unknown fields silently, so a typo in a mapping would lose data without a word; the
check reads `$metadata` (and the CRM's field list where the portal offers one) and names every
field that is not there, with the file and line of the mapping.
"""

from __future__ import annotations

from typing import Any

from crmbridge.config.expressions import compile_expression
from crmbridge.config.load import LoadedConfig
from crmbridge.config.locate import Located

# Business entity → the BAS entity set and the CRM field-list method that describe it.
BAS_SETS = {
    "client": "Catalog_Контрагенты",
    "product": "Catalog_Номенклатура",
    "invoice": "Document_СчетНаОплатуПокупателю",
}
CRM_FIELDS = {"deal": "crm.deal.fields"}
# Expression inputs that are BAS records (their fields are in $metadata).
BAS_INPUTS = {"product": "Catalog_Номенклатура", "invoice": "Document_СчетНаОплатуПокупателю"}


def live_problems(loaded: LoadedConfig, context: Any) -> list[Located]:
    """Every mapped field (written, or read from a BAS record) missing on its system."""
    problems: list[Located] = []
    crm_fields = _crm_fields(context)
    for name, mapping in loaded.config.mappings.items():
        for field, source in mapping.fields.items():
            where = ("mappings", name, "fields", field)
            if mapping.target == "bas" and mapping.entity in BAS_SETS:
                for p in context.bas.metadata.check_fields(BAS_SETS[mapping.entity], [field]):
                    problems.append(loaded.at(where, f"BAS $metadata: {p}"))
            elif field not in crm_fields.get(mapping.entity, {field}):
                problems.append(
                    loaded.at(where, f"the portal has no {mapping.entity} field {field}")
                )
            problems += _read_fields(loaded, context, where, source)
    return problems


def _read_fields(
    loaded: LoadedConfig, context: Any, where: tuple[Any, ...], source: str
) -> list[Located]:
    found = []
    for variable, field in sorted(compile_expression(source).fields):
        entity_set = BAS_INPUTS.get(variable)
        if entity_set is None:
            continue
        entity = context.bas.metadata.entity(entity_set)
        if entity is not None and field not in entity.properties:
            found.append(
                loaded.at(where, f"reads {variable}[{field!r}], which {entity_set} does not have")
            )
    return found


def _crm_fields(context: Any) -> dict[str, set[str]]:
    fields = {}
    for entity, method in CRM_FIELDS.items():
        described = context.crm.rest.result(method) or {}
        fields[entity] = set(described)
    return fields
