"""`build_output_context` and `build_input_context`: IO contexts for testing IO managers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra._core.io_managers.contexts import InputContext, OutputContext
from orchestra._core.io_managers.io_context_base import (
    RUN_ID_PLACEHOLDER,
    coerce_asset_key,
    resolve_partition_keys,
)
from orchestra._errors import DagsterInvariantViolationError


def build_output_context(
    step_key: str | None = None,
    name: str | None = None,
    definition_metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    mapping_key: str | None = None,
    config: Any = None,
    dagster_type: Any = None,
    version: str | None = None,
    resource_config: Mapping[str, Any] | None = None,
    resources: Any = None,
    op_def: Any = None,
    asset_key: Any = None,
    partition_key: str | None = None,
    asset_partitions_def: Any = None,
    asset_partition_key_range: Any = None,
    instance: Any = None,
    asset_spec: Any = None,
    metadata: Mapping[str, Any] | None = None,
    output_metadata: Mapping[str, Any] | None = None,
) -> OutputContext:
    """Build an `OutputContext` to test an IO manager's `handle_output`.

    Use it as a context manager when a resource in `resources` needs teardown.

    Example:
        ```python
        context = dg.build_output_context(step_key="produce", name="result")
        manager.handle_output(context, [1, 2, 3])
        ```
    """
    from orchestra._core.resources.context import default_log_manager

    coerced_key = coerce_asset_key(asset_key) if asset_key else None
    keys, key_range = resolve_partition_keys(coerced_key, partition_key, asset_partition_key_range, asset_partitions_def)
    return OutputContext(
        step_key=step_key,
        name=name,
        job_name=None,
        run_id=run_id if run_id is not None else RUN_ID_PLACEHOLDER,
        definition_metadata=definition_metadata if definition_metadata is not None else metadata,
        mapping_key=mapping_key,
        config=config,
        dagster_type=dagster_type,
        log_manager=default_log_manager(),
        version=version,
        resource_config=dict(resource_config or {}),
        resources=resources if resources is not None else {},
        op_def=op_def,
        asset_key=coerced_key,
        partition_key=partition_key,
        asset_partition_keys=keys,
        asset_partition_key_range=key_range,
        asset_partitions_def=asset_partitions_def,
        asset_spec=asset_spec,
        output_metadata=output_metadata,
        instance=instance,
    )


def build_input_context(
    name: str | None = None,
    config: Any = None,
    definition_metadata: Mapping[str, Any] | None = None,
    upstream_output: OutputContext | None = None,
    dagster_type: Any = None,
    resource_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    op_def: Any = None,
    step_context: Any = None,
    asset_key: Any = None,
    partition_key: str | None = None,
    asset_partition_key_range: Any = None,
    asset_partitions_def: Any = None,
    instance: Any = None,
    metadata: Mapping[str, Any] | None = None,
) -> InputContext:
    """Build an `InputContext` to test an IO manager's `load_input`.

    Use it as a context manager when a resource in `resources` needs teardown.

    Example:
        ```python
        upstream = dg.build_output_context(step_key="produce", name="result")
        value = manager.load_input(dg.build_input_context(upstream_output=upstream))
        ```
    """
    from orchestra._core.resources.context import default_log_manager

    if upstream_output is not None and not isinstance(upstream_output, OutputContext):
        raise DagsterInvariantViolationError(f"upstream_output must be an OutputContext, got {upstream_output!r}")
    coerced_key = coerce_asset_key(asset_key) if asset_key else None
    keys, key_range = resolve_partition_keys(coerced_key, partition_key, asset_partition_key_range, asset_partitions_def)
    return InputContext(
        name=name,
        job_name=None,
        config=config,
        definition_metadata=definition_metadata if definition_metadata is not None else metadata,
        upstream_output=upstream_output,
        dagster_type=dagster_type,
        log_manager=default_log_manager(),
        resource_config=dict(resource_config or {}),
        resources=dict(resources or {}),
        step_context=step_context,
        op_def=op_def,
        asset_key=coerced_key,
        partition_key=partition_key,
        asset_partition_keys=keys,
        asset_partition_key_range=key_range,
        asset_partitions_def=asset_partitions_def,
        instance=instance,
    )
