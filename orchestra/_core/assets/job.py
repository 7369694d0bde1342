"""`build_assets_job`: the `JobDefinition` that materializes a selection of an asset graph.

Each selected `AssetsDefinition` becomes one node (its op, or graph), restricted to the selected
outputs; inputs whose asset is produced in the job are wired to the producing node, the others are
loaded through the asset's IO manager at run time. The job carries an `AssetLayer`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

from orchestra._core.assets.definition import (
    MATERIALIZATION,
    UNEXECUTABLE,
    AssetChecksDefinition,
    AssetsDefinition,
)
from orchestra._core.assets.graph import AssetGraph
from orchestra._core.assets.keys import AssetCheckKey, AssetKey
from orchestra._core.assets.layer import AssetLayer
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvalidSubsetError

EPHEMERAL_JOB_NAME = "__ephemeral_asset_job__"


def default_check_selection(asset_graph: AssetGraph, selected_asset_keys: set[AssetKey]) -> set[AssetCheckKey]:
    """The checks that run with a selection of assets: every check on a selected asset."""
    return {c for c in asset_graph.all_asset_check_keys if c.asset_key in selected_asset_keys}


def build_assets_job(
    name: str,
    asset_graph: AssetGraph,
    *,
    selected_asset_keys: Iterable[AssetKey] | None = None,
    selected_check_keys: Iterable[AssetCheckKey] | None = None,
    resource_defs: dict[str, Any] | None = None,
    executor_def: Any = None,
    partitions_def: Any = None,
    config: Any = None,
    tags: dict[str, Any] | None = None,
    run_tags: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    description: str | None = None,
    hooks: Any = None,
    op_retry_policy: Any = None,
    owners: list[str] | None = None,
    logger_defs: dict[str, Any] | None = None,
) -> Any:
    """A job running the selected assets and checks of `asset_graph` (default: every materializable asset).

    Raises DagsterInvalidSubsetError for unknown keys or a partial selection of a multi-asset that
    cannot subset.
    """
    from orchestra._core.definitions.dependency import DependencyDefinition
    from orchestra._core.definitions.graph import GraphDefinition, Node
    from orchestra._core.definitions.job import JobDefinition

    selected = set(selected_asset_keys) if selected_asset_keys is not None else asset_graph.materializable_asset_keys
    unknown = selected - asset_graph._all_keys()
    if unknown:
        raise DagsterInvalidSubsetError(
            f"Assets provided in asset_selection argument {', '.join(sorted(k.to_user_string() for k in unknown))} "
            "do not exist in parent asset group or job."
        )
    not_executable = selected - asset_graph._executable_keys()
    if not_executable and selected_asset_keys is not None:  # e.g. an AssetSpec or SourceAsset picked by key
        raise DagsterInvalidDefinitionError(
            f'Error resolving selection for asset job "{name}": Selected keys must be a subset of existing '
            f"executable asset keys. Invalid selected keys: {not_executable}"
        )
    checks = set(selected_check_keys) if selected_check_keys is not None else default_check_selection(asset_graph, selected)

    nodes: dict[str, AssetsDefinition] = {}
    node_defs: dict[str, Any] = {}
    views: dict[str, _JobNode] = {}
    # key -> (node, materialized, dependency on it, the node's position)
    producers: dict[AssetKey, tuple[str, bool, Any, int]] = {}
    check_nodes: dict[AssetKey, list[tuple[str, str]]] = {}  # the blocking checks on each asset: (node, output)
    step_sources: dict[Any, Any] = {}  # the plan's source of an input wired to each op node's output
    # the definitions of the selected keys and checks, in the graph's topological order: only these
    # are looked at, so a 100-asset job of a 2,000-asset location does not walk all 2,000
    candidates: dict[int, AssetsDefinition] = {}
    for key in selected:
        assets_def = asset_graph.assets_def_by_key.get(key)
        if assets_def is not None:
            candidates[id(assets_def)] = assets_def
    for check_key in checks:
        check_def = asset_graph.assets_def_by_check_key.get(check_key)
        if check_def is not None:
            candidates[id(check_def)] = check_def
    order = asset_graph.assets_def_order()
    for def_id in sorted(candidates, key=order.__getitem__):
        assets_def = candidates[def_id]
        view = job_node(assets_def)
        if not view.executable:
            continue
        own_keys, own_checks = view.keys, view.check_keys
        if own_keys <= selected and own_checks <= checks:  # the whole definition (the usual case)
            keys, node_checks, partial = own_keys, own_checks, False
        else:
            keys = own_keys & selected
            node_checks = own_checks & checks
            partial = keys != own_keys or node_checks != own_checks
        if not keys and not node_checks:
            continue
        # all or nothing, checks included, unless the definition can subset itself
        if partial and not assets_def.can_subset:
            raise DagsterInvalidSubsetError(
                f"When building job, the AssetsDefinition '{assets_def.node_def.name}' contains asset keys "
                f"{sorted(own_keys)} and check keys {sorted(own_checks)}, but attempted to select "
                f"only assets {sorted(keys)} and checks {sorted(node_checks)}. This AssetsDefinition does not support "
                "subsetting. Please select all asset and check keys produced by this asset."
            )
        if view.is_checks or (not keys and node_checks):
            if not view.is_checks:
                continue  # checks computed by an asset op only run with the asset
        if partial:
            assets_def = assets_def.subset_for(keys, node_checks)
            view = job_node(assets_def)
        name_ = view.node_def.name
        if name_ in nodes:
            raise DagsterInvalidDefinitionError(
                f'Two assets in the same job compute with a node named "{name_}"; give one of them a different name '
                "or key."
            )
        position = len(views)
        nodes[name_] = assets_def
        node_defs[name_] = view.node_def
        views[name_] = view
        materializes = view.materializes
        for key, dependency, source in view.outputs:
            producers[key] = (name_, materializes, dependency, position)
            if source is not None:
                step_sources[dependency] = source
        if view.is_checks:
            for output_name, spec in assets_def.check_specs_by_output_name.items():
                if spec.blocking:
                    check_nodes.setdefault(spec.asset_key, []).append((name_, output_name))

    # Each node's dependencies, then its node, as `GraphDefinition(node_defs=..., dependencies=...)` would make
    # it from a `NodeInvocation(name, hook_defs=...)` (names are unique, every node has its entry). The graph
    # needs no dependency check when it is valid as built, either as
    # - a restriction: every node runs the same definition as in the largest job already built on this asset
    #   graph (a group's job inside `__ASSET_JOB`), with dependencies that are some of its dependencies there
    #   (its inputs are the op's own plus the blocking-check inputs it is wired to, outputs are never changed,
    #   its edges are a subset of an acyclic graph's, and every upstream node is in this job, as in `producers`);
    # - or wired: no blocking-check input was added, every op has the inputs and outputs its definition names
    #   (`_JobNode.wired`), and every dependency points at an earlier node (so there is no cycle).
    # A node whose op gets no different inputs than in that larger job shares its `Node`, and with the same
    # dependencies, its handle and wired step inputs.
    base = _RESTRICTION_BASE.get(asset_graph)
    restriction = base is not None
    wired = not check_nodes
    dependencies: dict[str, dict[str, Any]] = {}
    graph_nodes: dict[str, Any] = {}
    shared_steps: dict[str, Any] = {}
    for position, (node_name, view) in enumerate(views.items()):
        deps: dict[str, Any] = {}
        extra_inputs: dict[str, list[str]] = {}  # ordering input -> the inputs whose asset it checks
        loaded_from_storage: dict[str, str] = {}
        for input_name, key in view.inputs.items():
            producer = producers.get(key)
            if producer is None or not producer[1]:  # not materialized here: read from storage, unless it only orders
                loads, needs_manager = view.loads(input_name)
                if producer is None or loads:
                    if needs_manager:
                        loaded_from_storage[input_name] = asset_graph.io_manager_key(key)
                    continue
            if producer[0] == node_name:
                continue
            deps[input_name] = producer[2]
            if producer[3] >= position:
                wired = False
        if check_nodes and not view.is_checks:
            upstream_keys = [(input_name, key) for input_name, key in view.inputs.items() if input_name in deps]
            for upstream_input, key in upstream_keys:
                for check_node, check_output in check_nodes.get(key, []):
                    check_input = f"__blocking_check_{check_node}"
                    if check_input not in extra_inputs:
                        extra_inputs[check_input] = []
                        deps[check_input] = DependencyDefinition(check_node, check_output)
                    extra_inputs[check_input].append(upstream_input)
        node_def = node_defs[node_name]
        if extra_inputs or loaded_from_storage:
            node_def = node_defs[node_name] = _with_inputs(node_def, extra_inputs, loaded_from_storage)
        dependencies[node_name] = deps

        if wired and not view.wired:
            wired = False
        shared = base.get(node_name) if base is not None else None
        if shared is None:
            restriction = False
            graph_nodes[node_name] = Node(node_name, node_def, None, view.hook_defs)
            continue
        base_view, base_deps, node, step = shared
        same_view = base_view is view  # else another definition, or a subset of it
        if restriction and not (same_view and deps.items() <= base_deps.items()):  # or a dependency it lacks
            restriction = False
        # the same op (its hooks are its view's when the view is the same)
        if node.definition is node_def and (same_view or node.hook_defs == view.hook_defs):
            graph_nodes[node_name] = node
            if same_view and step is not None and deps == base_deps:
                shared_steps[node_name] = step
        else:
            graph_nodes[node_name] = Node(node_name, node_def, None, view.hook_defs)
    graph_def = GraphDefinition._from_parts(
        name, description=None, nodes=graph_nodes, deps=dependencies, input_mappings=[], output_mappings=[],
        config=None, tags=None, validated=restriction or wired,
    )
    graph_def._step_sources = step_sources  # both read by the plan's wiring (`plan._Builder.flatten`)
    if shared_steps:
        graph_def._shared_steps = shared_steps
    resources = _merged_resources(nodes.values(), asset_graph, resource_defs)
    if "io_manager" not in resources:  # asset values persist, even under execute_in_process, as in Dagster
        from orchestra._core.io_managers.builtin import default_job_io_manager

        resources["io_manager"] = default_job_io_manager
    _check_source_io_managers(nodes.values(), asset_graph, producers, resources)
    job_partitions = partitions_def if partitions_def is not None else _common_partitions_def(nodes.values())
    job_tags = dict(tags or {})
    # the keys the layer's maps will have: the nodes' selected outputs and checks
    job_checks = frozenset(key for view in views.values() if view.check_keys for key in view.check_keys)
    layer = AssetLayer(asset_graph, nodes, frozenset(producers), job_checks)
    layer.build_args = dict(
        resource_defs=resource_defs, executor_def=executor_def, partitions_def=partitions_def, config=config,
        tags=tags, run_tags=run_tags, metadata=metadata, description=description, hooks=hooks,
        op_retry_policy=op_retry_policy, owners=owners, logger_defs=logger_defs,
    )
    job_def = JobDefinition(
        graph_def=graph_def, name=name, resource_defs=resources, executor_def=executor_def, config=config,
        description=description, partitions_def=job_partitions, tags=job_tags, run_tags=run_tags, metadata=metadata,
        hook_defs=hooks, op_retry_policy=op_retry_policy, asset_layer=layer, owners=owners, logger_defs=logger_defs,
    )
    if not restriction and (base is None or len(graph_nodes) > len(base)):
        # the largest valid job so far on this asset graph: later restrictions of it share its parts
        wiring = job_def._cache.get("plan_wiring")
        steps = wiring[1] if wiring is not None and not wiring[0].dynamic else {}  # by op node (no step is mapped)
        new_base: dict[str, _BaseNode] = {}
        for node_name, node in graph_nodes.items():
            entry = steps.get(node_name)  # (handle, node, wired inputs, tags, retry policy)
            step = (entry[0], entry[2]) if entry is not None and entry[1] is node else None
            new_base[node_name] = (views[node_name], dependencies[node_name], node, step)
        _RESTRICTION_BASE[asset_graph] = new_base
    return job_def


class _JobNode:
    """What building an asset job reads of one definition, worked out once per definition.

    A location's assets are in their group's job and in the implicit one, and each job read the same
    properties (each a fresh copy) of every definition it runs; a subset definition gets its own.
    """

    __slots__ = ("executable", "keys", "check_keys", "is_checks", "node_def", "outputs", "materializes", "inputs",
                 "hook_defs", "wired")

    def __init__(self, assets_def: AssetsDefinition):
        # the definition's fields read directly (each property is a call, for 2,000 definitions per location)
        execution_type = assets_def._execution_type
        self.executable = execution_type != UNEXECUTABLE
        # the definition's kept sets (never changed; only read here)
        self.keys = assets_def._key_set()
        self.check_keys = assets_def._check_key_set() if assets_def._check_specs_by_output_name else _NONE
        self.is_checks = isinstance(assets_def, AssetChecksDefinition)
        self.hook_defs = assets_def._hook_defs
        if not self.executable:
            return
        node_def = self.node_def = _subset_node(assets_def) if assets_def._is_subset else assets_def.node_def
        self.materializes = execution_type == MATERIALIZATION
        # (key, the dependency of a downstream input on it, the plan's source of that input): one shared,
        # immutable dependency per output, made as `DependencyDefinition(node_name, output_name)` makes it (its
        # `__new__` only refuses a missing node name), and for an op, the source the plan would make (a graph's
        # output comes from an op inside it)
        selected = assets_def._selected_asset_keys
        dependency, source, from_step = _WIRING or _wiring_names()
        node_name = node_def.name
        op = not hasattr(node_def, "output_mappings")
        self.outputs = [(key, _new_tuple(dependency, (node_name, output_name, None)),
                         source(from_step, node_name, output_name) if op else None)
                        for output_name, key in assets_def._keys_by_output_name.items() if key in selected]
        self.inputs = assets_def._keys_by_input_name  # the definition's own map, only read
        # whether the op has every input and output the definition names (what the graph's dependency check
        # would look up for each dependency of each job; a subset's op lacks the outputs it leaves out)
        try:
            self.wired = (self.inputs.keys() <= node_def.input_dict.keys()
                          and assets_def._keys_by_output_name.keys() <= node_def.output_dict.keys())
        except AttributeError:  # a node of another kind: the graph's check decides
            self.wired = False

    def loads(self, input_name: str) -> tuple[bool, bool]:
        """Whether an input reads its asset's value (not only ordering), and whether through the asset's IO
        manager (no input manager of its own); asked only for an input whose asset the job does not materialize."""
        node_def = self.node_def
        input_dict = getattr(node_def, "input_dict", None)
        input_def = (input_dict.get(input_name) if input_dict is not None
                     else node_def.input_def_named(input_name) if node_def.has_input(input_name) else None)
        loads = input_def is not None and not input_def.dagster_type.is_nothing
        return loads, loads and not input_def.input_manager_key


_NONE: frozenset[Any] = frozenset()


# A node of the largest valid job built on an asset graph, which smaller jobs on it restrict: its definition's
# `_JobNode` (the op before a job gives it other inputs), dependencies, `Node`, and for an op node (when no step
# is mapped) its handle and wired step inputs.
_BaseNode = tuple[_JobNode, dict[str, Any], Any, "tuple[Any, list[Any]] | None"]
_RESTRICTION_BASE: WeakKeyDictionary[AssetGraph, dict[str, _BaseNode]] = WeakKeyDictionary()
_WIRING: tuple[Any, ...] = ()  # `_wiring_names()`, once imported
_new_tuple = tuple.__new__


def _wiring_names() -> tuple[Any, ...]:
    # `DependencyDefinition`, `plan.StepInputSource` and `plan.FROM_STEP`, imported on first use (a `from`
    # import per definition adds up)
    global _WIRING
    from orchestra._core.definitions.dependency import DependencyDefinition
    from orchestra._core.plan import FROM_STEP, StepInputSource

    _WIRING = (DependencyDefinition, StepInputSource, FROM_STEP)
    return _WIRING


def job_node(assets_def: AssetsDefinition) -> _JobNode:
    """The `_JobNode` of a definition, kept with its other views (a derived definition starts without)."""
    views = assets_def.__dict__.get("_views")  # `_derived`'s store, read and filled here: no closure per lookup
    if views is None:
        return assets_def._derived("job_node", lambda: _JobNode(assets_def))  # (makes the store)
    view = views.get("job_node")
    if view is None:
        view = views["job_node"] = _JobNode(assets_def)
    return view


def _subset_node(assets_def: AssetsDefinition) -> Any:
    """The node of a subsetted assets definition, keeping only the selected outputs (ops only)."""
    node_def = assets_def.node_def
    if not assets_def.is_subset:
        return node_def
    from orchestra._core.definitions.op import OpDefinition

    if not isinstance(node_def, OpDefinition):
        return node_def
    keep = set(assets_def.keys_by_output_name) | set(assets_def.check_specs_by_output_name)
    outputs = [o for o in node_def.output_defs if o.name in keep]
    # the step still answers for the dropped outputs: a required one missing or any one yielded fails it
    dropped = [o for o in node_def.output_defs if o.name not in keep]
    return node_def.with_replaced_properties(
        output_defs=outputs, output_dict={o.name: o for o in outputs}, unselected_output_defs=dropped,
    )


def _with_inputs(node_def: Any, nothing_inputs: dict[str, list[str]], manager_keys: dict[str, str]) -> Any:
    """The node with extra ordering-only inputs (each with the inputs it orders), and an op's inputs read from
    storage set to their asset's IO manager."""
    from orchestra._builtins import Nothing
    from orchestra._core.definitions.graph import GraphDefinition
    from orchestra._core.definitions.inout import InputDefinition

    if isinstance(node_def, GraphDefinition):
        return _graph_with_inputs(node_def, nothing_inputs) if nothing_inputs else node_def
    if not hasattr(node_def, "with_replaced_properties"):
        return node_def
    inputs = []
    for d in node_def.input_defs:
        if d.name in manager_keys:
            d = InputDefinition(d.name, d.dagster_type, d.description, d.default_value, d.metadata,
                                manager_keys[d.name], d.asset_key)
        inputs.append(d)
    inputs += [InputDefinition(n, Nothing) for n in nothing_inputs]
    return node_def.with_replaced_properties(input_defs=inputs, input_dict={i.name: i for i in inputs})


