"""Partition mappings: which upstream partitions a downstream partition reads, and the reverse.

Every mapping implements two key-level methods:

* `map_to_upstream(downstream_keys, downstream_def, upstream_def)` -> `UpstreamPartitionsResult`
  (the upstream keys, plus keys the mapping asks for that the upstream definition lacks);
* `map_to_downstream(upstream_keys, upstream_def, downstream_def)` -> downstream keys.

Dagster's method names (`get_upstream_mapped_partitions_result_for_partitions`,
`get_downstream_partitions_for_partitions`) accept a subset or any iterable of keys and call them.
Keys come back in the target definition's order. Multi-dimensional mappings live in `mapping_multi.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from orchestra._core.partitions.base import (
    PartitionKeysSubset,
    PartitionsDefinition,
    partition_loading_context,
)
from orchestra._core.partitions.static import StaticPartitionsDefinition
from orchestra._core.partitions.time_window import TimeWindow, TimeWindowPartitionsDefinition
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


class UpstreamPartitionsResult(NamedTuple):
    partitions_subset: PartitionKeysSubset
    required_but_nonexistent_subset: PartitionKeysSubset

    @property
    def partition_keys(self) -> list[str]:
        return list(self.partitions_subset)

    @property
    def required_but_nonexistent_partition_keys(self) -> list[str]:
        return list(self.required_but_nonexistent_subset)


def ordered_keys(partitions_def: PartitionsDefinition | None, keys: Iterable[str]) -> PartitionKeysSubset:
    """`keys` without duplicates, in `partitions_def`'s order (time order for time windows)."""
    unique = list(dict.fromkeys(keys))
    if isinstance(partitions_def, TimeWindowPartitionsDefinition):
        try:
            unique.sort(key=lambda k: partitions_def.start_time_for_partition_key(k).timestamp())
        except ValueError:
            pass
    elif isinstance(partitions_def, StaticPartitionsDefinition):
        position = {k: i for i, k in enumerate(partitions_def.get_partition_keys())}
        unique.sort(key=lambda k: (position.get(k, len(position)), k))
    return PartitionKeysSubset(unique)


def _keys(subset: Any) -> list[str] | None:
    if subset is None:
        return None
    if hasattr(subset, "get_partition_keys"):
        return list(subset.get_partition_keys())
    if isinstance(subset, str):
        return [subset]
    return list(subset)


def _all_keys(partitions_def: PartitionsDefinition | None) -> list[str]:
    return list(partitions_def.get_partition_keys()) if partitions_def is not None else []


