"""Sensors: `SensorDefinition`, `@sensor`, and one tick's evaluation."""

from __future__ import annotations

import functools
import inspect
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from orchestra._core.automation.context import (
    call_with_context,
    context_from_invocation,
    resource_arg_names,
    resource_values,
)
from orchestra._core.automation.run_request import (
    SENSOR_NAME_TAG,
    AddDynamicPartitionsRequest,
    DeleteDynamicPartitionsRequest,
    RunRequest,
    SensorResult,
    SkipReason,
    job_from_repository,
    normalize_tags,
    resolve_partition,
)
from orchestra._core.automation.sensor_context import (
    DEFAULT_SENSOR_DAEMON_INTERVAL,
    DefaultSensorStatus,
    SensorEvaluationContext,
    SensorType,
    build_sensor_context,
)
from orchestra._core.automation.target import (
    AutomationTarget,
    check_owners,
    check_valid_name,
    metadata_json,
    normalize_definition_metadata,
    resolve_targets,
)
from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvariantViolationError,
)


class SensorTickData(NamedTuple):
    """What one sensor evaluation produced, ready for the daemon."""

    run_requests: list[RunRequest]
    skip_message: str | None
    cursor: str | None
    dagster_run_reactions: list[Any]
    log_key: list[str] | None
    dynamic_partitions_requests: list[AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest]
    asset_events: list[Any]


def _result_items(sensor_name: str, result: Any) -> list[Any]:
    """The objects a sensor function produced, generator return values included."""

    def checked(value: Any) -> Any:
        if value is None or isinstance(value, SkipReason | RunRequest | SensorResult):
            return value
        raise DagsterInvariantViolationError(
            f"Error in sensor {sensor_name}: Sensor unexpectedly returned output {value} of type {type(value)}.  "
            "Should only return SkipReason or RunRequest objects."
        )

    if inspect.isgenerator(result):
        items = []
        while True:
            try:
                items.append(next(result))
            except StopIteration as stop:
                if stop.value is not None:
                    items.append(checked(stop.value))
                return items
    if isinstance(result, list):
        return result
    return [checked(result)]


def _check_partition_requests(requests: Sequence[Any]) -> None:
    """Reject a key both added and deleted, or added (deleted) twice, across one result's requests."""
    seen: dict[tuple[bool, str], set[str]] = defaultdict(set)
    for request in requests:
        adding = isinstance(request, AddDynamicPartitionsRequest)
        name, keys = request.partitions_def_name, set(request.partition_keys)
        clash = seen[(not adding, name)] & keys
        if clash:
            raise DagsterInvariantViolationError(
                "Dynamic partition requests cannot contain both add and delete requests for the same partition "
                f"keys.Invalid request: partitions_def_name '{name}', partition_keys: {clash}"
            )
        repeated = seen[(adding, name)] & keys
        if repeated:
            raise DagsterInvariantViolationError(
                f"Cannot request to {'add' if adding else 'delete'} duplicate dynamic partition keys: \n"
                f"partitions_def_name '{name}', partition_keys: {repeated}"
            )
        seen[(adding, name)].update(keys)


