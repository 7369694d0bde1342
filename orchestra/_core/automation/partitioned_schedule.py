"""`build_schedule_from_partitioned_job`: a schedule that runs a partitioned job's latest partition.

A time-partitioned job (or one with a multi-partitions definition holding exactly one time
dimension) gets the partitions' own cadence and time zone; each tick requests the last complete
partition as of the tick. A statically partitioned job needs an explicit cron schedule and requests
every partition on each tick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestra._core.automation.run_request import RunRequest, SkipReason
from orchestra._core.automation.schedule import ScheduleDefinition, schedule
from orchestra._core.automation.schedule_context import DefaultScheduleStatus, ScheduleEvaluationContext
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


def _kinds() -> tuple[type, type, type]:
    from orchestra._core.partitions.multi import MultiPartitionsDefinition
    from orchestra._core.partitions.static import StaticPartitionsDefinition
    from orchestra._core.partitions.time_window import TimeWindowPartitionsDefinition

    return TimeWindowPartitionsDefinition, MultiPartitionsDefinition, StaticPartitionsDefinition


def _time_partitions_def(partitions_def: Any) -> Any:
    """The time window definition driving `partitions_def`, or None."""
    from orchestra._core.partitions.time_window import TimeWindowPartitionsDefinition

    if isinstance(partitions_def, TimeWindowPartitionsDefinition):  # the usual case: imports no other kind
        return partitions_def
    time_window, multi, _ = _kinds()
    if isinstance(partitions_def, multi):
        dims = [d for d in partitions_def.partitions_defs if isinstance(d.partitions_def, time_window)]
        return dims[0].partitions_def if len(dims) == 1 else None
    return None


def _check_schedulable(partitions_def: Any) -> None:
    if _time_partitions_def(partitions_def) is None and not isinstance(partitions_def, _kinds()[2]):
        raise DagsterInvalidDefinitionError(
            "Tried to build a partitioned schedule from an asset job, but received an invalid partitions "
            "definition. The permitted partitions definitions are: \n1. TimeWindowPartitionsDefinition\n2. "
            "MultiPartitionsDefinition with a single TimeWindowPartitionsDefinition dimension\n3. "
            "StaticPartitionsDefinition"
        )


def run_request_for_partition(job: Any, partition_key: str, run_key: str | None, tags: Mapping[str, str] | None) -> RunRequest:
    """A run request for one partition of `job`, with the partition's run config and tags."""
    partitioned_config = job.partitioned_config
    # as in Dagster, only a resolved job adds `dagster/partition_set`; an asset job given its own
    # partitions_def is still unresolved when the schedule is built
    partition_set_job = None if _is_unresolved_asset_job(job) else job.name
    return RunRequest(
        run_key=run_key,
        run_config=partitioned_config.get_run_config_for_partition_key(partition_key),
        tags={**(tags or {}), **partitioned_config.get_tags_for_partition_key(partition_key, job_name=partition_set_job)},
        job_name=job.name,
        partition_key=partition_key,
    )


def _window_start_excluded(time_def: Any, start: Any) -> bool:
    from orchestra._core.automation.cron import latest_tick

    for excluded in time_def.exclusions or ():
        if isinstance(excluded, str):
            if latest_tick(excluded, time_def.timezone, start).timestamp() == start.timestamp():
                return True
        elif getattr(excluded, "timestamp", None) == start.timestamp():
            return True
    return False


def _evaluation_fn(partitions_def: Any, job: Any, tags: Mapping[str, str] | None) -> Any:
    from orchestra._core.partitions.base import partition_loading_context

    def latest_partitions(context: ScheduleEvaluationContext) -> Any:
        # Each tick runs the latest complete partition; earlier ticks ran the earlier ones.
        time_window, _, static = _kinds()
        instance = context._instance
        with partition_loading_context(effective_dt=context._scheduled_execution_time, dynamic_partitions_store=instance):
            if isinstance(partitions_def, static):
                return [run_request_for_partition(job, key, key, tags) for key in partitions_def.get_partition_keys()]
            if isinstance(partitions_def, time_window):
                key = partitions_def.get_last_partition_key()
                if key is None:
                    return SkipReason("The job's PartitionsDefinition has no partitions")
                return run_request_for_partition(job, key, key, tags)
            dimension = partitions_def.time_window_dimension
            time_key = dimension.partitions_def.get_last_partition_key()
            if time_key is None:
                return SkipReason("The job's PartitionsDefinition has no partitions")
            return [
                run_request_for_partition(job, key, key, tags)
                for key in partitions_def.get_multipartition_keys_with_dimension_value(dimension.name, time_key)
            ]

    latest_partitions.__name__ = f"{job.name}_schedule"
    return latest_partitions


