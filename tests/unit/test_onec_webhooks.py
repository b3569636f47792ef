from __future__ import annotations

import base64
import json
import logging

import pytest

from crmbridge.clock import FakeClock
from crmbridge.connectors.base import WebhookRejected
from crmbridge.connectors.onec import webhooks
from crmbridge.connectors.onec.webhooks import WebhookSecret, sign

SECRET_TEXT = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
REF = "3f1d7a22-0f5e-4c59-9d57-5a6f8f3c1b11"


def body(entity_set: str = "Document_ПоступлениеНаРасчетныйСчет", **data: object) -> bytes:
    payload = {
        "type": "document.posted",
        "timestamp": "2026-01-05T09:00:00Z",
        "data": {"entity_set": entity_set, "Ref_Key": REF, **data},
    }
    return json.dumps(payload, ensure_ascii=False).encode()


@pytest.fixture
def secret() -> WebhookSecret:
    return WebhookSecret(SECRET_TEXT)


def now(clock: FakeClock) -> int:
    return int(clock.now().timestamp())


def test_spec_example_signature() -> None:
    # The worked example of the Standard Webhooks spec (secret, id, timestamp, body, signature).
    spec = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    payload = b'{"test": 2432232314}'
    headers = sign(spec, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, payload)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signed_delivery_becomes_an_event(secret: WebhookSecret, clock: FakeClock) -> None:
    sent = body(Number="СБ00-000007", Комментарий="ignored")
    headers = sign(secret, "msg_1", now(clock), sent)
    [event] = webhooks.parse(secret, sent, headers, clock)
    assert (event.source, event.event_id, event.event_type) == ("bas", "msg_1", "document.posted")
    assert (event.entity_kind, event.entity_id) == ("payment", REF)
    assert dict(event.payload) == {
        "entity_set": "Document_ПоступлениеНаРасчетныйСчет",
        "Number": "СБ00-000007",
    }


def test_header_names_are_case_insensitive_and_any_listed_signature_counts(
    secret: WebhookSecret, clock: FakeClock
) -> None:
    sent = body()
    headers = sign(secret, "msg_2", now(clock), sent)
    upper = {k.title(): v for k, v in headers.items()}
    upper["Webhook-Signature"] = "v1,AAAA " + headers["webhook-signature"]
    assert webhooks.parse(secret, sent, upper, clock)[0].event_id == "msg_2"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b),
        lambda h, b: (h, b.replace(b"posted", b"deleted")),
        lambda h, b: ({**h, "webhook-id": "msg_other"}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
        lambda h, b: ({**h, "webhook-timestamp": "soon"}, b),
    ],
)
def test_bad_token_is_rejected(secret: WebhookSecret, clock: FakeClock, tamper: object) -> None:
    sent = body()
    headers, changed = tamper(sign(secret, "msg_3", now(clock), sent), sent)  # type: ignore[operator]
    with pytest.raises(WebhookRejected) as caught:
        webhooks.parse(secret, changed, headers, clock)
    assert caught.value.status == 401


def test_other_secret_is_rejected(clock: FakeClock) -> None:
    sent = body()
    other = WebhookSecret("whsec_" + base64.b64encode(b"another key").decode())
    with pytest.raises(WebhookRejected):
        webhooks.parse(other, sent, sign(WebhookSecret(SECRET_TEXT), "m", now(clock), sent), clock)


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_or_future_timestamp_is_rejected(
    secret: WebhookSecret, clock: FakeClock, offset: int
) -> None:
    sent = body()
    headers = sign(secret, "msg_4", now(clock) + offset, sent)
    with pytest.raises(WebhookRejected, match="tolerance"):
        webhooks.parse(secret, sent, headers, clock)
    inside = sign(secret, "msg_4", now(clock) + (offset // 2), sent)
    assert webhooks.parse(secret, sent, inside, clock)


def test_malformed_body_is_400_after_the_signature(secret: WebhookSecret, clock: FakeClock) -> None:
    for sent in (b"not json", b'{"type": "x"}', b"[1]"):
        with pytest.raises(WebhookRejected) as caught:
            webhooks.parse(secret, sent, sign(secret, "m", now(clock), sent), clock)
        assert caught.value.status == 400


def test_unknown_entity_set_is_ignored_and_logged(
    secret: WebhookSecret, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    sent = body("Catalog_Склады")
    with caplog.at_level(logging.INFO, logger="crmbridge.connectors.onec"):
        assert webhooks.parse(secret, sent, sign(secret, "msg_5", now(clock), sent), clock) == []
    assert "ignored BAS webhook msg_5" in caplog.text


def test_secret_is_never_shown() -> None:
    secret = WebhookSecret(SECRET_TEXT)
    assert SECRET_TEXT[6:] not in repr(secret) and "redacted" in repr(secret)
    with pytest.raises(ValueError):
        WebhookSecret("whsec_not base64!")
