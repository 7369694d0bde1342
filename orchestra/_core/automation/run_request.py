"""What schedules and sensors return: `RunRequest`, `SkipReason`, `SensorResult`, dynamic partition requests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError
from orchestra._records import Record

SYSTEM_TAG_PREFIX = "dagster/"
SCHEDULE_NAME_TAG = "dagster/schedule_name"
SENSOR_NAME_TAG = "dagster/sensor_name"
PARTITION_NAME_TAG = "dagster/partition"
# System tags a user may set on definitions (priority, retries, run time limits, isolation).
_USER_EDITABLE_SYSTEM_TAGS = frozenset(
    {
        "dagster/priority",
        "dagster/max_retries",
        "dagster/retry_strategy",
        "dagster/max_runtime",
        "dagster/isolation",
        "dagster/retry_on_asset_or_op_failure",
    }
)


def normalize_tags(tags: Mapping[str, Any] | None, *, allow_system_tags: bool = True) -> dict[str, str]:
    """Tags as strings: non-string values become their JSON text, as Dagster stores them.

    Raises DagsterInvalidDefinitionError for a non-string key, a value that does not survive a JSON
    round trip, or (with `allow_system_tags=False`) a reserved `dagster/` key.
    """
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise DagsterInvalidDefinitionError(f"Tags must be a dict, got {tags!r}")
    normalized: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str):
            raise DagsterInvalidDefinitionError("Tag keys must be strings")
        if not allow_system_tags and key.startswith(SYSTEM_TAG_PREFIX) and key not in _USER_EDITABLE_SYSTEM_TAGS:
            raise DagsterInvalidDefinitionError(f"Attempted to set tag with reserved system prefix: {key}")
        normalized[key] = value if isinstance(value, str) else _tag_value_text(key, value)
    return normalized


def _tag_value_text(key: str, value: Any) -> str:
    try:
        text = json.dumps(value)
    except TypeError:
        problem = f'Could not JSON encode value "{value}"'
    else:
        if json.loads(text) == value:
            return text
        problem = f'JSON encoding "{text}" of value "{value}" is not equivalent to original value'
    raise DagsterInvalidDefinitionError(
        f'Invalid value for tag "{key}", {problem}. Tag values must be strings '
        "or meet the constraint that json.loads(json.dumps(value)) == value."
    )


def run_config_dict(run_config: Any) -> dict[str, Any]:
    """A plain dict from a run config dict, a `RunConfig` object (`to_config_dict()`), or None."""
    if run_config is None:
        return {}
    to_dict = getattr(run_config, "to_config_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    if isinstance(run_config, Mapping):
        return dict(run_config)
    raise DagsterInvalidDefinitionError(f"run_config must be a dict or a RunConfig, got {run_config!r}")


class SkipReason(NamedTuple("_SkipReason", [("skip_message", str | None)])):
    """No run is requested this evaluation; `skip_message` says why (shown on the tick).

    Example:
        ```python
        @dg.sensor(job=my_job)
        def my_sensor(context):
            if not new_files():
                return dg.SkipReason("No new files")
        ```
    """

    def __new__(cls, skip_message: str | None = None) -> SkipReason:
        if skip_message is not None and not isinstance(skip_message, str):
            raise DagsterInvariantViolationError(
                f'Param "skip_message" is not a str. Got {skip_message!r} which is type {type(skip_message)}.'
            )
        return super().__new__(cls, skip_message)


class RunRequest(Record):
    """Everything needed to launch one run, returned by a schedule or sensor evaluation.

    Args:
        run_key: Deduplicates runs: a sensor launches at most one run per key, ever.
        run_config: Run config for the run (a dict or a `RunConfig`).
        tags: Tags for the run; non-string values are stored as JSON text.
        job_name: The job to run; needed when a sensor targets several jobs.
        asset_selection: Asset keys to materialize, a subset of the target.
        stale_assets_only: Narrow the selection to stale assets.
        partition_key: The partition to run.
        asset_check_keys: Asset checks to execute, a subset of the target.

    Example:
        ```python
        @dg.sensor(job=my_job)
        def my_sensor(context):
            for name in new_files():
                yield dg.RunRequest(run_key=name, run_config={"ops": {"load": {"config": {"file": name}}}})
        ```
    """

    run_key: str | None
    run_config: Mapping[str, Any]
    tags: Mapping[str, str]
    job_name: str | None
    asset_selection: Sequence[Any] | None
    stale_assets_only: bool
    partition_key: str | None
    asset_check_keys: Sequence[Any] | None
    asset_graph_subset: Any

    def __init__(
        self,
        run_key: str | None = None,
        run_config: Any = None,
        tags: Mapping[str, Any] | None = None,
        job_name: str | None = None,
        asset_selection: Sequence[Any] | None = None,
        stale_assets_only: bool = False,
        partition_key: str | None = None,
        asset_check_keys: Sequence[Any] | None = None,
        **kwargs: Any,
    ):
        values = {
            "run_key": run_key,
            "run_config": run_config_dict(run_config),
            "tags": normalize_tags(tags),
            "job_name": job_name,
            "asset_selection": list(asset_selection) if asset_selection is not None else None,
            "stale_assets_only": bool(stale_assets_only),
            "partition_key": partition_key,
            "asset_check_keys": list(asset_check_keys) if asset_check_keys is not None else None,
            "asset_graph_subset": kwargs.pop("asset_graph_subset", None),
        }
        if kwargs:
            raise TypeError(f"RunRequest() got unexpected keyword arguments {sorted(kwargs)}")
        for name, value in values.items():
            object.__setattr__(self, name, value)

    __hash__ = None  # type: ignore[assignment]  # run_config and tags are dicts

    def _asdict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def with_replaced_attrs(self, **kwargs: Any) -> RunRequest:
        """A copy with the given fields replaced (tags are normalized again)."""
        if "tags" in kwargs:
            kwargs["tags"] = normalize_tags(kwargs["tags"])
        if "run_config" in kwargs:
            kwargs["run_config"] = run_config_dict(kwargs["run_config"])
        return type(self)(**{**self._asdict(), **kwargs})

    def has_resolved_partition(self) -> bool:
        """True when the partition's tags have been applied (or there is no partition)."""
        return self.partition_key is None or self.tags.get(PARTITION_NAME_TAG) is not None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form, as evaluation results carry it."""
        return {
            "run_key": self.run_key,
            "run_config": self.run_config,
            "tags": dict(self.tags),
            "job_name": self.job_name,
            "asset_selection": _keys_to_json(self.asset_selection),
            "stale_assets_only": self.stale_assets_only,
            "partition_key": self.partition_key,
            "asset_check_keys": _keys_to_json(self.asset_check_keys),
        }


def _keys_to_json(keys: Sequence[Any] | None) -> list[Any] | None:
    if keys is None:
        return None
    out: list[Any] = []
    for key in keys:
        asset_key = getattr(key, "asset_key", None)
        if asset_key is not None:  # an asset check key: its asset's path and its name
            out.append({"asset_key": list(getattr(asset_key, "path", [asset_key])), "name": key.name})
        else:
            out.append(list(getattr(key, "path", [key])))
    return out


class _PartitionsRequest(NamedTuple):
    partitions_def_name: str
    partition_keys: Sequence[str]


class AddDynamicPartitionsRequest(_PartitionsRequest):
    """Add keys to the dynamic partitions definition named `partitions_def_name`.

    Example:
        ```python
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=k) for k in new_keys],
            dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest("files", new_keys)],
        )
        ```
    """

    def __new__(cls, partitions_def_name: str, partition_keys: Sequence[str]) -> AddDynamicPartitionsRequest:
        return super().__new__(cls, _str_param(partitions_def_name), _keys_param(partition_keys))


class DeleteDynamicPartitionsRequest(_PartitionsRequest):
    """Delete keys from the dynamic partitions definition named `partitions_def_name`."""

    def __new__(cls, partitions_def_name: str, partition_keys: Sequence[str]) -> DeleteDynamicPartitionsRequest:
        return super().__new__(cls, _str_param(partitions_def_name), _keys_param(partition_keys))


def _str_param(value: Any) -> str:
    if not isinstance(value, str):
        raise DagsterInvariantViolationError(f'Param "partitions_def_name" is not a str. Got {value!r}.')
    return value


def _keys_param(keys: Any) -> list[str]:
    if isinstance(keys, str) or not isinstance(keys, Sequence) or not all(isinstance(k, str) for k in keys):
        raise DagsterInvariantViolationError(f'Param "partition_keys" must be a list of str. Got {keys!r}.')
    return list(keys)


class SensorResult(
    NamedTuple(
        "_SensorResult",
        [
            ("run_requests", Sequence[RunRequest] | None),
            ("skip_reason", SkipReason | None),
            ("cursor", str | None),
            ("dynamic_partitions_requests", Sequence[Any] | None),
            ("asset_events", list[Any]),
            ("automation_condition_evaluations", Sequence[Any] | None),
        ],
    )
):
    """The full result of a sensor evaluation: run requests or a skip reason, plus cursor and side requests.

    Args:
        run_requests: Runs to launch.
        skip_reason: Why nothing was requested (a string or a `SkipReason`).
        cursor: The cursor the next evaluation receives.
        dynamic_partitions_requests: Dynamic partitions to add or delete before run requests resolve.
        asset_events: Asset materializations, observations or check evaluations to record.

    Example:
        ```python
        @dg.sensor(job=my_job)
        def my_sensor(context):
            files = list_files_after(context.cursor)
            if not files:
                return dg.SensorResult(skip_reason="nothing new")
            return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f) for f in files], cursor=files[-1])
        ```
    """

    def __new__(
        cls,
        run_requests: Sequence[RunRequest] | None = None,
        skip_reason: str | SkipReason | None = None,
        cursor: str | None = None,
        dynamic_partitions_requests: Sequence[AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest]
        | None = None,
        asset_events: Sequence[Any] | None = None,
        automation_condition_evaluations: Sequence[Any] | None = None,
    ) -> SensorResult:
        if skip_reason and run_requests:
            raise DagsterInvariantViolationError(
                "Expected a single skip reason or one or more run requests: received values for both "
                "run_requests and skip_reason"
            )
        if isinstance(skip_reason, str):
            skip_reason = SkipReason(skip_reason)
        elif skip_reason is not None and not isinstance(skip_reason, SkipReason):
            raise DagsterInvariantViolationError(f"skip_reason must be a str or a SkipReason, got {skip_reason!r}")
        requests = list(run_requests or [])
        for request in requests:
            if not isinstance(request, RunRequest):
                raise DagsterInvariantViolationError(f"run_requests must hold RunRequest objects, got {request!r}")
        partition_requests = list(dynamic_partitions_requests or [])
        for request in partition_requests:
            if not isinstance(request, AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest):
                raise DagsterInvariantViolationError(
                    "dynamic_partitions_requests must hold AddDynamicPartitionsRequest or "
                    f"DeleteDynamicPartitionsRequest objects, got {request!r}"
                )
        if cursor is not None and not isinstance(cursor, str):
            raise DagsterInvariantViolationError(f'Param "cursor" is not a str. Got {cursor!r}.')
        return super().__new__(
            cls,
            requests,
            skip_reason,
            cursor,
            partition_requests,
            list(asset_events or []),
            list(automation_condition_evaluations or []),
        )


def job_from_repository(repository: Any, job_name: str) -> Any:
    """The job named `job_name` in a repository or `Definitions` object."""
    for method in ("get_job", "get_job_def", "resolve_job_def"):
        getter = getattr(repository, method, None)
        if callable(getter):
            return getter(job_name)
    raise DagsterInvariantViolationError(f"Cannot look up job '{job_name}' in {repository!r}")


def resolve_partition(request: RunRequest, job: Any) -> RunRequest:
    """`request` with its partition's tags and (unless it has its own) run config, from the target job."""
    key = request.partition_key
    partitioned = getattr(job, "partitioned_config", None)
    if partitioned is None:
        raise DagsterInvariantViolationError(f"Job '{job.name}' has no partitions, so run requests for it take no partition_key.")
    validate = getattr(partitioned.partitions_def, "validate_partition_key", None)
    if callable(validate):
        validate(key)
    tags = {**request.tags, **partitioned.get_tags_for_partition_key(key, job_name=job.name)}
    run_config = request.run_config or partitioned.get_run_config_for_partition_key(key)
    return request.with_replaced_attrs(tags=tags, run_config=run_config)
