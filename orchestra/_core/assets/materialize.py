"""`materialize` and `materialize_to_memory`: run assets in this process, as Dagster's helpers do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestra._core.assets.definition import AssetsDefinition
from orchestra._core.assets.graph import build_asset_graph, check_loaded_inputs_exist
from orchestra._core.assets.job import EPHEMERAL_JOB_NAME, build_assets_job, check_common_partitions_def
from orchestra._core.assets.keys import AssetCheckKey, AssetKey, coerce_asset_key
from orchestra._core.assets.source_asset import SourceAsset
from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidSubsetError,
    DagsterInvariantViolationError,
)


def resolve_selection(selection: Any, asset_graph: Any) -> tuple[set[AssetKey] | None, set[AssetCheckKey] | None]:
    """Selected asset keys and check keys for `selection` (None: everything materializable).

    Accepts a list of keys, strings (`"a/b"` is the key `["a", "b"]`), assets definitions, or anything
    with a `resolve(asset_graph)` method (an `AssetSelection`).
    """
    if selection is None:
        return None, None
    if isinstance(selection, str):  # Dagster's selection syntax, e.g. "group:sales"
        from orchestra._core.selection.asset_selection import AssetSelection

        selection = AssetSelection.from_string(selection)
    resolve = getattr(selection, "resolve", None)
    if callable(resolve):
        keys = set(resolve(asset_graph))
        resolve_checks = getattr(selection, "resolve_checks", None)
        checks = set(resolve_checks(asset_graph)) if callable(resolve_checks) else None
        return keys, checks
    if isinstance(selection, AssetKey):
        selection = [selection]
    keys: set[AssetKey] = set()
    checks: set[AssetCheckKey] = set()
    for item in selection:
        if isinstance(item, AssetCheckKey):
            checks.add(item)
        elif isinstance(item, str):
            keys.add(AssetKey.from_user_string(item))
        elif hasattr(item, "keys") and hasattr(item, "check_keys") and not isinstance(item, (list, tuple)):
            keys |= set(item.keys)
            checks |= set(item.check_keys)
        elif hasattr(item, "key") and isinstance(item.key, AssetKey):
            keys.add(item.key)
        else:
            keys.add(coerce_asset_key(item))
    from orchestra._core.assets.job import default_check_selection

    return keys, checks | default_check_selection(asset_graph, keys)


def materialize(
    assets: Iterable[Any],
    run_config: Any = None,
    instance: Any = None,
    resources: dict[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: dict[str, str] | None = None,
    selection: Any = None,
) -> Any:
    """Materialize assets in this process and return an `ExecuteInProcessResult`.

    Source assets and specs in `assets` are only loaded from. Without an `io_manager` resource,
    values are pickled under the instance's storage directory (a temporary one for the default
    ephemeral instance).

    Example:
        >>> result = materialize([orders, order_count])
        >>> result.asset_value("order_count")
        3
    """
    from orchestra._core.io_managers.builtin import default_job_io_manager

    resources = dict(resources or {})
    resources.setdefault("io_manager", default_job_io_manager)
    return _run(assets, run_config, instance, resources, partition_key, raise_on_error, tags, selection)


def materialize_to_memory(
    assets: Iterable[Any],
    run_config: Any = None,
    instance: Any = None,
    resources: dict[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: dict[str, str] | None = None,
    selection: Any = None,
) -> Any:
    """Like `materialize`, but every IO manager is replaced by an in-memory one.

    Example:
        >>> result = materialize_to_memory([orders])
        >>> result.asset_value("orders")
    """
    from orchestra._core.io_managers.builtin import mem_io_manager

    asset_list = list(assets)
    given = dict(resources or {})
    provided = set(given)
    io_keys: set[str] = set()
    for item in asset_list:
        if isinstance(item, SourceAsset):
            io_keys.add(item.get_io_manager_key())
            provided |= set(item.resource_defs)
        elif isinstance(item, AssetsDefinition):
            provided |= set(item.resource_defs)
            if item.is_executable:
                io_keys |= {o.io_manager_key for o in _output_defs(item.node_def)}
    for key in sorted(io_keys):
        if key in provided:
            raise DagsterInvariantViolationError(
                f"Attempted to call `materialize_to_memory` with a resource provided for io manager key '{key}'. Do "
                "not provide resources for io manager keys when calling `materialize_to_memory`, as it will "
                "override io management behavior for all keys."
            )
    return _run(asset_list, run_config, instance, {**{k: mem_io_manager for k in io_keys}, **given}, partition_key,
                raise_on_error, tags, selection)


def _output_defs(node_def: Any) -> list[Any]:
    if hasattr(node_def, "iterate_op_defs"):
        return [o for op_def in node_def.iterate_op_defs() for o in op_def.output_defs]
    return list(node_def.output_defs)


def _run(assets: Iterable[Any], run_config: Any, instance: Any, resources: dict[str, Any], partition_key: str | None,
         raise_on_error: bool, tags: dict[str, str] | None, selection: Any) -> Any:
    asset_graph = build_asset_graph(list(assets))
    check_loaded_inputs_exist(asset_graph)
    selected_keys, selected_checks = resolve_selection(selection, asset_graph)
    try:
        check_common_partitions_def(
            EPHEMERAL_JOB_NAME, asset_graph, asset_graph._executable_keys() if selected_keys is None else selected_keys)
        job_def = build_assets_job(
            EPHEMERAL_JOB_NAME, asset_graph, selected_asset_keys=selected_keys, selected_check_keys=selected_checks,
            resource_defs=resources,
        )
    except DagsterInvalidSubsetError as exc:
        raise DagsterInvalidDefinitionError(f"Failed to resolve asset job {EPHEMERAL_JOB_NAME}") from exc
    except DagsterInvalidDefinitionError as exc:
        if not str(exc).startswith("Error resolving selection"):  # other definition errors surface as they are
            raise
        raise DagsterInvalidDefinitionError(f"Failed to resolve asset job {EPHEMERAL_JOB_NAME}") from exc
    return job_def.execute_in_process(
        run_config=run_config, instance=instance, partition_key=partition_key, raise_on_error=raise_on_error,
        tags=tags,
    )
