"""The run model: `DagsterRunStatus`, `DagsterRun`, `RunsFilter`, `RunRecord`, `EventLogRecord`."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple


class DagsterRunStatus(enum.Enum):
    """Where a run is in its lifecycle; set by its run events."""

    QUEUED = "QUEUED"
    NOT_STARTED = "NOT_STARTED"
    MANAGED = "MANAGED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUSPENDED = "SUSPENDED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"


FINISHED_STATUSES = frozenset({DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED})
IN_PROGRESS_RUN_STATUSES = frozenset(
    {DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING, DagsterRunStatus.SUSPENDED}
)

# the run status each run event moves a run to
EVENT_TYPE_TO_RUN_STATUS = {
    "PIPELINE_ENQUEUED": DagsterRunStatus.QUEUED,
    "PIPELINE_STARTING": DagsterRunStatus.STARTING,
    "PIPELINE_START": DagsterRunStatus.STARTED,
    "RUN_RESUMED": DagsterRunStatus.STARTED,
    "RUN_SUSPENDED": DagsterRunStatus.SUSPENDED,
    "PIPELINE_SUCCESS": DagsterRunStatus.SUCCESS,
    "PIPELINE_FAILURE": DagsterRunStatus.FAILURE,
    "PIPELINE_CANCELING": DagsterRunStatus.CANCELING,
    "PIPELINE_CANCELED": DagsterRunStatus.CANCELED,
}


class DagsterRun:
    """One execution of a job: its id, job name, run config, tags and status.

    Example:
        >>> run = instance.get_run_by_id(result.run_id)
        >>> run.status
        <DagsterRunStatus.SUCCESS: 'SUCCESS'>
    """

    _FIELDS = (
        "job_name", "run_id", "run_config", "asset_selection", "asset_check_selection", "op_selection",
        "resolved_op_selection", "step_keys_to_execute", "status", "tags", "root_run_id", "parent_run_id",
        "job_snapshot_id", "execution_plan_snapshot_id", "remote_job_origin", "job_code_origin",
        "has_repository_load_data", "run_op_concurrency", "partitions_subset",
    )
    __slots__ = _FIELDS

    def __init__(
        self,
        job_name: str,
        run_id: str,
        run_config: dict[str, Any] | None = None,
        asset_selection: Any = None,
        asset_check_selection: Any = None,
        op_selection: list[str] | None = None,
        resolved_op_selection: Any = None,
        step_keys_to_execute: list[str] | None = None,
        status: DagsterRunStatus = DagsterRunStatus.NOT_STARTED,
        tags: dict[str, str] | None = None,
        root_run_id: str | None = None,
        parent_run_id: str | None = None,
        job_snapshot_id: str | None = None,
        execution_plan_snapshot_id: str | None = None,
        remote_job_origin: Any = None,
        job_code_origin: Any = None,
        has_repository_load_data: bool = False,
        run_op_concurrency: Any = None,
        partitions_subset: Any = None,
    ):
        self.job_name = job_name
        self.run_id = run_id
        self.run_config = run_config or {}
        self.asset_selection = frozenset(asset_selection or ())
        self.asset_check_selection = asset_check_selection
        self.op_selection = op_selection
        self.resolved_op_selection = resolved_op_selection
        self.step_keys_to_execute = step_keys_to_execute
        self.status = status
        self.tags = dict(tags or {})
        self.root_run_id = root_run_id
        self.parent_run_id = parent_run_id
        self.job_snapshot_id = job_snapshot_id
        self.execution_plan_snapshot_id = execution_plan_snapshot_id
        self.remote_job_origin = remote_job_origin
        self.job_code_origin = job_code_origin
        self.has_repository_load_data = has_repository_load_data
        self.run_op_concurrency = run_op_concurrency
        self.partitions_subset = partitions_subset

    def _replace(self, **changes: Any) -> DagsterRun:
        values = {f: getattr(self, f) for f in self._FIELDS}
        values.update(changes)
        return DagsterRun(**values)

    def with_status(self, status: DagsterRunStatus) -> DagsterRun:
        return self._replace(status=status)

    def with_tags(self, tags: dict[str, str]) -> DagsterRun:
        return self._replace(tags=tags)

    @property
    def pipeline_name(self) -> str:
        return self.job_name

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def is_success(self) -> bool:
        return self.status == DagsterRunStatus.SUCCESS

    @property
    def is_failure(self) -> bool:
        return self.status == DagsterRunStatus.FAILURE

    @property
    def is_failure_or_canceled(self) -> bool:
        return self.status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)

    @property
    def is_cancelable(self) -> bool:
        return self.status in (DagsterRunStatus.QUEUED, DagsterRunStatus.STARTED)

    @property
    def is_resume_retry(self) -> bool:
        return self.tags.get("dagster/is_resume_retry") == "true"

    @property
    def previous_run_id(self) -> str | None:
        return self.parent_run_id

    @property
    def partition_key(self) -> str | None:
        return self.tags.get("dagster/partition")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DagsterRun) and all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __hash__(self) -> int:
        return hash(self.run_id)

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._FIELDS)
        return f"DagsterRun({inner})"


class RunsFilter(NamedTuple(
    "_RunsFilter",
    [("run_ids", Any), ("job_name", Any), ("statuses", Any), ("tags", Any), ("snapshot_id", Any), ("updated_after", Any),
     ("updated_before", Any), ("created_after", Any), ("created_before", Any), ("exclude_subruns", Any)],
)):
    """Which runs to list: by ids, job name, statuses, tags (value or list of values) and time windows.

    Example:
        >>> instance.get_runs(filters=RunsFilter(job_name="my_job", statuses=[DagsterRunStatus.SUCCESS]))
    """

    def __new__(cls, run_ids: list[str] | None = None, job_name: str | None = None, statuses: list[DagsterRunStatus] | None = None,
                tags: dict[str, Any] | None = None, snapshot_id: str | None = None, updated_after: Any = None,
                updated_before: Any = None, created_after: Any = None, created_before: Any = None,
                exclude_subruns: bool | None = None):
        return super().__new__(
            cls, list(run_ids) if run_ids else None, job_name, list(statuses) if statuses else None, dict(tags or {}),
            snapshot_id, updated_after, updated_before, created_after, created_before, exclude_subruns,
        )

    def matches(self, record: RunRecord) -> bool:
        run = record.dagster_run
        if self.run_ids and run.run_id not in self.run_ids:
            return False
        if self.job_name and run.job_name != self.job_name:
            return False
        if self.statuses and run.status not in self.statuses:
            return False
        for key, value in self.tags.items():
            actual = run.tags.get(key)
            if isinstance(value, (list, tuple, set, frozenset)):
                if actual not in value:
                    return False
            elif actual != value:
                return False
        if self.snapshot_id and run.job_snapshot_id != self.snapshot_id:
            return False
        for bound, attr, after in (
            (self.updated_after, "update_timestamp", True), (self.updated_before, "update_timestamp", False),
            (self.created_after, "create_timestamp", True), (self.created_before, "create_timestamp", False),
        ):
            if bound is None:
                continue
            limit = bound.timestamp() if hasattr(bound, "timestamp") else float(bound)
            value = getattr(record, attr)
            if (after and value <= limit) or (not after and value >= limit):
                return False
        if self.exclude_subruns and run.tags.get("dagster/parent_run_id"):
            return False
        return True


class RunRecord(NamedTuple):
    """A stored run with its storage id and timestamps."""

    storage_id: int
    dagster_run: DagsterRun
    create_timestamp: Any
    update_timestamp: Any
    start_time: float | None = None
    end_time: float | None = None


class EventLogRecord(NamedTuple):
    """A stored event log entry with its storage id."""

    storage_id: int
    event_log_entry: Any

    @property
    def run_id(self) -> str:
        return self.event_log_entry.run_id

    @property
    def timestamp(self) -> float:
        return self.event_log_entry.timestamp

    @property
    def asset_materialization(self) -> Any:
        return getattr(self.event_log_entry, "asset_materialization", None)

    @property
    def asset_observation(self) -> Any:
        return getattr(self.event_log_entry, "asset_observation", None)

    @property
    def asset_event(self) -> Any:
        return self.asset_materialization or self.asset_observation

    @property
    def asset_key(self) -> Any:
        event = self.asset_event or getattr(self.event_log_entry, "asset_check_evaluation", None)
        return getattr(event, "asset_key", None)

    @property
    def partition_key(self) -> str | None:
        return getattr(self.asset_event, "partition", None)
