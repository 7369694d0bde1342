"""Partitions whose keys are added and removed at run time, kept by a `DynamicPartitionsStore`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from orchestra._core.partitions.base import (
    DynamicPartitionsStore,
    Partition,
    PartitionsDefinition,
    partition_loading_context,
)
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError

_NO_STORE = (
    "The instance is not available to load partitions. Try wrapping the call in `with "
    "partition_loading_context` with an instance set. This error may also indicate a Dagster "
    "framework error where an instance was not properly threaded down a call stack."
)


class DynamicPartitionsDefinition(PartitionsDefinition):
    """Partitions named at run time (by sensors or the UI) and stored under `name` in the instance.

    Example:
        ```python
        files = dg.DynamicPartitionsDefinition(name="files")
        # in a sensor: return dg.SensorResult(dynamic_partitions_requests=[files.build_add_request(["a.csv"])])
        ```
    """

    def __init__(
        self,
        partition_fn: Callable[[datetime | None], Sequence[str] | Sequence[Partition]] | None = None,
        name: str | None = None,
    ):
        if partition_fn is not None and not callable(partition_fn):
            raise TypeError(f'Param "partition_fn" is not callable. Got {partition_fn!r}.')
        if name is not None and not isinstance(name, str):
            raise TypeError(f'Param "name" is not a str. Got {name!r}.')
        if partition_fn is None and name is None:
            raise DagsterInvalidDefinitionError(
                "Must provide either partition_fn or name to DynamicPartitionsDefinition."
            )
        if partition_fn and name:
            raise DagsterInvalidDefinitionError(
                "Cannot provide both partition_fn and name to DynamicPartitionsDefinition."
            )
        self.partition_fn = partition_fn
        self.name = name

    def _validated_name(self) -> str:
        if self.name is None:
            raise DagsterInvariantViolationError(
                "Dynamic partitions definition must have a name to fetch dynamic partitions"
            )
        return self.name

    @staticmethod
    def _require_store(store: DynamicPartitionsStore | None) -> DynamicPartitionsStore:
        if store is None:
            raise DagsterInvariantViolationError(_NO_STORE)
        return store

    def get_partition_keys(self, current_time: datetime | None = None, dynamic_partitions_store=None) -> Sequence[str]:
        with partition_loading_context(current_time, dynamic_partitions_store) as ctx:
            if self.partition_fn:
                partitions = self.partition_fn(current_time)
                if partitions and all(isinstance(p, Partition) for p in partitions):
                    return [p.name for p in partitions]  # type: ignore[union-attr]
                return partitions  # type: ignore[return-value]
            store = self._require_store(ctx.dynamic_partitions_store)
            return list(store.get_dynamic_partitions(self._validated_name()))

    def has_partition_key(self, partition_key: str, current_time: datetime | None = None, dynamic_partitions_store=None) -> bool:
        with partition_loading_context(current_time, dynamic_partitions_store) as ctx:
            if self.partition_fn:
                return partition_key in self.get_partition_keys()
            store = self._require_store(ctx.dynamic_partitions_store)
            return store.has_dynamic_partition(self._validated_name(), partition_key)

    def filter_valid_partition_keys(self, partition_keys: Iterable[str]) -> set[str]:
        wanted = set(partition_keys)
        if not wanted:
            return set()
        return wanted & set(self.get_partition_keys())

    def build_add_request(self, partition_keys: Sequence[str]):
        """A request (for `SensorResult.dynamic_partitions_requests`) that adds these keys."""
        import orchestra

        return orchestra.AddDynamicPartitionsRequest(self._validated_name(), list(partition_keys))

    def build_delete_request(self, partition_keys: Sequence[str]):
        """A request (for `SensorResult.dynamic_partitions_requests`) that deletes these keys."""
        import orchestra

        return orchestra.DeleteDynamicPartitionsRequest(self._validated_name(), list(partition_keys))

    def get_serializable_unique_identifier(self, dynamic_partitions_store=None) -> str:
        import hashlib

        return hashlib.sha1(f"dynamic:{self._validated_name()}".encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DynamicPartitionsDefinition)
            and self.name == other.name
            and self.partition_fn == other.partition_fn
        )

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"DynamicPartitionsDefinition(partition_fn={self.partition_fn!r}, name={self.name!r})"

    def __str__(self) -> str:
        if self.name:
            return f'Dynamic partitions: "{self.name}"'
        return super().__str__()

    def to_snapshot(self) -> dict[str, Any]:
        # A partition_fn cannot be stored; readers see a named definition without keys of its own.
        return {"kind": "dynamic", "name": self.name}
