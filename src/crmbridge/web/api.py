"""The JSON management API under `/api` (OpenAPI at `/api/openapi.json`).

Jobs (list, one, replay one, replay all matching), an entity's trace, per-flow figures, the
exchange log by business key and the ownership map: what the dashboard shows, for scripts.
Credentials are checked by `auth.AuthGate`; the security scheme below only documents them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Security
from fastapi.security import HTTPBasic, HTTPBearer
from pydantic import BaseModel

from crmbridge.app import Application
from crmbridge.errors import ConfigError
from crmbridge.store import jobs as job_sql
from crmbridge.store.jobs import Job, JobFilter
from crmbridge.store.overview import flow_stats, search_exchanges
from crmbridge.trace import timeline

JobId = Annotated[int, Path(ge=1, le=2**62, description="The job's id.")]
Kind = Literal["deal", "company", "invoice", "counterparty", "product"]
StatusName = Literal["waiting", "running", "done", "dead"]
# No NUL: PostgreSQL refuses it in text, so it would be a 500 instead of a 422.
PRINTABLE = r"^[^\x00]*$"
Text = Annotated[str | None, Query(max_length=200, pattern=PRINTABLE)]


class JobOut(BaseModel):
    id: int
    flow: str
    status: str
    attempts: int
    lock_key: str | None
    enqueued_at: datetime
    run_at: datetime
    finished_at: datetime | None
    last_error: str | None
    correlation_id: str

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(**{name: getattr(job, name) for name in cls.model_fields})


class AttemptOut(BaseModel):
    attempt: int
    worker_id: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error: str | None


class JobDetail(JobOut):
    payload: dict[str, Any]
    last_traceback: str | None
    attempt_log: list[AttemptOut]


class JobList(BaseModel):
    total: int
    jobs: list[JobOut]


class Replayed(BaseModel):
    replayed: int


class Trace(BaseModel):
    entity: str
    id: str
    timeline: list[dict[str, Any]]


class FlowOut(BaseModel):
    flow: str
    processed: int
    failed: int
    waiting: int
    running: int
    lag_seconds: float
    last_error: str | None
    last_error_at: datetime | None


class ExchangeOut(BaseModel):
    id: int
    at: datetime
    system: str
    operation: str
    method: str | None
    url: str | None
    status: int | None
    duration_ms: float | None
    job_id: int | None
    business_key: str | None
    error: str | None


class OwnershipOut(BaseModel):
    entities: dict[str, str]
    fields: dict[str, str]


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _filter(
    status: StatusName | None,
    flow: str | None,
    error: str | None,
    since: datetime | None,
    until: datetime | None,
) -> JobFilter:
    return JobFilter(status, flow or None, error or None, _aware(since), _aware(until))


def router(application: Application) -> APIRouter:
    documented = [Security(HTTPBearer(auto_error=False)), Security(HTTPBasic(auto_error=False))]
    api = APIRouter(prefix="/api", dependencies=documented)
    db, clock = application.db, application.clock

    @api.get("/jobs", response_model=JobList)
    def jobs(
        status: StatusName | None = None,
        flow: Text = None,
        error: Text = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> JobList:
        """Jobs, newest first; `since`/`until` bound the finish time."""
        flt = _filter(status, flow, error, since, until)
        found = job_sql.find(db, flt, limit)
        return JobList(total=job_sql.count(db, flt), jobs=[JobOut.of(j) for j in found])

    @api.get("/jobs/{job_id}", response_model=JobDetail, responses={404: {}})
    def job(job_id: JobId) -> JobDetail:
        found = job_sql.get(db, job_id)
        if found is None:
            raise HTTPException(404, f"there is no job {job_id}")
        attempts = [AttemptOut(**a) for a in job_sql.attempts_of(db, job_id)]
        return JobDetail(
            **JobOut.of(found).model_dump(),
            payload=found.payload,
            last_traceback=found.last_traceback,
            attempt_log=attempts,
        )

    @api.post("/jobs/{job_id}/replay", response_model=Replayed, responses={404: {}, 409: {}})
    def replay(job_id: JobId) -> Replayed:
        """Run a dead (or done) job again, now, with a fresh attempt budget."""
        found = job_sql.get(db, job_id)
        if found is None:
            raise HTTPException(404, f"there is no job {job_id}")
        if found.status not in ("dead", "done"):
            raise HTTPException(409, f"job {job_id} is {found.status}; only dead or done jobs")
        return Replayed(replayed=job_sql.replay(db, [job_id], clock.now()))

    @api.post("/jobs/replay", response_model=Replayed)
    def replay_matching(
        status: Literal["dead", "done"] = "dead",
        flow: Text = None,
        error: Text = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Replayed:
        """Replay every dead job (or done, with status=done) matching the filter."""
        flt = _filter(status, flow, error, since, until)
        return Replayed(replayed=job_sql.replay_matching(db, flt, clock.now()))

    @api.get("/trace/{entity}/{key}", response_model=Trace, responses={404: {}})
    def trace(entity: Kind, key: Annotated[str, Path(max_length=200, pattern=PRINTABLE)]) -> Trace:
        """Everything recorded about a deal, company (id or ЄДРПОУ), invoice (number),
        counterparty (ЄДРПОУ) or product (CRM id or BAS Ref_Key), in time order: what
        `crmbridge trace --json` prints."""
        try:
            kind, crm_id, entries = timeline(db, entity, key)
        except ConfigError as exc:
            raise HTTPException(404, exc.message) from None
        return Trace(entity=kind, id=crm_id, timeline=[e.json() for e in entries])

    @api.get("/flows", response_model=list[FlowOut])
    def flows() -> list[FlowOut]:
        """Per flow: processed, failed (dead), waiting, running, lag and the last error."""
        return [FlowOut(**vars(s)) for s in flow_stats(db, clock.now())]

    @api.get("/exchanges", response_model=list[ExchangeOut])
    def exchanges(
        key: Annotated[str, Query(min_length=1, max_length=200, pattern=PRINTABLE)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[ExchangeOut]:
        """External calls about a business key (`deal:42`, `company:7`), newest first."""
        return [ExchangeOut(**row) for row in search_exchanges(db, key, limit)]

    @api.get("/ownership", response_model=OwnershipOut)
    def ownership() -> OwnershipOut:
        owned = application.config.ownership
        return OwnershipOut(entities=dict(owned.entities), fields=dict(owned.fields))

    return api
