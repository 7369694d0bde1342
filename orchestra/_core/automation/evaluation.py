"""One tick of a schedule or sensor as a code server runs it: plain data in, plain data out.

`evaluate_schedule` and `evaluate_sensor` never raise for errors in user code (or for results the
SDK rejects); they return them in `error` with type, message and stack, as the daemon records them
on the tick.
"""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from orchestra._errors import DagsterError


@dataclass(frozen=True)
class ErrorInfo:
    """A raised exception as plain data: class name, message, formatted stack, and its cause."""

    cls_name: str
    message: str
    stack: list[str]
    cause: ErrorInfo | None = None

    @classmethod
    def from_exception(cls, exc: BaseException, _depth: int = 0) -> ErrorInfo:
        cause = exc.__cause__ if exc.__cause__ is not None and exc.__cause__ is not exc else None
        return cls(
            cls_name=type(exc).__name__,
            message="".join(traceback.format_exception_only(type(exc), exc)).strip(),
            stack=traceback.format_tb(exc.__traceback__),
            cause=cls.from_exception(cause, _depth + 1) if cause is not None and _depth < 10 else None,
        )

    def to_string(self) -> str:
        """Message and stack, with causes, as a log line would show them."""
        text = self.message + "\n\nStack Trace:\n" + "".join(self.stack)
        if self.cause is not None:
            text += "\nThe above exception was caused by the following exception:\n" + self.cause.to_string()
        return text


@dataclass(frozen=True)
class ScheduleEvaluationResult:
    """A schedule tick's outcome: run requests (plain dicts), or a skip message, or an error."""

    run_requests: list[dict[str, Any]] = field(default_factory=list)
    skip_message: str | None = None
    error: ErrorInfo | None = None
    log_lines: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SensorEvaluationResult:
    """A sensor tick's outcome: run requests (plain dicts) or a skip message, the new cursor, or an error.

    `cursor` is the cursor to store for the next tick (unchanged when the function did not set one).
    """

    run_requests: list[dict[str, Any]] = field(default_factory=list)
    skip_message: str | None = None
    cursor: str | None = None
    error: ErrorInfo | None = None
    dynamic_partitions_requests: list[dict[str, Any]] = field(default_factory=list)
    asset_events: list[Any] = field(default_factory=list)
    log_lines: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["asset_events"] = [repr(event) for event in self.asset_events]
        return data


def _resources_for(required: set[str], resources: Mapping[str, Any] | None) -> dict[str, Any]:
    """The subset of the code location's resources a definition needs (with their dependencies)."""
    if not resources or not required:
        return {}
    from orchestra._core.resources.initialization import coerce_to_resource_definitions, resource_init_order

    definitions = coerce_to_resource_definitions(resources)
    keys = [k for k in required if k in definitions]
    needed = set(resource_init_order(definitions, keys=keys)) if keys else set()
    return {k: v for k, v in resources.items() if k in needed}


def _wrap(error_class: type, message: str, exc: Exception) -> BaseException:
    if isinstance(exc, DagsterError):
        return exc
    wrapped = error_class(message, user_exception=exc, original_exc_info=(type(exc), exc, exc.__traceback__))
    wrapped.__cause__ = exc
    return wrapped


def evaluate_schedule(
    schedule_def: Any,
    scheduled_time: dt.datetime | float | None,
    resources: Mapping[str, Any] | None = None,
    *,
    instance: Any = None,
    repository_def: Any = None,
    repository_name: str | None = None,
    log_key: list[str] | None = None,
) -> ScheduleEvaluationResult:
    """Evaluate `schedule_def` for the tick at `scheduled_time`.

    Args:
        schedule_def: The schedule.
        scheduled_time: The tick (aware datetime or POSIX timestamp); the function sees it in the
            schedule's execution time zone.
        resources: The code location's top-level resources; only those the schedule needs are built.
        instance: What `context.instance` returns.
        repository_def: Definitions used to resolve partitioned run requests.
    """
    from orchestra._core.automation.cron import get_timezone
    from orchestra._core.automation.schedule_context import ScheduleEvaluationContext, ScheduleExecutionError

    context = None
    try:
        when = None
        if scheduled_time is not None:
            tz = get_timezone(schedule_def.execution_timezone)
            when = (
                scheduled_time.astimezone(tz)
                if isinstance(scheduled_time, dt.datetime)
                else dt.datetime.fromtimestamp(float(scheduled_time), tz)
            )
        context = ScheduleEvaluationContext(
            None,
            when,
            log_key,
            repository_name,
            schedule_def.name,
            resources=_resources_for(schedule_def.required_resource_keys, resources),
            repository_def=repository_def,
            instance=instance,
        )
        with context:
            try:
                data = schedule_def.evaluate_tick(context)
            except Exception as exc:
                raise _wrap(
                    ScheduleExecutionError, f"Error occurred during the execution function for schedule {schedule_def.name}", exc
                )
            return ScheduleEvaluationResult(
                run_requests=[r.to_json() for r in data.run_requests],
                skip_message=data.skip_message,
                log_lines=context.captured_log_lines(),
            )
    except Exception as exc:
        return ScheduleEvaluationResult(
            error=ErrorInfo.from_exception(exc), log_lines=context.captured_log_lines() if context else []
        )


