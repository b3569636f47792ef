from __future__ import annotations

import threading

import pytest

from crmbridge.clock import FakeClock
from crmbridge.connectors.ratelimit import (
    Budget,
    ConcurrencyCap,
    LeakyBucket,
    bas_limiter,
    bitrix24_limiter,
    kommo_limiter,
    split,
)
from tests.support.waiting import wait_for


class Sleeper:
    """A `sleep` that moves the fake clock and remembers how long each wait was."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


def send(bucket: LeakyBucket, n: int) -> None:
    for _ in range(n):
        with bucket.slot():
            pass


def test_bucket_lets_the_burst_through_then_paces_at_the_rate(clock: FakeClock) -> None:
    sleeper = Sleeper(clock)
    bucket = LeakyBucket(Budget(rate=2, burst=50), headroom=0, clock=clock, sleep=sleeper)
    start = clock.monotonic()
    send(bucket, 50)
    assert sleeper.waits == []
    send(bucket, 10)
    assert sleeper.waits == pytest.approx([0.5] * 10)
    assert clock.monotonic() - start == pytest.approx(5.0)


def test_headroom_keeps_the_local_level_below_the_remote_burst(clock: FakeClock) -> None:
    sleeper = Sleeper(clock)
    bucket = LeakyBucket(Budget(rate=10, burst=50), headroom=2, clock=clock, sleep=sleeper)
    send(bucket, 48)
    assert sleeper.waits == []
    send(bucket, 1)
    assert sleeper.waits == pytest.approx([0.1])


def test_an_idle_bucket_drains(clock: FakeClock) -> None:
    sleeper = Sleeper(clock)
    bucket = LeakyBucket(Budget(rate=2, burst=10), headroom=0, clock=clock, sleep=sleeper)
    send(bucket, 10)
    clock.advance(2.0)  # four requests' worth drains
    send(bucket, 4)
    assert sleeper.waits == []
    send(bucket, 1)
    assert sleeper.waits == pytest.approx([0.5])


def test_reservations_queue_in_arrival_order(clock: FakeClock) -> None:
    bucket = LeakyBucket(Budget(rate=4, burst=1), headroom=0, clock=clock)
    waits = [bucket.reserve() for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_slow_down_pauses_everyone_then_restarts_from_a_full_bucket_at_half_rate(
    clock: FakeClock,
) -> None:
    bucket = LeakyBucket(Budget(rate=2, burst=50), headroom=0, clock=clock)
    bucket.slow_down(3.0)
    assert bucket.reserve() == pytest.approx(4.0)  # the pause, then one request at 1/s
    assert bucket.reserve() == pytest.approx(5.0)
    clock.advance(10.0 + LeakyBucket.RECOVERY)
    assert bucket.reserve() == pytest.approx(0.0)


def test_the_rate_halves_per_throttle_down_to_an_eighth_and_recovers(clock: FakeClock) -> None:
    bucket = LeakyBucket(Budget(rate=8, burst=50), headroom=0, clock=clock)
    for expected in (4.0, 2.0, 1.0, 1.0):
        bucket.slow_down(0.0)
        assert bucket.rate(clock.monotonic()) == pytest.approx(expected)
    clock.advance(LeakyBucket.RECOVERY / 2)
    assert bucket.rate(clock.monotonic()) == pytest.approx(4.5)
    clock.advance(LeakyBucket.RECOVERY)
    assert bucket.rate(clock.monotonic()) == pytest.approx(8.0)


def test_a_shorter_slow_down_does_not_shorten_a_longer_one(clock: FakeClock) -> None:
    bucket = LeakyBucket(Budget(rate=1, burst=5), headroom=0, clock=clock)
    bucket.slow_down(10.0)
    bucket.slow_down(1.0)
    assert bucket.reserve() >= 10.0


def test_split_shares_the_budget_so_the_fleet_never_exceeds_it() -> None:
    share = split(Budget(rate=2, burst=50), 4)
    assert share == Budget(rate=0.5, burst=12.5)
    assert 4 * share.rate <= 2 and 4 * share.burst <= 50
    assert split(Budget(rate=7, burst=1), 3).burst == 1.0  # never below one request


def test_factories_match_the_remote_models() -> None:
    assert bitrix24_limiter().budget == Budget(2, 50)
    assert bitrix24_limiter(rate=10, burst=50, processes=2).budget == Budget(5, 25)
    assert kommo_limiter().budget == Budget(7, 1)
    assert bas_limiter(sessions=4, processes=2).limit == 2


def test_cap_holds_at_most_limit_slots(clock: FakeClock) -> None:
    cap = ConcurrencyCap(2, clock=clock)
    release = threading.Event()
    entered = threading.Semaphore(0)

    def hold() -> None:
        with cap.slot():
            entered.release()
            release.wait(10)

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for t in threads:
        t.start()
    entered.acquire(timeout=10)
    entered.acquire(timeout=10)
    wait_for(lambda: cap.in_use == 2, what="two holders")
    assert not entered.acquire(timeout=0.05)  # the third waits for a slot
    release.set()
    for t in threads:
        t.join(10)
    assert cap.in_use == 0


def test_cap_slow_down_makes_the_next_slot_wait(clock: FakeClock) -> None:
    sleeper = Sleeper(clock)
    cap = ConcurrencyCap(2, clock=clock, sleep=sleeper)
    cap.slow_down(30.0)
    with cap.slot():
        pass
    assert sum(sleeper.waits) == pytest.approx(30.0)


def test_repr_names_the_model() -> None:
    assert repr(bitrix24_limiter()) == "LeakyBucket(rate=2/s, burst=50)"
    assert repr(ConcurrencyCap(3)) == "ConcurrencyCap(3)"
