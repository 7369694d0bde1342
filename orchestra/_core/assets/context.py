"""`AssetExecutionContext` (what asset bodies receive), `AssetCheckExecutionContext` and
`build_asset_context`."""

from __future__ import annotations

from typing import Any

from orchestra._core.assets.keys import AssetKey, coerce_asset_key
from orchestra._core.context import OpExecutionContext
from orchestra._errors import DagsterInvalidPropertyError, DagsterInvariantViolationError


class AssetContextBase:
    """What asset and asset-check contexts share: the wrapped `OpExecutionContext` and asset lookups."""

    def __init__(self, op_execution_context: OpExecutionContext, assets_def: Any = None):
        self._op_context = op_execution_context
        self._assets_def = assets_def

    # --- the wrapped op context ----------------------------------------------------------------

    @property
    def op_execution_context(self) -> OpExecutionContext:
        return self._op_context

    def get_op_execution_context(self) -> OpExecutionContext:
        return self._op_context

    def __getattr__(self, name: str) -> Any:
        # anything not asset-specific behaves as on the op context (run_id, log, resources, ...)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._op_context, name)

    @property
    def log(self) -> Any:
        return self._op_context.log

    @property
    def run_id(self) -> str:
        return self._op_context.run_id

    @property
    def resources(self) -> Any:
        return self._op_context.resources

    @property
    def instance(self) -> Any:
        return self._op_context.instance

    @property
    def op_config(self) -> Any:
        return self._op_context.op_config

    # --- assets -------------------------------------------------------------------------------

    @property
    def has_assets_def(self) -> bool:
        return self._assets_def is not None

    @property
    def assets_def(self) -> Any:
        if self._assets_def is None:
            raise DagsterInvalidPropertyError(
                f"Op '{self._op_context.op_def.name if self._op_context.op_def else '?'}' does not have an assets "
                "definition."
            )
        return self._assets_def

    @property
    def asset_key(self) -> AssetKey:
        return self.assets_def.key

    @property
    def selected_asset_keys(self) -> set[AssetKey]:
        return set(self.assets_def.keys) if self._assets_def is not None else set()

    @property
    def selected_asset_check_keys(self) -> set[Any]:
        return set(self.assets_def.check_keys) if self._assets_def is not None else set()

    @property
    def selected_output_names(self) -> set[str]:
        if self._assets_def is None:
            return self._op_context.selected_output_names
        names = set(self._assets_def.keys_by_output_name)
        names |= set(self._assets_def.check_specs_by_output_name)
        return names

    def asset_key_for_output(self, output_name: str = "result") -> AssetKey:
        key = self.assets_def.node_keys_by_output_name.get(output_name)
        if key is None:
            raise DagsterInvariantViolationError(f"Output '{output_name}' has no asset")
        return key

    def output_for_asset_key(self, asset_key: Any) -> str:
        return self.assets_def.get_output_name_for_asset_key(asset_key)

    def asset_key_for_input(self, input_name: str) -> AssetKey:
        key = self.assets_def.node_keys_by_input_name.get(input_name)
        if key is None:
            raise DagsterInvariantViolationError(f"Input '{input_name}' has no asset")
        return key

    # --- partitions ---------------------------------------------------------------------------

    def _run_partition_keys(self) -> list[Any] | None:
        from orchestra._core.assets.layer import run_partition_keys

        run = self._op_context._run
        partitions_def = self._partitions_def()
        if partitions_def is None:
            key = self._op_context._partition_key
            return [key] if key is not None else None
        return run_partition_keys(self._op_context._partition_key, run.tags if run is not None else {}, partitions_def)

    @property
    def has_partition_key(self) -> bool:
        return self._op_context._partition_key is not None

    @property
    def has_partition_key_range(self) -> bool:
        return self._run_partition_keys() is not None

    @property
    def partition_key(self) -> str:
        key = self._op_context._partition_key
        if key is None:
            if self._run_partition_keys() is not None:
                raise DagsterInvariantViolationError(
                    "Cannot access partition_key for a partitioned run with a range of partitions. Call "
                    "partition_key_range instead."
                )
            raise DagsterInvariantViolationError("Cannot access partition_key for a non-partitioned run")
        from orchestra._core.assets.layer import typed_partition_key

        return typed_partition_key(self._partitions_def(), key)

    @property
    def partition_keys(self) -> list[str]:
        keys = self._run_partition_keys()
        if keys is None:
            raise DagsterInvariantViolationError("Cannot access partition_keys for a non-partitioned run")
        return keys

    @property
    def partition_key_range(self) -> Any:
        from orchestra._core.partitions import PartitionKeyRange

        keys = self._run_partition_keys()
        if keys is None:
            raise DagsterInvariantViolationError("Cannot access partition_key_range for a non-partitioned run")
        return PartitionKeyRange(keys[0], keys[-1])

    asset_partition_key_range = partition_key_range

    @property
    def multi_partition_key(self) -> Any:
        from orchestra._core.partitions import MultiPartitionKey

        key = self.partition_key
        if isinstance(key, MultiPartitionKey):
            return key
        partitions_def = self._partitions_def()
        if partitions_def is not None and hasattr(partitions_def, "get_partition_key_from_str"):
            return partitions_def.get_partition_key_from_str(key)
        raise DagsterInvariantViolationError("Run is not for a MultiPartitionsDefinition")

    def _partitions_def(self) -> Any:
        if self._assets_def is not None and self._assets_def.partitions_def is not None:
            return self._assets_def.partitions_def
        job_def = self._op_context._job_def
        return getattr(job_def, "partitions_def", None) if job_def is not None else None

    @property
    def partition_time_window(self) -> Any:
        partitions_def = self._partitions_def()
        if partitions_def is None:
            raise DagsterInvariantViolationError("Partitions definition is not defined")
        window_for = getattr(partitions_def, "time_window_for_partition_key", None)
        if window_for is None:
            raise DagsterInvariantViolationError(
                "Expected a TimeWindowPartitionsDefinition or MultiPartitionsDefinition with a single time "
                f"dimension, but instead found {type(partitions_def)}"
            )
        keys = self.partition_keys
        first, last = window_for(keys[0]), window_for(keys[-1])
        return type(first)(first.start, last.end) if len(keys) > 1 else first

    asset_partitions_time_window = partition_time_window

    def asset_partition_key_for_output(self, output_name: str = "result") -> str:
        return self.partition_key

    def asset_partition_keys_for_output(self, output_name: str = "result") -> list[str]:
        return self.partition_keys

    def asset_partitions_def_for_output(self, output_name: str = "result") -> Any:
        return self.assets_def.partitions_def

    def asset_partitions_time_window_for_output(self, output_name: str = "result") -> Any:
        return self.partition_time_window

    def asset_partitions_def_for_input(self, input_name: str) -> Any:
        from orchestra._core.assets.layer import partitions_def_of

        return partitions_def_of(self._op_context, self.asset_key_for_input(input_name))

    def asset_partition_keys_for_input(self, input_name: str) -> list[str]:
        from orchestra._core.assets.layer import upstream_partition_keys

        return upstream_partition_keys(self._op_context, self.assets_def, self.asset_key_for_input(input_name)) or []

    def asset_partition_key_for_input(self, input_name: str) -> str:
        keys = self.asset_partition_keys_for_input(input_name)
        if len(keys) != 1:
            raise DagsterInvariantViolationError(
                f"Tried to access partition key for input '{input_name}', but the number of input partitions != 1"
            )
        return keys[0]

    def asset_partition_key_range_for_input(self, input_name: str) -> Any:
        from orchestra._core.partitions import PartitionKeyRange

        keys = self.asset_partition_keys_for_input(input_name)
        return PartitionKeyRange(keys[0], keys[-1])

    def asset_partitions_time_window_for_input(self, input_name: str) -> Any:
        from orchestra._core.partitions import TimeWindow

        partitions_def = self.asset_partitions_def_for_input(input_name)
        keys = self.asset_partition_keys_for_input(input_name)
        first = partitions_def.time_window_for_partition_key(keys[0])
        last = partitions_def.time_window_for_partition_key(keys[-1])
        return TimeWindow(first.start, last.end)

    # --- metadata and events ----------------------------------------------------------------------

    def add_output_metadata(self, metadata: dict[str, Any], output_name: str | None = None, mapping_key: str | None = None) -> None:
        self._op_context.add_output_metadata(metadata, output_name, mapping_key)

    def add_asset_metadata(self, metadata: dict[str, Any], asset_key: Any = None, partition_key: str | None = None) -> None:
        if asset_key is None:
            key = self.asset_key
        else:
            key = coerce_asset_key(asset_key)
            if key not in self.selected_asset_keys:
                raise DagsterInvariantViolationError(
                    f"Cannot add metadata for asset key {key.to_user_string()} that is not currently being materialized."
                )
        self._op_context.add_output_metadata(metadata, self.assets_def.get_output_name_for_asset_key(key))

    def log_event(self, event: Any) -> None:
        self._op_context.log_event(event)

    def get_output_metadata(self, output_name: str, mapping_key: str | None = None) -> Any:
        return self._op_context.get_output_metadata(output_name, mapping_key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(run_id={self.run_id!r})"


class AssetExecutionContext(AssetContextBase):
    """The context an asset body receives as its first (`context`) parameter.

    It wraps the op's `OpExecutionContext` (`context.op_execution_context`) and adds what only makes
    sense for assets: the asset key, selected keys, partitions.

    Example:
        >>> @asset(partitions_def=DailyPartitionsDefinition("2024-01-01"))
        ... def events(context: AssetExecutionContext):
        ...     context.log.info(f"loading {context.partition_key}")
        ...     context.add_output_metadata({"day": context.partition_key})
    """


class AssetCheckExecutionContext(AssetContextBase):
    """The context an `@asset_check` body receives."""

    @property
    def check_specs(self) -> list[Any]:
        return list(self.assets_def.check_specs)

    @property
    def selected_asset_keys(self) -> set[AssetKey]:
        return set()


def build_asset_context(
    resources: dict[str, Any] | None = None,
    resources_config: dict[str, Any] | None = None,
    asset_config: Any = None,
    instance: Any = None,
    partition_key: str | None = None,
    partition_key_range: Any = None,
    run_tags: dict[str, str] | None = None,
    event_loop: Any = None,
) -> AssetExecutionContext:
    """Build a context for calling an asset function directly, e.g. in unit tests.

    Example:
        >>> context = build_asset_context(partition_key="2024-01-01", resources={"db": FakeDb()})
        >>> my_asset(context)
    """
    from orchestra._core.context import build_op_context

    if partition_key is None and partition_key_range is not None:
        partition_key = partition_key_range.start if partition_key_range.start == partition_key_range.end else None
    op_context = build_op_context(
        resources=resources, resources_config=resources_config, op_config=asset_config, instance=instance,
        partition_key=partition_key, run_tags=run_tags,
    )
    return _DirectAssetExecutionContext(op_context)


def build_asset_check_context(
    resources: dict[str, Any] | None = None,
    resources_config: dict[str, Any] | None = None,
    asset_config: Any = None,
    instance: Any = None,
) -> AssetCheckExecutionContext:
    """Build a context for calling an `@asset_check` function directly."""
    from orchestra._core.context import build_op_context

    op_context = build_op_context(resources=resources, resources_config=resources_config, op_config=asset_config,
                                  instance=instance)
    return AssetCheckExecutionContext(op_context)


class _DirectAssetExecutionContext(AssetExecutionContext):
    """A context from `build_asset_context`; bound to an asset when the asset is invoked with it."""

    def __enter__(self) -> _DirectAssetExecutionContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._op_context.__exit__(*exc)
