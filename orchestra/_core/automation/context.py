"""What schedule and sensor evaluation contexts share: lazy resources, the instance, a capturing logger,
and how a directly invoked schedule or sensor function receives its context and resources."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
)

if TYPE_CHECKING:
    import logging

# The capturing logger subclasses `logging`'s classes, which are made on first use: defining a schedule
# or sensor (every code location with one imports this module) then does not import `logging` (with
# `traceback` and `threading`, ~4 ms). `InstigationLogger` is still importable from here (PEP 562).
_LOGGER_CLASSES: dict[str, type] = {}


def _logger_classes() -> dict[str, type]:
    if _LOGGER_CLASSES:
        return _LOGGER_CLASSES
    import logging

    class _CaptureHandler(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.lines: list[dict[str, Any]] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(
                {"timestamp": record.created, "level": record.levelname, "message": record.getMessage()}
            )

    class InstigationLogger(logging.Logger):
        """`context.log` of a schedule or sensor: a logger that keeps its lines for the tick's record.

        Lines also propagate to the `dagster` logger, so they reach the console like Dagster's.
        """

        def __init__(self, instigator_name: str | None):
            super().__init__(f"dagster.{instigator_name or 'instigator'}", logging.DEBUG)
            self.parent = logging.getLogger("dagster")
            self._capture = _CaptureHandler()
            self.addHandler(self._capture)

        @property
        def captured_lines(self) -> list[dict[str, Any]]:
            return list(self._capture.lines)

        def has_captured_logs(self) -> bool:
            return bool(self._capture.lines)

    for cls in (_CaptureHandler, InstigationLogger):
        cls.__module__ = __name__
        cls.__qualname__ = cls.__name__
    _LOGGER_CLASSES.update(_CaptureHandler=_CaptureHandler, InstigationLogger=InstigationLogger)
    return _LOGGER_CLASSES


def __getattr__(name: str) -> Any:
    if name in ("InstigationLogger", "_CaptureHandler"):
        return _logger_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class InstigatorContext:
    """Base of `ScheduleEvaluationContext` and `SensorEvaluationContext`.

    Resources are built on first access and torn down when the context closes; use the context as a
    context manager (`with build_sensor_context(...) as context:`) when a resource needs teardown.
    """

    _kind = "instigator"
    _builder = "build_sensor_context"

    def __init__(self, *, instance: Any = None, resources: Mapping[str, Any] | None = None, name: str | None = None):
        self._exit_stack = ExitStack()
        self._instance = instance
        self._resource_defs = dict(resources or {})
        self._resources: Any = None
        self._cm_scope_entered = False
        self._instigator_name = name
        self._logger: Any = None  # an InstigationLogger, made on first use of `log`

    def __enter__(self) -> Any:
        self._cm_scope_entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self._exit_stack.close()

    def close(self) -> None:
        """Tear down resources built for this context."""
        self._exit_stack.close()

    @property
    def resource_defs(self) -> dict[str, Any]:
        return dict(self._resource_defs)

    @property
    def instance(self) -> Any:
        """The Orchestra instance this evaluation runs against."""
        if self._instance is None:
            raise DagsterInvariantViolationError(
                "Attempted to initialize dagster instance, but no instance reference was provided."
            )
        return self._instance

    @property
    def resources(self) -> Any:
        """The resources made available to this evaluation, by attribute (`context.resources.db`)."""
        from orchestra._core.resources.initialization import Resources, build_resources

        if self._resources is None:
            if not self._resource_defs:
                self._resources = Resources({})
                return self._resources
            built = self._exit_stack.enter_context(build_resources(self._resource_defs, instance=self._instance))
            if _has_generator_resource(self._resource_defs) and not self._cm_scope_entered:
                self._exit_stack.close()  # Dagster builds, then tears down at once, then raises
                raise DagsterInvariantViolationError(
                    "At least one provided resource is a generator, but attempting to access resources "
                    "outside of context manager scope. You can use the following syntax to open a context "
                    f"manager: `with {self._builder}(...) as context:`"
                )
            self._resources = built
        return self._resources

    @property
    def log(self) -> logging.Logger:
        """A logger whose lines are recorded with the tick."""
        if self._logger is None:
            self._logger = _logger_classes()["InstigationLogger"](self._instigator_name)
        return self._logger

    def has_captured_logs(self) -> bool:
        return self._logger is not None and self._logger.has_captured_logs()

    def captured_log_lines(self) -> list[dict[str, Any]]:
        return self._logger.captured_lines if self._logger is not None else []

    def _check_mergeable(self) -> None:
        if self._resources is not None:
            raise DagsterInvariantViolationError("Cannot merge resources in context that has been initialized.")


def _has_generator_resource(resources: Mapping[str, Any]) -> bool:
    """True when a resource function yields (so its teardown needs the context used as a `with` block)."""
    from orchestra._core.resources.initialization import coerce_to_resource_definitions

    for definition in coerce_to_resource_definitions(resources).values():
        if type(definition).__name__.startswith("ConfigurableResourceFactory"):
            continue  # pydantic resources tear down through their own hook, with or without `with`
        if inspect.isgeneratorfunction(getattr(definition, "resource_fn", None)):
            return True
    return False


# --- direct invocation ------------------------------------------------------------------------------


def resource_arg_names(fn: Callable[..., Any]) -> list[str]:
    """Parameters of `fn` annotated as resources (each name is its resource key)."""
    from orchestra._core.resources.initialization import resource_params

    return resource_params(fn)


def _positional_params(fn: Callable[..., Any]) -> list[str]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in params if p.kind in kinds]


def context_param_name(fn: Callable[..., Any]) -> str | None:
    """The parameter that receives the context: the first one that is not a resource."""
    resources = set(resource_arg_names(fn))
    return next((name for name in _positional_params(fn) if name not in resources), None)


def _is_resource_value(value: Any) -> bool:
    from orchestra._core.resources.definition import ResourceDefinition, TreatAsResourceParam

    return isinstance(value, ResourceDefinition | TreatAsResourceParam)


def context_from_invocation(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    context_type: type | tuple[type, ...],
    build_default: Callable[[], Any],
    kind: str,
) -> Any:
    """The context for `definition(...)` called directly, with keyword resources merged in.

    `kind` is "Schedule" or "Sensor", as Dagster's messages word it.
    """
    name = context_param_name(fn)
    resource_names = set(resource_arg_names(fn))
    non_resource_kwargs = set(kwargs) - resource_names
    if len(args) + len(non_resource_kwargs) > 1:
        raise DagsterInvalidInvocationError(
            f"{kind} invocation received multiple non-resource arguments. Only a first positional context "
            "parameter should be provided when invoking."
        )
    if any(_is_resource_value(arg) for arg in args):
        raise DagsterInvalidInvocationError(
            f"If directly invoking a {kind.lower()}, you may not provide resources as positional arguments, "
            "only as keyword arguments."
        )
    context = None
    if args:
        context = args[0]
    elif kwargs:
        if name and name not in kwargs:
            raise DagsterInvalidInvocationError(f"{kind} invocation expected argument '{name}'.")
        context = kwargs.get(name or "context")
    elif name:
        raise DagsterInvalidInvocationError(
            f"{kind} evaluation function expected context argument, but no context argument was provided "
            "when invoking."
        )
    if context is not None and not isinstance(context, context_type):
        expected = context_type.__name__ if isinstance(context_type, type) else context_type[0].__name__
        raise DagsterInvalidInvocationError(f"Expected a {expected} as the context argument, got {context!r}.")
    if context is None:
        context = build_default()
    given = {key: kwargs[key] for key in resource_names if key in kwargs}
    return context.merge_resources(given) if given else context


def resource_values(resources: Any, keys: set[str] | list[str], *, kind: str, definition_name: str) -> dict[str, Any]:
    """The resource objects for `keys`, or DagsterInvalidDefinitionError naming the first missing one."""
    for key in keys:
        if not hasattr(resources, key):
            raise DagsterInvalidDefinitionError(
                f"Resource with key '{key}' required by {kind} '{definition_name}' was not provided."
            )
    available = resources.original_resource_dict
    return {key: available.get(key) for key in keys}


def call_with_context(fn: Callable[..., Any], context: Any, resources: Mapping[str, Any]) -> Any:
    """Call a user function with the context under its own parameter name (if it takes one)."""
    name = context_param_name(fn)
    return fn(**({name: context} if name else {}), **resources)