class SensorDefinition:
    """A function evaluated every `minimum_interval_seconds` that requests runs or skips.

    Args:
        name: Defaults to the evaluation function's name.
        evaluation_fn: Takes the context (optional) and resource parameters; returns or yields
            `RunRequest`s / a `SkipReason`, or returns a `SensorResult`.
        job_name / job / jobs / target / asset_selection: What to run (at most one).
        minimum_interval_seconds: Least time between evaluations (30 by default).
        default_status: `RUNNING` starts the sensor as soon as the code loads.

    Example:
        ```python
        dg.SensorDefinition(name="watch", evaluation_fn=watch_fn, job=my_job, minimum_interval_seconds=60)
        ```
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        evaluation_fn: Callable[..., Any] | None = None,
        job_name: str | None = None,
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        job: Any = None,
        jobs: Sequence[Any] | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        asset_selection: Any = None,
        required_resource_keys: set[str] | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        target: Any = None,
        owners: Sequence[str] | None = None,
    ):
        if evaluation_fn is None:
            raise DagsterInvalidDefinitionError("Must provide evaluation_fn to SensorDefinition.")
        if sum(x is not None for x in (target, job, job_name, jobs, asset_selection)) > 1:
            raise DagsterInvalidDefinitionError(
                "Attempted to provide more than one of 'job', 'jobs', 'job_name', and 'asset_selection' params to "
                "SensorDefinition. Must provide only one."
            )
        if not callable(evaluation_fn):
            raise DagsterInvalidDefinitionError(f"evaluation_fn must be callable, got {evaluation_fn!r}")
        self._name = check_valid_name(name) if name else check_valid_name(evaluation_fn.__name__)
        self._targets: list[AutomationTarget] = resolve_targets(
            automation_name=name, what="sensor", job=job, job_name=job_name, jobs=jobs, target=target
        )
        self._raw_fn = evaluation_fn
        if minimum_interval_seconds is not None and not isinstance(minimum_interval_seconds, int):
            raise DagsterInvalidDefinitionError(
                f'Param "minimum_interval_seconds" is not a int. Got {minimum_interval_seconds!r}.'
            )
        self._min_interval = DEFAULT_SENSOR_DAEMON_INTERVAL if minimum_interval_seconds is None else minimum_interval_seconds
        self._description = description
        if not isinstance(default_status, DefaultSensorStatus):
            raise DagsterInvalidDefinitionError(f"default_status must be a DefaultSensorStatus, got {default_status!r}")
        self._default_status = default_status
        self._asset_selection = asset_selection
        resource_args = set(resource_arg_names(evaluation_fn))
        if required_resource_keys and resource_args:
            raise DagsterInvalidDefinitionError(
                "Cannot specify resource requirements in both @sensor decorator and as arguments to the decorated "
                "function"
            )
        self._raw_required_resource_keys = set(required_resource_keys or ())
        self._required_resource_keys = self._raw_required_resource_keys or resource_args
        self._tags = normalize_tags(tags)
        self._metadata = normalize_definition_metadata(metadata)
        self._owners = check_owners(owners, "sensor", self._name) or []

    # --- attributes -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def minimum_interval_seconds(self) -> int:
        return self._min_interval

    @property
    def required_resource_keys(self) -> set[str]:
        return self._required_resource_keys

    @property
    def targets(self) -> list[AutomationTarget]:
        return list(self._targets)

    @property
    def default_status(self) -> DefaultSensorStatus:
        return self._default_status

    @property
    def asset_selection(self) -> Any:
        return self._asset_selection

    @property
    def tags(self) -> dict[str, str]:
        return self._tags

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    @property
    def owners(self) -> list[str]:
        return self._owners

    @property
    def sensor_type(self) -> SensorType:
        return SensorType.STANDARD

    @property
    def job_name(self) -> str | None:
        """The name of the one job this sensor targets."""
        if not self._targets:
            raise DagsterInvalidDefinitionError("No job was provided to SensorDefinition.")
        if len(self._targets) > 1:
            raise DagsterInvalidDefinitionError("job_name property not available when SensorDefinition has multiple jobs.")
        return self._targets[0].job_name

    @property
    def job(self) -> Any:
        """The one job object this sensor targets."""
        if len(self._targets) > 1:
            raise DagsterInvalidDefinitionError("Job property not available when SensorDefinition has multiple jobs.")
        if self._targets:
            if self._targets[0].has_job_def:
                return self._targets[0].job
            raise DagsterInvalidDefinitionError("Job property not available when target is defined by a string job name.")
        raise DagsterInvalidDefinitionError("No job was provided to SensorDefinition.")

    @property
    def jobs(self) -> list[Any]:
        """Every job object this sensor targets."""
        found = [t.job for t in self._targets if t.has_job_def]
        if not found:
            raise DagsterInvalidDefinitionError("No job was provided to SensorDefinition.")
        return found

    @property
    def has_jobs(self) -> bool:
        return any(t.has_job_def for t in self._targets)

    def _copy_kwargs(self) -> dict[str, Any]:
        return {
            "name": self._name,
            "evaluation_fn": self._raw_fn,
            "minimum_interval_seconds": self._min_interval,
            "description": self._description,
            "default_status": self._default_status,
            "asset_selection": self._asset_selection,
            "required_resource_keys": self._raw_required_resource_keys or None,
            "tags": self._tags,
            "metadata": self._metadata,
            "owners": self._owners or None,
        }

    def with_attributes(self, *, jobs: Sequence[Any] | None = None, metadata: Mapping[str, Any] | None = None) -> SensorDefinition:
        """A copy with the jobs and/or metadata replaced."""
        kwargs = self._copy_kwargs()
        if metadata is not None:
            kwargs["metadata"] = metadata
        if jobs is not None:
            kwargs["jobs" if len(jobs) > 1 else "job"] = jobs if len(jobs) > 1 else jobs[0]
        elif self.has_jobs:
            kwargs["jobs"] = self.jobs if len(self._targets) > 1 else None
            kwargs["job"] = self.jobs[0] if len(self._targets) == 1 else None
        elif self._targets:
            kwargs["job_name"] = self._targets[0].job_name
        return type(self)._rebuild(self, kwargs)

    def _rebuild(self, kwargs: dict[str, Any]) -> SensorDefinition:
        return SensorDefinition(**kwargs)

    def with_updated_job(self, new_job: Any) -> SensorDefinition:
        return self.with_attributes(jobs=[new_job])

    def with_updated_jobs(self, new_jobs: Sequence[Any]) -> SensorDefinition:
        return self.with_attributes(jobs=new_jobs)

    # --- evaluation -------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the sensor function directly (tests): returns exactly what it returns."""
        context = context_from_invocation(
            self._raw_fn, args, kwargs, context_type=SensorEvaluationContext, build_default=build_sensor_context, kind="Sensor"
        )
        resources = resource_values(context.resources, self._required_resource_keys, kind="sensor", definition_name=self._name)
        params = set(resource_arg_names(self._raw_fn))  # keys named only in required_resource_keys stay on context
        return call_with_context(self._raw_fn, context, {k: v for k, v in resources.items() if k in params})

    def _evaluate_raw(self, context: SensorEvaluationContext) -> list[Any]:
        resources = resource_values(
            context.resources, set(resource_arg_names(self._raw_fn)), kind="sensor", definition_name=self._name
        )
        return _result_items(self._name, call_with_context(self._raw_fn, context, resources))

    def evaluate_tick(self, context: SensorEvaluationContext) -> SensorTickData:
        """Evaluate one tick. User errors propagate as raised; invalid results raise
        `DagsterInvariantViolationError`."""
        if not isinstance(context, SensorEvaluationContext):
            raise DagsterInvariantViolationError(f"Expected a SensorEvaluationContext, got {context!r}")
        items = self._evaluate_raw(context)
        skip_message: str | None = None
        requests: list[RunRequest] = []
        reactions: list[Any] = []
        partition_requests: list[Any] = []
        asset_events: list[Any] = []
        cursor = context.cursor
        if not items or items == [None]:
            skip_message = "Sensor function returned an empty result"
        elif len(items) == 1:
            item = items[0]
            if isinstance(item, SensorResult):
                requests = list(item.run_requests or [])
                if item.skip_reason:
                    skip_message = item.skip_reason.skip_message
                elif not requests:
                    skip_message = "Sensor function returned an empty result"
                partition_requests = list(item.dynamic_partitions_requests or [])
                if context.cursor_updated and item.cursor:
                    raise DagsterInvariantViolationError(
                        "SensorResult.cursor cannot be set if context.update_cursor() was called."
                    )
                if item.cursor:
                    cursor = item.cursor
                asset_events = list(item.asset_events)
            elif isinstance(item, RunRequest):
                requests = [item]
            elif isinstance(item, SkipReason):
                skip_message = item.skip_message
            elif _is_run_reaction(item):
                reactions = [item]
            else:
                raise DagsterInvariantViolationError(f"Unexpected type {type(item)} in sensor result")
        else:
            if any(isinstance(item, SensorResult) for item in items):
                raise DagsterInvariantViolationError(
                    "When a SensorResult is returned from a sensor, it must be the only object returned."
                )
            for item in items:
                if not (isinstance(item, SkipReason | RunRequest) or _is_run_reaction(item)):
                    raise DagsterInvariantViolationError(f"Unexpected type {type(item)} in sensor result")
            requests = [item for item in items if isinstance(item, RunRequest)]
            reactions = [item for item in items if _is_run_reaction(item)]
            if any(isinstance(item, SkipReason) for item in items):
                if requests:
                    raise DagsterInvariantViolationError(
                        "Expected a single SkipReason or one or more RunRequests: received both RunRequest and SkipReason"
                    )
                if reactions:
                    raise DagsterInvariantViolationError(
                        "Expected a single SkipReason or one or more DagsterRunReaction: received both "
                        "DagsterRunReaction and SkipReason"
                    )
                raise DagsterInvariantViolationError("Expected a single SkipReason: received multiple SkipReasons")
        _check_partition_requests(partition_requests)
        resolved = [
            request.with_replaced_attrs(tags={**request.tags, SENSOR_NAME_TAG: self._name})
            for request in self._resolve_run_requests(requests, context)
        ]
        return SensorTickData(
            resolved,
            skip_message,
            cursor,
            reactions,
            context.log_key if context.has_captured_logs() else None,
            partition_requests,
            asset_events,
        )

    def _resolve_run_requests(self, requests: list[RunRequest], context: SensorEvaluationContext) -> list[RunRequest]:
        target_names = [t.job_name for t in self._targets]
        if requests and not self._targets and self._asset_selection is None:
            raise DagsterInvariantViolationError(
                f"Error in sensor {self._name}: Sensor evaluation function returned a RunRequest for a sensor lacking "
                "a specified target (job_name, job, or jobs). Targets can be specified by providing job, jobs, or "
                "job_name to the @sensor decorator."
            )
        resolved = []
        for request in requests:
            if request.job_name is None and len(self._targets) > 1:
                raise DagsterInvariantViolationError(
                    f"Error in sensor {self._name}: Sensor returned a RunRequest that did not specify job_name for the "
                    f"requested run. Expected one of: {target_names}"
                )
            if request.job_name and request.job_name not in target_names and self._asset_selection is None:
                raise DagsterInvariantViolationError(
                    f"Error in sensor {self._name}: Sensor returned a RunRequest with job_name {request.job_name}. "
                    f"Expected one of: {target_names}"
                )
            if request.partition_key and not request.has_resolved_partition():
                if context.repository_def is None:
                    raise DagsterInvariantViolationError(
                        "Must provide repository def to build_sensor_context when yielding partitioned run requests"
                    )
                job_name = request.job_name or target_names[0]
                request = resolve_partition(request, job_from_repository(context.repository_def, job_name))
            resolved.append(request)
        return resolved

    # --- snapshot ---------------------------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        """Plain JSON describing this sensor, as the webserver stores and reads it."""
        return {
            "kind": "sensor",
            "name": self._name,
            "sensor_type": self.sensor_type.value,
            "job_name": self._targets[0].job_name if len(self._targets) == 1 else None,
            "target_job_names": [t.job_name for t in self._targets],
            "min_interval": self._min_interval,
            "default_status": self._default_status.value,
            "description": self._description,
            "tags": dict(self._tags),
            "metadata": metadata_json(self._metadata),
            "owners": list(self._owners),
            "required_resource_keys": sorted(self._required_resource_keys),
            "asset_selection": None if self._asset_selection is None else repr(self._asset_selection),
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name}>"


