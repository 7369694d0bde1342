"""The SDK's `RunStorage` and `EventLogStorage` on the runs app: thin over its services and selectors.

`DjangoEventLogStorage` buffers the entries the execution core hands it and writes them through
`runs.services.event_store` in batches: at once for run events (RUN_START, RUN_SUCCESS, ...), when
`max_batch` entries are waiting, and when the oldest waiting entry is `max_delay` seconds old. A run
of many small steps therefore pays a transaction per batch, not per event. Reads flush first, so a
process always sees its own writes; `flush()` and `dispose()` write whatever is left.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, close_old_connections, connection

from core import faults
from core.exceptions import NotFound
from orchestra._core.events import EventLogEntry as SdkEntry
from orchestra._core.instance import EventLogStorage, RunStorage
from orchestra._core.runs import (
    DagsterRun,
    DagsterRunStatus,
    EventLogRecord,
    RunRecord,
    RunsFilter,
)
from orchestra._errors import DagsterInvariantViolationError
from runs import selectors, services
from runs.event_payloads import event_input, event_type_name, log_entry
from runs.models import Run

# Run events change the run's status: they are written at once, with everything buffered before them.
_URGENT = frozenset(services.RUN_EVENT_STATUS)
_PAGE = selectors.MAX_PAGE


class DjangoRunStorage(RunStorage):
    """Runs in the `runs` app's tables. Run status is derived by `event_store`, not set here."""

    def add_run(self, dagster_run: DagsterRun) -> DagsterRun:
        origin = dagster_run.job_code_origin if isinstance(dagster_run.job_code_origin, dict) else None
        try:
            services.run_create(
                job_name=dagster_run.job_name,
                run_id=dagster_run.run_id,
                run_config=dagster_run.run_config,
                tags=dagster_run.tags,
                op_selection=dagster_run.op_selection,
                asset_selection=[list(k.path) for k in dagster_run.asset_selection] or None,
                asset_check_selection=_check_selection(dagster_run.asset_check_selection),
                step_keys_to_execute=dagster_run.step_keys_to_execute,
                parent_run_id=dagster_run.parent_run_id,
                root_run_id=dagster_run.root_run_id,
                snapshot_id=dagster_run.job_snapshot_id or "",
                status=dagster_run.status.value,
                origin=origin,
            )
        except IntegrityError:
            raise DagsterInvariantViolationError(f"Run {dagster_run.run_id} already exists in run storage.") from None
        return dagster_run

    def handle_run_event(self, run_id: str, event: Any, timestamp: float) -> None:
        # `event_store` already moved the run's status when the event was written.
        return None

    def get_run_records(self, filters: RunsFilter | None = None, limit: int | None = None, order_by: str | None = None,
                        ascending: bool = False, cursor: str | None = None) -> list[RunRecord]:
        run_filter = _run_filter(filters)
        runs: list[Run] = []
        page_cursor = cursor
        while limit is None or len(runs) < limit:
            want = _PAGE if limit is None else min(_PAGE, limit - len(runs))
            page = selectors.run_list(filters=run_filter, cursor=page_cursor, limit=want)
            runs.extend(page)
            if len(page) < want:
                break
            page_cursor = page[-1].run_id
        records = [_run_record(run) for run in runs]
        if order_by:
            records.sort(key=lambda r: (_sort_value(r, order_by), r.storage_id), reverse=not ascending)
        elif ascending:
            records.reverse()
        return records

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        return selectors.run_count(filters=_run_filter(filters))

    def has_run(self, run_id: str) -> bool:
        return Run.objects.filter(run_id=run_id).exists()

    def add_run_tags(self, run_id: str, new_tags: dict[str, str]) -> None:
        services.run_tags_add(run_id=run_id, tags=new_tags)

    def delete_run(self, run_id: str) -> None:
        with contextlib.suppress(NotFound):
            services.run_delete(run_id=run_id)


logger = logging.getLogger(__name__)


def _reconnecting(write: Any, **kwargs: Any) -> Any:
    """Call `write(**kwargs)` (one transaction); if the database dropped the connection, reconnect and run it once more.

    The transaction that failed was rolled back whole (the server ends a terminated backend's
    transaction), so writing the batch again adds nothing twice. Only outside a transaction: inside one,
    the caller's work is gone too and the error is its to handle. (A drop during COMMIT itself cannot tell
    whether the commit landed; that window is a few microseconds and is not covered.)
    """
    try:
        return write(**kwargs)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        close_old_connections()  # closes the broken connection; the next query opens a new one
        logger.warning("the database connection was lost while writing events; reconnected, writing again")
        return write(**kwargs)


