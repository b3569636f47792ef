"""Run an ASGI app on a free loopback port in a background thread, for real-HTTP tests."""

from __future__ import annotations

from crmbridge.web.serving import free_port
from crmbridge.web.serving import serving as serve_app

__all__ = ["free_port", "serve_app"]
