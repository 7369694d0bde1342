"""How an asset body runs inside its op: the context it gets, and its return value turned into outputs.

An asset is an op whose compute function is an `AssetComputeFn`. It hands the body an
`AssetExecutionContext`, and turns what the body returns or yields (values, `Output`s,
`MaterializeResult`s, `AssetCheckResult`s) into `Output`s for the op's outputs. The step runner stores
them as for any op; the job's asset layer (`layer.py`) adds the ASSET_* events. A failed blocking
check raises `DagsterAssetCheckFailedError` once the body is done.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator, Sequence
from typing import Any

from orchestra._core.assets.keys import AssetCheckKey, AssetKey
from orchestra._core.assets.results import (
    NO_VALUE,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetMaterialization,
    AssetObservation,
    MaterializeResult,
    ObserveResult,
)
from orchestra._core.definitions.inout import NO_VALUE as CORE_NO_VALUE
from orchestra._core.definitions.inout import InputDefinition
from orchestra._core.definitions.op import _DecoratedFn
from orchestra._core.definitions.output import Output
from orchestra._errors import DagsterAssetCheckFailedError, DagsterInvariantViolationError


class AssetResultOutput(Output):
    """An output made from a `MaterializeResult`/`ObserveResult` or an `AssetCheckResult`.

    `skip_io` tells the asset layer not to hand the (absent) value to an IO manager.
    """

    __slots__ = ("skip_io", "check_result", "observation")

    def __init__(self, value: Any, output_name: str, metadata: dict[str, Any] | None = None, *, skip_io: bool = True,
                 check_result: AssetCheckResult | None = None, observation: bool = False, tags: Any = None):
        super().__init__(value, output_name, metadata, tags=tags)
        self.skip_io = skip_io
        self.check_result = check_result
        self.observation = observation


class AssetComputeFn(_DecoratedFn):
    """The compute function of an asset op (see the module docstring)."""

    def __init__(self, fn: Any, ins: dict, out: dict, decorator: str, *, output_keys: dict[str, AssetKey],
                 check_outputs: dict[AssetCheckKey, str], blocking: set[AssetCheckKey], observation: bool = False,
                 context_class: Any = None, nothing_inputs: Sequence[InputDefinition] = ()):
        super().__init__(fn, ins, out, decorator, nothing_inputs)
        self.output_keys = output_keys  # asset output name -> key, in declaration order
        self.check_outputs = check_outputs  # check key -> output name
        self.blocking = blocking
        self.observation = observation
        self.context_class = context_class
        self.assets_def: Any = None  # set once the AssetsDefinition exists
        self.user_is_async = self.is_async
        self.user_is_generator = self.is_generator
        self.is_async = False
        self.is_generator = True

    def asset_context(self, context: Any) -> Any:
        from orchestra._core.assets.context import AssetCheckExecutionContext, AssetExecutionContext

        assets_def = self.assets_def
        job_def = getattr(context, "_job_def", None)
        layer = getattr(job_def, "_asset_layer", None) if job_def is not None else None
        if layer is not None and context.node_handle is not None:
            assets_def = layer.assets_def_for_node(str(context.node_handle)) or assets_def
        cls = self.context_class or (AssetCheckExecutionContext if not self.output_keys else AssetExecutionContext)
        return cls(context, assets_def)

    def __call__(self, context: Any, inputs: dict[str, Any], config: Any = None, resources: dict | None = None) -> Any:
        asset_context = self.asset_context(context)
        result = super().__call__(asset_context, inputs, config, resources)
        return self._bound_to(asset_context._assets_def)._outputs(asset_context, result)

    def _bound_to(self, assets_def: Any) -> AssetComputeFn:
        """This function with keys as the job sees them (keys may be prefixed, the selection subset)."""
        if assets_def is None or assets_def is self.assets_def:
            return self
        bound = copy.copy(self)
        bound.output_keys = dict(assets_def.node_keys_by_output_name) if self.output_keys else {}
        bound.check_outputs = {spec.key: name for name, spec in assets_def._check_specs_by_output_name.items()}
        bound.blocking = {spec.key for spec in assets_def._check_specs_by_output_name.values() if spec.blocking}
        return bound

    def _outputs(self, context: Any, result: Any) -> Iterator[Any]:
        if self.user_is_async:
            result = _run_async(result)
        failed_blocking: list[AssetCheckKey] = []
        seen_checks: set[AssetCheckKey] = set()
        if inspect.isgenerator(result) or (self.user_is_async and isinstance(result, _Drained)):
            for item in result:
                yield from self._item(context, item, failed_blocking, seen_checks)
        else:
            yield from self._returned(context, result, failed_blocking, seen_checks)
        if failed_blocking:
            names = "\n".join(f"{k.asset_key.to_user_string()}: {k.name}" for k in failed_blocking)
            raise DagsterAssetCheckFailedError(
                f"{len(failed_blocking)} blocking asset check{'s' if len(failed_blocking) > 1 else ''} failed with "
                f"ERROR severity:\n{names}"
            )

    # --- one item ---------------------------------------------------------------------------

    def _item(self, context: Any, item: Any, failed: list, seen: set) -> Iterator[Any]:
        if isinstance(item, AssetCheckResult):
            yield self._check_output(context, item, failed, seen)
        elif isinstance(item, MaterializeResult):
            yield from self._materialize_result(context, item, failed, seen)
        else:
            yield item  # Output, DynamicOutput, AssetMaterialization, AssetObservation, ...

    def _returned(self, context: Any, result: Any, failed: list, seen: set) -> Iterator[Any]:
        names = list(self.output_keys) if self.output_keys else []
        if isinstance(result, (AssetCheckResult, MaterializeResult, Output, AssetMaterialization, AssetObservation)):
            yield from self._item(context, result, failed, seen)
            return
        if not self.output_keys:
            if self.observation and result is None:
                return
            if isinstance(result, (list, tuple)) and all(isinstance(r, AssetCheckResult) for r in result):
                for item in result:
                    yield self._check_output(context, item, failed, seen)
                return
            if result is None:
                return
            raise DagsterInvariantViolationError(
                f"Asset check function returned {type(result).__name__}; expected an AssetCheckResult."
            )
        if len(names) == 1 and not self.check_outputs:
            if self.observation:
                if result is not None:
                    yield from self._observation(names[0], ObserveResult(data_version=result))
                return
            yield Output(result, names[0])
            return
        if result is None and not self.check_outputs and all(not self._is_required(n) for n in names):
            return
        all_names = names + list(self.check_outputs.values())
        if not isinstance(result, tuple):
            raise DagsterInvariantViolationError(
                f'op "{self.name}" has multiple outputs, but only one output was returned of type {type(result)}. '
                "When using multiple outputs, either yield each output, or return a tuple containing a value for "
                "each output. Check out the documentation on outputs for more: "
                "https://legacy-docs.dagster.io/concepts/ops-jobs-graphs/ops#outputs."
            )
        if len(result) != len(all_names):
            raise DagsterInvariantViolationError(
                f"Length mismatch between returned tuple of outputs and number of output defs on op "
                f'"{self.name}". Output tuple has {len(result)} outputs, while op has {len(all_names)} outputs.'
            )
        for name, value in zip(all_names, result, strict=True):
            if isinstance(value, (MaterializeResult, Output, AssetCheckResult)):
                yield from self._item(context, value, failed, seen)
            else:
                yield Output(value, name)

    def _is_required(self, output_name: str) -> bool:
        for definition in self.output_defs:
            if definition.name == output_name:
                return definition.is_required
        return True

    # --- results ------------------------------------------------------------------------------

    def _materialize_result(self, context: Any, result: MaterializeResult, failed: list, seen: set) -> Iterator[Any]:
        key = result.asset_key
        if key is None:
            selected = [k for k in self.output_keys.values() if context.assets_def is None or k in context.assets_def.keys]
            if len(selected) != 1:
                raise DagsterInvariantViolationError(
                    f"{type(result).__name__} did not include asset_key and it can not be inferred. Specify which "
                    f"asset_key, options are: {set(self.output_keys.values())}."
                )
            key = selected[0]
        name = next((n for n, k in self.output_keys.items() if k == key), None)
        if name is None:
            raise DagsterInvariantViolationError(
                f"Asset key {key.to_user_string()} not found in AssetsDefinition"
            )
        if isinstance(result, ObserveResult) or self.observation:
            yield from self._observation(name, result, key)
        else:
            has_value = getattr(result, "value", NO_VALUE) is not NO_VALUE
            tags = _with_data_version(result.tags, result.data_version, materialization=True)
            yield AssetResultOutput(result.value if has_value else None, name, result.metadata, skip_io=not has_value,
                                    tags=tags)
        for check_result in result.check_results:
            if check_result.asset_key is None:
                check_result = _with_asset_key(check_result, key)
            yield self._check_output(context, check_result, failed, seen)

    def _observation(self, name: str, result: MaterializeResult, key: AssetKey | None = None) -> Iterator[Any]:
        """An observation is recorded as it happens (before its output), like Dagster does."""
        key = key or self.output_keys[name]
        tags = _with_data_version(result.tags, result.data_version)
        yield AssetObservation(key, metadata=result.metadata, tags=tags or None)
        yield AssetResultOutput(None, name, skip_io=True, observation=True)

    def _check_output(self, context: Any, result: AssetCheckResult, failed: list, seen: set) -> AssetResultOutput:
        check_key = self._resolve_check(result)
        if check_key in seen:
            raise DagsterInvariantViolationError(
                f"Asset check {check_key.to_user_string()} was yielded or returned more than once."
            )
        seen.add(check_key)
        resolved = _with_asset_key(result, check_key.asset_key, check_key.name)
        if not resolved.passed and resolved.severity == AssetCheckSeverity.ERROR and check_key in self.blocking:
            failed.append(check_key)
        return AssetResultOutput(None, self.check_outputs[check_key], skip_io=True, check_result=resolved)

    def _resolve_check(self, result: AssetCheckResult) -> AssetCheckKey:
        candidates = list(self.check_outputs)
        if result.asset_key is not None:
            candidates = [k for k in candidates if k.asset_key == result.asset_key]
        if result.check_name is not None:
            candidates = [k for k in candidates if k.name == result.check_name]
        if len(candidates) == 1:
            return candidates[0]
        if not self.check_outputs:
            raise DagsterInvariantViolationError(
                "Received unexpected AssetCheckResult. No AssetCheckSpecs were found for this step. You may need to "
                "set `check_specs` on the asset decorator, or you may be emitting an AssetCheckResult that isn't "
                "in the subset passed in `context.selected_asset_check_keys`."
            )
        if not candidates:
            described = f"asset {result.asset_key.to_user_string()}" if result.asset_key else "this step"
            raise DagsterInvariantViolationError(
                f"Received unexpected AssetCheckResult. No checks currently being evaluated target {described}"
                + (f" with name '{result.check_name}'." if result.check_name else ".")
            )
        raise DagsterInvariantViolationError(
            "AssetCheckResult didn't specify a check name, but there are multiple checks to choose from for this "
            f"asset key: {sorted(k.to_user_string() for k in candidates)}"
        )


def _with_data_version(tags: dict[str, str] | None, data_version: Any, *, materialization: bool = False) -> dict[str, str] | None:
    if data_version is None:
        return tags
    value = data_version.value if hasattr(data_version, "value") else str(data_version)
    extra = {"dagster/data_version_is_user_provided": "true"} if materialization else {}  # observations: none
    return {**(tags or {}), "dagster/data_version": value, **extra}


def _with_asset_key(result: AssetCheckResult, asset_key: AssetKey, check_name: str | None = None) -> AssetCheckResult:
    copy = AssetCheckResult(passed=result.passed, asset_key=asset_key, check_name=check_name or result.check_name,
                            severity=result.severity, description=result.description)
    copy.metadata = result.metadata
    return copy


class _Drained(list):
    """The items of an async generator, collected."""


def _run_async(result: Any) -> Any:
    import asyncio  # only async assets need it: importing it was a quarter of `import orchestra`

    if inspect.isasyncgen(result):
        async def drain() -> list[Any]:
            return [item async for item in result]

        return _Drained(asyncio.run(drain()))
    return asyncio.run(result)


# --- direct invocation ------------------------------------------------------------------------------


def invoke_asset_directly(assets_def: Any, args: tuple, kwargs: dict) -> Any:
    """Call an asset's function outside a run (`my_asset(context, upstream)` or `my_asset(upstream)`).

    Returns what the function returns, as Dagster does.
    """
    from orchestra._core.assets.context import AssetContextBase, build_asset_context
    from orchestra._core.context import OpExecutionContext, _direct_config, split_direct_args

    node = assets_def.node_def
    call = node.compute_fn
    if not isinstance(call, AssetComputeFn):
        return node(*args, **kwargs)
    args = list(args)
    context: Any = None
    if args and isinstance(args[0], (AssetContextBase, OpExecutionContext)):
        context = args.pop(0)
    elif isinstance(kwargs.get("context"), (AssetContextBase, OpExecutionContext)):
        context = kwargs.pop("context")
    if context is None:
        if call.has_context:
            from orchestra._errors import DagsterInvalidInvocationError

            raise DagsterInvalidInvocationError(
                f"Decorated function '{node.name}' has context argument, but no context was provided when invoking."
            )
        context = build_asset_context()
    op_context = context.op_execution_context if isinstance(context, AssetContextBase) else context
    args = split_direct_args(call, args, kwargs)
    bound = OpExecutionContext(
        run=op_context._run, job_def=None, step=None, op_def=node, op_config=op_context._op_config,
        resources=op_context._resources, log=op_context._log, instance=op_context._instance,
        partition_key=op_context._partition_key,
    )
    bound_context = call.asset_context(bound)
    bound_context._assets_def = assets_def
    config_value = None
    if call.config_arg is not None:
        config_class = call.config_class
        if "config" in kwargs:
            config_value = kwargs.pop("config")
        elif args and config_class is not None and isinstance(args[-1], config_class):
            config_value = args.pop()
        else:
            config_value = _direct_config(node, call, op_context._op_config, CORE_NO_VALUE)
    call_kwargs: dict[str, Any] = {}
    value_inputs = [d.name for d in node.input_defs if not d.is_nothing]
    for name, value in zip(value_inputs, args, strict=False):
        call_kwargs[name] = value
    for name, value in kwargs.items():
        call_kwargs[name] = value
    if call.config_arg is not None:
        call_kwargs["config"] = config_value
    for key in call.resource_args:
        if key not in call_kwargs:
            call_kwargs[key] = getattr(op_context._resources, key)
    result = call.fn(bound_context, **call_kwargs) if call.has_context else call.fn(**call_kwargs)
    if inspect.iscoroutine(result):
        import asyncio

        result = asyncio.run(result)
    return result
