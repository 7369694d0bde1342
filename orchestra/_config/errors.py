"""Config evaluation errors: their reasons, paths and Dagster-worded messages, and the type printer they use."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from orchestra._config.types import ConfigType, ConfigTypeKind
from orchestra._records import Record


class DagsterEvaluationErrorReason(enum.Enum):
    RUNTIME_TYPE_MISMATCH = "RUNTIME_TYPE_MISMATCH"
    MISSING_REQUIRED_FIELD = "MISSING_REQUIRED_FIELD"
    MISSING_REQUIRED_FIELDS = "MISSING_REQUIRED_FIELDS"
    FIELD_NOT_DEFINED = "FIELD_NOT_DEFINED"
    FIELDS_NOT_DEFINED = "FIELDS_NOT_DEFINED"
    SELECTOR_FIELD_ERROR = "SELECTOR_FIELD_ERROR"
    FAILED_POST_PROCESSING = "FAILED_POST_PROCESSING"
    FIELD_ALIAS_COLLISION = "FIELD_ALIAS_COLLISION"


class StackEntry(Record):
    """One step into a config value: a field name, a list index, or a map key/value."""

    kind: str  # "field" | "index" | "map_key" | "map_value"
    value: Any

    def render(self) -> str:
        if self.kind == "field":
            return ":" + str(self.value)
        if self.kind == "index":
            return f"[{self.value}]"
        return f":{self.value!r}:{'key' if self.kind == 'map_key' else 'value'}"

    # Dagster's stack entries expose one of these, depending on the entry's kind.
    @property
    def field_name(self) -> str | None:
        return self.value if self.kind == "field" else None

    @property
    def list_index(self) -> int | None:
        return self.value if self.kind == "index" else None

    @property
    def map_key(self) -> Any:
        return self.value if self.kind in ("map_key", "map_value") else None


class EvaluationStack(tuple):
    """The entries from the root to where an error is; `.entries` as in Dagster."""

    @property
    def entries(self) -> list[StackEntry]:
        return list(self)


Stack = tuple[StackEntry, ...]


def path_of(stack: Stack) -> list[str]:
    """The stack as a list of strings: field names, `[i]` for list items, `repr(k):key|value` in maps."""
    return [entry.render().removeprefix(":") for entry in stack]


def friendly_path(stack: Stack) -> str:
    return "root" + "".join(entry.render() for entry in stack)


def friendly_path_msg(stack: Stack) -> str:
    return f"at path {friendly_path(stack)}" if stack else "at the root"


class EvaluationError(Record):
    """One reason a config value is invalid, where it is (`path`) and a message worded as Dagster's."""

    stack: Stack
    reason: DagsterEvaluationErrorReason
    message: str
    error_data: dict[str, Any]

    def __init__(self, stack: Stack, reason: DagsterEvaluationErrorReason, message: str,
                 error_data: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "stack", EvaluationStack(stack))
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "error_data", {} if error_data is None else error_data)

    @property
    def path(self) -> list[str]:
        return path_of(self.stack)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason.value, "message": self.message}


# --- type printing ("{ a: Int b?: [String] }") -----------------------------------------------------------


def print_config_type(config_type: ConfigType, with_lines: bool = True) -> str:
    """Render a config type the way Dagster's error messages and docs show it."""
    if not with_lines:
        return _print_inline(config_type)
    out = _LinePrinter()
    _print_lines(config_type, out)
    out.line("")
    return "\n".join(out.lines)


