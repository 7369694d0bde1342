"""`OpExecutionContext` (what op bodies receive), `build_op_context` and direct invocation of ops."""

from __future__ import annotations

import inspect
import sys
from typing import Any

from orchestra._core.definitions.inout import NO_VALUE
from orchestra._core.definitions.output import DynamicOutput, Output
from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvalidPropertyError,
    DagsterInvariantViolationError,
    DagsterTypeCheckDidNotPass,
)


class OpExecutionContext:
    """The context an op body receives as its first (`context`) parameter.

    Example:
        >>> @op(config_schema={"n": int})
        ... def show(context):
        ...     context.log.info(f"run {context.run_id}, n={context.op_config['n']}")
    """

    __slots__ = (
        "_run", "_job_def", "_step", "_op_def", "_op_config", "_resources", "_log", "_retry_number", "_instance",
        "_output_metadata", "_mapping_key", "_run_config", "_user_events", "_partition_key", "_node_handle",
        "_requested_retry",
    )

    def __init__(self, *, run: Any, job_def: Any, step: Any, op_def: Any, op_config: Any, resources: Any, log: Any,
                 retry_number: int = 0, instance: Any = None, mapping_key: str | None = None, run_config: Any = None,
                 partition_key: str | None = None, node_handle: Any = None):
        self._run = run
        self._job_def = job_def
        self._step = step
        self._op_def = op_def
        self._op_config = op_config
        self._resources = resources
        self._log = log
        self._retry_number = retry_number
        self._instance = instance
        self._output_metadata: dict[tuple[str, str | None], dict[str, Any]] | None = None
        self._mapping_key = mapping_key
        self._run_config = run_config
        self._user_events: list[Any] | None = None
        self._partition_key = partition_key
        self._node_handle = node_handle

    # --- run ------------------------------------------------------------------------------

    @property
    def log(self) -> Any:
        return self._log

    @property
    def run(self) -> Any:
        if self._run is None:
            raise DagsterInvalidPropertyError("No run is available for a context built with build_op_context().")
        return self._run

    @property
    def dagster_run(self) -> Any:
        return self.run

    @property
    def run_id(self) -> str:
        return self._run.run_id if self._run is not None else "EPHEMERAL"

    @property
    def job_name(self) -> str:
        if self._job_def is None:
            raise DagsterInvalidPropertyError(
                "The job_name property is not set on the context when an asset or op is directly invoked."
            )
        return self._job_def.name

    @property
    def job_def(self) -> Any:
        if self._job_def is None:
            raise DagsterInvalidPropertyError(
                "The job_def property is not set on the context when an asset or op is directly invoked."
            )
        return self._job_def

    @property
    def run_config(self) -> dict[str, Any]:
        if self._run is not None and (self._run.run_config or self._job_def is not None):
            return self._run.run_config or {}  # the run config as launched, without defaults
        return self._run_config or {}

    @property
    def instance(self) -> Any:
        if self._instance is None:
            from orchestra._core.instance import DagsterInstance

            self._instance = DagsterInstance.ephemeral()
        return self._instance

    @property
    def run_tags(self) -> dict[str, str]:
        return self._run.tags if self._run is not None else {}

    def has_tag(self, key: str) -> bool:
        return key in self.run_tags

    def get_tag(self, key: str) -> str | None:
        return self.run_tags.get(key)

    @property
    def retry_number(self) -> int:
        return self._retry_number

    # --- op -------------------------------------------------------------------------------

    @property
    def op_config(self) -> Any:
        return self._op_config

    @property
    def resources(self) -> Any:
        return self._resources

    @property
    def op_def(self) -> Any:
        return self._op_def

    @property
    def op(self) -> Any:
        if self._step is None:
            raise DagsterInvalidPropertyError("op is not available on a context built with build_op_context().")
        return self._step.node

    @property
    def node_handle(self) -> Any:
        return self._node_handle

    op_handle = node_handle

    @property
    def step_key(self) -> str | None:
        return self._step.key if self._step is not None else None

    def describe_op(self) -> str:
        return f'op "{self._node_handle or self._op_def.name}"'

    def get_mapping_key(self) -> str | None:
        return self._mapping_key

    @property
    def selected_output_names(self) -> set[str]:
        return {o.name for o in self._op_def.output_defs}

    @property
    def has_partition_key(self) -> bool:
        return self._partition_key is not None

    @property
    def partition_key(self) -> str:
        if self._partition_key is None:
            raise DagsterInvariantViolationError("Cannot access partition_key for a non-partitioned run")
        return self._partition_key

    @property
    def is_subset(self) -> bool:
        return bool(self._job_def is not None and self._job_def.is_subset)

    @property
    def pdb(self) -> Any:
        import pdb

        return pdb.Pdb()

    # --- metadata and events ------------------------------------------------------------------

    def add_output_metadata(self, metadata: dict[str, Any], output_name: str | None = None, mapping_key: str | None = None) -> None:
        """Attach metadata to an output's STEP_OUTPUT event (the only output when `output_name` is omitted)."""
        outputs = self._op_def.output_defs
        if output_name is None:
            if len(outputs) != 1:
                raise DagsterInvariantViolationError(
                    "Attempted to add metadata without specifying an output name, but the op has more than one output."
                )
            output_name = outputs[0].name
        elif not self._op_def.has_output(output_name):
            raise DagsterInvariantViolationError(f"Op '{self._op_def.name}' has no output named '{output_name}'.")
        if self._output_metadata is None:
            self._output_metadata = {}
        self._output_metadata.setdefault((output_name, mapping_key), {}).update(metadata)

    def take_output_metadata(self, output_name: str, mapping_key: str | None) -> dict[str, Any]:
        if not self._output_metadata:
            return {}
        return self._output_metadata.pop((output_name, mapping_key), None) or self._output_metadata.pop((output_name, None), None) or {}

    def log_event(self, event: Any) -> None:
        if self._user_events is None:
            self._user_events = []
        self._user_events.append(event)

    def take_user_events(self) -> list[Any]:
        events, self._user_events = self._user_events or [], None
        return events

    def get_events(self) -> list[Any]:
        return list(self._user_events or [])

    def get_output_metadata(self, output_name: str, mapping_key: str | None = None) -> dict[str, Any] | None:
        return (self._output_metadata or {}).get((output_name, mapping_key))

    def __enter__(self) -> OpExecutionContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        resources_cm = getattr(self, "_resources_cm", None)
        if resources_cm is not None:
            resources_cm.__exit__(*exc)