class PartitionMapping(ABC):
    """How the partitions of a downstream asset depend on the partitions of an upstream asset."""

    @abstractmethod
    def map_to_upstream(
        self,
        downstream_partition_keys: Sequence[str] | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
    ) -> UpstreamPartitionsResult:
        """The upstream keys the given downstream keys read (None: the downstream is unpartitioned)."""

    @abstractmethod
    def map_to_downstream(
        self,
        upstream_partition_keys: Sequence[str],
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> PartitionKeysSubset:
        """The downstream keys that read any of the given upstream keys."""

    def validate_partition_mapping(
        self, upstream_partitions_def: PartitionsDefinition, downstream_partitions_def: PartitionsDefinition | None
    ) -> None:
        """Raise if this mapping cannot connect these two definitions."""
        return None

    @property
    def description(self) -> str:
        return ""

    # --- Dagster's names ---------------------------------------------------------------------
    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset: Any,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> UpstreamPartitionsResult:
        with partition_loading_context(current_time, dynamic_partitions_store):
            return self.map_to_upstream(
                _keys(downstream_partitions_subset), downstream_partitions_def, upstream_partitions_def
            )

    def get_downstream_partitions_for_partitions(
        self,
        upstream_partitions_subset: Any,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition | None,
        current_time: datetime | None = None,
        dynamic_partitions_store: Any = None,
    ) -> PartitionKeysSubset:
        with partition_loading_context(current_time, dynamic_partitions_store):
            keys = _keys(upstream_partitions_subset)
            if keys is None:
                raise DagsterInvariantViolationError("upstream asset is not partitioned")
            return self.map_to_downstream(keys, upstream_partitions_def, downstream_partitions_def)

    def to_snapshot(self) -> dict[str, Any]:
        return {"kind": type(self).__name__}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_snapshot() == other.to_snapshot()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


_EMPTY = PartitionKeysSubset()


class IdentityPartitionMapping(PartitionMapping):
    """Each downstream partition reads the upstream partition with the same key."""

    def validate_partition_mapping(self, upstream_partitions_def, downstream_partitions_def) -> None:
        if type(upstream_partitions_def) is not type(downstream_partitions_def):
            raise DagsterInvalidDefinitionError(
                "Upstream and downstream partitions definitions must match, or a different partition mapping "
                f"must be provided. Got upstream definition {type(upstream_partitions_def)} and downstream "
                f"definition {type(downstream_partitions_def)}"
            )

    def map_to_upstream(self, downstream_partition_keys, downstream_partitions_def, upstream_partitions_def):
        if downstream_partition_keys is None:
            raise DagsterInvariantViolationError("downstream asset is not partitioned")
        if downstream_partitions_def == upstream_partitions_def:
            return UpstreamPartitionsResult(ordered_keys(upstream_partitions_def, downstream_partition_keys), _EMPTY)
        present = [k for k in downstream_partition_keys if upstream_partitions_def.has_partition_key(k)]
        missing = [k for k in downstream_partition_keys if k not in set(present)]
        return UpstreamPartitionsResult(
            ordered_keys(upstream_partitions_def, present), ordered_keys(downstream_partitions_def, missing)
        )

    def map_to_downstream(self, upstream_partition_keys, upstream_partitions_def, downstream_partitions_def):
        if upstream_partitions_def == downstream_partitions_def or downstream_partitions_def is None:
            return ordered_keys(downstream_partitions_def, upstream_partition_keys)
        return ordered_keys(
            downstream_partitions_def,
            [k for k in upstream_partition_keys if downstream_partitions_def.has_partition_key(k)],
        )

    @property
    def description(self) -> str:
        return (
            "Assumes upstream and downstream assets share the same partitions definition. "
            "Maps each partition in the downstream asset to the same partition in the upstream asset."
        )


class AllPartitionMapping(PartitionMapping):
    """Each downstream partition reads every upstream partition."""

    def map_to_upstream(self, downstream_partition_keys, downstream_partitions_def, upstream_partitions_def):
        return UpstreamPartitionsResult(PartitionKeysSubset(_all_keys(upstream_partitions_def)), _EMPTY)

    def map_to_downstream(self, upstream_partition_keys, upstream_partitions_def, downstream_partitions_def):
        if not upstream_partition_keys:
            return _EMPTY
        return PartitionKeysSubset(_all_keys(downstream_partitions_def))

    @property
    def description(self) -> str:
        return "Each downstream partition depends on all partitions of the upstream asset."


class LastPartitionMapping(PartitionMapping):
    """Each downstream partition reads the latest upstream partition."""

    def map_to_upstream(self, downstream_partition_keys, downstream_partitions_def, upstream_partitions_def):
        last = upstream_partitions_def.get_last_partition_key()
        return UpstreamPartitionsResult(PartitionKeysSubset([last] if last is not None else []), _EMPTY)

    def map_to_downstream(self, upstream_partition_keys, upstream_partitions_def, downstream_partitions_def):
        last = upstream_partitions_def.get_last_partition_key()
        if last is not None and last in upstream_partition_keys:
            return PartitionKeysSubset(_all_keys(downstream_partitions_def))
        return _EMPTY

    @property
    def description(self) -> str:
        return "Each downstream partition depends on the last partition of the upstream asset."


class SpecificPartitionsPartitionMapping(PartitionMapping):
    """Each downstream partition reads the listed upstream partitions.

    Example:
        ```python
        dg.AssetIn(partition_mapping=dg.SpecificPartitionsPartitionMapping(["us"]))
        ```
    """

    def __init__(self, partition_keys: Sequence[str]):
        self.partition_keys = list(partition_keys)

    def map_to_upstream(self, downstream_partition_keys, downstream_partitions_def, upstream_partitions_def):
        return UpstreamPartitionsResult(ordered_keys(upstream_partitions_def, self.partition_keys), _EMPTY)

    def map_to_downstream(self, upstream_partition_keys, upstream_partitions_def, downstream_partitions_def):
        if any(key in upstream_partition_keys for key in self.partition_keys):
            return PartitionKeysSubset(_all_keys(downstream_partitions_def))
        return _EMPTY

    @property
    def description(self) -> str:
        return f"Each downstream partition depends on the following upstream partitions: {self.partition_keys}"

    def to_snapshot(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, "partition_keys": self.partition_keys}

    def __repr__(self) -> str:
        return f"SpecificPartitionsPartitionMapping(partition_keys={self.partition_keys})"


class StaticPartitionMapping(PartitionMapping):
    """Maps upstream keys of a static definition to downstream keys of another, explicitly.

    Example:
        ```python
        dg.StaticPartitionMapping({"a": ["x", "y"], "b": "z"})  # upstream "a" feeds "x" and "y"
        ```
    """

    def __init__(self, downstream_partition_keys_by_upstream_partition_key: Mapping[str, str | Collection[str]]):
        self.downstream_partition_keys_by_upstream_partition_key = downstream_partition_keys_by_upstream_partition_key
        self._mapping: dict[str, set[str]] = {
            up: ({down} if isinstance(down, str) else set(down))
            for up, down in downstream_partition_keys_by_upstream_partition_key.items()
        }
        self._inverse: dict[str, set[str]] = {}
        for up, downs in self._mapping.items():
            for down in downs:
                self._inverse.setdefault(down, set()).add(up)

    def _check(self, partitions_def, keys, what: str, direction: str) -> None:
        if not isinstance(partitions_def, StaticPartitionsDefinition):
            raise DagsterInvariantViolationError(
                "StaticPartitionMapping can only be defined between two StaticPartitionsDefinitions"
            )
        extra = set(keys).difference(partitions_def.get_partition_keys())
        if extra:
            raise ValueError(f"mapping {direction} partitions not in the {what} partitions definition: {extra}")

    def validate_partition_mapping(self, upstream_partitions_def, downstream_partitions_def) -> None:
        if not isinstance(upstream_partitions_def, StaticPartitionsDefinition):
            raise DagsterInvalidDefinitionError("Upstream partitions definition must be a StaticPartitionsDefinition")
        if not isinstance(downstream_partitions_def, StaticPartitionsDefinition):
            raise DagsterInvalidDefinitionError(
                "Downstream partitions definition must be a StaticPartitionsDefinition"
            )
        self._check(upstream_partitions_def, self._mapping, "upstream", "source")
        self._check(downstream_partitions_def, self._inverse, "downstream", "target")

    def map_to_upstream(self, downstream_partition_keys, downstream_partitions_def, upstream_partitions_def):
        self._check(upstream_partitions_def, self._mapping, "upstream", "source")
        if downstream_partition_keys is None:
            return UpstreamPartitionsResult(_EMPTY, _EMPTY)
        found = [up for key in downstream_partition_keys for up in self._inverse.get(key, ())]
        return UpstreamPartitionsResult(ordered_keys(upstream_partitions_def, found), _EMPTY)

    def map_to_downstream(self, upstream_partition_keys, upstream_partitions_def, downstream_partitions_def):
        self._check(downstream_partitions_def, self._inverse, "downstream", "target")
        found = [down for key in upstream_partition_keys for down in self._mapping.get(key, ())]
        return ordered_keys(downstream_partitions_def, found)

    @property
    def description(self) -> str:
        return (
            "Maps upstream partitions to their downstream dependencies according to the following mapping: \n"
            f"{self.downstream_partition_keys_by_upstream_partition_key}"
        )

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "kind": type(self).__name__,
            "downstream_partition_keys_by_upstream_partition_key": {
                up: sorted(downs) for up, downs in self._mapping.items()
            },
        }

    def __repr__(self) -> str:
        return (
            "StaticPartitionMapping(downstream_partition_keys_by_upstream_partition_key="
            f"{self.downstream_partition_keys_by_upstream_partition_key})"
        )


