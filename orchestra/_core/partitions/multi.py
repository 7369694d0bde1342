"""Two-dimensional partitions: every combination of a key from each of two named definitions.

A `MultiPartitionKey` is a `str` joining the dimension keys with "|" in dimension-name order
(`{"date": "2024-01-01", "color": "red"}` -> "red|2024-01-01").
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from orchestra._core.partitions.base import (
    PartitionKeyRange,
    PartitionsDefinition,
    partition_loading_context,
)
from orchestra._core.partitions.dynamic import DynamicPartitionsDefinition
from orchestra._core.partitions.static import StaticPartitionsDefinition
from orchestra._core.partitions.tags import MULTIDIMENSIONAL_PARTITION_PREFIX, multidimensional_partition_tag
from orchestra._core.partitions.time_window import TimeWindow, TimeWindowPartitionsDefinition
from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
    DagsterUnknownPartitionError,
)

MULTIPARTITION_KEY_DELIMITER = "|"
INVALID_STATIC_PARTITIONS_KEY_CHARACTERS = {"|", ",", "[", "]"}


class PartitionDimensionKey(NamedTuple):
    dimension_name: str
    partition_key: str


class PartitionDimensionDefinition(NamedTuple):
    name: str
    partitions_def: PartitionsDefinition


class MultiPartitionKey(str):
    """A partition key of a `MultiPartitionsDefinition`: a `str` that also knows its dimensions.

    Example:
        ```python
        key = dg.MultiPartitionKey({"date": "2024-01-01", "color": "red"})
        assert key == "red|2024-01-01" and key.keys_by_dimension["date"] == "2024-01-01"
        ```
    """

    dimension_keys: list[PartitionDimensionKey]

    def __new__(cls, keys_by_dimension: Mapping[str, str]):
        if not isinstance(keys_by_dimension, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in keys_by_dimension.items()
        ):
            raise TypeError(f"Expected a mapping of dimension name to partition key, got {keys_by_dimension!r}.")
        dims = [PartitionDimensionKey(name, keys_by_dimension[name]) for name in sorted(keys_by_dimension)]
        key = super().__new__(cls, MULTIPARTITION_KEY_DELIMITER.join(d.partition_key for d in dims))
        key.dimension_keys = dims
        return key

    def __getnewargs__(self):  # pickles by dimension mapping, not by the joined string
        return (self.keys_by_dimension,)

    @property
    def keys_by_dimension(self) -> dict[str, str]:
        return {d.dimension_name: d.partition_key for d in self.dimension_keys}


def tags_for_multi_partition_key(key: MultiPartitionKey) -> dict[str, str]:
    return {multidimensional_partition_tag(d.dimension_name): d.partition_key for d in key.dimension_keys}


def multi_partition_key_from_tags(tags: Mapping[str, str]) -> MultiPartitionKey:
    return MultiPartitionKey(
        {tag[len(MULTIDIMENSIONAL_PARTITION_PREFIX) :]: value for tag, value in tags.items()
         if tag.startswith(MULTIDIMENSIONAL_PARTITION_PREFIX)}
    )


_ALLOWED_DIMENSION_TYPES = (StaticPartitionsDefinition, TimeWindowPartitionsDefinition, DynamicPartitionsDefinition)


def _check_dimensions(partitions_defs: Mapping[str, PartitionsDefinition]) -> None:
    for name, pdef in partitions_defs.items():
        if not isinstance(pdef, _ALLOWED_DIMENSION_TYPES):
            raise DagsterInvalidDefinitionError(
                f"Invalid partitions definition type {type(pdef)}. Only the following partitions "
                f"definition types are supported: {_ALLOWED_DIMENSION_TYPES}."
            )
        if isinstance(pdef, DynamicPartitionsDefinition) and pdef.name is None:
            raise DagsterInvalidDefinitionError(
                "DynamicPartitionsDefinition must have a name to be used in a MultiPartitionsDefinition."
            )
        if isinstance(pdef, StaticPartitionsDefinition) and any(
            INVALID_STATIC_PARTITIONS_KEY_CHARACTERS & set(key) for key in pdef.get_partition_keys()
        ):
            raise DagsterInvalidDefinitionError(
                f"Invalid character in partition key for dimension {name}. A multi-partitions definition "
                "cannot contain partition keys with the following characters: |, [, ], ,"
            )


class MultiPartitionsDefinition(PartitionsDefinition):
    """Partitions over two dimensions; keys are `MultiPartitionKey`s.

    Example:
        ```python
        dg.MultiPartitionsDefinition(
            {"date": dg.DailyPartitionsDefinition("2024-01-01"), "region": dg.StaticPartitionsDefinition(["us", "eu"])}
        )
        ```
    """

    def __init__(self, partitions_defs: Mapping[str, PartitionsDefinition]):
        if len(partitions_defs) != 2:
            raise DagsterInvalidInvocationError(
                "Dagster currently only supports multi-partitions definitions with 2 partitions definitions. "
                f"Your multi-partitions definition has {len(partitions_defs)} partitions definitions."
            )
        _check_dimensions(partitions_defs)
        self._dims = sorted(
            (PartitionDimensionDefinition(name, pdef) for name, pdef in partitions_defs.items()),
            key=lambda d: d.name,
        )

    @property
    def partitions_defs(self) -> Sequence[PartitionDimensionDefinition]:
        return self._dims

    @property
    def partition_dimension_names(self) -> list[str]:
        return [d.name for d in self._dims]

    def get_partitions_def_for_dimension(self, dimension_name: str) -> PartitionsDefinition:
        for dim in self._dims:
            if dim.name == dimension_name:
                return dim.partitions_def
        raise DagsterInvariantViolationError(f"Invalid dimension name {dimension_name}")

    def get_partition_key_from_str(self, partition_key_str: str) -> MultiPartitionKey:
        if isinstance(partition_key_str, MultiPartitionKey):
            return partition_key_str
        parts = partition_key_str.split(MULTIPARTITION_KEY_DELIMITER)
        if len(parts) != len(self._dims):
            raise DagsterInvariantViolationError(
                f"Expected {len(self._dims)} partition keys in partition key string {partition_key_str}, "
                f"but got {len(parts)}"
            )
        return MultiPartitionKey({dim.name: parts[i] for i, dim in enumerate(self._dims)})

    def is_valid_key_format(self, partition_key: str) -> bool:
        return len(partition_key.split(MULTIPARTITION_KEY_DELIMITER)) == len(self._dims)

    def _combine(self, sequences: Sequence[Sequence[str]], names: Sequence[str]) -> list[MultiPartitionKey]:
        return [MultiPartitionKey(dict(zip(names, combo, strict=True))) for combo in itertools.product(*sequences)]

    def get_partition_keys(self, current_time: datetime | None = None, dynamic_partitions_store=None) -> list[MultiPartitionKey]:
        with partition_loading_context(current_time, dynamic_partitions_store):
            keys = self._combine([d.partitions_def.get_partition_keys() for d in self._dims], self.partition_dimension_names)
        # a dimension key containing "|" would make an ambiguous key; such keys are left out
        return [key for key in keys if self.is_valid_key_format(key)]

    def has_partition_key(self, partition_key: str) -> bool:
        try:  # like Dagster, a MultiPartitionKey is re-read as a string with this definition's dimensions
            partition_key = self.get_partition_key_from_str(str(partition_key))
        except DagsterInvariantViolationError:
            return False
        if set(partition_key.keys_by_dimension) != set(self.partition_dimension_names):
            raise DagsterUnknownPartitionError(
                f"Invalid partition key {partition_key}. The dimensions of the partition key are not "
                "the dimensions of the partitions definition."
            )
        keys = partition_key.keys_by_dimension
        return all(dim.partitions_def.has_partition_key(keys[dim.name]) for dim in self._dims)

    def filter_valid_partition_keys(self, partition_keys: Iterable[str]) -> set[str]:
        return {
            self.get_partition_key_from_str(key) for key in partition_keys
            if self.is_valid_key_format(key) and self.has_partition_key(key)
        }

    def get_num_partitions(self) -> int:
        count = 1
        for dim in self._dims:
            count *= dim.partitions_def.get_num_partitions()
        return count

    def get_partition_keys_in_range(self, partition_key_range: PartitionKeyRange, dynamic_partitions_store=None) -> list[MultiPartitionKey]:
        with partition_loading_context(dynamic_partitions_store=dynamic_partitions_store):
            start = self.get_partition_key_from_str(partition_key_range.start).keys_by_dimension
            end = self.get_partition_key_from_str(partition_key_range.end).keys_by_dimension
            sequences = [
                d.partitions_def.get_partition_keys_in_range(PartitionKeyRange(start[d.name], end[d.name]))
                for d in self._dims
            ]
            return self._combine(sequences, self.partition_dimension_names)

    def get_tags_for_partition_key(self, partition_key: str) -> dict[str, str]:
        key = self.get_partition_key_from_str(partition_key)
        return {**super().get_tags_for_partition_key(key), **tags_for_multi_partition_key(key)}

    def get_multipartition_keys_with_dimension_value(self, dimension_name: str, dimension_partition_key: str) -> list[MultiPartitionKey]:
        return self.get_multipartition_keys_with_dimension_values(dimension_name, [dimension_partition_key])

    def get_multipartition_keys_with_dimension_values(self, dimension_name: str, dimension_partition_keys: Sequence[str]) -> list[MultiPartitionKey]:
        if dimension_name not in self.partition_dimension_names:
            raise DagsterInvariantViolationError(
                f"Dimension {dimension_name} not found in MultiPartitionsDefinition with dimensions "
                f"{self.partition_dimension_names}"
            )
        others = [d for d in self._dims if d.name != dimension_name]
        sequences = [list(dimension_partition_keys)] + [d.partitions_def.get_partition_keys() for d in others]
        return self._combine(sequences, [dimension_name] + [d.name for d in others])

    # --- the time dimension, when there is one -----------------------------------------------
    def _time_dims(self) -> list[PartitionDimensionDefinition]:
        return [d for d in self._dims if isinstance(d.partitions_def, TimeWindowPartitionsDefinition)]

    @property
    def has_time_window_dimension(self) -> bool:
        return bool(self._time_dims())

    @property
    def time_window_dimension(self) -> PartitionDimensionDefinition:
        dims = self._time_dims()
        if len(dims) != 1:
            raise DagsterInvariantViolationError("Expected exactly one time window partitioned dimension")
        return dims[0]

    @property
    def time_window_partitions_def(self) -> TimeWindowPartitionsDefinition:
        return self.time_window_dimension.partitions_def  # type: ignore[return-value]

    @property
    def primary_dimension(self) -> PartitionDimensionDefinition:
        dims = self._time_dims()
        return dims[0] if len(dims) == 1 else self._dims[0]

    @property
    def secondary_dimension(self) -> PartitionDimensionDefinition:
        primary = self.primary_dimension
        return next(d for d in self._dims if d != primary)

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        key = self.get_partition_key_from_str(partition_key)
        dim = self.time_window_dimension
        return dim.partitions_def.time_window_for_partition_key(key.keys_by_dimension[dim.name])  # type: ignore[attr-defined]

    def get_serializable_unique_identifier(self, dynamic_partitions_store=None) -> str:
        ids = {d.name: d.partitions_def.get_serializable_unique_identifier() for d in self._dims}
        return hashlib.sha1(str(ids).encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MultiPartitionsDefinition) and list(self._dims) == list(other._dims)

    def __hash__(self) -> int:
        return hash(tuple((d.name, repr(d.partitions_def)) for d in self._dims))

    def __str__(self) -> str:
        first, second = self._dims
        return (
            "Multi-partitioned, with dimensions: \n"
            f"{first.name.capitalize()}: {first.partitions_def} \n"
            f"{second.name.capitalize()}: {second.partitions_def}"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dimensions={[str(d) for d in self._dims]}"

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "kind": "multi",
            "dimensions": [{"name": d.name, "partitions_def": d.partitions_def.to_snapshot()} for d in self._dims],
        }
