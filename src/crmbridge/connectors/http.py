"""The HTTP layer every connector shares: one `HttpCaller` per system account.

Usage (a connector never builds its own `httpx.Client`; the application wiring does)::

    limiter = ratelimit.bitrix24_limiter(rate=2, burst=50, processes=settings.workers)
    # or ratelimit.bas_limiter(sessions=4) / ratelimit.kommo_limiter()
    redactor = Redactor(secrets=[webhook_code])            # or basic_auth_secrets(user, pw)
    caller = HttpCaller(
        client,                                            # shared httpx.Client
        system="bas",                                      # exchanges.system
        limiter=limiter,                                   # ratelimit.Limiter
        recorder=JournalRecorder(db),                      # or None: log only
        redactor=redactor,
        timeout=httpx.Timeout(60, connect=10),             # per system; None: the client's
        throttle=throttled_by_status,                      # response → seconds to pause, or None
    )
    response = caller.request("GET", url, operation="odata.get", business_key="edrpou:123",
                              params={...}, json=..., headers=...)  # any httpx.request kwargs

`request()`:
- waits for a limiter slot, sends, and records one `Exchange` (system, operation, method,
  redacted URL, redacted request/response bodies cut at `body_limit`, status, duration, attempt,
  job id and correlation id from `crmbridge.correlation.current()`, business key, error);
- maps transport failures: timeouts and connection errors → `Retryable`; a malformed URL or
  unsupported scheme → `Permanent`; messages are redacted;
- asks `throttle(response)`; when it returns seconds (default: 429, or 503 with `Retry-After`)
  the limiter is slowed down for that long and `Throttled` (a `Retryable` with `retry_after`)
  is raised;
- otherwise returns the response: reading statuses and bodies is the connector's business
  (each system has its own error dialect); raise `RemoteNotFound`/`Permanent`/`Unavailable`.

Recording never makes a call fail: a failing recorder is logged (without bodies) and ignored.
Constructing an `HttpCaller` installs its redactor on httpx's loggers (`protect_http_logs`),
because httpx logs every request URL at INFO and a URL may hold a secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import unquote, unquote_plus, urlencode

import httpx
from sqlalchemy.exc import SQLAlchemyError

from crmbridge import correlation
from crmbridge.clock import Clock, SystemClock
from crmbridge.connectors.ratelimit import Limiter
from crmbridge.connectors.redact import Redactor, protect_http_logs
from crmbridge.errors import DatabaseError, Permanent, Retryable
from crmbridge.metrics import Metrics
from crmbridge.store.database import Database
from crmbridge.store.journal import Exchange, record_exchange

log = logging.getLogger("crmbridge.connectors")

Throttle = Callable[[httpx.Response], float | None]


class RemoteNotFound(Permanent):
    """The remote system has no such record."""


class Throttled(Retryable):
    """The remote system asked us to slow down; the work is tried again later."""


class Unavailable(Retryable):
    """The remote system is unavailable (5xx, maintenance, timeout); tried again later."""


class ExchangeRecorder(Protocol):
    def record(self, exchange: Exchange) -> None: ...


class JournalRecorder:
    """Writes exchanges to the exchange log table; a database hiccup never fails the call."""

    def __init__(self, db: Database, metrics: Metrics | None = None) -> None:
        self._db, self._metrics = db, metrics

    def record(self, exchange: Exchange) -> None:
        if self._metrics is not None:
            self._metrics.exchange(exchange)
        try:
            record_exchange(self._db, exchange)
        except (DatabaseError, SQLAlchemyError) as exc:
            log.warning(
                "exchange %s %s not recorded: %s", exchange.system, exchange.operation, type(exc)
            )

    def __repr__(self) -> str:
        return "JournalRecorder()"


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), None when absent or bad."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = response.headers.get("date")
    now = parsedate_to_datetime(date) if date else None
    return max(0.0, (moment - now).total_seconds()) if now else None


def throttled_by_status(response: httpx.Response, default: float = 1.0) -> float | None:
    """Generic throttle hook: 429 always, 503 only with `Retry-After` (else it is downtime)."""
    delay = retry_after(response)
    if response.status_code == 429:
        return default if delay is None else delay
    if response.status_code == 503 and delay is not None:
        return delay
    return None


class HttpCaller:
    def __init__(
        self,
        client: httpx.Client,
        *,
        system: str,
        limiter: Limiter,
        recorder: ExchangeRecorder | None,
        redactor: Redactor,
        body_limit: int = 4096,
        timeout: httpx.Timeout | None = None,
        throttle: Throttle = throttled_by_status,
        clock: Clock | None = None,
        throttle_retries: int = 3,
        max_inline_wait: float = 10.0,
    ) -> None:
        self.system = system
        # How often a throttled call is waited out and sent again before the job is failed
        # (Retryable) instead: pauses up to `max_inline_wait` seconds are waited out in place.
        self.throttle_retries = throttle_retries
        self.max_inline_wait = max_inline_wait
        self.limiter = limiter
        self.redactor = redactor
        self._client = client
        self._recorder = recorder
        self._body_limit = body_limit
        self._timeout = timeout
        self._throttle = throttle
        self._clock = clock or SystemClock()
        # httpx logs every request URL at INFO, and a URL may hold a secret (Bitrix24 webhook).
        protect_http_logs(redactor)

    def __repr__(self) -> str:
        return f"HttpCaller(system={self.system!r}, limiter={self.limiter!r})"

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        business_key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        kwargs = _encode_json(kwargs)
        if self._timeout is not None:
            kwargs.setdefault("timeout", self._timeout)
        call = _Call(method, url, operation, business_key, kwargs)
        for attempt in range(self.throttle_retries + 1):
            response, failure = self._once(call)
            if not isinstance(failure, Throttled) or attempt == self.throttle_retries:
                break
            if (failure.retry_after or 0) > self.max_inline_wait:
                break
            # A short pause is waited out here (the limiter holds every thread of this account
            # back meanwhile): the job goes on instead of starting over from its first call.
        if failure is not None:
            raise failure
        assert response is not None
        return response

    def _once(self, call: _Call) -> tuple[httpx.Response | None, Exception | None]:
        with self.limiter.slot():
            at, started = self._clock.now(), self._clock.monotonic()
            response, failure = self._send(call.method, call.url, call.operation, call.kwargs)
            elapsed_ms = (self._clock.monotonic() - started) * 1000
        delay = self._throttle(response) if response is not None else None
        if response is not None and delay is not None:
            self.limiter.slow_down(delay)
            failure = Throttled(
                f"{self.system} {call.operation}: HTTP {response.status_code},"
                f" asked to slow down for {delay:g}s",
                retry_after=delay,
            )
        self._record(call, at, elapsed_ms, response, failure)
        return response, failure

    def _send(
        self, method: str, url: str, operation: str, kwargs: dict[str, Any]
    ) -> tuple[httpx.Response | None, Exception | None]:
        where = f"{self.system} {operation}"
        try:
            return self._client.request(method, url, **kwargs), None
        except httpx.TimeoutException as exc:
            return None, Unavailable(self._clean(f"{where}: timed out ({type(exc).__name__})"))
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            return None, Unavailable(self._clean(f"{where}: {type(exc).__name__}: {exc}"))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return None, Permanent(self._clean(f"{where}: {type(exc).__name__}: {exc}"))

    def _clean(self, message: str) -> str:
        return self.redactor.text(message)

    def _record(
        self,
        call: _Call,
        at: Any,
        elapsed_ms: float,
        response: httpx.Response | None,
        failure: Exception | None,
    ) -> None:
        url = str(response.request.url) if response is not None else call.url
        # Decoded, so `Catalog_Контрагенты` reads as such in the trace; redacted after decoding.
        safe_url = self.redactor.text(_readable(url))
        status = response.status_code if response is not None else None
        log.debug(
            "%s %s %s %s → %s in %.0f ms",
            self.system,
            call.operation,
            call.method,
            safe_url,
            status,
            elapsed_ms,
        )
        if self._recorder is None:
            return
        context = correlation.current()
        self._recorder.record(
            Exchange(
                at=at,
                system=self.system,
                operation=call.operation,
                method=call.method,
                url=safe_url,
                request_body=self._body(_request_text(call.kwargs, self._read_limit)),
                response_body=self._body(_response_text(response, self._read_limit)),
                status=status,
                duration_ms=round(elapsed_ms, 3),
                attempt=context.attempt if context else None,
                job_id=context.job_id if context else None,
                correlation_id=context.correlation_id if context else None,
                business_key=call.business_key or (context.business_key if context else None),
                error=self._clean(str(failure)) if failure is not None else None,
            )
        )

    @property
    def _read_limit(self) -> int:
        return self._body_limit + self.redactor.longest + 64

    def _body(self, text: str | None) -> str | None:
        return None if text is None else self.redactor.clipped(text, self._body_limit)


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    url: str
    operation: str
    business_key: str | None
    kwargs: dict[str, Any]


def _readable(url: str) -> str:
    """The URL percent-decoded for people (`+` is a space only in the query)."""
    path, mark, query = url.partition("?")
    return unquote(path) + mark + unquote_plus(query)


def _encode_json(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Serialise `json=` once, ourselves, so the logged body is exactly the bytes sent."""
    if "json" not in kwargs:
        return dict(kwargs)
    out = dict(kwargs)
    body = json.dumps(out.pop("json"), ensure_ascii=False, separators=(",", ":"))
    out["content"] = body.encode("utf-8")
    headers = dict(out.get("headers") or {})
    headers.setdefault("Content-Type", "application/json")
    out["headers"] = headers
    return out


def _request_text(kwargs: Mapping[str, Any], limit: int) -> str | None:
    if kwargs.get("files"):
        return f"[multipart: {', '.join(map(str, dict(kwargs['files'])))}]"
    content = kwargs.get("content")
    if isinstance(content, bytes | bytearray):
        return bytes(content[: limit * 4]).decode("utf-8", errors="replace")[:limit]
    if isinstance(content, str):
        return content[:limit]
    data = kwargs.get("data")
    if isinstance(data, Mapping):
        return urlencode(data, doseq=True)[:limit]
    return None


_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/atom+xml")


def _response_text(response: httpx.Response | None, limit: int) -> str | None:
    if response is None:
        return None
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and not kind.startswith(_TEXT_TYPES) and not kind.endswith(("+json", "+xml")):
        # A PDF or another file: its bytes say nothing in a trace, and they are not text.
        return f"<{len(response.content)} bytes of {kind}>"
    return response.content[: limit * 4].decode("utf-8", errors="replace")[:limit]