def _graph_with_inputs(graph_def: Any, nothing_inputs: dict[str, list[str]]) -> Any:
    """The graph with extra ordering-only inputs, each mapped to the inner nodes that read the graph inputs it
    orders (nested graphs likewise): as in Dagster, only the steps reading an upstream asset wait for its
    blocking checks, so a failed check skips them and the steps that depend on them."""
    from orchestra._builtins import Nothing
    from orchestra._core.definitions.dependency import InputMapping
    from orchestra._core.definitions.graph import Node
    from orchestra._core.definitions.inout import InputDefinition

    by_node: dict[str, dict[str, list[str]]] = {}  # inner node -> its ordering inputs -> the inputs they order
    for mapping in graph_def.input_mappings:
        for name, ordered in nothing_inputs.items():
            if mapping.graph_input_name in ordered:
                by_node.setdefault(mapping.mapped_node_name, {}).setdefault(name, []).append(
                    mapping.mapped_node_input_name)
    nodes = dict(graph_def.node_dict)
    mappings = list(graph_def.input_mappings)
    for node_name, node_inputs in by_node.items():
        node = nodes[node_name]
        definition = _with_inputs(node.definition, node_inputs, {})
        nodes[node_name] = Node(node_name, definition, node.tags, node.hook_defs, node.retry_policy)
        mappings += [InputMapping(name, node_name, name) for name in node_inputs]
    inputs = list(graph_def.input_defs) + [InputDefinition(name, Nothing) for name in nothing_inputs]
    copy = object.__new__(type(graph_def))
    copy.__dict__.update(graph_def.__dict__)  # same outputs, dependencies and settings
    copy._nodes, copy._input_mappings = nodes, mappings
    copy._input_defs, copy._input_dict = inputs, {i.name: i for i in inputs}
    return copy


