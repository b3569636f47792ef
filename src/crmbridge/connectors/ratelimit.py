"""Client-side limiters that match each remote system's own model, so we never hit its limit.

- `LeakyBucket`: Bitrix24's model (a counter +1 per request, draining `rate`/s, refused above
  `burst`); with `burst=1` it is plain spacing at `rate`/s, which is what Kommo's 7 req/s needs.
- `ConcurrencyCap`: at most N requests in flight (BAS/1C: a few sessions, not a request rate).

One limiter object per system account, shared by every thread of the process. Across processes
the budget is **split deterministically**: each of N processes gets `rate/N` and `burst/N`
(`split()`), N coming from the settings (the number of worker processes for that account). That
needs no database round trip per request and can never exceed the account's budget; the price is
that an idle process's share is unused. A budget shared through the database was the alternative
and was rejected for now: one write transaction per outgoing request costs more than the request
budget it protects on SQLite, and PostgreSQL deployments are the only ones with several processes.

`slow_down(seconds)` is how a 503/429 from the remote side reaches the limiter: nobody in this
process sends until the pause is over, and the bucket restarts as full (the remote one is).
Time is injected (`Clock` + `sleep`) so tests drive it without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from crmbridge.clock import Clock, SystemClock

Sleep = Callable[[float], None]


class Limiter(Protocol):
    def slot(self) -> AbstractContextManager[None]:
        """Blocks until a request may go (bucket) or holds a concurrency slot (cap)."""
        ...

    def slow_down(self, seconds: float) -> None:
        """After a 503/429: nobody sends for `seconds`."""
        ...


@dataclass(frozen=True)
class Budget:
    rate: float  # requests per second
    burst: float  # requests that may go at once from idle


def split(budget: Budget, processes: int) -> Budget:
    """This process's share when `processes` processes use one account."""
    n = max(1, processes)
    return Budget(budget.rate / n, max(1.0, budget.burst / n))


class LeakyBucket:
    """A leaky bucket reserved in arrival order (GCRA); thread-safe.

    `headroom` keeps the local level that many requests below the remote `burst`, so a request
    that is delayed on the network and lands together with the next one still fits; it costs
    nothing once the bucket is full, where throughput is `rate` either way.
    """

    def __init__(
        self,
        budget: Budget,
        *,
        headroom: float = 2.0,
        clock: Clock | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.budget = budget
        self._capacity = max(1.0, budget.burst - headroom)
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._level = 0.0
        self._at = self._clock.monotonic()
        # After the remote side said "too many", the rate we use drops (halved, at most to an
        # eighth) and climbs back to the budget over RECOVERY seconds: a budget set too high in
        # the config then costs a few pauses, not a storm of refused requests.
        self._throttled_rate = budget.rate
        self._throttled_at: float | None = None

    RECOVERY = 60.0

    def rate(self, now: float) -> float:
        if self._throttled_at is None:
            return self.budget.rate
        share = min(1.0, max(0.0, now - self._throttled_at) / self.RECOVERY)
        return self._throttled_rate + (self.budget.rate - self._throttled_rate) * share

    def reserve(self) -> float:
        """Count one request now; returns how long the caller must wait before sending it."""
        with self._lock:
            now = self._clock.monotonic()
            rate = self.rate(now)
            # The level may be projected into the future (reservations or a pause); it only
            # drains from `_at` on.
            drained = max(0.0, now - self._at) * rate
            self._level = max(0.0, self._level - drained)
            self._at = max(self._at, now)
            wait = (self._at - now) + max(0.0, self._level + 1 - self._capacity) / rate
            self._level += 1
            return wait

    @contextmanager
    def slot(self) -> Iterator[None]:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        yield

    def slow_down(self, seconds: float) -> None:
        with self._lock:
            now = self._clock.monotonic()
            current = self.rate(now)
            drained = max(0.0, now - self._at) * current
            self._level = max(self._capacity, self._level - drained)
            self._at = max(self._at, now + seconds)
            self._throttled_rate = max(self.budget.rate / 8, current / 2)
            self._throttled_at = now + seconds

    def __repr__(self) -> str:
        return f"LeakyBucket(rate={self.budget.rate:g}/s, burst={self.budget.burst:g})"


class ConcurrencyCap:
    """At most `limit` requests in flight; `slow_down` pauses new ones (1C maintenance)."""

    def __init__(self, limit: int, *, clock: Clock | None = None, sleep: Sleep = time.sleep):
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._in_use = 0

    @property
    def in_use(self) -> int:
        with self._lock:
            return self._in_use

    def pause_left(self) -> float:
        with self._lock:
            return max(0.0, self._paused_until - self._clock.monotonic())

    @contextmanager
    def slot(self) -> Iterator[None]:
        while (left := self.pause_left()) > 0:
            self._sleep(left)
        with self._slots:
            with self._lock:
                self._in_use += 1
            try:
                yield
            finally:
                with self._lock:
                    self._in_use -= 1

    def slow_down(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)

    def __repr__(self) -> str:
        return f"ConcurrencyCap({self.limit})"


# The remote models, per system account, before the split between processes.
BITRIX24 = Budget(rate=2.0, burst=50.0)  # limits.md: 2 req/s, 50 burst (enterprise: 5, 250)
KOMMO = Budget(rate=7.0, burst=1.0)  # 7 req/s, no burst allowance documented


def bitrix24_limiter(
    *,
    rate: float = BITRIX24.rate,
    burst: float = BITRIX24.burst,
    processes: int = 1,
    clock: Clock | None = None,
) -> LeakyBucket:
    return LeakyBucket(split(Budget(rate, burst), processes), clock=clock)


def kommo_limiter(*, processes: int = 1, clock: Clock | None = None) -> LeakyBucket:
    return LeakyBucket(split(KOMMO, processes), headroom=0.0, clock=clock)


def bas_limiter(*, sessions: int = 4, processes: int = 1) -> ConcurrencyCap:
    return ConcurrencyCap(max(1, sessions // max(1, processes)))
