"""Turning user-supplied resources into definitions, ordering them, and building/tearing them down."""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from orchestra._core.resources.context import InitResourceContext
from orchestra._core.resources.definition import (
    RESOURCE_PARAM_METADATA,
    ResourceDefinition,
    TreatAsResourceParam,
    resource_init_call,
)
from orchestra._core.signatures import signature_of, type_hints_of
from orchestra._errors import (
    DagsterError,
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    DagsterInvariantViolationError,
    DagsterResourceFunctionError,
    DagsterUnknownResourceError,
)

_PYTHONIC_MODULE = "orchestra._core.resources.pythonic"


class ResourceDependencyError(DagsterInvalidDefinitionError, DagsterInvariantViolationError):
    """Resources depend on each other in a cycle, or on a key that was not provided.

    Dagster raises `DagsterInvariantViolationError` here; being both lets code catch either.
    """


class Resources:
    """The initialised resources of a run, read by attribute: `context.resources.db`.

    Reading a key that is not available raises `DagsterUnknownResourceError`.
    """

    def __init__(
        self,
        values: Mapping[str, Any],
        *,
        contains_teardown: bool = False,
        configs: Mapping[str, Any] | None = None,
        requirements: Mapping[str, Iterable[str]] | None = None,
    ):
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_contains_teardown", contains_teardown)
        object.__setattr__(self, "_configs", dict(configs or {}))
        object.__setattr__(self, "_requirements", {k: frozenset(v) for k, v in (requirements or {}).items()})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise DagsterUnknownResourceError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise DagsterInvariantViolationError("Resources are read-only.")

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[Any]:
        # Dagster's resources object is a namedtuple, which iterates over values.
        return iter(self._values.values())

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Resources) and other._values == self._values

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Resources({inner})"

    def _asdict(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def _fields(self) -> tuple[str, ...]:
        return tuple(self._values)

    @property
    def original_resource_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def contains_teardown(self) -> bool:
        """True when some resource was a generator or context manager (so teardown is pending)."""
        return self._contains_teardown

    def scoped(self, keys: Iterable[str]) -> Resources:
        """A view holding only `keys` (those present); reading others raises DagsterUnknownResourceError."""
        wanted = set(keys)
        return Resources(
            {k: v for k, v in self._values.items() if k in wanted},
            contains_teardown=self._contains_teardown,
            configs=self._configs,
            requirements=self._requirements,
        )

    def resource_config_for(self, key: str) -> Any:
        """The processed config `key` was built with (what its `context.resource_config` held)."""
        return self._configs.get(key)

    def required_by(self, key: str) -> Resources:
        """The resources `key` itself requires, as its init context saw them (for IO contexts)."""
        return self.scoped(self._requirements.get(key, ()))


# --- coercion -----------------------------------------------------------------------------------


def _is_pythonic_resource(value: Any) -> bool:
    # Instances of the pydantic-based classes can only exist once their module is loaded, so this
    # check never imports pydantic.
    module = sys.modules.get(_PYTHONIC_MODULE)
    return module is not None and module.is_pythonic_resource(value)


def coerce_to_resource_definition(value: Any) -> ResourceDefinition:
    """The `ResourceDefinition` for one user-supplied resource value."""
    if isinstance(value, ResourceDefinition):
        return value
    if _is_pythonic_resource(value):
        return value.get_resource_definition()
    from orchestra._core.io_managers.base import IOManager, IOManagerDefinition

    if isinstance(value, IOManager):
        return IOManagerDefinition.hardcoded_io_manager(value)
    return ResourceDefinition.hardcoded_resource(value)


def coerce_to_resource_definitions(resources: Mapping[str, Any] | None) -> dict[str, ResourceDefinition]:
    """Normalise a `{key: resource}` mapping as given to `Definitions`, `@job` or `materialize`.

    Accepts resource and IO manager definitions, `ConfigurableResource` instances (fully
    configured or `configure_at_launch()`), `IOManager` instances and plain values. As in Dagster,
    an attribute holding a `configure_at_launch()` resource makes its owner depend on the key that
    partial is passed under; a fully configured nested resource is built inside its owner.
    """
    resources = dict(resources or {})
    for key in resources:
        if not isinstance(key, str):
            raise DagsterInvalidDefinitionError(f"Resource keys must be strings, got {key!r}")
    return {key: coerce_to_resource_definition(value) for key, value in resources.items()}


# --- dependency order -----------------------------------------------------------------------------


def resource_init_order(
    resource_defs: Mapping[str, ResourceDefinition], keys: Iterable[str] | None = None
) -> list[str]:
    """The keys to build (`keys` plus everything they need), dependencies first.

    Raises `ResourceDependencyError` (a `DagsterInvalidDefinitionError`) on a cycle or a
    required key that is not in `resource_defs`.
    """
    wanted = sorted(resource_defs) if keys is None else sorted(set(keys))
    for key in wanted:
        if key not in resource_defs:
            raise ResourceDependencyError(f"Resource with key '{key}' is required, but not provided.")
    order: list[str] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(key: str) -> None:
        if key in done:
            return
        path.append(key)
        for dep in sorted(resource_defs[key].get_required_resource_keys(resource_defs)):
            if dep in path:
                cycle = " -> ".join(path[path.index(dep) :] + [dep])
                raise ResourceDependencyError(
                    f'Resource key "{dep}" transitively depends on itself ({cycle}).'
                )
            if dep not in resource_defs:
                raise ResourceDependencyError(
                    f"Resource with key '{dep}' required by resource with key '{key}', but not provided."
                )
            visit(dep)
        path.pop()
        done.add(key)
        order.append(key)

    for key in wanted:
        visit(key)
    return order


def resource_config_field(resource_def: ResourceDefinition, is_required: bool | None = None) -> Any:
    """The run-config field for one resource: `{config: <its config field>}`.

    `is_required=False` makes the section optional (for resources a job does not need).
    """
    from orchestra._config import Field, Shape

    return Field(
        Shape({"config": resource_def.config_field}),
        is_required=is_required,
        description=resource_def.description,
    )


# --- initialisation -------------------------------------------------------------------------------


def _error_message(key: str) -> str:
    return f"Error executing resource_fn on ResourceDefinition {key}"


def _start_resource(
    key: str, resource_def: ResourceDefinition, context: InitResourceContext
) -> tuple[Any, Callable[[], None] | None]:
    """Build one resource; returns its value and a teardown callable (or None)."""
    try:
        result = resource_init_call(resource_def, context)
        if inspect.isgenerator(result):
            try:
                value = next(result)
            except StopIteration:
                raise DagsterInvariantViolationError(f"Resource generator {key} must yield one item.") from None

            def finish_generator() -> None:
                try:
                    next(result)
                except StopIteration:
                    return
                raise DagsterInvariantViolationError(f"Resource generator {key} yielded more than one item.")

            return value, finish_generator
        if isinstance(result, contextlib.ContextDecorator) and hasattr(result, "__enter__"):
            value = result.__enter__()
            return value, lambda: result.__exit__(None, None, None)
        return result, None
    except DagsterError:
        raise
    except Exception as exc:
        raise DagsterResourceFunctionError(_error_message(key), user_exception=exc) from exc


@contextlib.contextmanager
def initialize_resources(
    resource_defs: Mapping[str, ResourceDefinition],
    resource_configs: Mapping[str, Any] | None = None,
    *,
    keys: Iterable[str] | None = None,
    run_id: str | None = None,
    dagster_run: Any = None,
    instance: Any = None,
    log: Any = None,
    on_teardown_error: Callable[[str, DagsterResourceFunctionError], None] | None = None,
) -> Iterator[Resources]:
    """Build resources in dependency order, yield them, and tear them down in reverse order.

    Args:
        resource_defs: Definitions by key (see `coerce_to_resource_definitions`).
        resource_configs: Each key's config as found at `resources.<key>.config` in run config.
        keys: Build only these keys and what they depend on; `None` builds all.
        run_id, dagster_run, instance, log: Exposed on each resource's `InitResourceContext`.
        on_teardown_error: Called with the key and wrapped error when a teardown fails; failures
            are logged and never stop the other teardowns.

    Raises:
        DagsterResourceFunctionError: a resource function raised (the original is `user_exception`).
        DagsterInvalidConfigError: a resource's config does not fit its schema.
        DagsterInvalidDefinitionError: a dependency cycle or a missing required key.
    """
    from orchestra._core.resources.context import default_log_manager

    configs = dict(resource_configs or {})
    log_manager = log if log is not None else default_log_manager()
    order = resource_init_order(resource_defs, keys)
    built: dict[str, Any] = {}
    processed_configs: dict[str, Any] = {}
    requirements: dict[str, set[str]] = {}
    teardowns: list[tuple[str, Callable[[], None]]] = []
    try:
        for key in order:
            resource_def = resource_defs[key]
            try:
                config = resource_def.process_config(configs.get(key))
            except DagsterInvalidConfigError as exc:
                raise DagsterInvalidConfigError(
                    f"Error in config for resource {key}", exc.errors, configs.get(key)
                ) from exc
            required = resource_def.get_required_resource_keys(resource_defs)
            processed_configs[key] = config
            requirements[key] = set(required)
            context = InitResourceContext(
                resource_config=config,
                resources=Resources({k: built[k] for k in required}),
                resource_def=resource_def,
                all_resource_defs=resource_defs,
                instance=instance,
                dagster_run=dagster_run,
                log_manager=log_manager,
                run_id=run_id,
                resource_key=key,
            )
            value, teardown = _start_resource(key, resource_def, context)
            built[key] = value
            if teardown is not None:
                teardowns.append((key, teardown))
        yield Resources(
            built, contains_teardown=bool(teardowns), configs=processed_configs, requirements=requirements
        )
    finally:
        for key, teardown in reversed(teardowns):
            try:
                teardown()
            except Exception as exc:
                error = (
                    exc
                    if isinstance(exc, DagsterResourceFunctionError)
                    else DagsterResourceFunctionError(_error_message(key), user_exception=exc)
                )
                _log_teardown_error(log_manager, key, exc)
                if on_teardown_error is not None:
                    on_teardown_error(key, error)


def _log_teardown_error(log_manager: Any, key: str, exc: BaseException) -> None:
    try:
        log_manager.error(f"Teardown of resource {key} failed: {exc!r}")
    except Exception:
        pass


@contextlib.contextmanager
def build_resources(
    resources: Mapping[str, Any],
    instance: Any = None,
    resource_config: Mapping[str, Any] | None = None,
    dagster_run: Any = None,
    log_manager: Any = None,
    event_loop: Any = None,
) -> Iterator[Resources]:
    """Build resources outside a run, tearing them down when the block exits.

    Args:
        resources: Resource values, definitions or configurable resources by key.
        instance: Exposed as `context.instance` to resource functions.
        resource_config: Config by key, shaped as in run config: `{"db": {"config": {...}}}`.
        dagster_run: Exposed as `context.run` to resource functions.
        log_manager: Exposed as `context.log` to resource functions.
        event_loop: Accepted for Dagster compatibility; unused.

    Example:
        ```python
        with dg.build_resources({"db": database}, resource_config={"db": {"config": {"url": "sqlite://"}}}) as r:
            r.db.execute("select 1")
        ```
    """
    if not isinstance(resources, Mapping):
        raise DagsterInvariantViolationError(f"resources must be a dict, got {resources!r}")
    resource_defs = coerce_to_resource_definitions(resources)
    from orchestra._config import Shape, process_config_or_raise

    schema = Shape({key: resource_config_field(rdef) for key, rdef in resource_defs.items()})
    processed = process_config_or_raise(schema, dict(resource_config or {}), "Error in config for resources ")
    configs = {key: (section or {}).get("config") for key, section in (processed or {}).items()}
    with initialize_resources(
        resource_defs,
        configs,
        run_id=getattr(dagster_run, "run_id", None),
        dagster_run=dagster_run,
        instance=instance if instance is not None else ephemeral_instance(),
        log=log_manager,
    ) as built:
        yield built


def ephemeral_instance() -> Any:
    """A throwaway in-memory instance, as Dagster's test helpers use when none is given."""
    try:
        from orchestra._core.instance import DagsterInstance
    except ImportError:  # the instance module is optional for this package
        return None
    return DagsterInstance.ephemeral()


# --- injection by annotation ----------------------------------------------------------------------


def is_resource_annotation(annotation: Any) -> bool:
    """True for `ResourceParam[T]` and for resource classes (`ConfigurableResource` subclasses...)."""
    if isinstance(annotation, type) and issubclass(annotation, TreatAsResourceParam):
        return True
    return getattr(annotation, "__metadata__", None) == (RESOURCE_PARAM_METADATA,)


def _annotation_of(fn: Callable[..., Any], name: str, raw: Any) -> Any:
    """Evaluate a string annotation (from `from __future__ import annotations`) where possible."""
    if not isinstance(raw, str):
        return raw
    scope = dict(getattr(fn, "__globals__", {}))
    closure = getattr(fn, "__closure__", None) or ()
    for var, cell in zip(getattr(fn.__code__, "co_freevars", ()), closure, strict=False):
        try:
            scope[var] = cell.cell_contents
        except ValueError:
            pass
    try:
        return eval(raw, scope)  # noqa: S307 - the function's own annotation
    except Exception:
        return raw


def is_resource_annotation_text(text: str) -> bool:
    # Unresolvable string annotations (e.g. naming a class local to a test): recognise the marker.
    return "ResourceParam[" in text


def resource_params(fn: Callable[..., Any]) -> list[str]:
    """Names of `fn`'s parameters that receive a resource (by annotation), in signature order.

    Each name is also the resource key the parameter receives.
    """
    try:
        params = signature_of(fn).parameters
    except (TypeError, ValueError):
        return []
    if not params:
        return []
    annotations = getattr(fn, "__annotations__", None)
    if type(annotations) is dict and not any(name in annotations for name in params):
        return []  # no parameter is annotated: none can be a resource (and no hints need evaluating)
    try:
        hints = type_hints_of(fn, include_extras=True)
    except Exception:
        raw = dict(getattr(fn, "__annotations__", {}))
        hints = {name: _annotation_of(fn, name, value) for name, value in raw.items()}
    names = []
    for name in params:
        hint = hints.get(name)
        if isinstance(hint, str):
            if is_resource_annotation_text(hint):
                names.append(name)
        elif is_resource_annotation(hint):
            names.append(name)
    return names


def op_context_resources(resources: Resources) -> Resources:
    """The view ops see as `context.resources`: a resource implementing
    `IAttachDifferentObjectToOpContext` is replaced by the object it chooses (parameters annotated
    with its type still receive the resource itself)."""
    from orchestra._core.resources.definition import IAttachDifferentObjectToOpContext

    values = resources.original_resource_dict
    if not any(isinstance(v, IAttachDifferentObjectToOpContext) for v in values.values()):
        return resources
    return Resources(
        {
            k: v.get_object_to_set_on_execution_context() if isinstance(v, IAttachDifferentObjectToOpContext) else v
            for k, v in values.items()
        },
        contains_teardown=resources.contains_teardown,
    )
