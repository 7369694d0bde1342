"""The execution plan: a job's graph flattened into steps (one per op invocation) with resolved input sources.

Steps downstream of a dynamic output are planned once as unresolved steps (`op[?]`) and resolved
into one step per mapping key (`op[key]`) when the dynamic step has run (`ExecutionPlan.resolve`).
The plan of a job is built once and cached on the job; it holds no run state.
"""

from __future__ import annotations

from typing import Any

from orchestra._core.definitions.dependency import (
    DependencyDefinition,
    DynamicCollectingDependencyDefinition,
    MappedInputPlaceholder,
    MultiDependencyDefinition,
    NodeHandle,
)
from orchestra._core.definitions.graph import GraphDefinition
from orchestra._core.definitions.inout import NO_VALUE, InputDefinition
from orchestra._errors import DagsterInvalidDefinitionError

# Input source kinds
FROM_STEP = 0       # (step_key, output_name)
FROM_MAPPED = 1     # (step_key, output_name, mapping_key): one value of a dynamic output
FROM_COLLECT = 2    # (step_key, output_name): every mapped value, as a list
FROM_MULTI = 3      # fan-in: `sources` is a list of StepInputSource
FROM_CONFIG = 4     # run config `ops.<path>.inputs.<name>`, else the input's default
FROM_JOB_INPUT = 5  # input_values / run config `inputs.<name>`, else default
FROM_NOTHING = 6    # an unconnected Nothing input: nothing to load
FROM_INPUT_MANAGER = 7  # an unconnected input with an input_manager_key: the manager loads it
FROM_ASSET = 8      # an unconnected input with an asset key: loaded through the asset's IO manager


class StepInputSource:
    __slots__ = ("kind", "step_key", "output_name", "mapping_key", "sources", "name", "default")

    def __init__(self, kind: int, step_key: str | None = None, output_name: str | None = None, mapping_key: str | None = None,
                 sources: list[StepInputSource] | None = None, name: str | None = None, default: Any = NO_VALUE):
        self.kind = kind
        self.step_key = step_key
        self.output_name = output_name
        self.mapping_key = mapping_key
        self.sources = sources
        self.name = name
        self.default = default

    def upstream_keys(self) -> list[str]:
        if self.kind in (FROM_STEP, FROM_MAPPED, FROM_COLLECT):
            return [self.step_key]  # type: ignore[list-item]
        if self.kind == FROM_MULTI:
            return [k for s in self.sources or () for k in s.upstream_keys()]
        return []

    def replaced(self, **changes: Any) -> StepInputSource:
        values = {slot: getattr(self, slot) for slot in self.__slots__}
        values.update(changes)
        return StepInputSource(**values)


class StepInput:
    """An input of a step: its definition and where its value comes from."""

    __slots__ = ("definition", "source")

    def __init__(self, definition: InputDefinition, source: StepInputSource):
        self.definition = definition
        self.source = source

    # read from the definition when asked (a large job's plan makes thousands of inputs; few are read)
    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def dagster_type(self) -> Any:
        return self.definition.dagster_type


class ExecutionStep:
    """One op invocation to run: its key, node handle, definition, inputs and what it waits for."""

    __slots__ = (
        "key", "node_handle", "op_def", "node", "inputs", "deps", "tags", "retry_policy", "mapping_key",
        "is_unresolved", "dynamic_root", "kind", "hook_defs",
    )

    def __init__(self, key: str, node_handle: NodeHandle, op_def: Any, node: Any, inputs: list[StepInput], tags: dict,
                 retry_policy: Any, mapping_key: str | None = None, is_unresolved: bool = False,
                 dynamic_root: tuple[str, str] | None = None, hook_defs: tuple = ()):
        self.key = key
        self.node_handle = node_handle
        self.op_def = op_def
        self.node = node
        self.inputs = inputs
        self.tags = tags
        self.retry_policy = retry_policy
        self.mapping_key = mapping_key
        self.is_unresolved = is_unresolved
        self.dynamic_root = dynamic_root
        self.kind = "UNRESOLVED_MAPPED" if is_unresolved else "COMPUTE"
        self.hook_defs = hook_defs
        deps: list[str] = []
        for step_input in inputs:
            for key_ in step_input.source.upstream_keys():
                if key_ not in deps:
                    deps.append(key_)
        self.deps = deps

    @property
    def node_name(self) -> str:
        return self.node_handle.name

    @property
    def solid_handle(self) -> NodeHandle:
        return self.node_handle

    @property
    def step_outputs(self) -> list[Any]:
        return self.op_def.output_defs

    @property
    def step_inputs(self) -> list[StepInput]:
        return self.inputs

    def __repr__(self) -> str:
        return f"ExecutionStep({self.key!r})"


