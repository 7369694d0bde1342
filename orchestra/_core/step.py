"""Running one step: load inputs, call the op, type-check and store outputs, and emit the step's events.

`StepWorker.run_step` is the step-runner every executor calls (in this process, or in a step
process it started); it only yields events and never writes them, the run worker does.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from typing import Any

from orchestra._core.context import OpExecutionContext
from orchestra._core.definitions.output import DynamicOutput, Output
from orchestra._core.events import (
    AssetObservationData,
    DagsterEvent,
    ErrorSource,
    HandledOutputData,
    SerializableErrorInfo,
    StepExpectationResultData,
    StepFailureData,
    StepMaterializationData,
    StepOutputData,
    StepOutputHandle,
    StepRetryData,
    StepSuccessData,
    TypeCheckData,
    UserFailureData,
)
from orchestra._core.log import pop_step_log, push_step_log
from orchestra._core.plan import (
    ExecutionStep,
)
from orchestra._core.retries import Failure, RetryRequested, RetryRequestedFromPolicy
from orchestra._core.step_inputs import InputLoading, _io_contexts
from orchestra._errors import (
    DagsterAssetCheckFailedError,
    DagsterError,
    DagsterExecutionHandleOutputError,
    DagsterExecutionLoadInputError,
    DagsterExecutionStepExecutionError,
    DagsterInvariantViolationError,
    DagsterMaxRetriesExceededError,
    DagsterStepOutputNotFoundError,
    DagsterTypeCheckDidNotPass,
)


def format_duration(ms: float) -> str:
    if ms < 10:
        return f"{round(ms, 2)}ms"
    if ms < 1000:
        return f"{int(ms)}ms"
    if ms < 60_000:
        return f"{round(ms / 1000, 2)}s"
    if ms < 3_600_000:
        return f"{int(ms // 60_000)}m{int(ms % 60_000 // 1000)}s"
    return f"{int(ms // 3_600_000)}h{int(ms % 3_600_000 // 60_000)}m"


class StepFailed(Exception):
    """Internal: carries the event that ends a failed attempt and the error to re-raise (raise_on_error)."""

    def __init__(self, event: DagsterEvent, user_error: BaseException, raised: BaseException | None = None):
        self.event = event
        self.user_error = user_error  # what failure hooks see as `op_exception`
        self.raised = raised or user_error


class KnownState:
    """What upstream steps produced, as the step runner needs it to load inputs."""

    __slots__ = ("produced", "mapping_keys", "resolved", "sources")

    def __init__(self) -> None:
        self.produced: set[tuple[str, str]] = set()
        self.mapping_keys: dict[tuple[str, str], list[str]] = {}
        self.resolved: dict[str, list[str]] = {}
        # (step key, output) -> id of the earlier run that produced it, for steps a re-execution leaves out
        self.sources: dict[tuple[str, str], str] = {}


class StepWorker(InputLoading):
    """Runs steps of one run with one set of initialised resources."""

    def __init__(self, run_context: Any, resources: Any):
        self.rc = run_context
        self.resources = resources
        self._io_managers: dict[str, Any] = {}
        self._hook_outputs: dict[str, Any] | None = None
        self._hook_error: BaseException | None = None
        self._hook_config: Any = None

    def io_manager(self, key: str) -> Any:
        manager = self._io_managers.get(key)
        if manager is None:
            manager = getattr(self.resources, key)
            self._io_managers[key] = manager
        return manager

    def _event(self, event_type: str, step: ExecutionStep, message: str, data: Any = None) -> DagsterEvent:
        return DagsterEvent(event_type, self.rc.job_name, step.key, step.node_handle, "COMPUTE", None, data, message, self.rc.pid)

    # --- the step -------------------------------------------------------------------------

    def run_step(self, step: ExecutionStep, retry_number: int, known: KnownState) -> Iterator[DagsterEvent]:
        rc = self.rc
        started = time.perf_counter()
        if retry_number:
            yield self._event("STEP_RESTARTED", step, f'Started re-execution (attempt # {retry_number + 1}) of step "{step.key}".')
        else:
            yield self._event("STEP_START", step, f'Started execution of step "{step.key}".')
        log = rc.log.for_step(step.key)
        if step.hook_defs:
            self._hook_outputs, self._hook_error, self._hook_config = {}, None, rc.op_config(step)
        push_step_log(log)
        try:
            try:
                inputs: dict[str, Any] = {}
                for step_input in step.inputs:
                    yield from self._load_input(step, step_input, inputs, known, log)
                for step_input in step.inputs:
                    if step_input.name in inputs:
                        yield from self._check_input(step, step_input, inputs[step_input.name])
                op_def = step.op_def
                context = OpExecutionContext(
                    run=rc.run, job_def=rc.job_def, step=step, op_def=op_def, op_config=rc.op_config(step),
                    resources=self.resources_for(op_def), log=log, retry_number=retry_number, instance=rc.instance,
                    mapping_key=step.mapping_key, run_config=rc.run_config, partition_key=rc.partition_key,
                    node_handle=step.node_handle,
                )
                yielded: set[str] = set()
                for item in self._compute(step, context, inputs):
                    if context._user_events:
                        for logged in context.take_user_events():
                            yield self._user_event(step, logged)
                    if isinstance(item, Output):
                        yield from self._store_output(step, context, item, yielded, log)
                    else:
                        yield self._user_event(step, item)
                for logged in context.take_user_events():
                    yield self._user_event(step, logged)
                for definition in op_def.output_defs:
                    if definition.is_required and definition.name not in yielded and not definition.is_dynamic:
                        raise DagsterStepOutputNotFoundError(
                            f'Core compute for op "{step.node_handle.name}" did not return an output for non-optional '
                            f'output "{definition.name}"', step_key=step.key, output_name=definition.name,
                        )
                for definition in getattr(op_def, "_unselected_output_defs", ()):  # assets hook: subsetted op
                    if definition.is_required and not definition.is_dynamic and not definition.dagster_type.is_nothing:
                        raise DagsterStepOutputNotFoundError(
                            f'Core compute for op "{step.node_handle.name}" did not return an output for non-optional '
                            f'output "{definition.name}"', step_key=step.key, output_name=definition.name,
                        )
            except StepFailed:
                raise
            except BaseException as exc:
                if not isinstance(exc, Exception):
                    raise
                raise self._failure(step, exc, retry_number) from None
        except StepFailed as failed:
            if step.hook_defs:
                self._hook_error = failed.user_error
            yield failed.event
            if failed.event.event_type_value == "STEP_FAILURE" and rc.raise_on_error:
                rc.raised = failed.raised
            return
        finally:
            pop_step_log()
        duration = (time.perf_counter() - started) * 1000
        yield self._event("STEP_SUCCESS", step, f'Finished execution of step "{step.key}" in {format_duration(duration)}.',
                          StepSuccessData(duration))

    def resources_for(self, op_def: Any) -> Any:
        return self.resources

    # --- compute --------------------------------------------------------------------------

    def _compute(self, step: ExecutionStep, context: OpExecutionContext, inputs: dict[str, Any]) -> Iterator[Any]:
        op_def = step.op_def
        call = op_def.compute_fn
        config_value = None
        if getattr(call, "config_arg", None) is not None:
            config_value = context.op_config
            config_class = call.config_class
            if config_class is not None:
                from orchestra._config.pythonic import config_from_processed

                config_value = config_from_processed(config_class, config_value)
        resource_args = getattr(call, "resource_args", ())
        resource_values = {key: getattr(self.resources, key) for key in resource_args} if resource_args else None
        try:
            result = call(context, inputs, config_value, resource_values)
            if call.is_async:
                result = _run_async(result)
        except (StepFailed, DagsterTypeCheckDidNotPass, DagsterAssetCheckFailedError, Failure, RetryRequested):
            raise
        except Exception as exc:
            raise _UserCodeError(exc) from exc
        if inspect.isgenerator(result):
            while True:
                try:
                    item = next(result)
                except StopIteration:
                    return
                except (StepFailed, DagsterTypeCheckDidNotPass, DagsterAssetCheckFailedError, Failure, RetryRequested):
                    raise
                except Exception as exc:
                    raise _UserCodeError(exc) from exc
                yield from self._outputs_from_item(step, item, context)
        yield from self._outputs_from_return(step, result, context)

    def _outputs_from_item(self, step: ExecutionStep, item: Any, context: OpExecutionContext) -> Iterator[Any]:
        if isinstance(item, Output):
            yield item
        elif _is_user_event(item):
            yield item
        else:
            raise DagsterInvariantViolationError(
                f'Compute function for op "{step.node_handle.name}" yielded a value of type {type(item)} rather than an '
                "instance of Output, AssetMaterialization, or ExpectationResult. Values yielded by ops must be "
                "wrapped in one of these types. If your op has a single output and yields no other events, you may "
                "want to use `return` instead of `yield` in the body of your op compute function. If you are "
                "already using `return`, and you expected to return a value of type "
                f"{type(item)}, you may be inadvertently returning a generator rather than the value you expected."
            )

    def _outputs_from_return(self, step: ExecutionStep, result: Any, context: OpExecutionContext) -> Iterator[Any]:
        outputs = step.op_def.output_defs
        if isinstance(result, Output):
            yield result
            return
        if not outputs:
            if result is not None:
                raise DagsterInvariantViolationError(
                    f'Error in op "{step.node_handle.name}": Unexpectedly returned output of type {type(result)}. '
                    "Op is explicitly defined to return no results."
                )
            return
        if len(outputs) == 1:
            definition = outputs[0]
            if definition.is_dynamic:
                if result is None:
                    return
                if not isinstance(result, list) or not all(isinstance(r, DynamicOutput) for r in result):
                    raise DagsterInvariantViolationError(
                        f"Error with output for op \"{step.node_handle.name}\": dynamic output \"{definition.name}\" "
                        "expected a list of DynamicOutput objects, but received instead an object of type "
                        f"{type(result)}."
                    )
                yield from result
                return
            if result is None and not definition.is_required:
                context.log.warning(
                    f'Value "None" returned for non-required output "{definition.name}" of op "{step.node_handle.name}". '
                    "This value will be passed to downstream ops. For conditional execution, results must be yielded: "
                    "https://legacy-docs.dagster.io/concepts/ops-jobs-graphs/graphs#with-conditional-branching"
                )
            yield Output(result, definition.name)
            return
        if not isinstance(result, tuple) or len(result) != len(outputs):
            raise DagsterInvariantViolationError(
                f'op "{step.node_handle.name}" has multiple outputs, but only one output was returned of type '
                f"{type(result)}. When using multiple outputs, either yield each output, or return a tuple "
                "containing a value for each output. Check out the documentation on outputs for more: "
                "https://legacy-docs.dagster.io/concepts/ops-jobs-graphs/ops#outputs."
                if not isinstance(result, tuple) else
                f"Length mismatch between returned tuple of outputs and number of output defs on op "
                f'"{step.node_handle.name}". Output tuple has {len(result)} outputs, while op has {len(outputs)} outputs.'
            )
        for position, (definition, value) in enumerate(zip(outputs, result, strict=True)):
            if isinstance(value, Output):
                if value.output_name == "result" and definition.name != "result":
                    # An unnamed Output in a returned tuple takes the name of its position, as in Dagster.
                    value = Output(value.value, definition.name, metadata=value.metadata,
                                   data_version=value.data_version, tags=value.tags)
                elif value.output_name != definition.name:
                    raise DagsterInvariantViolationError(
                        f"Bad state: Output was explicitly named '{value.output_name}', which does not match the "
                        f"output definition specified for position {position}: '{definition.name}'."
                    )
                yield value
            elif definition.is_dynamic:
                yield from value or []
            else:
                yield Output(value, definition.name)

    # --- outputs --------------------------------------------------------------------------

    def _store_output(self, step: ExecutionStep, context: OpExecutionContext, output: Output, yielded: set[str], log: Any) -> Iterator[DagsterEvent]:
        rc = self.rc
        name = output.output_name
        definition = step.op_def.output_dict.get(name)
        if definition is None and any(o.name == name for o in getattr(step.op_def, "_unselected_output_defs", ())):
            raise DagsterInvariantViolationError(
                f'Core compute for op "{step.node_handle.name}" returned an output "{name}" that is not selected. The '
                f"selected outputs are {set(step.op_def.output_dict)}"
            )
        if definition is None:
            raise DagsterInvariantViolationError(
                f'Core compute for op "{step.node_handle.name}" returned an output "{name}" that does not exist. The '
                f"available outputs are {[o.name for o in step.op_def.output_defs]}"
            )
        mapping_key = output.mapping_key
        if definition.is_dynamic and mapping_key is None:
            raise DagsterInvariantViolationError(
                f'Compute for op "{step.node_handle.name}" for output "{name}" defined as dynamic must yield '
                "DynamicOutput, got Output."
            )
        if not definition.is_dynamic and mapping_key is not None:
            raise DagsterInvariantViolationError(
                f'Compute function for op "{step.node_handle.name}" yielded a DynamicOutput for output "{name}", which '
                "is not a DynamicOut."
            )
        if name in yielded and not definition.is_dynamic:
            raise DagsterInvariantViolationError(
                f'Compute for op "{step.node_handle.name}" returned an output "{name}" multiple times'
            )
        if definition.is_dynamic:
            seen = rc.mapping_keys_seen.setdefault((step.key, name), set())
            if mapping_key in seen:
                raise DagsterInvariantViolationError(
                    f'Compute for op "{step.node_handle.name}" yielded a DynamicOutput with mapping_key "{mapping_key}" '
                    "multiple times."
                )
            seen.add(mapping_key)
        yielded.add(name)
        value = output.value
        dagster_type = definition.dagster_type
        check = dagster_type.type_check(rc.type_check_context, value)
        metadata = dict(output.metadata) if output.metadata else {}
        extra = context.take_output_metadata(name, mapping_key) if context._output_metadata else None
        if extra:
            metadata.update(extra)
        if metadata:
            metadata = _normalize_metadata(metadata)
        where = f'output "{name}"' + (f' mapping key "{mapping_key}"' if mapping_key else "")
        handle = StepOutputHandle(step.key, name, mapping_key)
        if not check.success:
            yield self._event(
                "STEP_OUTPUT", step, f'Yielded {where} of type "{dagster_type.display_name}". Warning! Type check failed.',
                StepOutputData(handle, TypeCheckData(False, name, check.description, check.metadata), None, metadata),
            )
            raise DagsterTypeCheckDidNotPass(
                description=(
                    f'Type check failed for step output "{name}" - expected type "{dagster_type.display_name}". '
                    f"Description: {check.description}"
                ),
                metadata=check.metadata, dagster_type=dagster_type,
            )
        yield self._event(
            "STEP_OUTPUT", step, f'Yielded {where} of type "{dagster_type.display_name}". (Type check passed).',
            StepOutputData(handle, TypeCheckData(True, name, check.description, check.metadata), None, metadata),
        )
        layer = rc.asset_layer  # assets hook: ASSET_* events for outputs that are assets or checks
        asset = layer.output_asset(str(step.node_handle), name) if layer is not None else None
        if dagster_type.is_nothing or (asset is not None and getattr(output, "skip_io", False)):
            if rc.output_capture is not None:
                rc.output_capture[handle] = value
            if asset is not None:
                yield from layer.output_events(self, step, asset, output, metadata, None)
            return
        manager_key = definition.io_manager_key
        manager = self.io_manager(manager_key)
        contexts = _io_contexts()
        output_context = contexts.OutputContext(
            step_key=step.key, name=name, job_name=rc.job_name, run_id=rc.run_id, mapping_key=mapping_key,
            config=rc.output_config(step, name),
            dagster_type=dagster_type, definition_metadata=definition.metadata, op_def=step.op_def, log_manager=log,
            resources=self.resources, instance=rc.instance, output_metadata=metadata,
            **(layer.output_context_kwargs(asset, rc) if asset is not None else {}),
        )
        try:
            handled = manager.handle_output(output_context, value)
            if inspect.isgenerator(handled):
                for _ in handled:
                    pass
        except DagsterError:
            raise
        except Exception as exc:
            raise DagsterExecutionHandleOutputError(
                f'Error occurred while handling output "{name}" of step "{step.key}":',
                user_exception=exc, step_key=step.key, output_name=name,
            ) from exc
        if rc.output_capture is not None:
            rc.output_capture[handle] = value
        if self._hook_outputs is not None and step.hook_defs:
            if mapping_key is None:
                self._hook_outputs[name] = value
            else:
                self._hook_outputs.setdefault(name, {})[mapping_key] = value
        handled_metadata = output_context.consume_logged_metadata() if hasattr(output_context, "consume_logged_metadata") else {}
        if asset is not None:
            yield from layer.output_events(self, step, asset, output, metadata, handled_metadata)
        yield self._event(
            "HANDLED_OUTPUT", step, f'Handled output "{name}" using IO manager "{manager_key}"',
            HandledOutputData(name, manager_key, handled_metadata or {}),
        )

    def run_hooks(self, step: ExecutionStep, step_events: list[DagsterEvent]) -> Iterator[DagsterEvent]:
        """Run the step's hooks (see `orchestra._core.hooks.run_step_hooks`)."""
        from orchestra._core.hooks import run_step_hooks

        return run_step_hooks(self, step, step_events)

    def _user_event(self, step: ExecutionStep, item: Any) -> DagsterEvent:
        """An AssetMaterialization / AssetObservation / ExpectationResult the op yielded or logged."""
        kind = type(item).__name__
        if kind == "AssetMaterialization":
            label = getattr(item, "label", None)
            if label is None and getattr(item, "asset_key", None) is not None:
                key = item.asset_key
                label = key.to_user_string() if hasattr(key, "to_user_string") else str(key)
            description = getattr(item, "description", None)
            message = description or ("Materialized value" + (f" {label}" if label else "") + ".")
            return self._event("ASSET_MATERIALIZATION", step, message, StepMaterializationData(item))
        if kind == "AssetObservation":
            return self._event("ASSET_OBSERVATION", step, None, AssetObservationData(item))  # type: ignore[arg-type]
        if kind == "ExpectationResult":
            return self._event("STEP_EXPECTATION_RESULT", step, getattr(item, "description", None) or "Expectation", StepExpectationResultData(item))
        raise DagsterInvariantViolationError(f"Op {step.node_handle.name} produced an event of unsupported type {kind}.")

    # --- failures -------------------------------------------------------------------------

    def _failure(self, step: ExecutionStep, exc: Exception, retry_number: int) -> StepFailed:
        user_exc = exc.__cause__ if isinstance(exc, _UserCodeError) else exc
        policy = step.retry_policy if self.rc.retries_enabled else None
        if isinstance(user_exc, RetryRequested) and self.rc.retries_enabled:
            if retry_number < user_exc.max_retries:
                return StepFailed(self._retry_event(step, user_exc, user_exc.seconds_to_wait), user_exc)
            return self._retries_exceeded(step, user_exc, user_exc)
        allow_retry = not isinstance(user_exc, Failure) or user_exc.allow_retries
        if policy is not None and allow_retry and isinstance(exc, (_UserCodeError, Failure)):
            wrapper = RetryRequestedFromPolicy(policy.max_retries, policy.calculate_delay(retry_number + 1))
            wrapper.__cause__ = user_exc
            if retry_number < policy.max_retries:
                return StepFailed(self._retry_event(step, wrapper, wrapper.seconds_to_wait), user_exc)
            return self._retries_exceeded(step, wrapper, user_exc)
        if isinstance(user_exc, Failure):
            info = SerializableErrorInfo.from_exception(user_exc)
            user_data = UserFailureData("intentional-failure", user_exc.description, user_exc.metadata)
            return StepFailed(self._failure_event(step, info, user_data, ErrorSource.USER_CODE_ERROR), user_exc)
        if isinstance(exc, _UserCodeError):
            wrapper = DagsterExecutionStepExecutionError(
                f'Error occurred while executing op "{step.node_handle.name}":', user_exception=user_exc,
                step_key=step.key, op_name=step.node_handle.name, op_def_name=step.op_def.name,
            )
            wrapper.__cause__ = user_exc
            info = SerializableErrorInfo.from_exception(wrapper)
            return StepFailed(self._failure_event(step, info, None, ErrorSource.USER_CODE_ERROR), user_exc)
        if isinstance(exc, (DagsterExecutionLoadInputError, DagsterExecutionHandleOutputError)):
            info = SerializableErrorInfo.from_exception(exc)
            return StepFailed(self._failure_event(step, info, None, ErrorSource.USER_CODE_ERROR), exc.user_exception or exc)
        info = SerializableErrorInfo.from_exception(exc)
        source = ErrorSource.FRAMEWORK_ERROR if isinstance(exc, DagsterError) else ErrorSource.UNEXPECTED_ERROR
        return StepFailed(self._failure_event(step, info, None, source), exc)

    def _retries_exceeded(self, step: ExecutionStep, request: RetryRequested, user_exc: BaseException) -> StepFailed:
        """The last allowed attempt failed: Dagster reports the retry request (its cause the op's error)."""
        base = SerializableErrorInfo.from_exception(request)
        info = base._replace(message=f"Exceeded max_retries of {request.max_retries}\n")
        cause = request.__cause__
        user_data = (
            UserFailureData("intentional-failure", cause.description, cause.metadata) if isinstance(cause, Failure) else None
        )
        raised = DagsterMaxRetriesExceededError(info.to_string(), user_code_process_error_infos=[info])
        return StepFailed(self._failure_event(step, info, user_data, ErrorSource.USER_CODE_ERROR), user_exc, raised)

    def _retry_event(self, step: ExecutionStep, exc: RetryRequested, seconds_to_wait: float | None) -> DagsterEvent:
        info = SerializableErrorInfo.from_exception(exc)
        return self._event(
            "STEP_UP_FOR_RETRY", step, f'Execution of step "{step.key}" failed and has requested a retry.',
            StepRetryData(info, seconds_to_wait),
        )

    def _failure_event(self, step: ExecutionStep, info: SerializableErrorInfo, user_data: Any, source: ErrorSource) -> DagsterEvent:
        return self._event("STEP_FAILURE", step, f'Execution of step "{step.key}" failed.', StepFailureData(info, user_data, source))


class _UserCodeError(Exception):
    """Internal marker: the op body raised (the user's exception is `__cause__`)."""


def _run_async(result: Any) -> Any:
    import asyncio

    if inspect.isasyncgen(result):
        async def drain() -> list[Any]:
            return [item async for item in result]

        return (item for item in asyncio.run(drain()))  # a generator, so its items are read as yielded
    return asyncio.run(result)


def _is_user_event(item: Any) -> bool:
    return type(item).__name__ in {"AssetMaterialization", "AssetObservation", "ExpectationResult"}


def _normalize_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    from orchestra._core.metadata import normalize_metadata

    return dict(normalize_metadata(metadata))




