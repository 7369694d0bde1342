"""`ConfigurableResource` and friends: resources declared as pydantic models on top of `Config`.

With `pythonic_fields`, the only modules of `orchestra._core.resources` that import pydantic. A
resource instance becomes a `ResourceDefinition` whose config schema is the class's fields, with
the instance's values as the section's default (run config given for it replaces them, as in
Dagster). At initialisation the instance is
rebuilt from the processed config (env vars resolved), its nested resources are filled in, and its
`yield_for_execution` (by default `setup_for_execution` ... `teardown_after_execution`) brackets
the run.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar, get_args

from orchestra._config import Field, Permissive, Shape
from orchestra._config.pythonic import Config, config_value_to_dict, infer_schema_from_config_class
from orchestra._core.resources.context import InitResourceContext
from orchestra._core.resources.definition import ResourceDefinition, TreatAsResourceParam
from orchestra._core.resources.initialization import _start_resource, coerce_to_resource_definition
from orchestra._core.resources.pythonic_fields import ResourceDependency as ResourceDependency  # re-export
from orchestra._core.resources.pythonic_fields import ResourceFieldMarker, ResourceMeta
from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
)

TResValue = TypeVar("TResValue")


def _allows_none(info: Any) -> bool:
    for marker in getattr(info, "metadata", ()):
        if isinstance(marker, ResourceFieldMarker):
            return type(None) in get_args(marker.original)
    return True


def _is_fully_configured(value: Any) -> bool:
    return not isinstance(value, PartialResource)


class ConfigurableResourceFactory(Config, TreatAsResourceParam, Generic[TResValue], metaclass=ResourceMeta):
    """A resource declared as a `Config` class whose `create_resource` builds the object ops see.

    Use it when that object is not the config class itself (a third-party client, say).

    Example:
        ```python
        class DatabaseResource(ConfigurableResourceFactory[Database]):
            connection_uri: str

            def create_resource(self, context) -> Database:
                return Database(self.connection_uri)
        ```
    """

    # --- pydantic plumbing ---------------------------------------------------------------------------

    @classmethod
    def _is_resource_field(cls, name: str, info: Any) -> bool:
        return any(isinstance(m, ResourceFieldMarker) for m in getattr(info, "metadata", ()))

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Resource attributes bypass pydantic validation (see ResourceMeta), so a required one that
        # was left out would silently be None; Dagster rejects it when the resource is built.
        missing = [
            name
            for name, info in type(self).model_fields.items()
            if type(self)._is_resource_field(name, info)
            and info.is_required()
            and self.__dict__.get(name) is None
            and not _allows_none(info)
        ]
        if missing:
            from pydantic_core import ValidationError

            raise ValidationError.from_exception_data(
                type(self).__name__, [{"type": "missing", "loc": (name,), "input": data} for name in missing]
            )

    @classmethod
    def _resource_field_names(cls) -> list[str]:
        return [name for name, info in cls.model_fields.items() if cls._is_resource_field(name, info)]

    def __setattr__(self, name: str, value: Any) -> None:
        if name.endswith("__internal__") or name.startswith("_"):
            try:
                super().__setattr__(name, value)
            except DagsterInvalidInvocationError:
                object.__setattr__(self, name, value)
            return
        if name in type(self).model_fields:
            raise DagsterInvalidInvocationError(
                f"'{type(self).__name__}' is a Pythonic resource and does not support item assignment, as it "
                "inherits from 'pydantic.BaseModel' with frozen=True. If trying to maintain state on this "
                "resource, consider building a separate, stateful client class, and provide a method on the "
                "resource to construct and return the stateful client."
            )
        super().__setattr__(name, value)

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    # --- values --------------------------------------------------------------------------------------

    def _field_values(self) -> dict[str, Any]:
        """Values given to this instance (config fields and nested resources), by config key."""
        fields = type(self).model_fields
        values: dict[str, Any] = {}
        for key, info in fields.items():
            if key in self.__pydantic_fields_set__:
                values[info.alias or key] = self.__dict__.get(key)
        return values

    def _config_values(self) -> dict[str, Any]:
        """This instance's config fields in run-config form (EnvVar -> `{"env": NAME}`)."""
        fields = type(self).model_fields
        resource_fields = set(type(self)._resource_field_names())
        output = {}
        for key, info in fields.items():
            if key in resource_fields or key not in self.__pydantic_fields_set__:
                continue
            value = self.__dict__.get(key)
            if value is None:
                continue
            output[info.alias or key] = config_value_to_dict(info, value)
        return output

    @property
    def nested_resources(self) -> dict[str, Any]:
        """Attributes holding other resources, by attribute name."""
        return {
            name: self.__dict__[name]
            for name in type(self)._resource_field_names()
            if self.__dict__.get(name) is not None
        }

    def _with_values(self, values: Mapping[str, Any]) -> Any:
        return type(self)(**{**self._field_values(), **values})

    # --- definition ------------------------------------------------------------------------------------

    @classmethod
    def _schema_with_defaults(cls, defaults: Mapping[str, Any], *, per_field: bool) -> Any:
        """The class's config schema with `defaults`.

        A configured instance uses its values as the default of the whole section, so run config
        for it replaces them (fields left out take the class defaults), as in Dagster. A partial
        (`configure_at_launch(**values)`) uses its values as per-field defaults.
        """
        base = infer_schema_from_config_class(cls, fields_to_omit=set(cls._resource_field_names()))
        config_type = base.config_type
        if not per_field:
            return Field(config_type, default_value=dict(defaults), is_required=False, description=base.description)
        fields = dict(config_type.fields)
        for name, value in defaults.items():
            if name not in fields:
                continue
            field = fields[name]
            fields[name] = Field(
                field.config_type,
                default_value=value,
                is_required=False,
                description=field.description,
                is_secret=field.is_secret,
            )
        shape_cls = Permissive if isinstance(config_type, Permissive) else Shape
        return Field(shape_cls(fields), description=base.description)

    def get_resource_definition(self) -> ConfigurableResourceFactoryResourceDefinition:
        """The `ResourceDefinition` this instance stands for (built once, then reused)."""
        cached = self.__dict__.get("_definition__internal__")
        if cached is None:
            cached = _definition_class_for(type(self))(
                type(self),
                resource_fn=self._initialize_and_run_cm,
                config_schema=type(self)._schema_with_defaults(self._config_values(), per_field=False),
                description=_class_description(type(self)),
                nested_resources=self.nested_resources,
            )
            object.__setattr__(self, "_definition__internal__", cached)
        return cached

    @classmethod
    def configure_at_launch(cls, **kwargs: Any) -> PartialResource:
        """A resource whose config (beyond `kwargs`) is given in run config at launch.

        Example:
            ```python
            defs = dg.Definitions(assets=[a], resources={"db": Database.configure_at_launch()})
            # run config: {"resources": {"db": {"config": {"url": "..."}}}}
            ```
        """
        return PartialResource(cls, data=kwargs)

    # --- lifecycle -------------------------------------------------------------------------------------

    def create_resource(self, context: InitResourceContext) -> TResValue:
        """Return the object ops and assets receive."""
        raise NotImplementedError(f"{type(self).__name__} must implement create_resource")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Override to prepare the resource before a run uses it."""

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Override to clean up after the run; runs even if the run failed (not if setup failed)."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[TResValue]:
        """Override to wrap the resource's use in a run; by default calls `setup_for_execution`
        before and `teardown_after_execution` after."""
        self.setup_for_execution(context)
        try:
            yield self.create_resource(context)
        finally:
            self.teardown_after_execution(context)

    def get_resource_context(self) -> InitResourceContext:
        """The context this (runtime copy of the) resource was initialised with."""
        context = self.__dict__.get("_context__internal__")
        if context is None:
            raise DagsterInvariantViolationError("Attempted to get context before resource was initialized.")
        return context

    def with_replaced_resource_context(self, resource_context: InitResourceContext) -> Any:
        copy = self._with_values({})
        object.__setattr__(copy, "_context__internal__", resource_context)
        return copy

    def with_resource_context(self, resource_context: InitResourceContext) -> Any:
        return self.with_replaced_resource_context(resource_context)

    @contextlib.contextmanager
    def _resolved_nested(self, context: InitResourceContext) -> Iterator[dict[str, Any]]:
        """Nested resources' runtime values: partials come from their top-level key, the rest are
        built here (and torn down when the outer resource is)."""
        with contextlib.ExitStack() as stack:
            values: dict[str, Any] = {}
            for attr, nested in self.nested_resources.items():
                if isinstance(nested, PartialResource):
                    key = _key_of_partial(attr, nested, context.all_resource_defs)
                    values[attr] = getattr(context.resources, key)
                    continue
                nested_def = coerce_to_resource_definition(nested)
                nested_context = InitResourceContext(
                    resource_config=nested_def.process_config(None),
                    resources=context.resources,
                    resource_def=nested_def,
                    all_resource_defs=context.all_resource_defs,
                    instance=context.instance,
                    dagster_run=context.run,
                    log_manager=context.log,
                    run_id=context.run_id,
                )
                value, teardown = _start_resource(attr, nested_def, nested_context)
                if teardown is not None:
                    stack.callback(teardown)
                values[attr] = value
            yield values

    @contextlib.contextmanager
    def _initialize_and_run_cm(self, context: InitResourceContext) -> Iterator[Any]:
        with self._resolved_nested(context) as nested:
            updated = self._with_values({**(context.resource_config or {}), **nested})
            object.__setattr__(updated, "_context__internal__", context)
            with updated.yield_for_execution(context) as value:
                yield value

    @classmethod
    def _has_custom_lifecycle(cls) -> bool:
        base = ConfigurableResourceFactory
        return (
            cls.yield_for_execution is not base.yield_for_execution
            or cls.teardown_after_execution is not base.teardown_after_execution
            or bool(cls._resource_field_names())
        )

    @classmethod
    def from_resource_context(cls, context: InitResourceContext, nested_resources: Mapping[str, Any] | None = None) -> Any:
        """Build the resource from a function resource's context (for resources without teardown).

        Example:
            ```python
            @dg.resource(config_schema=MyResource.to_config_schema())
            def my_resource(context):
                return MyResource.from_resource_context(context)
            ```
        """
        if cls._has_custom_lifecycle():
            raise DagsterInvariantViolationError(
                "Use from_resource_context_cm for resources which have custom teardown behavior, e.g. "
                "overriding yield_for_execution or teardown_after_execution"
            )
        instance = cls(**{**(context.resource_config or {}), **(nested_resources or {})})
        object.__setattr__(instance, "_context__internal__", context)
        instance.setup_for_execution(context)
        return instance.create_resource(context)

    @classmethod
    @contextlib.contextmanager
    def from_resource_context_cm(
        cls, context: InitResourceContext, nested_resources: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Like `from_resource_context`, as a context manager that runs the resource's teardown."""
        instance = cls(**{**(context.resource_config or {}), **(nested_resources or {})})
        with instance._initialize_and_run_cm(context) as value:
            yield value

    def process_config_and_initialize(self) -> Any:
        """Resolve this instance's config (env vars, defaults) and return its initialised value."""
        from orchestra._core.resources.context import build_init_resource_context

        resource_def = self.get_resource_definition()
        config = resource_def.process_config(None)
        instance = self._with_values(config or {})
        context = build_init_resource_context(config=config)
        object.__setattr__(instance, "_context__internal__", context)
        instance.setup_for_execution(context)
        return instance.create_resource(context)

    @contextlib.contextmanager
    def process_config_and_initialize_cm(self) -> Iterator[Any]:
        from orchestra._core.resources.context import build_init_resource_context

        config = self.get_resource_definition().process_config(None)
        with build_init_resource_context(config=config) as context:
            with self._initialize_and_run_cm(context) as value:
                yield value