class ExecutionPlan:
    """Steps in execution order (dependencies first, ties broken by key) for one job."""

    def __init__(self, job_def: Any, steps: list[ExecutionStep]):
        self.job_def = job_def
        self.steps = steps
        self.step_dict = {s.key: s for s in steps}
        self.unresolved_by_root: dict[tuple[str, str], list[ExecutionStep]] = {}
        for step in steps:
            if step.is_unresolved:
                self.unresolved_by_root.setdefault(step.dynamic_root, []).append(step)  # type: ignore[arg-type]

    @property
    def step_keys_to_execute(self) -> list[str]:
        return [s.key for s in self.steps]

    def get_step_by_key(self, key: str) -> ExecutionStep:
        return self.step_dict[key]

    def has_step(self, key: str) -> bool:
        return key in self.step_dict

    def step_for_key(self, key: str) -> ExecutionStep | None:
        """The planned step for `key`; for a resolved key (`op[k]`) its unresolved template (`op[?]`)."""
        step = self.step_dict.get(key)
        if step is None and key.endswith("]"):
            step = self.step_dict.get(key[: key.rindex("[")] + "[?]")
        return step

    def resolve(self, root: tuple[str, str], mapping_keys: list[str]) -> dict[str, list[ExecutionStep]]:
        """Concrete steps for every unresolved step mapped over `root`, one per mapping key.

        Returns `{unresolved key: [resolved steps]}`; the plan itself is not changed (it is shared by runs).
        """
        resolved: dict[str, list[ExecutionStep]] = {}
        unresolved = self.unresolved_by_root.get(root, [])
        unresolved_keys = {s.key for s in unresolved}
        for step in unresolved:
            copies = []
            for mapping_key in mapping_keys:
                inputs = [StepInput(i.definition, _resolve_source(i.source, mapping_key, unresolved_keys, root)) for i in step.inputs]
                copy = ExecutionStep(
                    f"{step.node_handle}[{mapping_key}]", step.node_handle, step.op_def, step.node, inputs, step.tags,
                    step.retry_policy, mapping_key=mapping_key, hook_defs=step.hook_defs,
                )
                copies.append(copy)
            resolved[step.key] = copies
        return resolved


def _resolve_source(source: StepInputSource, mapping_key: str, unresolved_keys: set[str], root: tuple[str, str]) -> StepInputSource:
    if source.kind == FROM_STEP:
        if (source.step_key, source.output_name) == root:
            return source.replaced(kind=FROM_MAPPED, mapping_key=mapping_key)
        if source.step_key in unresolved_keys:
            return source.replaced(step_key=source.step_key[: -len("[?]")] + f"[{mapping_key}]")  # type: ignore[index]
    return source


# --- building -------------------------------------------------------------------------------------


def plan_for_job(job_def: Any) -> ExecutionPlan:
    plan = job_def._cache.get("plan")
    if plan is None:
        plan = _build_plan(job_def)
        job_def._cache["plan"] = plan
    return plan


