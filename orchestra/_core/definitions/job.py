"""Jobs: `JobDefinition` (a graph plus resources, executor, loggers, config and tags) and `@job`."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from orchestra._core.definitions.executor import check_executor_def
from orchestra._core.definitions.graph import GraphDefinition, graph_parts_from_composition
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvalidSubsetError


class JobDefinition:
    """An executable graph: the graph, its resources, executor, loggers, default config and tags.

    Example:
        >>> @job(tags={"team": "data"})
        ... def my_job():
        ...     add_one(return_one())
        >>> my_job.execute_in_process().success
        True
    """

    def __init__(
        self,
        *,
        graph_def: GraphDefinition,
        resource_defs: dict[str, Any] | None = None,
        executor_def: Any = None,
        logger_defs: dict[str, Any] | None = None,
        name: str | None = None,
        config: Any = None,
        description: str | None = None,
        partitions_def: Any = None,
        tags: dict[str, Any] | None = None,
        run_tags: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        hook_defs: Any = None,
        op_retry_policy: Any = None,
        asset_layer: Any = None,
        input_values: dict[str, Any] | None = None,
        owners: list[str] | None = None,
        _op_selection: list[str] | None = None,
        _parent: JobDefinition | None = None,
        **_ignored: Any,
    ):
        if not isinstance(graph_def, GraphDefinition):
            raise DagsterInvalidDefinitionError(f"graph_def must be a GraphDefinition, got {graph_def!r}")
        from orchestra._core.resources.initialization import coerce_to_resource_definitions

        self._graph_def = graph_def
        self._name = name or graph_def.name
        self._given_resources = dict(resource_defs or {})
        self._resource_defs = coerce_to_resource_definitions(resource_defs or {})
        self._user_io_manager = "io_manager" in self._resource_defs
        if not self._user_io_manager:
            from orchestra._core.io_managers.builtin import default_job_io_manager

            self._resource_defs["io_manager"] = default_job_io_manager
        self._executor_def = check_executor_def(executor_def)
        self._logger_defs = dict(logger_defs or {})
        self._config = config
        self._description = description
        self._partitions_def = partitions_def
        self._tags = {k: _tag_str(v) for k, v in (tags or {}).items()}
        self._run_tags = None if run_tags is None else {k: _tag_str(v) for k, v in run_tags.items()}
        self._metadata = dict(metadata or {})
        self._hook_defs = frozenset(hook_defs or ())
        self._op_retry_policy = op_retry_policy
        self._asset_layer = asset_layer
        self._input_values = dict(input_values or {})
        self._owners = list(owners or [])
        self._op_selection = list(_op_selection) if _op_selection else None
        self._parent = _parent
        self._cache: dict[str, Any] = {}
        if resource_defs:  # as Dagster: without explicit resources the check waits for Definitions or execution
            self.validate_resource_requirements_satisfied()
        from orchestra._core.resources.initialization import resource_init_order

        resource_init_order(self._resource_defs, keys=None)
        for input_name in self._input_values:
            if not graph_def.has_input(input_name):
                raise DagsterInvalidDefinitionError(
                    f"Error when constructing JobDefinition '{self._name}': Input value provided for key "
                    f"'{input_name}', but job has no top-level input with that name."
                )
        from orchestra._core.plan import validate_plan

        validate_plan(self)  # surfaces unresolvable inputs and bad dynamic wiring at definition time

    def validate_resource_requirements_satisfied(self, extra_keys: Any = ()) -> None:
        """Raise DagsterInvalidDefinitionError naming the first resource key an op needs but nobody provides."""
        provided = set(self._resource_defs) | set(extra_keys)
        for key in sorted(self._graph_def.required_resource_keys):
            if key not in provided:
                raise DagsterInvalidDefinitionError(
                    f"resource with key '{key}' required by op '{_op_requiring(self._graph_def, key)}' was not provided. "
                    "Please provide a ResourceDefinition to key "
                    f"'{key}', or change the required key to one of the following keys which points to an "
                    f"ResourceDefinition: {sorted(provided)}"
                )

    # --- properties -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def graph(self) -> GraphDefinition:
        return self._graph_def

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def tags(self) -> dict[str, str]:
        return self._tags

    @property
    def run_tags(self) -> dict[str, str]:
        return self._tags if self._run_tags is None else self._run_tags

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    @property
    def resource_defs(self) -> dict[str, Any]:
        return self._resource_defs

    @property
    def executor_def(self) -> Any:
        return self._executor_def

    @property
    def logger_defs(self) -> dict[str, Any]:
        return self._logger_defs

    @property
    def loggers(self) -> dict[str, Any]:
        return self._logger_defs

    @property
    def partitions_def(self) -> Any:
        if self._partitions_def is None and _is_partitioned_config(self._config):
            return self._config.partitions_def
        return self._partitions_def

    @property
    def partitioned_config(self) -> Any:
        """The job's PartitionedConfig (built from `config` and `partitions_def`), or None."""
        if _is_partitioned_config(self._config):
            return self._config
        if self._partitions_def is None:
            return None
        from orchestra._core.partitions.config import PartitionedConfig

        cached = self._cache.get("partitioned_config")
        if cached is None:
            cached = self._cache["partitioned_config"] = PartitionedConfig.from_flexible_config(self._config, self._partitions_def)
        return cached

    @property
    def hook_defs(self) -> frozenset:
        return self._hook_defs

    @property
    def op_retry_policy(self) -> Any:
        return self._op_retry_policy

    @property
    def input_values(self) -> dict[str, Any]:
        return self._input_values

    @property
    def owners(self) -> list[str]:
        return self._owners

    @property
    def config(self) -> Any:
        return self._config

    @property
    def op_selection(self) -> list[str] | None:
        return self._op_selection

    @property
    def is_subset(self) -> bool:
        return self._op_selection is not None

    @property
    def nodes(self) -> list[Any]:
        return self._graph_def.nodes

    @property
    def nodes_in_topological_order(self) -> list[Any]:
        from orchestra._core.plan import plan_for_job

        order: list[Any] = []
        for step in plan_for_job(self).steps:
            name = str(step.node_handle).split(".")[0]
            node = self._graph_def.node_named(name)
            if node not in order:
                order.append(node)
        return order

    @property
    def top_level_node_names(self) -> list[str]:
        return list(self._graph_def.node_dict)

    @property
    def is_job(self) -> bool:
        return True

    def has_node_named(self, name: str) -> bool:
        return self._graph_def.has_node_named(name)

    def get_node(self, handle: Any) -> Any:
        return self._graph_def.get_node(handle)

    @property
    def run_config_schema(self) -> Any:
        from orchestra._core.run_config import run_config_schema_for_job

        return run_config_schema_for_job(self)

    # --- derived jobs -------------------------------------------------------------------------

    def _copy(self, **changes: Any) -> JobDefinition:
        args = dict(
            graph_def=self._graph_def, resource_defs=self._given_resources, executor_def=self._executor_def,
            logger_defs=self._logger_defs, name=self._name, config=self._config, description=self._description,
            partitions_def=self._partitions_def, tags=self._tags, run_tags=self._run_tags, metadata=self._metadata,
            hook_defs=self._hook_defs, op_retry_policy=self._op_retry_policy, asset_layer=self._asset_layer,
            input_values=self._input_values, owners=self._owners, _op_selection=self._op_selection, _parent=self._parent,
        )
        if not self._user_io_manager:
            args["resource_defs"] = {k: v for k, v in self._given_resources.items() if k != "io_manager"}
        args.update(changes)
        return JobDefinition(**args)

    def get_subset(self, *, op_selection: list[str] | None = None, asset_selection: Any = None, asset_check_selection: Any = None) -> JobDefinition:
        """The job restricted to the ops matched by `op_selection` (`*a`, `a+`, `g.op`, ...)."""
        if (asset_selection is not None or asset_check_selection is not None) and self._asset_layer is not None:
            from orchestra._core.assets.job import subset_asset_job  # assets hook

            return subset_asset_job(self, asset_selection, asset_check_selection)
        if not op_selection:
            return self
        parent = self._parent or self
        key = "subset:" + ",".join(sorted(op_selection))
        cached = parent._cache.get(key)
        if cached is not None:
            return cached
        selected = parse_op_selection(parent.graph, op_selection)
        subset_graph = subset_graph_def(parent.graph, selected)
        subset = parent._copy(graph_def=subset_graph, _op_selection=list(op_selection), _parent=parent)
        parent._cache[key] = subset
        return subset

    def with_top_level_resources(self, resource_defs: dict[str, Any]) -> JobDefinition:
        merged = {**resource_defs, **self._given_resources}
        return self._copy(resource_defs=merged)

    def with_hooks(self, hook_defs: Any) -> JobDefinition:
        """A copy of this job whose every op runs `hook_defs` after its step."""
        return self._copy(hook_defs=self._hook_defs | frozenset(hook_defs))

    def with_resources(self, resource_defs: dict[str, Any]) -> JobDefinition:
        return self._copy(resource_defs={**self._given_resources, **resource_defs})

    # --- execution ------------------------------------------------------------------------

    def execute_in_process(
        self,
        run_config: Any = None,
        instance: Any = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        op_selection: list[str] | None = None,
        asset_selection: Any = None,
        run_id: str | None = None,
        input_values: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        resources: dict[str, Any] | None = None,
    ) -> Any:
        """Run the job in this process with an in-memory IO manager; return an `ExecuteInProcessResult`.

        Example:
            >>> result = my_job.execute_in_process(run_config={"ops": {"a": {"config": {"n": 1}}}})
            >>> result.output_for_node("a")
        """
        from orchestra._core.execute import execute_job_in_process

        self.validate_resource_requirements_satisfied(resources or ())
        job_def = self.get_subset(asset_selection=asset_selection) if asset_selection is not None else self
        return execute_job_in_process(
            job_def, run_config=run_config, instance=instance, partition_key=partition_key,
            raise_on_error=raise_on_error, op_selection=op_selection, run_id=run_id,
            input_values=input_values, tags=tags, resources=resources,
        )

    def __repr__(self) -> str:
        return f"<JobDefinition {self._name}>"


