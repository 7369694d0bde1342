"""Config types: scalars, Any, Array, Noneable, Enum, ScalarUnion, Map and the field-holding shapes.

A config type describes what a config value may look like. Each has a `kind` (how the validator
walks it), a stable `key` (identity in snapshots and JSON Schema `$defs`) and an optional
`post_process` that turns a valid value into the value user code sees.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestra._config.field import Field


class ConfigTypeKind(enum.Enum):
    ANY = "ANY"
    SCALAR = "SCALAR"
    ENUM = "ENUM"
    SELECTOR = "SELECTOR"
    STRICT_SHAPE = "STRICT_SHAPE"
    PERMISSIVE_SHAPE = "PERMISSIVE_SHAPE"
    SCALAR_UNION = "SCALAR_UNION"
    MAP = "MAP"
    ARRAY = "ARRAY"
    NONEABLE = "NONEABLE"

    @staticmethod
    def has_fields(kind: ConfigTypeKind) -> bool:
        return kind in (ConfigTypeKind.SELECTOR, ConfigTypeKind.STRICT_SHAPE, ConfigTypeKind.PERMISSIVE_SHAPE)

    @staticmethod
    def is_shape(kind: ConfigTypeKind) -> bool:
        return kind in (ConfigTypeKind.STRICT_SHAPE, ConfigTypeKind.PERMISSIVE_SHAPE)

    @staticmethod
    def is_selector(kind: ConfigTypeKind) -> bool:
        return kind == ConfigTypeKind.SELECTOR


class ConfigScalarKind(enum.Enum):
    INT = "INT"
    STRING = "STRING"
    FLOAT = "FLOAT"
    BOOL = "BOOL"


class PostProcessingError(Exception):
    """Raised by `ConfigType.post_process` when a structurally valid value cannot be used."""


class ConfigType:
    """Base of every config type; subclasses set `kind` and `key` and may override `post_process`."""

    def __init__(
        self,
        key: str,
        kind: ConfigTypeKind,
        given_name: str | None = None,
        description: str | None = None,
        type_params: Sequence[ConfigType] | None = None,
    ):
        self.key = key
        self.kind = kind
        self.given_name = given_name
        self._description = description
        self.type_params = list(type_params) if type_params else None

    @property
    def description(self) -> str | None:
        return self._description

    def post_process(self, value: Any) -> Any:
        """Turn a validated value into the value user code receives; raise PostProcessingError if unusable."""
        return value

    def type_iterator(self) -> Iterator[ConfigType]:
        """Yield every type this one is built from (inner types first), then itself."""
        yield self

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.key}>"


class ConfigScalar(ConfigType):
    """A scalar: Int, String, Bool or Float."""

    def __init__(self, name: str, scalar_kind: ConfigScalarKind):
        super().__init__(key=name, kind=ConfigTypeKind.SCALAR, given_name=name, description="")
        self.scalar_kind = scalar_kind

    def post_process(self, value: Any) -> Any:
        # Float accepts ints in config and hands user code a float, as Dagster does.
        return float(value) if self.scalar_kind is ConfigScalarKind.FLOAT else value


class ConfigAny(ConfigType):
    def __init__(self) -> None:
        super().__init__(key="Any", kind=ConfigTypeKind.ANY, given_name="Any")


ConfigIntInstance = ConfigScalar("Int", ConfigScalarKind.INT)
ConfigStringInstance = ConfigScalar("String", ConfigScalarKind.STRING)
ConfigBoolInstance = ConfigScalar("Bool", ConfigScalarKind.BOOL)
ConfigFloatInstance = ConfigScalar("Float", ConfigScalarKind.FLOAT)
ConfigAnyInstance = ConfigAny()


def _resolve_inner(obj: object) -> ConfigType:
    from orchestra._config.field import resolve_to_config_type_or_raise

    return resolve_to_config_type_or_raise(obj)


class Noneable(ConfigType):
    """A value of `inner_type`, or None; a field of this type is optional and defaults to None.

    Example:
        ```python
        @dg.op(config_schema={"name": dg.Noneable(str)})
        def greet(context): ...
        ```
    """

    def __init__(self, inner_type: object):
        self.inner_type = _resolve_inner(inner_type)
        super().__init__(
            key=f"Noneable.{self.inner_type.key}", kind=ConfigTypeKind.NONEABLE, type_params=[self.inner_type]
        )

    def type_iterator(self) -> Iterator[ConfigType]:
        yield from self.inner_type.type_iterator()
        yield self


class Array(ConfigType):
    """A list whose items are all of `inner_type`.

    Example:
        ```python
        @dg.op(config_schema={"names": dg.Array(str)})  # same as {"names": [str]}
        def greet(context): ...
        ```
    """

    def __init__(self, inner_type: object):
        self.inner_type = _resolve_inner(inner_type)
        super().__init__(
            key=f"Array.{self.inner_type.key}", kind=ConfigTypeKind.ARRAY, type_params=[self.inner_type]
        )

    @property
    def description(self) -> str:
        return f"List of {self.key}"

    def type_iterator(self) -> Iterator[ConfigType]:
        yield from self.inner_type.type_iterator()
        yield self


class EnumValue:
    """One allowed value of an `Enum`: the string accepted in config and the python value it maps to.

    Example:
        ```python
        dg.Enum("Size", [dg.EnumValue("small", python_value=1), dg.EnumValue("large", python_value=10)])
        ```
    """

    def __init__(self, config_value: str, python_value: object | None = None, description: str | None = None):
        if not isinstance(config_value, str):
            raise TypeError(f'Param "config_value" is not a str. Got {config_value!r} which is type {type(config_value)}.')
        self.config_value = config_value
        self.python_value = config_value if python_value is None else python_value
        self.description = description


class Enum(ConfigType):
    """One of a fixed set of strings; user code receives each value's `python_value`.

    Example:
        ```python
        class Color(enum.Enum):
            RED = 1
            BLUE = 2

        @dg.op(config_schema={"color": dg.Enum.from_python_enum(Color)})
        def paint(context):
            assert context.op_config["color"] is Color.RED  # run config said "RED"
        ```
    """

    def __init__(self, name: str, enum_values: Sequence[EnumValue]):
        values = list(enum_values)
        for value in values:
            if not isinstance(value, EnumValue):
                raise TypeError(f"Enum {name!r} expects EnumValue instances, got {value!r}.")
        self.enum_values = values
        super().__init__(key=name, kind=ConfigTypeKind.ENUM, given_name=name)

    @property
    def config_values(self) -> list[str]:
        return [ev.config_value for ev in self.enum_values]

    def is_valid_config_enum_value(self, config_value: object) -> bool:
        return config_value in self.config_values

    def post_process(self, value: Any) -> Any:
        if isinstance(value, enum.Enum):
            value = value.name
        for ev in self.enum_values:
            if ev.config_value == value:
                return ev.python_value
        raise PostProcessingError(f"{value!r} is not a value of enum {self.given_name}")

    def to_python_value(self, config_value: str) -> Any:
        return self.post_process(config_value)

    @classmethod
    def from_python_enum(cls, enum: type[enum.Enum], name: str | None = None) -> Enum:
        """A config enum over the member names of a python enum; user code gets the members."""
        return cls(name or enum.__name__, [EnumValue(member.name, python_value=member) for member in enum])

    @classmethod
    def from_python_enum_direct_values(cls, enum: type[enum.Enum], name: str | None = None) -> Enum:
        """Like `from_python_enum`, but user code gets each member's `.value`."""
        return cls(name or enum.__name__, [EnumValue(member.name, python_value=member.value) for member in enum])


