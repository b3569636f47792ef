"""Routing, auth, parameter encodings and the response envelope of the Bitrix24 emulator."""

from __future__ import annotations

from tests.integration.sandbox.b24 import Portal

TIME_KEYS = {
    "start",
    "finish",
    "duration",
    "processing",
    "date_start",
    "date_finish",
    "operating_reset_at",
    "operating",
}


def test_method_with_and_without_json_suffix_by_get_and_post(portal: Portal) -> None:
    by_get = portal.client.get(portal.hook + "crm.deal.get.json", params={"ID": "1"})
    by_post = portal.client.post(portal.hook + "crm.deal.get", json={"id": 1})
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.json()["result"] == by_post.json()["result"]
    assert by_get.json()["result"]["ID"] == "1"


def test_envelope_carries_time_block(portal: Portal) -> None:
    body = portal.call("crm.deal.get", {"id": 1}).json()
    assert set(body) == {"result", "time"}
    assert set(body["time"]) == TIME_KEYS
    assert isinstance(body["time"]["start"], float)
    assert body["time"]["date_start"].endswith("+02:00")


def test_php_bracket_form_body(portal: Portal) -> None:
    form = {"filter[>ID]": "5", "select[]": "ID", "order[ID]": "DESC"}
    body = portal.client.post(portal.hook + "crm.deal.list", data=form).json()
    assert body["result"] == [{"ID": "7"}, {"ID": "6"}]
    assert body["total"] == 2


def test_php_bracket_query_string(portal: Portal) -> None:
    # An `=` inside a key must be percent-encoded, as PHP splits the pair at the first `=`.
    query = "filter[%3C%3DID]=2&select[0]=ID&select[1]=TITLE"
    body = portal.client.get(portal.hook + "crm.deal.list?" + query).json()
    assert [d["ID"] for d in body["result"]] == ["1", "2"]
    assert set(body["result"][0]) == {"ID", "TITLE"}


def test_multipart_form_body(portal: Portal) -> None:
    files = {"fields[TITLE]": (None, "Через multipart")}
    response = portal.client.post(portal.hook + "crm.deal.add", files=files)
    new_id = response.json()["result"]
    assert portal.result("crm.deal.get", {"id": new_id})["TITLE"] == "Через multipart"


def test_uppercase_parameter_names_are_accepted(portal: Portal) -> None:
    result = portal.result("crm.deal.update", {"ID": 1, "FIELDS": {"TITLE": "Нова назва"}})
    assert result is True
    assert portal.result("crm.deal.get", {"ID": 1})["TITLE"] == "Нова назва"


def test_method_names_are_case_insensitive(portal: Portal) -> None:
    assert portal.result("CRM.Deal.Get", {"id": 2})["ID"] == "2"


def test_wrong_webhook_user_or_code_is_no_auth_found(portal: Portal) -> None:
    for path in ("rest/2/sandbox/crm.deal.get", "rest/1/wrong/crm.deal.get", "rest/crm.deal.get"):
        response = portal.client.post(f"{portal.base}/bitrix24/{path}", json={"id": 1})
        assert response.status_code == 401, path
        assert response.json() == {
            "error": "NO_AUTH_FOUND",
            "error_description": "Wrong authorization data",
        }


def test_unknown_method_is_404(portal: Portal) -> None:
    response = portal.call("crm.deal.explode", {})
    assert response.status_code == 404
    assert response.json() == {
        "error": "ERROR_METHOD_NOT_FOUND",
        "error_description": "Method not found!",
    }


def test_every_request_is_counted(portal: Portal) -> None:
    portal.call("crm.deal.get", {"id": 1})
    portal.call("crm.deal.list", {})
    portal.client.get(f"{portal.base}/bitrix24/rest/1/nope/crm.deal.get")
    stats = portal.control.stats()["bitrix24"]
    assert stats["requests"] == 3
    assert stats["by_method"] == {"crm.deal.get": 2, "crm.deal.list": 1}
