"""Compute logs on the server: the instance's compute log manager and the reads of captured stdout/stderr.

The manager comes from `compute_logs: {module, class, config}` in orchestra.yaml (default
`LocalComputeLogManager` with `base_dir: $ORCHESTRA_HOME/storage`). Reads name a capture by run id
and file key (the `file_key` of a LOGS_CAPTURED event) or by Dagster's log key
`[run_id, "compute_logs", file_key]`; every key part must be a plain name, so nothing outside the
base directory can be read (`InvalidInput`), and an unknown run is `NotFound`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.exceptions import InvalidInput, NotFound
from orchestra._core.compute_logs import (
    MAX_BYTES_CHUNK_READ,
    CapturedLogData,
    CapturedLogMetadata,
    ComputeLogManager,
    InvalidLogKey,
    NoOpComputeLogManager,
    check_log_key_part,
    compute_log_manager_from_config,
    io_type_from,
)
from runs import selectors

logger = logging.getLogger(__name__)

DEFAULT_READ_LIMIT = 64 * 1024


class LogKeyInvalid(InvalidInput):
    """A run id, file key, io type or cursor that cannot name a captured log."""


@functools.cache
def compute_log_manager() -> ComputeLogManager:
    """The instance's compute log manager (built once per process from settings.INSTANCE).

    A `compute_logs` entry whose class refuses its config is logged and capture is turned off, so
    a typo in the logs section never keeps runs from running.
    """
    instance = settings.INSTANCE
    try:
        return compute_log_manager_from_config(instance.config.compute_logs, str(instance.home / "storage"))
    except Exception:
        logger.exception("compute_logs in %s could not be built; compute logs are off", instance.source)
        return NoOpComputeLogManager()


@dataclass(frozen=True)
class LogChunkOut:
    data: str
    cursor: int
    eof: bool
    size_read: int


def _plain(value: Any, what: str) -> str:
    try:
        return check_log_key_part(value, what)
    except InvalidLogKey as exc:
        raise LogKeyInvalid(str(exc)) from None


def _run_exists(run_id: str) -> Any:
    _plain(run_id, "run id")
    return selectors.run_get(run_id=run_id)  # NotFound for an unknown run


def captured_log_read(*, run_id: str, file_key: str, io_type: str = "stdout", cursor: int = 0,
                      limit: int = DEFAULT_READ_LIMIT) -> LogChunkOut:
    """Up to `limit` bytes of one captured stream from byte offset `cursor`, decoded with replacement.

    `eof` is true once everything was read and capture has ended, or the run has finished (a step
    process killed before it could mark its capture complete ends the tail too). A capture that has
    not started (or a file key never captured) reads as empty, at eof only once the run has finished.
    The cursor only moves forward by what was read, so a live tail passes back the cursor it got.
    """
    run = _run_exists(run_id)
    _plain(file_key, "file key")
    try:
        io = io_type_from(io_type)
    except InvalidLogKey as exc:
        raise LogKeyInvalid(str(exc)) from None
    if cursor < 0:
        raise LogKeyInvalid(f"cursor must be 0 or more, got {cursor}")
    if not 1 <= limit <= MAX_BYTES_CHUNK_READ:
        raise LogKeyInvalid(f"limit must be between 1 and {MAX_BYTES_CHUNK_READ}, got {limit}")
    manager = compute_log_manager()
    try:
        chunk = manager.read_log_chunk(manager.build_log_key_for_run(run_id, file_key), io, cursor, limit)
        if chunk is None:  # a step key names the capture its LOGS_CAPTURED event lists it in
            step_file_key = _file_key_for_step(run_id, file_key)
            if step_file_key is not None:
                chunk = manager.read_log_chunk(manager.build_log_key_for_run(run_id, step_file_key), io, cursor, limit)
    except InvalidLogKey as exc:
        raise LogKeyInvalid(str(exc)) from None
    if chunk is None:
        return LogChunkOut("", cursor, run.is_finished, 0)
    eof = chunk.eof or (run.is_finished and chunk.cursor >= chunk.size)
    return LogChunkOut(chunk.data.decode("utf-8", "replace"), chunk.cursor, eof, len(chunk.data))


def captured_log_path(*, run_id: str, file_key: str, io_type: str) -> str:
    """The local file of one captured stream (for download); NotFound when there is none."""
    import os

    _run_exists(run_id)
    _plain(file_key, "file key")
    manager = compute_log_manager()
    try:
        io = io_type_from(io_type)
        path = manager.get_log_metadata(manager.build_log_key_for_run(run_id, file_key))
    except InvalidLogKey as exc:
        raise LogKeyInvalid(str(exc)) from None
    location = path.stdout_location if io.value == "stdout" else path.stderr_location
    if not location or not os.path.isfile(location):
        raise NotFound("captured log", f"{run_id}/{file_key}.{io.value}")
    return location


def _log_key(log_key: list[str]) -> list[str]:
    if not isinstance(log_key, (list, tuple)) or not log_key:
        raise LogKeyInvalid(f"log key must be a non-empty list of names, got {log_key!r}")
    return [_plain(part, "log key part") for part in log_key]


def captured_logs_get(*, log_key: list[str], cursor: str | None = None, limit: int | None = None) -> CapturedLogData:
    """Dagster's `capturedLogs`: both streams of a log key from an `"out:err"` cursor (raw bytes)."""
    key = _log_key(log_key)
    if limit is not None and not 1 <= limit <= MAX_BYTES_CHUNK_READ:
        raise LogKeyInvalid(f"limit must be between 1 and {MAX_BYTES_CHUNK_READ}, got {limit}")
    try:
        return compute_log_manager().get_log_data(key, cursor=cursor, max_bytes=limit)
    except InvalidLogKey as exc:
        raise LogKeyInvalid(str(exc)) from None


def captured_logs_metadata(*, log_key: list[str]) -> CapturedLogMetadata:
    """Dagster's `capturedLogsMetadata`: where a log key's streams are and their download URLs.

    The download URLs are this server's REST route for keys shaped `[run_id, "compute_logs", file_key]`.
    """
    key = _log_key(log_key)
    try:
        metadata = compute_log_manager().get_log_metadata(key)
    except InvalidLogKey as exc:
        raise LogKeyInvalid(str(exc)) from None
    if len(key) == 3 and key[1] == "compute_logs" and metadata.stdout_location:
        base = f"/api/runs/{key[0]}/logs/{key[2]}/download"
        metadata = metadata._replace(stdout_download_url=f"{base}?io=stdout", stderr_download_url=f"{base}?io=stderr")
    return metadata


def _file_key_for_step(run_id: str, step_key: str) -> str | None:
    for capture in reversed(captured_log_keys(run_id=run_id)):  # the latest attempt of a retried step
        if step_key in capture["step_keys"]:
            return capture["file_key"]
    return None


def captured_log_keys(*, run_id: str) -> list[dict[str, Any]]:
    """The captures of a run, from its LOGS_CAPTURED events: `{file_key, step_keys, pid}` in order."""
    _run_exists(run_id)
    rows = selectors.events_after(run_id=run_id, limit=10_000, event_types=["LOGS_CAPTURED"])
    return [
        {"file_key": row.payload.get("file_key"), "step_keys": list(row.payload.get("step_keys") or []),
         "pid": row.payload.get("pid")}
        for row in rows
        if isinstance(row.payload, dict) and row.payload.get("file_key")
    ]
