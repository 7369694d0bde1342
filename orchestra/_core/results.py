"""`ExecuteInProcessResult`: the events, run and captured outputs of an `execute_in_process` call."""

from __future__ import annotations

from typing import Any

from orchestra._core.definitions.graph import GraphDefinition
from orchestra._core.events import DagsterEvent, StepOutputHandle
from orchestra._core.runs import DagsterRunStatus
from orchestra._errors import DagsterInvariantViolationError


class ExecuteInProcessResult:
    """What `execute_in_process` returns.

    Example:
        >>> result = my_job.execute_in_process()
        >>> assert result.success
        >>> result.output_for_node("add_one")
        2
    """

    def __init__(self, job_def: Any, event_list: list[DagsterEvent], dagster_run: Any, output_capture: dict, plan: Any = None):
        self._job_def = job_def
        self._event_list = event_list
        self._dagster_run = dagster_run
        self._output_capture = output_capture
        self._plan = plan

    # --- run ------------------------------------------------------------------------------

    @property
    def job_def(self) -> Any:
        return self._job_def

    @property
    def dagster_run(self) -> Any:
        return self._dagster_run

    @property
    def run_id(self) -> str:
        return self._dagster_run.run_id

    @property
    def success(self) -> bool:
        return self._dagster_run.status == DagsterRunStatus.SUCCESS

    @property
    def all_events(self) -> list[DagsterEvent]:
        return list(self._event_list)

    @property
    def all_node_events(self) -> list[DagsterEvent]:
        return [e for e in self._event_list if e.is_step_event]

    def filter_events(self, event_filter: Any) -> list[DagsterEvent]:
        return [e for e in self._event_list if event_filter(e)]

    def events_for_node(self, node_name: str) -> list[DagsterEvent]:
        prefix = node_name + "."
        return [
            e for e in self._event_list
            if e.is_step_event and e.node_handle is not None
            and (str(e.node_handle) == node_name or str(e.node_handle).startswith(prefix))
        ]

    compute_events_for_handle = events_for_node

    def get_job_success_event(self) -> DagsterEvent:
        for event in self._event_list:
            if event.event_type_value == "PIPELINE_SUCCESS":
                return event
        raise DagsterInvariantViolationError("No job success event found.")

    def get_job_failure_event(self) -> DagsterEvent:
        for event in self._event_list:
            if event.event_type_value == "PIPELINE_FAILURE":
                return event
        raise DagsterInvariantViolationError("No job failure event found.")

    # Dagster's names for the two above
    get_run_success_event = get_job_success_event
    get_run_failure_event = get_job_failure_event

    def get_step_success_events(self) -> list[DagsterEvent]:
        return [e for e in self._event_list if e.event_type_value == "STEP_SUCCESS"]

    def get_step_failure_events(self) -> list[DagsterEvent]:
        return [e for e in self._event_list if e.event_type_value == "STEP_FAILURE"]

    def failure_data_for_node(self, node_str: str) -> Any:
        """The `StepFailureData` of the node's failure, or None if it did not fail."""
        for event in self.events_for_node(node_str):
            if event.event_type_value == "STEP_FAILURE":
                return event.event_specific_data
        return None

    def get_step_skipped_events(self) -> list[DagsterEvent]:
        return [e for e in self._event_list if e.event_type_value == "STEP_SKIPPED"]

    def get_failed_step_keys(self) -> set[str]:
        return {e.step_key for e in self.get_step_failure_events() if e.step_key}

    def get_asset_materialization_events(self) -> list[DagsterEvent]:
        return [e for e in self._event_list if e.event_type_value == "ASSET_MATERIALIZATION"]

    def get_asset_observation_events(self) -> list[DagsterEvent]:
        return [e for e in self._event_list if e.event_type_value == "ASSET_OBSERVATION"]

    def asset_materializations_for_node(self, node_name: str) -> list[Any]:
        return [
            e.event_specific_data.materialization for e in self.events_for_node(node_name)
            if e.event_type_value == "ASSET_MATERIALIZATION"
        ]

    def asset_observations_for_node(self, node_name: str) -> list[Any]:
        return [
            e.event_specific_data.asset_observation for e in self.events_for_node(node_name)
            if e.event_type_value == "ASSET_OBSERVATION"
        ]

    def get_asset_check_evaluations(self) -> list[Any]:
        return [e.event_specific_data for e in self._event_list if e.event_type_value == "ASSET_CHECK_EVALUATION"]

    def asset_value(self, asset_key: Any) -> Any:
        """The value an asset of this run produced (asset jobs and `materialize` only)."""
        from orchestra._core.assets.keys import coerce_asset_key

        key = coerce_asset_key(asset_key)
        layer = getattr(self._job_def, "_asset_layer", None)
        node = layer.node_by_key.get(key) if layer is not None else None
        if node is None:
            raise DagsterInvariantViolationError(f"Cannot find asset {key.to_user_string()} in this run.")
        return self.output_for_node(*node)

    # --- node status ------------------------------------------------------------------------

    def _step_event_types(self, node_name: str) -> set[str]:
        return {e.event_type_value for e in self.events_for_node(node_name)}

    def _check_node(self, node_name: str) -> None:
        self._job_def.graph.get_node(node_name)

    def is_node_success(self, node_name: str) -> bool:
        self._check_node(node_name)
        types = self._step_event_types(node_name)
        return "STEP_SUCCESS" in types and "STEP_FAILURE" not in types

    def is_node_failed(self, node_name: str) -> bool:
        self._check_node(node_name)
        return "STEP_FAILURE" in self._step_event_types(node_name)

    def is_node_skipped(self, node_name: str) -> bool:
        self._check_node(node_name)
        return "STEP_SKIPPED" in self._step_event_types(node_name)

    def is_node_untouched(self, node_name: str) -> bool:
        self._check_node(node_name)
        return not self.events_for_node(node_name)

    # --- outputs ----------------------------------------------------------------------------

    def output_for_node(self, node_str: str, output_name: str = "result") -> Any:
        """The value of an output of a node (`"op"`, `"graph.op"`); a dict by mapping key for dynamic ones."""
        graph = self._job_def.graph
        try:
            node = graph.get_node(node_str)
        except DagsterInvariantViolationError:
            raise DagsterInvariantViolationError(f"{self._job_def.name} has no op named {node_str}.") from None
        step_path, step_output = _resolve_output(node, node_str, output_name)
        return self._value(step_path, step_output, node_str, output_name)

    def output_value(self, output_name: str = "result") -> Any:
        """The value of one of the job's graph outputs."""
        graph: GraphDefinition = self._job_def.graph
        for mapping in graph.output_mappings:
            if mapping.graph_output_name == output_name:
                return self.output_for_node(mapping.mapped_node_name, mapping.mapped_node_output_name)
        raise DagsterInvariantViolationError(
            f"Attempted to retrieve top-level outputs for '{graph.name}', which has no outputs."
            if not graph.output_mappings else f"Could not find top-level output '{output_name}' in '{graph.name}'."
        )

    def _value(self, step_path: str, output_name: str, node_str: str, requested_output: str) -> Any:
        capture = self._output_capture
        handle = StepOutputHandle(step_path, output_name, None)
        if handle in capture:
            return capture[handle]
        found: dict[str, Any] = {}
        mapped_prefix = step_path + "["
        for key, value in capture.items():
            if key.output_name != output_name:
                continue
            if key.step_key == step_path and key.mapping_key is not None:
                found[key.mapping_key] = value
            elif key.step_key.startswith(mapped_prefix):
                found[key.step_key[len(mapped_prefix):-1]] = value
        if found:
            return found
        raise DagsterInvariantViolationError(f"No outputs found for output '{output_name}' from node '{step_path}'.")


def _resolve_output(node: Any, node_path: str, output_name: str) -> tuple[str, str]:
    definition = node.definition
    if not definition.has_output(output_name):
        raise DagsterInvariantViolationError(f"{node.name} has no output named {output_name}.")
    while isinstance(definition, GraphDefinition):
        mapping = next(m for m in definition.output_mappings if m.graph_output_name == output_name)
        node = definition.node_named(mapping.mapped_node_name)
        node_path = f"{node_path}.{node.name}"
        output_name = mapping.mapped_node_output_name
        definition = node.definition
    return node_path, output_name