def validate_plan(job_def: Any) -> None:
    """Raise the definition errors `plan_for_job` would (unresolvable inputs, cycles, bad dynamic wiring).

    Called when a job is defined. It resolves each input's source and each step's dynamic root, and
    keeps them for the plan; building the steps and their order waits for the first execution or
    run-config check: a code location that only lists and snapshots its jobs never needs them, and
    building them was close to a tenth of resolving a 2,000-asset location's jobs.
    """
    if "plan" not in job_def._cache and "plan_wiring" not in job_def._cache:
        job_def._cache["plan_wiring"] = _wiring(job_def)


class _Builder:
    def __init__(self, job_def: Any):
        self.job_def = job_def
        self.steps: dict[str, ExecutionStep] = {}
        self.raw: list[tuple[NodeHandle, Any, list[StepInput], dict, Any]] = []
        self.hooks: dict[str, frozenset] = {}
        # by graph position, the source of an input wired by a dependency: the same for every input wired
        # to that output (sources are never changed; each asset's output feeds several downstream assets)
        self.step_sources: dict[str | None, dict[DependencyDefinition, StepInputSource]] = {}
        self.dynamic = False  # some op has a dynamic output, or an input collects one
        self.nothing = StepInputSource(FROM_NOTHING)  # (unconnected inputs that only order)

    def flatten(self, graph_def: GraphDefinition, prefix: NodeHandle | None, graph_input_resolver: Any,
                inherited_hooks: frozenset = frozenset()) -> None:
        deps_by_node = graph_def.dependency_map
        # the source of an input wired to an output of a node of this graph, by its dependency; a job built from
        # assets comes with those of its op nodes' outputs (made once per definition: the same in every job)
        step_sources = self.step_sources.setdefault(prefix._path if prefix is not None else None, {})
        if prefix is None:
            step_sources.update(graph_def.__dict__.get("_step_sources", ()))
        # a job built as a restriction of a larger one (`build_assets_job`) carries the handles and wired inputs
        # of its top-level op nodes that are the same `Node`s with the same dependencies there: what this loop
        # gives (shared only from a job whose plan maps nothing: these nodes' outputs are not dynamic)
        shared_steps = graph_def.__dict__.get("_shared_steps") if prefix is None else None
        # an unconnected input that only orders, where no graph input maps (an asset job's `deps` on assets
        # it does not run): `input_source`'s answer, one source for all
        unmapped = not graph_def.input_mappings
        for node in graph_def.node_dict.values():
            hooks = inherited_hooks | node.hook_defs if node.hook_defs else inherited_hooks
            shared = shared_steps.get(node.name) if shared_steps is not None else None
            if shared is not None:
                handle, inputs = shared
                self.raw.append((handle, node, inputs, node.tags, node.retry_policy))
                if hooks:
                    self.hooks[handle._path] = hooks
                continue
            handle = NodeHandle(node.name, prefix)
            definition = node.definition
            if isinstance(definition, GraphDefinition):
                def resolver(input_name: str, fan_in_index: Any = None, _g=graph_def, _n=node, _p=prefix, _r=graph_input_resolver) -> StepInputSource | None:
                    input_def = _n.definition.input_def_named(input_name)
                    return self.input_source(_g, _p, _n, input_def, _r, unconnected_ok=True)

                self.flatten(node.definition, handle, resolver, hooks)
            else:
                node_deps = deps_by_node.get(node.name) or {}
                inputs = []
                for d in definition.input_defs:
                    dep = node_deps.get(d.name)
                    if type(dep) is DependencyDefinition:  # the usual wiring: `input_source`'s answer, directly
                        source = step_sources.get(dep)
                        if source is None:
                            key, out, _, _ = self.output_ref(graph_def, prefix, dep.node, dep.output)
                            source = step_sources[dep] = StepInputSource(FROM_STEP, key, out)
                    elif dep is None and unmapped and d.dagster_type.is_nothing:
                        source = self.nothing
                    else:
                        source = self.input_source(graph_def, prefix, node, d, graph_input_resolver)
                        if source is not None and source.kind == FROM_COLLECT:
                            self.dynamic = True
                    inputs.append(StepInput(d, source))
                if not self.dynamic:
                    for output_def in definition.output_defs:  # (a loop: no generator per node)
                        if output_def.is_dynamic:
                            self.dynamic = True
                            break
                self.raw.append((handle, node, inputs, node.tags, node.retry_policy))
                if hooks:
                    self.hooks[str(handle)] = hooks

    def output_ref(self, graph_def: GraphDefinition, prefix: NodeHandle | None, node_name: str, output_name: str) -> tuple[str, str, bool, bool]:
        """(step key, output name, output is dynamic, mapped through a graph's dynamic output mapping)."""
        node = graph_def.node_named(node_name)
        if isinstance(node.definition, GraphDefinition):
            handle = NodeHandle(node_name, prefix)
            for mapping in node.definition.output_mappings:
                if mapping.graph_output_name == output_name:
                    return self.output_ref(node.definition, handle, mapping.mapped_node_name, mapping.mapped_node_output_name)
            raise DagsterInvalidDefinitionError(f'Graph "{node_name}" has no output "{output_name}".')
        out_def = node.definition.output_def_named(output_name)
        # a top-level node's step key is its name (no handle to build for every edge of a large job)
        key = node_name if prefix is None else str(NodeHandle(node_name, prefix))
        return key, output_name, out_def.is_dynamic, False

    def layer_asset_key(self, prefix: NodeHandle | None, node: Any, input_def: InputDefinition) -> Any:
        return _layer_asset_key(self.job_def, str(NodeHandle(node.name, prefix)), input_def.name)

    def input_source(self, graph_def: GraphDefinition, prefix: NodeHandle | None, node: Any, input_def: InputDefinition,
                     graph_input_resolver: Any, unconnected_ok: bool = False) -> StepInputSource | None:
        dep = graph_def.dependency_map.get(node.name, {}).get(input_def.name)
        if isinstance(dep, DynamicCollectingDependencyDefinition):
            key, out, _, _ = self.output_ref(graph_def, prefix, dep.node_name, dep.output_name)
            return StepInputSource(FROM_COLLECT, key, out)
        if isinstance(dep, MultiDependencyDefinition):
            sources = []
            for index, item in enumerate(dep.dependencies):
                if item is MappedInputPlaceholder:
                    mapping = _mapping_for(graph_def, node.name, input_def.name, index)
                    resolved = graph_input_resolver(mapping.graph_input_name) if graph_input_resolver and mapping else None
                    if resolved is not None:
                        sources.append(resolved)
                else:
                    key, out, _, _ = self.output_ref(graph_def, prefix, item.node, item.output)
                    sources.append(StepInputSource(FROM_STEP, key, out))
            return StepInputSource(FROM_MULTI, sources=sources)
        if dep is not None:
            key, out, _, _ = self.output_ref(graph_def, prefix, dep.node, dep.output)
            return StepInputSource(FROM_STEP, key, out)
        mapping = _mapping_for(graph_def, node.name, input_def.name, None)
        if mapping is not None:
            if graph_input_resolver is not None:
                resolved = graph_input_resolver(mapping.graph_input_name)
                if resolved is not None:
                    return resolved
            elif prefix is None:  # a top-level job input
                return StepInputSource(FROM_JOB_INPUT, name=mapping.graph_input_name, default=input_def.default_value)
        if unconnected_ok:
            return None
        if not input_def.is_nothing and (input_def.asset_key is not None or self.layer_asset_key(prefix, node, input_def)):
            return StepInputSource(FROM_ASSET, name=input_def.name)
        if input_def.input_manager_key and not input_def.is_nothing:
            return StepInputSource(FROM_INPUT_MANAGER, name=input_def.name, default=input_def.default_value)
        if input_def.is_nothing:
            return StepInputSource(FROM_NOTHING)
        if not input_def.has_default_value and not config_loadable(input_def.dagster_type):
            raise DagsterInvalidDefinitionError(
                f'Input "{input_def.name}" in op "{NodeHandle(node.name, prefix)}" is not connected to the output of a '
                "previous node and can not be loaded from configuration, making it impossible to execute. Possible "
                f'solutions are:\n  * add a dagster_type_loader for the type "{input_def.dagster_type.display_name}"\n'
                f'  * connect "{input_def.name}" to the output of another node\n'
            )
        return StepInputSource(FROM_CONFIG, name=input_def.name, default=input_def.default_value)


