"""Partitioned job config: run config (and tags) computed from a partition key."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from orchestra._core.partitions.base import Partition, PartitionsDefinition
from orchestra._core.partitions.cadences import (
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from orchestra._core.partitions.dynamic import DynamicPartitionsDefinition
from orchestra._core.partitions.static import StaticPartitionsDefinition
from orchestra._core.partitions.tags import PARTITION_SET_TAG
from orchestra._errors import DagsterInvalidInvocationError, DagsterInvariantViolationError


def _plain_config(value: Any) -> Any:
    from orchestra._config.run_config import convert_config_input

    return convert_config_input(value)


class PartitionedConfig:
    """Run config that depends on the partition a run targets.

    Usually built with a decorator (`@dg.daily_partitioned_config(...)`, `@dg.static_partitioned_config(...)`)
    and passed as a job's `config`.

    Example:
        ```python
        @dg.static_partitioned_config(partition_keys=["us", "eu"])
        def region_config(partition_key: str):
            return {"ops": {"load": {"config": {"region": partition_key}}}}
        ```
    """

    def __init__(
        self,
        partitions_def: PartitionsDefinition,
        run_config_for_partition_fn: Callable[[Partition], Mapping[str, Any]] | None = None,
        decorated_fn: Callable[..., Any] | None = None,
        tags_for_partition_fn: Callable[[Partition], Mapping[str, str]] | None = None,
        run_config_for_partition_key_fn: Callable[[str], Any] | None = None,
        tags_for_partition_key_fn: Callable[[str], Mapping[str, str]] | None = None,
    ):
        if not isinstance(partitions_def, PartitionsDefinition):
            raise TypeError(f'Param "partitions_def" is not a PartitionsDefinition. Got {partitions_def!r}.')
        if bool(run_config_for_partition_fn) == bool(run_config_for_partition_key_fn):
            raise DagsterInvariantViolationError(
                "Must provide exactly one of run_config_for_partition_fn or run_config_for_partition_key_fn"
            )
        if tags_for_partition_fn and tags_for_partition_key_fn:
            raise DagsterInvariantViolationError(
                "Cannot provide both of tags_for_partition_fn or tags_for_partition_key_fn"
            )
        self._partitions = partitions_def
        self._decorated_fn = decorated_fn
        self._run_config_for_partition_fn = run_config_for_partition_fn
        self._run_config_for_partition_key_fn = run_config_for_partition_key_fn
        self._tags_for_partition_fn = tags_for_partition_fn
        self._tags_for_partition_key_fn = tags_for_partition_key_fn

    @property
    def partitions_def(self) -> PartitionsDefinition:
        return self._partitions

    @property
    def run_config_for_partition_fn(self):
        return self._run_config_for_partition_fn

    @property
    def run_config_for_partition_key_fn(self):
        return self._run_config_for_partition_key_fn

    @property
    def tags_for_partition_fn(self):
        return self._tags_for_partition_fn

    @property
    def tags_for_partition_key_fn(self):
        return self._tags_for_partition_key_fn

    def get_partition_keys(self, current_time: datetime | None = None) -> Sequence[str]:
        return self.partitions_def.get_partition_keys(current_time)

    def get_run_config_for_partition_key(self, partition_key: str) -> Mapping[str, Any]:
        """The run config for `partition_key` (a deep copy, with `RunConfig` objects made plain)."""
        if self._run_config_for_partition_fn is not None:
            run_config = self._run_config_for_partition_fn(Partition(partition_key))
        else:
            run_config = self._run_config_for_partition_key_fn(partition_key)  # type: ignore[misc]
        return copy.deepcopy(_plain_config(run_config))

    def get_tags_for_partition_key(self, partition_key: str, job_name: str | None = None) -> Mapping[str, str]:
        """User tags for the partition, then the system tags (`dagster/partition`, ...) on top."""
        if self._tags_for_partition_fn is not None:
            user_tags = self._tags_for_partition_fn(Partition(partition_key))
        elif self._tags_for_partition_key_fn is not None:
            user_tags = self._tags_for_partition_key_fn(partition_key)
        else:
            user_tags = {}
        system_tags = dict(self.partitions_def.get_tags_for_partition_key(partition_key))
        if job_name:
            system_tags[PARTITION_SET_TAG] = f"{job_name}_partition_set"
        return {**{str(k): str(v) for k, v in (user_tags or {}).items()}, **system_tags}

    @classmethod
    def from_flexible_config(cls, config: Any, partitions_def: PartitionsDefinition) -> PartitionedConfig:
        if isinstance(config, PartitionedConfig):
            if config.partitions_def != partitions_def:
                raise DagsterInvariantViolationError(
                    "Can't supply a PartitionedConfig for 'config' with a different PartitionsDefinition "
                    "than supplied for 'partitions_def'."
                )
            return config
        if config is not None and type(config).__name__ == "ConfigMapping":
            raise DagsterInvariantViolationError(
                "Can't supply a ConfigMapping for 'config' when 'partitions_def' is supplied."
            )
        fixed = config or {}
        return cls(partitions_def, run_config_for_partition_key_fn=lambda _key: fixed)

    def __call__(self, *args, **kwargs):
        if self._decorated_fn is None:
            raise DagsterInvalidInvocationError(
                "Only PartitionedConfig objects created using one of the partitioned config decorators "
                "can be directly invoked."
            )
        return self._decorated_fn(*args, **kwargs)


def partitioned_config(
    partitions_def: PartitionsDefinition,
    tags_for_partition_key_fn: Callable[[str], Mapping[str, str]] | None = None,
) -> Callable[[Callable[[str], Any]], PartitionedConfig]:
    """Decorate a function of a partition key that returns run config.

    Example:
        ```python
        @dg.partitioned_config(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
        def my_config(partition_key: str):
            return {"ops": {"op1": {"config": {"key": partition_key}}}}
        ```
    """

    def inner(fn: Callable[[str], Any]) -> PartitionedConfig:
        return PartitionedConfig(
            partitions_def=partitions_def,
            run_config_for_partition_key_fn=fn,
            decorated_fn=fn,
            tags_for_partition_key_fn=tags_for_partition_key_fn,
        )

    return inner


def static_partitioned_config(
    partition_keys: Sequence[str],
    tags_for_partition_fn: Callable[[str], Mapping[str, str]] | None = None,
    tags_for_partition_key_fn: Callable[[str], Mapping[str, str]] | None = None,
) -> Callable[[Callable[[str], Any]], PartitionedConfig]:
    """Partitioned config over a fixed list of keys; the function receives the partition key."""
    tags_fn = tags_for_partition_key_fn or tags_for_partition_fn
    return partitioned_config(StaticPartitionsDefinition(partition_keys), tags_for_partition_key_fn=tags_fn)


def dynamic_partitioned_config(
    partition_fn: Callable[[datetime | None], Sequence[str]],
    tags_for_partition_fn: Callable[[str], Mapping[str, str]] | None = None,
    tags_for_partition_key_fn: Callable[[str], Mapping[str, str]] | None = None,
) -> Callable[[Callable[[str], Any]], PartitionedConfig]:
    """Partitioned config whose keys come from `partition_fn(current_time)`."""
    if not callable(partition_fn):
        raise TypeError(f'Param "partition_fn" is not callable. Got {partition_fn!r}.')
    tags_fn = tags_for_partition_key_fn or tags_for_partition_fn
    return partitioned_config(DynamicPartitionsDefinition(partition_fn), tags_for_partition_key_fn=tags_fn)


def _time_window_config(partitions_def, tags_for_partition_fn):
    def inner(fn: Callable[[datetime, datetime], Any]) -> PartitionedConfig:
        if not callable(fn):
            raise TypeError(f'Param "fn" is not callable. Got {fn!r}.')

        def run_config_for_key(partition_key: str) -> Any:
            window = partitions_def.time_window_for_partition_key(partition_key)
            return fn(window.start, window.end)

        def tags_for_key(partition_key: str) -> Mapping[str, str]:
            window = partitions_def.time_window_for_partition_key(partition_key)
            return tags_for_partition_fn(window.start, window.end)

        return PartitionedConfig(
            partitions_def=partitions_def,
            run_config_for_partition_key_fn=run_config_for_key,
            decorated_fn=fn,
            tags_for_partition_key_fn=tags_for_key if tags_for_partition_fn else None,
        )

    return inner


def hourly_partitioned_config(
    start_date: datetime | str,
    minute_offset: int = 0,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: Callable[[datetime, datetime], Mapping[str, str]] | None = None,
    exclusions: Sequence[str | datetime] | None = None,
):
    """Hourly partitioned config; the function receives each window's start and end datetimes."""
    partitions_def = HourlyPartitionsDefinition(
        start_date=start_date, minute_offset=minute_offset, timezone=timezone, fmt=fmt,
        end_offset=end_offset, exclusions=exclusions,
    )
    return _time_window_config(partitions_def, tags_for_partition_fn)


