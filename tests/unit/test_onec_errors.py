from __future__ import annotations

from pathlib import Path

import pytest

from crmbridge.connectors.onec import errors
from crmbridge.errors import Permanent, Retryable
from crmbridge.sandbox.bas.errors import ODataError, json_error, maintenance_body, xml_error

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "bas"
HTML = (
    "<html><head><title>1C:Enterprise 8 application error</title></head><body>"
    "Error by reason: The device is full '/tmp/v8_1.tmp'</body></html>"
)


def test_recorded_maintenance_403_is_retryable_with_the_1c_text() -> None:
    body = (RECORDED / "onecdc_maintenance_403.json").read_bytes()
    found = errors.describe(body)
    assert found.shape == "exception"
    assert "Начало сеанса с информационной базой запрещено" in found.text
    error = errors.classify(403, body, retry_after=30)
    assert isinstance(error, errors.Maintenance) and isinstance(error, Retryable)
    assert error.retry_after == 30
    assert "Ведутся технические работы" in str(error)


def test_recorded_xml_error_minus_one_is_permanent() -> None:
    body = (RECORDED / "onecdc_odata_error_minus1.xml").read_bytes()
    found = errors.describe(body)
    assert (found.code, found.shape) == ("-1", "odata-xml")
    assert found.text.startswith("{(3, 23)}: Неверные параметры в операции")
    error = errors.classify(500, body)
    assert isinstance(error, errors.OneCError) and error.code == "-1"


def test_recorded_json_404_is_not_found() -> None:
    body = (RECORDED / "doc_odata_error_404.json").read_bytes()
    assert errors.describe(body).code == "9"
    error = errors.classify(404, body, what="GET Catalog_X")
    assert isinstance(error, errors.NotFound) and isinstance(error, Permanent)
    assert "не найден по переданному ключу" in str(error) and "GET Catalog_X" in str(error)


def test_emulator_bodies_decode_like_recorded_ones() -> None:
    posting = ODataError(500, "-1", 'Поле "Контрагент" не заполнено')
    for body in (json_error(posting, "ru"), xml_error(posting)):
        error = errors.classify(500, body)
        assert isinstance(error, errors.OneCError), body
        assert 'Поле "Контрагент" не заполнено' in str(error)
    assert isinstance(errors.classify(403, maintenance_body("GET", "/x")), errors.Maintenance)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, "Ошибка блокировки данных при попытке чтения", errors.Locked),
        (
            500,
            '{"odata.error": {"code": "-1", "message": {"value": "Конфликт блокировок при '
            'выполнении транзакции"}}}',
            errors.Locked,
        ),
        (
            412,
            '{"odata.error": {"code": "-1", "message": {"value": "Версия"}}}',
            errors.VersionConflict,
        ),
        (500, HTML, errors.Unavailable),
        (502, "", errors.Unavailable),
        (503, "<html>busy</html>", errors.Unavailable),
        (429, "", errors.Unavailable),
        (401, "", errors.OneCError),
        (
            403,
            '{"odata.error": {"code": "20", "message": {"value": "Нет прав"}}}',
            errors.OneCError,
        ),
        (
            400,
            '{"odata.error": {"code": "14", "message": {"value": "Ошибка разбора"}}}',
            errors.OneCError,
        ),
    ],
)
def test_status_and_body_choose_the_class(status: int, body: str, expected: type) -> None:
    assert type(errors.classify(status, body)) is expected


def test_html_error_page_yields_the_reason() -> None:
    assert errors.describe(HTML).text == "The device is full '/tmp/v8_1.tmp'"
    assert errors.describe(b"").shape == "empty"
    assert errors.describe("{not json").shape == "text"


def test_version_conflict_asks_for_an_immediate_re_read() -> None:
    error = errors.classify(412, "")
    assert isinstance(error, Retryable) and error.retry_after == 0