def _layer_asset_key(job_def: Any, handle: str, input_name: str) -> Any:
    """The asset an input reads, from the job's asset layer (asset jobs only)."""
    layer = getattr(job_def, "_asset_layer", None)
    return layer.input_asset_key(handle, input_name) if layer is not None else None


def _mapping_for(graph_def: GraphDefinition, node_name: str, input_name: str, fan_in_index: Any) -> Any:
    for mapping in graph_def.input_mappings:
        if mapping.mapped_node_name == node_name and mapping.mapped_node_input_name == input_name and mapping.fan_in_index == fan_in_index:
            return mapping
    return None


_LOADABLE_KEYS = frozenset({"Any", "Int", "String", "Float", "Bool", "PythonDict"})


def config_loadable(dagster_type: Any) -> bool:
    if dagster_type.loader is not None or dagster_type.key in _LOADABLE_KEYS:
        return True
    key = dagster_type.key or ""
    for prefix in ("List.", "Optional."):
        if key.startswith(prefix):
            return key[len(prefix):] in _LOADABLE_KEYS
    return False


def node_inputs(job_def: Any) -> list[tuple[NodeHandle, list[StepInput]]]:
    """Each op node's handle and its inputs with their sources, without building the plan's steps.

    Sources that are not step outputs are the plan's own (only those are re-keyed for dynamic mapping);
    the run-config schema needs no more, and a snapshot then never builds a plan.
    """
    plan = job_def._cache.get("plan")
    if plan is not None:
        return [(step.node_handle, step.inputs) for step in plan.steps]
    wiring = job_def._cache.get("plan_wiring")
    if wiring is None:
        wiring = job_def._cache["plan_wiring"] = _wiring(job_def)
    return [(handle, inputs) for handle, _node, inputs, _tags, _retry in wiring[0].raw]


