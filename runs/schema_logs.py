"""GraphQL for compute logs: Dagster's `capturedLogs` and `capturedLogsMetadata` query fields and types.

A log key is Dagster's `[run_id, "compute_logs", file_key]` (the file key of a LOGS_CAPTURED
event). A key part that is not a plain name is refused with a GraphQL error naming it, never read.
"""

from __future__ import annotations

from typing import Any

import graphene

from core.graphql import InputRefused
from runs import compute_logs


class CapturedLogs(graphene.ObjectType):
    """A chunk of a capture's stdout and stderr (decoded as UTF-8 with replacement characters)."""

    logKey = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    stdout = graphene.String()
    stderr = graphene.String()
    cursor = graphene.String()


class CapturedLogsMetadata(graphene.ObjectType):
    stdoutDownloadUrl = graphene.String()
    stdoutLocation = graphene.String()
    stderrDownloadUrl = graphene.String()
    stderrLocation = graphene.String()


def _text(data: bytes | None) -> str | None:
    return data.decode("utf-8", "replace") if data is not None else None


def resolve_captured_logs(root: Any, info: Any, logKey: list[str], cursor: str | None = None,
                          limit: int | None = None) -> CapturedLogs:
    try:
        data = compute_logs.captured_logs_get(log_key=logKey, cursor=cursor, limit=limit)
    except compute_logs.LogKeyInvalid as exc:
        raise InputRefused(str(exc)) from None
    return CapturedLogs(logKey=list(data.log_key), stdout=_text(data.stdout), stderr=_text(data.stderr),
                        cursor=data.cursor)


def resolve_captured_logs_metadata(root: Any, info: Any, logKey: list[str]) -> CapturedLogsMetadata:
    try:
        metadata = compute_logs.captured_logs_metadata(log_key=logKey)
    except compute_logs.LogKeyInvalid as exc:
        raise InputRefused(str(exc)) from None
    return CapturedLogsMetadata(
        stdoutDownloadUrl=metadata.stdout_download_url, stdoutLocation=metadata.stdout_location,
        stderrDownloadUrl=metadata.stderr_download_url, stderrLocation=metadata.stderr_location,
    )


class LogQueries(graphene.ObjectType):
    """Compute-log query fields, mounted on the runs app's `RunQueries`."""

    capturedLogs = graphene.NonNull(
        CapturedLogs,
        logKey=graphene.NonNull(graphene.List(graphene.NonNull(graphene.String))),
        cursor=graphene.String(),
        limit=graphene.Int(),
        resolver=resolve_captured_logs,
    )
    capturedLogsMetadata = graphene.NonNull(
        CapturedLogsMetadata,
        logKey=graphene.NonNull(graphene.List(graphene.NonNull(graphene.String))),
        resolver=resolve_captured_logs_metadata,
    )
