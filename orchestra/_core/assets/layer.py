"""`AssetLayer`: what an asset job's ops mean in asset terms, and the ASSET_* events the step runner emits.

A job built from assets carries an `AssetLayer` (`JobDefinition(asset_layer=...)`). The execution
core asks it, per step, which asset an output or input is, and hands it each stored output so it
can add ASSET_MATERIALIZATION / ASSET_OBSERVATION / ASSET_CHECK_EVALUATION events. Jobs without
assets have no layer and never import this module.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from orchestra._core.assets.keys import AssetCheckKey, AssetKey
from orchestra._core.assets.results import (
    AssetCheckEvaluation,
    AssetCheckEvaluationPlanned,
    AssetCheckEvaluationTargetMaterializationData,
    AssetMaterialization,
    AssetMaterializationPlannedData,
)
from orchestra._errors import DagsterInvariantViolationError

if TYPE_CHECKING:  # the event types are imported when a run emits events, not when a job is built
    from orchestra._core.events import DagsterEvent


class OutputAsset(NamedTuple):
    """What one op output is: an asset (materialized or observed) or a check result."""

    asset_key: AssetKey | None
    check_key: AssetCheckKey | None
    partitions_def: Any
    code_version: str | None
    observation: bool
    blocking: bool


class AssetLayer:
    """Asset meaning of the nodes of one asset job (see the module docstring).

    The maps from handles to assets (`outputs`, `inputs`, `node_by_key`, `node_by_check`) are only
    read when the job runs (or its plan reads an input's asset): they are built on first use, so a code
    location that resolves and snapshots its jobs never builds them. The job's asset and check keys
    are given by the job builder, which has them.
    """

    _MAPS = frozenset({"outputs", "inputs", "node_by_key", "node_by_check"})

    def __init__(self, asset_graph: Any, assets_defs_by_node: dict[str, Any], asset_keys: frozenset[AssetKey],
                 check_keys: frozenset[AssetCheckKey]):
        self.asset_graph = asset_graph
        self.assets_defs_by_node = assets_defs_by_node
        self._asset_keys = asset_keys
        self._check_keys = check_keys

    def __getattr__(self, name: str) -> Any:
        # only called for a missing attribute: one of the maps before their first use
        if name not in AssetLayer._MAPS:
            raise AttributeError(f"'AssetLayer' object has no attribute '{name}'")
        self._build_maps()
        return self.__dict__[name]

    def _build_maps(self) -> None:
        self.outputs: dict[tuple[str, str], OutputAsset] = {}
        self.inputs: dict[tuple[str, str], AssetKey] = {}
        self.node_by_key: dict[AssetKey, tuple[str, str]] = {}
        self.node_by_check: dict[AssetCheckKey, tuple[str, str]] = {}
        for node_name, assets_def in self.assets_defs_by_node.items():
            node_def = assets_def.node_def
            if not hasattr(node_def, "output_mappings"):  # an op: handles are its own names
                self._add_op_node(node_name, assets_def)
                continue
            observation = assets_def.is_observable
            for output_name, key in assets_def.keys_by_output_name.items():
                handle = _leaf_output(node_def, node_name, output_name)
                spec = assets_def.get_asset_spec(key)
                self.outputs[handle] = OutputAsset(key, None, assets_def.partitions_def, spec.code_version, observation, False)
                self.node_by_key[key] = (node_name, output_name)
            for output_name, check in assets_def.check_specs_by_output_name.items():
                handle = _leaf_output(node_def, node_name, output_name)
                self.outputs[handle] = OutputAsset(check.asset_key, check.key, None, None, False, check.blocking)
                self.node_by_check[check.key] = (node_name, output_name)
            for input_name, key in assets_def.node_keys_by_input_name.items():
                for handle in _leaf_inputs(node_def, node_name, input_name):
                    self.inputs[handle] = key

    def _add_op_node(self, node_name: str, assets_def: Any) -> None:
        # what a definition's op means in asset terms is the same in every job that runs it (under the
        # op's name): worked out once per definition and node name, as the pairs this layer's maps take
        # (a location's assets are in their group's job and the implicit one)
        views = assets_def.__dict__.get("_views")  # `_derived`'s store, read first: no closure per lookup
        items = views.get(("asset_layer_items", node_name)) if views is not None else None
        if items is None:
            items = assets_def._derived(("asset_layer_items", node_name), lambda: _op_items(assets_def, node_name))
        outputs, by_key, by_check, inputs = items
        self.outputs.update(outputs)
        self.node_by_key.update(by_key)
        if by_check:  # most assets have no checks
            self.node_by_check.update(by_check)
        self.inputs.update(inputs)

    # --- lookups the execution core makes --------------------------------------------------------

    def assets_def_for_node(self, node_handle: str) -> Any:
        return self.assets_defs_by_node.get(node_handle.split(".")[0])

    def output_asset(self, node_handle: str, output_name: str) -> OutputAsset | None:
        return self.outputs.get((node_handle, output_name))

    def input_asset_key(self, node_handle: str, input_name: str) -> AssetKey | None:
        return self.inputs.get((node_handle, input_name))

    def io_manager_key_for_asset(self, key: AssetKey) -> str:
        return self.asset_graph.io_manager_key(key)

    @property
    def selected_asset_keys(self) -> set[AssetKey]:
        return set(self._asset_keys)

    @property
    def selected_check_keys(self) -> set[AssetCheckKey]:
        return set(self._check_keys)

    def output_context_kwargs(self, info: OutputAsset, rc: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"asset_key": info.asset_key, "partition_key": rc.partition_key}
        keys = run_partition_keys(rc.partition_key, rc.run.tags, info.partitions_def)
        if keys is not None:
            kwargs.update(asset_partition_keys=keys, asset_partitions_def=info.partitions_def)
        return kwargs

    def input_context_kwargs(self, downstream_node: str, input_name: str, declared_key: AssetKey | None,
                             rc: Any) -> dict[str, Any]:
        """Asset kwargs for the InputContext (and its upstream OutputContext) of an input of a node."""
        key = self.inputs.get((downstream_node, input_name), declared_key)
        if key is None:
            return {}
        kwargs: dict[str, Any] = {"asset_key": key, "partition_key": rc.partition_key}
        upstream_partitions = self.asset_graph.partitions_def(key)
        if upstream_partitions is None:
            return kwargs
        downstream = self.assets_def_for_node(downstream_node)
        downstream_keys = run_partition_keys(rc.partition_key, rc.run.tags, downstream.partitions_def if downstream else None)
        keys = _mapped_upstream_keys(self.asset_graph, downstream, key, downstream_keys,
                                     node_name=downstream_node.rsplit(".", 1)[-1])
        if keys is not None:
            kwargs.update(asset_partition_keys=keys, asset_partitions_def=upstream_partitions)
        return kwargs

    # --- events -------------------------------------------------------------------------------

    def output_events(self, worker: Any, step: Any, info: OutputAsset, output: Any, metadata: dict[str, Any],
                      io_metadata: dict[str, Any] | None) -> Iterator[DagsterEvent]:
        """ASSET_MATERIALIZATION, ASSET_OBSERVATION or ASSET_CHECK_EVALUATION for a stored output."""
        rc = worker.rc
        check_result = getattr(output, "check_result", None)
        if info.check_key is not None:
            if check_result is None:
                return
            yield _check_event(rc, step, info, check_result)
            return
        partitions = run_partition_keys(rc.partition_key, rc.run.tags, info.partitions_def) or [None]
        merged = {**metadata, **(io_metadata or {})}
        tags = dict(getattr(output, "tags", None) or {})
        if info.observation or getattr(output, "observation", False):
            return  # recorded by the observe function's AssetObservation, before the output
        tags.setdefault("dagster/code_version", info.code_version or rc.run_id)
        version = getattr(output, "data_version", None)  # `Output(..., data_version=...)`
        if version is not None and "dagster/data_version" not in tags:
            tags["dagster/data_version"] = getattr(version, "value", str(version))
            tags["dagster/data_version_is_user_provided"] = "true"
        materialized = getattr(rc, "materialized_assets", None)
        if materialized is None:
            materialized = rc.materialized_assets = {}
        materialized[info.asset_key] = time.time()
        from orchestra._core.events import StepMaterializationData

        for partition in partitions:
            materialization = AssetMaterialization(info.asset_key, metadata=merged, partition=partition, tags=tags)
            yield _event(rc, "ASSET_MATERIALIZATION", step, f"Materialized value {info.asset_key.to_user_string()}.",
                         StepMaterializationData(materialization))


def _check_event(rc: Any, step: Any, info: OutputAsset, result: Any) -> DagsterEvent:
    key = info.check_key
    materialized_at = (getattr(rc, "materialized_assets", None) or {}).get(key.asset_key)
    target = AssetCheckEvaluationTargetMaterializationData(None, rc.run_id, materialized_at) if materialized_at else None
    evaluation = AssetCheckEvaluation(
        key.asset_key, key.name, result.passed, result.metadata, target, result.severity, result.description,
        info.blocking, rc.partition_key if _check_partitioned(rc, key) else None,
    )
    outcome = "passed" if result.passed else "did not pass"
    message = f"Asset check '{key.name}' on '{key.asset_key.to_user_string()}' {outcome}."
    if result.description:
        message += f" Description: '{result.description}'"
    return _event(rc, "ASSET_CHECK_EVALUATION", step, message, evaluation)


def _check_partitioned(rc: Any, key: AssetCheckKey) -> bool:
    layer = rc.job_def._asset_layer
    assets_def = layer.asset_graph.assets_def_by_check_key.get(key)
    return bool(assets_def is not None and assets_def.partitions_def is not None and rc.partition_key is not None)


def _event(rc: Any, event_type: str, step: Any, message: str | None, data: Any) -> DagsterEvent:
    from orchestra._core.events import DagsterEvent

    return DagsterEvent(event_type, rc.job_name, step.key, step.node_handle, "COMPUTE", None, data, message, rc.pid)


def planned_events(job_def: Any, plan: Any, partition_key: str | None, run_tags: dict[str, str] | None = None) -> list[DagsterEvent]:
    """ASSET_MATERIALIZATION_PLANNED and ASSET_CHECK_EVALUATION_PLANNED events, written at run creation."""
    from orchestra._core.events import DagsterEvent

    layer = job_def._asset_layer
    materializations: list[DagsterEvent] = []
    checks: list[DagsterEvent] = []
    for step in plan.steps:
        handle = str(step.node_handle)
        for output in step.op_def.output_defs:
            info = layer.outputs.get((handle, output.name))
            if info is None:
                continue
            if info.check_key is not None:
                key = info.check_key
                checks.append(DagsterEvent(
                    "ASSET_CHECK_EVALUATION_PLANNED", job_def.name, step.key, step.node_handle, "COMPUTE", None,
                    AssetCheckEvaluationPlanned(key.asset_key, key.name),
                    f"{job_def.name} intends to execute asset check {key.name} on asset {key.asset_key.to_string()}",
                ))
            elif not info.observation:
                for partition in run_partition_keys(partition_key, run_tags or {}, info.partitions_def) or [None]:
                    materializations.append(DagsterEvent(
                        "ASSET_MATERIALIZATION_PLANNED", job_def.name, step.key, step.node_handle, "COMPUTE", None,
                        AssetMaterializationPlannedData(info.asset_key, partition),
                        f"{job_def.name} intends to materialize asset {info.asset_key.to_string()}",
                    ))
    return materializations + checks


# --- graph-backed assets: find the op behind a graph output or input ---------------------------------


RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def run_partition_keys(partition_key: str | None, run_tags: Any, partitions_def: Any) -> list[Any] | None:
    """The partitions of an asset a run targets: its partition key, or a range given by run tags."""
    if partitions_def is None:
        return None
    if partition_key is not None:
        return [typed_partition_key(partitions_def, partition_key)]
    start, end = (run_tags or {}).get(RANGE_START_TAG), (run_tags or {}).get(RANGE_END_TAG)
    if start is None or end is None:
        return None
    from orchestra._core.partitions import PartitionKeyRange

    return list(partitions_def.get_partition_keys_in_range(PartitionKeyRange(start, end)))


def typed_partition_key(partitions_def: Any, partition_key: str | None) -> Any:
    """A run's partition key as the definition knows it (a `MultiPartitionKey` for multi-dimensional ones)."""
    if partition_key is None or partitions_def is None:
        return partition_key
    from_str = getattr(partitions_def, "get_partition_key_from_str", None)
    return from_str(partition_key) if from_str is not None else partition_key


def _op_items(assets_def: Any, node_name: str) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """An op-backed definition's entries in an `AssetLayer`'s maps, as (key, value) pairs, for the op run as
    `node_name`: outputs (assets, then checks), assets by key, checks by key, and inputs."""
    observation = assets_def.is_observable
    partitions_def = assets_def.partitions_def
    # the definition's own maps, read (not copied): `keys_by_output_name` is these outputs whose key is
    # selected, `get_asset_spec(key)` the spec kept by key, `node_keys_by_input_name` a copy of the inputs
    selected, specs = assets_def._selected_asset_keys, assets_def._specs_by_key
    outputs: list[Any] = []
    by_key: list[Any] = []
    for output_name, key in assets_def._keys_by_output_name.items():
        if key in selected:
            handle = (node_name, output_name)
            outputs.append((handle, OutputAsset(key, None, partitions_def, specs[key].code_version, observation, False)))
            by_key.append((key, handle))
    by_check: list[Any] = []
    if assets_def._check_specs_by_output_name:
        for output_name, check in assets_def.check_specs_by_output_name.items():
            handle = (node_name, output_name)
            outputs.append((handle, OutputAsset(check.asset_key, check.key, None, None, False, check.blocking)))
            by_check.append((check.key, handle))
    return outputs, by_key, by_check, [((node_name, name), key) for name, key in assets_def._keys_by_input_name.items()]


def _leaf_output(node_def: Any, handle: str, output_name: str) -> tuple[str, str]:
    mappings = getattr(node_def, "output_mappings", None)
    while mappings is not None:
        mapping = next((m for m in mappings if m.graph_output_name == output_name), None)
        if mapping is None:
            break
        handle = f"{handle}.{mapping.mapped_node_name}"
        output_name = mapping.mapped_node_output_name
        node_def = node_def.node_named(mapping.mapped_node_name).definition
        mappings = getattr(node_def, "output_mappings", None)
    return handle, output_name


def _leaf_inputs(node_def: Any, handle: str, input_name: str) -> list[tuple[str, str]]:
    mappings = getattr(node_def, "input_mappings", None)
    if mappings is None:
        return [(handle, input_name)]
    found = []
    for mapping in mappings:
        if mapping.graph_input_name == input_name:
            inner = node_def.node_named(mapping.mapped_node_name).definition
            found.extend(_leaf_inputs(inner, f"{handle}.{mapping.mapped_node_name}", mapping.mapped_node_input_name))
    return found


# --- partitions ------------------------------------------------------------------------------------


def _mapped_upstream_keys(asset_graph: Any, downstream_def: Any, upstream_key: AssetKey, downstream_keys: list[Any] | None,
                          *, node_name: str) -> list[str] | None:
    upstream_partitions = asset_graph.partitions_def(upstream_key)
    downstream_partitions = downstream_def.partitions_def if downstream_def is not None else None
    from orchestra._core.partitions import infer_partition_mapping

    explicit = downstream_def.get_partition_mapping(upstream_key) if downstream_def is not None else None
    mapping = infer_partition_mapping(explicit, downstream_partitions, upstream_partitions)
    if downstream_partitions is None:
        downstream_keys = None
    if downstream_keys is None and downstream_partitions is not None:
        return None
    result = mapping.map_to_upstream(downstream_keys, downstream_partitions, upstream_partitions)
    missing = list(result.required_but_nonexistent_partition_keys)
    if missing:  # e.g. a weekly partition reading days past the daily asset's end date
        from orchestra._core.partitions import PartitionKeyRange

        key_range = PartitionKeyRange(str(downstream_keys[0]), str(downstream_keys[-1])) if downstream_keys else None
        raise DagsterInvariantViolationError(
            f"Partition key range {key_range} in {node_name} depends on invalid partitions "
            f"{_subset_repr(upstream_partitions, missing)} in upstream asset {upstream_key!r}"
        )
    return list(result.partition_keys)


def _subset_repr(partitions_def: Any, keys: list[str]) -> str:
    """Keys written as Dagster prints a partitions subset (time windows as ranges before/after the existing keys)."""
    from orchestra._core.partitions import PartitionKeyRange, TimeWindowPartitionsDefinition

    if not isinstance(partitions_def, TimeWindowPartitionsDefinition):
        return f"DefaultPartitionsSubset(subset={set(keys)!r})"
    first = partitions_def.get_first_partition_key()
    ordered = sorted(keys, key=lambda k: partitions_def.time_window_for_partition_key(k).start)
    before = [k for k in ordered if first is not None and partitions_def.time_window_for_partition_key(k).start
              < partitions_def.time_window_for_partition_key(first).start]
    after = [k for k in ordered if k not in before]
    ranges = [PartitionKeyRange(block[0], block[-1]) for block in (before, after) if block]
    return f"TimeWindowPartitionsSubset({ranges!r})"


def partitions_def_of(op_context: Any, key: AssetKey) -> Any:
    job_def = op_context._job_def
    layer = getattr(job_def, "_asset_layer", None) if job_def is not None else None
    return layer.asset_graph.partitions_def(key) if layer is not None else None


def upstream_partition_keys(op_context: Any, assets_def: Any, key: AssetKey) -> list[str] | None:
    job_def = op_context._job_def
    layer = getattr(job_def, "_asset_layer", None) if job_def is not None else None
    if layer is None:
        return [op_context._partition_key] if op_context._partition_key is not None else None
    tags = op_context._run.tags if op_context._run is not None else {}
    downstream_keys = run_partition_keys(op_context._partition_key, tags, assets_def.partitions_def if assets_def else None)
    return _mapped_upstream_keys(layer.asset_graph, assets_def, key, downstream_keys,
                                 node_name=str(op_context._node_handle or op_context._op_def.name).rsplit(".", 1)[-1])
