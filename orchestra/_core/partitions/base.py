"""The partitions base class, key ranges, and the context that supplies "now" and dynamic keys."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NamedTuple, Protocol, runtime_checkable

from orchestra._core.partitions.tags import PARTITION_NAME_TAG
from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterUnknownPartitionError,
)

# "..." separates the ends of a range in the UI; control characters do not display.
INVALID_PARTITION_SUBSTRINGS = ["...", "\a", "\b", "\f", "\n", "\r", "\t", "\v", "\0"]


@runtime_checkable
class DynamicPartitionsStore(Protocol):
    """Where the keys of `DynamicPartitionsDefinition(name=...)` live (the instance implements it).

    Both methods are called with positional arguments, in Dagster's order.
    """

    def get_dynamic_partitions(self, partitions_def_name: str) -> Sequence[str]: ...

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool: ...


class PartitionKeyRange(NamedTuple):
    """An inclusive range of partition keys, from `start` to `end`.

    Example:
        ```python
        dg.PartitionKeyRange(start="2024-01-01", end="2024-01-31")
        ```
    """

    start: str
    end: str


class Partition:
    """A legacy wrapper pairing a partition's value with its name (the partition key)."""

    def __init__(self, value: Any, name: str | None = None):
        self._value = value
        self._name = name or str(value)
        if not isinstance(self._name, str):
            raise TypeError(f'Param "name" is not a str. Got {self._name!r}.')

    @property
    def value(self) -> Any:
        return self._value

    @property
    def name(self) -> str:
        return self._name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Partition) and (self.value, self.name) == (other.value, other.name)

    __hash__ = None  # type: ignore[assignment]


class PartitionLoadingContext(NamedTuple):
    """The time partitions are evaluated at, and the store that holds dynamic partition keys."""

    effective_dt: datetime
    dynamic_partitions_store: DynamicPartitionsStore | None = None


_current_context: ContextVar[PartitionLoadingContext | None] = ContextVar(
    "orchestra_partition_loading_context", default=None
)


def current_loading_context() -> PartitionLoadingContext:
    ctx = _current_context.get()
    if ctx is None:
        return PartitionLoadingContext(datetime.now(UTC), None)
    return ctx


@contextmanager
def partition_loading_context(
    effective_dt: datetime | None = None,
    dynamic_partitions_store: DynamicPartitionsStore | None = None,
    *,
    new_ctx: PartitionLoadingContext | None = None,
) -> Iterator[PartitionLoadingContext]:
    """Fix the current time and/or the dynamic partitions store for partition calls in the block.

    Values not given are inherited from an enclosing block (the current time defaults to now).

    Example:
        ```python
        with dg.partition_loading_context(effective_dt=datetime(2024, 1, 5)):
            daily_def.get_last_partition_key()  # "2024-01-04"
        ```
    """
    if new_ctx is None:
        outer = _current_context.get()
        new_ctx = PartitionLoadingContext(
            effective_dt or (outer.effective_dt if outer else datetime.now(UTC)),
            dynamic_partitions_store or (outer.dynamic_partitions_store if outer else None),
        )
    token = _current_context.set(new_ctx)
    try:
        yield new_ctx
    finally:
        _current_context.reset(token)


def check_valid_partition_keys(partition_keys: Sequence[str]) -> None:
    for key in partition_keys:
        found = [bad for bad in INVALID_PARTITION_SUBSTRINGS if bad in key]
        if found:
            raise DagsterInvalidDefinitionError(f"{found} are invalid substrings in a partition key")
    seen: dict[str, int] = {}
    for key in partition_keys:
        seen[key] = seen.get(key, 0) + 1
    duplicates = [key for key, count in seen.items() if count > 1]
    if duplicates:
        raise DagsterInvalidDefinitionError(
            f"Partition keys must be unique. Duplicate instances of partition keys: {duplicates}."
        )


def keys_based_identifier(partition_keys: Sequence[str]) -> str:
    return hashlib.sha1(json.dumps(list(partition_keys)).encode("utf-8")).hexdigest()


class PaginatedResults(NamedTuple):
    """One page of partition keys; pass `cursor` back to get the next page."""

    results: list[str]
    cursor: str
    has_more: bool


