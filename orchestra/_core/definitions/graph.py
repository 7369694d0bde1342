"""Graphs: `GraphDefinition`, `@graph`, and how composition records become nodes and dependencies."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from orchestra._config.mapping import ConfigMapping
from orchestra._core.definitions.composition import (
    CollectHandle,
    DynamicHandle,
    GraphInputHandle,
    InvokedOutput,
    run_composition,
)
from orchestra._core.definitions.dependency import (
    DependencyDefinition,
    DynamicCollectingDependencyDefinition,
    InputMapping,
    MappedInputPlaceholder,
    MultiDependencyDefinition,
    NodeInvocation,
    OutputMapping,
)
from orchestra._core.definitions.inout import GraphIn, GraphOut, InputDefinition, OutputDefinition
from orchestra._core.definitions.node import NodeDefinition
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError

_NO_HOOKS: frozenset[Any] = frozenset()


class Node:
    """One use of a definition inside a graph, under its (possibly aliased) name."""

    __slots__ = ("name", "definition", "tags", "hook_defs", "retry_policy")

    def __init__(self, name: str, definition: NodeDefinition, tags: dict | None = None, hook_defs: frozenset | None = None, retry_policy: Any = None):
        self.name = name
        self.definition = definition
        self.tags = {**definition.tags, **tags} if tags else dict(definition.tags)
        self.hook_defs = frozenset(hook_defs) if hook_defs else _NO_HOOKS  # (one empty set for every node without)
        self.retry_policy = retry_policy

    @property
    def is_graph(self) -> bool:
        return isinstance(self.definition, GraphDefinition)

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.definition!r})"


class GraphDefinition(NodeDefinition):
    """A set of nodes (ops or graphs) wired by dependencies; `to_job()` makes it executable.

    Example:
        >>> @graph
        ... def add_two(x):
        ...     return add_one.alias("second")(add_one(x))
        >>> job = add_two.to_job(input_values={"x": 1})
    """

    node_type_str = "graph"

    def __init__(
        self,
        name: str,
        *,
        description: str | None = None,
        node_defs: list[NodeDefinition] | None = None,
        dependencies: dict[Any, dict[str, Any]] | None = None,
        input_mappings: list[InputMapping] | None = None,
        output_mappings: list[OutputMapping] | None = None,
        config: Any = None,
        tags: dict[str, Any] | None = None,
        input_defs: list[InputDefinition] | None = None,
        **_ignored: Any,
    ):
        nodes, deps = _nodes_from_definitions(name, node_defs or [], dependencies or {})
        self._init_from_parts(name, description, nodes, deps, input_mappings or [], output_mappings or [], config, tags, input_defs)

    def _init_from_parts(self, name: str, description: str | None, nodes: dict[str, Node], deps: dict[str, dict[str, Any]],
                         input_mappings: list[InputMapping], output_mappings: list[OutputMapping], config: Any,
                         tags: dict | None, input_defs: list[InputDefinition] | None = None,
                         input_descriptions: dict[str, str | None] | None = None,
                         output_descriptions: dict[str, str | None] | None = None, validated: bool = False) -> None:
        self._nodes = nodes
        self._deps = deps
        self._input_mappings = list(input_mappings)
        self._output_mappings = list(output_mappings)
        self._config_mapping = config
        if not validated:  # `validated`: the caller knows the nodes and dependencies are a valid graph's
            _validate_dependencies(name, nodes, deps)
        graph_inputs = _graph_input_defs(name, nodes, self._input_mappings, input_defs, input_descriptions or {})
        graph_outputs = _graph_output_defs(name, nodes, self._output_mappings, output_descriptions or {})
        super().__init__(name, graph_inputs, graph_outputs, description, tags)

    @classmethod
    def _from_parts(cls, name: str, **parts: Any) -> GraphDefinition:
        graph = object.__new__(cls)
        graph._init_from_parts(name, **parts)
        return graph

    # --- structure ------------------------------------------------------------------------

    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    @property
    def node_dict(self) -> dict[str, Node]:
        return self._nodes

    @property
    def node_defs(self) -> list[NodeDefinition]:
        seen: dict[int, NodeDefinition] = {}
        for node in self._nodes.values():
            seen.setdefault(id(node.definition), node.definition)
        return list(seen.values())

    @property
    def dependencies(self) -> dict[NodeInvocation, dict[str, Any]]:
        return {
            NodeInvocation(self._nodes[n].definition.name, alias=n): dict(d) for n, d in self._deps.items()
        }

    @property
    def dependency_map(self) -> dict[str, dict[str, Any]]:
        return self._deps

    @property
    def input_mappings(self) -> list[InputMapping]:
        return self._input_mappings

    @property
    def output_mappings(self) -> list[OutputMapping]:
        return self._output_mappings

    @property
    def config_mapping(self) -> Any:
        return self._config_mapping

    def has_node_named(self, name: str) -> bool:
        return name in self._nodes

    def node_names(self) -> list[str]:
        return [node.name for node in self.nodes]

    def node_named(self, name: str) -> Node:
        try:
            return self._nodes[name]
        except KeyError:
            raise DagsterInvariantViolationError(f"{self.node_type_str} {self.name} has no node named {name}.")

    def get_node(self, handle: Any) -> Node:
        graph: GraphDefinition = self
        node: Node | None = None
        for part in str(handle).split("."):
            node = graph.node_named(part)
            graph = node.definition  # type: ignore[assignment]
        assert node is not None
        return node

    def iterate_op_defs(self):
        for node in self._nodes.values():
            if isinstance(node.definition, GraphDefinition):
                yield from node.definition.iterate_op_defs()
            else:
                yield node.definition

    @property
    def required_resource_keys(self) -> frozenset[str]:
        # worked out once: a graph's nodes never change, and a job checks its resources more than once
        cached = self.__dict__.get("_required_resource_keys")
        if cached is None:
            keys: set[str] = set()
            for node in self._nodes.values():  # an inner graph's keys are its ops' (and kept with it)
                keys.update(node.definition.required_resource_keys)
            cached = self.__dict__["_required_resource_keys"] = frozenset(keys)
        return cached

    # --- jobs -----------------------------------------------------------------------------

    def to_job(
        self,
        name: str | None = None,
        description: str | None = None,
        resource_defs: dict[str, Any] | None = None,
        config: Any = None,
        tags: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        logger_defs: dict[str, Any] | None = None,
        executor_def: Any = None,
        hooks: Any = None,
        op_retry_policy: Any = None,
        op_selection: list[str] | None = None,
        partitions_def: Any = None,
        asset_layer: Any = None,
        input_values: dict[str, Any] | None = None,
        run_tags: dict[str, Any] | None = None,
        _asset_selection_data: Any = None,
        owners: list[str] | None = None,
        automation_condition: Any = None,
    ) -> Any:
        """Make a job that runs this graph with the given resources, config, executor and tags."""
        from orchestra._core.definitions.job import JobDefinition

        job = JobDefinition(
            graph_def=self, name=name, description=description or self.description, resource_defs=resource_defs,
            config=config, tags=tags, metadata=metadata, logger_defs=logger_defs, executor_def=executor_def,
            hook_defs=hooks, op_retry_policy=op_retry_policy, partitions_def=partitions_def,
            input_values=input_values, run_tags=run_tags, owners=owners, asset_layer=asset_layer,
        )
        return job.get_subset(op_selection=op_selection) if op_selection else job

    def execute_in_process(self, run_config: Any = None, instance: Any = None, resources: dict[str, Any] | None = None,
                           raise_on_error: bool = True, op_selection: list[str] | None = None, run_id: str | None = None,
                           input_values: dict[str, Any] | None = None) -> Any:
        """Run this graph as an ephemeral job (in-memory IO manager) and return its result."""
        job = self.to_job(name=self.name, resource_defs=resources, input_values=input_values)
        return job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=raise_on_error, op_selection=op_selection,
            run_id=run_id,
        )

    def __repr__(self) -> str:
        return f"<GraphDefinition {self.name}>"


# --- building from explicit definitions ---------------------------------------------------------


def _nodes_from_definitions(graph_name: str, node_defs: list[NodeDefinition], dependencies: dict[Any, dict[str, Any]]) -> tuple[dict[str, Node], dict[str, dict[str, Any]]]:
    by_name: dict[str, NodeDefinition] = {}
    for definition in node_defs:
        if not isinstance(definition, NodeDefinition):
            raise DagsterInvalidDefinitionError(f"Invalid item in node list: {definition!r}")
        existing = by_name.get(definition.name)
        if existing is not None and existing is not definition:
            raise DagsterInvalidDefinitionError(
                f'Detected conflicting node definitions with the same name "{definition.name}"'
            )
        by_name[definition.name] = definition
    nodes: dict[str, Node] = {}
    deps: dict[str, dict[str, Any]] = {}
    aliased: set[str] = set()
    for key, input_deps in dependencies.items():
        if isinstance(key, NodeInvocation):
            if key.name not in by_name:
                raise DagsterInvalidDefinitionError(
                    f'Invalid dependencies: node "{key.name}" in node invocation not found in node list'
                )
            alias = key.alias or key.name
            nodes[alias] = Node(alias, by_name[key.name], key.tags, key.hook_defs, key.retry_policy)
            aliased.add(key.name)
            deps[alias] = dict(input_deps or {})
        else:
            if key not in by_name:
                raise DagsterInvalidDefinitionError(
                    f'Invalid dependencies: node "{key}" in dependency dictionary not found in node list'
                )
            nodes.setdefault(key, Node(key, by_name[key]))
            deps[key] = dict(input_deps or {})
    for name, definition in by_name.items():
        if name not in nodes and name not in aliased:
            nodes[name] = Node(name, definition)
    return nodes, deps


def _validate_dependencies(graph_name: str, nodes: dict[str, Node], deps: dict[str, dict[str, Any]]) -> None:
    # When every dependency points at a node listed earlier (as a job built from assets lists them, in
    # dependency order) there can be no cycle, and the search for one is skipped.
    position = {name: index for index, name in enumerate(nodes)}
    backward = True
    for node_name, input_deps in deps.items():
        definition = nodes[node_name].definition
        here = position[node_name]
        for input_name, dep in input_deps.items():
            if not definition.has_input(input_name):
                raise DagsterInvalidDefinitionError(
                    f'Invalid dependencies: node "{node_name}" does not have input "{input_name}". Available inputs: '
                    f"{[d.name for d in definition.input_defs]}"
                )
            if not isinstance(dep, (DependencyDefinition, MultiDependencyDefinition, DynamicCollectingDependencyDefinition)):
                raise DagsterInvalidDefinitionError(
                    f'Invalid item in dependency dictionary for node "{node_name}" input "{input_name}": {dep!r}'
                )
            for upstream in _upstream_of(dep):
                if upstream.node not in nodes:
                    raise DagsterInvalidDefinitionError(
                        f'Invalid dependencies: node "{upstream.node}" not found in node list. Listed as dependency '
                        f'for node "{node_name}" input "{input_name}"'
                    )
                if not nodes[upstream.node].definition.has_output(upstream.output):
                    raise DagsterInvalidDefinitionError(
                        f'Invalid dependencies: node "{upstream.node}" does not have output "{upstream.output}". '
                        f'Listed as dependency for node "{node_name}" input "{input_name}"'
                    )
                if position[upstream.node] >= here:
                    backward = False
    if not backward:
        _check_acyclic(graph_name, nodes, deps)


def _upstream_of(dep: Any) -> Any:
    # `get_node_dependencies()` of a plain dependency is itself, in a new list: asked for every input
    # of every node of a large job, twice
    return (dep,) if type(dep) is DependencyDefinition else dep.get_node_dependencies()


def _check_acyclic(graph_name: str, nodes: dict[str, Node], deps: dict[str, dict[str, Any]]) -> None:
    upstream = {n: {u.node for d in deps.get(n, {}).values() for u in _upstream_of(d)} for n in nodes}
    state: dict[str, int] = {}
    for start in nodes:
        if state.get(start):
            continue
        stack = [(start, iter(upstream[start]))]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                raise DagsterInvalidDefinitionError(f"Circular dependencies exist in dependency structure of {graph_name}: {nxt}")
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(upstream[nxt])))


def _graph_input_defs(graph_name: str, nodes: dict[str, Node], mappings: list[InputMapping],
                      explicit: list[InputDefinition] | None, descriptions: dict[str, str | None]) -> list[InputDefinition]:
    if explicit is not None:
        return list(explicit)
    defs: dict[str, InputDefinition] = {}
    for mapping in mappings:
        if mapping.mapped_node_name not in nodes:
            raise DagsterInvalidDefinitionError(
                f'Input mapping in graph "{graph_name}" refers to node "{mapping.mapped_node_name}", which does not exist.'
            )
        inner = nodes[mapping.mapped_node_name].definition.input_def_named(mapping.mapped_node_input_name)
        if mapping.graph_input_name not in defs:
            dagster_type = inner.dagster_type
            defs[mapping.graph_input_name] = InputDefinition(
                mapping.graph_input_name, dagster_type,
                descriptions.get(mapping.graph_input_name) or mapping.graph_input_description,
                inner.default_value if mapping.fan_in_index is None else InputDefinition("_").default_value,
            )
    return list(defs.values())


def _graph_output_defs(graph_name: str, nodes: dict[str, Node], mappings: list[OutputMapping], descriptions: dict[str, str | None]) -> list[OutputDefinition]:
    defs = []
    for mapping in mappings:
        if mapping.mapped_node_name not in nodes:
            raise DagsterInvalidDefinitionError(
                f'Output mapping in graph "{graph_name}" refers to node "{mapping.mapped_node_name}", which does not exist.'
            )
        inner = nodes[mapping.mapped_node_name].definition.output_def_named(mapping.mapped_node_output_name)
        defs.append(OutputDefinition(
            mapping.graph_output_name, inner.dagster_type,
            descriptions.get(mapping.graph_output_name) or mapping.graph_output_description,
            inner.is_required, inner.io_manager_key, is_dynamic=inner.is_dynamic or mapping.from_dynamic_mapping,
        ))
    return defs


# --- building from a composition function ---------------------------------------------------------


def graph_parts_from_composition(name: str, kind: str, fn: Callable[..., Any], ins: dict[str, GraphIn] | None = None,
                                 out: Any = None) -> dict[str, Any]:
    params = list(inspect.signature(fn).parameters.values())
    input_names = [p.name for p in params if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    context, result = run_composition(name, kind, fn, {n: GraphInputHandle(n) for n in input_names})
    nodes: dict[str, Node] = {}
    deps: dict[str, dict[str, Any]] = {}
    input_mappings: list[InputMapping] = []
    for invocation in context.invocations.values():
        nodes[invocation.node_name] = Node(
            invocation.node_name, invocation.node_def, invocation.tags, invocation.hook_defs, invocation.retry_policy
        )
        node_deps: dict[str, Any] = {}
        for input_name, binding in invocation.bindings.items():
            if isinstance(binding, InvokedOutput):
                node_deps[input_name] = DependencyDefinition(binding.node_name, binding.output_name)
            elif isinstance(binding, CollectHandle):
                node_deps[input_name] = DynamicCollectingDependencyDefinition(binding.node_name, binding.output_name)
            elif isinstance(binding, GraphInputHandle):
                input_mappings.append(InputMapping(binding.name, invocation.node_name, input_name))
            else:  # fan-in list
                items: list[Any] = []
                for index, item in enumerate(binding):
                    if isinstance(item, GraphInputHandle):
                        items.append(MappedInputPlaceholder)
                        input_mappings.append(InputMapping(item.name, invocation.node_name, input_name, index))
                    elif isinstance(item, CollectHandle):
                        raise DagsterInvalidDefinitionError("Cannot fan-in a collected dynamic output inside a list.")
                    else:
                        items.append(DependencyDefinition(item.node_name, item.output_name))
                node_deps[input_name] = MultiDependencyDefinition(items)
        deps[invocation.node_name] = node_deps
    output_mappings = _output_mappings_from_result(name, kind, result, out)
    used = {m.graph_input_name for m in input_mappings}
    for input_name in input_names:
        if input_name not in used:
            raise DagsterInvalidDefinitionError(
                f"{kind} '{name}' has unmapped input '{input_name}'. Remove it or pass it to the appropriate op/graph "
                "invocation."
            )
    return {
        "nodes": nodes, "deps": deps, "input_mappings": input_mappings, "output_mappings": output_mappings,
        "input_descriptions": {k: v.description for k, v in (ins or {}).items()},
        "output_descriptions": (
            {k: v.description for k, v in out.items()} if isinstance(out, dict)
            else {"result": out.description} if isinstance(out, GraphOut) else {}
        ),
    }


def _output_mappings_from_result(name: str, kind: str, result: Any, out: Any) -> list[OutputMapping]:
    def mapping(graph_output: str, handle: Any) -> OutputMapping:
        if isinstance(handle, InvokedOutput):
            return OutputMapping(graph_output, handle.node_name, handle.output_name)
        if isinstance(handle, DynamicHandle):
            return OutputMapping(graph_output, handle.node_name, handle.output_name, from_dynamic_mapping=True)
        raise DagsterInvalidDefinitionError(
            f"{kind} '{name}' returned problematic value of type {type(handle)}. Expected return value from "
            "invoked node or dict mapping output name to return values from invoked nodes"
        )

    if result is None:
        return []
    out_names = list(out.keys()) if isinstance(out, dict) else ["result"]
    if isinstance(result, dict):
        return [mapping(k, v) for k, v in result.items() if v is not None]
    if isinstance(result, (InvokedOutput, DynamicHandle)):
        return [mapping(out_names[0] if len(out_names) == 1 else "result", result)]
    if isinstance(result, tuple):
        if hasattr(result, "_fields") and not isinstance(out, dict):
            return [mapping(field, value) for field, value in zip(result._fields, result, strict=True)]
        if len(result) != len(out_names):
            raise DagsterInvalidDefinitionError(
                f"{kind} '{name}' returned a tuple of {len(result)} values but declares {len(out_names)} outputs."
            )
        return [mapping(k, v) for k, v in zip(out_names, result, strict=True)]
    return [mapping("result", result)]


def graph(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    input_defs: Any = None,
    output_defs: Any = None,
    ins: dict[str, GraphIn] | None = None,
    out: Any = None,
    tags: dict[str, Any] | None = None,
    config: Any = None,
) -> Any:
    """Build a graph from a composition function; its parameters are the graph's inputs.

    Example:
        >>> @graph(out={"a": GraphOut(), "b": GraphOut()})
        ... def split(x):
        ...     return {"a": left(x), "b": right(x)}
    """

    if config is not None and not isinstance(config, ConfigMapping):
        # Dagster: a dict is the nested ops' fixed config, i.e. a mapping that ignores its input.
        fixed = dict(config)
        config = ConfigMapping(config_fn=lambda _: fixed, config_schema=None)

    def decorate(fn: Callable[..., Any]) -> GraphDefinition:
        graph_name = name or fn.__name__
        parts = graph_parts_from_composition(graph_name, "@graph", fn, ins, out)
        definition = GraphDefinition._from_parts(
            graph_name, description=description or inspect.getdoc(fn), config=config, tags=tags, **parts
        )
        definition.__doc__ = fn.__doc__
        return definition

    if compose_fn is not None:
        return decorate(compose_fn)
    return decorate
