"""`DagsterInstance` over a small storage interface, and the in-memory storage used by ephemeral instances.

The instance never keeps state itself: run creation, event writes and reads all go through a
`RunStorage` and an `EventLogStorage`, so a database-backed implementation (the server's) can
replace the in-memory one without touching the execution core.
"""

from __future__ import annotations

import abc
import datetime
import importlib
import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from typing import Any

from orchestra._core.events import DagsterEvent, DagsterEventType, EventLogEntry
from orchestra._core.runs import (
    EVENT_TYPE_TO_RUN_STATUS,
    DagsterRun,
    DagsterRunStatus,
    EventLogRecord,
    RunRecord,
    RunsFilter,
)
from orchestra._errors import DagsterInvariantViolationError, DagsterRunNotFoundError

# What `DagsterInstance.get()` calls with $ORCHESTRA_HOME: the server's storage-backed instance.
DEFAULT_INSTANCE_FACTORY = "runs.instance.instance_for_home"


class RunStorage(abc.ABC):
    """Stores runs. Implementations: `InMemoryRunStorage`; the server plugs in a database-backed one."""

    @abc.abstractmethod
    def add_run(self, dagster_run: DagsterRun) -> DagsterRun:
        """Store a new run; raise DagsterInvariantViolationError if its id exists."""

    @abc.abstractmethod
    def handle_run_event(self, run_id: str, event: DagsterEvent, timestamp: float) -> None:
        """Apply a run event (RUN_START, RUN_SUCCESS, ...) to the stored run's status and times."""

    @abc.abstractmethod
    def get_run_records(self, filters: RunsFilter | None = None, limit: int | None = None, order_by: str | None = None,
                        ascending: bool = False, cursor: str | None = None) -> list[RunRecord]:
        """Matching runs, newest first unless `ascending`."""

    @abc.abstractmethod
    def add_run_tags(self, run_id: str, new_tags: dict[str, str]) -> None: ...

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    def get_runs(self, filters: RunsFilter | None = None, cursor: str | None = None, limit: int | None = None) -> list[DagsterRun]:
        return [r.dagster_run for r in self.get_run_records(filters, limit, cursor=cursor)]

    def has_run(self, run_id: str) -> bool:
        return bool(self.get_run_records(RunsFilter(run_ids=[run_id]), limit=1))

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        return len(self.get_run_records(filters))


class EventLogStorage(abc.ABC):
    """Stores the event log of runs, append-only, each entry with an increasing storage id."""

    @abc.abstractmethod
    def store_event(self, event: EventLogEntry) -> None:
        """Append one entry (a user log line or a framework event)."""

    @abc.abstractmethod
    def get_records_for_run(self, run_id: str, cursor: int | None = None, of_type: Any = None, limit: int | None = None) -> list[EventLogRecord]:
        """Entries of a run after storage id `cursor`, optionally only of the given event type(s)."""

    @abc.abstractmethod
    def delete_events(self, run_id: str) -> None: ...

    def get_logs_for_run(self, run_id: str, cursor: int | None = None, of_type: Any = None, limit: int | None = None) -> list[EventLogEntry]:
        return [r.event_log_entry for r in self.get_records_for_run(run_id, cursor, of_type, limit)]

    # Dynamic partitions live beside the event log, as in Dagster.
    @abc.abstractmethod
    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        """The keys of a dynamic partitions definition, in the order they were added."""

    @abc.abstractmethod
    def add_dynamic_partitions(self, partitions_def_name: str, partition_keys: Sequence[str]) -> None:
        """Add keys (those already present are left where they are)."""

    @abc.abstractmethod
    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None: ...

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return partition_key in self.get_dynamic_partitions(partitions_def_name)