class ScalarUnion(ConfigType):
    """Either a scalar of `scalar_type` or a value matching `non_scalar_schema` (a dict or list).

    Example:
        ```python
        dg.ScalarUnion(scalar_type=str, non_scalar_schema={"path": str})
        ```
    """

    def __init__(self, scalar_type: object, non_scalar_schema: object, _key: str | None = None):
        from orchestra._config.field import resolve_to_config_type_or_raise

        self.scalar_type = resolve_to_config_type_or_raise(scalar_type)
        self.non_scalar_type = resolve_to_config_type_or_raise(non_scalar_schema)
        if self.scalar_type.kind is not ConfigTypeKind.SCALAR:
            raise TypeError(f"ScalarUnion scalar_type must be a scalar, got {self.scalar_type.key}.")
        key = _key or f"ScalarUnion.{self.scalar_type.key}-{self.non_scalar_type.key}"
        super().__init__(
            key=key, kind=ConfigTypeKind.SCALAR_UNION, type_params=[self.scalar_type, self.non_scalar_type]
        )

    def type_iterator(self) -> Iterator[ConfigType]:
        yield from self.scalar_type.type_iterator()
        yield from self.non_scalar_type.type_iterator()
        yield self


class Map(ConfigType):
    """A dict with arbitrary keys of scalar `key_type` and values of `inner_type`.

    Example:
        ```python
        @dg.op(config_schema=dg.Field(dg.Map(str, int)))  # same as {str: int}
        def count(context): ...
        ```
    """

    def __init__(self, key_type: object, inner_type: object, key_label_name: str | None = None):
        self.key_type = _resolve_inner(key_type)
        self.inner_type = _resolve_inner(inner_type)
        if self.key_type.kind is not ConfigTypeKind.SCALAR:
            raise TypeError(f"Map key_type must be a scalar, got {self.key_type.key}.")
        suffix = f":name: {key_label_name}" if key_label_name else ""
        super().__init__(
            key=f"Map.{self.key_type.key}.{self.inner_type.key}{suffix}",
            kind=ConfigTypeKind.MAP,
            given_name=key_label_name,  # Dagster keeps the key label in given_name too
            type_params=[self.key_type, self.inner_type],
        )

    @property
    def key_label_name(self) -> str | None:
        return self.given_name

    def type_iterator(self) -> Iterator[ConfigType]:
        yield from self.key_type.type_iterator()
        yield from self.inner_type.type_iterator()
        yield self


