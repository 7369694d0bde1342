"""`InitResourceContext` (what a resource function receives) and `build_init_resource_context`."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
)

if TYPE_CHECKING:
    from orchestra._core.resources.definition import ResourceDefinition
    from orchestra._core.resources.initialization import Resources


def default_log_manager() -> Any:
    """The log manager used outside a run (tests, `build_resources`): the console log manager of
    the execution core when available, as Dagster's test helpers use, else a plain logger."""
    try:
        from orchestra._core.log import ConsoleWriter, DagsterLogManager
    except ImportError:
        import logging  # here, not at import: loading definitions never needs it

        return logging.getLogger("orchestra")
    return DagsterLogManager("EPHEMERAL", None, None, None, ConsoleWriter())


class InitResourceContext:
    """What a resource function receives when its resource is built.

    Build one for tests with `build_init_resource_context`.

    Example:
        ```python
        @dg.resource(config_schema={"url": str})
        def database(context: dg.InitResourceContext):
            context.log.info("connecting")
            return connect(context.resource_config["url"])
        ```
    """

    def __init__(
        self,
        resource_config: Any,
        resources: Resources | None,
        resource_def: ResourceDefinition | None = None,
        all_resource_defs: Mapping[str, ResourceDefinition] | None = None,
        instance: Any = None,
        dagster_run: Any = None,
        log_manager: Any = None,
        *,
        run_id: str | None = None,
        resource_key: str | None = None,
    ):
        self._resource_config = resource_config
        self._resources = resources
        self._resource_def = resource_def
        self._all_resource_defs = dict(all_resource_defs or {})
        self._instance = instance
        self._dagster_run = dagster_run
        self._log_manager = log_manager if log_manager is not None else default_log_manager()
        self._run_id = run_id
        self._resource_key = resource_key

    @property
    def resource_config(self) -> Any:
        """This resource's config, validated against its schema."""
        return self._resource_config

    @property
    def resource_def(self) -> ResourceDefinition:
        """The definition of the resource being built."""
        if self._resource_def is None:
            raise DagsterInvariantViolationError("This InitResourceContext has no resource definition.")
        return self._resource_def

    @property
    def resources(self) -> Resources:
        """The resources this resource requires (its `required_resource_keys`)."""
        if self._resources is None:
            from orchestra._core.resources.initialization import Resources

            return Resources({})
        return self._resources

    @property
    def instance(self) -> Any:
        """The instance of the current run, if any."""
        return self._instance

    @property
    def run(self) -> Any:
        """The run being executed; `None` outside a run."""
        return self._dagster_run

    @property
    def dagster_run(self) -> Any:
        """The run being executed; `None` outside a run (deprecated alias of `run`)."""
        return self._dagster_run

    @property
    def log(self) -> Any:
        """The run's log manager (`info`, `debug`, `warning`, `error`, ...)."""
        return self._log_manager

    @property
    def log_manager(self) -> Any:
        return self._log_manager

    @property
    def run_id(self) -> str | None:
        """The id of the current run; `None` outside a run."""
        if self._run_id is not None:
            return self._run_id
        return getattr(self._dagster_run, "run_id", None)

    @property
    def resource_key(self) -> str | None:
        """The key the resource is built under, when built for a run or `build_resources`."""
        return self._resource_key

    @property
    def all_resource_defs(self) -> dict[str, ResourceDefinition]:
        return dict(self._all_resource_defs)

    def replace_config(self, config: Any) -> InitResourceContext:
        return InitResourceContext(
            resource_config=config,
            resources=self._resources,
            resource_def=self._resource_def,
            all_resource_defs=self._all_resource_defs,
            instance=self._instance,
            dagster_run=self._dagster_run,
            log_manager=self._log_manager,
            run_id=self._run_id,
            resource_key=self._resource_key,
        )


