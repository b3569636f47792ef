"""Schemathesis against /api/openapi.json of a served app: no request it derives from the schema
gets a 5xx, and every answer matches what the schema documents.

One test walks every operation with Hypothesis (schemathesis's pytest fixture loader does not
work with this pytest), so the database with a few dead letters is set up once.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from crmbridge.app import Application
from crmbridge.config.load import load_config
from crmbridge.store.database import Database
from crmbridge.web.app import create_app
from tests.e2e.test_dashboard import ENV, EXAMPLE, TOKEN, dead_job
from tests.support.servers import serve_app

AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = 25


def test_no_5xx_and_answers_match_the_schema(db: Database) -> None:
    dead_job(db, "deal-changed", "Permanent: deal 1 has no company", "deal:1")
    dead_job(db, "clients", "Permanent: company 7 has no RQ_EDRPOU", "company:7")
    app = Application(load_config(EXAMPLE, ENV).config, db)
    with serve_app(create_app(app)) as url:
        schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json", headers=AUTH)
        # Configured, not generated: the checks know these are valid and also try without them.
        schema.config.update(headers=AUTH)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10
        for operation in operations:
            fuzz(operation)
    app.close()


def fuzz(operation: schemathesis.APIOperation) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate()

    check()


def test_a_nul_byte_in_a_text_parameter_is_refused_not_a_500(db: Database) -> None:
    # Found by the fuzzer on PostgreSQL, which refuses NUL in text: the API must say 422 first.
    import httpx

    app = Application(load_config(EXAMPLE, ENV).config, db)
    with serve_app(create_app(app)) as url:
        for path in ("/api/jobs?flow=a%00b", "/api/exchanges?key=%00", "/api/trace/deal/1%00"):
            answer = httpx.get(url + path, headers=AUTH)
            assert answer.status_code == 422, (path, answer.text)
    app.close()
