"""Out-of-`execute_in_process` execution for tests and tools: `instance_for_test`, `reconstructable`,
`execute_job` and its `JobExecutionResult` (outputs are read back through the job's IO managers).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from orchestra._errors import DagsterInvariantViolationError


@contextlib.contextmanager
def instance_for_test(overrides: dict[str, Any] | None = None, set_dagster_home: bool = True, temp_dir: str | None = None,
                      synchronous_run_coordinator: bool = False, synchronous_run_launcher: bool = False) -> Iterator[Any]:
    """A persistent-style instance in a temporary directory, for the length of the block.

    Example:
        >>> with instance_for_test() as instance:
        ...     result = execute_job(reconstructable(my_job), instance=instance)
    """
    from orchestra._core.instance import DagsterInstance

    with contextlib.ExitStack() as stack:
        directory = temp_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="orchestra-test-"))
        previous = os.environ.get("DAGSTER_HOME")
        if set_dagster_home:
            os.environ["DAGSTER_HOME"] = directory
        from orchestra._core.instance import _current_instances

        instance = DagsterInstance.local_temp(directory, overrides=overrides)
        _current_instances.append(instance)
        try:
            yield instance
        finally:
            _current_instances.remove(instance)
            if set_dagster_home:
                if previous is None:
                    os.environ.pop("DAGSTER_HOME", None)
                else:
                    os.environ["DAGSTER_HOME"] = previous


class ReconstructableJob:
    """A job plus where to find it again (module and attribute), so other processes can load it."""

    def __init__(self, job_def: Any, module: str | None = None, attribute: str | None = None):
        self._job_def = job_def
        self.module = module
        self.attribute = attribute

    def get_definition(self) -> Any:
        return self._job_def

    @property
    def job_name(self) -> str:
        return self._job_def.name

    def get_subset(self, *, op_selection: list[str] | None = None, **_: Any) -> ReconstructableJob:
        return ReconstructableJob(self._job_def.get_subset(op_selection=op_selection), self.module, self.attribute)


def reconstructable(target: Any) -> ReconstructableJob:
    """Wrap a job (or a function returning one) so it can be rebuilt outside this process."""
    from orchestra._core.definitions.job import JobDefinition

    if getattr(target, "__name__", None) == "<lambda>":
        raise DagsterInvariantViolationError(
            "Reconstructable target can not be a lambda. Use a function or decorated function defined at module "
            "scope instead, or use build_reconstructable_job."
        )
    job_def = target if isinstance(target, JobDefinition) else target()
    if not isinstance(job_def, JobDefinition):
        raise DagsterInvariantViolationError(f"Reconstructable target should be a job or a function returning one, got {target!r}.")
    module = getattr(target, "__module__", None)
    return ReconstructableJob(job_def, module, getattr(target, "__name__", None) or job_def.name)


def execute_job(job: Any, instance: Any, run_config: Any = None, tags: dict[str, Any] | None = None,
                raise_on_error: bool = False, op_selection: list[str] | None = None,
                reexecution_options: Any = None, asset_selection: Any = None) -> JobExecutionResult:
    """Execute a reconstructable job against `instance` with the job's own executor and IO managers."""
    from orchestra._config.run_config import convert_config_input
    from orchestra._core.execute import execute_run

    job_def = job.get_definition() if isinstance(job, ReconstructableJob) else job
    run_tags = {**job_def.run_tags, **{k: str(v) for k, v in (tags or {}).items()}}
    if reexecution_options is not None:
        if op_selection is not None:
            raise DagsterInvariantViolationError("re-execution and op selection cannot be used together at this time.")
        return _reexecute(job_def, instance, run_config, run_tags, raise_on_error, reexecution_options)
    config = convert_config_input(run_config) if run_config is not None else (job_def.config if isinstance(job_def.config, dict) else {})
    run = instance.create_run(job_name=job_def.name, run_config=config or {}, tags=run_tags, op_selection=op_selection)
    final = execute_run(job_def, dagster_run=run, instance=instance, raise_on_error=raise_on_error)
    subset = job_def.get_subset(op_selection=op_selection) if op_selection else job_def
    return JobExecutionResult(subset, instance, final)


