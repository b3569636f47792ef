"""Emulator of a 1C/BAS infobase: the standard OData interface and the invoice PDF HTTP service."""

from __future__ import annotations

from crmbridge.sandbox.bas.profiles import PROFILES
from crmbridge.sandbox.bas.sandbox import PASSWORD, USER, BasSandbox

__all__ = ["PASSWORD", "PROFILES", "USER", "BasSandbox"]
