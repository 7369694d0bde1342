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
