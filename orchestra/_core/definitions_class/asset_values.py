"""Loading asset values outside a run: `Definitions.load_asset_value` and `AssetValueLoader`.

The value is read by the asset's IO manager (`load_input`), with the top-level and asset-level
resources it needs initialised once per loader and torn down when the loader closes.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from orchestra._errors import DagsterInvariantViolationError


class AssetValueLoader:
    """Loads the values of several assets, sharing their IO managers' resources.

    Example:
        >>> with defs.get_asset_value_loader() as loader:
        ...     orders = loader.load_asset_value("orders")
        ...     customers = loader.load_asset_value("customers")
    """

    def __init__(self, repository: Any, instance: Any = None):
        self._repository = repository
        self._instance = instance
        self._stack = ExitStack()
        self._resources: dict[tuple[int, str], Any] = {}

    def __enter__(self) -> AssetValueLoader:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stack.close()

    def _io_manager(self, assets_def: Any, io_manager_key: str) -> Any:
        from orchestra._core.resources.initialization import (
            coerce_to_resource_definitions,
            initialize_resources,
        )

        cache_key = (id(assets_def), io_manager_key)
        if cache_key not in self._resources:
            resource_defs = dict(self._repository.get_top_level_resources())
            resource_defs.update(coerce_to_resource_definitions(dict(getattr(assets_def, "resource_defs", None) or {})))
            if io_manager_key not in resource_defs and io_manager_key == "io_manager":
                from orchestra._core.io_managers.builtin import default_job_io_manager

                resource_defs["io_manager"] = default_job_io_manager
            if io_manager_key not in resource_defs:
                raise DagsterInvariantViolationError(
                    f"IO manager '{io_manager_key}' is not provided; cannot load the asset value."
                )
            resources = self._stack.enter_context(
                initialize_resources(resource_defs, {}, keys=[io_manager_key], instance=self._instance)
            )
            self._resources[cache_key] = resources
        resources = self._resources[cache_key]
        return getattr(resources, io_manager_key), resources

    def load_asset_value(self, asset_key: Any, *, python_type: Any = None, partition_key: str | None = None,
                         input_definition_metadata: dict[str, Any] | None = None,
                         resource_config: Any = None, metadata: dict[str, Any] | None = None) -> Any:
        """The stored value of `asset_key` (one partition of it when `partition_key` is given)."""
        from orchestra._core.assets.keys import AssetKey, coerce_asset_key
        from orchestra._core.io_managers.contexts import InputContext, OutputContext
        from orchestra._core.log import get_dagster_logger

        log = get_dagster_logger()

        key = AssetKey.from_user_string(asset_key) if isinstance(asset_key, str) else coerce_asset_key(asset_key)
        asset_graph = self._repository.asset_graph
        if asset_graph is None or key not in asset_graph.all_asset_keys:
            raise DagsterInvariantViolationError(f"Asset key {key} not found in AssetGraph")
        assets_def = asset_graph.assets_def_by_key.get(key) or asset_graph.source_asset_by_key.get(key)
        io_manager_key = asset_graph.io_manager_key(key)
        io_manager, resources = self._io_manager(assets_def, io_manager_key)
        spec = asset_graph.spec(key)
        partitions_def = asset_graph.partitions_def(key)
        dagster_type = None
        if python_type is not None:
            from orchestra._core.types import resolve_dagster_type

            dagster_type = resolve_dagster_type(python_type)
        output_name = "result"
        get_output_name = getattr(assets_def, "get_output_name_for_asset_key", None)
        if callable(get_output_name) and getattr(assets_def, "is_executable", False):
            output_name = get_output_name(key)
        partition_keys = [partition_key] if partition_key is not None else None
        upstream = OutputContext(
            name=output_name, definition_metadata=dict(spec.metadata or {}), asset_key=key, resources=resources,
            partition_key=partition_key, asset_partition_keys=partition_keys, asset_partitions_def=partitions_def,
            asset_spec=spec, instance=self._instance, dagster_type=dagster_type, log_manager=log,
        )
        context = InputContext(
            asset_key=key, upstream_output=upstream, dagster_type=dagster_type, resources=resources,
            definition_metadata=dict(input_definition_metadata or metadata or {}), partition_key=partition_key,
            asset_partition_keys=partition_keys, asset_partitions_def=partitions_def, instance=self._instance,
            resource_config=resource_config, log_manager=log,
        )
        return io_manager.load_input(context)
