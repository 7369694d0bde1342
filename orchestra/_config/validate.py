"""Validating config values against a schema, then filling defaults and post-processing them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra._config import errors as e
from orchestra._config.errors import EvaluationError, Stack, StackEntry
from orchestra._config.field import FIELD_NO_DEFAULT_PROVIDED
from orchestra._config.types import ConfigScalarKind, ConfigType, ConfigTypeKind, PostProcessingError
from orchestra._errors import DagsterInvalidConfigError
from orchestra._records import Record


class EvaluateValueResult(Record):
    """The outcome of validating (and processing) a config value: `success`, `value`, `errors`."""

    success: bool
    value: Any
    errors: list[EvaluationError]

    def __init__(self, success: bool, value: Any = None, errors: list[EvaluationError] | None = None) -> None:
        object.__setattr__(self, "success", success)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "errors", [] if errors is None else errors)

    @classmethod
    def for_value(cls, value: Any) -> EvaluateValueResult:
        return cls(True, value, [])

    @classmethod
    def for_errors(cls, errors: list[EvaluationError]) -> EvaluateValueResult:
        return cls(False, None, list(errors))


def _to_type(schema: object) -> ConfigType:
    from orchestra._config.field import Field, convert_potential_field

    if isinstance(schema, ConfigType):
        return schema
    if isinstance(schema, Field):
        return schema.config_type
    return convert_potential_field(schema).config_type


# --- structural validation -------------------------------------------------------------------------------


def _scalar_ok(kind: ConfigScalarKind, value: object) -> bool:
    if kind is ConfigScalarKind.INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is ConfigScalarKind.STRING:
        return isinstance(value, str)
    if kind is ConfigScalarKind.BOOL:
        return isinstance(value, bool)
    return isinstance(value, (int, float))  # FLOAT; bools pass too, as in Dagster


def _validate(config_type: ConfigType, value: Any, stack: Stack) -> list[EvaluationError]:
    kind = config_type.kind
    if kind is ConfigTypeKind.NONEABLE:
        return [] if value is None else _validate(config_type.inner_type, value, stack)  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.ANY:
        return []
    if value is None:
        return [e.none_not_allowed_error(stack, config_type)]
    if kind is ConfigTypeKind.SCALAR:
        if not _scalar_ok(config_type.scalar_kind, value):  # type: ignore[attr-defined]
            return [e.scalar_error(stack, config_type, value)]
        from orchestra._config.env_var import EnvVar, IntEnvVar

        if isinstance(value, (EnvVar, IntEnvVar)):
            return [e.env_var_in_run_config_error(stack, value.env_var_name)]
        return []
    if kind is ConfigTypeKind.SELECTOR:
        return _validate_selector(config_type, value, stack)
    if ConfigTypeKind.is_shape(kind):
        return _validate_shape(config_type, value, stack)
    if kind is ConfigTypeKind.MAP:
        if not isinstance(value, dict):
            return [e.map_type_mismatch_error(stack, config_type, value)]
        found: list[EvaluationError] = []
        for key in value:
            found += _validate(config_type.key_type, key, (*stack, StackEntry("map_key", key)))  # type: ignore[attr-defined]
        for key, item in value.items():
            found += _validate(config_type.inner_type, item, (*stack, StackEntry("map_value", key)))  # type: ignore[attr-defined]
        return found
    if kind is ConfigTypeKind.ARRAY:
        if not isinstance(value, list):
            return [e.array_type_mismatch_error(stack, config_type, value)]
        found = []
        for index, item in enumerate(value):
            found += _validate(config_type.inner_type, item, (*stack, StackEntry("index", index)))  # type: ignore[attr-defined]
        return found
    if kind is ConfigTypeKind.ENUM:
        if not isinstance(value, str):
            return [e.enum_type_mismatch_error(stack, config_type, value)]
        if not config_type.is_valid_config_enum_value(value):  # type: ignore[attr-defined]
            return [e.enum_value_missing_error(stack, config_type, value)]
        return []
    if kind is ConfigTypeKind.SCALAR_UNION:
        inner = config_type.non_scalar_type if isinstance(value, (dict, list)) else config_type.scalar_type  # type: ignore[attr-defined]
        return _validate(inner, value, stack)
    raise NotImplementedError(f"Unsupported config type kind {kind}")


def _validate_selector(config_type: ConfigType, value: Any, stack: Stack) -> list[EvaluationError]:
    fields = config_type.fields  # type: ignore[attr-defined]
    if value == {}:
        if len(fields) > 1:
            return [e.selector_no_field_selected_error(stack, config_type)]
        only = next(iter(fields.values()))
        return [e.selector_unspecified_value_error(stack, config_type)] if only.is_required else []
    if not isinstance(value, dict):
        return [e.selector_type_error(stack, value)]
    if len(value) > 1:
        return [e.selector_multiple_fields_error(stack, config_type, value)]
    name, item = next(iter(value.items()))
    if name not in fields:
        return [e.field_not_defined_error(stack, config_type, name)]
    inner = fields[name].config_type
    # `storage: {filesystem: }` (None) selects a branch and lets its defaults fill in
    if item is None and ConfigTypeKind.has_fields(inner.kind):
        item = {}
    return _validate(inner, item, (*stack, StackEntry("field", name)))


def _validate_shape(config_type: ConfigType, value: Any, stack: Stack) -> list[EvaluationError]:
    if not isinstance(value, dict):
        return [e.dict_type_mismatch_error(stack, config_type, value)]
    fields = config_type.fields  # type: ignore[attr-defined]
    aliases: dict[str, str] = getattr(config_type, "field_aliases", {}) or {}
    found: list[EvaluationError] = []
    if config_type.kind is ConfigTypeKind.STRICT_SHAPE:
        defined = set(fields) | set(aliases.values())
        extra = [name for name in value if name not in defined]
        if len(extra) == 1:
            found.append(e.field_not_defined_error(stack, config_type, extra[0]))
        elif extra:
            found.append(e.fields_not_defined_error(stack, config_type, extra))
    missing = [
        name
        for name, fld in fields.items()
        if fld.is_required and name not in value and (aliases.get(name) is None or aliases[name] not in value)
    ]
    if len(missing) == 1:
        found.append(e.missing_field_error(stack, config_type, missing[0]))
    elif missing:
        found.append(e.missing_fields_error(stack, config_type, missing))
    for name, fld in fields.items():
        alias = aliases.get(name)
        child_stack = (*stack, StackEntry("field", name))
        if alias is not None and alias in value and name in value:
            found.append(e.field_alias_collision_error(child_stack, name, alias))
        elif name in value:
            found += _validate(fld.config_type, value[name], child_stack)
        elif alias is not None and alias in value:
            found += _validate(fld.config_type, value[alias], child_stack)
    return found


def validate_structure(schema: object, value: Any) -> EvaluateValueResult:
    """Check `value` against `schema` without filling defaults or post-processing (Dagster's validate)."""
    errors = _validate(_to_type(schema), value, ())
    return EvaluateValueResult.for_errors(errors) if errors else EvaluateValueResult.for_value(value)


# --- defaults and post-processing ------------------------------------------------------------------------


def _process(config_type: ConfigType, value: Any, stack: Stack, post_process: bool) -> EvaluateValueResult:
    result = _fill(config_type, value, stack, post_process)
    if not result.success or not post_process:
        return result
    try:
        return EvaluateValueResult.for_value(config_type.post_process(result.value))
    except PostProcessingError as exc:
        return EvaluateValueResult.for_errors([e.failed_post_processing_error(stack, result.value, exc)])


def _collect(results: Mapping[Any, EvaluateValueResult]) -> EvaluateValueResult:
    errors = [err for result in results.values() for err in result.errors]
    if errors:
        return EvaluateValueResult.for_errors(errors)
    return EvaluateValueResult.for_value({key: result.value for key, result in results.items()})


def _fill(config_type: ConfigType, value: Any, stack: Stack, post_process: bool) -> EvaluateValueResult:
    kind = config_type.kind
    if kind in (ConfigTypeKind.SCALAR, ConfigTypeKind.ENUM, ConfigTypeKind.ANY):
        return EvaluateValueResult.for_value(value)
    if kind is ConfigTypeKind.NONEABLE:
        if value is None:
            return EvaluateValueResult.for_value(None)
        return _process(config_type.inner_type, value, stack, post_process)  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.SCALAR_UNION:
        inner = config_type.non_scalar_type if isinstance(value, (dict, list)) else config_type.scalar_type  # type: ignore[attr-defined]
        return _process(inner, value, stack, post_process)
    if kind is ConfigTypeKind.SELECTOR:
        fields = config_type.fields  # type: ignore[attr-defined]
        if value:
            name, item = next(iter(value.items()))
        else:
            name, fld = next(iter(fields.items()))
            item = fld.default_value if fld.default_provided else None
        inner = fields[name].config_type
        if item is None and ConfigTypeKind.has_fields(inner.kind):
            item = {}
        result = _process(inner, item, (*stack, StackEntry("field", name)), post_process)
        return EvaluateValueResult.for_value({name: result.value}) if result.success else result
    if ConfigTypeKind.is_shape(kind):
        value = value or {}
        fields = config_type.fields  # type: ignore[attr-defined]
        aliases: dict[str, str] = getattr(config_type, "field_aliases", {}) or {}
        # each field's value, or its errors: what `_collect` makes of per-field results, without a
        # result object and a stack entry per field (a 2,000-op job's `ops` shape fills 2,000 defaults)
        values: dict[str, Any] = {}
        errors: list[EvaluationError] = []
        reuse_resolved = post_process is None
        for name, fld in fields.items():
            if name in value:
                item = value[name]
            elif name in aliases and aliases[name] in value:
                item = value[aliases[name]]
            else:
                # the Field's own attributes rather than its properties: a Python call each, per field
                item = fld._default_value
                if item is FIELD_NO_DEFAULT_PROVIDED:
                    continue
                if reuse_resolved and fld._default_is_resolved:  # already filled in: not walked again
                    values[name] = item
                    continue
            result = _process(fld.config_type, item, (*stack, StackEntry("field", name)), post_process)
            if result.errors:
                errors.extend(result.errors)
            else:
                values[name] = result.value
        if kind is ConfigTypeKind.PERMISSIVE_SHAPE:
            for name, item in value.items():
                if name not in fields:
                    values[name] = item
        return EvaluateValueResult.for_errors(errors) if errors else EvaluateValueResult.for_value(values)
    if kind is ConfigTypeKind.ARRAY:
        items = [
            _process(config_type.inner_type, item, (*stack, StackEntry("index", i)), post_process)  # type: ignore[attr-defined]
            for i, item in enumerate(value or [])
        ]
        errors = [err for result in items for err in result.errors]
        return EvaluateValueResult.for_errors(errors) if errors else EvaluateValueResult.for_value([r.value for r in items])
    if kind is ConfigTypeKind.MAP:
        return _collect(
            {
                key: _process(config_type.inner_type, item, (*stack, StackEntry("map_value", key)), post_process)  # type: ignore[attr-defined]
                for key, item in (value or {}).items()
            }
        )
    raise NotImplementedError(f"Unsupported config type kind {kind}")


def resolve_defaults(schema: object, value: Any, *, reuse_resolved: bool = False) -> EvaluateValueResult:
    """Fill in defaults recursively without post-processing (env vars and enums stay as written).

    With `reuse_resolved`, a field whose default was itself resolved this way (`Field.default_is_resolved`)
    contributes that value as it is instead of being walked again — for a `Field`'s own implicit default,
    which would otherwise walk every op's config once per enclosing shape (the value is the same).
    """
    return _process(_to_type(schema), value, (), post_process=None if reuse_resolved else False)


def validate_config(schema: object, value: Any) -> EvaluateValueResult:
    """Validate `value` against `schema` (any form `convert_potential_field` accepts) and process it.

    On success `result.value` is what user code sees: defaults filled in recursively, `{env: VAR}`
    resolved for Source types, enum strings mapped to python values, floats made floats. On failure
    `result.errors` lists every `EvaluationError` (path, reason, message).
    """
    config_type = _to_type(schema)
    errors = _validate(config_type, value, ())
    if errors:
        return EvaluateValueResult.for_errors(errors)
    return _process(config_type, value, (), post_process=True)


process_config = validate_config


def process_config_or_raise(schema: object, value: Any, preamble: str) -> Any:
    """`validate_config(...).value`, or raise DagsterInvalidConfigError(preamble, errors, value)."""
    result = validate_config(schema, value)
    if not result.success:
        raise DagsterInvalidConfigError(preamble, result.errors, value)
    return result.value


def process_run_config(schema: object, run_config: Any, *, job_name: str) -> Any:
    """Process a job's whole run config (a dict or a `RunConfig`; None means `{}`).

    Raises `DagsterInvalidConfigError("Error in config for job <name>", errors, run_config)`.
    """
    from orchestra._config.run_config import convert_config_input

    run_config = convert_config_input(run_config if run_config is not None else {})
    return process_config_or_raise(schema, run_config, f"Error in config for job {job_name}")
