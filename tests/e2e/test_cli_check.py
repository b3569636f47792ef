"""`crmbridge check` against the sandbox: a good setup passes, and each broken one is one line
naming the system, what was tried and what to do, with exit status 1.

The broken setups are the ones a new user meets on the first day: wrong credentials, a webhook
without a scope, an address that does not resolve, refuses or fails TLS, the wrong profile,
objects not published, a CEL function the engine lacks, fields and stages the portal does not
have, a price type or organisation BAS does not have. The sandbox answers each as the real
systems do (docs/sandbox.md); nothing is tuned for the check.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from crmbridge.sandbox.server import Sandbox
from tests.e2e.test_cli_database import crmbridge
from tests.support.sandbox import running_sandbox
from tests.support.servers import free_port, serve_app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox.yaml"
URL = "${CRMBRIDGE_SANDBOX_URL:-http://127.0.0.1:8765}"
ODATA = f"    odata_url: {URL}/bas/odata/standard.odata/"
WEBHOOK = f"    webhook_url: {URL}/bitrix24/rest/1/sandbox/"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as running:
        yield running


def config_file(folder: Path, *replacements: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = folder / "crmbridge.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def check(config: Path, sandbox_url: str, *options: str) -> tuple[int, list[str], str]:
    """Exit status, the problem lines (without the closing count), stdout."""
    result = crmbridge(
        "check", "--config", str(config), *options, env={"CRMBRIDGE_SANDBOX_URL": sandbox_url}
    )
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    if result.returncode == 1:
        assert lines[-1].startswith(f"{config}: ") and lines[-1].endswith(("problem", "problems"))
        lines = lines[:-1]
    return result.returncode, lines, result.stdout


def test_a_good_setup_passes_against_both_systems(sandbox: Sandbox, tmp_path: Path) -> None:
    status, lines, out = check(config_file(tmp_path), sandbox.settings.public_url)
    assert (status, lines) == (0, [])
    assert "no problems found (checked against Bitrix24 http://127.0.0.1:" in out
    assert "and BAS http://127.0.0.1:" in out and "(profile bas-buh)" in out


def test_offline_checks_the_file_alone_and_says_so(tmp_path: Path) -> None:
    status, lines, out = check(config_file(tmp_path), "http://127.0.0.1:9", "--offline")
    assert (status, lines) == (0, [])
    assert "offline: the file alone, the systems were not contacted" in out


# (id, config replacements, expected fragments of the one problem line)
BROKEN_FILES = [
    (
        "wrong BAS password",
        [("    password: sandbox\n", "    password: not-the-password\n")],
        [
            "bas: GET http://127.0.0.1:",
            "/bas/odata/standard.odata/$metadata as «Адміністратор»",
            "401: user «Адміністратор» or the password is wrong; check systems.bas.user",
        ],
    ),
    (
        "wrong webhook code",
        [(WEBHOOK, f"    webhook_url: {URL}/bitrix24/rest/1/wrongcode/")],
        [
            "bitrix24: the method scope at Webhook('http://127.0.0.1:",
            "/rest/1/***/')",
            "401 NO_AUTH_FOUND",
            "copy the URL of the inbound webhook again",
        ],
    ),
    (
        "OData URL without a scheme",
        [(ODATA, "    odata_url: 127.0.0.1:8765/bas/odata/standard.odata/")],
        ["systems.bas.odata_url: '127.0.0.1:8765/bas/odata/standard.odata/' has no scheme"],
    ),
    (
        "BAS host that does not resolve",
        [(ODATA, "    odata_url: http://bas.crmbridge-nowhere.invalid/buh/odata/standard.odata/")],
        [
            "bas: GET http://bas.crmbridge-nowhere.invalid/buh/odata/standard.odata/$metadata",
            "the name bas.crmbridge-nowhere.invalid does not resolve; check the host",
        ],
    ),
    (
        "portal that refuses connections",
        [(WEBHOOK, "    webhook_url: http://127.0.0.1:9/rest/1/sandbox/")],
        [
            "bitrix24: the method scope at Webhook('http://127.0.0.1:9/rest/1/***/')",
            "nothing accepts connections at 127.0.0.1:9; check the port",
        ],
    ),
    (
        "wrong BAS profile",
        [("    profile: bas-buh\n", "    profile: bp30\n")],
        [
            "bas: GET",
            "the profile bp30 does not fit this infobase",
            "bas-buh does; set systems.bas.profile: bas-buh",
        ],
    ),
    (
        "publication path without OData",
        [(ODATA, f"    odata_url: {URL}/buh/odata/standard.odata/")],
        [
            "bas: GET http://127.0.0.1:",
            "/buh/odata/standard.odata/$metadata",
            "404: no OData interface at this address",
            '<standardOdata enable="true"/>',
        ],
    ),
    (
        "CEL method the engine lacks",
        [("      Description: company.TITLE\n", "      Description: company.TITLE.lower()\n")],
        ["mappings.client.fields.Description: unknown CEL function lower()"],
    ),
    (
        "CRM field the portal lacks",
        [("      Description: company.TITLE\n", "      Description: company.TITEL\n")],
        [
            "mappings.client.fields.Description: reads company.TITEL, which the portal's company "
            "records do not have (crm.company.fields)"
        ],
    ),
    (
        "stage id not in the funnel",
        [("    paid_stage: UC_PAID\n", "    paid_stage: UC_PAYED\n")],
        [
            "flows.payments.paid_stage: the deal funnel 0 has no stage 'UC_PAYED' (it has: NEW",
            "UC_PAID «",
        ],
    ),
    (
        "stage of a funnel the portal does not have",
        [("    invoice_stage: PREPAYMENT_INVOICE\n", "    invoice_stage: C7:INVOICE\n")],
        ["flows.issue_invoice.invoice_stage: the deal funnel 7 has no stage 'C7:INVOICE'"],
    ),
    (
        "price type BAS does not have",
        [("    price_type: Оптова ціна\n", "    price_type: Ціна для дилерів\n")],
        [
            "bas: GET http://127.0.0.1:",
            "/Catalog_ТипыЦенНоменклатуры",
            "there is no price type «Ціна для дилерів» (there are: «Оптова ціна»",
            "set systems.bas.price_type to one of them",
        ],
    ),
    (
        "organisation BAS does not have",
        [
            (
                "    price_type: Оптова ціна\n",
                "    price_type: Оптова ціна\n    organisation: '40075815'\n",
            )
        ],
        [
            "bas: GET http://127.0.0.1:",
            "/Catalog_Организации",
            "no organisation has the code 40075815 (there are: ",
            "set systems.bas.organisation to one of them",
        ],
    ),
    (
        "deal user field the portal lacks",
        [
            ("      UF_CRM_PAYMENT_STATUS: status", "      UF_CRM_PAYMENT_STATE: status"),
            ("    deal.UF_CRM_PAYMENT_STATUS: bas", "    deal.UF_CRM_PAYMENT_STATE: bas"),
        ],
        [
            "mappings.deal_invoice.fields.UF_CRM_PAYMENT_STATE: the portal has no deal field "
            "UF_CRM_PAYMENT_STATE (crm.deal.fields)"
        ],
    ),
]


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [pytest.param(r, e, id=name) for name, r, e in BROKEN_FILES],
)
def test_a_broken_setup_is_one_line_and_exit_1(
    sandbox: Sandbox, tmp_path: Path, replacements: list[tuple[str, str]], expected: list[str]
) -> None:
    status, lines, _ = check(config_file(tmp_path, *replacements), sandbox.settings.public_url)
    assert status == 1 and len(lines) == 1, lines
    for fragment in expected:
        assert fragment in lines[0], lines[0]


def test_a_webhook_without_the_task_scope_names_it(sandbox: Sandbox, tmp_path: Path) -> None:
    limited = sandbox.bitrix24.create_webhook(user=1, scopes=["crm", "user"])
    path = limited.split("/bitrix24/", 1)[1]
    config = config_file(tmp_path, (WEBHOOK, f"    webhook_url: {URL}/bitrix24/{path}"))
    status, lines, _ = check(config, sandbox.settings.public_url)
    assert status == 1 and len(lines) == 1, lines
    assert "bitrix24: the method scope at Webhook(" in lines[0]
    assert "not granted the scope(s) task (task: the rep's «ship the order» task)" in lines[0]
    assert "tick them" in lines[0]


def test_unpublished_objects_are_listed_all_at_once(tmp_path: Path) -> None:
    unpublished = ("Document_ПриходныйКассовыйОрдер", "Catalog_ТипыЦенНоменклатуры")
    with running_sandbox(unpublished=unpublished) as sandbox:
        status, lines, _ = check(config_file(tmp_path), sandbox.settings.public_url)
    assert status == 1 and len(lines) == 1, lines
    assert "not in the OData composition, but the enabled flows need them: " in lines[0]
    assert all(name in lines[0] for name in unpublished)
    assert "УстановитьСоставСтандартногоИнтерфейсаOData" in lines[0]


def test_a_maintenance_lock_out_is_reported_not_waited_out(tmp_path: Path) -> None:
    with running_sandbox() as sandbox:
        sandbox.control.set_fault("bas", "maintenance")
        status, lines, _ = check(config_file(tmp_path), sandbox.settings.public_url)
    assert status == 1 and len(lines) == 1, lines
    assert "Начало сеанса с информационной базой запрещено" in lines[0]
    assert "try again when it is over" in lines[0]


def test_a_certificate_the_machine_does_not_trust_is_a_tls_problem(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    authority = trustme.CA()  # not in the machine's trust store: like a self-signed server
    certificate = authority.issue_cert("127.0.0.1")
    key, chain = tmp_path / "key.pem", tmp_path / "chain.pem"
    certificate.private_key_pem.write_to_path(str(key))
    certificate.cert_chain_pems[0].write_to_path(str(chain))
    port = free_port()
    tls = {"ssl_keyfile": str(key), "ssl_certfile": str(chain)}
    with serve_app(sandbox.app, port=port, **tls) as https:
        config = config_file(tmp_path, (ODATA, f"    odata_url: {https}/bas/odata/standard.odata/"))
        status, lines, _ = check(config, sandbox.settings.public_url)
    assert status == 1 and len(lines) == 1, lines
    assert f"the TLS handshake with 127.0.0.1:{port} failed" in lines[0]
    assert "CERTIFICATE_VERIFY_FAILED" in lines[0]


def test_problems_of_the_file_and_of_both_systems_come_in_one_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = config_file(
        tmp_path,
        ("    password: sandbox\n", "    password: wrong\n"),
        ("      Description: company.TITLE\n", "      Description: company.TITEL.lower()\n"),
    )
    status, lines, _ = check(config, sandbox.settings.public_url)
    assert status == 1 and len(lines) == 3, lines
    assert "unknown CEL function lower()" in lines[0]
    assert "reads company.TITEL" in lines[1] and "401: user «Адміністратор»" in lines[2]
