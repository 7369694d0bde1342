"""`Field` and the resolution of schema shorthand (dicts, `[x]`, python builtins, markers) to config types."""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from orchestra._builtins import BuiltinEnum
from orchestra._config.types import (
    Array,
    ConfigAnyInstance,
    ConfigBoolInstance,
    ConfigFloatInstance,
    ConfigIntInstance,
    ConfigStringInstance,
    ConfigType,
    ConfigTypeKind,
    Map,
    Permissive,
    Shape,
)
from orchestra._errors import (
    DagsterInvalidConfigDefinitionError,
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
)


class _NoDefault:
    """Sentinel: the field was declared without a default value."""

    def __repr__(self) -> str:
        return "FIELD_NO_DEFAULT_PROVIDED"


FIELD_NO_DEFAULT_PROVIDED: Any = _NoDefault()

_BUILTIN_MARKERS: dict[BuiltinEnum, ConfigType] = {
    BuiltinEnum.ANY: ConfigAnyInstance,
    BuiltinEnum.BOOL: ConfigBoolInstance,
    BuiltinEnum.FLOAT: ConfigFloatInstance,
    BuiltinEnum.INT: ConfigIntInstance,
    BuiltinEnum.STRING: ConfigStringInstance,
}
_PYTHON_SCALARS: dict[type, ConfigType] = {
    int: ConfigIntInstance,
    float: ConfigFloatInstance,
    bool: ConfigBoolInstance,
    str: ConfigStringInstance,
}


def _config_class_schema(obj: object) -> Field | None:
    """The schema of a pythonic `Config` subclass, without importing pydantic when none can exist."""
    pythonic = sys.modules.get("orchestra._config.pythonic")
    if pythonic is None or not isinstance(obj, type):
        return None
    if issubclass(obj, pythonic.Config):
        return pythonic.infer_schema_from_config_class(obj)
    return None


def resolve_to_config_type(obj: object) -> ConfigType | bool:
    """The config type `obj` stands for, or False when it is not a config schema at all."""
    if isinstance(obj, ConfigType):
        return obj
    if isinstance(obj, Mapping):
        return _convert_potential_type(obj, obj, [])
    if isinstance(obj, list):
        return _expand_list(obj, obj, [])
    if isinstance(obj, BuiltinEnum):
        if obj is BuiltinEnum.NOTHING:
            return False
        return _BUILTIN_MARKERS[obj]
    if obj is None:
        return ConfigAnyInstance
    if isinstance(obj, type):
        if obj in _PYTHON_SCALARS:
            return _PYTHON_SCALARS[obj]
        if obj is list:
            return Array(ConfigAnyInstance)
        if obj is dict:
            return Permissive()
        if issubclass(obj, ConfigType):
            raise DagsterInvalidDefinitionError(
                f"Cannot pass config type class {obj} to resolve_to_config_type. This error usually occurs "
                "when you pass a dagster config type class instead of a class instance into another dagster "
                'config type. E.g. "Noneable(Permissive)" should instead be "Noneable(Permissive())".'
            )
    config_field = _config_class_schema(obj)
    if config_field is not None:
        return config_field.config_type
    if _is_typing_optional(obj):
        raise DagsterInvalidDefinitionError(
            "Cannot use typing.Optional as a config type. If you want this field to be optional, please use "
            "Field(<type>, is_required=False), and if you want this field to be required, but accept a value "
            "of None, use dagster.Noneable(<type>)."
        )
    if typing.get_origin(obj) is not None or getattr(obj, "__module__", None) == "typing":
        raise DagsterInvalidDefinitionError(
            f"You have passed in {obj} to the config system. Types from the typing module in python are not "
            "allowed in the config system. You must use types that are imported from dagster or primitive "
            "types such as bool, int, etc."
        )
    return False


def _is_typing_optional(obj: object) -> bool:
    return typing.get_origin(obj) in (typing.Union, types.UnionType) and type(None) in typing.get_args(obj)


def resolve_to_config_type_or_raise(obj: object) -> ConfigType:
    config_type = resolve_to_config_type(obj)
    if not config_type:
        raise DagsterInvalidDefinitionError(
            f"Attempted to pass {obj!r} to a Field that expects a valid dagster type usable in config "
            "(e.g. Dict, Int, String et al)."
        )
    assert isinstance(config_type, ConfigType)
    return config_type