def _merged_resources(assets_defs: Iterable[AssetsDefinition], asset_graph: AssetGraph, given: dict[str, Any] | None) -> dict[str, Any]:
    """Job resources: those given, plus resources attached to assets and source assets."""
    from orchestra._core.resources.initialization import coerce_to_resource_definitions

    merged: dict[str, Any] = coerce_to_resource_definitions(dict(given or {}))
    attached: list[dict[str, Any]] = [a._resource_defs for a in assets_defs if a._resource_defs]  # read only
    attached += [s.resource_defs for s in asset_graph.source_assets]
    for resource_defs in attached:
        for key, definition in resource_defs.items():
            if key in merged and merged[key] is not definition and key not in (given or {}):
                raise DagsterInvalidDefinitionError(
                    f"Conflicting versions of resource with key '{key}' were provided to different assets. When "
                    "constructing a job, all resource definitions provided to assets must match by reference "
                    "equality for a given key."
                )
            merged.setdefault(key, definition)
    return merged


def _check_source_io_managers(assets_defs: Iterable[AssetsDefinition], asset_graph: AssetGraph,
                              producers: dict[AssetKey, Any], resources: dict[str, Any]) -> None:
    """Source assets read by the job need their IO manager, as Dagster checks when building the job."""
    if not asset_graph.source_asset_by_key:  # nothing is read from a source asset
        return
    from orchestra._core.io_managers.base import IOManagerDefinition

    for assets_def in assets_defs:
        input_dict = getattr(assets_def.node_def, "input_dict", {})
        for input_name, key in assets_def.node_keys_by_input_name.items():
            source = asset_graph.source_asset_by_key.get(key)
            if source is None or key in producers:
                continue
            input_def = input_dict.get(input_name)
            if input_def is not None and input_def.dagster_type.is_nothing:  # a dep only orders, nothing is loaded
                continue
            manager_key = source.get_io_manager_key()
            if manager_key not in resources:
                io_keys = sorted(k for k, v in resources.items() if isinstance(v, IOManagerDefinition)) or ["io_manager"]
                raise DagsterInvalidDefinitionError(
                    f"io manager with key '{manager_key}' required by SourceAsset with key {key.to_string()} was not "
                    f"provided. Please provide a IOManagerDefinition to key '{manager_key}', or change the required "
                    f"key to one of the following keys which points to an IOManagerDefinition: {io_keys}"
                )


