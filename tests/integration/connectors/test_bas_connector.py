"""BasConnector against the BAS emulator over real HTTP on loopback, both profiles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmbridge.clock import FakeClock
from crmbridge.connectors.http import Throttled
from crmbridge.connectors.onec import errors
from crmbridge.connectors.onec.connector import BasConnector, UnknownFields
from crmbridge.connectors.onec.profile import PROFILES as DECLARED
from crmbridge.connectors.ratelimit import ConcurrencyCap
from crmbridge.errors import ConfigError, Permanent, Retryable
from crmbridge.sandbox.server import Sandbox
from tests.integration.connectors.bas_support import PROFILES, bas_connector, requests
from tests.support.sandbox import running_sandbox


@pytest.fixture(scope="module", params=PROFILES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with running_sandbox(profile=request.param, seed_size=12, bas_extension=True) as running:
        yield running


@pytest.fixture
def bas(sandbox: Sandbox) -> Iterator[BasConnector]:
    with bas_connector(sandbox) as connector:
        yield connector
    sandbox.control.clear_faults()


def test_start_reads_metadata_and_checks_the_profile(sandbox: Sandbox, bas: BasConnector) -> None:
    assert bas.profile.name == sandbox.settings.profile
    assert bas.metadata.entity("Catalog_Контрагенты") is not None
    other = "bp30" if bas.profile.name == "bas-buh" else "bas-buh"
    missing = DECLARED[other].payment_link.fields[0]
    with pytest.raises(ConfigError, match=missing), bas_connector(sandbox, profile=other):
        pass


def test_get_reads_a_seeded_counterparty_with_cyrillic_names(
    sandbox: Sandbox, bas: BasConnector
) -> None:
    party = sandbox.seed.counterparties[0]
    found = bas.get("counterparty", party.ref_key)
    assert found is not None
    assert found["Description"] == party.name
    assert found[bas.profile.tax_code_field] == party.edrpou
    assert bas.get("counterparty", "5b6f4c1e-0000-4000-8000-000000000000") is None


def test_wrong_password_is_permanent(sandbox: Sandbox) -> None:
    with pytest.raises(errors.OneCError) as caught, bas_connector(sandbox, password="wrong"):
        pass
    assert caught.value.status == 401


def test_put_creates_then_updates_with_if_match(bas: BasConnector) -> None:
    ref = bas.put("counterparty", {"Description": "ТОВ «Ранок»", bas.profile.tax_code_field: "1"})
    record = bas.get("counterparty", ref)
    assert record is not None and record["Description"] == "ТОВ «Ранок»"
    record["Комментарий"] = "з CRM"
    assert bas.put("counterparty", record, key=ref) == ref
    again = bas.get("counterparty", ref)
    assert again is not None and again["Комментарий"] == "з CRM"
    assert again["DataVersion"] != record["DataVersion"]
    again["Комментарий"] = "без ключа"
    assert bas.put("counterparty", again) == ref  # read from 1C, so an update of its Ref_Key
    assert (bas.get("counterparty", ref) or {})["Комментарий"] == "без ключа"


def test_stale_data_version_is_a_retryable_conflict(bas: BasConnector) -> None:
    ref = bas.put("counterparty", {"Description": "ТОВ «Вечір»"})
    first = bas.get("counterparty", ref)
    assert first is not None
    bas.put("counterparty", {"Комментарий": "змінив бухгалтер"}, key=ref)
    first["Комментарий"] = "з CRM"
    with pytest.raises(errors.VersionConflict) as caught:
        bas.put("counterparty", first, key=ref)
    assert isinstance(caught.value, Retryable)
    kept = bas.get("counterparty", ref)
    assert kept is not None and kept["Комментарий"] == "змінив бухгалтер"


def test_unknown_field_is_refused_before_sending(sandbox: Sandbox, bas: BasConnector) -> None:
    before = requests(sandbox)
    with pytest.raises(UnknownFields) as caught:
        bas.put("counterparty", {"Description": "X", "НаименованиеПолноe": "typo: Latin e"})
    assert isinstance(caught.value, Permanent)
    assert [p.field for p in caught.value.problems] == ["НаименованиеПолноe"]
    assert "НаименованиеПолное" in str(caught.value)
    with pytest.raises(UnknownFields):
        bas.put("invoice", {"Товары": [{"LineNumber": "1", "Кількість": 1}]})
    with pytest.raises(UnknownFields):
        bas.put("invoice", {"Posted": True})
    assert requests(sandbox) == before


def test_create_with_own_ref_is_idempotent(bas: BasConnector) -> None:
    ref = "0b0e8b52-3d57-5bd5-9d7c-000000000042"
    record = {"Ref_Key": ref, "Description": "ФОП Ткаченко"}
    assert bas.put("counterparty", record) == ref
    assert bas.put("counterparty", record) == ref  # the retry after a lost answer
    assert [r["Ref_Key"] for r in bas.iterate("counterparty", {"Description": "ФОП Ткаченко"})] == [
        ref
    ]


def test_iterate_pages_to_the_end_in_a_stable_order(sandbox: Sandbox) -> None:
    with bas_connector(sandbox, page_size=5) as bas:
        records = list(bas.iterate("product"))
        again = [r["Ref_Key"] for r in bas.iterate("product")]
    refs = [r["Ref_Key"] for r in records]
    assert refs == again and len(refs) == len(set(refs))
    expected = {p.ref_key for p in sandbox.seed.products}
    assert expected <= set(refs)
    assert len(refs) == len(expected) + 2  # the two seeded folders


def test_iterate_with_filters(sandbox: Sandbox, bas: BasConnector) -> None:
    party = sandbox.seed.counterparties[1]
    contracts = list(bas.iterate("contract", {"Owner_Key": party.ref_key}))
    assert [c["Owner_Key"] for c in contracts] == [party.ref_key]


def test_post_and_unpost_an_invoice(sandbox: Sandbox, bas: BasConnector) -> None:
    party = sandbox.seed.counterparties[0]
    ref = bas.put(
        "invoice",
        {"Организация_Key": sandbox.seed.organisation.ref_key, "Контрагент_Key": party.ref_key},
    )
    bas.post("invoice", ref)
    assert sandbox.bas.invoice(ref)["Posted"] is True
    bas.unpost("invoice", ref)
    assert sandbox.bas.invoice(ref)["Posted"] is False


def test_posting_refused_by_1c_is_permanent_with_its_text(bas: BasConnector) -> None:
    ref = bas.put("invoice", {"Комментарий": "без контрагента"})
    with pytest.raises(errors.OneCError) as caught:
        bas.post("invoice", ref)
    assert "не заполнено" in str(caught.value) and caught.value.code == "-1"


def test_invoice_pdf(sandbox: Sandbox, bas: BasConnector) -> None:
    party = sandbox.seed.counterparties[0]
    ref = bas.put(
        "invoice",
        {"Организация_Key": sandbox.seed.organisation.ref_key, "Контрагент_Key": party.ref_key},
    )
    assert bas.invoice_pdf(ref).startswith(b"%PDF")
    with pytest.raises(errors.NotFound):
        bas.invoice_pdf("5b6f4c1e-0000-4000-8000-000000000000")


def test_maintenance_is_retryable_and_pauses_bas_traffic(sandbox: Sandbox) -> None:
    clock = FakeClock()
    cap = ConcurrencyCap(2, clock=clock, sleep=clock.advance)
    with bas_connector(sandbox, clock=clock, limiter=cap, maintenance_pause=45) as bas:
        sandbox.control.set_fault("bas", "maintenance")
        with pytest.raises(Throttled) as caught:
            bas.get("counterparty", sandbox.seed.counterparties[0].ref_key)
        assert isinstance(caught.value, Retryable) and caught.value.retry_after == 45
        assert cap.pause_left() == 45
        sandbox.control.clear_faults()
        start = clock.monotonic()
        assert bas.get("counterparty", sandbox.seed.counterparties[0].ref_key) is not None
        assert clock.monotonic() - start == 45  # waited the pause out before sending


def test_maintenance_without_the_pause_hook_is_a_maintenance_error(
    sandbox: Sandbox, bas: BasConnector
) -> None:
    sandbox.control.set_fault("bas", "maintenance")
    bas.client._caller._throttle = lambda response: None  # type: ignore[attr-defined]
    with pytest.raises(errors.Maintenance, match="Начало сеанса с информационной базой запрещено"):
        bas.get("counterparty", sandbox.seed.counterparties[0].ref_key)


def test_lock_conflict_is_retryable(sandbox: Sandbox, bas: BasConnector) -> None:
    sandbox.control.set_fault("bas", "error500")
    with pytest.raises(errors.Locked):
        bas.get("counterparty", sandbox.seed.counterparties[0].ref_key)


def test_requests_share_the_bas_concurrency_cap(sandbox: Sandbox) -> None:
    with bas_connector(sandbox, sessions=4, processes=2) as bas:
        limiter = bas.client._caller.limiter  # type: ignore[attr-defined]
        assert isinstance(limiter, ConcurrencyCap) and limiter.limit == 2
        with limiter.slot(), limiter.slot():  # both sessions busy elsewhere
            assert limiter.in_use == 2
        assert bas.get("counterparty", sandbox.seed.counterparties[0].ref_key) is not None
        assert limiter.in_use == 0