def _class_description(cls: type) -> str | None:
    doc = cls.__doc__
    if not doc:
        return None
    for base in (ConfigurableResourceFactory, ConfigurableResource, Config):
        if doc == base.__doc__:
            return None
    return doc


class ConfigurableResource(ConfigurableResourceFactory[TResValue]):
    """A resource declared as a `Config` class; ops and assets receive the (configured) instance.

    Attributes are its config; an attribute typed as another resource class makes it depend on
    that resource. Annotate an op or asset parameter with the class to receive the resource of the
    parameter's name. Override `setup_for_execution` / `teardown_after_execution` (or
    `yield_for_execution`) for per-run set-up and teardown.

    Example:
        ```python
        class WriterResource(dg.ConfigurableResource):
            prefix: str

            def output(self, text: str) -> None:
                print(f"{self.prefix}{text}")

        @dg.asset
        def greeting(writer: WriterResource):
            writer.output("hello")

        defs = dg.Definitions(assets=[greeting], resources={"writer": WriterResource(prefix="> ")})
        ```
    """

    def create_resource(self, context: InitResourceContext) -> Any:
        return self


class ConfigurableResourceFactoryResourceDefinition(ResourceDefinition):
    """The definition behind a configurable resource (or partial); knows its nested resources."""

    def __init__(
        self,
        configurable_resource_cls: type,
        resource_fn: Callable[..., Any],
        config_schema: Any,
        description: str | None,
        nested_resources: Mapping[str, Any],
        is_io_manager: bool = False,
    ):
        super().__init__(resource_fn=resource_fn, config_schema=config_schema, description=description)
        self.configurable_resource_cls = configurable_resource_cls
        self.nested_resources = dict(nested_resources)
        self._dagster_maintained = bool(configurable_resource_cls._is_dagster_maintained())

    @property
    def nested_partial_resources(self) -> dict[str, Any]:
        return {k: v for k, v in self.nested_resources.items() if not _is_fully_configured(v)}

    def get_required_resource_keys(self, resource_defs: Any = None) -> set[str]:
        keys = set(self.required_resource_keys)
        if resource_defs is None:
            return keys
        for attr, nested in self.nested_resources.items():
            if isinstance(nested, PartialResource):
                keys.add(_key_of_partial(attr, nested, resource_defs, self.configurable_resource_cls))
            else:
                keys |= coerce_to_resource_definition(nested).get_required_resource_keys(resource_defs)
        return keys


