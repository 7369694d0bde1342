"""`ResourceDefinition`, the `@resource` decorator and the `ResourceParam` annotation."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from orchestra._errors import (
    DagsterConfigMappingFunctionError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
)

if TYPE_CHECKING:
    from orchestra._core.resources.context import InitResourceContext

T = TypeVar("T")

# Marker carried by `ResourceParam[T]`; Dagster uses the same metadata string, and so matching it
# lets an annotation built by either library be recognised.
RESOURCE_PARAM_METADATA = "resource_param"

ResourceParam = Annotated[T, RESOURCE_PARAM_METADATA]
"""Annotate an op/asset parameter as `ResourceParam[T]` to receive the resource of that name.

Example:
    ```python
    @dg.asset
    def users(client: dg.ResourceParam[requests.Session]):
        return client.get("https://example.com/users").json()
    ```
"""


class TreatAsResourceParam:
    """Base for classes whose instances are resources: a parameter annotated with a subclass is
    injected with the resource of the parameter's name, without `ResourceParam[...]`."""


class IAttachDifferentObjectToOpContext:
    """Mixin for resources that put a different object on `context.resources` than the one
    injected into a parameter annotated with the resource's type.

    Example:
        ```python
        class Client(dg.ConfigurableResource, dg.IAttachDifferentObjectToOpContext):
            url: str

            def get_object_to_set_on_execution_context(self):
                return make_raw_client(self.url)
        ```
    """

    def get_object_to_set_on_execution_context(self) -> Any:
        raise NotImplementedError


_UNSET: Any = object()