def _reexecute(job_def: Any, instance: Any, run_config: Any, tags: dict[str, str], raise_on_error: bool,
               options: Any) -> JobExecutionResult:
    """A new run of `job_def` from `options.parent_run_id`: its run config unless given, its op selection."""
    from orchestra._config.run_config import convert_config_input
    from orchestra._core.execute import execute_run
    from orchestra._core.reexecution import step_keys_for_options

    parent = instance.get_run_by_id(options.parent_run_id)
    if parent is None:
        raise DagsterInvariantViolationError(f"No parent run with id {options.parent_run_id} found in instance.")
    config = parent.run_config if run_config is None else convert_config_input(run_config)
    step_keys = step_keys_for_options(job_def, instance, parent, options)
    run = instance.create_run(
        job_name=job_def.name, run_config=config or {}, tags=tags, op_selection=parent.op_selection,
        step_keys_to_execute=step_keys, root_run_id=parent.root_run_id or parent.run_id, parent_run_id=parent.run_id,
    )
    final = execute_run(job_def, dagster_run=run, instance=instance, raise_on_error=raise_on_error)
    subset = job_def.get_subset(op_selection=parent.op_selection) if parent.op_selection else job_def
    return JobExecutionResult(subset, instance, final)


class JobExecutionResult:
    """What `execute_job` returns: success, events, and outputs loaded through the IO managers."""

    def __init__(self, job_def: Any, instance: Any, dagster_run: Any):
        self._job_def = job_def
        self._instance = instance
        self._dagster_run = dagster_run

    def __enter__(self) -> JobExecutionResult:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

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
        from orchestra._core.runs import DagsterRunStatus

        return self._dagster_run.status == DagsterRunStatus.SUCCESS

    @property
    def all_events(self) -> list[Any]:
        return [e.dagster_event for e in self._instance.all_logs(self.run_id) if e.dagster_event is not None]

    def _as_in_process(self) -> Any:
        from orchestra._core.results import ExecuteInProcessResult

        return ExecuteInProcessResult(self._job_def, self.all_events, self._dagster_run, {})

    def __getattr__(self, name: str) -> Any:
        # event helpers (get_step_success_events, is_node_success, ...) behave as on ExecuteInProcessResult
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._as_in_process(), name)

    def output_for_node(self, node_str: str, output_name: str = "result") -> Any:
        from orchestra._core.results import _resolve_output

        node = self._job_def.graph.get_node(node_str)
        step_path, step_output = _resolve_output(node, node_str, output_name)
        handles = [
            e.step_output_data.step_output_handle for e in self.all_events
            if e.event_type_value == "STEP_OUTPUT" and e.step_output_data.output_name == step_output
            and (e.step_key == step_path or e.step_key.startswith(step_path + "["))
        ]
        if not handles:
            raise DagsterInvariantViolationError(f"No outputs found for output '{output_name}' from node '{node_str}'.")
        values = {h.mapping_key or h.step_key[len(step_path) + 1:-1]: self._load(h) for h in handles}
        if len(handles) == 1 and handles[0].mapping_key is None and handles[0].step_key == step_path:
            return next(iter(values.values()))
        return values

    def output_value(self, output_name: str = "result") -> Any:
        for mapping in self._job_def.graph.output_mappings:
            if mapping.graph_output_name == output_name:
                return self.output_for_node(mapping.mapped_node_name, mapping.mapped_node_output_name)
        raise DagsterInvariantViolationError(f"Could not find top-level output '{output_name}' in '{self._job_def.name}'.")

    def _load(self, handle: Any) -> Any:
        from orchestra._core.io_managers.contexts import InputContext, OutputContext
        from orchestra._core.plan import plan_for_job
        from orchestra._core.resources.initialization import initialize_resources
        from orchestra._core.run_config import process_job_run_config, resource_configs

        plan = plan_for_job(self._job_def)
        step = plan.step_for_key(handle.step_key)
        output_def = step.op_def.output_dict[handle.output_name]
        processed, _ = process_job_run_config(self._job_def, self._dagster_run.run_config, input_values=self._job_def.input_values)
        from orchestra._core.log import DagsterLogManager

        log = DagsterLogManager(self.run_id, self._job_def.name, handle.step_key, None, None)
        with initialize_resources(self._job_def.resource_defs, resource_configs(processed), keys=[output_def.io_manager_key],
                                  run_id=self.run_id, dagster_run=self._dagster_run, instance=self._instance) as resources:
            manager = getattr(resources, output_def.io_manager_key)
            upstream = OutputContext(step_key=handle.step_key, name=handle.output_name, job_name=self._job_def.name,
                                     run_id=self.run_id, mapping_key=handle.mapping_key, dagster_type=output_def.dagster_type,
                                     definition_metadata=output_def.metadata, op_def=step.op_def, resources=resources,
                                     instance=self._instance, log_manager=log)
            context = InputContext(name=handle.output_name, job_name=self._job_def.name, upstream_output=upstream,
                                   dagster_type=output_def.dagster_type, resources=resources, instance=self._instance,
                                   log_manager=log)
            return manager.load_input(context)
