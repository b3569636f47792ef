"""Which job (and attempt) the current thread works for, so every exchange can name it.

The worker binds it around a handler; connectors read it when they record an exchange. A context
variable rather than a parameter threaded through every call: it is ambient data for the log,
never input to a decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class CallContext:
    correlation_id: str
    job_id: int | None = None
    attempt: int | None = None
    business_key: str | None = None


_current: ContextVar[CallContext | None] = ContextVar("crmbridge_call_context", default=None)


def current() -> CallContext | None:
    return _current.get()


@contextmanager
def bound(context: CallContext) -> Iterator[CallContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
