"""Definition config schemas, `ConfigMapping` / `@config_mapping`, and `configured`.

`DefinitionConfigSchema` is what an op, resource, logger or executor definition holds; the
`Configured...` variant wraps a parent definition's schema for `configured(...)`. A definition
class that supports `configured` implements `configured(config_or_config_fn, [name,] config_schema,
description)` using `ConfiguredDefinitionConfigSchema`, and exposes `config_field` and
`apply_config_mapping(processed_config) -> EvaluateValueResult`.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from orchestra._config.field import Field, convert_potential_field
from orchestra._config.types import ConfigAnyInstance, ConfigType
from orchestra._config.validate import (
    EvaluateValueResult,
    process_config,
    resolve_defaults,
    validate_structure,
)
from orchestra._errors import (
    DagsterConfigMappingFunctionError,
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
)

# What users may pass as `config_schema=`: a Field, a config type, a dict, a list, a python type, a Config class.
ConfigSchema: TypeAlias = Any


class DefinitionConfigSchema:
    """The config schema attached to a definition."""

    def __init__(self, config_field: Field):
        self._field = config_field

    def as_field(self) -> Field:
        return self._field

    @property
    def config_type(self) -> ConfigType | None:
        return self._field.config_type if self._field else None

    @property
    def is_required(self) -> bool:
        return self._field.is_required if self._field else False

    @property
    def default_provided(self) -> bool:
        return self._field.default_provided if self._field else False

    @property
    def default_value(self) -> Any:
        return self._field.default_value if self._field else None

    @property
    def description(self) -> str | None:
        return self._field.description if self._field else None


def convert_user_facing_definition_config_schema(potential_schema: object) -> DefinitionConfigSchema:
    """Normalize a definition's `config_schema=` argument; None means "any config, optional"."""
    if isinstance(potential_schema, DefinitionConfigSchema):
        return potential_schema
    if potential_schema is None:
        return DefinitionConfigSchema(Field(ConfigAnyInstance, is_required=False))
    return DefinitionConfigSchema(convert_potential_field(potential_schema))


class ConfiguredDefinitionConfigSchema(DefinitionConfigSchema):
    """The schema of `parent.configured(config_or_fn, config_schema=...)`: outer config is mapped by
    `config_or_fn` to config for the parent, which is then validated by the parent's schema.
    """

    def __init__(self, parent_definition: Any, config_schema: DefinitionConfigSchema | None, config_or_config_fn: Any):
        self.parent_def = parent_definition
        self._current_field = config_schema.as_field() if config_schema else None
        super().__init__(self._current_field)  # type: ignore[arg-type]
        self._config_fn = config_or_config_fn if callable(config_or_config_fn) else (lambda _: config_or_config_fn)

    def _invoke_user_config_fn(self, processed_config: Mapping[str, Any]) -> dict[str, Any]:
        name = getattr(self.parent_def, "name", None) or type(self.parent_def).__name__
        try:
            return {"config": self._config_fn(processed_config.get("config", {}))}
        except Exception as exc:
            raise DagsterConfigMappingFunctionError(
                f"The config mapping function on a `configured` {type(self.parent_def).__name__} has thrown an "
                f"unexpected error during its execution. The definition is instantiated at stack: {name}",
                user_exception=exc,
            ) from exc

    def resolve_config(self, processed_config: Mapping[str, Any]) -> EvaluateValueResult:
        """Map already-processed outer config to the parent's config, validate and recurse."""
        parent_field = getattr(self.parent_def, "config_field", None)
        result = process_config({"config": parent_field or {}}, self._invoke_user_config_fn(processed_config))
        if not result.success:
            return result
        return self.parent_def.apply_config_mapping(result.value)


class ConfigMapping:
    """Maps the config a graph or job is given to the config of the nodes inside it.

    Args:
        config_fn: takes the outer config, returns run config for the inner nodes.
        config_schema: the schema of the outer config.
        receive_processed_config_values: if True (the default), `config_fn` gets processed values
            (defaults filled, enums as python values); if False, raw strings with defaults filled.

    Example:
        ```python
        @dg.config_mapping(config_schema={"word": str})
        def simplify(val):
            return {"ops": {"say": {"config": {"word": val["word"]}}}}

        @dg.job(config=simplify)
        def say_job():
            say()
        ```
    """

    def __init__(
        self,
        config_fn: Callable[[Any], Any],
        config_schema: ConfigSchema | None = None,
        receive_processed_config_values: bool | None = None,
    ):
        if not callable(config_fn):
            raise DagsterInvalidDefinitionError(f"ConfigMapping config_fn must be callable, got {config_fn!r}.")
        self.config_fn = config_fn
        self.config_schema = convert_user_facing_definition_config_schema(config_schema)
        self.receive_processed_config_values = receive_processed_config_values

    def resolve_from_unvalidated_config(self, config: Any) -> Any:
        """Validate `config` against the outer schema and return `config_fn`'s result."""
        processed = self.receive_processed_config_values is not False
        schema = self.config_schema.config_type
        result = process_config(schema, config) if processed else validate_structure(schema, config)
        if not result.success:
            raise DagsterInvalidConfigError("Error in config mapping ", result.errors, config)
        outer = result.value if processed else resolve_defaults(schema, result.value).value
        return self.config_fn(outer)

    def resolve_from_validated_config(self, config: Any) -> Any:
        if self.receive_processed_config_values is not None:
            raise DagsterInvalidDefinitionError(
                "`receive_processed_config_values` parameter has been set, but only applies to unvalidated config."
            )
        return self.config_fn(config)

    def __repr__(self) -> str:
        return f"ConfigMapping(config_fn={getattr(self.config_fn, '__name__', self.config_fn)!r})"


