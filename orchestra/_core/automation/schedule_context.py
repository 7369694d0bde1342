"""`ScheduleEvaluationContext` and `build_schedule_context`, with the schedule status and error types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from orchestra._core.automation.context import InstigatorContext
from orchestra._errors import (
    DagsterError,
    DagsterInvariantViolationError,
    DagsterUserCodeExecutionError,
)


class DefaultScheduleStatus(Enum):
    """Whether a schedule starts running as soon as its code location loads."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class ScheduleExecutionError(DagsterUserCodeExecutionError):
    """User code raised while a schedule was evaluated; `user_exception` is the original error."""


def user_code_error(error_class: type[DagsterUserCodeExecutionError], message: str, exc: BaseException) -> Exception:
    """`exc` wrapped as Dagster wraps user errors; Dagster's own errors pass through unchanged."""
    if isinstance(exc, DagsterError):
        return exc
    wrapped = error_class(message, user_exception=exc, original_exc_info=(type(exc), exc, exc.__traceback__))
    wrapped.__cause__ = exc
    return wrapped


class ScheduleEvaluationContext(InstigatorContext):
    """The context a schedule function receives.

    Build one for tests with `build_schedule_context`; the scheduler builds one per tick.

    Example:
        ```python
        @dg.schedule(cron_schedule="0 1 * * *", job=my_job)
        def nightly(context: dg.ScheduleEvaluationContext):
            day = context.scheduled_execution_time.strftime("%Y-%m-%d")
            return dg.RunRequest(run_key=day, run_config={"ops": {"load": {"config": {"day": day}}}})
        ```
    """

    _kind = "schedule"
    _builder = "build_schedule_context"

    def __init__(
        self,
        instance_ref: Any = None,
        scheduled_execution_time: dt.datetime | None = None,
        log_key: Sequence[str] | None = None,
        repository_name: str | None = None,
        schedule_name: str | None = None,
        resources: Mapping[str, Any] | None = None,
        repository_def: Any = None,
        *,
        instance: Any = None,
    ):
        if scheduled_execution_time is not None and not isinstance(scheduled_execution_time, dt.datetime):
            raise DagsterInvariantViolationError(
                f'Param "scheduled_execution_time" is not a datetime. Got {scheduled_execution_time!r}.'
            )
        super().__init__(instance=instance if instance is not None else instance_ref, resources=resources, name=schedule_name)
        self._instance_ref = instance_ref
        self._scheduled_execution_time = scheduled_execution_time
        self._repository_name = repository_name
        self._schedule_name = schedule_name
        self._repository_def = repository_def
        self._log_key = list(log_key) if log_key else None
        if not self._log_key and repository_name and schedule_name and scheduled_execution_time:
            self._log_key = [repository_name, schedule_name, scheduled_execution_time.strftime("%Y%m%d_%H%M%S")]

    def __enter__(self) -> ScheduleEvaluationContext:
        return super().__enter__()

    @property
    def scheduled_execution_time(self) -> dt.datetime:
        """The tick time this evaluation is for (in the schedule's time zone when the scheduler runs it)."""
        if self._scheduled_execution_time is None:
            raise DagsterInvariantViolationError(
                "Attempting to access scheduled_execution_time, but no scheduled_execution_time was set on "
                "this context"
            )
        return self._scheduled_execution_time

    @property
    def instance_ref(self) -> Any:
        return self._instance_ref

    @property
    def log_key(self) -> list[str] | None:
        return self._log_key

    @property
    def repository_def(self) -> Any:
        if self._repository_def is None:
            raise DagsterInvariantViolationError(
                "Attempted to access repository_def, but no repository_def was provided."
            )
        return self._repository_def

    def merge_resources(self, resources_dict: Mapping[str, Any]) -> ScheduleEvaluationContext:
        """A copy of this context with `resources_dict` added (before any resource was built)."""
        self._check_mergeable()
        return ScheduleEvaluationContext(
            instance_ref=self._instance_ref,
            scheduled_execution_time=self._scheduled_execution_time,
            repository_name=self._repository_name,
            schedule_name=self._schedule_name,
            resources={**self._resource_defs, **resources_dict},
            repository_def=self._repository_def,
            instance=self._instance,
        )


def build_schedule_context(
    instance: Any = None,
    scheduled_execution_time: dt.datetime | None = None,
    resources: Mapping[str, object] | None = None,
    repository_def: Any = None,
    instance_ref: Any = None,
) -> ScheduleEvaluationContext:
    """A `ScheduleEvaluationContext` for testing a schedule function.

    Args:
        instance: The instance the schedule reads (`context.instance`).
        scheduled_execution_time: The tick time to evaluate for.
        resources: Resources by key (`context.resources`, or resource parameters of the function).
        repository_def: Definitions used to resolve partitioned run requests.
        instance_ref: Accepted for Dagster compatibility; used as the instance when `instance` is None.

    Example:
        ```python
        context = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 1, 1))
        assert nightly(context).run_key == "2024-01-01"
        ```
    """
    return ScheduleEvaluationContext(
        instance_ref=instance_ref,
        scheduled_execution_time=scheduled_execution_time,
        resources=resources,
        repository_def=repository_def,
        instance=instance,
    )
