"""Schedules: `ScheduleDefinition`, `@schedule`, and one tick's evaluation."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from orchestra._core.automation.context import (
    call_with_context,
    context_from_invocation,
    resource_arg_names,
    resource_values,
)
from orchestra._core.automation.run_request import (
    SCHEDULE_NAME_TAG,
    RunRequest,
    SkipReason,
    normalize_tags,
    run_config_dict,
)
from orchestra._core.automation.schedule_context import (
    DefaultScheduleStatus,
    ScheduleEvaluationContext,
    ScheduleExecutionError,
    build_schedule_context,
    user_code_error,
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
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
)


class ScheduleTickData(NamedTuple):
    """What one evaluation produced: run requests (tagged with the schedule) or a skip message."""

    run_requests: list[RunRequest]
    skip_message: str | None
    log_key: list[str] | None = None


class ScheduleDefinition:
    """A cron schedule that requests runs of a job.

    Args:
        name: Defaults to the job name plus `_schedule`.
        cron_schedule: A cron string, or a list of them (the schedule fires at the union of their ticks).
        job_name / job / target: What to run (exactly one).
        run_config / run_config_fn: The run config, fixed or computed per tick.
        tags / tags_fn: Tags for the runs, fixed or computed per tick.
        should_execute: Returns False to skip a tick.
        execution_timezone: IANA time zone the cron string is read in (UTC when None).
        execution_fn: Full evaluation function (what `@schedule` builds); excludes the four above.
        default_status: `RUNNING` starts the schedule as soon as the code loads.

    Example:
        ```python
        dg.ScheduleDefinition(job=my_job, cron_schedule="0 6 * * 1-5", execution_timezone="Europe/Paris")
        ```
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        cron_schedule: str | Sequence[str] | None = None,
        job_name: str | None = None,
        run_config: Any = None,
        run_config_fn: Callable[..., Any] | None = None,
        tags: Mapping[str, str] | None = None,
        tags_fn: Callable[..., Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        should_execute: Callable[..., bool] | None = None,
        environment_vars: Mapping[str, str] | None = None,
        execution_timezone: str | None = None,
        execution_fn: Callable[..., Any] | None = None,
        description: str | None = None,
        job: Any = None,
        default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
        required_resource_keys: set[str] | None = None,
        target: Any = None,
        owners: Sequence[str] | None = None,
    ):
        from orchestra._core.automation import cron

        if not isinstance(cron_schedule, str) and not (
            isinstance(cron_schedule, Sequence) and all(isinstance(c, str) for c in cron_schedule)
        ):
            raise DagsterInvalidDefinitionError(
                f"cron_schedule must be a cron string or a list of cron strings, got {cron_schedule!r}"
            )
        if not cron.is_valid_cron_schedule(cron_schedule):
            raise DagsterInvalidDefinitionError(
                f"Found invalid cron schedule '{cron_schedule}' for schedule '{name}''. "
                "Dagster recognizes standard cron expressions consisting of 5 fields."
            )
        if cron.has_out_of_range_step(cron_schedule):
            warnings.warn(
                "Found a cron schedule with an interval greater than the expected range for schedule "
                f"'{name}'. Dagster currently normalizes this to an interval that may fire more often than "
                "expected. You may want to break this cron schedule up into a sequence of cron schedules. See "
                "https://github.com/dagster-io/dagster/issues/15294 for more information.",
                stacklevel=2,
            )
        if sum(x is not None for x in (target, job_name, job)) > 1:
            raise DagsterInvalidDefinitionError(
                "Attempted to provide more than one of 'job', 'job_name', and 'target'params to "
                "ScheduleDefinition. Must provide only one."
            )
        targets = resolve_targets(automation_name=name, what="schedule", job=job, job_name=job_name, target=target)
        if not targets:
            raise DagsterInvalidDefinitionError("Must provide target, job, or job_name")
        self._target: AutomationTarget = targets[0]
        self._name = check_valid_name(name) if name else f"{self._target.job_name}_schedule"
        self._cron_schedule = cron_schedule if isinstance(cron_schedule, str) else list(cron_schedule)
        self._description = description
        self._environment_vars = dict(environment_vars) if environment_vars is not None else None
        self._execution_timezone = execution_timezone
        if execution_timezone and not cron.is_valid_timezone(execution_timezone):
            raise DagsterInvalidDefinitionError(f"Invalid execution timezone {execution_timezone} for {name}")
        if not isinstance(default_status, DefaultScheduleStatus):
            raise DagsterInvalidDefinitionError(f"default_status must be a DefaultScheduleStatus, got {default_status!r}")
        self._default_status = default_status

        decorated_fn = getattr(execution_fn, "_orchestra_decorated_fn", None)
        self._decorated_fn: Callable[..., Any] | None = decorated_fn
        if execution_fn is not None:
            if run_config_fn or tags_fn or should_execute or run_config:
                raise DagsterInvalidDefinitionError(
                    "Attempted to provide both execution_fn and individual run_config/tags_fn arguments to "
                    "ScheduleDefinition. Must provide only one of the two."
                )
            if not callable(execution_fn):
                raise DagsterInvalidDefinitionError(f"execution_fn must be callable, got {execution_fn!r}")
            self._tags = normalize_tags(tags, allow_system_tags=False)
            self._execution_fn: Callable[[ScheduleEvaluationContext], Any] = execution_fn
        else:
            if run_config_fn and run_config:
                raise DagsterInvalidDefinitionError(
                    "Attempted to provide both run_config_fn and run_config as arguments to ScheduleDefinition. "
                    "Must provide only one of the two."
                )
            if tags_fn and tags:
                raise DagsterInvalidDefinitionError(
                    "Attempted to provide both tags_fn and tags as arguments to ScheduleDefinition. Must "
                    "provide only one of the two."
                )
            self._tags = normalize_tags(tags, allow_system_tags=False)
            fixed_config = run_config_dict(run_config)
            self._execution_fn = functools.partial(
                _evaluate_parts,
                name=self._name,
                run_config_fn=run_config_fn or (lambda _context: copy.deepcopy(fixed_config)),
                tags_fn=tags_fn or (lambda _context: self._tags),
                should_execute=should_execute,
            )

        resource_args = set(resource_arg_names(decorated_fn)) if decorated_fn else set()
        if required_resource_keys and resource_args:
            raise DagsterInvalidDefinitionError(
                "Cannot specify resource requirements in both @schedule decorator and as arguments to the "
                "decorated function"
            )
        self._raw_required_resource_keys = set(required_resource_keys or ())
        self._required_resource_keys = self._raw_required_resource_keys or resource_args
        self._metadata = normalize_definition_metadata(metadata)
        self._owners = check_owners(owners, "schedule", self._name)

    # --- attributes -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def job_name(self) -> str:
        """The name of the job this schedule launches."""
        return self._target.job_name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def cron_schedule(self) -> str | Sequence[str]:
        return self._cron_schedule

    @property
    def environment_vars(self) -> dict[str, str] | None:
        return self._environment_vars

    @property
    def required_resource_keys(self) -> set[str]:
        return self._required_resource_keys

    @property
    def execution_timezone(self) -> str | None:
        return self._execution_timezone

    @property
    def tags(self) -> dict[str, str]:
        return self._tags

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    @property
    def owners(self) -> list[str] | None:
        return self._owners

    @property
    def default_status(self) -> DefaultScheduleStatus:
        return self._default_status

    @property
    def target(self) -> AutomationTarget:
        return self._target

    @property
    def has_job(self) -> bool:
        return self._target.has_job_def

    @property
    def job(self) -> Any:
        """The job object this schedule launches (not available when only a job name was given)."""
        if self._target.has_job_def:
            return self._target.job
        raise DagsterInvalidDefinitionError("No job was provided to ScheduleDefinition.")

    def with_updated_job(self, new_job: Any) -> ScheduleDefinition:
        """A copy of this schedule launching `new_job`."""
        return self.with_attributes(job=new_job)

    def with_attributes(self, *, job: Any = None, metadata: Mapping[str, Any] | None = None) -> ScheduleDefinition:
        """A copy with the job and/or metadata replaced."""
        if job is None and self._target.has_job_def:
            job = self._target.job
        return ScheduleDefinition(
            name=self._name,
            cron_schedule=self._cron_schedule,
            job_name=None if job is not None else self.job_name,
            execution_timezone=self._execution_timezone,
            execution_fn=self._execution_fn,
            description=self._description,
            job=job,
            default_status=self._default_status,
            environment_vars=self._environment_vars,
            required_resource_keys=self._raw_required_resource_keys or None,
            tags=self._tags,
            metadata=metadata if metadata is not None else self._metadata,
            owners=self._owners,
        )

    # --- ticks ------------------------------------------------------------------------------------

    def execution_times(self, start: dt.datetime | float, end: dt.datetime | float) -> list[dt.datetime]:
        """Tick times `t` with `start <= t <= end`, in the execution time zone."""
        from orchestra._core.automation.cron import schedule_execution_times

        return schedule_execution_times(self._cron_schedule, self._execution_timezone, start, end)

    def next_tick_after(self, moment: dt.datetime | float) -> dt.datetime:
        """The first tick strictly after `moment`."""
        from orchestra._core.automation.cron import next_tick

        return next_tick(self._cron_schedule, self._execution_timezone, moment)

    # --- evaluation -------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the decorated function directly (tests): returns exactly what it returns."""
        if self._decorated_fn is None:
            raise DagsterInvalidInvocationError(
                "Schedule invocation is only supported for schedules created via the schedule decorators."
            )
        context = context_from_invocation(
            self._decorated_fn,
            args,
            kwargs,
            context_type=ScheduleEvaluationContext,
            build_default=build_schedule_context,
            kind="Schedule",
        )
        resources = resource_values(
            context.resources, self._required_resource_keys, kind="schedule", definition_name=self._name
        )
        params = set(resource_arg_names(self._decorated_fn))  # keys named only in required_resource_keys stay on context
        result = call_with_context(self._decorated_fn, context, {k: v for k, v in resources.items() if k in params})
        return copy.deepcopy(result) if isinstance(result, dict) else result

    def evaluate_tick(self, context: ScheduleEvaluationContext) -> ScheduleTickData:
        """Evaluate one tick. User errors raise `ScheduleExecutionError`; invalid results raise
        `DagsterInvariantViolationError`."""
        if not isinstance(context, ScheduleEvaluationContext):
            raise DagsterInvariantViolationError(f"Expected a ScheduleEvaluationContext, got {context!r}")
        items = list(_as_items(self._execution_fn(context)))
        skip_message: str | None = None
        requests: list[RunRequest] = []
        if not items or items == [None]:
            skip_message = "Schedule function returned an empty result"
        elif len(items) == 1:
            item = items[0]
            if isinstance(item, RunRequest):
                requests = [item]
            elif isinstance(item, SkipReason):
                skip_message = item.skip_message
            else:
                raise DagsterInvariantViolationError(
                    f"Object {item!r} is not one of ['RunRequest', 'SkipReason']. Got {item!r} with type {type(item)}."
                )
        else:
            for item in items:
                if not isinstance(item, RunRequest):
                    raise DagsterInvariantViolationError(
                        f"Member of list mismatches type. Expected RunRequest. Got {item!r} of type {type(item)}."
                    )
            if any(not request.run_key for request in items):
                raise DagsterInvariantViolationError(
                    "Schedules that return multiple RunRequests must specify a run_key in each RunRequest"
                )
            requests = items
        resolved = []
        for request in requests:
            if request.partition_key and not request.has_resolved_partition():
                from orchestra._core.automation.run_request import job_from_repository, resolve_partition

                if context._repository_def is None:
                    raise DagsterInvariantViolationError(
                        "Must provide repository def to build_schedule_context when yielding partitioned run requests"
                    )
                request = resolve_partition(request, job_from_repository(context._repository_def, self.job_name))
            resolved.append(request.with_replaced_attrs(tags={**request.tags, SCHEDULE_NAME_TAG: self._name}))
        return ScheduleTickData(resolved, skip_message, context.log_key if context.has_captured_logs() else None)

    # --- snapshot ---------------------------------------------------------------------------------

    def to_snapshot(self) -> dict[str, Any]:
        """Plain JSON describing this schedule, as the webserver stores and reads it."""
        return {
            "kind": "schedule",
            "name": self._name,
            "cron_schedule": self._cron_schedule,
            "execution_timezone": self._execution_timezone,
            "job_name": self.job_name,
            "default_status": self._default_status.value,
            "description": self._description,
            "tags": dict(self._tags),
            "metadata": metadata_json(self._metadata),
            "owners": list(self._owners) if self._owners else [],
            "required_resource_keys": sorted(self._required_resource_keys),
        }

    def __repr__(self) -> str:
        return f"<ScheduleDefinition {self._name} {self._cron_schedule!r}>"