class DirectOpExecutionContext(OpExecutionContext):
    """A context built by `build_op_context` for invoking op functions directly in tests."""

    __slots__ = ("_resources_cm", "_resource_values")


def build_op_context(
    resources: dict[str, Any] | None = None,
    op_config: Any = None,
    resources_config: dict[str, Any] | None = None,
    instance: Any = None,
    config: Any = None,
    partition_key: str | None = None,
    partition_key_range: Any = None,
    mapping_key: str | None = None,
    run_tags: dict[str, str] | None = None,
    event_loop: Any = None,
) -> DirectOpExecutionContext:
    """Build a context for calling an op function directly, e.g. in unit tests.

    Example:
        >>> context = build_op_context(op_config={"n": 2}, resources={"db": FakeDb()})
        >>> assert my_op(context, 1) == 3
    """
    if op_config is not None and config is not None:
        raise DagsterInvalidInvocationError("Cannot provide both op_config and config to build_op_context.")
    from orchestra._core.log import ConsoleWriter, DagsterLogManager
    from orchestra._core.resources.initialization import build_resources
    from orchestra._core.runs import DagsterRun

    resources_cm = build_resources(resources or {}, instance=instance, resource_config=resources_config)
    built = resources_cm.__enter__()
    run = DagsterRun(job_name="EPHEMERAL", run_id="EPHEMERAL", tags=dict(run_tags or {}))
    context = DirectOpExecutionContext(
        run=run, job_def=None, step=None, op_def=None, op_config=op_config if op_config is not None else config,
        resources=built, log=DagsterLogManager("EPHEMERAL", None, None, None, ConsoleWriter()), instance=instance,
        mapping_key=mapping_key, partition_key=partition_key,
    )
    context._resources_cm = resources_cm
    context._resource_values = built
    return context


