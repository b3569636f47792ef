"""Alerts: the queue lags behind, jobs landed in the dead letter, or the scheduled
reconciliation found discrepancies. Sent to a generic webhook
(a JSON POST) and/or by e-mail, rate-limited so an outage sends one message per window and a
summary of what was held back, not one message per failed job.

The check runs as a scheduler chore on the leader only (one process per database sends), every
`alerts.check_every` seconds. The last dead letter already reported is kept in the cursors table,
so a restart neither repeats nor loses alerts. Messages name flows, counts and job ids, never
errors' text or URLs; the webhook URL and the SMTP password are never logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from crmbridge.clock import Clock
from crmbridge.config.model import Alerts, SmtpSettings
from crmbridge.connectors.redact import Redactor, protect_http_logs
from crmbridge.store import cursors, stats
from crmbridge.store.database import Database

log = logging.getLogger("crmbridge.alerts")

DEAD_CURSOR = "alerts:dead-letters"
RECONCILE_CURSOR = "alerts:reconcile"


@dataclass(frozen=True)
class Alert:
    kind: str  # lag | dead-letter | suppressed
    key: str  # what it is about: "queue", a flow name
    message: str
    count: int = 1  # how many occurrences this one message stands for

    def json(self) -> dict[str, Any]:
        return {"text": f"crmbridge: {self.message}", **self.__dict__}


class Notifier(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


class WebhookNotifier:
    """POSTs the alert as JSON (`text` first, so chat webhooks show it as is)."""

    name = "webhook"

    def __init__(self, url: str, client: httpx.Client) -> None:
        self._url, self._client = url, client
        parts = urlsplit(url)
        protect_http_logs(Redactor([parts.path, parts.query, parts.password or ""]))

    def send(self, alert: Alert) -> None:
        self._client.post(self._url, json=alert.json(), timeout=10).raise_for_status()

    def __repr__(self) -> str:
        return "WebhookNotifier(url=<hidden>)"


class SmtpNotifier:
    """Sends the alert as a plain-text e-mail, with STARTTLS and login when configured."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def send(self, alert: Alert) -> None:
        s = self._settings
        message = EmailMessage()
        message["From"], message["To"] = s.sender, ", ".join(s.to)
        message["Subject"] = f"crmbridge alert: {alert.kind} ({alert.key})"
        message.set_content(alert.message + "\n")
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user and s.password:
                smtp.login(s.user, s.password.get_secret_value())
            smtp.send_message(message)


@dataclass
class _Window:
    opened: float
    suppressed: int = 0


@dataclass
class RateLimiter:
    """One message per (kind, key) per window; what comes within the window is counted and
    reported once, as a summary, when the window ends."""

    window: float
    clock: Clock
    _open: dict[tuple[str, str], _Window] = field(default_factory=dict)

    def admit(self, alert: Alert) -> bool:
        now, slot = self.clock.monotonic(), (alert.kind, alert.key)
        current = self._open.get(slot)
        if current is None or now - current.opened >= self.window:
            self._open[slot] = _Window(now)
            return True
        current.suppressed += alert.count
        return False

    def summaries(self) -> list[Alert]:
        """Windows that ended with suppressed alerts: one summary each (it opens a new window)."""
        now, due = self.clock.monotonic(), []
        for (kind, key), current in list(self._open.items()):
            if now - current.opened < self.window:
                continue
            if current.suppressed:
                text = (
                    f"{current.suppressed} more {kind} alerts for {key} were suppressed "
                    f"in the last {self.window:.0f} s"
                )
                due.append(Alert("suppressed", key, text, current.suppressed))
                self._open[(kind, key)] = _Window(now)
            else:
                del self._open[(kind, key)]
        return due


class AlertCheck:
    """The chore: evaluate lag and new dead letters, send what the rate limiter admits."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Alerts,
        notifiers: Sequence[Notifier],
        limiter: RateLimiter | None = None,
    ) -> None:
        self._db, self._clock, self._settings = db, clock, settings
        self._notifiers = list(notifiers)
        self._limiter = limiter or RateLimiter(settings.window, clock)

    def __call__(self) -> None:
        for alert in self.evaluate():
            if self._limiter.admit(alert):
                self._send(alert)
        for summary in self._limiter.summaries():
            self._send(summary)

    def evaluate(self) -> list[Alert]:
        alerts = []
        lag = stats.lag_seconds(self._db, self._clock.now())
        if lag > self._settings.lag_threshold:
            text = (
                f"the oldest waiting job has waited {lag:.0f} s "
                f"(threshold {self._settings.lag_threshold:.0f} s)"
            )
            alerts.append(Alert("lag", "queue", text))
        if self._settings.dead_letters:
            alerts.extend(self._dead_letters())
        alerts.extend(self._reconciliations())
        return alerts

    def _reconciliations(self) -> list[Alert]:
        """The latest scheduled reconciliation runs (flows.reconcile) that found something."""
        seen = cursors.get(self._db, RECONCILE_CURSOR)
        if seen is None:  # first check: only runs from now on count
            cursors.put(
                self._db,
                RECONCILE_CURSOR,
                {"id": stats.last_decision_id(self._db)},
                self._clock.now(),
            )
            return []
        runs = stats.reconciliations_since(self._db, int(seen["id"]))
        if not runs:
            return []
        cursors.put(self._db, RECONCILE_CURSOR, {"id": runs[-1][0]}, self._clock.now())
        found = runs[-1][1]  # the latest run says how things stand now
        if not found:
            return []
        text = (
            f"the scheduled reconciliation found {found} discrepancies between the systems; "
            "`crmbridge reconcile --report FILE.html` lists them, `--fix` re-pushes from the owner"
        )
        return [Alert("reconcile", "scheduled", text, found)]

    def _dead_letters(self) -> list[Alert]:
        seen = cursors.get(self._db, DEAD_CURSOR)
        if seen is None:  # first check on this database: only what dies from now on counts
            last = stats.last_dead_id(self._db)
            cursors.put(self._db, DEAD_CURSOR, {"id": last}, self._clock.now())
            return []
        new = stats.dead_since(self._db, int(seen["id"]), limit=100_000)
        if not new:
            return []
        cursors.put(self._db, DEAD_CURSOR, {"id": new[-1].id}, self._clock.now())
        by_flow = Counter(d.flow for d in new)
        alerts = []
        for flow, n in sorted(by_flow.items()):
            ids = [d.id for d in new if d.flow == flow][:5]
            more = ", …" if n > len(ids) else ""
            text = (
                f"{n} job(s) of flow {flow} landed in the dead letter (ids "
                f"{', '.join(map(str, ids))}{more}); see `crmbridge jobs --status dead`"
            )
            alerts.append(Alert("dead-letter", flow, text, n))
        return alerts

    def _send(self, alert: Alert) -> None:
        for notifier in self._notifiers:
            try:
                notifier.send(alert)
            except (httpx.HTTPError, smtplib.SMTPException, OSError) as exc:
                log.warning("alert %s not sent by %s: %s", alert.kind, notifier.name, type(exc))
        log.warning("alert: %s", alert.message)


def notifiers(settings: Alerts, client: httpx.Client) -> list[Notifier]:
    found: list[Notifier] = []
    if settings.webhook is not None:
        found.append(WebhookNotifier(settings.webhook.get_secret_value(), client))
    if settings.smtp is not None:
        found.append(SmtpNotifier(settings.smtp))
    return found
