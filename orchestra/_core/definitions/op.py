"""Ops: `OpDefinition` and the `@op` decorator, with signature inference and direct invocation."""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Any

from orchestra._core.definitions.inout import (
    NO_VALUE,
    In,
    InputDefinition,
    Out,
    OutputDefinition,
    input_definition_from_in,
    output_definition_from_out,
)
from orchestra._core.definitions.node import NodeDefinition
from orchestra._core.definitions.output import DynamicOutput, Output
from orchestra._core.signatures import docstring_of, function_kind, signature_of, type_hints_of
from orchestra._errors import DagsterInvalidDefinitionError

CONTEXT_NAMES = frozenset({"context", "_context", "context_", "_"})


class OpDefinition(NodeDefinition):
    """A unit of computation: a function with typed inputs and outputs, config and required resources.

    Constructed directly, `compute_fn(context, inputs)` receives a dict of input values; prefer `@op`.

    Example:
        >>> def _add_one(context, inputs):
        ...     yield Output(inputs["num"] + 1)
        >>> add_one = OpDefinition(name="add_one", ins={"num": In(int)}, outs={"result": Out(int)}, compute_fn=_add_one)
    """

    node_type_str = "op"

    def __init__(
        self,
        compute_fn: Callable[..., Any],
        name: str,
        ins: dict[str, In] | None = None,
        outs: dict[str, Out] | None = None,
        description: str | None = None,
        config_schema: Any = None,
        required_resource_keys: set[str] | None = None,
        tags: dict[str, Any] | None = None,
        version: str | None = None,
        retry_policy: Any = None,
        code_version: str | None = None,
        pool: str | None = None,
    ):
        if isinstance(compute_fn, _DecoratedFn):
            self._call = compute_fn
            input_defs = compute_fn.input_defs
            output_defs = compute_fn.output_defs
        else:
            input_defs = [input_definition_from_in(k, v) for k, v in (ins or {}).items()]
            output_defs = [output_definition_from_out(k, v) for k, v in (outs or {"result": Out()}).items()]
            self._call = _RawFn(compute_fn, input_defs)
        super().__init__(name, input_defs, output_defs, description, tags)
        self._config_schema = config_schema
        self._config_field: Any = None
        self._required_resource_keys = frozenset(required_resource_keys or ()) | frozenset(self._call.resource_args)
        self._version = code_version or version
        self._retry_policy = retry_policy
        self._pool = pool

    @property
    def compute_fn(self) -> Any:
        return self._call

    @property
    def config_schema(self) -> Any:
        return self._config_schema

    @property
    def config_field(self) -> Any:
        """The op's config `Field` (`config?: Any` when no schema was given), built once."""
        if self._config_field is None:
            from orchestra._config.mapping import convert_user_facing_definition_config_schema

            field = convert_user_facing_definition_config_schema(self._config_schema).as_field()
            if field is None:  # configured with fixed config and no outer schema: nothing to give
                from orchestra._builtins import Any as AnyMarker
                from orchestra._config import Field

                field = Field(AnyMarker, is_required=False)
            self._config_field = field
        return self._config_field

    @property
    def is_configured(self) -> bool:
        return type(self._config_schema).__name__ == "ConfiguredDefinitionConfigSchema"

    def configured(self, config_or_config_fn: Any, name: str | None = None, config_schema: Any = None,
                   description: str | None = None) -> OpDefinition:
        """A copy of this op whose config is produced from `config_or_config_fn` (and an optional outer schema)."""
        from orchestra._config.mapping import (
            ConfiguredDefinitionConfigSchema,
            convert_user_facing_definition_config_schema,
        )

        outer = convert_user_facing_definition_config_schema(config_schema) if config_schema is not None else None
        schema = ConfiguredDefinitionConfigSchema(self, outer, config_or_config_fn)
        copy = object.__new__(OpDefinition)
        copy.__dict__.update(self.__dict__)
        copy._name = name or self._name
        copy._description = description or self._description
        copy._config_schema = schema
        copy._config_field = None
        return copy

    def apply_config_mapping(self, config: Any) -> Any:
        """Resolve processed `{"config": ...}` through `configured` layers down to this op's own config."""
        if self.is_configured:
            return self._config_schema.resolve_config(config)
        from orchestra._config.validate import EvaluateValueResult

        return EvaluateValueResult.for_value(config)

    @property
    def required_resource_keys(self) -> frozenset[str]:
        return self._required_resource_keys

    @property
    def version(self) -> str | None:
        return self._version

    code_version = version

    @property
    def retry_policy(self) -> Any:
        return self._retry_policy

    @property
    def pool(self) -> str | None:
        return self._pool

    def direct_invoke(self, args: tuple, kwargs: dict) -> Any:
        from orchestra._core.context import invoke_op_directly

        return invoke_op_directly(self, args, kwargs)

    def with_replaced_properties(self, **kwargs: Any) -> OpDefinition:
        copy = object.__new__(OpDefinition)
        copy.__dict__.update(self.__dict__)
        for key, value in kwargs.items():
            setattr(copy, f"_{key}", value)
        return copy

    def __repr__(self) -> str:
        return f"<OpDefinition {self.name}>"