def all_optional_type(config_type: ConfigType) -> bool:
    """True for a shape or selector none of whose fields must be given."""
    if ConfigTypeKind.is_shape(config_type.kind):
        # `_is_required`, not the property: a Python call per field (a 2,000-op job's `ops` shape)
        return all(not field._is_required for field in config_type.fields.values())  # type: ignore[attr-defined]
    if ConfigTypeKind.is_selector(config_type.kind):
        fields = config_type.fields  # type: ignore[attr-defined]
        return len(fields) == 1 and all(not field.is_required for field in fields.values())
    return False


def _has_implicit_default(config_type: ConfigType) -> bool:
    return config_type.kind is ConfigTypeKind.NONEABLE or all_optional_type(config_type)


class Field:
    """The schema of one config entry, with its default, whether it is required and a description.

    Args:
        config: the schema (a python type, a config type, a dict (Shape) or a one-item list (Array)).
        default_value: value used when the entry is absent; the pre-processed form (an enum's
            config string, not its python value).
        is_required: defaults to True unless a default is given or the type needs no value.
        description: shown in the launchpad and in errors.
        is_secret: masked in UIs.

    Example:
        ```python
        @dg.op(config_schema={"word": dg.Field(str, description="I am a word."),
                              "repeats": dg.Field(int, default_value=1)})
        def repeat_word(context):
            return context.op_config["word"] * context.op_config["repeats"]
        ```
    """

    def __init__(
        self,
        config: Any,
        default_value: Any = FIELD_NO_DEFAULT_PROVIDED,
        is_required: bool | None = None,
        description: str | None = None,
        is_secret: bool = False,
    ):
        from orchestra._config.env_var import env_var_to_config_dict, is_env_var
        from orchestra._config.validate import resolve_defaults, validate_structure

        self.config_type = resolve_to_config_type_or_raise(config)
        self._description = description
        self._is_secret = bool(is_secret)
        if default_value is not FIELD_NO_DEFAULT_PROVIDED and callable(default_value):
            raise DagsterInvalidDefinitionError('Invalid default_value for Field: "default_value cannot be a callable".')
        if is_required is True and default_value is not FIELD_NO_DEFAULT_PROVIDED:
            raise DagsterInvalidDefinitionError(
                'Invalid Field: "required arguments should not specify default values".'
            )
        if is_env_var(default_value):
            default_value = env_var_to_config_dict(default_value)
        self._default_value = default_value
        self._default_is_resolved = False  # True for an implicit default, filled in from the config type

        if self.default_provided:
            if self.config_type.kind is ConfigTypeKind.ENUM and _is_python_enum_member(default_value):
                raise DagsterInvalidDefinitionError(
                    "You have passed into a python enum value as the default value into of a config enum type "
                    f"{self.config_type.given_name}. You must pass in the underlying string represention as the "
                    f"default value. One of {self.config_type.config_values}."  # type: ignore[attr-defined]
                )
            result = validate_structure(self.config_type, default_value)
            if not result.success:
                raise DagsterInvalidConfigError(
                    "Invalid default_value for Field. Ensure all required config entries are provided and all "
                    "values match the expected types.",
                    result.errors,
                    default_value,
                )

        if is_required is None:
            is_optional = self.default_provided or _has_implicit_default(self.config_type)
            is_required = not is_optional
            if is_optional and not self.default_provided:
                result = resolve_defaults(self.config_type, None, reuse_resolved=True)
                if not result.success:
                    raise DagsterInvalidConfigError(
                        "Unable to resolve implicit default_value for Field.", result.errors, None
                    )
                self._default_value = result.value
                self._default_is_resolved = True
        self._is_required = bool(is_required)
        self._key_part: bytes | None = None  # this field's part of its shape's type key (see types.py)

    @property
    def is_required(self) -> bool:
        return self._is_required

    @property
    def default_is_resolved(self) -> bool:
        """The default was computed from the config type (every nested default already filled in)."""
        return self._default_is_resolved

    @property
    def default_provided(self) -> bool:
        return self._default_value is not FIELD_NO_DEFAULT_PROVIDED

    @property
    def default_value(self) -> Any:
        if not self.default_provided:
            raise DagsterInvalidDefinitionError("Asking for default value when none was provided")
        return self._default_value

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def is_secret(self) -> bool:
        return self._is_secret

    def __repr__(self) -> str:
        default = self._default_value if self.default_provided else "@"
        return f"Field({self.config_type}, default={default}, is_required={self.is_required})"