def takes_context(fn: Callable[..., Any]) -> bool:
    """True when `fn` declares at least one parameter (the init context)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is not inspect.Parameter.VAR_KEYWORD for p in params)


def is_bare_decorator_target(obj: Any) -> bool:
    """Tell `@resource` from `@resource(config_schema)`: a function is never a config schema."""
    return inspect.isfunction(obj) or inspect.ismethod(obj) or isinstance(obj, functools.partial)


class ResourceDefinition(TreatAsResourceParam):
    """Defines how to build a resource that ops and assets share during a run.

    If `resource_fn` yields once instead of returning, the code after the `yield` runs as teardown
    once the run (or `build_resources` block) ends, even when an op failed. A function returning a
    `contextlib.contextmanager` object is entered at set-up and exited at teardown.

    Args:
        resource_fn: Called with an `InitResourceContext` (or with no argument) to build the value.
        config_schema: Schema of `context.resource_config`; `None` accepts any config.
        description: Human-readable description.
        required_resource_keys: Keys of other resources this one needs at initialisation.
        version: Code version of the resource function.

    Example:
        ```python
        def connect(context):
            return Connection(context.resource_config["url"])

        db = dg.ResourceDefinition(connect, config_schema={"url": str})
        ```
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
        version: str | None = None,
    ):
        if not callable(resource_fn):
            raise DagsterInvalidDefinitionError(f"resource_fn must be callable, got {resource_fn!r}")
        if isinstance(required_resource_keys, str):
            raise DagsterInvalidDefinitionError(
                f"required_resource_keys must be a set of strings, got the string {required_resource_keys!r}"
            )
        self._resource_fn = resource_fn
        self._config_schema = config_schema
        self._config_field = _UNSET
        self._description = description
        self._required_resource_keys = frozenset(required_resource_keys or ())
        self._version = version
        # Set by `configured`: (parent definition, constant config or config function).
        self._configured_from: tuple[ResourceDefinition, Any] | None = None
        self._dagster_maintained = False

    # --- properties ------------------------------------------------------------------------------

    @property
    def resource_fn(self) -> Callable[..., Any]:
        return self._resource_fn

    @property
    def config_schema(self) -> Any:
        """The schema as the user gave it (`None` when any config is accepted)."""
        return self._config_schema

    @property
    def config_field(self) -> Any:
        """The config `Field` for `resources.<key>.config` in a job's run config."""
        if self._config_field is _UNSET:
            from orchestra._core.resources.config_bridge import config_field_for

            self._config_field = config_field_for(self._config_schema)
        return self._config_field

    @property
    def has_config_field(self) -> bool:
        return True

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def required_resource_keys(self) -> set[str]:
        return set(self._required_resource_keys)

    def get_required_resource_keys(self, resource_defs: Any = None) -> set[str]:
        return self.required_resource_keys

    def _is_dagster_maintained(self) -> bool:
        return self._dagster_maintained

    # --- config ------------------------------------------------------------------------------------

    def process_config(self, config_value: Any) -> Any:
        """Validate run config for this resource and apply any `configured` mapping.

        Returns the value the resource function sees as `context.resource_config`.
        Raises `DagsterInvalidConfigError` listing every error.
        """
        from orchestra._core.resources.config_bridge import process_config

        processed = process_config(self.config_field, config_value, what="resource")
        if self._configured_from is None:
            return processed
        parent, config_or_fn = self._configured_from
        if callable(config_or_fn):
            try:
                inner = config_or_fn({} if processed is None else processed)
            except Exception as exc:
                raise DagsterConfigMappingFunctionError(
                    "The config mapping function on a `configured` ResourceDefinition has thrown an "
                    "unexpected error during its execution.",
                    user_exception=exc,
                ) from exc
        else:
            inner = config_or_fn
        return parent.process_config(inner)

    def configured(
        self,
        config_or_config_fn: Any,
        config_schema: Any = None,
        description: str | None = None,
    ) -> ResourceDefinition:
        """A copy whose config is supplied (or computed from new config) here.

        Args:
            config_or_config_fn: Config satisfying this definition's schema, or a function mapping
                config of `config_schema` to such config.
            config_schema: The schema of the new definition's own config (for a function).
            description: Description of the new definition; defaults to this one's.

        Example:
            ```python
            local_db = db.configured({"url": "sqlite://"})
            ```
        """
        new_def = self._copy_for_configured(description or self._description, config_schema)
        new_def._configured_from = (self, config_or_config_fn)
        return new_def

    def _copy_for_configured(self, description: str | None, config_schema: Any) -> ResourceDefinition:
        new_def = ResourceDefinition(
            resource_fn=self._resource_fn,
            config_schema=config_schema,
            description=description,
            required_resource_keys=self._required_resource_keys,
            version=self._version,
        )
        new_def._dagster_maintained = self._dagster_maintained
        return new_def

    # --- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def hardcoded_resource(value: Any, description: str | None = None) -> ResourceDefinition:
        """A resource that is always `value`.

        Example:
            ```python
            defs = dg.Definitions(assets=[a], resources={"api": dg.ResourceDefinition.hardcoded_resource(FakeApi())})
            ```
        """
        resource_def = ResourceDefinition(lambda _context: value, description=description)
        resource_def._hardcoded_value = value  # type: ignore[attr-defined]
        return resource_def

    @staticmethod
    def none_resource(description: str | None = None) -> ResourceDefinition:
        """A resource whose value is `None`."""
        return ResourceDefinition.hardcoded_resource(None, description=description)

    @staticmethod
    def mock_resource(description: str | None = None) -> ResourceDefinition:
        """A resource that builds a fresh `unittest.mock.MagicMock` for each run."""

        def _make_mock(_context: Any) -> Any:
            from unittest import mock

            return mock.MagicMock()

        return ResourceDefinition(_make_mock, description=description)

    @staticmethod
    def string_resource(description: str | None = None) -> ResourceDefinition:
        """A resource configured with a single string, which is its value."""
        return ResourceDefinition(lambda context: context.resource_config, config_schema=str, description=description)

    # --- direct invocation -------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Build the resource outside a run, e.g. `my_resource(build_init_resource_context(...))`."""
        from orchestra._core.resources.context import invoke_resource_directly

        if takes_context(self._resource_fn):
            if len(args) + len(kwargs) == 0:
                raise DagsterInvalidInvocationError(
                    "Resource initialization function has context argument, but no context was provided "
                    "when invoking."
                )
            if len(args) + len(kwargs) > 1:
                raise DagsterInvalidInvocationError(
                    "Initialization of resource received multiple arguments. Only a first positional "
                    "context parameter should be provided when invoking."
                )
            if args:
                context = args[0]
            else:
                param_name = next(iter(inspect.signature(self._resource_fn).parameters))
                if param_name not in kwargs:
                    raise DagsterInvalidInvocationError(
                        f"Resource initialization expected argument '{param_name}'."
                    )
                context = kwargs[param_name]
            return invoke_resource_directly(self, context)
        if args or kwargs:
            raise DagsterInvalidInvocationError(
                "Attempted to invoke resource with argument, but underlying function has no context "
                "argument. Either specify a context argument on the resource function, or remove the "
                "passed-in argument."
            )
        return invoke_resource_directly(self, None)

    def __repr__(self) -> str:
        name = getattr(self._resource_fn, "__name__", type(self).__name__)
        return f"<{type(self).__name__} {name}>"


