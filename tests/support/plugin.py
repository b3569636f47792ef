"""Flows for the multi-process tests, loaded by `crmbridge worker --plugin tests.support.plugin`.

They keep their evidence in the database the worker uses (the effects table), so the test can
assert on rows, not on calls.
"""

from __future__ import annotations

import os
import random
import time

from crmbridge.queue.worker import Handler, JobContext
from crmbridge.store import effects


def _mark(ctx: JobContext, effect_key: str, /, **result: object) -> bool:
    return effects.record(
        ctx.db, effect_key, "test", ctx.clock.now(), result=result, job_id=ctx.job.id
    )


def crashable(ctx: JobContext) -> None:
    """Does its one external write, but hangs on the first attempt so the test can kill it.

    payload.kill_point: "before" hangs before the write, "after" right after it (the window
    between "created remotely" and "recorded").
    """
    job = ctx.job
    if job.payload["kill_point"] == "before" and job.attempts == 1:
        _mark(ctx, f"inflight:{job.id}", pid=os.getpid())
        time.sleep(600)
    # The effect ledger is what makes the write happen once, whichever attempt gets here.
    _mark(ctx, f"effect:{job.id}", attempt=job.attempts, pid=os.getpid())
    if job.payload["kill_point"] == "after" and job.attempts == 1:
        _mark(ctx, f"inflight:{job.id}", pid=os.getpid())
        time.sleep(600)


def ordered(ctx: JobContext) -> None:
    """Records when it ran; a short random pause makes overlaps likely if locking were broken."""
    start = time.time()
    time.sleep(random.uniform(0.0, 0.01))
    end = time.time()
    key, seq = ctx.payload["key"], ctx.payload["seq"]
    _mark(ctx, f"ordered:{key}:{seq}", key=key, seq=seq, start=start, end=end, pid=os.getpid())


def slow(ctx: JobContext) -> None:
    _mark(ctx, f"started:{ctx.job.id}:{ctx.job.attempts}")
    time.sleep(float(ctx.payload["seconds"]))
    _mark(ctx, f"finished:{ctx.job.id}:{ctx.job.attempts}")


def register(handlers: dict[str, Handler]) -> None:
    handlers.update(crashable=crashable, ordered=ordered, slow=slow)
