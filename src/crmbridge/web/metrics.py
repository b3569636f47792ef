"""GET /metrics in the Prometheus text format, from a registry the application owns.

Wire it in `create_app`: `web.include_router(metrics_router(application.metrics))`.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from crmbridge.metrics import Metrics


def metrics_router(metrics: Metrics) -> APIRouter:
    api = APIRouter()

    @api.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return api