def check_resource_fn_signature(fn: Callable[..., Any], decorator: str) -> None:
    """Reject functions that need more than the single (optional) context argument."""
    params = list(inspect.signature(fn).parameters.values())
    name = getattr(fn, "__name__", repr(fn))
    if params and params[0].kind is inspect.Parameter.KEYWORD_ONLY:
        raise DagsterInvalidDefinitionError(
            f"{decorator} decorated function '{name}' expects a single positional argument."
        )
    required_extras = [
        p.name
        for p in params[1:]
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if required_extras:
        raise DagsterInvalidDefinitionError(
            f"{decorator} decorated function '{name}' expects only a single positional required "
            f"argument. Got required extra params {', '.join(required_extras)}"
        )


def description_from_docstring(fn: Callable[..., Any]) -> str | None:
    doc = inspect.getdoc(fn)
    return doc if doc else None


def resource(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Any:
    """Define a resource from a function taking an `InitResourceContext`.

    Usable bare (`@resource`) or with arguments. A generator function's code after its single
    `yield` is the teardown, run once execution ends even if an op failed.

    Args:
        config_schema: Schema of `context.resource_config`; `None` accepts any config.
        description: Human-readable description (defaults to the docstring).
        required_resource_keys: Keys of other resources available as `context.resources`.
        version: Code version of the resource function.

    Example:
        ```python
        @dg.resource(config_schema={"url": str})
        def database(context):
            conn = connect(context.resource_config["url"])
            yield conn
            conn.close()
        ```
    """
    if callable(config_schema) and is_bare_decorator_target(config_schema):
        return _build_resource_def(config_schema, None, None, None, None)

    def _wrap(resource_fn: Callable[..., Any]) -> ResourceDefinition:
        return _build_resource_def(resource_fn, config_schema, description, required_resource_keys, version)

    return _wrap


def _build_resource_def(
    fn: Callable[..., Any],
    config_schema: Any,
    description: str | None,
    required_resource_keys: Iterable[str] | None,
    version: str | None,
) -> ResourceDefinition:
    check_resource_fn_signature(fn, "@resource")
    resource_def = ResourceDefinition(
        resource_fn=fn,
        config_schema=config_schema,
        description=description or description_from_docstring(fn),
        required_resource_keys=required_resource_keys,
        version=version,
    )
    functools.update_wrapper(resource_def, fn)  # type: ignore[arg-type]
    return resource_def


def make_values_resource(**kwargs: Any) -> ResourceDefinition:
    """A resource whose value is its config, with one config field per keyword argument.

    Example:
        ```python
        @dg.op(required_resource_keys={"globals"})
        def greet(context):
            context.log.info(context.resources.globals["name"])

        @dg.job(resource_defs={"globals": dg.make_values_resource(name=str)})
        def greeting():
            greet()
        ```
    """
    return ResourceDefinition(lambda context: context.resource_config, config_schema=kwargs or None)


def resource_init_call(resource_def: ResourceDefinition, context: InitResourceContext) -> Any:
    """Call the resource function with or without its context argument."""
    fn = resource_def.resource_fn
    return fn(context) if takes_context(fn) else fn()
