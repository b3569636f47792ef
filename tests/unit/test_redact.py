from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

import pytest

from crmbridge.connectors.redact import (
    MASK,
    TRUNCATED,
    RedactingFilter,
    Redactor,
    basic_auth_secrets,
    protect_http_logs,
)


def test_webhook_code_in_the_path_is_masked_without_being_told() -> None:
    url = "https://example.bitrix24.com/rest/1/x7k2qmz9abc/crm.deal.get.json?ID=42"
    assert (
        Redactor().text(url)
        == f"https://example.bitrix24.com/rest/1/{MASK}/crm.deal.get.json?ID=42"
    )


def test_rest_v3_webhook_path_is_masked() -> None:
    assert "s3cr3t" not in Redactor().text(
        "https://p.bitrix24.com/rest/api/7/s3cr3t/tasks.task.get"
    )


def test_userinfo_password_in_a_url_is_masked() -> None:
    out = Redactor().text("http://admin:Пароль1@bas.local/odata/standard.odata/")
    assert "Пароль1" not in out and "admin:" in out


@pytest.mark.parametrize(
    "body",
    [
        "event=ONCRMDEALUPDATE&auth[application_token]=tok123456&auth[domain]=x.bitrix24.com",
        "event=ONCRMDEALUPDATE&auth%5Bapplication_token%5D=tok123456&ts=1",
        "grant_type=refresh_token&refresh_token=tok123456&client_secret=tok123456",
        "https://p.bitrix24.com/rest/crm.deal.get?auth=tok123456&id=1",
        '{"access_token": "tok123456", "expires_in": 3600}',
        '{"password":"tok123456"}',
        "Authorization: Basic tok123456",
        "Bearer tok123456",
    ],
)
def test_secret_named_values_are_masked_by_pattern(body: str) -> None:
    out = Redactor().text(body)
    assert "tok123456" not in out
    assert MASK in out


def test_harmless_neighbours_stay_readable() -> None:
    body = "auth[domain]=x.bitrix24.com&auth[member_id]=abc&data[FIELDS][ID]=759&event_token=e1"
    assert Redactor().text(body) == body


def test_known_secrets_are_masked_raw_and_percent_encoded() -> None:
    secret = "пароль з пробілом"
    redactor = Redactor([secret])
    for form in (secret, quote(secret, safe=""), quote_plus(secret)):
        assert redactor.text(f"x={form}&y=1") == f"x={MASK}&y=1"


def test_basic_auth_header_value_is_a_known_secret() -> None:
    redactor = Redactor(basic_auth_secrets("Адміністратор", "pw-123"))
    token = basic_auth_secrets("Адміністратор", "pw-123")[1]
    assert token not in redactor.text(f"headers: {{'authorization': 'Basic {token}'}}")


def test_clipping_masks_a_secret_that_straddles_the_limit() -> None:
    secret = "S" * 40
    redactor = Redactor([secret])
    text = "a" * 90 + secret + "b" * 1000
    out = redactor.clipped(text, 100)
    assert "SSSSSSSSSS" not in out
    assert out.endswith(TRUNCATED)


def test_short_text_is_not_marked_truncated() -> None:
    assert Redactor().clipped("hello", 100) == "hello"


def test_repr_shows_no_secret() -> None:
    assert "hunter22" not in repr(Redactor(["hunter22"]))


def test_logging_filter_redacts_httpx_style_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact.httpx")
    logger.addFilter(RedactingFilter(Redactor()))
    with caplog.at_level(logging.INFO, logger="test.redact.httpx"):
        logger.info('HTTP Request: %s %s "%s"', "POST", "http://h/rest/1/abcdef/batch", "200 OK")
    assert "abcdef" not in caplog.text
    assert f"/rest/1/{MASK}/batch" in caplog.text


def test_protect_http_logs_keeps_one_filter_that_learns_every_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = "test.redact.idempotent"
    protect_http_logs(Redactor(["first-secret"]), loggers=[name])
    protect_http_logs(Redactor(["second-secret"]), loggers=[name])
    logger = logging.getLogger(name)
    assert sum(isinstance(f, RedactingFilter) for f in logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=name):
        logger.info("x first-secret y second-secret z")
    assert "secret" not in caplog.text