class UnboundInitResourceContext(InitResourceContext):
    """A context from `build_init_resource_context`: config not yet checked against a definition.

    Its `resources` are built on creation; when any is a generator or context manager, use the
    context in a `with` block so their teardown runs at its end.
    """

    def __init__(self, resource_config: Any, resources: Mapping[str, Any] | None, instance: Any):
        from orchestra._core.resources.initialization import build_resources

        self._raw_resources = dict(resources or {})
        self._resources_cm: contextlib.AbstractContextManager[Any] | None = build_resources(self._raw_resources)
        built = self._resources_cm.__enter__()
        self._contains_teardown = built.contains_teardown
        self._scope_entered = False
        self._closed = False
        super().__init__(resource_config=resource_config, resources=built, instance=instance)

    def __enter__(self) -> UnboundInitResourceContext:
        self._scope_entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self._close(*exc)

    def _close(self, *exc: Any) -> None:
        if not self._closed and self._resources_cm is not None:
            self._closed = True
            self._resources_cm.__exit__(*(exc or (None, None, None)))

    def __del__(self) -> None:
        if getattr(self, "_contains_teardown", False) and not getattr(self, "_scope_entered", True):
            try:
                self._close(None, None, None)
            except Exception:
                pass

    @property
    def resource_def(self) -> ResourceDefinition:
        raise DagsterInvariantViolationError(
            "UnboundInitResourceContext has not been bound to resource definition."
        )

    @property
    def resources(self) -> Resources:
        if self._contains_teardown and not self._scope_entered:
            raise DagsterInvariantViolationError(
                "At least one provided resource is a generator, but attempting to access resources "
                "outside of context manager scope. You can use the following syntax to open a context "
                "manager: `with build_init_resource_context(...) as context:`"
            )
        return super().resources

    @property
    def run_id(self) -> str | None:
        return None

    def replace_config(self, config: Any) -> UnboundInitResourceContext:
        return UnboundInitResourceContext(config, self._raw_resources, self._instance)


def build_init_resource_context(
    config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    instance: Any = None,
) -> UnboundInitResourceContext:
    """Build the context to call a resource function directly, e.g. in a unit test.

    Args:
        config: The resource config (validated when the resource is invoked).
        resources: Resources the resource requires: values, definitions or configurable resources.
        instance: The instance to expose as `context.instance`; defaults to an ephemeral one.

    Example:
        ```python
        context = dg.build_init_resource_context(config={"url": "sqlite://"})
        conn = database(context)
        ```
    """
    if config is not None and not isinstance(config, Mapping):
        raise DagsterInvalidInvocationError(f"config must be a dict, got {config!r}")
    if instance is None:
        from orchestra._core.resources.initialization import ephemeral_instance

        instance = ephemeral_instance()
    return UnboundInitResourceContext(resource_config=dict(config or {}), resources=resources, instance=instance)


def invoke_resource_directly(resource_def: ResourceDefinition, context: Any) -> Any:
    """Run a resource function outside a run, as `resource_def(context)` does.

    Config is validated and `configured` mappings applied; a generator resource comes back as a
    context manager whose exit runs its teardown.
    """
    from orchestra._core.resources.definition import resource_init_call

    if context is not None and not isinstance(context, InitResourceContext):
        raise DagsterInvalidInvocationError(
            f"Expected an InitResourceContext (see build_init_resource_context), got {context!r}"
        )
    required = resource_def.required_resource_keys
    if required:
        if context is None:
            raise DagsterInvalidInvocationError(
                "Resource has required resources, but no context was provided. Use the "
                "`build_init_resource_context` function to construct a context with the required resources."
            )
        available = set(context.resources.original_resource_dict)
        missing = sorted(required - available)
        if missing:
            raise DagsterInvalidDefinitionError(
                f"resource with key '{missing[0]}' required was not provided. Please provide a "
                f"ResourceDefinition to key '{missing[0]}', or change the required key to one of the "
                f"following keys which points to an ResourceDefinition: {sorted(available)}"
            )
    raw_config = context.resource_config if context is not None else None
    config = resource_def.process_config(raw_config if raw_config else None)
    bound = InitResourceContext(
        resource_config=config,
        resources=context.resources if context is not None else None,
        resource_def=resource_def,
        instance=context.instance if context is not None else None,
        log_manager=context.log if context is not None else None,
    )
    value = resource_init_call(resource_def, bound)
    if inspect.isgenerator(value):
        return _generator_as_context_manager(value)
    return value


@contextlib.contextmanager
def _generator_as_context_manager(gen: Any) -> Any:
    # Like Dagster, only the set-up half runs: the generator is not resumed after the block.
    try:
        value = next(gen)
    except StopIteration:
        raise DagsterInvariantViolationError("Resource generator must yield one item.") from None
    yield value