def check_common_partitions_def(job_name: str, asset_graph: AssetGraph, asset_keys: Iterable[AssetKey],
                                required: Any = None) -> None:
    """Dagster's rule for a job built from a selection (`define_asset_job`, `materialize`; not the implicit
    asset job): its partitioned assets share one partitions definition, the job's own when it names one."""
    keys_by_partitions_def: dict[Any, set[AssetKey]] = {}
    for key in sorted(asset_keys, key=lambda k: k.parts):  # the error lists definitions in a stable order
        partitions_def = asset_graph.partitions_def(key)
        if partitions_def is None:
            continue
        if required is not None and partitions_def != required:
            raise DagsterInvalidDefinitionError(
                f"Executable asset {key} has a different partitions definition than the one specified for the job. "
                f"Specifed partitions definition: {required}. Asset partitions definition: {partitions_def}."
            )
        keys_by_partitions_def.setdefault(partitions_def, set()).add(key)
    if len(keys_by_partitions_def) > 1:
        listed = "\n".join(f"{partitions_def}: {keys}" for partitions_def, keys in keys_by_partitions_def.items())
        raise DagsterInvalidDefinitionError(
            f'Error resolving selection for asset job "{job_name}": Selected assets must have the same partitions '
            f"definitions, but the selected assets have different partitions definitions: \n{listed}"
        )


def _common_partitions_def(assets_defs: Iterable[AssetsDefinition]) -> Any:
    """The job's partitions when none are given: the first node's that has any (others that differ change nothing)."""
    for assets_def in assets_defs:
        partitions_def = assets_def.partitions_def
        if partitions_def is not None:
            return partitions_def
    return None


def subset_asset_job(job_def: Any, asset_selection: Any, asset_check_selection: Any = None) -> Any:
    """The asset job restricted to `asset_selection` (keys, strings or an AssetSelection), same name and settings."""
    from orchestra._core.assets.materialize import resolve_selection

    layer = job_def._asset_layer
    keys, checks = resolve_selection(asset_selection, layer.asset_graph) if asset_selection is not None else (
        layer.selected_asset_keys, None)
    if asset_check_selection is not None:
        checks = {c for c in asset_check_selection}
    return build_assets_job(job_def.name, layer.asset_graph, selected_asset_keys=keys, selected_check_keys=checks,
                            **layer.build_args)
