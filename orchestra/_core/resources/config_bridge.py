"""The one place resources and IO managers talk to the config system (`orchestra._config`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra._errors import DagsterInvalidConfigError


def config_field_for(schema: Any) -> Any:
    """The config `Field` for a user-facing schema; `None` accepts anything, optionally."""
    from orchestra._config import Field, convert_potential_field

    if schema is None:
        from orchestra._builtins import Any as AnyType

        return Field(AnyType, is_required=False)
    if isinstance(schema, Field):
        return schema
    if hasattr(schema, "as_field"):  # a DefinitionConfigSchema, e.g. from `Config.to_config_schema()`
        return schema.as_field()
    if isinstance(schema, Mapping) and not isinstance(schema, dict):
        schema = dict(schema)  # e.g. a lazily built schema of a built-in IO manager
    return convert_potential_field(schema)


def process_config(field: Any, value: Any, *, what: str) -> Any:
    """Validate `value` against `field`, fill defaults and resolve env vars; raise on errors.

    The value is wrapped as `{"config": value}` (the shape it has in run config) so a missing value
    picks up the field's defaults exactly as a missing `config:` key would.
    """
    from orchestra._config import Shape, validate_config

    outer = Shape({"config": field})
    result = validate_config(outer, {} if value is None else {"config": value})
    if not result.success:
        raise DagsterInvalidConfigError(f"Error in config for {what}", result.errors, value)
    return (result.value or {}).get("config")
