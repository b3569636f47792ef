"""`systems.bas` for a BAS / 1C infobase published over OData (`type: bas`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from crmbridge.config.model import SystemSettings


class BasSystem(SystemSettings):
    type: Literal["bas"] = "bas"
    odata_url: str  # …/odata/standard.odata/
    user: str
    password: SecretStr
    profile: Literal["bas-buh", "bp30"] = "bas-buh"
    webhook_secret: SecretStr | None = None  # whsec_… for pushes signed by a BAS extension
    sessions: int = Field(default=4, ge=1, description="Concurrent requests (sessions).")
    processes: int = Field(default=1, ge=1, description="Worker processes sharing the sessions.")
    timeout: float = Field(default=30.0, gt=0)
    organisation: str | None = None  # our company's ЄДРПОУ; the only one when None
    price_type: str | None = None  # Description of the price type that feeds the CRM

    @field_validator("odata_url")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"