class InMemoryRunStorage(RunStorage):
    def __init__(self) -> None:
        self._records: dict[str, RunRecord] = {}
        self._next_id = 1

    def add_run(self, dagster_run: DagsterRun) -> DagsterRun:
        if dagster_run.run_id in self._records:
            raise DagsterInvariantViolationError(f"Run {dagster_run.run_id} already exists in run storage.")
        now = datetime.datetime.now(datetime.UTC)
        self._records[dagster_run.run_id] = RunRecord(self._next_id, dagster_run, now, now)
        self._next_id += 1
        return dagster_run

    def handle_run_event(self, run_id: str, event: DagsterEvent, timestamp: float) -> None:
        status = EVENT_TYPE_TO_RUN_STATUS.get(event.event_type_value)
        record = self._records.get(run_id)
        if status is None or record is None:
            return
        start, end = record.start_time, record.end_time
        if status == DagsterRunStatus.STARTED and start is None:
            start = timestamp
        if status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
            end = timestamp
        self._records[run_id] = record._replace(
            dagster_run=record.dagster_run.with_status(status),
            update_timestamp=datetime.datetime.fromtimestamp(timestamp, datetime.UTC),
            start_time=start, end_time=end,
        )

    def get_run_records(self, filters: RunsFilter | None = None, limit: int | None = None, order_by: str | None = None,
                        ascending: bool = False, cursor: str | None = None) -> list[RunRecord]:
        records = [r for r in self._records.values() if filters is None or filters.matches(r)]
        if order_by:
            records.sort(key=lambda r: (getattr(r, order_by, None) or getattr(r.dagster_run, order_by, None) or 0, r.storage_id))
        else:
            records.sort(key=lambda r: r.storage_id)
        if not ascending:
            records.reverse()
        if cursor is not None:
            ids = [r.dagster_run.run_id for r in records]
            records = records[ids.index(cursor) + 1:] if cursor in ids else records
        return records[:limit] if limit is not None else records

    def has_run(self, run_id: str) -> bool:
        return run_id in self._records

    def add_run_tags(self, run_id: str, new_tags: dict[str, str]) -> None:
        record = self._records[run_id]
        run = record.dagster_run
        self._records[run_id] = record._replace(dagster_run=run.with_tags({**run.tags, **new_tags}))

    def delete_run(self, run_id: str) -> None:
        self._records.pop(run_id, None)


class InMemoryEventLogStorage(EventLogStorage):
    def __init__(self) -> None:
        self._by_run: dict[str, list[EventLogEntry]] = {}
        self._next_id = 1
        self._dynamic_partitions: dict[str, dict[str, None]] = {}  # an ordered set per definition

    def store_event(self, event: EventLogEntry) -> None:
        event.storage_id = self._next_id
        self._next_id += 1
        entries = self._by_run.get(event.run_id)
        if entries is None:
            entries = self._by_run[event.run_id] = []
        entries.append(event)

    def get_records_for_run(self, run_id: str, cursor: int | None = None, of_type: Any = None, limit: int | None = None) -> list[EventLogRecord]:
        types = _event_type_values(of_type)
        records = []
        for entry in self._by_run.get(run_id, []):
            if cursor is not None and (entry.storage_id or 0) <= cursor:
                continue
            if types is not None and (entry.dagster_event is None or entry.dagster_event.event_type_value not in types):
                continue
            records.append(EventLogRecord(entry.storage_id or 0, entry))
            if limit is not None and len(records) >= limit:
                break
        return records

    def delete_events(self, run_id: str) -> None:
        self._by_run.pop(run_id, None)

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        return list(self._dynamic_partitions.get(partitions_def_name, ()))

    def add_dynamic_partitions(self, partitions_def_name: str, partition_keys: Sequence[str]) -> None:
        keys = self._dynamic_partitions.setdefault(partitions_def_name, {})
        for key in partition_keys:
            keys.setdefault(key, None)

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self._dynamic_partitions.get(partitions_def_name, {}).pop(partition_key, None)


def _event_type_values(of_type: Any) -> set[str] | None:
    if of_type is None:
        return None
    items = of_type if isinstance(of_type, (set, frozenset, list, tuple)) else [of_type]
    return {t.value if isinstance(t, DagsterEventType) else str(t) for t in items}


