"""The request-intensity limit: a leaky bucket per webhook user (`bitrix24/b24restdocs:limits.md`).

Each request adds 1 to the user's counter, which drains at `rate` per second; a request that
would lift it above `burst` is refused with 503 `QUERY_LIMIT_EXCEEDED` and not counted. A batch
is one request. `rate` of 0 or None turns the limit off (benchmarks measure the bridge, not it).
"""

from __future__ import annotations

import threading

from crmbridge.clock import Clock


class LeakyBucket:
    def __init__(self, clock: Clock, *, rate: float | None = 2.0, burst: int = 50) -> None:
        self._clock = clock
        self._rate = rate or 0.0
        self._burst = burst
        self._lock = threading.Lock()
        self._levels: dict[str, tuple[float, float]] = {}  # key → (level, at monotonic time)

    @property
    def unlimited(self) -> bool:
        return self._rate <= 0

    def admit(self, key: str) -> bool:
        """Count one request for `key`; False when the bucket is full (the request is refused)."""
        if self.unlimited:
            return True
        now = self._clock.monotonic()
        with self._lock:
            level, at = self._levels.get(key, (0.0, now))
            level = max(0.0, level - (now - at) * self._rate)
            if level + 1 > self._burst:
                self._levels[key] = (level, now)
                return False
            self._levels[key] = (level + 1, now)
            return True