def evaluate_sensor(
    sensor_def: Any,
    cursor: str | None,
    last_run_key: str | None,
    last_tick_time: float | None,
    resources: Mapping[str, Any] | None = None,
    *,
    instance: Any = None,
    repository_def: Any = None,
    repository_name: str | None = None,
    last_sensor_start_time: float | None = None,
    log_key: list[str] | None = None,
) -> SensorEvaluationResult:
    """Evaluate `sensor_def` once.

    Args:
        sensor_def: The sensor.
        cursor: The cursor stored by the previous tick.
        last_run_key: The run key of the last run the sensor requested.
        last_tick_time: When the previous tick completed (POSIX timestamp).
        resources: The code location's top-level resources; only those the sensor needs are built.
        instance: What `context.instance` returns.
        repository_def: Definitions used to resolve partitioned run requests.
    """
    from orchestra._core.automation.sensor_context import SensorEvaluationContext, SensorExecutionError

    context = None
    try:
        context = SensorEvaluationContext(
            None,
            last_tick_completion_time=last_tick_time,
            last_run_key=last_run_key,
            cursor=cursor,
            log_key=log_key,
            repository_name=repository_name,
            repository_def=repository_def,
            instance=instance,
            sensor_name=sensor_def.name,
            resources=_resources_for(sensor_def.required_resource_keys, resources),
            last_sensor_start_time=last_sensor_start_time,
        )
        with context:
            try:
                data = sensor_def.evaluate_tick(context)
            except Exception as exc:
                raise _wrap(
                    SensorExecutionError,
                    f"Error occurred during the execution of evaluation_fn for sensor {sensor_def.name}",
                    exc,
                )
            return SensorEvaluationResult(
                run_requests=[r.to_json() for r in data.run_requests],
                skip_message=data.skip_message,
                cursor=data.cursor,
                dynamic_partitions_requests=[
                    {
                        "action": "add" if type(r).__name__.startswith("Add") else "delete",
                        "partitions_def_name": r.partitions_def_name,
                        "partition_keys": list(r.partition_keys),
                    }
                    for r in data.dynamic_partitions_requests
                ],
                asset_events=list(data.asset_events),
                log_lines=context.captured_log_lines(),
            )
    except Exception as exc:
        return SensorEvaluationResult(
            cursor=cursor, error=ErrorInfo.from_exception(exc), log_lines=context.captured_log_lines() if context else []
        )