class TimeWindowPartitionMapping(PartitionMapping):
    """Maps a downstream time window to every upstream window overlapping it (the default for time partitions).

    Args:
        start_offset: Shift the start of the upstream range by this many downstream windows
            (-1: also read the previous window).
        end_offset: Shift the end of the upstream range by this many downstream windows.
        allow_nonexistent_upstream_partitions: Do not report upstream windows outside the upstream
            definition's range as required-but-missing.

    Example:
        ```python
        dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1))  # yesterday
        ```
    """

    def __init__(self, start_offset: int = 0, end_offset: int = 0, allow_nonexistent_upstream_partitions: bool = False):
        for name, value in (("start_offset", start_offset), ("end_offset", end_offset)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f'Param "{name}" is not a int. Got {value!r} which is type {type(value)}.')
        if not isinstance(allow_nonexistent_upstream_partitions, bool):
            raise TypeError('Param "allow_nonexistent_upstream_partitions" is not a bool.')
        self.start_offset = start_offset
        self.end_offset = end_offset
        self.allow_nonexistent_upstream_partitions = allow_nonexistent_upstream_partitions

    def __repr__(self) -> str:
        return (
            f"TimeWindowPartitionMapping(start_offset={self.start_offset}, end_offset={self.end_offset}, "
            f"allow_nonexistent_upstream_partitions={self.allow_nonexistent_upstream_partitions})"
        )

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "kind": type(self).__name__,
            "start_offset": self.start_offset,
            "end_offset": self.end_offset,
            "allow_nonexistent_upstream_partitions": self.allow_nonexistent_upstream_partitions,
        }

    @property
    def description(self) -> str:
        text = "Maps a downstream partition to any upstream partition with an overlapping time window."
        if self.start_offset or self.end_offset:
            text += (
                " The start and end of the upstream time window is offsetted by "
                f"{self.start_offset} and {self.end_offset} partitions respectively."
            )
        return text

    def validate_partition_mapping(self, upstream_partitions_def, downstream_partitions_def) -> None:
        if not isinstance(downstream_partitions_def, TimeWindowPartitionsDefinition):
            raise DagsterInvalidDefinitionError("Downstream partitions definition must be a TimeWindowPartitionsDefinition")
        if not isinstance(upstream_partitions_def, TimeWindowPartitionsDefinition):
            raise DagsterInvalidDefinitionError("Upstream partitions definition must be a TimeWindowPartitionsDefinition")
        if upstream_partitions_def.timezone != downstream_partitions_def.timezone:
            raise DagsterInvalidDefinitionError(
                f"Timezones {upstream_partitions_def.timezone} and {downstream_partitions_def.timezone} don't match"
            )

    def map_to_upstream(self, downstream_partition_keys, downstream_partitions_def, upstream_partitions_def):
        if downstream_partition_keys is None:
            raise DagsterInvariantViolationError("downstream asset is not partitioned")
        return _map_time_windows(
            downstream_partitions_def, upstream_partitions_def, downstream_partition_keys,
            self.start_offset, self.end_offset, to_upstream=True,
            report_missing=not self.allow_nonexistent_upstream_partitions,
        )

    def map_to_downstream(self, upstream_partition_keys, upstream_partitions_def, downstream_partitions_def):
        return _map_time_windows(
            upstream_partitions_def, downstream_partitions_def, upstream_partition_keys,
            -self.end_offset, -self.start_offset, to_upstream=False, report_missing=False,
        ).partitions_subset