def invoke_op_directly(op_def: Any, args: tuple, kwargs: dict) -> Any:
    """Call an op's function outside a run: `my_op(context, 1)` or `my_op(1)`."""
    call = op_def.compute_fn
    args = list(args)
    context: Any = None
    if args and (isinstance(args[0], OpExecutionContext) or (args[0] is None and call.has_context)):
        context = args.pop(0)
        if not call.has_context and getattr(call, "config_arg", None) is None and not getattr(call, "resource_args", ()):
            raise DagsterInvalidInvocationError(
                f"Decorated function '{op_def.name}' has no context argument, but context was provided when invoking."
            )
    elif "context" in kwargs and isinstance(kwargs["context"], OpExecutionContext):
        context = kwargs.pop("context")
    elif call.has_context:
        if args and _is_asset_context(args[0]):
            raise DagsterInvariantViolationError("DirectAssetExecutionContext can only being used to invoke an asset.")
        raise DagsterInvalidInvocationError(
            f"Decorated function '{op_def.name}' has context argument, but no context was provided when invoking."
        )
    if context is None:
        context = build_op_context()
    args = split_direct_args(call, args, kwargs)
    provided = set(getattr(context._resources, "original_resource_dict", {}) or {})
    for key in sorted(op_def.required_resource_keys):
        if key not in provided and key not in kwargs:
            raise DagsterInvalidDefinitionError(
                f"resource with key '{key}' required by op '{op_def.name}' was not provided. Please provide a "
                f"ResourceDefinition to key '{key}', or change the required key to one of the following keys which "
                f"points to an ResourceDefinition: {sorted(provided)}"
            )
    config_override = kwargs.pop("config", NO_VALUE) if getattr(call, "config_arg", None) is not None else NO_VALUE
    if config_override is NO_VALUE and getattr(call, "config_arg", None) is not None and args:
        class_ = getattr(call, "config_class", None)
        if class_ is not None and isinstance(args[-1], class_):
            config_override = args.pop()
    value_inputs = [d for d in op_def.input_defs if not d.is_nothing]
    if len(args) > len(value_inputs):
        raise DagsterInvalidInvocationError(
            f"Too many input arguments were provided for op '{op_def.name}'. This may be because an argument was "
            "provided for the context parameter, but no context parameter was defined for the op."
        )
    inputs: dict[str, Any] = {}
    for definition, value in zip(value_inputs, args, strict=False):
        inputs[definition.name] = value
    for name, value in kwargs.items():
        if not op_def.has_input(name):
            if name in getattr(call, "resource_args", ()):
                continue
            raise DagsterInvalidInvocationError(f"No input named '{name}' on op '{op_def.name}'.")
        inputs[name] = value
    for definition in value_inputs:
        if definition.name not in inputs:
            if definition.has_default_value:
                inputs[definition.name] = definition.default_value
            else:
                raise DagsterInvalidInvocationError(
                    f'No value provided for required input "{definition.name}".'
                )
        check = definition.dagster_type.type_check(None, inputs[definition.name])
        if not check.success:
            raise DagsterTypeCheckDidNotPass(
                description=(
                    f'Type check failed for op "{op_def.name}" input "{definition.name}" - expected type '
                    f'"{definition.dagster_type.display_name}". Description: {check.description}'
                ),
                metadata=check.metadata, dagster_type=definition.dagster_type,
            )
    bound = OpExecutionContext(
        run=context._run, job_def=None, step=None, op_def=op_def, op_config=context._op_config,
        resources=context._resources, log=context._log, instance=context._instance, mapping_key=context._mapping_key,
        partition_key=context._partition_key,
    )
    # The caller's context sees what the op records (`get_output_metadata`, `get_events`), as in Dagster.
    if context._output_metadata is None:
        context._output_metadata = {}
    if context._user_events is None:
        context._user_events = []
    bound._output_metadata = context._output_metadata
    bound._user_events = context._user_events
    config_value = _direct_config(op_def, call, context._op_config, config_override)
    if getattr(call, "config_arg", None) is None:
        bound._op_config = _bound_op_config(op_def, context._op_config)
    resource_values = {
        key: kwargs[key] if key in kwargs else getattr(context._resources, key)
        for key in getattr(call, "resource_args", ())
    }
    result = call(bound, inputs, config_value, resource_values)
    # Async ops return a coroutine / async generator (as in Dagster) that type-checks when awaited.
    if inspect.iscoroutine(result):
        return _checked_coroutine(op_def, result)
    if inspect.isasyncgen(result):
        return _checked_async_outputs(op_def, result)
    if inspect.isgenerator(result):
        return _checked_outputs(op_def, result)
    return _check_returned(op_def, result)


