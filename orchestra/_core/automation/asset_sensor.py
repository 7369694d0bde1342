"""`@asset_sensor` and `AssetSensorDefinition`: request runs when an asset gets a new materialization.

Evaluation reads the instance: it calls `instance.fetch_materializations(records_filter,
ascending=False, limit=1).records`, where `records_filter` has `asset_key` and `after_storage_id`,
and each record has `storage_id` and `event_log_entry`. The cursor is the last storage id seen.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestra._core.automation.context import resource_arg_names, resource_values
from orchestra._core.automation.run_request import RunRequest, SensorResult, SkipReason
from orchestra._core.automation.sensor import SensorDefinition
from orchestra._core.automation.sensor_context import DefaultSensorStatus, SensorType
from orchestra._errors import DagsterInvariantViolationError


@dataclass(frozen=True)
class AssetRecordsQuery:
    """The filter handed to `instance.fetch_materializations` when the SDK has no `AssetRecordsFilter`."""

    asset_key: Any
    after_storage_id: int | None = None


def _records_filter(asset_key: Any, after_storage_id: int | None) -> Any:
    import orchestra

    if "AssetRecordsFilter" in orchestra._EXPORTS:
        return orchestra.AssetRecordsFilter(asset_key=asset_key, after_storage_id=after_storage_id)
    return AssetRecordsQuery(asset_key, after_storage_id)


def _non_resource_params(fn: Callable[..., Any]) -> list[str]:
    resources = set(resource_arg_names(fn))
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return []
    return [name for name in params if name not in resources]


class AssetSensorDefinition(SensorDefinition):
    """A sensor whose function runs once per new materialization of `asset_key`.

    The function takes the context, then the materialization's `EventLogEntry` (both optional, by
    position) and resource parameters.

    Example:
        ```python
        @dg.asset_sensor(asset_key=dg.AssetKey("orders"), job=report_job)
        def orders_updated(context, asset_event):
            return dg.RunRequest(run_key=context.cursor)
        ```
    """

    def __init__(
        self,
        name: str,
        asset_key: Any,
        job_name: str | None,
        asset_materialization_fn: Callable[..., Any],
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        job: Any = None,
        jobs: Sequence[Any] | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        required_resource_keys: set[str] | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ):
        self._asset_key = asset_key
        self._asset_materialization_fn = asset_materialization_fn
        resource_args = set(resource_arg_names(asset_materialization_fn))
        self._combined_resource_keys = set(required_resource_keys or ()) | resource_args

        def evaluate(context: Any) -> Any:
            after = None
            if context.cursor:
                try:
                    after = int(context.cursor)
                except ValueError:
                    after = None
            records = context.instance.fetch_materializations(
                _records_filter(asset_key, after), ascending=False, limit=1
            ).records
            if not records:
                yield SkipReason(f"No new materialization events found for asset key {asset_key}")
                return
            record = records[0]
            params = _non_resource_params(asset_materialization_fn)
            kwargs = resource_values(context.resources, resource_args, kind="sensor", definition_name=name)
            if params:
                kwargs[params[0]] = context
            if len(params) > 1:
                kwargs[params[1]] = record.event_log_entry
            result = asset_materialization_fn(**kwargs)
            if inspect.isgenerator(result) or isinstance(result, list):
                yield from result
            elif isinstance(result, SkipReason | RunRequest | SensorResult):
                yield result
            context.update_cursor(str(record.storage_id))

        functools.update_wrapper(evaluate, asset_materialization_fn)
        evaluate.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        )
        super().__init__(
            name=name,
            job_name=job_name,
            evaluation_fn=evaluate,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            job=job,
            jobs=jobs,
            default_status=default_status,
            required_resource_keys=self._combined_resource_keys or None,
            tags=tags,
            metadata=metadata,
        )

    @property
    def asset_key(self) -> Any:
        return self._asset_key

    @property
    def sensor_type(self) -> SensorType:
        return SensorType.ASSET

    def _rebuild(self, kwargs: dict[str, Any]) -> SensorDefinition:
        return AssetSensorDefinition(
            name=kwargs["name"],
            asset_key=self._asset_key,
            job_name=kwargs.get("job_name"),
            asset_materialization_fn=self._asset_materialization_fn,
            minimum_interval_seconds=kwargs["minimum_interval_seconds"],
            description=kwargs["description"],
            job=kwargs.get("job"),
            jobs=kwargs.get("jobs"),
            default_status=kwargs["default_status"],
            required_resource_keys=self._combined_resource_keys or None,
            tags=kwargs["tags"],
            metadata=kwargs["metadata"],
        )

    def to_snapshot(self) -> dict[str, Any]:
        snapshot = super().to_snapshot()
        snapshot["asset_key"] = list(getattr(self._asset_key, "path", [str(self._asset_key)]))
        return snapshot


def asset_sensor(
    asset_key: Any,
    *,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    job: Any = None,
    jobs: Sequence[Any] | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    required_resource_keys: set[str] | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], AssetSensorDefinition]:
    """Make an `AssetSensorDefinition` whose function runs for each new materialization of `asset_key`.

    Example:
        ```python
        @dg.asset_sensor(asset_key=dg.AssetKey("orders"), job=report_job)
        def orders_updated(context, asset_event):
            return dg.RunRequest(run_key=context.cursor)
        ```
    """

    def inner(fn: Callable[..., Any]) -> AssetSensorDefinition:
        sensor_name = name or fn.__name__

        def checked(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            if inspect.isgenerator(result) or isinstance(result, list):
                yield from result
            elif isinstance(result, RunRequest | SkipReason):
                yield result
            elif isinstance(result, SensorResult):
                if result.cursor:
                    raise DagsterInvariantViolationError(
                        f"Error in asset sensor {sensor_name}: Sensor returned a SensorResult with a cursor value. "
                        "The cursor is managed by the asset sensor and should not be modified by a user."
                    )
                yield result
            elif result is not None:
                raise DagsterInvariantViolationError(
                    f"Error in sensor {sensor_name}: Sensor unexpectedly returned output {result} of type "
                    f"{type(result)}.  Should only return SkipReason or RunRequest objects."
                )

        functools.update_wrapper(checked, fn)
        return AssetSensorDefinition(
            name=sensor_name,
            asset_key=asset_key,
            job_name=job_name,
            asset_materialization_fn=checked,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            job=job,
            jobs=jobs,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
        )

    return inner
