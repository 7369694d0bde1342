"""Pythonic config: `Config` / `PermissiveConfig` (pydantic v2 models) and their translation to config schemas.

This is the only module of the config system that imports pydantic; `orchestra` loads it on first
use of `dg.Config`. The execution core calls `infer_schema_from_config_class(cls)` to get a schema
and `config_from_processed(cls, processed)` to build the instance user code receives.
"""

from __future__ import annotations

import enum
import inspect
import typing
from collections.abc import Mapping
from types import UnionType
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from orchestra._config.env_var import EnvVar, IntEnvVar, env_var_to_config_dict
from orchestra._config.field import FIELD_NO_DEFAULT_PROVIDED, Field, convert_potential_field
from orchestra._config.sources import BoolSource, IntSource, StringSource
from orchestra._config.types import (
    Array,
    ConfigAnyInstance,
    ConfigType,
    Enum,
    EnumValue,
    Map,
    Noneable,
    Permissive,
    Selector,
    Shape,
)
from orchestra._errors import (
    DagsterInvalidConfigDefinitionError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvalidPythonicConfigDefinitionError,
)

_UNION_ORIGINS = (typing.Union, UnionType)


def _is_subclass(obj: object, parent: type) -> bool:
    try:
        return isinstance(obj, type) and issubclass(obj, parent)
    except TypeError:
        return False


def _is_optional(annotation: Any) -> bool:
    return get_origin(annotation) in _UNION_ORIGINS and type(None) in get_args(annotation)


def _strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