def split_direct_args(call: Any, args: list, kwargs: dict) -> list:
    """Move positional arguments that line up with resource or `config` parameters into `kwargs`.

    Dagster lets a direct call pass them by position (`my_op(FakeDb())`, `my_asset(MyConfig(...))`);
    what is left are the input values, in order.
    """
    resource_args = getattr(call, "resource_args", ())
    has_config = getattr(call, "config_arg", None) is not None
    if not args or (not resource_args and not has_config):
        return args
    from orchestra._core.signatures import signature_of

    params = list(signature_of(call.decorated_fn).parameters.values())
    if call.has_context:
        params = params[1:]
    remaining = []
    for index, value in enumerate(args):
        param = params[index] if index < len(params) else None
        if param is not None and param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            if param.name in resource_args or (has_config and param.name == "config"):
                kwargs[param.name] = value
                continue
        remaining.append(value)
    return remaining


def _is_asset_context(value: Any) -> bool:
    module = sys.modules.get("orchestra._core.assets.context")
    return module is not None and isinstance(value, module.AssetContextBase)


def _bound_op_config(op_def: Any, op_config: Any) -> Any:
    """`context.op_config` for a direct call: validated, with defaults (DagsterInvalidConfigError if invalid)."""
    if op_def.config_schema is None:
        return op_config
    from orchestra._core.resources.config_bridge import process_config

    return process_config(op_def.config_field, op_config, what="op")


def _direct_config(op_def: Any, call: Any, op_config: Any, override: Any) -> Any:
    if getattr(call, "config_arg", None) is None:
        return None
    if override is not NO_VALUE:
        return override
    from orchestra._core.resources.config_bridge import process_config

    processed = process_config(op_def.config_field, op_config, what=f"op {op_def.name}")
    config_class = call.config_class
    if config_class is not None:
        from orchestra._config.pythonic import config_from_processed

        return config_from_processed(config_class, processed)
    return processed


def _check_output(op_def: Any, name: str, value: Any) -> None:
    definition = op_def.output_dict.get(name)
    if definition is None:
        raise DagsterInvariantViolationError(f'Invocation of op "{op_def.name}" yielded an output "{name}" that is not defined.')
    check = definition.dagster_type.type_check(None, value)
    if not check.success:
        raise DagsterTypeCheckDidNotPass(
            description=(
                f'Type check failed for op "{op_def.name}" output "{name}" - expected type '
                f'"{definition.dagster_type.display_name}". Description: {check.description}'
            ),
            metadata=check.metadata, dagster_type=definition.dagster_type,
        )


async def _checked_coroutine(op_def: Any, coroutine: Any) -> Any:
    return _check_returned(op_def, await coroutine)


async def _checked_async_outputs(op_def: Any, gen: Any) -> Any:
    async for item in gen:
        if isinstance(item, (Output, DynamicOutput)):
            _check_output(op_def, item.output_name, item.value)
        yield item


def _checked_outputs(op_def: Any, gen: Any) -> Any:
    for item in gen:
        if isinstance(item, (Output, DynamicOutput)):
            _check_output(op_def, item.output_name, item.value)
        yield item


def _check_returned(op_def: Any, result: Any) -> Any:
    outputs = op_def.output_defs
    if isinstance(result, Output):
        _check_output(op_def, result.output_name, result.value)
        return result
    if len(outputs) == 1:
        if not outputs[0].dagster_type.is_nothing:
            _check_output(op_def, outputs[0].name, result)
        return result
    if len(outputs) > 1 and isinstance(result, tuple):
        for definition, value in zip(outputs, result, strict=False):
            _check_output(op_def, definition.name, value.value if isinstance(value, Output) else value)
    return result