def daily_partitioned_config(
    start_date: datetime | str,
    minute_offset: int = 0,
    hour_offset: int = 0,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: Callable[[datetime, datetime], Mapping[str, str]] | None = None,
    exclusions: Sequence[str | datetime] | None = None,
):
    """Daily partitioned config; the function receives each window's start and end datetimes.

    Example:
        ```python
        @dg.daily_partitioned_config(start_date="2024-01-01")
        def my_config(start: datetime, end: datetime):
            return {"ops": {"process": {"config": {"date": start.strftime("%Y-%m-%d")}}}}
        ```
    """
    partitions_def = DailyPartitionsDefinition(
        start_date=start_date, minute_offset=minute_offset, hour_offset=hour_offset, timezone=timezone,
        fmt=fmt, end_offset=end_offset, exclusions=exclusions,
    )
    return _time_window_config(partitions_def, tags_for_partition_fn)


def weekly_partitioned_config(
    start_date: datetime | str,
    minute_offset: int = 0,
    hour_offset: int = 0,
    day_offset: int = 0,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: Callable[[datetime, datetime], Mapping[str, str]] | None = None,
    exclusions: Sequence[str | datetime] | None = None,
):
    """Weekly partitioned config; the function receives each window's start and end datetimes."""
    partitions_def = WeeklyPartitionsDefinition(
        start_date=start_date, minute_offset=minute_offset, hour_offset=hour_offset, day_offset=day_offset,
        timezone=timezone, fmt=fmt, end_offset=end_offset, exclusions=exclusions,
    )
    return _time_window_config(partitions_def, tags_for_partition_fn)


def monthly_partitioned_config(
    start_date: datetime | str,
    minute_offset: int = 0,
    hour_offset: int = 0,
    day_offset: int = 1,
    timezone: str | None = None,
    fmt: str | None = None,
    end_offset: int = 0,
    tags_for_partition_fn: Callable[[datetime, datetime], Mapping[str, str]] | None = None,
    exclusions: Sequence[str | datetime] | None = None,
):
    """Monthly partitioned config; the function receives each window's start and end datetimes."""
    partitions_def = MonthlyPartitionsDefinition(
        start_date=start_date, minute_offset=minute_offset, hour_offset=hour_offset, day_offset=day_offset,
        timezone=timezone, fmt=fmt, end_offset=end_offset, exclusions=exclusions,
    )
    return _time_window_config(partitions_def, tags_for_partition_fn)