def evaluate_run_status_sensor(
    sensor_def: Any,
    runs: list[Mapping[str, Any]],
    cursor: str | None,
    resources: Mapping[str, Any] | None = None,
    *,
    instance: Any = None,
    repository_def: Any = None,
) -> SensorEvaluationResult:
    """Evaluate a run status (or run failure) sensor for the runs the daemon found since its cursor.

    Each item of `runs` is `{"run": {job_name, run_id, status, run_config, tags, parent_run_id,
    root_run_id}, "event": {event_type, message}}`, with `event_type` a `DagsterEventType` name
    (`RUN_FAILURE`); the daemon keeps the event-id cursor, so `cursor` comes back unchanged. Never
    raises for errors in user code.
    """
    from orchestra._core.automation.run_request import RunRequest, SensorResult, SkipReason
    from orchestra._core.automation.run_status_sensor import RunStatusSensorContext
    from orchestra._core.automation.sensor_context import SensorExecutionError
    from orchestra._core.events import DagsterEvent, DagsterEventType
    from orchestra._core.runs import DagsterRun, DagsterRunStatus

    requests: list[dict[str, Any]] = []
    skips: list[str] = []
    try:
        needed = _resources_for(sensor_def.required_resource_keys, resources)
        for item in runs:
            data, event_data = item["run"], item["event"]
            run = DagsterRun(
                job_name=data["job_name"], run_id=data["run_id"], run_config=dict(data.get("run_config") or {}),
                status=DagsterRunStatus(data.get("status") or "NOT_STARTED"), tags=dict(data.get("tags") or {}),
                parent_run_id=data.get("parent_run_id"), root_run_id=data.get("root_run_id"),
            )
            event = DagsterEvent(DagsterEventType[event_data["event_type"]].value, data["job_name"],
                                 message=event_data.get("message"))
            context = RunStatusSensorContext(sensor_def.name, dagster_run=run, dagster_event=event,
                                             instance=instance, resource_defs=needed, repository_def=repository_def)
            try:
                produced = sensor_def.evaluate_for_run(context)
            except Exception as exc:
                raise _wrap(
                    SensorExecutionError,
                    f"Error occurred during the execution of sensor {sensor_def.name} for run {run.run_id}",
                    exc,
                )
            for result in produced:
                if isinstance(result, SensorResult):
                    requests.extend(r.to_json() for r in result.run_requests or [])
                    if result.skip_reason is not None:
                        skips.append(getattr(result.skip_reason, "skip_message", result.skip_reason))
                elif isinstance(result, RunRequest):
                    requests.append(result.to_json())
                elif isinstance(result, SkipReason) and result.skip_message:
                    skips.append(result.skip_message)
    except Exception as exc:
        return SensorEvaluationResult(cursor=cursor, error=ErrorInfo.from_exception(exc))
    return SensorEvaluationResult(run_requests=requests, skip_message="; ".join(skips) or None, cursor=cursor)


class HostEventLog:
    """`context.instance` of an asset sensor evaluated in a code server: the materializations of its
    asset that the daemon read from the event log after the sensor's cursor, and nothing else.

    Each of `asset_events` is `{storage_id, run_id, job_name, timestamp, step_key, asset_key (path),
    partition, description, metadata (json form), tags, message}`.
    """

    def __init__(self, asset_events: list[Mapping[str, Any]]):
        self._records = sorted((_asset_event_record(e) for e in asset_events), key=lambda r: r.storage_id)
        self.event_log_storage = self

    def get_runs(self, *args: Any, **kwargs: Any) -> list[Any]:
        from types import SimpleNamespace

        return [SimpleNamespace(run_id=run_id) for run_id in dict.fromkeys(r.event_log_entry.run_id for r in self._records)]

    def get_records_for_run(self, run_id: str, cursor: Any = None, of_type: Any = None, limit: Any = None) -> list[Any]:
        wanted = getattr(of_type, "value", of_type)
        return [r for r in self._records if r.event_log_entry.run_id == run_id
                and (wanted is None or r.event_log_entry.dagster_event.event_type_value == wanted)]

    def fetch_materializations(self, records_filter: Any, limit: int, cursor: str | None = None,
                               ascending: bool = False) -> Any:
        from orchestra._core.assets import storage

        return storage.fetch(self, "ASSET_MATERIALIZATION", records_filter, limit, cursor, ascending)


def _asset_event_record(data: Mapping[str, Any]) -> Any:
    from orchestra._core import events as ev
    from orchestra._core.assets import results as ar
    from orchestra._core.assets.keys import AssetKey
    from orchestra._core.metadata.json_form import metadata_from_json
    from orchestra._core.runs import EventLogRecord

    materialization = ar.AssetMaterialization(
        AssetKey(list(data["asset_key"])), data.get("description"), metadata_from_json(data.get("metadata") or []),
        data.get("partition"), data.get("tags"),
    )
    job_name = data.get("job_name") or ""
    event = ev.DagsterEvent("ASSET_MATERIALIZATION", job_name, data.get("step_key"), None, None, None,
                            ev.StepMaterializationData(materialization), data.get("message") or None, None)
    entry = ev.EventLogEntry(None, 20, "", data["run_id"], float(data["timestamp"]), data.get("step_key"), job_name,
                             event)
    entry.storage_id = int(data["storage_id"])
    return EventLogRecord(int(data["storage_id"]), entry)
