"""Run status sensors: `@run_status_sensor`, `@run_failure_sensor`, and the contexts their functions get.

The sensor daemon drives these with instance data: for each run that reached `run_status` since the
sensor's cursor, it builds a `RunStatusSensorContext` (or `RunFailureSensorContext`) and calls
`RunStatusSensorDefinition.evaluate_for_run(context)`, which returns the run requests and skip
reasons the function produced. `evaluate_tick` alone cannot find runs and says so.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orchestra._core.automation.context import (
    InstigationLogger,
    call_with_context,
    context_from_invocation,
    resource_arg_names,
    resource_values,
)
from orchestra._core.automation.run_request import RunRequest, SensorResult, SkipReason
from orchestra._core.automation.sensor import SensorDefinition
from orchestra._core.automation.sensor_context import DefaultSensorStatus, SensorType
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


class RunStatusSensorContext:
    """What a run status sensor function receives: the run, the status event, the instance.

    Example:
        ```python
        @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, request_job=report_job)
        def after_success(context: dg.RunStatusSensorContext):
            return dg.RunRequest(run_key=context.dagster_run.run_id)
        ```
    """

    def __init__(
        self,
        sensor_name: str,
        dagster_run: Any,
        dagster_event: Any,
        instance: Any,
        context: Any = None,
        resource_defs: Mapping[str, Any] | None = None,
        logger: logging.Logger | None = None,
        partition_key: str | None = None,
        repository_def: Any = None,
        _resources: Any = None,
        _cm_scope_entered: bool = False,
    ):
        self._sensor_name = sensor_name
        self._dagster_run = dagster_run
        self._dagster_event = dagster_event
        self._instance = instance
        self._sensor_context = context
        self._resource_defs = dict(resource_defs or {})
        self._logger = logger
        self._partition_key = partition_key
        self._repository_def = repository_def
        self._resources = _resources
        self._cm_scope_entered = _cm_scope_entered

    def _fields(self) -> dict[str, Any]:
        return {
            "sensor_name": self._sensor_name,
            "dagster_run": self._dagster_run,
            "dagster_event": self._dagster_event,
            "instance": self._instance,
            "context": self._sensor_context,
            "resource_defs": self._resource_defs,
            "logger": self._logger,
            "partition_key": self._partition_key,
            "repository_def": self._repository_def,
            "_resources": self._resources,
            "_cm_scope_entered": self._cm_scope_entered,
        }

    def __enter__(self) -> RunStatusSensorContext:
        self._cm_scope_entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._sensor_context is not None:
            self._sensor_context.close()

    @property
    def sensor_name(self) -> str:
        return self._sensor_name

    @property
    def dagster_run(self) -> Any:
        """The run whose status changed."""
        return self._dagster_run

    @property
    def dagster_event(self) -> Any:
        """The event that recorded the status change."""
        return self._dagster_event

    @property
    def instance(self) -> Any:
        return self._instance

    @property
    def partition_key(self) -> str | None:
        return self._partition_key

    @property
    def repository_def(self) -> Any:
        return self._repository_def

    @property
    def resource_defs(self) -> dict[str, Any]:
        return dict(self._resource_defs)

    @property
    def resources(self) -> Any:
        if self._resources is None:
            from orchestra._core.automation.sensor_context import SensorEvaluationContext

            if self._sensor_context is None:
                self._sensor_context = SensorEvaluationContext(instance=self._instance, resources=self._resource_defs)
                if self._cm_scope_entered:
                    self._sensor_context.__enter__()
            self._resources = self._sensor_context.resources
        return self._resources

    @property
    def log(self) -> logging.Logger:
        if self._logger is None:
            self._logger = (
                self._sensor_context.log if self._sensor_context is not None else InstigationLogger(self._sensor_name)
            )
        return self._logger

    def merge_resources(self, resources_dict: Mapping[str, Any]) -> RunStatusSensorContext:
        """A copy with `resources_dict` added (before any resource was built)."""
        if self._resources is not None:
            raise DagsterInvariantViolationError("Cannot merge resources in context that has been initialized.")
        fields = self._fields()
        fields["resource_defs"] = {**self._resource_defs, **resources_dict}
        fields["context"] = None
        return type(self)(**fields)

    def for_run_failure(self) -> RunFailureSensorContext:
        """This context as a `RunFailureSensorContext` (for runs that failed)."""
        return RunFailureSensorContext(**self._fields())


class RunFailureSensorContext(RunStatusSensorContext):
    """What a run failure sensor function receives; `failure_event` is the run's failure event."""

    @property
    def failure_event(self) -> Any:
        return self._dagster_event

    def get_step_failure_events(self) -> list[Any]:
        """The run's STEP_FAILURE events, read from the instance's event log."""
        entries = self.instance.all_logs(self.dagster_run.run_id)
        events = [getattr(entry, "dagster_event", None) for entry in entries]
        return [e for e in events if e is not None and getattr(e, "event_type_value", None) == "STEP_FAILURE"]


