from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from crmbridge.errors import Permanent, Retryable
from crmbridge.queue.retry import RetryPolicy

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_backoff_grows_exponentially_within_the_jitter_and_stops_at_the_cap() -> None:
    policy = RetryPolicy(base=2, factor=2, cap=60, jitter=0.25)
    rng = random.Random(1)
    for attempt, raw in [(1, 2), (2, 4), (3, 8), (4, 16), (10, 60)]:
        for _ in range(50):
            assert raw * 0.75 <= policy.backoff(attempt, rng) <= raw * 1.25


def test_jitter_spreads_the_waits() -> None:
    policy = RetryPolicy(base=10, jitter=0.25)
    rng = random.Random(2)
    assert len({round(policy.backoff(1, rng), 3) for _ in range(20)}) > 10


def _next(
    policy: RetryPolicy, attempt: int, error: BaseException, age: float = 0
) -> datetime | None:
    return policy.next_run(
        attempt=attempt,
        error=error,
        enqueued_at=NOW - timedelta(seconds=age),
        now=NOW,
        rng=random.Random(0),
    )


def test_retry_after_wins_over_the_backoff() -> None:
    policy = RetryPolicy(base=1, cap=5)
    assert _next(policy, 1, Retryable("slow down", retry_after=120)) == NOW + timedelta(seconds=120)


def test_permanent_errors_are_never_retried() -> None:
    assert _next(RetryPolicy(), 1, Permanent("bad ЄДРПОУ")) is None


def test_attempts_and_age_are_bounded() -> None:
    policy = RetryPolicy(base=1, jitter=0, max_attempts=3, max_age=timedelta(hours=1))
    assert _next(policy, 2, Retryable()) == NOW + timedelta(seconds=2)
    assert _next(policy, 3, Retryable()) is None
    assert _next(policy, 1, Retryable(), age=3599.5) is None
    assert _next(policy, 1, ValueError("unexpected")) == NOW + timedelta(seconds=1)