class PartitionKeysSubset(tuple):
    """An ordered, duplicate-free tuple of partition keys with the subset methods Dagster code calls."""

    def get_partition_keys(self, current_time: datetime | None = None) -> list[str]:
        return list(self)

    def with_partition_keys(self, partition_keys: Iterable[str]) -> PartitionKeysSubset:
        return PartitionKeysSubset(dict.fromkeys([*self, *partition_keys]))

    @property
    def is_empty(self) -> bool:
        return not self


class PartitionsDefinition(ABC):
    """The set of partitions of an asset or job; a partition is named by its string key.

    Subclasses: time windows (`DailyPartitionsDefinition`, ...), `StaticPartitionsDefinition`,
    `DynamicPartitionsDefinition` and `MultiPartitionsDefinition`.
    """

    @abstractmethod
    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """Every partition key, in order, as of `current_time` (default: now)."""

    def __str__(self) -> str:
        return ", ".join(f"'{key}'" for key in self.get_partition_keys())

    def get_last_partition_key(self) -> str | None:
        keys = self.get_partition_keys()
        return keys[-1] if keys else None

    def get_first_partition_key(self) -> str | None:
        keys = self.get_partition_keys()
        return keys[0] if keys else None

    def get_partition_keys_in_range(self, partition_key_range: PartitionKeyRange) -> Sequence[str]:
        start, end = partition_key_range.start, partition_key_range.end
        exists = {start: self.has_partition_key(start), end: self.has_partition_key(end)}
        if not all(exists.values()):
            missing = [key for key, ok in exists.items() if not ok]
            raise DagsterInvalidInvocationError(
                f"Partition range {start} to {end} is\n                not a valid range. Nonexistent "
                f"partition keys:\n                {missing}"
            )
        if start == end:
            return [start]
        keys = list(self.get_partition_keys())
        return keys[keys.index(start) : keys.index(end) + 1]

    def get_paginated_partition_keys(
        self, context: PartitionLoadingContext | None, limit: int, ascending: bool, cursor: str | None = None
    ) -> PaginatedResults:
        """A page of at most `limit` keys, oldest first when `ascending`; the cursor counts keys already seen."""
        with partition_loading_context(new_ctx=context):
            keys = list(self.get_partition_keys())
        if not ascending:
            keys.reverse()
        offset = int(cursor) if cursor else 0
        page = keys[offset : offset + limit]
        return PaginatedResults(page, str(offset + len(page)), offset + len(page) < len(keys))

    def empty_subset(self) -> PartitionKeysSubset:
        return PartitionKeysSubset()

    def subset_with_partition_keys(self, partition_keys: Iterable[str]) -> PartitionKeysSubset:
        return PartitionKeysSubset(dict.fromkeys(partition_keys))

    def subset_with_all_partitions(self) -> PartitionKeysSubset:
        return PartitionKeysSubset(self.get_partition_keys())

    def get_tags_for_partition_key(self, partition_key: str) -> Mapping[str, str]:
        return {PARTITION_NAME_TAG: partition_key}

    def get_num_partitions(self) -> int:
        return len(self.get_partition_keys())

    def has_partition_key(self, partition_key: str) -> bool:
        return partition_key in self.get_partition_keys()

    def filter_valid_partition_keys(self, partition_keys: Iterable[str]) -> set[str]:
        return {key for key in partition_keys if self.has_partition_key(key)}

    def validate_partition_key(
        self, partition_key: str, context: PartitionLoadingContext | None = None
    ) -> None:
        """Raise `DagsterUnknownPartitionError` unless `partition_key` is one of this definition's keys."""
        with partition_loading_context(new_ctx=context):
            if not self.has_partition_key(partition_key):
                raise DagsterUnknownPartitionError(
                    f"Could not find a partition with key `{partition_key}`."
                )

    def get_serializable_unique_identifier(self) -> str:
        return keys_based_identifier(self.get_partition_keys())

    def validate_partition_definition(self) -> None:
        """Definition-time checks; subclasses raise `DagsterInvalidDefinitionError`."""
        return None

    # --- plain-JSON form, read back by `partitions_def_from_snapshot` ---------------------------
    def to_snapshot(self) -> dict[str, Any]:
        """A JSON-compatible dict from which `partitions_def_from_snapshot` rebuilds this definition.

        User-defined subclasses are stored as their current list of keys.
        """
        return {"kind": "static", "partition_keys": list(self.get_partition_keys())}


class AssetPartitionStatus(Enum):
    """The state of one partition of an asset, as shown in the UI."""

    MATERIALIZED = "MATERIALIZED"
    IN_PROGRESS = "IN_PROGRESS"
    FAILED = "FAILED"