class _RawFn:
    """`OpDefinition(compute_fn=...)` built by hand: called as `fn(context, {input: value})`."""

    has_context = True
    resource_args: tuple[str, ...] = ()
    config_arg: Any = None

    def __init__(self, fn: Callable[..., Any], input_defs: list[InputDefinition]):
        self.fn = fn
        self.is_generator = inspect.isgeneratorfunction(fn)
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)
        self.decorated_fn = fn

    def __call__(self, context: Any, inputs: dict[str, Any], config: Any = None, resources: dict | None = None) -> Any:
        return self.fn(context, inputs)


class _DecoratedFn:
    """A function decorated with `@op`: inputs passed by keyword, optional context/config/resource params."""

    def __init__(self, fn: Callable[..., Any], ins: dict[str, In] | None, out: Any, decorator: str = "@op",
                 nothing_inputs: Sequence[InputDefinition] = ()):
        self.decorated_fn = fn
        self.fn = fn
        self.name = fn.__name__
        is_generator, is_coroutine, is_async_generator = function_kind(fn)
        self.is_generator = is_generator
        self.is_async = is_coroutine or is_async_generator
        params = list(signature_of(fn).parameters.values())
        self.has_context = bool(params) and params[0].name in CONTEXT_NAMES
        if self.has_context:
            params = params[1:]
        hints = _type_hints(fn)
        if params:
            from orchestra._core.resources.initialization import resource_params

            self.resource_args = tuple(resource_params(fn))
        else:  # no parameters: none receives a resource
            self.resource_args = ()
        self.config_arg: Any = None  # None, or (annotation, default)
        input_params: list[inspect.Parameter] = []
        for param in params:
            if param.name in self.resource_args:
                continue
            if param.name == "config":
                self.config_arg = (hints.get("config", inspect.Parameter.empty), param.default)
                continue
            if param.kind == inspect.Parameter.VAR_POSITIONAL:
                raise DagsterInvalidDefinitionError(
                    f"{decorator} '{self.name}' decorated function has positional vararg parameter '{param}'. "
                    f"{decorator} decorated functions should only have keyword arguments that match input names "
                    "and, if system information is required, a first positional parameter named 'context'."
                )
            if param.kind == inspect.Parameter.VAR_KEYWORD:
                continue
            input_params.append(param)
        self.input_defs = _resolve_inputs(decorator, self.name, input_params, hints, ins or {}, params)
        # Ordering-only (`Nothing`) inputs the function does not take, resolved by the caller (an asset's deps)
        self.input_defs += nothing_inputs
        self.output_defs = _resolve_outputs(fn, hints, out, is_generator or is_async_generator)
        self.accepts_kwargs = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params)
        # The inputs passed to the function: those with data (not `Nothing`) that it names, or all with
        # data when it takes **kwargs. (An asset with only `deps` names none: nothing to look through.)
        if self.accepts_kwargs:
            self.arg_input_names = tuple(d.name for d in self.input_defs if not d.is_nothing)
        elif input_params:
            param_names = {p.name for p in input_params}
            self.arg_input_names = tuple(d.name for d in self.input_defs if d.name in param_names and not d.is_nothing)
        else:
            self.arg_input_names = ()

    @property
    def config_class(self) -> Any:
        if self.config_arg is None:
            return None
        pythonic = sys.modules.get("orchestra._config.pythonic")
        annotation = self.config_arg[0]
        if pythonic is not None and isinstance(annotation, type) and issubclass(annotation, pythonic.Config):
            return annotation
        return None

    def config_schema(self) -> Any:
        from orchestra._config.pythonic import infer_schema_from_config_annotation

        annotation, default = self.config_arg
        if annotation is inspect.Parameter.empty:
            annotation = typing.Any
        return infer_schema_from_config_annotation(annotation, default)

    def __call__(self, context: Any, inputs: dict[str, Any], config: Any = None, resources: dict | None = None) -> Any:
        kwargs = {name: inputs[name] for name in self.arg_input_names if name in inputs}
        if self.config_arg is not None:
            kwargs["config"] = config
        if resources:
            kwargs.update(resources)
        if self.has_context:
            return self.fn(context, **kwargs)
        return self.fn(**kwargs)


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return type_hints_of(fn)
    except Exception:
        return dict(getattr(fn, "__annotations__", {}))