def build_run_status_sensor_context(
    sensor_name: str,
    dagster_event: Any,
    dagster_instance: Any,
    dagster_run: Any,
    context: Any = None,
    resources: Mapping[str, object] | None = None,
    partition_key: str | None = None,
    *,
    repository_def: Any = None,
) -> RunStatusSensorContext:
    """A `RunStatusSensorContext` for testing a run status sensor function.

    Example:
        ```python
        context = dg.build_run_status_sensor_context(
            sensor_name="after_success", dagster_event=event, dagster_instance=instance, dagster_run=run
        )
        after_success(context)
        ```
    """
    return RunStatusSensorContext(
        sensor_name=sensor_name,
        dagster_run=dagster_run,
        dagster_event=dagster_event,
        instance=dagster_instance,
        context=context,
        resource_defs=resources,
        partition_key=partition_key,
        repository_def=repository_def,
    )


def _status_value(run_status: Any) -> str:
    return getattr(run_status, "value", run_status)


def _failure_status() -> Any:
    import orchestra

    if "DagsterRunStatus" in orchestra._EXPORTS:
        return orchestra.DagsterRunStatus.FAILURE
    return "FAILURE"


class RunStatusSensorDefinition(SensorDefinition):
    """A sensor that reacts to runs reaching `run_status` (see the module docstring for evaluation)."""

    def __init__(
        self,
        name: str,
        run_status: Any,
        run_status_sensor_fn: Callable[..., Any],
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        monitored_jobs: Sequence[Any] | None = None,
        monitor_all_code_locations: bool | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        request_job: Any = None,
        request_jobs: Sequence[Any] | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        required_resource_keys: set[str] | None = None,
    ):
        if monitored_jobs and monitor_all_code_locations:
            raise DagsterInvalidDefinitionError("Cannot specify both monitor_all_code_locations and monitored_jobs.")
        self._run_status = run_status
        self._run_status_sensor_fn = run_status_sensor_fn
        self._monitored_jobs = list(monitored_jobs or [])
        self._monitor_all_code_locations = bool(monitor_all_code_locations)
        self._resource_args = resource_arg_names(run_status_sensor_fn)
        sensor_name = name

        def evaluate(context: Any) -> Any:
            raise DagsterInvariantViolationError(
                f"Run status sensor {sensor_name} is evaluated by the sensor daemon, which finds the runs that "
                "reached its status; call evaluate_for_run with a RunStatusSensorContext instead."
            )

        super().__init__(
            name=name,
            evaluation_fn=evaluate,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
            job=request_job,
            jobs=request_jobs,
            tags=tags,
            metadata=metadata,
            required_resource_keys=set(required_resource_keys or ()) | set(self._resource_args) or None,
        )

    @property
    def run_status(self) -> Any:
        return self._run_status

    @property
    def monitored_jobs(self) -> list[Any]:
        return list(self._monitored_jobs)

    @property
    def monitor_all_code_locations(self) -> bool:
        return self._monitor_all_code_locations

    @property
    def sensor_type(self) -> SensorType:
        return SensorType.RUN_STATUS

    def monitors_job(self, job_name: str) -> bool:
        """True when runs of `job_name` (in this code location) trigger this sensor."""
        if not self._monitored_jobs:
            return True
        return any(_monitored_name(job) in (job_name, None) for job in self._monitored_jobs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function directly (tests) with a RunStatusSensorContext; returns what it returns."""
        context = context_from_invocation(
            self._run_status_sensor_fn,
            args,
            kwargs,
            context_type=RunStatusSensorContext,
            build_default=lambda: None,
            kind="Sensor",
        )
        if context is None:
            raise DagsterInvalidDefinitionError("Run status sensor invocation requires a RunStatusSensorContext.")
        if _status_value(self._run_status) == "FAILURE" and not isinstance(context, RunFailureSensorContext):
            context = context.for_run_failure()
        resources = resource_values(context.resources, self._resource_args, kind="sensor", definition_name=self.name)
        return call_with_context(self._run_status_sensor_fn, context, resources)

    def evaluate_for_run(self, context: RunStatusSensorContext) -> list[RunRequest | SkipReason | SensorResult]:
        """Call the function for one run; returns the run requests / skip reasons it produced."""
        from orchestra._core.automation.sensor import _result_items

        if _status_value(self._run_status) == "FAILURE" and not isinstance(context, RunFailureSensorContext):
            context = context.for_run_failure()
        resources = resource_values(context.resources, self._resource_args, kind="sensor", definition_name=self.name)
        items = _result_items(self.name, call_with_context(self._run_status_sensor_fn, context, resources))
        return [item for item in items if item is not None]

    def to_snapshot(self) -> dict[str, Any]:
        snapshot = super().to_snapshot()
        snapshot["run_status"] = _status_value(self._run_status)
        snapshot["monitored_job_names"] = [
            name for name in map(_monitored_name, self._monitored_jobs) if name is not None
        ]
        snapshot["monitor_all_code_locations"] = self._monitor_all_code_locations
        return snapshot


def run_status_sensor(
    run_status: Any,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    job_selection: Sequence[Any] | None = None,
    monitor_all_code_locations: bool | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    request_job: Any = None,
    request_jobs: Sequence[Any] | None = None,
    monitor_all_repositories: bool | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], RunStatusSensorDefinition]:
    """Make a sensor whose function runs once for each run that reaches `run_status`.

    Example:
        ```python
        @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[etl], request_job=report)
        def report_after_etl(context):
            return dg.RunRequest(run_key=context.dagster_run.run_id)
        ```
    """
    if monitor_all_repositories is not None and monitor_all_code_locations is None:
        monitor_all_code_locations = monitor_all_repositories
    jobs = monitored_jobs if monitored_jobs is not None else job_selection

    def inner(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        definition = RunStatusSensorDefinition(
            name=name or fn.__name__,
            run_status=run_status,
            run_status_sensor_fn=fn,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            monitored_jobs=jobs,
            monitor_all_code_locations=monitor_all_code_locations,
            default_status=default_status,
            request_job=request_job,
            request_jobs=request_jobs,
            tags=tags,
            metadata=metadata,
        )
        functools.update_wrapper(definition, fn)  # type: ignore[arg-type]
        return definition

    return inner


def run_failure_sensor(
    name: Callable[..., Any] | str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    job_selection: Sequence[Any] | None = None,
    monitor_all_code_locations: bool | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    request_job: Any = None,
    request_jobs: Sequence[Any] | None = None,
    monitor_all_repositories: bool | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """A run status sensor for failed runs; its function gets a `RunFailureSensorContext`.

    Usable bare (`@run_failure_sensor`) or with arguments.

    Example:
        ```python
        @dg.run_failure_sensor(monitored_jobs=[etl])
        def alert_on_failure(context: dg.RunFailureSensorContext):
            send_alert(context.dagster_run.job_name, context.failure_event.message)
        ```
    """

    def make(fn: Callable[..., Any], sensor_name: str | None) -> RunStatusSensorDefinition:
        return run_status_sensor(
            _failure_status(),
            name=sensor_name,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            monitored_jobs=monitored_jobs,
            job_selection=job_selection,
            monitor_all_code_locations=monitor_all_code_locations,
            default_status=default_status,
            request_job=request_job,
            request_jobs=request_jobs,
            monitor_all_repositories=monitor_all_repositories,
            tags=tags,
            metadata=metadata,
        )(fn)

    if callable(name):
        return make(name, None)
    return lambda fn: make(fn, name)


def _monitored_name(job: Any) -> str | None:
    """The job name an entry of `monitored_jobs` names; None for a whole code location or repository."""
    from orchestra._core.automation.selector import CodeLocationSelector, JobSelector, RepositorySelector

    if isinstance(job, JobSelector):
        return job.job_name
    if isinstance(job, (CodeLocationSelector, RepositorySelector)):
        return None
    return getattr(job, "name", job)
