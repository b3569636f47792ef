"""The sandbox process: both systems on one port, stats, faults, state across restarts, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from crmbridge.sandbox.server import Sandbox, SandboxSettings
from tests.support.sandbox import running_sandbox
from tests.support.servers import free_port, serve_app
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[3]
AUTH = ("Адміністратор".encode(), b"sandbox")


def _odata(sandbox: Sandbox, path: str) -> httpx.Response:
    url = sandbox.odata_url + path
    return httpx.get(url, params={"$format": "json"}, auth=AUTH)


def test_both_systems_answer_on_one_port_and_are_counted() -> None:
    with running_sandbox() as sandbox:
        deal = httpx.get(sandbox.bitrix24_webhook + "crm.deal.get.json", params={"id": 1})
        currencies = _odata(sandbox, "Catalog_Валюты")
        stats = httpx.get(f"{sandbox.settings.public_url}/sandbox/stats").json()
    assert deal.json()["result"]["ID"] == "1"
    assert currencies.json()["value"][0]["Code"] == "980"
    assert stats["bitrix24"] == {"requests": 1, "rate_limited": 0, "by_method": {"crm.deal.get": 1}}
    assert stats["bas"]["requests"] == 1 and stats["bas"]["by_set"] == {"Catalog_Валюты": 1}
    assert stats["events_emitted"] == 0


def test_a_fault_is_set_by_post_and_bad_fault_requests_change_nothing() -> None:
    with running_sandbox() as sandbox:
        base = sandbox.settings.public_url
        bad = httpx.post(f"{base}/sandbox/faults", json={"system": "bas", "mode": "explode"})
        assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "mode"
        assert _odata(sandbox, "Catalog_Валюты").status_code == 200
        made = httpx.post(
            f"{base}/sandbox/faults", json={"system": "bas", "mode": "maintenance", "rate": 1}
        )
        assert made.status_code == 201
        down = _odata(sandbox, "Catalog_Валюты")
        assert down.status_code != 200
        assert "Начало сеанса с информационной базой запрещено" in down.text
        httpx.delete(f"{base}/sandbox/faults")
        assert _odata(sandbox, "Catalog_Валюты").status_code == 200


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with running_sandbox(state_file=state) as sandbox:
        sandbox.bitrix24.set_deal_stage(2, "PREPAYMENT_INVOICE")
        created = httpx.post(
            sandbox.odata_url + "Catalog_Контрагенты?$format=json",
            json={"Description": "ТОВ «Після рестарту»", "КодПоЕДРПОУ": "44000020"},
            auth=AUTH,
        )
        assert created.status_code == 201
        ref = created.json()["Ref_Key"]
    assert state.exists()
    port = free_port()
    settings = SandboxSettings(public_url=f"http://127.0.0.1:{port}", state_file=state)
    again = Sandbox(settings)
    with serve_app(again.app, port=port):
        deal = httpx.get(again.bitrix24_webhook + "crm.deal.get", params={"id": 2}).json()
        party = _odata(again, f"Catalog_Контрагенты(guid'{ref}')").json()
    assert deal["result"]["STAGE_ID"] == "PREPAYMENT_INVOICE"
    assert party["Description"] == "ТОВ «Після рестарту»"


def test_state_of_another_profile_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    Sandbox(SandboxSettings(state_file=state)).save(state)
    with pytest.raises(ValueError, match="another version or profile"):
        Sandbox(SandboxSettings(state_file=state, profile="bp30"))


def test_the_command_prints_the_addresses_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "crmbridge", "sandbox", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{base}/sandbox/stats"), timeout=30, what="sandbox up")
        page = httpx.get(f"{base}/").text
        assert f"{base}/bitrix24/rest/1/sandbox/" in page
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    text = out.decode()
    assert f"http://127.0.0.1:{port}/bitrix24/rest/1/sandbox/" in text
    assert f"http://127.0.0.1:{port}/bas/odata/standard.odata/" in text


def test_a_fresh_portal_starts_without_crmbridges_user_fields() -> None:
    with running_sandbox(fresh_portal=True) as sandbox:
        fields = httpx.get(sandbox.bitrix24_webhook + "crm.deal.userfield.list").json()
    assert fields["result"] == [] and fields["total"] == 0


def test_the_command_serves_a_fresh_portal() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "crmbridge", "sandbox", "--port", str(port), "--fresh-portal"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        hook = f"http://127.0.0.1:{port}/bitrix24/rest/1/sandbox/"
        wait_for(lambda: _answers(hook + "user.get"), timeout=30, what="sandbox up")
        assert httpx.get(hook + "crm.deal.userfield.list").json()["total"] == 0
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_the_command_refuses_an_unknown_profile() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmbridge", "sandbox", "--profile", "ut11"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown BAS profile 'ut11'" in result.stderr and "Traceback" not in result.stderr


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False