def _as_items(result: Any) -> Iterator[Any]:
    if inspect.isgenerator(result) or isinstance(result, list | tuple) and not isinstance(result, SkipReason):
        yield from result
    else:
        yield result


def _takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        return len(inspect.signature(fn).parameters) > 0
    except (TypeError, ValueError):
        return True


def _evaluate_parts(
    context: ScheduleEvaluationContext,
    *,
    name: str,
    run_config_fn: Callable[..., Any],
    tags_fn: Callable[..., Any],
    should_execute: Callable[..., bool] | None,
) -> Iterator[RunRequest | SkipReason]:
    """The evaluation of a schedule built from run_config(_fn) / tags(_fn) / should_execute."""
    try:
        go = should_execute(context) if should_execute else True
    except Exception as exc:
        raise user_code_error(
            ScheduleExecutionError, f"Error occurred during the execution of should_execute for schedule {name}", exc
        )
    if not go:
        yield SkipReason(f"should_execute function for {name} returned false.")
        return
    try:
        run_config = copy.deepcopy(run_config_fn(context) if _takes_argument(run_config_fn) else run_config_fn())
    except Exception as exc:
        raise user_code_error(
            ScheduleExecutionError, f"Error occurred during the execution of run_config_fn for schedule {name}", exc
        )
    try:
        tags = normalize_tags(tags_fn(context), allow_system_tags=False)
    except Exception as exc:
        raise user_code_error(
            ScheduleExecutionError, f"Error occurred during the execution of tags_fn for schedule {name}", exc
        )
    yield RunRequest(run_key=None, run_config=run_config, tags=tags)