def _is_partitioned_config(value: Any) -> bool:
    return type(value).__name__ == "PartitionedConfig" and hasattr(value, "get_run_config_for_partition_key")


def _tag_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value)


def _op_requiring(graph_def: GraphDefinition, key: str) -> str:
    for op_def in graph_def.iterate_op_defs():
        if key in op_def.required_resource_keys:
            return op_def.name
    return "?"


# --- op selection -------------------------------------------------------------------------------

_CLAUSE = re.compile(r"^(\*|\+*)?([^*+]+?)(\*|\+*)?$")


def parse_op_selection(graph_def: GraphDefinition, op_selection: list[str]) -> dict[str, Any]:
    """Selected top-level nodes: `{name: None}` for a whole node, `{graph: {...}}` for ops inside a graph.

    Clauses follow Dagster: `name`, `*name`, `name+`, `++name` at the top level, `graph.op` inside graphs.
    """
    nested: dict[str, Any] = {}
    plain: list[str] = []
    for clause in op_selection:
        if "." in clause.strip().strip("*+"):
            _add_nested(graph_def, clause.strip().split("."), nested)
        else:
            plain.append(clause)
    if plain == ["*"]:
        plain = list(graph_def.node_dict)
    # Dagster rejects the whole selection when any one clause selects nothing.
    if any(not _parse_top_level(graph_def, [clause]) for clause in plain):
        raise DagsterInvalidSubsetError(f"No qualified ops to execute found for op_selection={list(op_selection)}")
    selected_top = _parse_top_level(graph_def, plain) if plain else set()
    if not selected_top and not nested:
        raise DagsterInvalidSubsetError(f"No qualified ops to execute found for op_selection={list(op_selection)}")
    tree: dict[str, Any] = {name: None for name in selected_top}
    for name, inner in nested.items():
        if name not in tree:
            tree[name] = inner
    return tree