def _is_unresolved_asset_job(job: Any) -> bool:
    from orchestra._core.definitions_class.asset_job import UnresolvedAssetJobDefinition

    return isinstance(job, UnresolvedAssetJobDefinition)


class UnresolvedPartitionedAssetScheduleDefinition:
    """A partitioned schedule on an asset job whose partitions come from its selected assets.

    What `build_schedule_from_partitioned_job` returns for a `define_asset_job(...)` without
    `partitions_def`. It holds the unresolved job and the cadence arguments; the repository turns it
    into a `ScheduleDefinition` (`resolve`) once the job, and so its partitions, are resolved.
    Like Dagster's, it has no cron schedule of its own and cannot be invoked directly.
    """

    def __init__(
        self,
        *,
        job: Any,
        default_status: DefaultScheduleStatus,
        name: str,
        description: str | None,
        minute_of_hour: int | None,
        hour_of_day: int | None,
        day_of_week: int | None,
        day_of_month: int | None,
        tags: Mapping[str, str] | None,
        metadata: Mapping[str, Any] | None,
        owners: Sequence[str] | None,
    ):
        from orchestra._core.automation.target import AutomationTarget, check_owners

        check_owners(owners, "schedule", name)
        self.job = job
        self.default_status = default_status
        self.name = name
        self.description = description
        self.minute_of_hour = minute_of_hour
        self.hour_of_day = hour_of_day
        self.day_of_week = day_of_week
        self.day_of_month = day_of_month
        self.tags = tags
        self.metadata = metadata
        self.owners = owners
        self.target = AutomationTarget(job=job)

    @property
    def job_name(self) -> str:
        return self.job.name

    def _replace(self, **changes: Any) -> UnresolvedPartitionedAssetScheduleDefinition:
        fields = ("job", "default_status", "name", "description", "minute_of_hour", "hour_of_day", "day_of_week",
                  "day_of_month", "tags", "metadata", "owners")
        return UnresolvedPartitionedAssetScheduleDefinition(**{f: changes.get(f, getattr(self, f)) for f in fields})

    def with_metadata(self, metadata: Mapping[str, Any]) -> UnresolvedPartitionedAssetScheduleDefinition:
        return self._replace(metadata=metadata)

    def with_updated_job(self, new_job: Any) -> UnresolvedPartitionedAssetScheduleDefinition:
        return self._replace(job=new_job)

    def resolve(self, resolved_job: Any) -> ScheduleDefinition:
        """The schedule for `resolved_job`, the `JobDefinition` the repository built from `self.job`."""
        partitions_def = resolved_job.partitions_def
        if partitions_def is None:
            raise DagsterInvariantViolationError(
                f"Job '{resolved_job.name}' provided to build_schedule_from_partitioned_job must contain partitioned "
                "assets or a partitions definition."
            )
        _check_schedulable(partitions_def)
        time_def = _time_partitions_def(partitions_def)
        if time_def is None:  # a statically partitioned selection has no cadence; Dagster's message, explained
            raise DagsterInvariantViolationError(
                "Expected non-None value: None (the assets of job "
                f"'{resolved_job.name}' are statically partitioned: give the asset job partitions_def and "
                "build_schedule_from_partitioned_job a cron_schedule)"
            )
        return schedule(
            name=self.name,
            cron_schedule=time_def.get_cron_schedule(
                self.minute_of_hour, self.hour_of_day, self.day_of_week, self.day_of_month
            ),
            job=resolved_job,
            default_status=self.default_status,
            execution_timezone=time_def.timezone,
            description=self.description,
            metadata=self.metadata,
            owners=self.owners,
        )(_evaluation_fn(partitions_def, resolved_job, self.tags))

    def __repr__(self) -> str:
        return f"<UnresolvedPartitionedAssetScheduleDefinition {self.name}>"


