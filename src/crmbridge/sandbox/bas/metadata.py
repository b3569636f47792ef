"""`$metadata` (CSDL, OData v3) generated from the profile, in the layout of real 1C servers.

Shape checked against the recorded `$metadata` of a Ukrainian configuration (`DATEX`
`App/Documents/$metadata.xml`): namespace `StandardODATA`, container `EnterpriseV8`, tabular
sections both as entity types keyed by `Ref_Key`+`LineNumber` and as `_RowType` complex types,
navigation properties only towards published sets (`FromRole="Begin" ToRole="End"`), and bindable
`SliceLast`/`SliceFirst` function imports per information register. Documents get the bindable
`Post`/`Unpost` actions of reference §1.9.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from crmbridge.sandbox.bas.schema import EntitySet, Field, Schema, Table

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">\n'
    '  <edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
    ' m:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0">\n'
    '    <Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="StandardODATA">\n'
)
_TAIL = "    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n"
NS = "StandardODATA"


def _el(indent: int, tag: str, attrs: dict[str, str], end: str = "/>") -> str:
    text = " ".join(f"{name}={quoteattr(value)}" for name, value in attrs.items())
    return f"{' ' * indent}<{tag} {text}{end}"


def _property(f: Field, key: bool) -> str:
    nullable = "false" if key else "true"
    return _el(8, "Property", {"Name": f.name, "Type": f.edm, "Nullable": nullable})


def _keys(names: list[str]) -> list[str]:
    refs = [f"          <PropertyRef Name={quoteattr(n)}/>" for n in names]
    return ["        <Key>", *refs, "        </Key>"]


def _navigations(schema: Schema, owner: str, fields: tuple[Field, ...]) -> list[str]:
    lines = []
    for f in fields:
        if f.role == "ref" and f.target and schema.is_published(f.target):
            relation = quoteattr(f"{NS}.{owner}_{f.attr}")
            lines.append(
                f"        <NavigationProperty Name={quoteattr(f.attr)} Relationship={relation}"
                ' FromRole="Begin" ToRole="End"/>'
            )
    return lines


def _entity_type(schema: Schema, entity: EntitySet) -> list[str]:
    keys = ["Ref_Key"] if entity.kind != "InformationRegister" else ["Period", *entity.dimensions]
    lines = [f"      <EntityType Name={quoteattr(entity.name)}>", *_keys(keys)]
    lines += [_property(f, f.name in keys) for f in entity.fields]
    for table in entity.tables.values():
        row_type = quoteattr(f"Collection({NS}.{table.set_name}_RowType)")
        lines.append(
            f'        <Property Name={quoteattr(table.name)} Type={row_type} Nullable="true"/>'
        )
    lines += _navigations(schema, entity.name, entity.fields)
    return [*lines, "      </EntityType>"]


def _table_types(schema: Schema, table: Table) -> list[str]:
    keys = ["Ref_Key", "LineNumber"]
    lines = [f"      <EntityType Name={quoteattr(table.set_name)}>", *_keys(keys)]
    lines += [_property(f, f.name in keys) for f in table.fields]
    lines += _navigations(schema, table.set_name, table.fields)
    lines += [
        "      </EntityType>",
        f"      <ComplexType Name={quoteattr(table.set_name + '_RowType')}>",
    ]
    lines += [_property(f, False) for f in table.fields if f.name != "Ref_Key"]
    return [*lines, "      </ComplexType>"]


def _associations(schema: Schema, owner: str, fields: tuple[Field, ...]) -> list[str]:
    lines = []
    for f in fields:
        if f.role == "ref" and f.target and schema.is_published(f.target):
            lines += [
                f"      <Association Name={quoteattr(f'{owner}_{f.attr}')}>",
                _el(8, "End", {"Role": "Begin", "Type": f"{NS}.{owner}", "Multiplicity": "*"}),
                _el(8, "End", {"Role": "End", "Type": f"{NS}.{f.target}", "Multiplicity": "0..1"}),
                "      </Association>",
            ]
    return lines


def _function(name: str, binding: str, params: list[tuple[str, str]], ret: str | None) -> list[str]:
    attrs = {"Name": name, "IsBindable": "true", "IsSideEffecting": "false" if ret else "true"}
    attrs |= {"ReturnType": ret} if ret else {"m:HttpMethod": "POST"}
    head = _el(8, "FunctionImport", attrs, ">")
    lines = [
        head,
        f'          <Parameter Name="bindingParameter" Type={quoteattr(f"{NS}.{binding}")}/>',
    ]
    lines += [f"          <Parameter Name={quoteattr(p)} Type={quoteattr(t)}/>" for p, t in params]
    return [*lines, "        </FunctionImport>"]


def _container(sets: list[EntitySet]) -> list[str]:
    lines = ['      <EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true">']
    for entity in sets:
        names = [entity.name] + [t.set_name for t in entity.tables.values()]
        lines += [
            f"        <EntitySet Name={quoteattr(n)} EntityType={quoteattr(f'{NS}.{n}')}/>"
            for n in names
        ]
    for entity in sets:
        if entity.kind == "InformationRegister":
            params = [("Condition", "Edm.String"), ("Period", "Edm.DateTime")]
            ret = f"Collection({NS}.{entity.name})"
            lines += _function("SliceLast", entity.name, params, ret)
            lines += _function("SliceFirst", entity.name, params, ret)
        elif entity.kind == "Document":
            lines += _function(
                "Post", entity.name, [("PostingModeOperational", "Edm.Boolean")], None
            )
            lines += _function("Unpost", entity.name, [], None)
    return [*lines, "      </EntityContainer>"]


def render(schema: Schema) -> str:
    sets = [s for s in schema.sets.values() if s.published]
    lines: list[str] = []
    for entity in sets:
        lines += _entity_type(schema, entity)
        for table in entity.tables.values():
            lines += _table_types(schema, table)
    for entity in sets:
        lines += _associations(schema, entity.name, entity.fields)
        for table in entity.tables.values():
            lines += _associations(schema, table.set_name, table.fields)
    lines += _container(sets)
    return _HEAD + "\n".join(lines) + "\n" + _TAIL
