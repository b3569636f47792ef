"""What `crm.<kind>.fields` answers, declared once per kind: the fields the sandbox's records carry.

A real portal describes more fields than the sandbox stores (addresses, UTM of companies, photos
of contacts, hundreds of `RQ_*`); only the fields a record of the kind carries are declared here,
and `tests/integration/sandbox/test_bitrix24_fields.py` keeps the two lists equal, so the emulator
neither describes a field it does not store nor stores one it does not describe. User fields
(`UF_CRM_*`) are portal state, described by `userfields.py`; their types are `USER_TYPES` below.

Types, flags and titles are copied from the "Response Handling" examples of `bitrix24/b24restdocs`
(commit 5988ed13, English portal): `api-reference/crm/deals/crm-deal-fields.md`,
`crm/companies/crm-company-fields.md`, `crm/contacts/crm-contact-fields.md`,
`crm/requisites/universal/crm-requisite-fields.md`. `crm/outdated/products/crm-product-fields.md`
has a table of types but no example: the product flags are assumed (ids, dates and authors
read-only, `NAME` required), and `CODE`, missing from that table, is a string (assumed; the page's
PHP example reads `CODE`). The order of keys in one description (flags, `isDeprecated`,
`statusType`, `title`, `settings`) follows those examples and the recorded `crm.lead.fields` in
`leshchenko1979/fast_bitrix24:tests/real_responses/crm_lead_fields_success.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Field:
    type: str
    title: str
    required: bool = False
    read_only: bool = False
    immutable: bool = False  # set when the record is created, never changed afterwards
    multiple: bool = False
    deprecated: bool = False
    status_type: str | None = None  # the crm.status.list directory of a crm_status field
    settings: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "type": self.type,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isImmutable": self.immutable,
            "isMultiple": self.multiple,
            "isDynamic": False,
        }
        if self.deprecated:
            meta["isDeprecated"] = True
        if self.status_type is not None:
            meta["statusType"] = self.status_type
        meta["title"] = self.title
        if self.settings:
            meta["settings"] = dict(self.settings)
        return meta


def _ro(type_: str, title: str) -> Field:
    return Field(type_, title, read_only=True)


def _status(title: str, directory: str) -> Field:
    return Field("crm_status", title, status_type=directory)


def _parent(type_: str, title: str, entity_type_id: int, *, read_only: bool = False) -> Field:
    return Field(type_, title, read_only=read_only, settings={"parentEntityTypeId": entity_type_id})


_AUTHORS = {
    "CREATED_BY_ID": _ro("user", "Created By"),
    "MODIFY_BY_ID": _ro("user", "Modified By"),
    "DATE_CREATE": _ro("datetime", "Creation Date"),
    "DATE_MODIFY": _ro("datetime", "Modification Date"),
}
_ORIGIN = {
    "ORIGINATOR_ID": Field("string", "External Source"),
    "ORIGIN_ID": Field("string", "Identifier in External Source"),
}

DEAL: dict[str, Field] = {
    "ID": _ro("integer", "ID"),
    "TITLE": Field("string", "Title"),
    "TYPE_ID": _status("Type", "DEAL_TYPE"),
    "CATEGORY_ID": Field("crm_category", "Sales Funnel", immutable=True),
    "STAGE_ID": _status("Deal Stage", "DEAL_STAGE"),
    "STAGE_SEMANTIC_ID": _ro("string", "Stage Group"),
    "IS_NEW": _ro("char", "New Deal"),
    "IS_RECURRING": Field("char", "Recurring Deal"),
    "IS_RETURN_CUSTOMER": Field("char", "Repeat Deal"),
    "IS_REPEATED_APPROACH": Field("char", "Repeated Approach"),
    "PROBABILITY": Field("integer", "Probability"),
    "CURRENCY_ID": Field("crm_currency", "Currency"),
    "OPPORTUNITY": Field("double", "Amount"),
    "IS_MANUAL_OPPORTUNITY": Field("char", "IS_MANUAL_OPPORTUNITY"),
    "TAX_VALUE": Field("double", "Tax Rate"),
    "COMPANY_ID": _parent("crm_company", "Company", 4),
    "CONTACT_ID": Field("crm_contact", "Contact", deprecated=True),
    "QUOTE_ID": _parent("crm_quote", "Estimate", 7, read_only=True),
    "BEGINDATE": Field("date", "Start Date"),
    "CLOSEDATE": Field("date", "Close Date"),
    "OPENED": Field("char", "Available to All"),
    "CLOSED": Field("char", "Closed"),
    "COMMENTS": Field("string", "Comment"),
    "ASSIGNED_BY_ID": Field("user", "Responsible"),
    "CREATED_BY_ID": _AUTHORS["CREATED_BY_ID"],
    "MODIFY_BY_ID": _AUTHORS["MODIFY_BY_ID"],
    "MOVED_BY_ID": _ro("user", "MOVED_BY_ID"),
    "DATE_CREATE": _AUTHORS["DATE_CREATE"],
    "DATE_MODIFY": _AUTHORS["DATE_MODIFY"],
    "MOVED_TIME": _ro("datetime", "MOVED_TIME"),
    "SOURCE_ID": _status("Source", "SOURCE"),
    "SOURCE_DESCRIPTION": Field("string", "Additional Info about Source"),
    "LEAD_ID": _parent("crm_lead", "Lead", 1, read_only=True),
    "ADDITIONAL_INFO": Field("string", "Additional Information"),
    "LOCATION_ID": Field("location", "Location"),
    **_ORIGIN,
    "UTM_SOURCE": Field("string", "Advertising System"),
    "UTM_MEDIUM": Field("string", "Traffic Type"),
    "UTM_CAMPAIGN": Field("string", "Campaign Identifier"),
    "UTM_CONTENT": Field("string", "Campaign Content"),
    "UTM_TERM": Field("string", "Campaign Search Condition"),
    "LAST_ACTIVITY_TIME": _ro("datetime", "LAST_ACTIVITY_TIME"),
    "LAST_ACTIVITY_BY": _ro("user", "LAST_ACTIVITY_BY"),
}

COMPANY: dict[str, Field] = {
    "ID": _ro("integer", "ID"),
    "TITLE": Field("string", "Company Name", required=True),
    "COMPANY_TYPE": _status("Company Type", "COMPANY_TYPE"),
    "ADDRESS": Field("string", "Physical Address"),
    "INDUSTRY": _status("Industry", "INDUSTRY"),
    "EMPLOYEES": _status("Number of Employees", "EMPLOYEES"),
    "CURRENCY_ID": Field("crm_currency", "Currency"),
    "REVENUE": Field("double", "Annual Revenue"),
    "OPENED": Field("char", "Available to Everyone"),
    "COMMENTS": Field("string", "Comment"),
    "HAS_PHONE": _ro("char", "Phone Set"),
    "HAS_EMAIL": _ro("char", "E-mail Set"),
    "IS_MY_COMPANY": Field("char", "My Company"),
    "ASSIGNED_BY_ID": Field("user", "Responsible Person"),
    **_AUTHORS,
    **_ORIGIN,
    "PHONE": Field("crm_multifield", "Phone", multiple=True),
    "EMAIL": Field("crm_multifield", "E-mail", multiple=True),
}

CONTACT: dict[str, Field] = {
    "ID": _ro("integer", "ID"),
    "HONORIFIC": _status("Salutation", "HONORIFIC"),
    "NAME": Field("string", "First Name", required=True),
    "SECOND_NAME": Field("string", "Middle Name", required=True),
    "LAST_NAME": Field("string", "Last Name", required=True),
    "TYPE_ID": _status("Contact Type", "CONTACT_TYPE"),
    "SOURCE_ID": _status("Source", "SOURCE"),
    "POST": Field("string", "Position"),
    "OPENED": Field("char", "Available to All"),
    "HAS_PHONE": _ro("char", "Phone Set"),
    "HAS_EMAIL": _ro("char", "E-mail Set"),
    "ASSIGNED_BY_ID": Field("user", "Responsible Person"),
    **_AUTHORS,
    "COMPANY_ID": Field("crm_company", "Company", deprecated=True),
    **_ORIGIN,
}

REQUISITE: dict[str, Field] = {
    "ID": _ro("integer", "ID"),
    "ENTITY_TYPE_ID": Field("integer", "Entity type ID", required=True, immutable=True),
    "ENTITY_ID": Field("integer", "Entity ID", required=True, immutable=True),
    "PRESET_ID": Field("integer", "Preset ID", required=True, immutable=True),
    "DATE_CREATE": _ro("datetime", "Creation date"),
    "DATE_MODIFY": _ro("datetime", "Modification date"),
    "CREATED_BY_ID": _ro("user", "Created by"),
    "MODIFY_BY_ID": _ro("user", "Modified by"),
    "NAME": Field("string", "Name"),
    "CODE": Field("string", "Code"),
    "XML_ID": Field("string", "External code"),
    "ORIGINATOR_ID": Field("string", "ORIGINATOR_ID"),
    "ACTIVE": Field("char", "Active"),
    "SORT": Field("integer", "Sort order"),
    "RQ_COMPANY_NAME": Field("string", "Short organization name"),
    "RQ_COMPANY_FULL_NAME": Field("string", "Full organization name"),
    "RQ_INN": Field("string", "Tax ID"),
    "RQ_EDRPOU": Field("string", "RQ_EDRPOU"),
    "RQ_DRFO": Field("string", "RQ_DRFO"),
    "RQ_VAT_PAYER": Field("char", "RQ_VAT_PAYER"),
    "RQ_VAT_ID": Field("string", "RQ_VAT_ID"),
}

PRODUCT: dict[str, Field] = {
    "ACTIVE": Field("char", "Active"),
    "CATALOG_ID": Field("integer", "Catalog identifier"),
    "CODE": Field("string", "Code"),
    "CREATED_BY": _ro("integer", "Created by"),
    "CURRENCY_ID": Field("string", "Currency identifier"),
    "DATE_CREATE": _ro("datetime", "Product creation date"),
    "DESCRIPTION": Field("string", "Description"),
    "DESCRIPTION_TYPE": Field("string", "Description type"),
    "DETAIL_PICTURE": Field("product_file", "Detailed picture"),
    "ID": _ro("integer", "Product identifier"),
    "MEASURE": Field("integer", "Unit of measure"),
    "MODIFIED_BY": _ro("integer", "Modified by"),
    "NAME": Field("string", "Name", required=True),
    "PREVIEW_PICTURE": Field("product_file", "Preview picture"),
    "PRICE": Field("double", "Price"),
    "SECTION_ID": Field("integer", "Section identifier"),
    "SORT": Field("integer", "Sort order"),
    "TIMESTAMP_X": _ro("datetime", "Product modification date"),
    "VAT_ID": Field("integer", "VAT rate identifier"),
    "VAT_INCLUDED": Field("char", "VAT included in price"),
    "XML_ID": Field("string", "External code"),
}

# User-field types (`USER_TYPE_ID` of crm.deal.userfield.add, which lists them) and the `SETTINGS`
# a new field of the type gets: from the examples of crm-deal-userfield-list.md and -get.md
# (string, file, enumeration, employee, date), crm/requisites/universal/crm-requisite-fields.md
# (boolean, datetime, double) and the recorded crm.lead.fields (money); integer, url, address,
# and the iblock types are assumed.
CRM_LINKS = {"LEAD": "N", "CONTACT": "N", "COMPANY": "N", "DEAL": "N"}
USER_TYPES: dict[str, dict[str, Any]] = {
    "string": {
        "SIZE": 20,
        "ROWS": 1,
        "REGEXP": "",
        "MIN_LENGTH": 0,
        "MAX_LENGTH": 0,
        "DEFAULT_VALUE": "",
    },
    "integer": {"SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": ""},
    "double": {"PRECISION": 2, "SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": ""},
    "boolean": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX", "LABEL": ["", ""], "LABEL_CHECKBOX": ""},
    "date": {"DEFAULT_VALUE": {"VALUE": "", "TYPE": "NONE"}},
    "datetime": {
        "DEFAULT_VALUE": {"TYPE": "NONE", "VALUE": ""},
        "USE_SECOND": "Y",
        "USE_TIMEZONE": "N",
    },
    "money": {"DEFAULT_VALUE": ""},
    "url": {},
    "address": {},
    "enumeration": {
        "DISPLAY": "LIST",
        "LIST_HEIGHT": 1,
        "CAPTION_NO_VALUE": "",
        "SHOW_NO_VALUE": "Y",
    },
    "file": {
        "SIZE": 20,
        "LIST_WIDTH": 0,
        "LIST_HEIGHT": 0,
        "MAX_SHOW_SIZE": 0,
        "MAX_ALLOWED_SIZE": 0,
        "EXTENSIONS": [],
        "TARGET_BLANK": "Y",
    },
    "employee": {},
    "crm_status": {"ENTITY_TYPE": ""},
    "iblock_section": {
        "IBLOCK_TYPE_ID": "",
        "IBLOCK_ID": 0,
        "DEFAULT_VALUE": "",
        "DISPLAY": "LIST",
    },
    "iblock_element": {
        "IBLOCK_TYPE_ID": "",
        "IBLOCK_ID": 0,
        "DEFAULT_VALUE": "",
        "DISPLAY": "LIST",
    },
    "crm": CRM_LINKS,
}


STANDARD: dict[str, dict[str, Field]] = {
    "deal": DEAL,
    "company": COMPANY,
    "contact": CONTACT,
    "requisite": REQUISITE,
    "product": PRODUCT,
}


def describe(kind: str) -> dict[str, dict[str, Any]]:
    """The standard part of `crm.<kind>.fields`, in the documented order."""
    return {name: spec.describe() for name, spec in STANDARD[kind].items()}


def read_only(kind: str) -> frozenset[str]:
    return frozenset(name for name, spec in STANDARD[kind].items() if spec.read_only)


def immutable(kind: str) -> frozenset[str]:
    return frozenset(name for name, spec in STANDARD[kind].items() if spec.immutable)