def _is_python_enum_member(value: object) -> bool:
    import enum

    return isinstance(value, enum.Enum)


def expand_fields_dict(fields: Mapping[str, object]) -> dict[str, Field]:
    """Turn `{name: schema-or-Field}` into `{name: Field}`."""
    return _expand_fields_dict(fields, fields, [])


def _expand_fields_dict(root: object, fields: Mapping[str, object], stack: list[str]) -> dict[str, Field]:
    if not isinstance(fields, Mapping):
        raise DagsterInvalidConfigDefinitionError(root, fields, stack, "Fields must be a dictionary")
    expanded = {}
    for name, value in fields.items():
        if type(name) is not str and not isinstance(name, str):
            raise DagsterInvalidConfigDefinitionError(root, fields, stack, f"Field names must be strings. Got {name!r}")
        # a Field stays as it is (a job's run-config schema is built from thousands of op Fields)
        expanded[name] = value if type(value) is Field else _convert_potential_field(root, value, [*stack, name])
    return expanded


def _expand_list(root: object, the_list: Sequence[object], stack: list[str]) -> Array:
    if len(the_list) != 1:
        raise DagsterInvalidConfigDefinitionError(root, the_list, stack, "List must be of length 1")
    inner_type = _convert_potential_type(root, the_list[0], stack)
    if not inner_type:
        raise DagsterInvalidConfigDefinitionError(
            root,
            the_list,
            stack,
            f"List have a single item and contain a valid type i.e. [int]. Got item {the_list[0]!r}",
        )
    return Array(inner_type)


def _expand_map(root: object, the_dict: Mapping[object, object], stack: list[str]) -> Map:
    if len(the_dict) != 1:
        raise DagsterInvalidConfigDefinitionError(root, the_dict, stack, "Map dict must be of length 1")
    key = next(iter(the_dict))
    key_type = _convert_potential_type(root, key, stack)
    if not key_type or key_type.kind is not ConfigTypeKind.SCALAR:
        raise DagsterInvalidConfigDefinitionError(
            root, the_dict, stack, f"Map dict must have a scalar type as its only key. Got key {key!r}"
        )
    inner_type = _convert_potential_type(root, the_dict[key], stack)
    if not inner_type:
        raise DagsterInvalidConfigDefinitionError(
            root,
            the_dict,
            stack,
            f"Map must have a single value and contain a valid type i.e. {{str: int}}. Got item {the_dict[key]!r}",
        )
    return Map(key_type, inner_type)


def _convert_potential_type(root: object, potential: object, stack: list[str]) -> Any:
    if isinstance(potential, Mapping):
        # a one-entry dict whose key is a type ({str: int}) is a Map; any other dict is a Shape
        if len(potential) == 1:
            key = next(iter(potential))
            if not isinstance(key, str) and resolve_to_config_type(key):
                return _expand_map(root, potential, stack)
        return Shape(_expand_fields_dict(root, potential, stack))
    if isinstance(potential, list):
        return _expand_list(root, potential, stack)
    return resolve_to_config_type(potential)


def _convert_potential_field(root: object, potential: object, stack: list[str]) -> Field:
    if potential is None:
        raise DagsterInvalidConfigDefinitionError(root, potential, stack, "Fields cannot be None")
    if isinstance(potential, Field):
        return potential
    config_field = _config_class_schema(potential)
    if config_field is not None:
        return config_field
    config_type = _convert_potential_type(root, potential, stack)
    if not config_type:
        raise DagsterInvalidConfigDefinitionError(root, potential, stack)
    return Field(config_type)


def convert_potential_field(potential_field: object) -> Field:
    """Resolve any config schema a user may write (a Field, a dict, `[x]`, `int`, `dg.Int`, a config
    type or a `Config` subclass) to a Field. Raises DagsterInvalidConfigDefinitionError naming the
    path of the bad entry.
    """
    return _convert_potential_field(potential_field, potential_field, [])


def is_potential_field(obj: object) -> bool:
    return isinstance(obj, (Field, Mapping, list)) or bool(resolve_to_config_type(obj))
