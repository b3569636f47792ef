"""Atom (the default representation of 1C OData, reference §1.5) for entities and feeds.

Entry layout copies a recorded 1C answer (a public Java client's notes, see the fixture
`atom_entry_catalog.xml`): `id`, `category`, empty `title`, naive `updated`, empty `author` and
`summary`, one `related` link per filled reference, the `edit` link, then `m:properties` with
untyped scalar elements, empty strings as empty elements, tabular sections as
`m:type="Collection(…_RowType)"` with `d:element` rows.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

ATOM = "http://www.w3.org/2005/Atom"
APP = "http://www.w3.org/2007/app"
DATA = "http://schemas.microsoft.com/ado/2007/08/dataservices"
META = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
SCHEME = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"
ENTRY_TYPE = "application/atom+xml;type=entry;charset=utf-8"
FEED_TYPE = "application/atom+xml;type=feed;charset=utf-8"
_LINK = "@navigationLinkUrl"


def _namespaces(base: str) -> str:
    return f'xmlns="{ATOM}" xmlns:d="{DATA}" xmlns:m="{META}" xml:base={quoteattr(base)}'


def _scalar(name: str, value: Any) -> str:
    if value is None or value == "":
        return f"<d:{name}/>"
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"<d:{name}>{escape(text)}</d:{name}>"


def _collection(name: str, row_type: str, rows: list[dict[str, Any]]) -> str:
    kind = quoteattr(f"Collection({row_type})")
    if not rows:
        return f"<d:{name} m:type={kind}/>"
    items = "".join(
        f"<d:element m:type={quoteattr(row_type)}>"
        + "".join(_scalar(k, v) for k, v in row.items() if k != "Ref_Key")
        + "</d:element>"
        for row in rows
    )
    return f"<d:{name} m:type={kind}>{items}</d:{name}>"


def scalar_document(name: str, value: Any) -> str:
    """A single property value (`…/Set(guid'…')/Prop`) as an XML document element."""
    element = _scalar(name, value)
    return element.replace(f"<d:{name}", f'<d:{name} xmlns:d="{DATA}"', 1)


def properties(set_name: str, entity: dict[str, Any]) -> str:
    parts = []
    for name, value in entity.items():
        if name.endswith(_LINK) or name.startswith("odata."):
            continue
        if isinstance(value, list):
            parts.append(_collection(name, f"StandardODATA.{set_name}_{name}_RowType", value))
        elif not isinstance(value, dict):  # expanded entities travel as links in atom
            parts.append(_scalar(name, value))
    return f'<m:properties xmlns:d="{DATA}" xmlns:m="{META}">{"".join(parts)}</m:properties>'


def _entry_body(base: str, set_name: str, entity: dict[str, Any], updated: str) -> str:
    key = f"{set_name}(guid'{entity['Ref_Key']}')" if "Ref_Key" in entity else set_name
    links = "".join(
        f"<link rel={quoteattr(f'{DATA}/related/{name[: -len(_LINK)]}')} href={quoteattr(url)}"
        f' type="{ENTRY_TYPE}" title={quoteattr(name[: -len(_LINK)])}/>'
        for name, url in entity.items()
        if name.endswith(_LINK)
    )
    return (
        f"<id>{escape(base + key)}</id>"
        f'<category term={quoteattr(f"StandardODATA.{set_name}")} scheme="{SCHEME}"/>'
        f'<title type="text"/><updated>{updated}</updated><author/><summary/>{links}'
        f'<link rel="edit" href={quoteattr(key)} title="edit-link"/>'
        f'<content type="application/xml">{properties(set_name, entity)}</content>'
    )


def entry(base: str, set_name: str, entity: dict[str, Any], updated: str) -> str:
    body = _entry_body(base, set_name, entity, updated)
    return f'<?xml version="1.0" encoding="UTF-8"?><entry {_namespaces(base)}>{body}</entry>'


def feed(
    base: str, set_name: str, entities: list[dict[str, Any]], updated: str, count: int | None
) -> str:
    counted = f"<m:count>{count}</m:count>" if count is not None else ""
    entries = "".join(f"<entry>{_entry_body(base, set_name, e, updated)}</entry>" for e in entities)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><feed {_namespaces(base)}>'
        f'<id>{escape(base + set_name)}</id><title type="text">{escape(set_name)}</title>'
        f'<updated>{updated}</updated><author/><link rel="self" href={quoteattr(set_name)}'
        f" title={quoteattr(set_name)}/>{counted}{entries}</feed>"
    )


def service(base: str, names: list[str]) -> str:
    collections = "".join(
        f"<collection href={quoteattr(n)}><atom:title>{escape(n)}</atom:title></collection>"
        for n in names
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<service xmlns="{APP}" xmlns:atom="{ATOM}" xml:base={quoteattr(base)}>'
        f"<workspace><atom:title>Default</atom:title>{collections}</workspace></service>"
    )
