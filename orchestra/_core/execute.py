"""The execution core: executor interface, the in-process executor, the run worker and `execute_in_process`.

One path for every run: validate config -> plan -> executor (drives `ActiveExecution`, runs steps
through a `StepWorker`) -> events. The run worker is the only writer: it hands every event the
executor yields to the sink (`instance.handle_new_event`). Multiprocess and Celery executors
implement `Executor.execute` the same way, running `StepWorker.run_step` in other processes and
yielding the events those send back.
"""

from __future__ import annotations

import abc
import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from orchestra._core.active import ActiveExecution
from orchestra._core.compute_logs import captured_logs_event
from orchestra._core.events import (
    DagsterEvent,
    EngineEventData,
    EventLogEntry,
    JobFailureData,
    SerializableErrorInfo,
)
from orchestra._core.log import ConsoleWriter, DagsterLogManager, base_python_logger
from orchestra._core.plan import ExecutionPlan, plan_for_job
from orchestra._core.step import StepWorker, format_duration


class RunContext:
    """Everything about one run that the executor and step runner share (no per-step state)."""

    def __init__(self, *, job_def: Any, plan: ExecutionPlan, run: Any, instance: Any, run_config: dict[str, Any],
                 sink: Callable[[EventLogEntry], None], console: ConsoleWriter | None, raise_on_error: bool,
                 input_values: dict[str, Any], output_capture: dict | None, resource_defs: dict[str, Any],
                 partition_key: str | None = None):
        self.job_def = job_def
        self.job_name = job_def.name
        self.plan = plan
        self.run = run
        self.run_id = run.run_id
        self.instance = instance
        self.run_config = run_config
        self.sink = sink
        self.console = console
        self.raise_on_error = raise_on_error
        self.input_values = input_values
        self.output_capture = output_capture
        self.resource_defs = resource_defs
        self.partition_key = partition_key
        self.asset_layer = getattr(job_def, "_asset_layer", None)  # set on jobs built from assets
        self.pid = os.getpid()
        self.log = DagsterLogManager(self.run_id, self.job_name, None, sink, console, self.pid)
        self.raised: BaseException | None = None
        self.retries_enabled = True
        self.type_check_context: Any = None
        self.mapping_keys_seen: dict[tuple[str, str], set[str]] = {}
        self._op_sections: dict[str, Any] = {}

    def op_section(self, step: Any) -> dict[str, Any] | None:
        """The step's node entry in processed run config (`ops: {a: {ops: {b: {...}}}}`)."""
        path = step.node_handle._path
        try:
            return self._op_sections[path]
        except KeyError:
            pass
        section: Any = self.run_config
        for name in path.split("."):
            section = ((section or {}).get("ops") or {}).get(name)
        self._op_sections[path] = section
        return section

    def op_config(self, step: Any) -> Any:
        section = self.op_section(step)
        return section.get("config") if section else None

    def output_config(self, step: Any, output_name: str) -> Any:
        """The output's `ops.<op>.outputs.<name>` run config (its IO manager's `output_config_schema`)."""
        section = self.op_section(step)
        return ((section or {}).get("outputs") or {}).get(output_name)

    def event(self, event_type: str, message: str, data: Any = None, step_key: str | None = None) -> DagsterEvent:
        return DagsterEvent(event_type, self.job_name, step_key, None, None, None, data, message, self.pid)

    def marker_step_key(self) -> str | None:
        # like Dagster, resource events of a single-step plan carry that step's key
        steps = self.plan.steps
        return steps[0].key if len(steps) == 1 else None

    @contextlib.contextmanager
    def step_worker(self, step_keys: list[str] | None = None) -> Iterator[tuple[list[DagsterEvent], StepWorker | None]]:
        """Initialise the resources the given steps need and yield `(init events, worker)`.

        A failed initialisation yields `(events ending in RESOURCE_INIT_FAILURE, None)`.
        """
        from orchestra._core.resources.initialization import initialize_resources
        from orchestra._core.run_config import resource_configs

        keys = required_resource_keys(self.plan, self.resource_defs, step_keys)
        from orchestra._core.resources.initialization import resource_init_order

        ordered = resource_init_order(self.resource_defs, keys)
        names = ", ".join(sorted(ordered))
        marker = self.marker_step_key()
        events = [self.event("RESOURCE_INIT_STARTED", f"Starting initialization of resources [{names}].", EngineEventData(), marker)]
        started = time.perf_counter()
        try:
            manager = initialize_resources(
                self.resource_defs, resource_configs(self.run_config), keys=keys, run_id=self.run_id,
                dagster_run=self.run, instance=self.instance, log=self.log,
            )
            resources = manager.__enter__()
        except Exception as exc:
            events.append(self.event(
                "RESOURCE_INIT_FAILURE", f"Initialization of resources [{names}] failed.",
                EngineEventData(error=SerializableErrorInfo.from_exception(exc)), marker,
            ))
            if self.raise_on_error:
                self.raised = exc
            yield events, None
            return
        elapsed = format_duration((time.perf_counter() - started) * 1000)
        events.append(self.event(
            "RESOURCE_INIT_SUCCESS", f"Finished initialization of resources [{names}].",
            EngineEventData(metadata={"duration": elapsed}), marker,
        ))
        try:
            yield events, StepWorker(self, resources)
        finally:
            manager.__exit__(None, None, None)