class _LinePrinter:
    """Builds indented lines: `append` extends the pending line, `line` finishes it at the current indent."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.pending = ""
        self.indent = 0

    def append(self, text: str) -> None:
        self.pending += text

    def line(self, text: str) -> None:
        self.lines.append("  " * self.indent + self.pending + text)
        self.pending = ""


def _print_inline(config_type: ConfigType) -> str:
    kind = config_type.kind
    if kind is ConfigTypeKind.ARRAY:
        return f"[{_print_inline(config_type.inner_type)}]"  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.NONEABLE:
        return f"{_print_inline(config_type.inner_type)}?"  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.SCALAR_UNION:
        return f"({_print_inline(config_type.scalar_type)} | {_print_inline(config_type.non_scalar_type)})"  # type: ignore[attr-defined]
    if kind is ConfigTypeKind.MAP:
        label = f"{config_type.given_name}: " if config_type.given_name else ""
        return f"{{ [{label}{_print_inline(config_type.key_type)}]: {_print_inline(config_type.inner_type)} }}"  # type: ignore[attr-defined]
    if ConfigTypeKind.has_fields(kind):
        parts = ["{"]
        for name, fld in sorted(config_type.fields.items()):  # type: ignore[attr-defined]
            parts.append(f"{name}{'' if fld.is_required else '?'}: {_print_inline(fld.config_type)}")
        parts.append("}")
        return " ".join(parts)
    return config_type.given_name or config_type.key


def _print_lines(config_type: ConfigType, out: _LinePrinter) -> None:
    kind = config_type.kind
    if kind is ConfigTypeKind.ARRAY:
        out.append("[")
        _print_lines(config_type.inner_type, out)  # type: ignore[attr-defined]
        out.append("]")
    elif kind is ConfigTypeKind.NONEABLE:
        _print_lines(config_type.inner_type, out)  # type: ignore[attr-defined]
        out.append("?")
    elif kind is ConfigTypeKind.SCALAR_UNION:
        out.append("(")
        _print_lines(config_type.scalar_type, out)  # type: ignore[attr-defined]
        out.append(" | ")
        _print_lines(config_type.non_scalar_type, out)  # type: ignore[attr-defined]
        out.append(")")
    elif kind is ConfigTypeKind.MAP or ConfigTypeKind.has_fields(kind):
        out.line("{")
        out.indent += 1
        if kind is ConfigTypeKind.MAP:
            label = f"{config_type.given_name}: " if config_type.given_name else ""
            out.append(f"[{label}")
            _print_lines(config_type.key_type, out)  # type: ignore[attr-defined]
            out.append("]: ")
            _print_lines(config_type.inner_type, out)  # type: ignore[attr-defined]
            out.line("")
        else:
            for name, fld in sorted(config_type.fields.items()):  # type: ignore[attr-defined]
                out.append(f"{name}{'' if fld.is_required else '?'}: ")
                _print_lines(fld.config_type, out)
                out.line("")
        out.indent -= 1
        out.append("}")
    else:
        out.append(config_type.given_name or config_type.key)


# --- sample config for missing entries -------------------------------------------------------------------

_SCALAR_SAMPLES: dict[str, Any] = {"String": "...", "Int": 0, "Float": 0.0, "Bool": True}


def minimal_config_for_type(config_type: ConfigType) -> Any:
    kind = config_type.kind
    if ConfigTypeKind.has_fields(kind):
        if kind is ConfigTypeKind.SELECTOR:
            return "<selector>"
        return {
            name: minimal_config_for_type(fld.config_type)
            for name, fld in config_type.fields.items()  # type: ignore[attr-defined]
            if fld.is_required
        }
    if kind is ConfigTypeKind.ANY:
        return "AnyType"
    if kind is ConfigTypeKind.SCALAR:
        return _SCALAR_SAMPLES.get(config_type.given_name or "", "<unknown>")
    if kind is ConfigTypeKind.ARRAY:
        return []
    if kind is ConfigTypeKind.MAP:
        return {}
    if kind is ConfigTypeKind.ENUM:
        values = config_type.enum_values  # type: ignore[attr-defined]
        return values[0].config_value if values else "<unknown>"
    if kind is ConfigTypeKind.SCALAR_UNION:
        return minimal_config_for_type(config_type.scalar_type)  # type: ignore[attr-defined]
    return "<unknown>"


# --- error constructors ----------------------------------------------------------------------------------

_R = DagsterEvaluationErrorReason


def _mismatch(stack: Stack, message: str, value: object) -> EvaluationError:
    return EvaluationError(stack, _R.RUNTIME_TYPE_MISMATCH, message, {"value_rep": repr(value)})


def dict_type_mismatch_error(stack: Stack, config_type: ConfigType, value: object) -> EvaluationError:
    expected = print_config_type(config_type, with_lines=False)
    return _mismatch(stack, f'Value {friendly_path_msg(stack)} must be dict. Expected: "{expected}".', value)


def map_type_mismatch_error(stack: Stack, config_type: ConfigType, value: object) -> EvaluationError:
    expected = print_config_type(config_type, with_lines=False)
    return _mismatch(stack, f'Value {friendly_path_msg(stack)} must be dict. Expected: "{expected}"', value)


def array_type_mismatch_error(stack: Stack, config_type: ConfigType, value: object) -> EvaluationError:
    expected = print_config_type(config_type, with_lines=False)
    return _mismatch(stack, f'Value {friendly_path_msg(stack)} must be list. Expected: "{expected}"', value)


def scalar_error(stack: Stack, config_type: ConfigType, value: object) -> EvaluationError:
    return _mismatch(
        stack,
        f'Invalid scalar {friendly_path_msg(stack)}. Value "{value}" of type "{type(value)}" is not valid for '
        f'expected type "{config_type.given_name}".',
        value,
    )


def none_not_allowed_error(stack: Stack, config_type: ConfigType) -> EvaluationError:
    expected = print_config_type(config_type, with_lines=False)
    return _mismatch(stack, f'Value {friendly_path_msg(stack)} must not be None. Expected "{expected}"', None)


def enum_type_mismatch_error(stack: Stack, config_type: ConfigType, value: object) -> EvaluationError:
    return _mismatch(
        stack, f"Value {friendly_path_msg(stack)} for enum type {config_type.given_name} must be a string", value
    )


def enum_value_missing_error(stack: Stack, config_type: ConfigType, value: object) -> EvaluationError:
    return _mismatch(
        stack, f"Value {friendly_path_msg(stack)} not in enum type {config_type.given_name} got {value}", value
    )


def env_var_in_run_config_error(stack: Stack, name: str) -> EvaluationError:
    return _mismatch(
        stack,
        f'Invalid use of environment variable wrapper. Value "{name}" is wrapped with EnvVar(), which is reserved '
        "for passing to structured pydantic config objects only. To provide an environment variable to a run "
        f'config dictionary, replace EnvVar("{name}") with {str({"env": name})}, or pass a structured RunConfig '
        "object.",
        name,
    )


def field_not_defined_error(stack: Stack, config_type: ConfigType, name: str) -> EvaluationError:
    expected = print_config_type(config_type, with_lines=False)
    return EvaluationError(
        stack,
        _R.FIELD_NOT_DEFINED,
        f'Received unexpected config entry "{name}" {friendly_path_msg(stack)}. Expected: "{expected}".',
        {"field_name": name},
    )


def fields_not_defined_error(stack: Stack, config_type: ConfigType, names: Sequence[str]) -> EvaluationError:
    available = sorted(config_type.fields)  # type: ignore[attr-defined]
    undefined = sorted(names)
    return EvaluationError(
        stack,
        _R.FIELDS_NOT_DEFINED,
        f'Received unexpected config entries "{undefined}" {friendly_path_msg(stack)}. Expected: "{available}."',
        {"field_names": undefined},
    )


def missing_field_error(stack: Stack, config_type: ConfigType, name: str) -> EvaluationError:
    sample = {name: minimal_config_for_type(config_type.fields[name].config_type)}  # type: ignore[attr-defined]
    return EvaluationError(
        stack,
        _R.MISSING_REQUIRED_FIELD,
        f'Missing required config entry "{name}" {friendly_path_msg(stack)}. You must provide this value in your '
        f"run config. Example config for the missing entry: {sample}",
        {"field_name": name},
    )


def missing_fields_error(stack: Stack, config_type: ConfigType, names: Sequence[str]) -> EvaluationError:
    missing = sorted(names)
    sample = {name: minimal_config_for_type(config_type.fields[name].config_type) for name in missing}  # type: ignore[attr-defined]
    return EvaluationError(
        stack,
        _R.MISSING_REQUIRED_FIELDS,
        f"Missing required config entries {missing} {friendly_path_msg(stack)}. You must provide these values in "
        f"your run config. Example config for the missing entries: {sample}",
        {"field_names": missing},
    )


def field_alias_collision_error(stack: Stack, name: str, alias: str) -> EvaluationError:
    return EvaluationError(
        stack,
        _R.FIELD_ALIAS_COLLISION,
        f"Received both field '{name}' and field '{alias}' in config. Please use one or the other.",
        {"field_name": name, "aliased_field_name": alias},
    )


def selector_multiple_fields_error(stack: Stack, config_type: ConfigType, value: dict) -> EvaluationError:
    defined = sorted(config_type.fields)  # type: ignore[attr-defined]
    incoming = sorted(value)
    return EvaluationError(
        stack,
        _R.SELECTOR_FIELD_ERROR,
        f"You can only specify a single field {friendly_path_msg(stack)}. You specified {incoming}. The available "
        f"fields are {defined}",
        {"incoming_fields": incoming},
    )


def selector_no_field_selected_error(stack: Stack, config_type: ConfigType) -> EvaluationError:
    defined = sorted(config_type.fields)  # type: ignore[attr-defined]
    return EvaluationError(
        stack,
        _R.SELECTOR_FIELD_ERROR,
        f"Must specify a field {friendly_path_msg(stack)} if more than one field is defined. Defined fields: {defined}",
        {"incoming_fields": []},
    )


def selector_unspecified_value_error(stack: Stack, config_type: ConfigType) -> EvaluationError:
    defined = sorted(config_type.fields)  # type: ignore[attr-defined]
    return EvaluationError(
        stack,
        _R.SELECTOR_FIELD_ERROR,
        f"Must specify the required field {friendly_path_msg(stack)}. Defined fields: {defined}",
        {"incoming_fields": []},
    )


def selector_type_error(stack: Stack, value: object) -> EvaluationError:
    return _mismatch(stack, f"Value for selector type {friendly_path_msg(stack)} must be a dict", value)


def failed_post_processing_error(stack: Stack, value: object, exc: BaseException) -> EvaluationError:
    detail = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"
    return EvaluationError(
        stack,
        _R.FAILED_POST_PROCESSING,
        f"Post processing {friendly_path_msg(stack)} of original value {value} failed:\n{detail}",
        {"error": detail},
    )
