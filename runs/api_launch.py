"""The runs app's REST endpoints that start and stop runs: launch, terminate, re-execute (django-ninja).

They are registered on `runs.api.router` (one router per path: ninja answers 405 when two routers
share `/runs`), so importing this module, as `orchestra_site.api` does, adds them.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Header, Schema, Status

from core.permissions import actor_from_request
from runs import services
from runs.api import ErrorOut, RunOut, router
from runs.reexecution import run_reexecute


class LaunchIn(Schema):
    job_name: str
    location_name: str | None = Field(None, description="Needed when several locations have a job of this name.")
    repository_name: str | None = None
    run_config: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    op_selection: list[str] | None = Field(None, description="Op names or Dagster's selection syntax (a*, +b).")
    asset_selection: list[str] | None = Field(None, description="Asset keys, path parts joined by '/'.")
    asset_check_selection: list[str] | None = Field(None, description="'asset/key:check_name'.")


class ConfigErrorOut(Schema):
    message: str
    path: list[str]
    reason: str


class RunConfigInvalidOut(Schema):
    detail: str
    errors: list[ConfigErrorOut]


class TerminateIn(Schema):
    force: bool = Field(False, description="Mark the run canceled at once (Dagster's MARK_AS_CANCELED_IMMEDIATELY).")


class ReexecuteIn(Schema):
    strategy: Literal["FROM_FAILURE", "ALL_STEPS", "FROM_ASSET_FAILURE"] = "FROM_FAILURE"
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to (or replacing) the parent's.")


@router.post(
    "/runs",
    response={201: RunOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 503: ErrorOut, 422: RunConfigInvalidOut},
    summary="Launch a run",
)
def launch_run(request: HttpRequest, body: LaunchIn,
               idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """Validate against the job's stored snapshot and submit. The same `Idempotency-Key` answers the run
    the first request created. Invalid run config is 422 with every error and its path."""
    tags = dict(body.tags)
    if idempotency_key:
        tags[services.IDEMPOTENCY_KEY_TAG] = idempotency_key
    try:
        run = services.run_submit(
            job_name=body.job_name, location_name=body.location_name, repository_name=body.repository_name,
            run_config=body.run_config, tags=tags, op_selection=body.op_selection,
            asset_selection=body.asset_selection, asset_check_selection=body.asset_check_selection,
            actor=actor_from_request(request),
        )
    except services.RunConfigInvalid as exc:
        return Status(422, {"detail": f"run config is invalid for job {body.job_name!r}", "errors": exc.errors})
    return Status(201, run)


@router.post("/runs/{run_id}/terminate", response={200: RunOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="Terminate a run")
def terminate_run(request: HttpRequest, run_id: str, body: TerminateIn | None = None):
    """Queued runs are canceled at once; running ones get CANCELING until their worker stops (or at once
    with `force`). 409 for a finished run."""
    return services.run_terminate(run_id=run_id, force=bool(body and body.force), actor=actor_from_request(request))


@router.post(
    "/runs/{run_id}/reexecute",
    response={201: RunOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: RunConfigInvalidOut},
    summary="Re-execute a run",
)
def reexecute_run(request: HttpRequest, run_id: str, body: ReexecuteIn | None = None):
    """A new run of the same job, linked to this one, executing the steps `strategy` picks."""
    body = body or ReexecuteIn()
    try:
        run = run_reexecute(parent_run_id=run_id, strategy=body.strategy, extra_tags=body.tags,
                            actor=actor_from_request(request))
    except services.RunConfigInvalid as exc:
        return Status(422, {"detail": "run config is invalid", "errors": exc.errors})
    return Status(201, run)
