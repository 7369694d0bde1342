"""Partitions with a fixed, ordered list of keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from orchestra._core.partitions.base import PartitionsDefinition, check_valid_partition_keys


class StaticPartitionsDefinition(PartitionsDefinition):
    """A fixed list of partition keys, kept in the given order.

    Example:
        ```python
        dg.StaticPartitionsDefinition(["us", "eu", "apac"])
        ```
    """

    def __init__(self, partition_keys: Sequence[str]):
        if not isinstance(partition_keys, str):
            if not isinstance(partition_keys, Sequence) or not all(isinstance(k, str) for k in partition_keys):
                raise TypeError(f'Param "partition_keys" must be a sequence of str, got {partition_keys!r}.')
        check_valid_partition_keys(partition_keys)
        self._partition_keys = partition_keys
        self._key_set = frozenset(partition_keys)

    def get_partition_keys(self, current_time: datetime | None = None, dynamic_partitions_store=None) -> Sequence[str]:
        return self._partition_keys

    def has_partition_key(self, partition_key: str) -> bool:
        return partition_key in self._key_set

    def filter_valid_partition_keys(self, partition_keys: Iterable[str]) -> set[str]:
        return self._key_set & set(partition_keys)

    def get_num_partitions(self) -> int:
        return len(self._key_set)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticPartitionsDefinition) and (
            self is other or list(self._partition_keys) == list(other.get_partition_keys())
        )

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(partition_keys={self._partition_keys})"

    def to_snapshot(self) -> dict[str, Any]:
        return {"kind": "static", "partition_keys": list(self._partition_keys)}
