"""What `InputContext` and `OutputContext` share: resources handling, partition scope, and
coercion of asset keys and metadata (via the assets/metadata modules when they are loaded)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, NamedTuple

from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError

RUN_ID_PLACEHOLDER = "__EPHEMERAL_RUN_ID"


class _KeyRange(NamedTuple):
    """Stand-in for `PartitionKeyRange` when the partitions module is not available."""

    start: str
    end: str


def _partition_key_range(start: str, end: str) -> Any:
    try:
        import orchestra

        return orchestra.PartitionKeyRange(start, end)
    except AttributeError:
        return _KeyRange(start, end)


def coerce_asset_key(asset_key: Any) -> Any:
    if asset_key is None or hasattr(asset_key, "path"):
        return asset_key
    try:
        import orchestra

        asset_key_cls = orchestra.AssetKey
    except AttributeError:
        return _PlainAssetKey(asset_key)
    if hasattr(asset_key_cls, "from_coercible"):
        return asset_key_cls.from_coercible(asset_key)
    return asset_key_cls(asset_key)


class _PlainAssetKey:
    """Stand-in for `AssetKey` when the assets module is not available."""

    def __init__(self, path: Any):
        self.path = [path] if isinstance(path, str) else list(path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _PlainAssetKey) and other.path == self.path

    def __hash__(self) -> int:
        return hash(tuple(self.path))

    def to_user_string(self) -> str:
        return "/".join(self.path)

    def __repr__(self) -> str:
        return f"AssetKey({self.path!r})"


def normalize_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    try:
        from orchestra._core.metadata import normalize_metadata as normalize
    except ImportError:
        return dict(metadata)
    return dict(normalize(metadata))


def invalid_metadata_error(message: str) -> Exception:
    import orchestra._errors as errors

    cls = getattr(errors, "DagsterInvalidMetadata", DagsterInvalidDefinitionError)
    return cls(message)


class ResourcesHolder:
    """Accepts a `Resources` object (from the core) or a dict to build (from the test builders)."""

    def _init_resources(self, resources: Any, what: str) -> None:
        from orchestra._core.resources.initialization import Resources, build_resources

        self._what = what
        self._resources_cm: contextlib.AbstractContextManager[Any] | None = None
        self._cm_scope_entered = False
        if resources is None or isinstance(resources, Resources):
            self._resources = resources
            self._contains_teardown = False
            return
        if not isinstance(resources, Mapping):
            raise DagsterInvariantViolationError(f"resources must be a dict, got {resources!r}")
        self._resources_cm = build_resources(resources)
        self._resources = self._resources_cm.__enter__()
        self._contains_teardown = self._resources.contains_teardown

    def __enter__(self) -> Any:
        self._cm_scope_entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._resources_cm is not None:
            cm, self._resources_cm = self._resources_cm, None
            cm.__exit__(*exc)

    def __del__(self) -> None:
        cm = getattr(self, "_resources_cm", None)
        if cm is not None and getattr(self, "_contains_teardown", False) and not self._cm_scope_entered:
            try:
                cm.__exit__(None, None, None)
            except Exception:
                pass

    @property
    def resources(self) -> Any:
        """The resources the IO manager requires, by attribute."""
        if self._resources is None:
            raise DagsterInvariantViolationError(
                f"Attempting to access resources, but it was not provided when constructing the {self._what}"
            )
        if self._resources_cm is not None and self._contains_teardown and not self._cm_scope_entered:
            builder = "build_output_context" if self._what == "OutputContext" else "build_input_context"
            raise DagsterInvariantViolationError(
                "At least one provided resource is a generator, but attempting to access resources "
                "outside of context manager scope. You can use the following syntax to open a context "
                f"manager: `with {builder}(...) as context:`"
            )
        return self._resources


class PartitionScope:
    """Partition properties shared by input and output contexts."""

    _asset_key: Any
    _partition_key: str | None
    _asset_partition_keys: list[str] | None
    _asset_partition_key_range: Any
    _asset_partitions_def: Any
    _what: str

    @property
    def has_partition_key(self) -> bool:
        """True when the run targets a single partition."""
        return self._partition_key is not None

    @property
    def partition_key(self) -> str:
        """The run's partition key; raises on a non-partitioned run."""
        if self._partition_key is None:
            raise DagsterInvariantViolationError("Tried to access partition_key on a non-partitioned run.")
        return self._partition_key

    @property
    def has_asset_partitions(self) -> bool:
        """True when the asset being stored or loaded is partitioned in this run."""
        return self._asset_partition_keys is not None or self._asset_partition_key_range is not None

    @property
    def asset_partitions_def(self) -> Any:
        """The `PartitionsDefinition` of the asset."""
        if self._asset_partitions_def is None and self._what == "InputContext":
            _ = self.asset_key  # type: ignore[attr-defined]  # Dagster reports the missing asset key first
        if self._asset_partitions_def is None:
            if self._asset_key is not None:
                raise DagsterInvariantViolationError(
                    f"Attempting to access partitions def for asset {self._asset_key}, but it is not partitioned"
                )
            raise DagsterInvariantViolationError(
                "Attempting to access partitions def for asset, but the context does not correspond to an asset"
            )
        return self._asset_partitions_def

    def _require_partitions(self) -> None:
        if not self.has_asset_partitions:
            side = "output" if self._what == "OutputContext" else "input"
            raise DagsterInvariantViolationError(f"The {side} does not correspond to a partitioned asset.")

    @property
    def asset_partition_keys(self) -> list[str]:
        """Every partition key of the asset in scope."""
        self._require_partitions()
        if self._asset_partition_keys is not None:
            return list(self._asset_partition_keys)
        key_range = self._asset_partition_key_range
        if key_range.start == key_range.end:
            return [key_range.start]
        raise DagsterInvariantViolationError(
            "Cannot list the partition keys of a key range without a partitions definition."
        )

    @property
    def asset_partition_key(self) -> str:
        """The single partition key in scope; raises when there are several."""
        self._require_partitions()
        keys = self.asset_partition_keys
        if len(keys) != 1:
            raise DagsterInvariantViolationError(
                f"Tried to access partition key for asset '{self._asset_key}', but the number of "
                f"partitions != 1: {keys}."
            )
        return keys[0]

    @property
    def asset_partition_key_range(self) -> Any:
        """The first and last partition key in scope, as a `PartitionKeyRange`."""
        if not self.has_asset_partitions:
            side = "output" if self._what == "OutputContext" else "input"
            raise DagsterInvariantViolationError(f"The {side} has no asset partitions")
        if self._asset_partition_key_range is not None:
            return self._asset_partition_key_range
        keys = self._asset_partition_keys or []
        if not keys:
            raise DagsterInvariantViolationError("There are no partitions in scope.")
        return _partition_key_range(keys[0], keys[-1])

    @property
    def asset_partitions_time_window(self) -> Any:
        """The `TimeWindow` spanning the partitions in scope (time-partitioned assets only)."""
        self._require_partitions()
        partitions_def = self._asset_partitions_def
        if partitions_def is None:
            raise DagsterInvariantViolationError(
                "Tried to get asset partitions time window for an asset that is not partitioned."
            )
        window_for = getattr(partitions_def, "time_window_for_partition_key", None)
        if window_for is None:
            raise DagsterInvariantViolationError(
                "Tried to get asset partitions time window for a partitioned asset that is not time-partitioned."
            )
        key_range = self.asset_partition_key_range
        first, last = window_for(key_range.start), window_for(key_range.end)
        return type(first)(first.start, last.end)


def resolve_partition_keys(
    asset_key: Any, partition_key: str | None, key_range: Any, partitions_def: Any
) -> tuple[list[str] | None, Any]:
    """For the builders: turn a partition key or range into explicit keys where possible."""
    if partition_key and asset_key is not None and key_range is None:
        key_range = _partition_key_range(partition_key, partition_key)
    if key_range is None:
        return None, None
    if key_range.start == key_range.end:
        return [key_range.start], key_range
    if partitions_def is not None and hasattr(partitions_def, "get_partition_keys_in_range"):
        return list(partitions_def.get_partition_keys_in_range(key_range)), key_range
    return None, key_range
