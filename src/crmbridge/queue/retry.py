"""The retry policy is a value: given an attempt and an error, when (if ever) to try again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from crmbridge.errors import Permanent, Retryable


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 2.0  # seconds before the second attempt
    factor: float = 2.0
    cap: float = 600.0  # no wait is longer than this (a Retry-After may be)
    jitter: float = 0.25  # each wait is spread over ±25% so retries of an outage do not stampede
    max_attempts: int = 12
    max_age: timedelta = timedelta(days=2)  # from enqueue; an older failing job goes dead

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        raw = min(self.cap, self.base * self.factor ** (attempt - 1))
        spread = raw * self.jitter
        return max(0.0, raw + rng.uniform(-spread, spread))

    def next_run(
        self,
        *,
        attempt: int,
        error: BaseException,
        enqueued_at: datetime,
        now: datetime,
        rng: random.Random,
    ) -> datetime | None:
        """When to run again, or None when the job belongs in the dead letter."""
        if isinstance(error, Permanent) or attempt >= self.max_attempts:
            return None
        retry_after = error.retry_after if isinstance(error, Retryable) else None
        delay = retry_after if retry_after is not None else self.backoff(attempt, rng)
        run_at = now + timedelta(seconds=delay)
        if run_at - enqueued_at > self.max_age:
            return None
        return run_at