def _key_of_partial(attr: str, partial: PartialResource, resource_defs: Mapping[str, Any], owner: type | None = None) -> str:
    target = partial.get_resource_definition()
    for key, resource_def in resource_defs.items():
        if resource_def is target:
            return key
    owner_name = owner.__name__ if owner is not None else "a resource"
    raise DagsterInvalidDefinitionError(
        f"Failed to resolve resource {partial.resource_cls.__name__}, the value of attribute '{attr}' of "
        f"{owner_name}: any partially configured (configure_at_launch), nested resource must also be "
        "provided as a top level resource."
    )


class PartialResource(TreatAsResourceParam, Generic[TResValue]):
    """A configurable resource whose config is (partly) supplied in run config at launch."""

    def __init__(self, resource_cls: type[ConfigurableResourceFactory], data: dict[str, Any]):
        self.resource_cls = resource_cls
        self.data = dict(data)
        self._definition: ConfigurableResourceFactoryResourceDefinition | None = None

    @property
    def nested_resources(self) -> dict[str, Any]:
        names = set(self.resource_cls._resource_field_names())
        return {k: v for k, v in self.data.items() if k in names}

    def _config_defaults(self) -> dict[str, Any]:
        names = set(self.resource_cls._resource_field_names())
        fields = self.resource_cls.model_fields
        by_alias = {(info.alias or key): info for key, info in fields.items()}
        return {
            k: config_value_to_dict(by_alias.get(k), v) for k, v in self.data.items() if k not in names and v is not None
        }

    def _resource_fn(self, context: InitResourceContext) -> Any:
        instance = self.resource_cls(**{**self.data, **(context.resource_config or {})})
        return instance._initialize_and_run_cm(context)

    def get_resource_definition(self) -> ConfigurableResourceFactoryResourceDefinition:
        if self._definition is None:
            self._definition = _definition_class_for(self.resource_cls)(
                self.resource_cls,
                resource_fn=self._resource_fn,
                config_schema=self.resource_cls._schema_with_defaults(self._config_defaults(), per_field=True),
                description=_class_description(self.resource_cls),
                nested_resources=self.nested_resources,
            )
        return self._definition

    def __repr__(self) -> str:
        return f"PartialResource({self.resource_cls.__name__}, {self.data!r})"


def _definition_class_for(resource_cls: type) -> type[ConfigurableResourceFactoryResourceDefinition]:
    io_module = sys.modules.get("orchestra._core.io_managers.pythonic")
    if io_module is not None and issubclass(resource_cls, io_module.ConfigurableIOManagerFactory):
        return io_module.ConfigurableIOManagerFactoryResourceDefinition
    return ConfigurableResourceFactoryResourceDefinition


# --- hooks used by orchestra._core.resources.initialization ------------------------------------------


def is_pythonic_resource(value: Any) -> bool:
    return isinstance(value, (ConfigurableResourceFactory, PartialResource))
