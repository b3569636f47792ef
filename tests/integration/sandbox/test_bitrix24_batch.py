"""`batch`: named and numeric commands, `$result` references, halt, errors and limits."""

from __future__ import annotations

from tests.integration.sandbox.b24 import Portal, running_portal


def test_references_to_earlier_results(portal: Portal) -> None:
    cmd = {
        "deal": "crm.deal.get?id=2",
        "rows": "crm.deal.productrows.get?id=$result[deal][ID]",
        "co": "crm.company.get?id=$result[deal][COMPANY_ID]",
        "list": "crm.deal.list?filter[STAGE_ID]=NEW&select[]=ID",
        "first": "crm.deal.get?id=$result[list][0][ID]",
    }
    body = portal.call("batch", {"halt": 0, "cmd": cmd}).json()
    result = body["result"]
    assert set(result) == {"result", "result_error", "result_total", "result_next", "result_time"}
    assert result["result"]["co"]["ID"] == "2"
    assert result["result"]["rows"][0]["OWNER_ID"] == "2"
    assert result["result"]["first"]["ID"] == "5"
    assert result["result_error"] == []
    assert result["result_total"] == {"list": 3}
    assert result["result_next"] == []
    assert set(result["result_time"]) == set(cmd)
    assert "time" in body


def test_errors_stay_per_command_with_http_200(portal: Portal) -> None:
    cmd = {"ok": "crm.deal.get?id=1", "gone": "crm.deal.get?id=999", "bad": "no.such.method"}
    response = portal.call("batch", {"cmd": cmd})
    assert response.status_code == 200
    result = response.json()["result"]
    assert list(result["result"]) == ["ok"]
    assert result["result_error"] == {
        "gone": {"error": "", "error_description": "Not found"},
        "bad": {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"},
    }
    assert list(result["result_time"]) == ["ok"]


def test_halt_stops_at_the_first_failure(portal: Portal) -> None:
    cmd = {
        "a": "crm.deal.update?id=1&fields[TITLE]=A",
        "b": "crm.deal.get?id=999",
        "c": "crm.deal.update?id=2&fields[TITLE]=C",
    }
    result = portal.call("batch", {"halt": 1, "cmd": cmd}).json()["result"]
    assert result["result"] == {"a": True} and list(result["result_error"]) == ["b"]
    assert portal.result("crm.deal.get", {"id": 2})["TITLE"] != "C"


def test_numeric_commands_collapse_into_lists(portal: Portal) -> None:
    cmd = ["crm.deal.get?id=1", "crm.deal.get?id=2"]
    result = portal.call("batch", {"cmd": cmd}).json()["result"]
    assert isinstance(result["result"], list) and result["result"][1]["ID"] == "2"
    failing = ["crm.deal.get?id=1", "crm.deal.get?id=x", "crm.deal.get?id=404"]
    mixed = portal.call("batch", {"cmd": failing}).json()["result"]
    assert mixed["result"] == [mixed["result"][0]]  # key "0" alone collapses into a list
    assert mixed["result_error"] == [
        {"error": "", "error_description": "ID is not defined or invalid."},
        {"error": "", "error_description": "Not found"},
    ]


def test_form_encoded_batch_with_list_paging(portal: Portal) -> None:
    for n in range(55):
        portal.sandbox.call("crm.deal.add", {"fields": {"TITLE": f"b{n}"}})
    form = {
        "halt": "0",
        "cmd[page]": "crm.deal.list?select[]=ID",
        "cmd[add]": "crm.deal.add?fields[TITLE]=x",
    }
    result = portal.client.post(portal.hook + "batch", data=form).json()["result"]
    assert len(result["result"]["page"]) == 50
    assert result["result_total"] == {"page": 62} and result["result_next"] == {"page": 50}
    assert result["result"]["add"] == 63


def test_more_than_fifty_commands_and_no_nesting(portal: Portal) -> None:
    cmd = {f"c{i}": f"crm.deal.get?id={i % 7 + 1}" for i in range(52)}
    cmd["inner"] = "batch?cmd[x]=crm.deal.get%3Fid%3D1"
    result = portal.call("batch", {"cmd": cmd}).json()["result"]
    assert len(result["result"]) == 50
    assert result["result_error"]["c50"]["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
    assert result["result_error"]["inner"]["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
    nested = portal.call("batch", {"cmd": {"inner": "batch?cmd[x]=user.get"}}).json()["result"]
    assert nested["result_error"]["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"


def test_batch_is_one_request_for_the_limit() -> None:
    with running_portal(rate=2.0, burst=2) as portal:
        cmd = {f"c{i}": "crm.deal.get?id=1" for i in range(40)}
        assert portal.call("batch", {"cmd": cmd}).status_code == 200
        assert portal.call("batch", {"cmd": cmd}).status_code == 200
        assert portal.call("batch", {"cmd": cmd}).status_code == 503
        assert portal.control.stats()["bitrix24"]["by_method"] == {"batch": 3}