class DjangoEventLogStorage(EventLogStorage):
    """The event log in the `runs` app, written in batches through `event_store` (see the module docstring).

    `write_guard` (optional, a reusable and re-entrant context manager) is entered around every buffer
    change and write; the run worker's holds a termination signal back until the write is complete.
    """

    def __init__(self, *, max_batch: int = 500, max_delay: float = 0.1,
                 write_guard: contextlib.AbstractContextManager[Any] | None = None):
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.write_guard = write_guard or contextlib.nullcontext()
        self._buffer: list[SdkEntry] = []
        self._oldest = 0.0
        self._lock = threading.RLock()
        self.refused = 0
        self.batches = 0

    def store_event(self, event: SdkEntry) -> None:
        if getattr(event.dagster_event, "storage_id", None) is not None:
            return  # already in the log: a Celery step task wrote it, the run worker only read it back
        with self.write_guard, self._lock:
            if not self._buffer:
                self._oldest = time.monotonic()
            self._buffer.append(event)
            dagster_event = event.dagster_event
            if (
                (dagster_event is not None and event_type_name(dagster_event.event_type_value) in _URGENT)
                or len(self._buffer) >= self.max_batch
                or time.monotonic() - self._oldest >= self.max_delay
                or faults.armed()  # one event per write, so a kill point falls between two events
            ):
                self._flush()

    def flush(self) -> None:
        """Write every buffered entry now."""
        with self.write_guard, self._lock:
            self._flush()

    def flush_if_stale(self) -> None:
        """Write the buffer if its oldest entry has waited `max_delay` (for a timer thread: a long step's
        STEP_START should not wait for the step to end)."""
        with self.write_guard, self._lock:
            if self._buffer and time.monotonic() - self._oldest >= self.max_delay:
                self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        # Consecutive entries of one run go in one batch; order across runs is kept.
        start = 0
        buffer = self._buffer
        while start < len(buffer):
            run_id = buffer[start].run_id
            end = start
            while end < len(buffer) and buffer[end].run_id == run_id:
                end += 1
            chunk = buffer[start:end]
            result = _reconnecting(services.event_store, run_id=run_id, events=[event_input(e) for e in chunk],
                                   strict=False)
            self.batches += 1
            self.refused += result.refused
            if not result.refused:
                for entry, row in zip(chunk, result.stored, strict=True):
                    entry.storage_id = row.id
            # Written entries leave the buffer at once, so a failure in a later chunk never rewrites them.
            del buffer[start:end]
        self._oldest = time.monotonic()

    def get_records_for_run(self, run_id: str, cursor: int | None = None, of_type: Any = None,
                            limit: int | None = None) -> list[EventLogRecord]:
        self.flush()
        job_name = Run.objects.filter(run_id=run_id).values_list("job_name", flat=True).first() or ""
        types = _type_names(of_type)
        records: list[EventLogRecord] = []
        while limit is None or len(records) < limit:
            want = 10_000 if limit is None else min(10_000, limit - len(records))
            rows = selectors.events_after(run_id=run_id, cursor=cursor, limit=want, event_types=types)
            records.extend(EventLogRecord(row.id, log_entry(row, job_name)) for row in rows)
            if len(rows) < want:
                break
            cursor = rows[-1].id
        return records

    def delete_events(self, run_id: str) -> None:
        services.run_events_delete(run_id=run_id)

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        return selectors.dynamic_partition_keys(partitions_def_name=partitions_def_name)

    def add_dynamic_partitions(self, partitions_def_name: str, partition_keys: Sequence[str]) -> None:
        services.dynamic_partitions_add(partitions_def_name=partitions_def_name, partition_keys=partition_keys)

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        services.dynamic_partition_delete(partitions_def_name=partitions_def_name, partition_key=partition_key)


    def dispose(self) -> None:
        self.flush()


def _type_names(of_type: Any) -> list[str] | None:
    if of_type is None:
        return None
    items = of_type if isinstance(of_type, (set, frozenset, list, tuple)) else [of_type]
    return [event_type_name(getattr(t, "value", t)) for t in items]


def _check_selection(selection: Any) -> list[Any] | None:
    if selection is None:
        return None
    return [[list(key.asset_key.path), key.name] for key in selection]


def _run_filter(filters: RunsFilter | None) -> selectors.RunFilter | None:
    if filters is None:
        return None
    return selectors.RunFilter(
        run_ids=filters.run_ids,
        job_name=filters.job_name,
        statuses=[s.value if isinstance(s, DagsterRunStatus) else str(s) for s in filters.statuses or ()] or None,
        tags={k: v if isinstance(v, str) else list(v) for k, v in (filters.tags or {}).items()},
        created_before=_datetime(filters.created_before),
        created_after=_datetime(filters.created_after),
        updated_before=_datetime(filters.updated_before),
        updated_after=_datetime(filters.updated_after),
        snapshot_id=filters.snapshot_id,
    )


def _datetime(value: Any) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromtimestamp(float(value), datetime.UTC)


def _run_record(run: Run) -> RunRecord:
    from orchestra._core.assets.keys import AssetCheckKey, AssetKey

    tags = selectors.run_tags(run)
    dagster_run = DagsterRun(
        job_name=run.job_name,
        run_id=run.run_id,
        run_config=run.run_config,
        asset_selection=[AssetKey(path) for path in run.asset_selection or ()],
        asset_check_selection=(
            {AssetCheckKey(AssetKey(path), name) for path, name in run.asset_check_selection}
            if run.asset_check_selection is not None else None
        ),
        op_selection=run.op_selection,
        step_keys_to_execute=run.step_keys_to_execute,
        status=DagsterRunStatus(run.status),
        tags=tags,
        root_run_id=run.root_run_id,
        parent_run_id=run.parent_run_id,
        job_snapshot_id=run.snapshot_id or None,
        job_code_origin=run.origin,
    )
    return RunRecord(
        run.id, dagster_run, run.created_at, run.updated_at,
        run.started_at.timestamp() if run.started_at else None,
        run.ended_at.timestamp() if run.ended_at else None,
    )


def _sort_value(record: RunRecord, order_by: str) -> Any:
    value = getattr(record, order_by, None)
    if value is None:
        value = getattr(record.dagster_run, order_by, None)
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value if value is not None else 0
