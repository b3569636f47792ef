"""Alerts over real loopback servers: a webhook receiver (HTTP) and an SMTP server (aiosmtpd).

An outage that buries 1,000 jobs sends one message per channel, then one summary, not 1,000.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi import FastAPI, Request
from pydantic import SecretStr

from crmbridge.alerts import AlertCheck, notifiers
from crmbridge.clock import FakeClock
from crmbridge.config.model import Alerts, SmtpSettings
from crmbridge.store import jobs as q
from crmbridge.store import journal
from crmbridge.store.database import Database
from tests.support.servers import free_port, serve_app

PASSWORD = "smtp-pa55word"
HOOK_TOKEN = "hooktoken123"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []
    web = FastAPI()

    @web.post("/hooks/{token}")
    async def hook(token: str, request: Request) -> dict[str, str]:
        assert token == HOOK_TOKEN
        received.append(await request.json())
        return {"ok": "yes"}

    with serve_app(web) as base:
        yield received, f"{base}/hooks/{HOOK_TOKEN}"


def _settings(url: str, smtp_port: int) -> Alerts:
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=smtp_port,
        starttls=False,
        user="alerts",
        password=SecretStr(PASSWORD),
        sender="crmbridge@example.com",
        to=["ops@example.com"],
    )
    return Alerts(lag_threshold=600, webhook=SecretStr(url), smtp=smtp, window=900)


def _bury(db: Database, clock: FakeClock, flow: str, n: int) -> None:
    with db.write() as conn:
        for i in range(n):
            q.enqueue(conn, q.NewJob(flow, {"n": i}), clock.now())
        conn.exec_driver_sql("UPDATE jobs SET status = 'dead' WHERE status = 'waiting'")


def test_an_outage_of_1000_dead_letters_sends_one_message_and_one_summary(
    db: Database,
    clock: FakeClock,
    receiver: tuple[list[dict[str, Any]], str],
    mailbox: tuple[Mailbox, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    received, url = receiver
    box, smtp_port = mailbox
    _bury(db, clock, "issue-invoice", 3)  # before alerts were on: not reported
    with httpx.Client() as client:
        settings = _settings(url, smtp_port)
        check = AlertCheck(db, clock, settings, notifiers(settings, client))
        caplog.set_level(logging.DEBUG, logger="crmbridge")
        caplog.set_level(logging.DEBUG, logger="httpx")
        check()
        assert received == [] and box.messages == []
        for _ in range(10):  # ten checks a minute apart, 100 new dead letters each
            _bury(db, clock, "issue-invoice", 100)
            check()
            clock.advance(60)
        assert len(received) == 1 and len(box.messages) == 1
        assert received[0]["kind"] == "dead-letter" and received[0]["count"] == 100
        assert "100 job(s) of flow issue-invoice" in received[0]["text"]
        assert box.messages[0]["Subject"] == "crmbridge alert: dead-letter (issue-invoice)"

        clock.advance(900)  # the window ends: one summary of what was held back
        check()
        check()
    assert len(received) == 2 and len(box.messages) == 2
    assert received[1]["kind"] == "suppressed" and received[1]["count"] == 900
    assert "900 more dead-letter alerts for issue-invoice" in received[1]["text"]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert "HTTP Request: POST" in logged  # httpx did log the call…
    assert PASSWORD not in logged and HOOK_TOKEN not in logged  # …without the secrets


def test_lag_over_the_threshold_alerts_once_per_window(
    db: Database, clock: FakeClock, receiver: tuple[list[dict[str, Any]], str]
) -> None:
    received, url = receiver
    settings = Alerts(lag_threshold=600, webhook=SecretStr(url), window=900, dead_letters=False)
    with httpx.Client() as client:
        check = AlertCheck(db, clock, settings, notifiers(settings, client))
        with db.write() as conn:
            q.enqueue(conn, q.NewJob("issue-invoice"), clock.now())
        clock.advance(300)
        check()
        assert received == []  # 300 s is under the threshold
        clock.advance(400)
        check()
        clock.advance(60)
        check()
    assert [r["kind"] for r in received] == ["lag"]
    assert "waited 700 s (threshold 600 s)" in received[0]["text"]


def test_an_unreachable_webhook_does_not_stop_the_e_mail(
    db: Database, clock: FakeClock, mailbox: tuple[Mailbox, int]
) -> None:
    box, smtp_port = mailbox
    settings = _settings(f"http://127.0.0.1:{free_port()}/hooks/{HOOK_TOKEN}", smtp_port)
    with httpx.Client() as client:
        check = AlertCheck(db, clock, settings, notifiers(settings, client))
        check()
        _bury(db, clock, "clients", 1)
        check()
    assert [m["Subject"] for m in box.messages] == ["crmbridge alert: dead-letter (clients)"]


def test_a_scheduled_reconciliation_that_finds_discrepancies_alerts(
    db: Database, clock: FakeClock, receiver: tuple[list[dict[str, Any]], str]
) -> None:
    received, url = receiver
    settings = Alerts(webhook=SecretStr(url), window=900, dead_letters=False)

    def scheduled_run(found: int) -> None:
        journal.record_decision(
            db,
            journal.Decision(
                clock.now(),
                "reconcile",
                "scheduled reconciliation",
                {},
                found,
                entity_kind="reconcile",
                entity_id="scheduled",
            ),
        )

    with httpx.Client() as client:
        check = AlertCheck(db, clock, settings, notifiers(settings, client))
        scheduled_run(5)  # before alerts were on: not reported
        check()
        scheduled_run(0)
        check()
        assert received == []  # a clean run says nothing
        scheduled_run(3)
        check()
    assert [(r["kind"], r["count"]) for r in received] == [("reconcile", 3)]
    assert "found 3 discrepancies" in received[0]["text"]
