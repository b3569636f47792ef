"""Config loading and `check`: every problem named with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmbridge.config.check import check
from crmbridge.config.load import ConfigProblems, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sandbox.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "crmbridge.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def example(*replacements: tuple[str, str]) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_the_sandbox_example_is_clean() -> None:
    loaded = load_config(EXAMPLE, {})
    assert check(loaded) == []
    systems = loaded.config.systems
    assert systems.bas.odata_url == "http://127.0.0.1:8765/bas/odata/standard.odata/"
    assert "sandbox" not in repr(systems.bas) and "sandbox-app-token" not in repr(systems.crm)


def test_a_field_written_from_both_sides_is_refused_with_both_places(tmp_path: Path) -> None:
    text = example(
        (
            "  product:  #",
            "  client_back:\n    entity: client\n    direction: bas->crm\n    fields:\n"
            '      Description: counterparty["Description"]\n  product:  #',
        )
    )
    path = write(tmp_path, text)
    problems = [str(p) for p in check(load_config(path, {}))]
    lines = text.splitlines()
    first = lines.index("      Description: company.TITLE") + 1  # the example's own mapping
    second = lines.index('      Description: counterparty["Description"]') + 1
    assert any(
        p.startswith(
            f"{path}:{first}: mappings.client.fields.Description: client.Description is "
            "written from both sides (also by mapping client_back)"
        )
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{path}:{second}: mappings.client_back.fields.Description") for p in problems
    )


def test_writing_into_the_side_that_does_not_own_the_field(tmp_path: Path) -> None:
    text = example(
        (
            "      UF_CRM_PAYMENT_STATUS: status\n",
            '      UF_CRM_PAYMENT_STATUS: status\n      TITLE: invoice["Number"]\n',
        )
    )
    path = write(tmp_path, text)
    problems = [str(p) for p in check(load_config(path, {}))]
    line = text.splitlines().index('      TITLE: invoice["Number"]') + 1
    assert problems == [
        f"{path}:{line}: mappings.deal_invoice.fields.TITLE: writes deal.TITLE from bas into crm,"
        " but crm owns it: only crm may write it"
    ]


def test_expressions_must_compile_and_name_known_inputs(tmp_path: Path) -> None:
    text = example(
        ("      Description: company.TITLE", "      Description: compnay.TITLE"),
        ("    direction: crm->bas\n", "    direction: crm->bas\n    when: deal_total >\n"),
    )
    problems = [str(p) for p in check(load_config(write(tmp_path, text), {}))]
    assert len(problems) == 2, problems
    assert "mappings.client.fields.Description: unknown name compnay" in problems[0]
    assert "mappings.client.when: CEL expression 'deal_total >' does not compile" in problems[1]


def test_schema_errors_are_all_listed_with_lines(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("    rate: 2\n", "    rate: fast\n")
    text = text.replace(
        "    poll_every: ${CRMBRIDGE_POLL_EVERY:-5}\n    paid_stage",
        "    pol_every: 5\n    paid_stage",
    )
    text = text.replace("    user: Адміністратор\n", "")
    path = write(tmp_path, text)
    with pytest.raises(ConfigProblems) as raised:
        load_config(path, {})
    lines = text.splitlines()
    found = {(p.line, p.field) for p in raised.value.problems}
    assert (lines.index("    rate: fast") + 1, "systems.crm.rate") in found
    assert (lines.index("    pol_every: 5") + 1, "flows.payments.pol_every") in found
    assert (lines.index("  bas:") + 1, "systems.bas.user") in found
    assert len(found) == 3


def test_a_missing_environment_variable_names_the_setting(tmp_path: Path) -> None:
    path = write(tmp_path, "database: ${NO_SUCH_VAR}\n")
    with pytest.raises(
        Exception, match=r":1: database: environment variable NO_SUCH_VAR is not set"
    ):
        load_config(path, {})


def test_custom_functions_resolve_or_are_reported(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8") + "functions:\n  vip: no.such.module:is_vip\n"
    problems = [str(p) for p in check(load_config(write(tmp_path, text), {}))]
    assert len(problems) == 1 and "functions.vip: cannot import no.such.module" in problems[0]


def test_a_key_given_twice_is_refused_not_silently_overridden(tmp_path: Path) -> None:
    text = example(("    burst: 50\n", "    burst: 50\n    rate: 20\n"))
    path = write(tmp_path, text)
    with pytest.raises(ConfigProblems) as raised:
        load_config(path, {})
    lines = text.splitlines()
    first = lines.index("    rate: 2") + 1
    assert [str(p) for p in raised.value.problems] == [
        f"{path}:{first + 2}: systems.crm.rate: given twice (first at line {first})"
    ]


def test_every_missing_environment_variable_is_listed_with_its_line() -> None:
    real = EXAMPLE.with_name("bitrix24-bas.yaml")
    with pytest.raises(ConfigProblems) as raised:
        load_config(real, {})
    fields = [p.field for p in raised.value.problems]
    assert fields == [
        "database",
        "systems.crm.webhook_url",
        "systems.crm.application_token",
        "systems.bas.odata_url",
        "systems.bas.user",
        "systems.bas.password",
    ]
    env = {
        "CRMBRIDGE_DATABASE_URL": "sqlite:///x.db",
        "B24_WEBHOOK_URL": "https://example.bitrix24.ua/rest/1/abc123/",
        "B24_APPLICATION_TOKEN": "token",
        "BAS_ODATA_URL": "https://bas.example/buh/odata/standard.odata/",
        "BAS_USER": "crm",
        "BAS_PASSWORD": "secret",
    }
    assert check(load_config(real, env)) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    odata_url: ${CRMBRIDGE_SANDBOX_URL:-http://127.0.0.1:8765}/bas/odata/standard.odata/",
            "    odata_url: 127.0.0.1:8765/bas/odata/standard.odata/",
            "systems.bas.odata_url: '127.0.0.1:8765/bas/odata/standard.odata/' has no scheme: "
            "write http://… or https://…",
        ),
        (
            "    odata_url: ${CRMBRIDGE_SANDBOX_URL:-http://127.0.0.1:8765}/bas/odata/standard.odata/",
            "    odata_url: http://127.0.0.1:8765/bas/",
            "systems.bas.odata_url: 'http://127.0.0.1:8765/bas/' is not the OData root of a "
            "publication: it ends with /odata/standard.odata/ "
            "(here http://127.0.0.1:8765/bas/odata/standard.odata/)",
        ),
        (
            "    webhook_url: ${CRMBRIDGE_SANDBOX_URL:-http://127.0.0.1:8765}/bitrix24/rest/1/sandbox/",
            "    webhook_url: portal.bitrix24.ua/rest/1/sandbox/",
            "systems.crm.webhook_url: a Bitrix24 inbound webhook URL looks like "
            "https://<portal>/rest/<user>/<code>/",
        ),
    ],
)
def test_system_urls_are_checked_without_the_systems(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    problems = [str(p) for p in check(load_config(write(tmp_path, example((old, new))), {}))]
    assert len(problems) == 1 and problems[0].endswith(expected), problems
    assert "/rest/1/sandbox" not in problems[0]  # a webhook's code is a password


def test_an_unknown_cel_function_or_method_is_named(tmp_path: Path) -> None:
    text = example(
        ("      Description: company.TITLE", "      Description: company.TITLE.lower()"),
        ('      NAME: product["Description"]', '      NAME: trim(product["Description"])'),
    )
    problems = [str(p) for p in check(load_config(write(tmp_path, text), {}))]
    assert len(problems) == 2, problems
    assert "mappings.client.fields.Description: unknown CEL function lower()" in problems[0]
    assert "mappings.product.fields.NAME: unknown CEL function trim()" in problems[1]
    assert "register your own under functions:" in problems[0]


def test_a_registered_function_and_the_engines_own_are_known(tmp_path: Path) -> None:
    text = example(
        (
            "      Description: company.TITLE",
            '      Description: \'company.TITLE.startsWith("ТОВ") ? slug(company.TITLE) : ""\'',
        )
    )
    text += "functions:\n  slug: tests.unit.test_config:slug\n"
    assert check(load_config(write(tmp_path, text), {})) == []


def slug(value: str) -> str:
    return value.lower()


def test_every_function_the_check_calls_known_runs_in_the_engine() -> None:
    # The list the check trusts must be what the CEL engine really has: each one is run.
    import cel

    from crmbridge.config.expressions import ENGINE_FUNCTIONS

    examples = {
        "size": 'size("ab") == 2',
        "has": "has(a.b)",
        "contains": '"ab".contains("a")',
        "startsWith": '"ab".startsWith("a")',
        "endsWith": '"ab".endsWith("b")',
        "matches": '"ab".matches("a.*")',
        "string": 'string(1) == "1"',
        "int": 'int("1") == 1',
        "uint": "uint(1) == 1u",
        "double": "double(1) == 1.0",
        "bytes": 'bytes("a") == b"a"',
        "duration": 'duration("1s") == duration("1s")',
        "timestamp": 'timestamp("2020-01-01T00:00:00Z").getFullYear() == 2020',
        "type": "type(1) == int",
        "dyn": "dyn(1) == 1",
        "all": "[1].all(x, x > 0)",
        "exists": "[1].exists(x, x > 0)",
        "exists_one": "[1].exists_one(x, x > 0)",
        "map": "[1].map(x, x * 2) == [2]",
        "filter": "[1, 2].filter(x, x > 1) == [2]",
        **{
            name: f'timestamp("2020-01-02T03:04:05Z").{name}() >= 0'
            for name in (
                "getFullYear",
                "getMonth",
                "getDate",
                "getDayOfMonth",
                "getDayOfWeek",
                "getDayOfYear",
                "getHours",
                "getMinutes",
                "getSeconds",
                "getMilliseconds",
            )
        },
    }
    assert set(examples) == set(ENGINE_FUNCTIONS)
    for name, source in examples.items():
        assert cel.compile(source).execute({"a": {"b": 1}}) is True, name