def _add_nested(graph_def: Any, parts: list[str], tree: dict[str, Any]) -> None:
    head, rest = parts[0], parts[1:]
    if head not in graph_def.node_dict:
        raise DagsterInvalidSubsetError(f"Node {head} was selected, but no node named {head} was found.")
    if not rest:
        tree[head] = None
        return
    definition = graph_def.node_dict[head].definition
    if not isinstance(definition, GraphDefinition):
        raise DagsterInvalidSubsetError(f"Node {head} was selected, but it is not a graph.")
    if head in tree and tree[head] is None:
        return
    _add_nested(definition, rest, tree.setdefault(head, {}))


def _parse_top_level(graph_def: GraphDefinition, op_selection: list[str]) -> set[str]:
    names = set(graph_def.node_dict)
    upstream: dict[str, set[str]] = {n: set() for n in names}
    downstream: dict[str, set[str]] = {n: set() for n in names}
    for node_name, deps in graph_def.dependency_map.items():
        for dep in deps.values():
            for up in dep.get_node_dependencies():
                upstream[node_name].add(up.node)
                downstream[up.node].add(node_name)
    selected: set[str] = set()
    for clause in op_selection:
        match = _CLAUSE.match(clause.strip())
        if not match:
            continue
        up_part, name, down_part = match.group(1) or "", match.group(2), match.group(3) or ""
        top = name.split(".")[0]
        if top not in names:
            continue
        selected.add(top)
        for part, graph_edges in ((up_part, upstream), (down_part, downstream)):
            depth = None if part == "*" else len(part)
            frontier = {top}
            level = 0
            while frontier and (depth is None or level < depth):
                frontier = {n for f in frontier for n in graph_edges[f]} - selected
                selected |= frontier
                level += 1
    return selected