def _require_time_def(partitions_def: Any, role: str) -> TimeWindowPartitionsDefinition:
    if not isinstance(partitions_def, TimeWindowPartitionsDefinition):
        raise DagsterInvariantViolationError(f"{role} must be a TimeWindowPartitionsDefinition")
    return partitions_def


def _shift(partitions_def: TimeWindowPartitionsDefinition, dt: datetime, offset: int) -> datetime:
    """`dt` moved by `offset` windows of `partitions_def` (ignoring its bounds)."""
    if offset and partitions_def.is_basic_daily:
        return dt + timedelta(days=offset)  # wall-clock days: midnight stays midnight across DST
    if offset and partitions_def.is_basic_hourly:
        return datetime.fromtimestamp(dt.timestamp() + 3600 * offset, dt.tzinfo)
    for _ in range(abs(offset)):
        if offset < 0:
            dt = partitions_def.get_prev_partition_window(dt, respect_bounds=False).start  # type: ignore[union-attr]
        else:
            dt = partitions_def.get_next_partition_window(dt, respect_bounds=False).end  # type: ignore[union-attr]
    return dt


def _merged_windows(partitions_def: TimeWindowPartitionsDefinition, keys: Iterable[str]) -> list[TimeWindow]:
    windows = sorted((partitions_def.time_window_for_partition_key(k) for k in set(keys)), key=lambda w: w.start.timestamp())
    merged: list[TimeWindow] = []
    for window in windows:
        if merged and window.start.timestamp() <= merged[-1].end.timestamp():
            if window.end.timestamp() > merged[-1].end.timestamp():
                merged[-1] = TimeWindow(merged[-1].start, window.end)
        else:
            merged.append(window)
    return merged