class DagsterInstance:
    """Where runs and their event logs are stored. `DagsterInstance.ephemeral()` keeps them in memory.

    Example:
        >>> instance = DagsterInstance.ephemeral()
        >>> result = my_job.execute_in_process(instance=instance)
        >>> instance.get_run_by_id(result.run_id).status
        <DagsterRunStatus.SUCCESS: 'SUCCESS'>
    """

    def __init__(self, run_storage: RunStorage, event_log_storage: EventLogStorage, *, is_ephemeral: bool = True,
                 storage_dir: str | None = None, settings: dict[str, Any] | None = None,
                 compute_log_manager: Any = None):
        self._run_storage = run_storage
        self._event_storage = event_log_storage
        self._is_ephemeral = is_ephemeral
        self._storage_dir = storage_dir
        self._settings = dict(settings or {})
        self._compute_log_manager = compute_log_manager

    @classmethod
    def ephemeral(cls, tempdir: str | None = None, preload: Any = None, settings: dict[str, Any] | None = None) -> DagsterInstance:
        return cls(InMemoryRunStorage(), InMemoryEventLogStorage(), is_ephemeral=True, storage_dir=tempdir, settings=settings)

    @classmethod
    def local_temp(cls, tempdir: str | None = None, overrides: dict[str, Any] | None = None) -> DagsterInstance:
        return cls(InMemoryRunStorage(), InMemoryEventLogStorage(), is_ephemeral=False,
                   storage_dir=tempdir or tempfile.mkdtemp(prefix="orchestra-"), settings=overrides)

    @classmethod
    def get(cls) -> DagsterInstance:
        """The instance configured in `$ORCHESTRA_HOME`, its runs and events stored in its database.

        The storage lives outside the SDK: the factory named by `ORCHESTRA_INSTANCE_FACTORY` (default
        `runs.instance.instance_for_home`) is imported by dotted path and called with the home.
        """
        if _current_instances:  # inside `with instance_for_test()`
            return _current_instances[-1]
        home = os.environ.get("ORCHESTRA_HOME")
        if not home:
            raise DagsterInvariantViolationError(
                "DagsterInstance.get() needs a configured instance: set ORCHESTRA_HOME; the SDK alone offers "
                "DagsterInstance.ephemeral()."
            )
        path = os.environ.get("ORCHESTRA_INSTANCE_FACTORY") or DEFAULT_INSTANCE_FACTORY
        module_name, _, attribute = path.rpartition(".")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError) as exc:
            raise DagsterInvariantViolationError(
                f"DagsterInstance.get() could not import the instance factory {path!r}: {exc}"
            ) from exc
        return factory(home)

    # --- components -----------------------------------------------------------------------

    @property
    def run_storage(self) -> RunStorage:
        return self._run_storage

    @property
    def event_log_storage(self) -> EventLogStorage:
        return self._event_storage

    @property
    def compute_log_manager(self) -> Any:
        """Captures each step process's stdout/stderr (`orchestra._core.compute_logs`); off unless configured."""
        if self._compute_log_manager is None:
            from orchestra._core.compute_logs import NoOpComputeLogManager

            self._compute_log_manager = NoOpComputeLogManager()
        return self._compute_log_manager

    @property
    def is_ephemeral(self) -> bool:
        return self._is_ephemeral

    def storage_directory(self) -> str:
        if self._storage_dir is None:
            self._storage_dir = tempfile.mkdtemp(prefix="orchestra-")
        return f"{self._storage_dir}/storage"

    def get_settings(self, key: str) -> Any:
        return self._settings.get(key, {})

    # --- runs -----------------------------------------------------------------------------

    def create_run(self, *, job_name: str, run_id: str | None = None, run_config: dict[str, Any] | None = None,
                   status: DagsterRunStatus | None = None, tags: dict[str, str] | None = None,
                   op_selection: list[str] | None = None, step_keys_to_execute: list[str] | None = None,
                   root_run_id: str | None = None, parent_run_id: str | None = None, **extra: Any) -> DagsterRun:
        run = DagsterRun(
            job_name=job_name, run_id=run_id or str(uuid.uuid4()), run_config=run_config, op_selection=op_selection,
            step_keys_to_execute=step_keys_to_execute, status=status or DagsterRunStatus.NOT_STARTED, tags=tags,
            root_run_id=root_run_id, parent_run_id=parent_run_id,
            **{k: v for k, v in extra.items() if k in DagsterRun._FIELDS},
        )
        return self._run_storage.add_run(run)

    def add_run(self, dagster_run: DagsterRun) -> DagsterRun:
        return self._run_storage.add_run(dagster_run)

    def get_runs(self, filters: RunsFilter | None = None, cursor: str | None = None, limit: int | None = None,
                 bucket_by: Any = None, ascending: bool = False) -> list[DagsterRun]:
        if ascending:
            return [r.dagster_run for r in self._run_storage.get_run_records(filters, limit, ascending=True, cursor=cursor)]
        return self._run_storage.get_runs(filters, cursor, limit)

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        return self._run_storage.get_runs_count(filters)

    def get_run_records(self, filters: RunsFilter | None = None, limit: int | None = None, order_by: str | None = None,
                        ascending: bool = False, cursor: str | None = None, bucket_by: Any = None) -> list[RunRecord]:
        return self._run_storage.get_run_records(filters, limit, order_by, ascending, cursor)

    def get_run_record_by_id(self, run_id: str) -> RunRecord | None:
        records = self._run_storage.get_run_records(RunsFilter(run_ids=[run_id]), limit=1)
        return records[0] if records else None

    def get_run_by_id(self, run_id: str) -> DagsterRun | None:
        record = self.get_run_record_by_id(run_id)
        return record.dagster_run if record else None

    def has_run(self, run_id: str) -> bool:
        return self._run_storage.has_run(run_id)

    def add_run_tags(self, run_id: str, new_tags: dict[str, str]) -> None:
        if not self.has_run(run_id):
            raise DagsterRunNotFoundError(f"Run {run_id} not found", invalid_run_id=run_id)
        self._run_storage.add_run_tags(run_id, new_tags)

    def delete_run(self, run_id: str) -> None:
        self._run_storage.delete_run(run_id)
        self._event_storage.delete_events(run_id)

    # --- events ---------------------------------------------------------------------------

    def store_event(self, event: EventLogEntry) -> None:
        self._event_storage.store_event(event)

    def handle_new_event(self, event: EventLogEntry) -> None:
        """Store an entry and apply it to its run (the one write path for run workers)."""
        self._event_storage.store_event(event)
        dagster_event = event.dagster_event
        if dagster_event is not None and dagster_event.event_type_value in EVENT_TYPE_TO_RUN_STATUS:
            self._run_storage.handle_run_event(event.run_id, dagster_event, event.timestamp)

    def report_dagster_event(self, dagster_event: DagsterEvent, run_id: str, log_level: int = 10) -> None:
        self.handle_new_event(EventLogEntry(None, log_level, dagster_event.message or "", run_id, time.time(),
                                            dagster_event.step_key, dagster_event.job_name, dagster_event))

    def report_engine_event(self, message: str, dagster_run: DagsterRun | None = None, engine_event_data: Any = None,
                            run_id: str | None = None) -> None:
        run_id = run_id or (dagster_run.run_id if dagster_run else None)
        job_name = dagster_run.job_name if dagster_run else ""
        self.report_dagster_event(DagsterEvent("ENGINE_EVENT", job_name, message=message, event_specific_data=engine_event_data), run_id)  # type: ignore[arg-type]

    def all_logs(self, run_id: str, of_type: Any = None) -> list[EventLogEntry]:
        return self._event_storage.get_logs_for_run(run_id, of_type=of_type)

    def get_records_for_run(self, run_id: str, cursor: Any = None, of_type: Any = None, limit: int | None = None, ascending: bool = True) -> Any:
        records = self._event_storage.get_records_for_run(run_id, int(cursor) if cursor else None, of_type, limit)
        return _Connection(records, str(records[-1].storage_id) if records else cursor, False)

    # --- assets (queries in orchestra._core.assets.storage) ----------------------------------------

    def get_latest_materialization_event(self, asset_key: Any) -> EventLogEntry | None:
        from orchestra._core.assets import storage

        return storage.latest_materialization_event(self, asset_key)

    def get_latest_materialization_events(self, asset_keys: Any) -> dict[Any, EventLogEntry | None]:
        from orchestra._core.assets import storage

        return storage.latest_materialization_events(self, asset_keys)

    def fetch_materializations(self, records_filter: Any, limit: int, cursor: str | None = None, ascending: bool = False) -> Any:
        from orchestra._core.assets import storage

        return storage.fetch(self, "ASSET_MATERIALIZATION", records_filter, limit, cursor, ascending)

    def fetch_observations(self, records_filter: Any, limit: int, cursor: str | None = None, ascending: bool = False) -> Any:
        from orchestra._core.assets import storage

        return storage.fetch(self, "ASSET_OBSERVATION", records_filter, limit, cursor, ascending)

    def get_materialized_partitions(self, asset_key: Any, before_cursor: int | None = None, after_cursor: int | None = None) -> set[str]:
        from orchestra._core.assets import storage

        return storage.materialized_partitions(self, asset_key, before_cursor, after_cursor)

    def has_asset_key(self, asset_key: Any) -> bool:
        from orchestra._core.assets import storage

        return asset_key in storage.asset_keys(self)

    def get_asset_keys(self, prefix: Any = None, limit: int | None = None, cursor: str | None = None) -> list[Any]:
        from orchestra._core.assets import storage

        return storage.asset_keys(self, prefix, limit, cursor)

    def wipe_assets(self, asset_keys: Any) -> None:
        from orchestra._core.assets import storage

        storage.wipe_assets(self, asset_keys)

    def get_latest_asset_check_evaluation_record(self, asset_check_key: Any) -> Any:
        from orchestra._core.assets import storage

        return storage.latest_check_evaluation(self, asset_check_key)

    def logs_after(self, run_id: str, cursor: int | None = None, of_type: Any = None, limit: int | None = None) -> list[EventLogEntry]:
        return self._event_storage.get_logs_for_run(run_id, cursor, of_type, limit)

    # --- dynamic partitions (the `DynamicPartitionsStore` the partitions code reads) ---

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        return self._event_storage.get_dynamic_partitions(partitions_def_name)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return self._event_storage.has_dynamic_partition(partitions_def_name, partition_key)

    def add_dynamic_partitions(self, partitions_def_name: str, partition_keys: Sequence[str]) -> None:
        if isinstance(partition_keys, str):  # Dagster refuses a bare string, which would add one key per letter
            raise DagsterInvariantViolationError(
                "partition_keys must be a sequence of partition keys, got a string. Did you mean to call "
                "add_dynamic_partitions with a list, e.g. [partition_key]?"
            )
        self._event_storage.add_dynamic_partitions(partitions_def_name, list(partition_keys))

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self._event_storage.delete_dynamic_partition(partitions_def_name, partition_key)

    def __enter__(self) -> DagsterInstance:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Release the storages (a buffering storage writes what it holds)."""
        for storage in (self._event_storage, self._run_storage):
            dispose = getattr(storage, "dispose", None)
            if dispose is not None:
                dispose()


_current_instances: list[DagsterInstance] = []  # pushed by instance_for_test


class _Connection:
    """The page `get_records_for_run` returns: records, the cursor after them, whether more exist."""

    def __init__(self, records: list[EventLogRecord], cursor: Any, has_more: bool):
        self.records = records
        self.cursor = cursor
        self.has_more = has_more
