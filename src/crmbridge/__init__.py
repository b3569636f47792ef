"""crmbridge: connects a CRM (Bitrix24, Kommo) with 1C:Enterprise / BAS accounting."""

from __future__ import annotations

__version__ = "0.1.0"
