"""The runs app's REST endpoints (django-ninja): list, read and delete runs, and page their event logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from core.audit import LAUNCHED_BY_TAG
from core.exceptions import InvalidInput, NotFound
from core.permissions import actor_from_request
from runs import selectors, services
from runs.models import RunStatus

router = Router(tags=["runs"])


class RunOut(Schema):
    run_id: str
    job_name: str
    status: RunStatus
    location_name: str
    repository_name: str
    tags: dict[str, str]
    launched_by: str | None = Field(description="Who launched the run (its `orchestra/launched_by` tag): "
                                    "user:<name>, token:<name>, schedule:<name>, sensor:<name>, backfill:<id>, "
                                    "system:orchestra.")
    run_config: dict[str, Any]
    op_selection: list[str] | None
    asset_selection: list[Any] | None
    step_keys_to_execute: list[str] | None
    parent_run_id: str | None
    root_run_id: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    ended_at: datetime | None

    @staticmethod
    def resolve_tags(run) -> dict[str, str]:
        return selectors.run_tags(run)

    @staticmethod
    def resolve_launched_by(run) -> str | None:
        return selectors.run_tags(run).get(LAUNCHED_BY_TAG)


class RunPageOut(Schema):
    results: list[RunOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null after a short page."
    )


class EventOut(Schema):
    storage_id: int = Field(alias="id")
    run_id: str
    event_type: str | None = Field(description="A DagsterEventType name; null for a plain log message.")
    timestamp: datetime
    level: int
    message: str
    step_key: str | None
    asset_key: str | None
    partition: str | None
    payload: dict[str, Any]


class EventPageOut(Schema):
    events: list[EventOut]
    cursor: str = Field(description="Pass as `after` to poll for later events.")
    has_more: bool


class ErrorOut(Schema):
    detail: str


class RunListParams(Schema):
    status: list[RunStatus] | None = Field(None, description="Repeat for several statuses.")
    job: str | None = None
    tag: list[str] | None = Field(None, description="key:value; repeat for several tags, all must match.")
    launched_by: str | None = Field(None, description="Runs launched by this actor: user:alice, token:ci, "
                                    "schedule:daily, sensor:my_sensor, backfill:<id> or system:orchestra.")
    created_before: datetime | None = None
    created_after: datetime | None = None
    cursor: str | None = Field(None, description="The run id the previous page ended with.")
    limit: int = Field(50, ge=1, le=selectors.MAX_PAGE)


def _tag_pairs(params: list[str] | None) -> list[tuple[str, str]]:
    pairs = []
    for param in params or []:
        key, sep, value = param.partition(":")
        if not sep or not key:
            raise InvalidInput(f"tag {param!r} must be written key:value")
        pairs.append((key, value))
    return pairs


@router.get("/runs", response=RunPageOut)
def list_runs(request: HttpRequest, params: Query[RunListParams]):
    filters = selectors.RunFilter(
        statuses=params.status,
        job_name=params.job,
        tags=selectors.tag_filter(_tag_pairs(params.tag)
                                  + ([(LAUNCHED_BY_TAG, params.launched_by)] if params.launched_by else [])),
        created_before=params.created_before,
        created_after=params.created_after,
    )
    try:
        runs = selectors.run_list(filters=filters, cursor=params.cursor, limit=params.limit)
    except NotFound:
        raise InvalidInput(f"cursor {params.cursor!r} names no run")
    next_cursor = runs[-1].run_id if len(runs) == params.limit else None
    return {"results": runs, "next_cursor": next_cursor}


@router.get("/runs/{run_id}", response={200: RunOut, 404: ErrorOut})
def get_run(request: HttpRequest, run_id: str):
    return selectors.run_get(run_id=run_id)


@router.get("/runs/{run_id}/events", response={200: EventPageOut, 404: ErrorOut})
def list_run_events(
    request: HttpRequest,
    run_id: str,
    after: str | None = Query(None, description="The cursor of the previous page."),
    limit: int = Query(1000, ge=1, le=10_000),
):
    if after and not after.isdigit():
        raise InvalidInput(f"after {after!r} is not a cursor this server returned")
    page = selectors.events_page(run_id=run_id, cursor=int(after) if after else None, limit=limit)
    cursor = "" if page.cursor is None else str(page.cursor)
    return {"events": page.events, "cursor": cursor, "has_more": page.has_more}


@router.delete("/runs/{run_id}", response={204: None, 403: ErrorOut, 404: ErrorOut})
def delete_run(request: HttpRequest, run_id: str):
    services.run_delete(run_id=run_id, actor=actor_from_request(request))
    return Status(204, None)


# --- compute logs (captured stdout/stderr) ---------------------------------------------------------


class CapturedLogOut(Schema):
    data: str = Field(description="The bytes read, decoded as UTF-8 with replacement characters.")
    cursor: int = Field(description="The byte offset after `data`; pass it back to read on.")
    eof: bool = Field(description="True once capture has ended and everything was read.")


class CaptureOut(Schema):
    file_key: str
    step_keys: list[str]
    pid: int | None


@router.get("/runs/{run_id}/logs", response={200: list[CaptureOut], 400: ErrorOut, 404: ErrorOut})
def list_run_captures(request: HttpRequest, run_id: str):
    """The run's compute log captures (one per LOGS_CAPTURED event)."""
    from runs import compute_logs

    return compute_logs.captured_log_keys(run_id=run_id)


@router.get("/runs/{run_id}/logs/{path:file_key}/download", response={200: None, 400: ErrorOut, 404: ErrorOut})
def download_captured_log(request: HttpRequest, run_id: str, file_key: str,
                          io: str = Query("stdout", description="stdout or stderr")):
    """The whole captured stream as a file."""
    from django.http import FileResponse

    from runs import compute_logs

    path = compute_logs.captured_log_path(run_id=run_id, file_key=file_key, io_type=io)
    extension = "out" if io in ("stdout", "out") else "err"
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{file_key}.{extension}",  # noqa: SIM115
                        content_type="text/plain; charset=utf-8")


@router.get("/runs/{run_id}/logs/{path:file_key}", response={200: CapturedLogOut, 400: ErrorOut, 404: ErrorOut})
def read_captured_log(
    request: HttpRequest,
    run_id: str,
    file_key: str,
    io: str = Query("stdout", description="stdout or stderr"),
    cursor: int = Query(0, description="Byte offset to read from (the `cursor` of the previous answer)."),
    limit: int = Query(65536, description="At most this many bytes (up to 4 MiB)."),
):
    """A chunk of a step's captured stdout or stderr, by file key (or step key), for a live tail."""
    from runs import compute_logs

    chunk = compute_logs.captured_log_read(run_id=run_id, file_key=file_key, io_type=io, cursor=cursor, limit=limit)
    return {"data": chunk.data, "cursor": chunk.cursor, "eof": chunk.eof}