def subset_graph_def(graph_def: GraphDefinition, selected: dict[str, Any]) -> GraphDefinition:
    from orchestra._core.definitions.graph import Node

    nodes = {}
    for name, node in graph_def.node_dict.items():
        if name not in selected:
            continue
        inner = selected[name]
        if inner is not None:
            node = Node(name, subset_graph_def(node.definition, inner), node.tags, node.hook_defs, node.retry_policy)
        nodes[name] = node
    deps: dict[str, dict[str, Any]] = {}
    from orchestra._core.definitions.dependency import MultiDependencyDefinition

    for node_name, node_deps in graph_def.dependency_map.items():
        if node_name not in selected:
            continue
        kept: dict[str, Any] = {}
        for input_name, dep in node_deps.items():
            if isinstance(dep, MultiDependencyDefinition):
                items = [d for d in dep.dependencies if not hasattr(d, "node") or _still_there(nodes, d.node, d.output)]
                if items:
                    kept[input_name] = MultiDependencyDefinition(items)
            elif all(_still_there(nodes, d.node, d.output) for d in dep.get_node_dependencies()):
                kept[input_name] = dep
        deps[node_name] = kept
    input_mappings = [m for m in graph_def.input_mappings if m.mapped_node_name in selected]
    output_mappings = [m for m in graph_def.output_mappings if m.mapped_node_name in selected]
    return GraphDefinition._from_parts(
        graph_def.name, description=graph_def.description, nodes=nodes, deps=deps, input_mappings=input_mappings,
        output_mappings=output_mappings, config=graph_def.config_mapping, tags=graph_def.tags,
    )


def _still_there(nodes: dict[str, Any], node_name: str, output_name: str) -> bool:
    node = nodes.get(node_name)
    return node is not None and node.definition.has_output(output_name)


# --- @job ---------------------------------------------------------------------------------------


def job(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    resource_defs: dict[str, Any] | None = None,
    config: Any = None,
    tags: dict[str, Any] | None = None,
    run_tags: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    logger_defs: dict[str, Any] | None = None,
    executor_def: Any = None,
    hooks: Any = None,
    op_retry_policy: Any = None,
    partitions_def: Any = None,
    input_values: dict[str, Any] | None = None,
    owners: list[str] | None = None,
) -> Any:
    """Build a job from a composition function.

    Example:
        >>> @job(resource_defs={"db": db_resource}, op_retry_policy=RetryPolicy(max_retries=2))
        ... def nightly():
        ...     load(extract())
    """

    def decorate(fn: Callable[..., Any]) -> JobDefinition:
        job_name = name or fn.__name__
        parts = graph_parts_from_composition(job_name, "@job", fn)
        if parts["output_mappings"]:  # a job has no outputs, so its body may not return one
            first = parts["output_mappings"][0]
            raise DagsterInvalidDefinitionError(
                f"Returned a single output ({first.mapped_node_name}.{first.mapped_node_output_name}) in @job "
                f"'{job_name}' but 0 outputs are defined. Return a dict to map defined outputs."
            )
        graph_def = GraphDefinition._from_parts(
            job_name, description=description or inspect.getdoc(fn), config=None, tags=None, **parts
        )
        return JobDefinition(
            graph_def=graph_def, name=job_name, description=description or inspect.getdoc(fn),
            resource_defs=resource_defs, config=config, tags=tags, run_tags=run_tags, metadata=metadata,
            logger_defs=logger_defs, executor_def=executor_def, hook_defs=hooks, op_retry_policy=op_retry_policy,
            partitions_def=partitions_def, input_values=input_values, owners=owners,
        )

    if compose_fn is not None:
        return decorate(compose_fn)
    return decorate