def _map_time_windows(from_def, to_def, keys, start_offset: int, end_offset: int, *, to_upstream: bool, report_missing: bool) -> UpstreamPartitionsResult:
    from_def = _require_time_def(from_def, "from_partitions_def")
    to_def = _require_time_def(to_def, "to_partitions_def")
    if from_def.timezone != to_def.timezone:
        raise DagsterInvalidDefinitionError(f"Timezones {to_def.timezone} and {from_def.timezone} don't match")
    if not keys:
        return UpstreamPartitionsResult(_EMPTY, _EMPTY)
    if not start_offset and not end_offset and from_def == to_def:
        return UpstreamPartitionsResult(ordered_keys(to_def, keys), _EMPTY)
    first, last = to_def.get_first_partition_window(), to_def.get_last_partition_window()
    bounds = TimeWindow(first.start, last.end) if first is not None and last is not None else None

    def bounded_shift(partitions_def, dt, offset):
        moved = _shift(partitions_def, dt, offset)
        if bounds is not None and offset < 0 and moved.timestamp() < bounds.start.timestamp():
            return bounds.start
        if bounds is not None and offset > 0 and moved.timestamp() > bounds.end.timestamp():
            return bounds.end
        return moved

    aligned_directly = from_def.cron_schedule == to_def.cron_schedule or (
        from_def.is_basic_daily and to_def.is_basic_hourly
    )
    targets: list[TimeWindow] = []
    for window in _merged_windows(from_def, keys):
        start, end = window
        if to_upstream:
            start, end = bounded_shift(from_def, start, start_offset), bounded_shift(from_def, end, end_offset)
        if not aligned_directly:
            start_key = to_def.get_partition_key_for_timestamp(start.timestamp(), end_closed=False)
            end_key = to_def.get_partition_key_for_timestamp(end.timestamp(), end_closed=True)
            start, end = to_def.start_time_for_partition_key(start_key), to_def.end_time_for_partition_key(end_key)
        if not to_upstream:
            start, end = bounded_shift(to_def, start, start_offset), bounded_shift(to_def, end, end_offset)
        if start.timestamp() < end.timestamp():
            targets.append(TimeWindow(start, end))

    found: list[str] = []
    missing: list[str] = []
    for start, end in targets:
        s, e = start.timestamp(), end.timestamp()
        if first is not None and last is not None and s <= last.start.timestamp() and e >= first.end.timestamp():
            clipped = TimeWindow(max(start, first.start, key=datetime.timestamp), min(end, last.end, key=datetime.timestamp))
            found.extend(to_def.get_partition_keys_in_time_window(clipped))
        if not report_missing:
            continue
        invalid = None
        if first is None or last is None or (s < first.start.timestamp() and e > last.end.timestamp()):
            invalid = TimeWindow(start, end)
        elif s < first.start.timestamp():
            invalid = TimeWindow(start, min(end, first.start, key=datetime.timestamp))
        elif e > last.end.timestamp():
            invalid = TimeWindow(max(start, last.end, key=datetime.timestamp), end)
        if invalid is not None:
            missing.extend(to_def.get_partition_keys_in_time_window(invalid))
    return UpstreamPartitionsResult(ordered_keys(to_def, found), ordered_keys(to_def, missing))