class Config(BaseModel):
    """Base class for op, asset and resource config written as a pydantic model.

    Fields may be int, str, float, bool, lists, dicts, Optional, Literal, python Enums, nested
    `Config` classes and discriminated unions of `Config` classes; `pydantic.Field(description=...)`
    and defaults carry over to the config schema. Instances are immutable.

    Example:
        ```python
        class MyAssetConfig(dg.Config):
            my_str: str = "my_default_string"
            my_int_list: list[int]
            flag: bool = pydantic.Field(default=False, description="A bool field")

        @dg.asset
        def asset_with_config(config: MyAssetConfig):
            assert config.my_str == "my_default_string"
        ```
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    def __init__(self, **config_dict: Any) -> None:
        fields = type(self).model_fields
        by_config_key = {(info.alias or key): (key, info) for key, info in fields.items()}
        data: dict[str, Any] = {}
        for config_key, value in config_dict.items():
            key, info = by_config_key.get(config_key, (config_key, None))
            data[config_key] = _remap_input_value(info, value) if info is not None else value
        for key, info in fields.items():
            config_key = info.alias or key
            # Dagster treats required-but-Optional fields as optional: absent means None.
            if info.is_required() and config_key not in data:
                data[config_key] = None
        super().__init__(**data)
        # pydantic turns EnvVar/IntEnvVar into plain str/int; keep the references so run config can
        # be rebuilt from this instance.
        by_field_key = {by_config_key.get(k, (k, None))[0]: v for k, v in data.items()}
        _restore_env_vars(self.__dict__, by_field_key)
        if type(self).model_config.get("extra") == "allow":
            for key, value in by_field_key.items():
                if key not in fields:
                    object.__setattr__(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.endswith("__internal__"):
            object.__setattr__(self, name, value)
            return
        try:
            super().__setattr__(name, value)
        except (TypeError, ValueError) as exc:
            cls_name = type(self).__name__
            if "frozen" in str(exc):
                raise DagsterInvalidInvocationError(
                    f"'{cls_name}' is a Pythonic config class and does not support item assignment, as it "
                    "inherits from 'pydantic.BaseModel' with frozen=True."
                ) from exc
            if "object has no field" in str(exc):
                raise DagsterInvalidInvocationError(
                    f"'{cls_name}' is a Pythonic config class and does not support manipulating undeclared "
                    f"attribute '{name}' as it inherits from 'pydantic.BaseModel' without extra=\"allow\"."
                ) from exc
            raise

    @classmethod
    def _is_resource_field(cls, name: str, info: FieldInfo) -> bool:
        """Fields the config schema leaves out (resource dependencies); resources override this."""
        return False

    @classmethod
    def _non_default_values(cls, items: Mapping[str, Any], keep_if_not_none: bool = False) -> dict[str, Any]:
        fields = cls.model_fields
        output: dict[str, Any] = {}
        for key, value in items.items():
            if key.endswith("__internal__"):
                continue
            info = fields.get(key)
            if info is None:
                output[key] = value
                continue
            keep = keep_if_not_none and value is not None
            annotation = info.annotation
            if not keep and get_origin(annotation) is not Literal and not _is_subclass(annotation, enum.Enum):
                if value == info.default:
                    continue
            output[info.alias or key] = value
        return output

    def _get_non_default_public_field_values(self, keep_if_not_none: bool = False) -> dict[str, Any]:
        return type(self)._non_default_values(dict(self), keep_if_not_none)

    def _convert_to_config_dictionary(self) -> dict[str, Any]:
        """This instance as run config: nested configs as dicts, EnvVars as `{"env": NAME}`, enums by name."""
        fields = type(self).model_fields
        by_alias = {(info.alias or key): info for key, info in fields.items()}
        return {
            key: config_value_to_dict(by_alias.get(key), value)
            for key, value in self._get_non_default_public_field_values(keep_if_not_none=True).items()
        }

    @classmethod
    def to_config_schema(cls) -> Any:
        from orchestra._config.mapping import DefinitionConfigSchema

        return DefinitionConfigSchema(infer_schema_from_config_class(cls))

    @classmethod
    def to_fields_dict(cls) -> dict[str, Field]:
        return dict(infer_schema_from_config_class(cls).config_type.fields)  # type: ignore[attr-defined]


class PermissiveConfig(Config):
    """A `Config` that also accepts keys it does not declare (kept as attributes and in `model_dump`).

    Example:
        ```python
        class Loose(dg.PermissiveConfig):
            known: bool

        @dg.op
        def my_op(config: Loose):
            assert config.dict().get("unknown") == "bar"
        ```
    """

    model_config = ConfigDict(extra="allow")


def _remap_input_value(info: FieldInfo, value: Any) -> Any:
    annotation = _strip_annotated(info.annotation)
    if info.discriminator and isinstance(info.discriminator, str):
        nested = value
        if isinstance(value, Config):
            nested = _to_selector_dict(info.discriminator, value._get_non_default_public_field_values())
        if isinstance(nested, dict) and len(nested) == 1:
            (tag, inner), = nested.items()
            if isinstance(inner, dict):
                return {**inner, info.discriminator: tag}
        return value
    if _is_subclass(annotation, enum.Enum) and isinstance(value, str):
        members = annotation.__members__
        if value in members and value not in [m.value for m in annotation]:
            return members[value].value
        return value
    return _build_nested(annotation, value)


def _build_nested(annotation: Any, value: Any) -> Any:
    """Build nested Config instances from dicts so their own remapping (unions, enums) runs too."""
    annotation = _strip_annotated(annotation)
    if _is_subclass(annotation, Config) and isinstance(value, dict):
        try:
            return annotation(**value)
        except ValidationError:
            return value  # let the outer model report the error at its full path, as Dagster does
    origin = get_origin(annotation)
    if origin in _UNION_ORIGINS:
        non_none = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(non_none) == 1:
            return _build_nested(non_none[0], value)
        return value
    if _is_subclass(origin, list) and isinstance(value, list):
        (inner,) = get_args(annotation) or (Any,)
        return [_build_nested(inner, item) for item in value]
    if (_is_subclass(origin, dict) or origin is Mapping) and isinstance(value, dict):
        args = get_args(annotation)
        inner = args[1] if len(args) == 2 else Any
        return {key: _build_nested(inner, item) for key, item in value.items()}
    return value


def _restore_env_vars(target: Any, given: Any) -> None:
    if isinstance(target, dict) and isinstance(given, dict):
        for key, value in given.items():
            if isinstance(value, (EnvVar, IntEnvVar)):
                target[key] = value
            elif isinstance(value, (dict, list)) and isinstance(target.get(key), (dict, list)):
                _restore_env_vars(target[key], value)
    elif isinstance(target, list) and isinstance(given, list):
        for index, value in enumerate(given[: len(target)]):
            if isinstance(value, (EnvVar, IntEnvVar)):
                target[index] = value
            elif isinstance(value, (dict, list)):
                _restore_env_vars(target[index], value)


def _to_selector_dict(discriminator: str, values: Mapping[str, Any]) -> dict[str, Any]:
    rest = dict(values)
    tag = rest.pop(discriminator)
    return {tag: rest}


def config_value_to_dict(info: FieldInfo | None, value: Any) -> Any:
    """The run-config form of a value held by a Config instance."""
    if isinstance(value, dict):
        return {key: config_value_to_dict(None, item) for key, item in value.items()}
    if isinstance(value, list):
        return [config_value_to_dict(None, item) for item in value]
    if isinstance(value, (EnvVar, IntEnvVar)):
        return env_var_to_config_dict(value)
    if isinstance(value, Config):
        as_dict = value._convert_to_config_dictionary()
        if info is not None and isinstance(info.discriminator, str):
            return _to_selector_dict(info.discriminator, as_dict)
        return as_dict
    if isinstance(value, enum.Enum):
        return value.name
    return value


# --- schema inference ------------------------------------------------------------------------------------


def infer_schema_from_config_class(
    model_cls: type[Config],
    description: str | None = None,
    fields_to_omit: set[str] | None = None,
    default: Mapping[str, Any] | None = None,
) -> Field:
    """The config Field (a Shape, or Permissive for PermissiveConfig) describing `model_cls`."""
    if not _is_subclass(model_cls, Config):
        raise DagsterInvalidDefinitionError("Config type annotation must inherit from dagster.Config")
    omit = fields_to_omit or set()
    fields: dict[str, Field] = {}
    for key, info in model_cls.model_fields.items():
        if key in omit or model_cls._is_resource_field(key, info):
            continue
        if isinstance(info.default, Field):
            raise DagsterInvalidDefinitionError(
                "Using 'dagster.Field' is not supported within a Pythonic config or resource definition. "
                "'dagster.Field' should only be used in legacy Dagster config schemas. Did you mean to use "
                "'pydantic.Field' instead?"
            )
        name = info.alias or key
        field_default = default.get(name) if isinstance(default, dict) else None
        try:
            fields[name] = _convert_pydantic_field(info, field_default)
        except (DagsterInvalidConfigDefinitionError, DagsterInvalidDefinitionError) as exc:
            raise DagsterInvalidPythonicConfigDefinitionError(
                config_class=model_cls,
                field_name=key,
                invalid_type=getattr(exc, "current_value", info.annotation),
                is_resource=getattr(model_cls, "_is_resource_class", False),
            ) from exc
    shape_cls = Permissive if model_cls.model_config.get("extra") == "allow" else Shape
    docstring = inspect.cleandoc(model_cls.__doc__) if model_cls.__doc__ else None
    if model_cls.__doc__ in (Config.__doc__, PermissiveConfig.__doc__):
        docstring = None
    return Field(shape_cls(fields), description=description or docstring)


def _convert_pydantic_field(info: FieldInfo, default: Any = None) -> Field:
    annotation = info.annotation
    if info.discriminator:
        return _discriminated_union_field(info)
    if get_origin(_strip_annotated(annotation)) is Literal:
        return _literal_field(info)
    if _is_subclass(annotation, Config):
        nested_default = None
        if isinstance(info.default, Config):
            nested_default = info.default._get_non_default_public_field_values()
        return infer_schema_from_config_class(annotation, description=info.description, default=nested_default)
    field_type = annotation
    if not info.is_required() and not _is_optional(field_type):
        field_type = typing.Optional[field_type]  # noqa: UP045 - a runtime type, built dynamically
    config_type = config_type_for_annotation(field_type)
    if default is not None:
        default_value = default
    elif info.default is not PydanticUndefined:
        default_value = info.default
    else:
        default_value = FIELD_NO_DEFAULT_PROVIDED
    if isinstance(default_value, enum.Enum):
        default_value = default_value.name
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return Field(
        config_type,
        description=info.description,
        is_required=info.is_required() and not _is_optional(field_type) and default_value is FIELD_NO_DEFAULT_PROVIDED,
        default_value=default_value,
        is_secret=bool(extra.get("dagster__is_secret", False)),
    )


def config_type_for_annotation(annotation: Any) -> ConfigType:
    """The config type for a python annotation on a Config field (str -> StringSource, ...)."""
    annotation = _strip_annotated(annotation)
    origin = get_origin(annotation)
    if _is_subclass(origin, list):
        (inner,) = get_args(annotation) or (Any,)
        return Array(config_type_for_annotation(inner))
    if _is_optional(annotation):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(inner) != 1:
            raise DagsterInvalidDefinitionError(f"Unions other than Optional[X] are not config types: {annotation!r}")
        return Noneable(config_type_for_annotation(inner[0]))
    if _is_subclass(origin, dict) or origin is Mapping:
        key_type, value_type = get_args(annotation)
        return Map(key_type, config_type_for_annotation(value_type))
    if _is_subclass(annotation, Config):
        return infer_schema_from_config_class(annotation).config_type
    if _is_subclass(annotation, enum.Enum):
        return Enum.from_python_enum_direct_values(annotation)
    if annotation is str:
        return StringSource
    if annotation is int:
        return IntSource
    if annotation is bool:
        return BoolSource
    if annotation is Any:
        return ConfigAnyInstance
    return convert_potential_field(annotation).config_type


def _discriminated_union_field(info: FieldInfo) -> Field:
    annotation = _strip_annotated(info.annotation)
    discriminator = info.discriminator
    if get_origin(annotation) not in _UNION_ORIGINS:
        raise DagsterInvalidDefinitionError("Discriminated union must be a Union type.")
    members = get_args(annotation)
    if not all(_is_subclass(member, Config) for member in members):
        raise NotImplementedError("Discriminated unions with non-Config types are not supported.")
    branches: dict[str, Field] = {}
    for member in members:
        tag_annotation = member.model_fields[discriminator].annotation  # type: ignore[index]
        for tag in get_args(tag_annotation):
            branches[tag] = infer_schema_from_config_class(member, fields_to_omit={discriminator})  # type: ignore[arg-type]
    default = info.default
    if default is PydanticUndefined and info.default_factory is not None:
        default = info.default_factory()  # type: ignore[call-arg]
    default_value = (
        config_value_to_dict(info, default)
        if default is not PydanticUndefined and default is not None
        else FIELD_NO_DEFAULT_PROVIDED
    )
    return Field(
        Selector(branches), description=info.description, is_required=info.is_required(), default_value=default_value
    )


def _literal_field(info: FieldInfo) -> Field:
    annotation = _strip_annotated(info.annotation)
    values = get_args(annotation)
    default_value = info.default if info.default is not PydanticUndefined else FIELD_NO_DEFAULT_PROVIDED
    return Field(
        Enum(str(annotation).removeprefix("typing."), [EnumValue(value) for value in values]),
        description=info.description,
        is_required=info.is_required(),
        default_value=default_value,
    )


def infer_schema_from_config_annotation(model_cls: Any, config_arg_default: Any) -> Field:
    """The schema for an op/asset `config` parameter annotated with a Config class or a plain type."""
    if _is_subclass(model_cls, Config):
        if config_arg_default is not inspect.Parameter.empty:
            raise DagsterInvalidDefinitionError("Cannot provide a default value when using a Config class")
        return infer_schema_from_config_class(model_cls)
    return Field(
        config_type_for_annotation(model_cls),
        default_value=FIELD_NO_DEFAULT_PROVIDED if config_arg_default is inspect.Parameter.empty else config_arg_default,
    )


def config_from_processed(config_cls: type[Config], processed: Mapping[str, Any] | None) -> Config:
    """The instance user code receives, built from validated and processed config for `config_cls`."""
    return config_cls(**dict(processed or {}))
