"""What tests and benchmarks steer and read in a running sandbox: request counters and faults.

One `SandboxControl` is shared by both emulators of a sandbox process; its methods are thread-safe
because the server answers requests from a thread pool.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

System = Literal["bitrix24", "bas"]
FaultMode = Literal["maintenance", "error500", "slow", "drop_events"]
SYSTEMS: tuple[System, ...] = ("bitrix24", "bas")
FAULT_MODES: tuple[FaultMode, ...] = ("maintenance", "error500", "slow", "drop_events")


@dataclass(frozen=True)
class Fault:
    system: System
    mode: FaultMode
    rate: float  # share of requests (or events) affected, 0..1
    until: float  # time.monotonic() after which the fault is over; inf for "until cleared"
    delay: float = 2.0  # seconds, for mode "slow"


class SandboxControl:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = rng or random.Random(0)
        self._requests: Counter[str] = Counter()
        self._rate_limited = 0
        self._b24_methods: Counter[str] = Counter()
        self._bas_sets: Counter[str] = Counter()
        self._events_emitted = 0
        self._faults: dict[tuple[System, FaultMode], Fault] = {}

    # counters -------------------------------------------------------------------------------
    def count_bitrix24(self, method: str, *, rate_limited: bool = False) -> None:
        with self._lock:
            self._requests["bitrix24"] += 1
            self._b24_methods[method] += 1
            self._rate_limited += rate_limited

    def count_bas(self, entity_set: str) -> None:
        with self._lock:
            self._requests["bas"] += 1
            self._bas_sets[entity_set] += 1

    def count_event(self) -> None:
        with self._lock:
            self._events_emitted += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "bitrix24": {
                    "requests": self._requests["bitrix24"],
                    "rate_limited": self._rate_limited,
                    "by_method": dict(self._b24_methods),
                },
                "bas": {"requests": self._requests["bas"], "by_set": dict(self._bas_sets)},
                "events_emitted": self._events_emitted,
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._requests.clear()
            self._b24_methods.clear()
            self._bas_sets.clear()
            self._rate_limited = 0
            self._events_emitted = 0

    # faults ---------------------------------------------------------------------------------
    def set_fault(
        self,
        system: System,
        mode: FaultMode,
        *,
        rate: float = 1.0,
        duration: float | None = None,
        delay: float = 2.0,
    ) -> Fault:
        until = time.monotonic() + duration if duration is not None else float("inf")
        fault = Fault(system, mode, rate, until, delay)
        with self._lock:
            self._faults[(system, mode)] = fault
        return fault

    def clear_faults(self, system: System | None = None) -> None:
        with self._lock:
            for key in [k for k in self._faults if system is None or k[0] == system]:
                del self._faults[key]

    def fault(self, system: System, mode: FaultMode) -> Fault | None:
        """The fault of that kind if it is active and this request is one it hits."""
        with self._lock:
            fault = self._faults.get((system, mode))
            if fault is None:
                return None
            if time.monotonic() >= fault.until:
                del self._faults[(system, mode)]
                return None
            return fault if self._rng.random() < fault.rate else None