def check_io_manager_keys(job_def: Any, resource_defs: dict[str, Any]) -> None:
    """Raise DagsterInvalidDefinitionError (Dagster's message) for an output's IO manager or an input's
    input manager that is missing."""
    from orchestra._errors import DagsterInvalidDefinitionError

    for step in plan_for_job(job_def).steps:
        for output in step.op_def.output_defs:
            if output.io_manager_key not in resource_defs:
                raise DagsterInvalidDefinitionError(
                    f"io manager with key '{output.io_manager_key}' required by output '{output.name}' of op "
                    f"'{step.node_handle.name}'' was not provided. Please provide a IOManagerDefinition to key "
                    f"'{output.io_manager_key}', or change the required key to one of the following keys which points "
                    f"to an IOManagerDefinition: {_keys_of_type(resource_defs, 'IOManagerDefinition')}"
                )
        for step_input in step.inputs:
            manager_key = step_input.definition.input_manager_key
            if manager_key and manager_key not in resource_defs:
                raise DagsterInvalidDefinitionError(
                    f"input manager with key '{manager_key}' required by input '{step_input.name}' of op "
                    f"'{step.node_handle.name}' was not provided. Please provide a IInputManagerDefinition to key "
                    f"'{manager_key}', or change the required key to one of the following keys which points to an "
                    f"IInputManagerDefinition: {_keys_of_type(resource_defs, 'InputManagerDefinition')}"
                )


def _keys_of_type(resource_defs: dict[str, Any], class_name: str) -> list[str]:
    return sorted(k for k, v in resource_defs.items() if any(c.__name__ == class_name for c in type(v).__mro__))


def required_resource_keys(plan: ExecutionPlan, resource_defs: dict[str, Any], step_keys: list[str] | None = None) -> list[str]:
    """Resource keys the given steps (all steps when None) need: op resources, IO and input managers, hooks."""
    keys: set[str] = set()
    if step_keys is None:
        steps = plan.steps
    else:
        steps = [s for s in (plan.step_for_key(k) for k in step_keys) if s is not None]
    for step in steps:
        keys |= step.op_def.required_resource_keys
        for hook_def in step.hook_defs:
            keys |= hook_def.required_resource_keys
        for output in step.op_def.output_defs:
            keys.add(output.io_manager_key)
        for step_input in step.inputs:
            if step_input.definition.input_manager_key:
                keys.add(step_input.definition.input_manager_key)
            elif step_keys is not None:  # a step process also needs the managers its inputs are stored with
                sources = step_input.source.sources or [step_input.source]
                for source in sources:
                    upstream = plan.step_for_key(source.step_key) if source.step_key else None
                    if upstream is not None and source.output_name in upstream.op_def.output_dict:
                        keys.add(upstream.op_def.output_dict[source.output_name].io_manager_key)
    keys.add("io_manager")
    return sorted(k for k in keys if k in resource_defs)