def _is_run_reaction(item: Any) -> bool:
    return type(item).__name__ == "DagsterRunReaction"


def sensor(
    job_name: str | None = None,
    *,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    job: Any = None,
    jobs: Sequence[Any] | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    asset_selection: Any = None,
    required_resource_keys: set[str] | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    target: Any = None,
    owners: Sequence[str] | None = None,
) -> Callable[[Callable[..., Any]], SensorDefinition]:
    """Make a `SensorDefinition` from a function evaluated every `minimum_interval_seconds` (30).

    Example:
        ```python
        @dg.sensor(job=my_job, minimum_interval_seconds=60)
        def watch_bucket(context):
            keys = new_keys_after(context.cursor)
            if not keys:
                return dg.SkipReason("no new keys")
            return dg.SensorResult(run_requests=[dg.RunRequest(run_key=k) for k in keys], cursor=keys[-1])
        ```
    """
    if name is not None and not isinstance(name, str):
        raise DagsterInvalidDefinitionError(f'Param "name" is not a str. Got {name!r}.')

    def inner(fn: Callable[..., Any]) -> SensorDefinition:
        if not callable(fn):
            raise DagsterInvalidDefinitionError(f"@sensor must decorate a function, got {fn!r}")
        sensor_def = SensorDefinition(
            name=name or fn.__name__,
            job_name=job_name,
            evaluation_fn=fn,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            job=job,
            jobs=jobs,
            default_status=default_status,
            asset_selection=asset_selection,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
            target=target,
            owners=owners,
        )
        functools.update_wrapper(sensor_def, fn)  # type: ignore[arg-type]
        return sensor_def

    return inner
