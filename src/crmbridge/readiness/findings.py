"""A finding: one thing wrong with a system as the check met it, in one line a person can act on.

`system: what was tried: what happened; what to do`. The exceptions the connectors raise are
turned into findings here, once for both systems: a transport failure is told apart as a name
that does not resolve, a refused connection, a certificate the machine does not trust or no
answer; an answer as wrong credentials, missing rights, a missing publication or a maintenance
lock-out.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmbridge.connectors.http import Unavailable as NoAnswer
from crmbridge.connectors.onec.errors import MAINTENANCE_MARKERS, Maintenance, OneCError
from crmbridge.errors import CrmbridgeError


@dataclass(frozen=True)
class Finding:
    system: str  # bitrix24 | bas
    tried: str  # e.g. "GET https://host/base/odata/standard.odata/$metadata as «crmbridge»"
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.system}: {self.tried}: {self.problem}; {self.fix}"


# Markers in the messages of httpx's transport errors (the OS's and OpenSSL's own words).
_DNS = ("Name or service not known", "nodename nor servname", "getaddrinfo", "name resolution")
_REFUSED = ("Connection refused", "actively refused", "Errno 111", "Errno 61")
_TLS = ("SSL", "certificate", "TLS")


def transport(system: str, tried: str, exc: CrmbridgeError, host: str) -> Finding | None:
    """A finding for a call that got no HTTP answer, or None when `exc` is not one (the HTTP
    layer raises `Unavailable` for those and nothing else; an answer is the caller's to word)."""
    if not isinstance(exc, NoAnswer):
        return None
    text = exc.message
    if _any(text, _DNS):
        problem = f"the name {host} does not resolve"
        return Finding(system, tried, problem, "check the host in the URL")
    if _any(text, _REFUSED):
        fix = "check the port, and that the web server (or crmbridge sandbox) is running"
        return Finding(system, tried, f"nothing accepts connections at {host}", fix)
    if _any(text, _TLS):
        fix = (
            "the server needs a certificate from a trusted authority (or point SSL_CERT_FILE "
            "at your own CA); https:// against a plain-HTTP port fails the same way"
        )
        return Finding(system, tried, f"the TLS handshake with {host} failed ({_short(text)})", fix)
    if "timed out" in text:
        fix = "a firewall may drop the packets, or the server is overloaded: try again"
        return Finding(system, tried, f"no answer from {host} in time", fix)
    return None


def bas_answer(tried: str, exc: CrmbridgeError, user: str) -> Finding:
    """What BAS's answer to a read of `$metadata` means."""
    if isinstance(exc, Maintenance):
        said = next((m for m in MAINTENANCE_MARKERS if m.casefold() in exc.message.casefold()), "")
        fix = "the infobase refuses new sessions (updates, backup): try again when it is over"
        return Finding("bas", tried, f"locked out: «{said}»", fix)
    status = exc.status if isinstance(exc, OneCError) else None
    if status == 401:
        fix = (
            "check systems.bas.user and password: a user of the infobase (not of Windows), "
            "whose name is sent as UTF-8"
        )
        return Finding("bas", tried, f"401: user «{user}» or the password is wrong", fix)
    if status == 403:
        fix = "give the user the rights docs/real-systems.md lists (the standard OData interface)"
        return Finding("bas", tried, f"403: user «{user}» may not use OData here", fix)
    if status == 404:
        fix = (
            "check the publication's address, and that default.vrd enables the standard OData "
            'interface (<standardOdata enable="true"/>)'
        )
        return Finding("bas", tried, "404: no OData interface at this address", fix)
    return Finding("bas", tried, _short(exc.message), "see docs/real-systems.md")


def _any(text: str, markers: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(m.casefold() in folded for m in markers)


def _short(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
