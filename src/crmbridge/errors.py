"""One root exception, two subtrees: `Retryable` work is tried again, `Permanent` work is not.

The worker decides what to do with a failed job from the exception's class alone; it never looks
at HTTP codes. Each class's docstring is its default message.
"""

from __future__ import annotations


class CrmbridgeError(Exception):
    """crmbridge failed."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip().splitlines()[0]
        super().__init__(self.message)


class Retryable(CrmbridgeError):
    """The work failed for a reason that may pass; it will be tried again."""

    def __init__(self, message: str | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        # Seconds the remote side asked us to wait (Retry-After, QUERY_LIMIT_EXCEEDED); it wins
        # over the computed backoff.
        self.retry_after = retry_after


class Permanent(CrmbridgeError):
    """The work cannot succeed as it is; it goes to the dead letter until someone replays it."""


class ConfigError(CrmbridgeError):
    """The configuration is not valid."""


class DatabaseError(CrmbridgeError):
    """The database cannot be used."""
