"""`IOManager` / `InputManager` base classes, their definitions, and the `@io_manager` /
`@input_manager` decorators."""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from orchestra._core.resources.definition import (
    ResourceDefinition,
    _build_resource_def,
    is_bare_decorator_target,
    takes_context,
)
from orchestra._errors import DagsterInvalidDefinitionError

if TYPE_CHECKING:
    from orchestra._core.io_managers.contexts import InputContext, OutputContext


class InputManager(abc.ABC):
    """Loads an op or asset input; implement `load_input`."""

    @abc.abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Return the value for the input described by `context`."""


class OutputManager(abc.ABC):
    @abc.abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store `obj`, the output described by `context`."""


class IOManager(InputManager, OutputManager):
    """Stores op and asset outputs and loads them as inputs downstream.

    Subclass and implement `handle_output` and `load_input`.

    Example:
        ```python
        class JsonIOManager(dg.IOManager):
            def handle_output(self, context, obj):
                Path(*context.get_asset_identifier()).with_suffix(".json").write_text(json.dumps(obj))

            def load_input(self, context):
                return json.loads(Path(*context.get_asset_identifier()).with_suffix(".json").read_text())
        ```
    """

    @abc.abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Return the value for the input described by `context`."""

    @abc.abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store `obj`, the output described by `context`."""


class InputManagerDefinition(ResourceDefinition):
    """A resource definition whose value is an `InputManager`; `input_config_schema` types the
    per-input config (`ops.<op>.inputs.<input>`)."""

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        input_config_schema: Any = None,
        required_resource_keys: Iterable[str] | None = None,
        version: str | None = None,
    ):
        super().__init__(
            resource_fn=resource_fn,
            config_schema=config_schema,
            description=description,
            required_resource_keys=required_resource_keys,
            version=version,
        )
        self._input_config_schema = input_config_schema

    @property
    def input_config_schema(self) -> Any:
        return self._input_config_schema

    @property
    def input_config_field(self) -> Any:
        """Config `Field` for per-input config; `None` means any config is accepted."""
        if self._input_config_schema is None:
            return None
        from orchestra._core.resources.config_bridge import config_field_for

        return config_field_for(self._input_config_schema)

    def _copy_for_configured(self, description: str | None, config_schema: Any) -> InputManagerDefinition:
        new_def = InputManagerDefinition(
            resource_fn=self.resource_fn,
            config_schema=config_schema,
            description=description,
            input_config_schema=self._input_config_schema,
            required_resource_keys=self.required_resource_keys,
            version=self.version,
        )
        new_def._dagster_maintained = self._dagster_maintained
        return new_def