def _wiring(job_def: Any) -> tuple[_Builder, dict[str, Any], dict[str, tuple[str, str] | None]]:
    """The flattened nodes with their input sources, by step key, and each step's dynamic root.

    Raises every DagsterInvalidDefinitionError the plan can raise.
    """
    builder = _Builder(job_def)
    builder.flatten(job_def.graph, None, None, frozenset(job_def.hook_defs))
    raw_by_key = {item[0]._path: item for item in builder.raw}  # `str(handle)`
    if not builder.dynamic:  # (noted while flattening)
        # no dynamic output and nothing collects one: no step is mapped (and the graphs were checked for
        # cycles when they were built), so every root is None; a 2,000-asset job's walk was a tenth of it
        return builder, raw_by_key, dict.fromkeys(raw_by_key)
    # which steps are mapped over a dynamic output, and over which one
    outputs_dynamic = {
        (str(handle), o.name): o.is_dynamic for handle, node, *_ in builder.raw for o in node.definition.output_defs
    }
    roots: dict[str, tuple[str, str] | None] = {}

    def root_of(key: str, trail: tuple[str, ...] = ()) -> tuple[str, str] | None:
        if key in roots:
            return roots[key]
        if key in trail:
            raise DagsterInvalidDefinitionError(f"Circular dependencies exist in dependency structure involving {key}")
        _, _, inputs, _, _ = raw_by_key[key]
        found: tuple[str, str] | None = None
        for step_input in inputs:
            source = step_input.source
            candidates: list[tuple[str, str] | None] = []
            if source.kind == FROM_STEP:
                if outputs_dynamic.get((source.step_key, source.output_name)):
                    candidates.append((source.step_key, source.output_name))  # type: ignore[arg-type]
                else:
                    candidates.append(root_of(source.step_key, (*trail, key)))  # type: ignore[arg-type]
            elif source.kind == FROM_MULTI:
                for inner in source.sources or ():
                    if root_of(inner.step_key, (*trail, key)) or outputs_dynamic.get((inner.step_key, inner.output_name)):  # type: ignore[arg-type]
                        raise DagsterInvalidDefinitionError(
                            f'Input "{step_input.name}" of "{key}" cannot fan-in a dynamic output; use .collect().'
                        )
            elif source.kind == FROM_COLLECT:
                upstream_root = root_of(source.step_key, (*trail, key))  # type: ignore[arg-type]
                if not outputs_dynamic.get((source.step_key, source.output_name)) and upstream_root is None:
                    raise DagsterInvalidDefinitionError(
                        f'Input "{step_input.name}" of "{key}" collects an output that is not dynamic.'
                    )
                if upstream_root is not None and outputs_dynamic.get((source.step_key, source.output_name)):
                    raise DagsterInvalidDefinitionError("Nested dynamic mapping is not supported.")
            for candidate in candidates:
                if candidate is None:
                    continue
                if found is not None and found != candidate:
                    raise DagsterInvalidDefinitionError(
                        f'Step "{key}" depends on more than one dynamic output ({found[0]} and {candidate[0]}); '
                        "a node can be mapped over only one."
                    )
                found = candidate
        if found is not None:
            for o in raw_by_key[key][1].definition.output_defs:
                if o.is_dynamic:
                    raise DagsterInvalidDefinitionError(
                        f'"{key}" cannot be downstream of a dynamic output and have a DynamicOut itself: nested '
                        "dynamic mapping is not supported."
                    )
        roots[key] = found
        return found

    for key in raw_by_key:
        root_of(key)
    return builder, raw_by_key, roots