def build_schedule_from_partitioned_job(
    job: Any,
    description: str | None = None,
    name: str | None = None,
    minute_of_hour: int | None = None,
    hour_of_day: int | None = None,
    day_of_week: int | None = None,
    day_of_month: int | None = None,
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    cron_schedule: str | None = None,
    execution_timezone: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    owners: Sequence[str] | None = None,
) -> ScheduleDefinition | UnresolvedPartitionedAssetScheduleDefinition:
    """A schedule that runs `job`'s latest partition at the partitions' cadence.

    `minute_of_hour`, `hour_of_day`, `day_of_week` and `day_of_month` move the tick within the
    cadence; a statically partitioned job needs `cron_schedule` instead. An asset job defined
    without `partitions_def` gives an `UnresolvedPartitionedAssetScheduleDefinition`, which takes
    the selected assets' partitions when the `Definitions` resolve the job.

    Example:
        ```python
        @dg.job(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"))
        def daily_etl(): ...

        daily_schedule = dg.build_schedule_from_partitioned_job(daily_etl, hour_of_day=3)
        ```
    """
    if day_of_week and day_of_month:
        raise DagsterInvariantViolationError(
            "Cannot provide both day_of_month and day_of_week parameter to build_schedule_from_partitioned_job."
        )
    offsets = (day_of_month, day_of_week, hour_of_day, minute_of_hour)
    if (cron_schedule or execution_timezone) and any(value is not None for value in offsets):
        raise DagsterInvariantViolationError(
            "Cannot provide both cron_schedule / execution_timezone parameters and day_of_month / day_of_week / "
            "hour_of_day / minute_of_hour parameters to build_schedule_from_partitioned_job."
        )
    partitions_def = getattr(job, "partitions_def", None)
    if partitions_def is None and _is_unresolved_asset_job(job):
        # The selected assets' partitions are known only once the Definitions resolve the job.
        if cron_schedule or execution_timezone:
            raise DagsterInvariantViolationError(
                "Cannot provide cron_schedule or execution_timezone to build_schedule_from_partitioned_job for a "
                "time-partitioned job."
            )
        return UnresolvedPartitionedAssetScheduleDefinition(
            job=job, default_status=default_status, name=name if name is not None else f"{job.name}_schedule",
            description=description, minute_of_hour=minute_of_hour, hour_of_day=hour_of_day, day_of_week=day_of_week,
            day_of_month=day_of_month, tags=tags, metadata=metadata, owners=owners,
        )
    if partitions_def is None:
        raise DagsterInvariantViolationError("The provided job is not partitioned")
    _check_schedulable(partitions_def)
    should_execute = None
    time_def = _time_partitions_def(partitions_def)
    if time_def is None:  # static partitions, the only other kind `_check_schedulable` lets through
        if cron_schedule is None:
            raise DagsterInvariantViolationError(
                "Creating a schedule from a static partitions definition requires a cron schedule"
            )
    else:
        if cron_schedule or execution_timezone:
            raise DagsterInvariantViolationError(
                "Cannot provide cron_schedule or execution_timezone to build_schedule_from_partitioned_job for a "
                "time-partitioned job."
            )
        cron_schedule = time_def.get_cron_schedule(minute_of_hour, hour_of_day, day_of_week, day_of_month)
        execution_timezone = time_def.timezone
        if time_def.exclusions:

            def should_execute(context: ScheduleEvaluationContext) -> bool:
                from orchestra._core.partitions.base import partition_loading_context

                with partition_loading_context(effective_dt=context._scheduled_execution_time):
                    window = time_def.get_last_partition_window_ignoring_exclusions()
                return window is None or not _window_start_excluded(time_def, window.start)

    return schedule(
        cron_schedule=cron_schedule,
        job=job,
        default_status=default_status,
        execution_timezone=execution_timezone,
        name=name if name is not None else f"{job.name}_schedule",
        description=description,
        should_execute=should_execute,
        metadata=metadata,
        owners=owners,
    )(_evaluation_fn(partitions_def, job, tags))