def schedule(
    cron_schedule: str | Sequence[str],
    *,
    job_name: str | None = None,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
    tags_fn: Callable[..., Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    should_execute: Callable[..., bool] | None = None,
    environment_vars: Mapping[str, str] | None = None,
    execution_timezone: str | None = None,
    description: str | None = None,
    job: Any = None,
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
    required_resource_keys: set[str] | None = None,
    target: Any = None,
    owners: Sequence[str] | None = None,
) -> Callable[[Callable[..., Any]], ScheduleDefinition]:
    """Make a `ScheduleDefinition` from a function evaluated at each tick.

    The function takes the context (optional) and resource parameters, and returns a run config
    dict, a `RunRequest`, a list of them, a `SkipReason`, or None; it may also yield requests.
    `tags` (or `tags_fn`) apply to the run only when the function returns a run config dict.

    Example:
        ```python
        @dg.schedule(cron_schedule="0 0 * * *", job=my_job, execution_timezone="America/New_York")
        def midnight(context):
            return {"ops": {"report": {"config": {"date": context.scheduled_execution_time.isoformat()}}}}
        ```
    """
    if tags_fn and tags:
        raise DagsterInvalidDefinitionError(
            "Attempted to provide both tags_fn and tags as arguments to ScheduleDefinition. Must provide only "
            "one of the two."
        )

    def inner(fn: Callable[..., Any]) -> ScheduleDefinition:
        if not callable(fn):
            raise DagsterInvalidDefinitionError(f"@schedule must decorate a function, got {fn!r}")
        schedule_name = name or fn.__name__
        fixed_tags = normalize_tags(tags, allow_system_tags=False) if tags else None
        resource_args = resource_arg_names(fn)

        def evaluate(context: ScheduleEvaluationContext) -> Iterable[Any]:
            if should_execute:
                try:
                    go = should_execute(context)
                except Exception as exc:
                    raise user_code_error(
                        ScheduleExecutionError,
                        f"Error occurred during the execution of should_execute for schedule {schedule_name}",
                        exc,
                    )
                if not go:
                    return [SkipReason(f"should_execute function for {schedule_name} returned false.")]
            resources = resource_values(context.resources, resource_args, kind="schedule", definition_name=schedule_name)
            try:
                result = call_with_context(fn, context, resources)
                if isinstance(result, dict):
                    run_tags = fixed_tags or (tags_fn and normalize_tags(tags_fn(context), allow_system_tags=False)) or None
                    return [RunRequest(run_key=None, run_config=copy.deepcopy(result), tags=run_tags)]
                return list(_as_items(result))  # a generator runs here, inside the error boundary
            except Exception as exc:
                raise user_code_error(
                    ScheduleExecutionError, f"Error occurred during the evaluation of schedule {schedule_name}", exc
                )

        evaluate._orchestra_decorated_fn = fn  # type: ignore[attr-defined]
        schedule_def = ScheduleDefinition(
            name=schedule_name,
            cron_schedule=cron_schedule,
            job_name=job_name,
            environment_vars=environment_vars,
            execution_timezone=execution_timezone,
            description=description,
            execution_fn=evaluate,
            job=job,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
            target=target,
            owners=owners,
        )
        functools.update_wrapper(schedule_def, fn)  # type: ignore[arg-type]
        return schedule_def

    return inner
