"""The leaky bucket: 503 QUERY_LIMIT_EXCEEDED exactly when the bucket is full."""

from __future__ import annotations

from crmbridge.clock import FakeClock
from crmbridge.sandbox.bitrix24.limits import LeakyBucket
from tests.integration.sandbox.b24 import running_portal

LIMITED = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}


def test_503_exactly_when_the_bucket_is_full_and_drain_at_rate() -> None:
    with running_portal(rate=2.0, burst=3) as portal:
        codes = [portal.call("crm.deal.get", {"id": 1}).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        refused = portal.call("crm.deal.get", {"id": 1})
        assert (refused.status_code, refused.json()) == (503, LIMITED)
        portal.clock.advance(0.49)  # not yet one whole request drained at 2/s
        assert portal.call("crm.deal.get", {"id": 1}).status_code == 503
        portal.clock.advance(0.01)
        assert portal.call("crm.deal.get", {"id": 1}).status_code == 200
        assert portal.call("crm.deal.get", {"id": 1}).status_code == 503
        portal.clock.advance(10)  # drained to empty, never below
        codes = [portal.call("crm.deal.get", {"id": 1}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 503]
        stats = portal.control.stats()["bitrix24"]
        assert stats["rate_limited"] == 4 and stats["requests"] == 11


def test_default_portal_limit_is_fifty() -> None:
    with running_portal(rate=2.0) as portal:
        codes = [portal.call("user.get").status_code for _ in range(51)]
        assert codes == [200] * 50 + [503]


def test_rate_none_or_zero_is_unlimited() -> None:
    for rate in (None, 0):
        with running_portal(rate=rate, burst=1) as portal:
            codes = {portal.call("user.get").status_code for _ in range(5)}
            assert codes == {200}


def test_buckets_are_per_webhook_user() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(clock, rate=1.0, burst=2)
    assert [bucket.admit("1"), bucket.admit("1"), bucket.admit("1")] == [True, True, False]
    assert [bucket.admit("7"), bucket.admit("7"), bucket.admit("7")] == [True, True, False]
    clock.advance(1)
    assert bucket.admit("1") and not bucket.admit("1")
