"""The workspace app's REST endpoints (django-ninja): code locations, their jobs (from stored snapshots), reload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from core.exceptions import NotFound
from core.permissions import actor_from_request
from workspace import reload, selectors
from workspace.models import CodeLocation

router = Router(tags=["code locations"])


class ErrorOut(Schema):
    detail: str


class LocationOut(Schema):
    name: str
    status: str = Field(description="LOADING, LOADED or ERROR.")
    updated_at: datetime
    snapshot_id: str
    origin: dict[str, Any]
    load_error: dict[str, Any] | None = Field(description="{cls_name, message, stack, cause} when ERROR.")


class JobOut(Schema):
    name: str
    location_name: str
    repository_name: str
    description: str | None
    is_asset_job: bool
    tags: dict[str, Any]


class JobDetailOut(JobOut):
    ops: list[str]
    asset_keys: list[str]
    asset_check_keys: list[str]
    partitions: dict[str, Any] | None
    run_config_schema: dict[str, Any] = Field(description="The job's run config as a JSON Schema.")


def _job(location: str, repository: str, job: dict[str, Any]) -> dict[str, Any]:
    return {"name": job["name"], "location_name": location, "repository_name": repository,
            "description": job.get("description"), "is_asset_job": bool(job.get("is_asset_job")),
            "tags": job.get("tags") or {}}


@router.get("/locations", response=list[LocationOut], summary="List code locations")
def list_locations(request: HttpRequest):
    return selectors.location_list()


@router.get("/locations/{name}", response={200: LocationOut, 404: ErrorOut}, summary="Get a code location")
def get_location(request: HttpRequest, name: str):
    return selectors.location_get(name=name)


@router.post("/locations/{name}/reload", response={200: LocationOut, 403: ErrorOut, 404: ErrorOut},
             summary="Reload a code location")
def reload_location(
    request: HttpRequest, name: str,
    timeout: float | None = Query(None, ge=0, description="Seconds to wait; default code_servers.reload_timeout."),
):
    """Restart the location's code server and wait until it is loaded again (or failed); a location still
    LOADING when the wait ends is answered as it is."""
    return reload.location_reload_wait(name=name, timeout=timeout, actor=actor_from_request(request))


@router.get("/jobs", response=list[JobOut], summary="List jobs of every loaded location")
def list_jobs(request: HttpRequest, location: str | None = None):
    jobs = []
    for row in selectors.location_list_with_snapshots():
        if row.snapshot is None or (location is not None and row.name != location):
            continue
        repository = row.snapshot.get("repository_name") or "__repository__"
        jobs += [_job(row.name, repository, job) for job in row.snapshot.get("jobs") or []]
    return jobs


@router.get("/locations/{name}/jobs/{job_name}", response={200: JobDetailOut, 404: ErrorOut},
            summary="Get a job with its run config schema")
def get_job(request: HttpRequest, name: str, job_name: str):
    location: CodeLocation = selectors.location_get(name=name)
    snapshot = location.snapshot or {}
    job = next((j for j in snapshot.get("jobs") or [] if j["name"] == job_name), None)
    if job is None:
        raise NotFound("job", f"{job_name} in {name}")
    job = selectors.full_job(snapshot, job)
    nodes = (job.get("graph") or {}).get("nodes") or []
    return {
        **_job(name, snapshot.get("repository_name") or "__repository__", job),
        "ops": [node["name"] for node in nodes],
        "asset_keys": job.get("asset_keys") or [],
        "asset_check_keys": job.get("asset_check_keys") or [],
        "partitions": job.get("partitions"),
        "run_config_schema": (job.get("run_config_schema") or {}).get("json_schema") or {},
    }