def _resolve_inputs(decorator: str, fn_name: str, input_params: list[inspect.Parameter], hints: dict[str, Any],
                    ins: dict[str, In], all_params: list[inspect.Parameter]) -> list[InputDefinition]:
    defs: list[InputDefinition] = []
    param_names = {p.name for p in input_params} if input_params else set()
    for name, spec in ins.items():
        if not isinstance(spec, In):
            raise DagsterInvalidDefinitionError(f"Invalid In for input '{name}' of {decorator} '{fn_name}': {spec!r}.")
    for param in input_params:
        default = param.default if param.default is not inspect.Parameter.empty else NO_VALUE
        inferred = hints.get(param.name, NO_VALUE)
        spec = ins.get(param.name)
        if spec is not None:
            definition = input_definition_from_in(param.name, spec, inferred, default)
            if definition.is_nothing:
                raise DagsterInvalidDefinitionError(
                    f"{decorator} '{fn_name}' decorated function has parameter '{param.name}' that is one of the "
                    "input_defs of type 'Nothing' which should not be included since no data will be passed for it. "
                )
            defs.append(definition)
        else:
            defs.append(InputDefinition(param.name, inferred, default_value=default))
    for name, spec in ins.items():
        if name in param_names:
            continue
        definition = input_definition_from_in(name, spec)
        if not definition.is_nothing and not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in all_params):
            raise DagsterInvalidDefinitionError(
                f"{decorator} '{fn_name}' decorated function does not have argument(s) '{name}'. {decorator}-"
                "decorated functions should have a keyword argument for each of their Ins, except for Ins that "
                "have the Nothing dagster_type. Alternatively, they can accept **kwargs."
            )
        defs.append(definition)
    return defs


def _output_value_annotation(annotation: Any) -> Any:
    """The value type an output annotation declares, as Dagster reads it.

    `Output[int]` is an int output and a bare `Output` an Any one; `list[DynamicOutput[str]]` (a
    DynamicOut op returning its outputs as a list) declares str values.
    """
    if annotation is Output:
        return typing.Any
    if type(annotation) is type:  # a plain class (`int`, `-> None`'s NoneType): no origin to look through
        return annotation
    origin = typing.get_origin(annotation)
    if origin is Output:
        args = typing.get_args(annotation)
        return args[0] if len(args) == 1 else typing.Any
    if origin is list:
        args = typing.get_args(annotation)
        if len(args) == 1 and (args[0] is DynamicOutput or typing.get_origin(args[0]) is DynamicOutput):
            inner = typing.get_args(args[0])
            return inner[0] if len(inner) == 1 else typing.Any
    return annotation


def _resolve_outputs(fn: Callable[..., Any], hints: dict[str, Any], out: Any, yields: bool | None = None) -> list[OutputDefinition]:
    if yields is None:
        yields = inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn)
    # Iterator[...] says nothing about output types
    annotation = NO_VALUE if yields else _output_value_annotation(hints.get("return", NO_VALUE))
    if out is None:
        if annotation is type(None) or annotation is None:
            from orchestra._builtins import Nothing

            return [OutputDefinition("result", Nothing)]
        return [OutputDefinition("result", annotation if annotation is not NO_VALUE else NO_VALUE)]
    if isinstance(out, Out):
        return [output_definition_from_out("result", out, annotation)]
    if isinstance(out, dict):
        args: tuple[Any, ...] | None = None  # the annotation's tuple items, read once an output needs them
        defs = []
        for index, (name, spec) in enumerate(out.items()):
            if not isinstance(spec, Out):
                raise DagsterInvalidDefinitionError(f"Invalid Out for output '{name}': {spec!r}.")
            inferred = NO_VALUE
            if spec.dagster_type is NO_VALUE:  # an output typed by its `Out` (every asset's) ignores the annotation
                if args is None:
                    args = typing.get_args(annotation) if typing.get_origin(annotation) is tuple else ()
                if len(args) == len(out):
                    inferred = _output_value_annotation(args[index])
            defs.append(output_definition_from_out(name, spec, inferred))
        return defs
    raise DagsterInvalidDefinitionError(f"Invalid out {out!r}: expected an Out or a dict of Outs.")


def op(
    compute_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: dict[str, In] | None = None,
    out: Any = None,
    config_schema: Any = None,
    required_resource_keys: set[str] | None = None,
    tags: dict[str, Any] | None = None,
    version: str | None = None,
    retry_policy: Any = None,
    code_version: str | None = None,
    pool: str | None = None,
) -> Any:
    """Turn a function into an op. Parameters become inputs; a first `context` parameter gets the context.

    Example:
        >>> @op(tags={"team": "data"}, retry_policy=RetryPolicy(max_retries=2))
        ... def add_one(context, num: int) -> int:
        ...     context.log.info("adding")
        ...     return num + 1
    """

    def decorate(fn: Callable[..., Any]) -> OpDefinition:
        wrapped = _DecoratedFn(fn, ins, out)
        schema = config_schema
        if wrapped.config_arg is not None:
            if config_schema is not None:
                raise DagsterInvalidDefinitionError(
                    "Cannot provide config_schema to @op when the decorated function has a config parameter."
                )
            schema = wrapped.config_schema()
        definition = OpDefinition(
            compute_fn=wrapped, name=name or fn.__name__, description=description or docstring_of(fn),
            config_schema=schema, required_resource_keys=required_resource_keys, tags=tags, version=version,
            retry_policy=retry_policy, code_version=code_version, pool=pool,
        )
        definition.__doc__ = fn.__doc__
        definition.__module__ = fn.__module__
        return definition

    if compute_fn is not None:
        return decorate(compute_fn)
    return decorate