def _stable_repr(value: object) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):  # e.g. a Map default with int and str keys
        return repr(value)


def _field_key_part(field: Field) -> bytes:
    """What a field adds to its shape's key after its name, computed once per Field.

    A Field does not change once built, and a location's jobs share their ops' fields: each job's
    run-config schema otherwise re-encoded every op's default value.
    """
    part = field._key_part
    if part is None:
        text = f":type_key: {field.config_type.key}:is_required: {field.is_required}"
        if field.default_provided:
            text += f":default_value: {_stable_repr(field.default_value)}"
        if field.description:
            text += f":description: {field.description}"
        part = field._key_part = text.encode()
    return part


def _fields_key(prefix: str, fields: Mapping[str, Field], description: str | None, aliases: Mapping[str, str]) -> str:
    digest = hashlib.sha1()
    if description:
        digest.update(f":description: {description}".encode())
    parts = []  # hashed in one call: a 2,000-op job's `ops` shape has 2,000 fields
    for name in sorted(fields):
        field = fields[name]
        parts.append(f":fieldname:{name}".encode())
        parts.append(field._key_part or _field_key_part(field))
    digest.update(b"".join(parts))
    for name in sorted(aliases):
        digest.update(f":fieldname: {name}:fieldalias: {aliases[name]}".encode())
    return f"{prefix}.{digest.hexdigest()}"


class _ConfigHasFields(ConfigType):
    _kind: ConfigTypeKind

    def __init__(
        self,
        fields: Mapping[str, object] | None,
        description: str | None = None,
        field_aliases: Mapping[str, str] | None = None,
    ):
        from orchestra._config.field import expand_fields_dict

        self.fields: dict[str, Field] = expand_fields_dict(fields or {})
        self.field_aliases: dict[str, str] = dict(field_aliases or {})
        super().__init__(
            key=_fields_key(type(self).__name__, self.fields, description, self.field_aliases),
            kind=self._kind,
            description=description,
        )

    def type_iterator(self) -> Iterator[ConfigType]:
        for field in self.fields.values():
            yield from field.config_type.type_iterator()
        yield self


class Shape(_ConfigHasFields):
    """A dict with a fixed set of fields; unknown keys are errors. A plain dict in a schema means Shape.

    Example:
        ```python
        @dg.op(config_schema=dg.Shape({"word": str, "times": dg.Field(int, default_value=1)}))
        def repeat(context): ...
        ```
    """

    _kind = ConfigTypeKind.STRICT_SHAPE

    def __init__(
        self,
        fields: Mapping[str, object],
        description: str | None = None,
        field_aliases: Mapping[str, str] | None = None,
    ):
        super().__init__(fields, description, field_aliases)


class Permissive(_ConfigHasFields):
    """Like Shape, but keys that are not declared are accepted and passed through unchecked.

    Example:
        ```python
        @dg.op(config_schema=dg.Permissive({"required": str}))
        def anything(context): ...
        ```
    """

    _kind = ConfigTypeKind.PERMISSIVE_SHAPE

    def __init__(self, fields: Mapping[str, object] | None = None, description: str | None = None):
        super().__init__(fields, description)


class Selector(_ConfigHasFields):
    """A dict in which exactly one of the declared fields is given.

    Example:
        ```python
        @dg.op(config_schema=dg.Selector({"csv": {"path": str}, "parquet": {"path": str}}))
        def load(context): ...
        ```
    """

    _kind = ConfigTypeKind.SELECTOR

    def __init__(self, fields: Mapping[str, object], description: str | None = None):
        super().__init__(fields, description)
