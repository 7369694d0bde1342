"""Re-execution: which steps a new run executes again, and where the steps it leaves out had their outputs.

`ReexecutionOptions` is the SDK's way in (`execute_job(..., reexecution_options=...)`); the server's
`run_reexecute` computes the same step keys from a job's stored snapshot (`step_shapes_from_graph`)
and the parent run's events (`steps_to_retry`), so both agree with Dagster's rules:

- FROM_FAILURE executes the steps of the parent that failed, that started and never finished
  (interrupted), that never ran, and every step downstream of those; steps the parent skipped stay
  skipped. Only a failed or canceled run can be re-executed from failure.
- A step left out of the run emits no event; its outputs are read through the IO manager from the
  closest run in the parent chain that produced them (the input context's upstream output carries
  that run id, so `fs_io_manager` reads `<base_dir>/<that run id>/<step>/<output>`).
- Mapped (dynamic) steps are re-executed per mapping key: the mapping keys of a dynamic output the
  run does not execute again come from the parent chain.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from orchestra._errors import DagsterError, DagsterInvalidSubsetError, DagsterInvariantViolationError


class DagsterExecutionStepNotFoundError(DagsterError):
    """A step selection names a step the job does not have."""

    def __init__(self, *args: Any, step_keys: Sequence[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.step_keys = list(step_keys or [])


class ReexecutionStrategy(enum.Enum):
    """How a re-execution picks its steps (Dagster's names)."""

    ALL_STEPS = "ALL_STEPS"
    FROM_FAILURE = "FROM_FAILURE"
    FROM_ASSET_FAILURE = "FROM_ASSET_FAILURE"


class ReexecutionOptions(NamedTuple):
    """Re-execute an earlier run with `execute_job(..., reexecution_options=...)`.

    Args:
        parent_run_id: the run to re-execute.
        step_selection: step selection clauses (`["b"]`, `["*b+"]`, `["each[x]"]`); empty means
            every step.

    Example:
        >>> options = dg.ReexecutionOptions.from_failure(run_id=failed_run_id, instance=instance)
        >>> dg.execute_job(dg.reconstructable(my_job), instance=instance, reexecution_options=options)
    """

    parent_run_id: str
    step_selection: Sequence[str] = ()

    @staticmethod
    def from_failure(run_id: str, instance: Any) -> ReexecutionOptions:
        """Options that re-execute the failed (and never-run) steps of `run_id` and their downstream."""
        return ReexecuteFromFailureOption(parent_run_id=run_id)


class ReexecuteFromFailureOption(ReexecutionOptions):
    """`ReexecutionOptions.from_failure`: the steps are worked out from the parent's events when executed."""


# --- the shape of a job's steps ----------------------------------------------------------------------


class StepShape(NamedTuple):
    """A planned step as re-execution sees it: its key (`op`, `graph.op`, `op[?]`) and the keys it waits for."""

    key: str
    deps: frozenset[str]


def step_shapes_from_plan(plan: Any) -> list[StepShape]:
    return [StepShape(step.key, frozenset(step.deps)) for step in plan.steps]


def step_shapes_from_graph(graph: Mapping[str, Any]) -> list[StepShape]:
    """The steps of a job from its snapshot's `graph` (the webserver never loads user code).

    A step downstream of a dynamic output through anything but a collect (`depends_on[].collect`) is
    mapped and keyed `handle[?]`, as the execution plan does. Steps come in dependency order.
    """
    # handle -> list of (upstream handle, output name, collect) for every input
    sources: dict[str, list[tuple[str, str, bool]]] = {}
    dynamic_outputs: set[tuple[str, str]] = set()
    order: list[str] = []

    def output_ref(graph_snap: Mapping[str, Any], prefix: str, node_name: str, output: str) -> tuple[str, str]:
        node = _node_named(graph_snap, node_name)
        handle = f"{prefix}{node_name}"
        if node.get("kind") == "graph":
            for mapping in node["graph"].get("outputs", []):
                if mapping["name"] == output:
                    return output_ref(node["graph"], handle + ".", mapping["node"], mapping["output"])
            raise DagsterInvariantViolationError(f'graph "{handle}" has no output "{output}" in the snapshot')
        return handle, output

    def flatten(graph_snap: Mapping[str, Any], prefix: str, graph_inputs: Mapping[str, list[tuple[str, str, bool]]]) -> None:
        for node in graph_snap.get("nodes", []):
            handle = f"{prefix}{node['name']}"
            resolved_inputs: dict[str, list[tuple[str, str, bool]]] = {}
            for input_snap in node.get("inputs", []):
                found: list[tuple[str, str, bool]] = []
                for dep in input_snap.get("depends_on", []):
                    up_handle, up_output = output_ref(graph_snap, prefix, dep["node"], dep["output"])
                    found.append((up_handle, up_output, bool(dep.get("collect"))))
                for graph_input in input_snap.get("from_graph_inputs", []):
                    found.extend(graph_inputs.get(graph_input, []))
                resolved_inputs[input_snap["name"]] = found
            if node.get("kind") == "graph":
                flatten(node["graph"], handle + ".", resolved_inputs)
                continue
            order.append(handle)
            sources[handle] = [s for found in resolved_inputs.values() for s in found]
            for output in node.get("outputs", []):
                if output.get("is_dynamic"):
                    dynamic_outputs.add((handle, output["name"]))

    flatten(graph, "", {})
    mapped: dict[str, bool] = {}

    def is_mapped(handle: str, trail: tuple[str, ...] = ()) -> bool:
        if handle not in mapped:
            if handle in trail:
                raise DagsterInvariantViolationError(f"circular dependency at {handle} in the snapshot")
            mapped[handle] = any(
                not collect and ((up, out) in dynamic_outputs or is_mapped(up, (*trail, handle)))
                for up, out, collect in sources[handle]
            )
        return mapped[handle]

    def key(handle: str) -> str:
        return f"{handle}[?]" if is_mapped(handle) else handle

    shapes = {key(h): StepShape(key(h), frozenset(key(up) for up, _, _ in sources[h])) for h in order}
    return _toposorted(shapes)


def _node_named(graph_snap: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for node in graph_snap.get("nodes", []):
        if node["name"] == name:
            return node
    raise DagsterInvariantViolationError(f'node "{name}" is not in the snapshot graph')


def _toposorted(shapes: Mapping[str, StepShape]) -> list[StepShape]:
    done: set[str] = set()
    ordered: list[StepShape] = []
    remaining = dict(sorted(shapes.items()))
    while remaining:
        ready = [k for k, s in remaining.items() if not (s.deps & shapes.keys()) - done]
        if not ready:
            raise DagsterInvariantViolationError(f"circular dependencies among steps {sorted(remaining)}")
        for k in ready:
            ordered.append(remaining.pop(k))
            done.add(k)
    return ordered


# --- from failure --------------------------------------------------------------------------------------


class StepRecord(NamedTuple):
    """One step event of the parent run, as re-execution reads it."""

    event_type: str
    step_key: str
    output_name: str | None = None
    mapping_key: str | None = None


STEP_RECORD_TYPES = ("STEP_START", "STEP_FAILURE", "STEP_SUCCESS", "STEP_OUTPUT", "STEP_SKIPPED", "RESOURCE_INIT_FAILURE")


def _unresolved(key: str) -> str:
    """`op[k]` -> `op[?]`; any other key is its own."""
    if key.endswith("]") and not key.endswith("[?]"):
        return key[: key.rindex("[")] + "[?]"
    return key


def _mapping_key(key: str) -> str | None:
    if key.endswith("]") and not key.endswith("[?]"):
        return key[key.rindex("[") + 1 : -1]
    return None


class _Tracking:
    """Step keys seen in the parent, grouped by unresolved key (`op[?]` holds `op[a]`, `op[b]`)."""

    def __init__(self) -> None:
        self.by_key: dict[str, set[str]] = {}

    def add(self, key: str) -> None:
        self.by_key.setdefault(_unresolved(key), set()).add(key)

    def __contains__(self, key: str) -> bool:
        group = self.by_key.get(_unresolved(key))
        if group is None:
            return False
        return key in group if _mapping_key(key) is not None else True

    def group(self, key: str) -> set[str]:
        return self.by_key.get(_unresolved(key), set())


def steps_to_retry(steps: Sequence[StepShape], parent_step_keys: Sequence[str] | None, records: Iterable[StepRecord]) -> list[str]:
    """The step keys a FROM_FAILURE re-execution runs, in plan order (Dagster's rules, see the module doc)."""
    seen, failed, succeeded, skipped = _Tracking(), _Tracking(), _Tracking(), _Tracking()
    for record in records:
        if not record.step_key:
            continue
        seen.add(record.step_key)
        if record.event_type in ("STEP_FAILURE", "RESOURCE_INIT_FAILURE"):
            failed.add(record.step_key)
        elif record.event_type == "STEP_SUCCESS":
            succeeded.add(record.step_key)
        elif record.event_type == "STEP_SKIPPED":
            skipped.add(record.step_key)
    interrupted = _Tracking()
    for group in seen.by_key.values():
        for key in group:
            if key not in failed and key not in succeeded and key not in skipped:
                interrupted.add(key)
    to_retry: dict[str, set[str]] = {}
    parent_keys = set(parent_step_keys or ())
    for step in steps:
        key = step.key
        if parent_keys and key not in parent_keys:
            continue
        if key in skipped:  # a step the parent skipped stays skipped
            continue
        for tracking in (failed, interrupted):
            if key in tracking:
                to_retry.setdefault(key, set()).update(tracking.group(key))
        is_unresolved = key.endswith("[?]")
        dep_ran = is_unresolved and any(d in skipped.by_key or d in succeeded.by_key for d in step.deps)
        if key not in seen and not dep_ran:  # never ran: the run stopped before it
            to_retry.setdefault(key, set()).add(key)
        for dep in step.deps & to_retry.keys():
            retrying = to_retry[dep]
            if is_unresolved and all(_mapping_key(k) is not None for k in retrying):
                # mapped over the same dynamic output: only the mapping keys being retried
                to_retry.setdefault(key, set()).update(f"{key[:-3]}[{_mapping_key(k)}]" for k in retrying)
            else:
                to_retry.setdefault(key, set()).add(key)
    position = {s.key: i for i, s in enumerate(steps)}
    return sorted((k for group in to_retry.values() for k in group), key=lambda k: (position.get(_unresolved(k), 0), k))


def records_from_entries(entries: Iterable[Any]) -> list[StepRecord]:
    """`StepRecord`s from SDK event log entries (`instance.all_logs(run_id)`)."""
    records = []
    for entry in entries:
        event = entry.dagster_event
        if event is None or not event.step_key or event.event_type_value not in STEP_RECORD_TYPES:
            continue
        output_name = mapping_key = None
        if event.event_type_value == "STEP_OUTPUT":
            handle = event.event_specific_data.step_output_handle
            output_name, mapping_key = handle.output_name, handle.mapping_key
        records.append(StepRecord(event.event_type_value, event.step_key, output_name, mapping_key))
    return records


def check_from_failure(parent_run: Any) -> None:
    status = getattr(parent_run.status, "value", parent_run.status)
    if status not in ("FAILURE", "CANCELED"):
        raise DagsterInvariantViolationError("Cannot reexecute from failure a run that is not failed or canceled")


# --- step selection -----------------------------------------------------------------------------------

_CLAUSE = re.compile(r"^(\*?\+*)?([^*+\s][^*+]*?)(\+*\*?)?$")


def parse_step_selection(steps: Sequence[StepShape], selection: Sequence[str], resolved_keys: Iterable[str] = ()) -> list[str]:
    """Step keys named by Dagster's selection clauses (`name`, `*name`, `name+`, `++name*`).

    `resolved_keys` are mapped step keys (`op[k]`) the parent ran; they may be named directly.
    """
    by_key = {s.key: s for s in steps}
    downstream: dict[str, set[str]] = {k: set() for k in by_key}
    for shape in steps:
        for dep in shape.deps:
            downstream.setdefault(dep, set()).add(shape.key)
    resolved = set(resolved_keys)
    selected: list[str] = []
    for clause in selection:
        match = _CLAUSE.match(clause.strip())
        name = match.group(2) if match else clause
        if name not in by_key and name not in resolved:
            raise DagsterExecutionStepNotFoundError(f"Step selection refers to unknown step: {name}", step_keys=[name])
        up, down = (match.group(1) or "", match.group(3) or "") if match else ("", "")
        picked = {name}
        base = _unresolved(name) if name in resolved else name
        for part, edges in ((up, lambda k: by_key[k].deps if k in by_key else ()), (down, lambda k: downstream.get(k, ()))):
            if not part:
                continue
            depth = None if "*" in part else len(part)
            frontier, level = {base}, 0
            while frontier and (depth is None or level < depth):
                frontier = {n for f in frontier for n in edges(f)} - picked
                picked |= frontier
                level += 1
        selected.extend(k for k in sorted(picked) if k not in selected)
    return selected


# --- where the outputs of steps left out come from -------------------------------------------------------


class ParentOutputs:
    """What the parent chain produced: the run each output came from, and dynamic mapping keys."""

    def __init__(self) -> None:
        self.sources: dict[tuple[str, str], str] = {}
        self.mapping_keys: dict[tuple[str, str], list[str]] = {}

    @classmethod
    def from_instance(cls, instance: Any, parent_run_id: str) -> ParentOutputs:
        """Walk the chain from `parent_run_id` back to the root; the closest run wins."""
        found = cls()
        run_id: str | None = parent_run_id
        visited: set[str] = set()
        while run_id and run_id not in visited:
            visited.add(run_id)
            run = instance.get_run_by_id(run_id)
            if run is None:
                raise DagsterInvariantViolationError(f"Could not load ancestor run {run_id} for re-execution")
            mapping: dict[tuple[str, str], list[str]] = {}
            for entry in instance.all_logs(run_id, of_type="STEP_OUTPUT"):
                event = entry.dagster_event
                if event is None or event.event_type_value != "STEP_OUTPUT":
                    continue
                handle = event.event_specific_data.step_output_handle
                found.sources.setdefault((event.step_key, handle.output_name), run_id)
                if handle.mapping_key is not None:
                    mapping.setdefault((event.step_key, handle.output_name), []).append(handle.mapping_key)
            for output, keys in mapping.items():
                found.mapping_keys.setdefault(output, keys)
            run_id = run.parent_run_id
        return found


class ReexecutionPlan:
    """A run's view of its job's plan when it executes only some steps (`ActiveExecution` reads it).

    Everything but `execute_keys` and `seed` is the job's shared plan.
    """

    def __init__(self, plan: Any, execute_keys: set[str], seed: Any):
        self._plan = plan
        self.execute_keys = execute_keys
        self.seed = seed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._plan, name)

    def runs_step(self, key: str) -> bool:
        keys = self.execute_keys
        return key in keys or (_mapping_key(key) is not None and _unresolved(key) in keys)


def plan_for_run(plan: Any, dagster_run: Any, instance: Any) -> Any:
    """`plan` itself, or a `ReexecutionPlan` when the run re-executes a subset of a parent's steps."""
    keys = dagster_run.step_keys_to_execute
    if not dagster_run.parent_run_id or keys is None:
        return plan
    execute_keys = set(keys)
    if all(step.key in execute_keys for step in plan.steps):
        return plan
    from orchestra._core.step import KnownState

    parent = ParentOutputs.from_instance(instance, dagster_run.parent_run_id)
    view = ReexecutionPlan(plan, execute_keys, None)
    seed = KnownState()
    for (step_key, output_name), run_id in parent.sources.items():
        if view.runs_step(step_key):
            continue
        seed.produced.add((step_key, output_name))
        seed.sources[(step_key, output_name)] = run_id
    for output, mapping_keys in parent.mapping_keys.items():
        if not view.runs_step(output[0]):
            seed.mapping_keys[output] = list(mapping_keys)
    view.seed = seed
    return view


def step_keys_for_options(job_def: Any, instance: Any, parent_run: Any, options: ReexecutionOptions) -> list[str] | None:
    """The `step_keys_to_execute` of a re-execution of `parent_run` (None: every step)."""
    from orchestra._core.plan import plan_for_job

    subset = job_def.get_subset(op_selection=parent_run.op_selection) if parent_run.op_selection else job_def
    steps = step_shapes_from_plan(plan_for_job(subset))
    if isinstance(options, ReexecuteFromFailureOption):
        check_from_failure(parent_run)
        records = records_from_entries(instance.all_logs(parent_run.run_id))
        keys = steps_to_retry(steps, parent_run.step_keys_to_execute, records)
        if not keys:
            raise DagsterInvalidSubsetError("No steps needed to be retried in the failed run.")
        return keys
    if options.step_selection:
        parent = ParentOutputs.from_instance(instance, parent_run.run_id)
        resolved = {
            f"{step.key[:-3]}[{m}]" for step in steps if step.key.endswith("[?]")
            for (root, _), keys in parent.mapping_keys.items() for m in keys
        }
        return parse_step_selection(steps, options.step_selection, resolved)
    return None