class IOManagerDefinition(InputManagerDefinition):
    """A resource definition whose value is an `IOManager`.

    Args:
        resource_fn: Builds the IO manager from an `InitResourceContext`.
        config_schema: Schema of the IO manager's resource config.
        description: Human-readable description.
        required_resource_keys: Other resources the IO manager needs.
        version: Code version.
        input_config_schema: Schema of per-input config.
        output_config_schema: Schema of per-output config (`ops.<op>.outputs`).

    Example:
        ```python
        store = dg.IOManagerDefinition(lambda _: JsonIOManager())
        ```
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
        version: str | None = None,
        input_config_schema: Any = None,
        output_config_schema: Any = None,
    ):
        super().__init__(
            resource_fn=resource_fn,
            config_schema=config_schema,
            description=description,
            input_config_schema=input_config_schema,
            required_resource_keys=required_resource_keys,
            version=version,
        )
        self._output_config_schema = output_config_schema

    @property
    def output_config_schema(self) -> Any:
        return self._output_config_schema

    @property
    def output_config_field(self) -> Any:
        """Config `Field` for per-output config; `None` means no per-output config is allowed."""
        if self._output_config_schema is None:
            return None
        from orchestra._core.resources.config_bridge import config_field_for

        return config_field_for(self._output_config_schema)

    def _copy_for_configured(self, description: str | None, config_schema: Any) -> IOManagerDefinition:
        new_def = IOManagerDefinition(
            resource_fn=self.resource_fn,
            config_schema=config_schema,
            description=description,
            required_resource_keys=self.required_resource_keys,
            version=self.version,
            input_config_schema=self._input_config_schema,
            output_config_schema=self._output_config_schema,
        )
        new_def._dagster_maintained = self._dagster_maintained
        return new_def

    @staticmethod
    def hardcoded_io_manager(value: IOManager, description: str | None = None) -> IOManagerDefinition:
        """An IO manager definition that is always `value`.

        Example:
            ```python
            dg.materialize([a], resources={"io_manager": dg.IOManagerDefinition.hardcoded_io_manager(JsonIOManager())})
            ```
        """
        if not isinstance(value, IOManager):
            raise DagsterInvalidDefinitionError(f"Expected an IOManager instance, got {value!r}")
        io_def = IOManagerDefinition(lambda _context: value, description=description)
        io_def._hardcoded_value = value  # type: ignore[attr-defined]
        return io_def


def io_manager(
    config_schema: Any = None,
    description: str | None = None,
    output_config_schema: Any = None,
    input_config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Any:
    """Define an IO manager from a function that returns an `IOManager`.

    Example:
        ```python
        @dg.io_manager(config_schema={"root": str})
        def json_io_manager(context):
            return JsonIOManager(context.resource_config["root"])
        ```
    """
    if callable(config_schema) and is_bare_decorator_target(config_schema):
        return _build_io_manager_def(config_schema, None, None, None, None, None, None)

    def _wrap(fn: Callable[..., Any]) -> IOManagerDefinition:
        return _build_io_manager_def(
            fn, config_schema, description, output_config_schema, input_config_schema, required_resource_keys, version
        )

    return _wrap


def _build_io_manager_def(
    fn: Callable[..., Any],
    config_schema: Any,
    description: str | None,
    output_config_schema: Any,
    input_config_schema: Any,
    required_resource_keys: Iterable[str] | None,
    version: str | None,
) -> IOManagerDefinition:
    plain = _build_resource_def(fn, config_schema, description, required_resource_keys, version)
    io_def = IOManagerDefinition(
        resource_fn=fn,
        config_schema=config_schema,
        description=plain.description,
        required_resource_keys=required_resource_keys,
        version=version,
        input_config_schema=input_config_schema,
        output_config_schema=output_config_schema,
    )
    functools.update_wrapper(io_def, fn)  # type: ignore[arg-type]
    return io_def


class _FunctionInputManager(InputManager):
    """Wraps an `@input_manager` load function; a returned `InputManager` is asked in turn."""

    def __init__(self, load_fn: Callable[..., Any]):
        self._load_fn = load_fn

    def load_input(self, context: InputContext) -> Any:
        result = self._load_fn(context) if takes_context(self._load_fn) else self._load_fn()
        if isinstance(result, InputManager):
            return result.load_input(context)
        return result


def input_manager(
    config_schema: Any = None,
    description: str | None = None,
    input_config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Any:
    """Define an input manager from a function that loads an input from its `InputContext`.

    Example:
        ```python
        @dg.input_manager
        def constant_loader(context):
            return 5

        @dg.op(ins={"x": dg.In(input_manager_key="loader")})
        def double(x):
            return 2 * x
        ```
    """
    if callable(config_schema) and is_bare_decorator_target(config_schema):
        return _build_input_manager_def(config_schema, None, None, None, None, None)

    def _wrap(fn: Callable[..., Any]) -> InputManagerDefinition:
        return _build_input_manager_def(fn, config_schema, description, input_config_schema, required_resource_keys, version)

    return _wrap


def _build_input_manager_def(
    fn: Callable[..., Any],
    config_schema: Any,
    description: str | None,
    input_config_schema: Any,
    required_resource_keys: Iterable[str] | None,
    version: str | None,
) -> InputManagerDefinition:
    manager = _FunctionInputManager(fn)
    im_def = InputManagerDefinition(
        resource_fn=lambda _context: manager,
        config_schema=config_schema,
        description=description,
        input_config_schema=input_config_schema,
        required_resource_keys=required_resource_keys,
        version=version,
    )
    functools.update_wrapper(im_def, fn)  # type: ignore[arg-type]
    return im_def