def _single_param(fn: Callable[..., Any], what: str) -> inspect.Parameter:
    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if len(params) != 1:
        raise DagsterInvalidDefinitionError(f"{what} should have exactly one parameter")
    return params[0]


def _config_class_param(fn: Callable[..., Any], what: str) -> tuple[str, type] | None:
    """(name, Config subclass) if `fn`'s only parameter is annotated with a pythonic Config class."""
    param = _single_param(fn, what)
    pythonic = sys.modules.get("orchestra._config.pythonic")
    annotation = param.annotation
    if isinstance(annotation, str):
        annotation = _resolve_string_annotation(fn, annotation)
    if pythonic and isinstance(annotation, type) and issubclass(annotation, pythonic.Config):
        return param.name, annotation
    return None


def _resolve_string_annotation(fn: Callable[..., Any], annotation: str) -> Any:
    try:
        return inspect.get_annotations(fn, eval_str=True).get(next(iter(inspect.signature(fn).parameters)))
    except Exception:
        return annotation


def _wrap_pythonic_fn(fn: Any, config_schema: ConfigSchema | None, what: str) -> tuple[Any, ConfigSchema | None]:
    """If `fn` takes a `Config` instance, infer the schema and hand it a built instance."""
    if not callable(fn):
        return fn, config_schema
    found = _config_class_param(fn, what)
    if found is None:
        return fn, config_schema
    if config_schema is not None:
        raise DagsterInvalidDefinitionError(f"Cannot provide config_schema to {what} with Config-annotated param")
    from orchestra._config.pythonic import Config, infer_schema_from_config_class
    from orchestra._config.run_config import RunConfig

    param_name, config_cls = found

    def wrapped(config_as_dict: Any) -> Any:
        output = fn(**{param_name: config_cls(**config_as_dict)})
        if isinstance(output, RunConfig):
            return output.to_config_dict()
        if isinstance(output, Config):
            return output._convert_to_config_dictionary()
        return output

    wrapped.__name__ = getattr(fn, "__name__", "wrapped")
    return wrapped, infer_schema_from_config_class(config_cls)


def config_mapping(
    config_fn: Callable[..., Any] | None = None,
    *,
    config_schema: ConfigSchema | None = None,
    receive_processed_config_values: bool | None = None,
) -> Any:
    """Decorate a function to make a `ConfigMapping`; with a `Config`-annotated parameter the schema
    is inferred and the function receives a `Config` instance (and may return a `RunConfig`).
    """

    def decorate(fn: Callable[..., Any]) -> ConfigMapping:
        wrapped, schema = _wrap_pythonic_fn(fn, config_schema, "Config mapping")
        receive = receive_processed_config_values if wrapped is fn else None
        return ConfigMapping(config_fn=wrapped, config_schema=schema, receive_processed_config_values=receive)

    if config_fn is not None:
        if config_schema is not None or receive_processed_config_values is not None:
            raise DagsterInvalidDefinitionError("Use @config_mapping(config_schema=...) with keyword arguments only.")
        return decorate(config_fn)
    return decorate


def configured(configurable: Any, config_schema: ConfigSchema | None = None, **kwargs: Any) -> Callable[[Any], Any]:
    """Make a pre-configured copy of a definition (op, graph, resource, logger, executor).

    Example:
        ```python
        dev_s3 = dg.configured(s3_resource, name="dev_s3")({"bucket": "dev"})

        @dg.configured(s3_resource, {"prefix": str})
        def prefixed_s3(config):
            return {"bucket": config["prefix"] + "dev"}
        ```
    """
    if isinstance(configurable, type) and hasattr(configurable, "configure_at_launch"):
        configurable = configurable.configure_at_launch().get_resource_definition()
    method = getattr(configurable, "configured", None)
    if method is None:
        raise DagsterInvalidDefinitionError(
            "Only the following types can be used with the `configured` method: ResourceDefinition, "
            "ExecutorDefinition, GraphDefinition, NodeDefinition, and LoggerDefinition. For usage examples of "
            "`configured`, see https://legacy-docs.dagster.io/concepts/configuration/configured"
        )
    needs_name = "name" in inspect.signature(method).parameters

    def apply(config_or_config_fn: Any) -> Any:
        fn, schema = _wrap_pythonic_fn(config_or_config_fn, config_schema, "@configured function")
        extra = {k: v for k, v in kwargs.items() if k != "name"}
        if needs_name:
            name = kwargs.get("name") or (getattr(config_or_config_fn, "__name__", None) if callable(config_or_config_fn) else None)
            if not name:
                raise DagsterInvalidDefinitionError("configured requires a name for this definition type")
            return method(config_or_config_fn=fn, name=name, config_schema=schema, **extra)
        return method(config_or_config_fn=fn, config_schema=schema, **extra)

    return apply