# --- executors ----------------------------------------------------------------------------------


class Executor(abc.ABC):
    """Runs the steps of a plan and yields their events; the run worker writes them.

    Contract: create an `ActiveExecution` for the plan (`run_context.active_execution(...)`), take
    ready steps from it, run each with a `StepWorker` (here or in a step process), feed every event
    back through `active.handle_event`, and yield it. Events from `active.plan_events_iterator` (skips)
    are yielded too. Stop early when `run_context.raised` is set (raise_on_error).
    """

    @property
    def retries_enabled(self) -> bool:
        return True

    @abc.abstractmethod
    def execute(self, run_context: RunContext, plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        """Yield every event of executing `plan`."""


class InProcessExecutor(Executor):
    """Runs every step, one at a time, in the run worker's process."""

    def __init__(self, retries_enabled: bool = True, require_upstream_step_success: bool = True, max_concurrent: int | None = None):
        self._retries_enabled = retries_enabled
        self.require_upstream_step_success = require_upstream_step_success
        self.max_concurrent = max_concurrent

    @property
    def retries_enabled(self) -> bool:
        return self._retries_enabled

    def execute(self, run_context: RunContext, plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        pid = run_context.pid
        run_context.retries_enabled = self._retries_enabled
        yield run_context.event("ENGINE_EVENT", f"Executing steps in process (pid: {pid})", EngineEventData())
        started = time.perf_counter()
        with run_context.step_worker() as (init_events, worker):
            yield from init_events
            if worker is None:
                return
            # As Dagster: one capture (one file key) for the whole process, announced once.
            capture = captured_logs_event(
                getattr(run_context.instance, "compute_log_manager", None), run_id=run_context.run_id,
                job_name=run_context.job_name, step_keys=[s.key for s in plan.steps if not s.is_unresolved],
            )
            with capture as logs_captured:
                if logs_captured is not None:
                    yield logs_captured
                yield from self._execute_steps(run_context, plan, worker)
            if run_context.raised is not None:  # raise_on_error: stop at the failed step
                return
        elapsed = format_duration((time.perf_counter() - started) * 1000)
        yield run_context.event("ENGINE_EVENT", f"Finished steps in process (pid: {pid}) in {elapsed}", EngineEventData())

    def _execute_steps(self, run_context: RunContext, plan: ExecutionPlan, worker: StepWorker) -> Iterator[DagsterEvent]:
        active = ActiveExecution(plan, retries_enabled=self._retries_enabled,
                                 require_upstream_step_success=self.require_upstream_step_success)
        run_context.active = active  # type: ignore[attr-defined]
        handle = active.handle_event
        known = active.known
        while not active.is_complete:
            step = active.get_next_step()
            if step is None:
                if active.sleep_interval() > 0:
                    active.sleep_til_ready()
                    continue
                for event in active.plan_events_iterator(run_context):
                    handle(event)
                    yield event
                continue
            step_events: list[DagsterEvent] | None = [] if step.hook_defs else None
            for event in worker.run_step(step, active.retry_number(step.key), known):
                handle(event)
                if step_events is not None:
                    step_events.append(event)
                yield event
            if run_context.raised is not None:
                active.abandon_all()
                return
            for event in active.plan_events_iterator(run_context):
                handle(event)
                if step_events is not None:
                    step_events.append(event)
                yield event
            if step_events is not None:
                yield from worker.run_hooks(step, step_events)


# --- the run worker -----------------------------------------------------------------------------


def execute_run_iterator(run_context: RunContext, executor: Executor) -> Iterator[DagsterEvent]:
    """The run worker's event sequence: RUN_START, the executor's events, RUN_SUCCESS or RUN_FAILURE."""
    yield run_context.event("PIPELINE_START", f'Started execution of run for "{run_context.job_name}".')
    failed_steps: list[str] = []
    error: BaseException | None = None
    base_python_logger()
    try:
        for event in executor.execute(run_context, run_context.plan):
            if event.event_type_value == "STEP_FAILURE":
                failed_steps.append(event.step_key)  # type: ignore[arg-type]
            elif event.event_type_value == "RESOURCE_INIT_FAILURE":
                error = error or RuntimeError("resource initialization failed")
                run_context.resource_init_error = event  # type: ignore[attr-defined]
            yield event
    except Exception as exc:  # a framework error: the run fails with it
        error = exc
        if run_context.raise_on_error and run_context.raised is None:
            run_context.raised = exc
    name = run_context.job_name
    if run_context.raised is not None:
        info = SerializableErrorInfo.from_exception(run_context.raised)
        yield run_context.event(
            "PIPELINE_FAILURE", f'Execution of run for "{name}" failed. An exception was thrown during execution.',
            JobFailureData(info, "RUN_EXCEPTION"),
        )
    elif failed_steps:
        yield run_context.event(
            "PIPELINE_FAILURE", f'Execution of run for "{name}" failed. Steps failed: {failed_steps}.',
            JobFailureData(None, "STEP_FAILURE"),
        )
    elif error is not None:
        init_failure = getattr(run_context, "resource_init_error", None)
        info = init_failure.event_specific_data.error if init_failure is not None else SerializableErrorInfo.from_exception(error)
        yield run_context.event(
            "PIPELINE_FAILURE", f'Execution of run for "{name}" failed. An exception was thrown during execution.',
            JobFailureData(info, "RUN_EXCEPTION"),
        )
    else:
        yield run_context.event("PIPELINE_SUCCESS", f'Finished execution of run for "{name}".')


def write_events(run_context: RunContext, events: Iterator[DagsterEvent], collected: list[DagsterEvent] | None) -> None:
    """The single writer: turn each event into a log entry, store it, echo it to the console."""
    sink = run_context.sink
    console = run_context.console
    run_id = run_context.run_id
    pid = run_context.pid
    for event in events:
        level = 40 if event.event_type_value in _ERROR_EVENTS else 10
        entry = EventLogEntry(None, level, event.message or "", run_id, time.time(), event.step_key, event.job_name, event)
        sink(entry)
        if collected is not None:
            collected.append(event)
        if console is not None and level >= console.level:
            console.write(entry, pid)


_ERROR_EVENTS = frozenset({"STEP_FAILURE", "PIPELINE_FAILURE", "RESOURCE_INIT_FAILURE", "HOOK_ERRORED"})


# --- execute_in_process -----------------------------------------------------------------------------


def execute_job_in_process(job_def: Any, *, run_config: Any = None, instance: Any = None, partition_key: str | None = None,
                           raise_on_error: bool = True, op_selection: list[str] | None = None, run_id: str | None = None,
                           input_values: dict[str, Any] | None = None, tags: dict[str, Any] | None = None,
                           resources: dict[str, Any] | None = None) -> Any:
    from orchestra._core.instance import DagsterInstance
    from orchestra._core.partitions.base import partition_loading_context

    instance = instance if instance is not None else DagsterInstance.ephemeral()
    with partition_loading_context(dynamic_partitions_store=instance):  # dynamic partition keys live in the instance
        return _execute_in_process(
            job_def, run_config=run_config, instance=instance, partition_key=partition_key,
            raise_on_error=raise_on_error, op_selection=op_selection, run_id=run_id, input_values=input_values,
            tags=tags, resources=resources,
        )


def _execute_in_process(job_def: Any, *, run_config: Any, instance: Any, partition_key: str | None,
                        raise_on_error: bool, op_selection: list[str] | None, run_id: str | None,
                        input_values: dict[str, Any] | None, tags: dict[str, Any] | None,
                        resources: dict[str, Any] | None) -> Any:
    from orchestra._core.results import ExecuteInProcessResult
    from orchestra._core.run_config import console_writer_for, process_job_run_config

    if op_selection:
        job_def = job_def.get_subset(op_selection=op_selection)
    ephemeral = ephemeral_job(job_def, resources)
    check_io_manager_keys(job_def, ephemeral.resource_defs)
    partitioned = job_def.partitioned_config
    partition_tags: dict[str, str] = {}
    if partition_key is not None:
        if partitioned is None:
            from orchestra._errors import DagsterInvariantViolationError

            raise DagsterInvariantViolationError("Attempted to execute a partitioned run for a non-partitioned job")
        partitioned.partitions_def.validate_partition_key(partition_key)
        if run_config is None:
            run_config = partitioned.get_run_config_for_partition_key(partition_key)
        partition_tags = dict(partitioned.get_tags_for_partition_key(partition_key, job_name=job_def.name))
    elif run_config is None and (isinstance(job_def.config, dict) or _is_run_config(job_def.config)):
        run_config = job_def.config
    merged_inputs = {**job_def.input_values, **(input_values or {})}
    processed, given = process_job_run_config(ephemeral, run_config, input_values=merged_inputs, in_process=True)
    plan = plan_for_job(job_def)
    run_tags = {**job_def.run_tags, **{k: str(v) for k, v in (tags or {}).items()}}
    run_tags.update(partition_tags)
    run = instance.create_run(
        job_name=job_def.name, run_id=run_id or str(uuid.uuid4()), run_config=given, tags=run_tags,
        op_selection=list(op_selection) if op_selection else None,
        step_keys_to_execute=[s.key for s in plan.steps if not s.is_unresolved] or None,
    )
    if getattr(job_def, "_asset_layer", None) is not None:  # assets hook: planned events at run creation
        from orchestra._core.assets.layer import planned_events

        for planned in planned_events(job_def, plan, partition_key, run.tags):
            instance.report_dagster_event(planned, run.run_id)
    output_capture: dict = {}
    context = RunContext(
        job_def=job_def, plan=plan, run=run, instance=instance, run_config=processed,
        sink=instance.handle_new_event, console=console_writer_for(processed, job_def, run.run_id),
        raise_on_error=raise_on_error,
        input_values=merged_inputs, output_capture=output_capture, resource_defs=ephemeral.resource_defs,
        partition_key=partition_key,
    )
    events: list[DagsterEvent] = []
    # As in Dagster, execute_in_process ignores the run config's executor section (retries stay on).
    executor = InProcessExecutor()
    write_events(context, execute_run_iterator(context, executor), events)
    final_run = instance.get_run_by_id(run.run_id) or run
    if context.raised is not None:
        raise context.raised
    return ExecuteInProcessResult(job_def, events, final_run, output_capture, plan)


def _is_run_config(value: Any) -> bool:
    return type(value).__name__ == "RunConfig"


def ephemeral_job(job_def: Any, resources: dict[str, Any] | None) -> Any:
    """The job with `resources` merged in and the default IO manager swapped for an in-memory one."""
    key = "ephemeral"
    if resources is None:
        cached = job_def._cache.get(key)
        if cached is not None:
            return cached
    from orchestra._core.io_managers.builtin import mem_io_manager
    from orchestra._core.resources.initialization import coerce_to_resource_definitions

    resource_defs = dict(job_def.resource_defs)
    if resources:
        resource_defs.update(coerce_to_resource_definitions(resources))
    elif not job_def._user_io_manager:
        resource_defs["io_manager"] = mem_io_manager
    if resources and "io_manager" not in resources and not job_def._user_io_manager:
        resource_defs["io_manager"] = mem_io_manager
    view = _EphemeralJob(job_def, resource_defs)
    if resources is None:
        job_def._cache[key] = view
    return view


class _EphemeralJob:
    """A job seen with different resources (for config schema and resource initialisation)."""

    def __init__(self, job_def: Any, resource_defs: dict[str, Any]):
        self.job_def = job_def
        self.resource_defs = resource_defs
        self.name = job_def.name
        self.graph = job_def.graph
        self.executor_def = job_def.executor_def
        self.logger_defs = job_def.logger_defs
        self.input_values = job_def.input_values
        self._cache: dict[str, Any] = {}


# --- run workers (storage-backed sink) ------------------------------------------------------------


def create_executor(job_def: Any, processed_run_config: dict[str, Any], instance: Any = None) -> Executor:
    """Build the job's executor from its definition and the `execution.config` block of processed config."""
    from orchestra._core.definitions.executor import InitExecutorContext
    from orchestra._core.resources.config_bridge import process_config

    executor_def = job_def.executor_def
    executor_config = (processed_run_config.get("execution") or {}).get("config")
    if executor_config is None:
        executor_config = process_config(executor_def.config_field, None, what=f"executor {executor_def.name}")
    return executor_def.executor_creation_fn(InitExecutorContext(job_def, executor_def, executor_config or {}, instance))


def execute_run(job_def: Any, *, dagster_run: Any, instance: Any, raise_on_error: bool = False,
                executor: Executor | None = None, console: ConsoleWriter | None = None) -> Any:
    """Execute an existing run of `job_def` as a run worker does: events go to the instance's storage.

    The run must already exist in `instance` (status NOT_STARTED/STARTING). Invalid run config fails
    the run with a RUN_FAILURE event carrying the error. Returns the stored run after execution.
    """
    from orchestra._core.run_config import process_job_run_config

    if dagster_run.op_selection:
        job_def = job_def.get_subset(op_selection=dagster_run.op_selection)
    elif dagster_run.asset_selection and getattr(job_def, "_asset_layer", None) is not None:  # a stored asset subset
        job_def = job_def.get_subset(asset_selection=set(dagster_run.asset_selection),
                                     asset_check_selection=dagster_run.asset_check_selection)
    plan = plan_for_job(job_def)
    if dagster_run.parent_run_id and dagster_run.step_keys_to_execute is not None:  # re-execution of some steps
        from orchestra._core.reexecution import plan_for_run

        plan = plan_for_run(plan, dagster_run, instance)
    try:
        processed, _ = process_job_run_config(job_def, dagster_run.run_config, input_values=job_def.input_values)
    except Exception as exc:
        event = DagsterEvent("PIPELINE_FAILURE", job_def.name, message=f'Execution of run for "{job_def.name}" failed. An exception was thrown during execution.',
                             event_specific_data=JobFailureData(SerializableErrorInfo.from_exception(exc), "JOB_INITIALIZATION_FAILURE"),
                             pid=os.getpid())
        instance.handle_new_event(EventLogEntry(None, 40, event.message or "", dagster_run.run_id, time.time(), None, job_def.name, event))
        if raise_on_error:
            raise
        return instance.get_run_by_id(dagster_run.run_id)
    context = RunContext(
        job_def=job_def, plan=plan, run=dagster_run, instance=instance, run_config=processed,
        sink=instance.handle_new_event, console=console, raise_on_error=raise_on_error,
        input_values=dict(job_def.input_values), output_capture=None, resource_defs=job_def.resource_defs,
        partition_key=dagster_run.tags.get("dagster/partition"),
    )
    write_events(context, execute_run_iterator(context, executor or create_executor(job_def, processed, instance)), None)
    if context.raised is not None:
        raise context.raised
    return instance.get_run_by_id(dagster_run.run_id)