def _build_plan(job_def: Any) -> ExecutionPlan:
    wiring = job_def._cache.pop("plan_wiring", None)
    builder, raw_by_key, roots = wiring if wiring is not None else _wiring(job_def)
    job_retry = job_def.op_retry_policy

    def step_key(key: str) -> str:
        return f"{key}[?]" if roots.get(key) else key

    steps: list[ExecutionStep] = []
    for key, (handle, node, inputs, tags, retry_policy) in raw_by_key.items():
        fixed_inputs = [StepInput(i.definition, _rekey(i.source, step_key)) for i in inputs]
        steps.append(ExecutionStep(
            step_key(key), handle, node.definition, node, fixed_inputs, tags,
            retry_policy or node.definition.retry_policy or job_retry,
            is_unresolved=roots[key] is not None, dynamic_root=roots[key],
            hook_defs=tuple(sorted(builder.hooks.get(key, ()), key=lambda h: h.name)),
        ))
    return ExecutionPlan(job_def, _toposort(steps))


def _rekey(source: StepInputSource, step_key: Any) -> StepInputSource:
    if source.kind in (FROM_STEP, FROM_COLLECT):
        key = step_key(source.step_key)
        # sources are never changed once built: keep the one we have unless its key moves
        return source if key == source.step_key else source.replaced(step_key=key)
    if source.kind == FROM_MULTI:
        return source.replaced(sources=[_rekey(s, step_key) for s in source.sources or ()])
    return source


def _toposort(steps: list[ExecutionStep]) -> list[ExecutionStep]:
    by_key = {s.key: s for s in steps}
    remaining = {s.key: {d for d in s.deps if d in by_key} for s in steps}
    dependents: dict[str, list[str]] = {k: [] for k in by_key}
    for key, deps in remaining.items():
        for dep in deps:
            dependents[dep].append(key)
    level = sorted(k for k, deps in remaining.items() if not deps)
    ordered: list[ExecutionStep] = []
    while level:
        ordered.extend(by_key[k] for k in level)
        following = []
        for key in level:
            for dependent in dependents[key]:
                remaining[dependent].discard(key)
                if not remaining[dependent]:
                    following.append(dependent)
        level = sorted(set(following))
    return ordered
