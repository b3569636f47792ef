"""`systems.crm` for a Bitrix24 portal (`type: bitrix24`)."""

from __future__ import annotations

from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from crmbridge.config.model import SystemSettings

_BITRIX24_AUTH = {
    "webhook": ("webhook_url", "application_token"),
    "oauth": ("portal", "client_id", "client_secret"),
}


class Bitrix24System(SystemSettings):
    """A portal, reached through an inbound webhook (`auth: webhook`, the default) or as a local
    OAuth application (`auth: oauth`), whose tokens arrive at the install route and are kept in
    the database."""

    type: Literal["bitrix24"] = "bitrix24"
    auth: Literal["webhook", "oauth"] = "webhook"
    webhook_url: SecretStr | None = None  # https://portal/rest/<user>/<code>/ — a password
    application_token: SecretStr | None = None  # shown by the portal for the outgoing webhook
    portal: str | None = None  # https://example.bitrix24.ua, for auth: oauth
    client_id: str | None = None  # local.… from the local application's card
    client_secret: SecretStr | None = None
    oauth_server: str = "https://oauth.bitrix.info"  # the sandbox stands in for it in tests
    rate: float = Field(default=2.0, gt=0, description="Requests per second (leaky bucket).")
    burst: int = Field(default=50, ge=1)
    # Seconds a call may take: the cloud portal gives a request 60 s, a little more for the network
    timeout: float = Field(default=65.0, gt=0)
    processes: int = Field(default=1, ge=1, description="Worker processes sharing this portal.")

    @field_validator("portal", "oauth_server")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PydanticCustomError(
                "address", "an address such as https://example.bitrix24.ua is expected"
            )
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Self:
        mine = _BITRIX24_AUTH[self.auth]
        other = "oauth" if self.auth == "webhook" else "webhook"
        stray = [f for f in (*_BITRIX24_AUTH[other], "oauth_server") if f in self.model_fields_set]
        stray = [f for f in stray if not (self.auth == "oauth" and f == "oauth_server")]
        if stray:
            raise PydanticCustomError(
                "bitrix24_auth",
                f"auth: {self.auth} takes {_listed(mine)}; "
                f"{', '.join(stray)} belongs to auth: {other}",
            )
        missing = [f for f in mine if getattr(self, f) is None]
        if missing:
            raise PydanticCustomError(
                "bitrix24_auth", f"auth: {self.auth} needs {', '.join(missing)}"
            )
        return self


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]
