"""Declaring config schemas: Field semantics, shorthand resolution and definition errors."""

from __future__ import annotations

import enum
import subprocess
import sys
import typing

import pytest

import orchestra as dg
from orchestra._config import ConfigTypeKind, convert_potential_field
from orchestra._config.errors import print_config_type


def kind_of(schema):
    return convert_potential_field(schema).config_type.kind


def test_shorthand_resolves_dicts_lists_builtins_and_markers():
    assert kind_of({"a": int}) is ConfigTypeKind.STRICT_SHAPE
    assert kind_of([str]) is ConfigTypeKind.ARRAY
    assert kind_of({str: int}) is ConfigTypeKind.MAP
    assert kind_of(dict) is ConfigTypeKind.PERMISSIVE_SHAPE
    assert kind_of(list) is ConfigTypeKind.ARRAY
    for python_type, marker in ((int, dg.Int), (str, dg.String), (bool, dg.Bool), (float, dg.Float)):
        assert convert_potential_field(python_type).config_type is convert_potential_field(marker).config_type
    assert kind_of(dg.Any) is ConfigTypeKind.ANY
    assert dg.Field(None).config_type.kind is ConfigTypeKind.ANY


def test_a_field_passes_through_convert_potential_field_unchanged():
    field = dg.Field(int, default_value=3)
    assert convert_potential_field(field) is field


def test_field_required_is_inferred_from_default_and_type():
    assert dg.Field(int).is_required
    assert not dg.Field(int, default_value=1).is_required
    assert not dg.Field(int, is_required=False).default_provided
    all_optional = dg.Field({"a": dg.Field(int, is_required=False)})
    assert not all_optional.is_required and all_optional.default_value == {}
    assert dg.Field(dg.Noneable(int)).default_value is None
    assert dg.Field(dg.Selector({"a": dg.Field(int, default_value=1)})).default_value == {"a": 1}
    assert dg.Field(dg.Selector({"a": dg.Field(int, default_value=1), "b": dg.Field(int, default_value=2)})).is_required


def test_implicit_defaults_of_nested_shapes_are_filled():
    field = dg.Field({"outer": {"inner": dg.Field(int, default_value=5)}})
    assert field.default_value == {"outer": {"inner": 5}}


def test_field_rejects_required_with_default_and_callable_default():
    with pytest.raises(dg.DagsterError, match="required arguments should not specify default values"):
        dg.Field(int, default_value=1, is_required=True)
    with pytest.raises(dg.DagsterError, match="default_value cannot be a callable"):
        dg.Field(int, default_value=lambda: 1)


def test_field_default_must_match_schema():
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        dg.Field(int, default_value="x")
    assert str(info.value) == (
        "Invalid default_value for Field. Ensure all required config entries are provided and all values match "
        'the expected types.\n    Error 1: Invalid scalar at the root. Value "x" of type "<class \'str\'>" is not '
        'valid for expected type "Int".'
    )


class Color(enum.Enum):
    RED = 1


def test_enum_default_must_be_the_config_string():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"One of \['RED'\]"):
        dg.Field(dg.Enum.from_python_enum(Color), default_value=Color.RED)
    assert dg.Field(dg.Enum.from_python_enum(Color), default_value="RED").default_value == "RED"


def test_asking_for_a_missing_default_raises():
    with pytest.raises(dg.DagsterError, match="Asking for default value when none was provided"):
        dg.Field(int).default_value  # noqa: B018


def test_bad_schema_errors_name_the_path():
    with pytest.raises(dg.DagsterInvalidConfigDefinitionError) as info:
        convert_potential_field({"a": {"b": object()}})
    assert "Error at stack path :a:b." in str(info.value)
    assert info.value.stack == ["a", "b"]
    with pytest.raises(dg.DagsterInvalidConfigDefinitionError, match="Reason: List must be of length 1."):
        convert_potential_field([int, str])
    with pytest.raises(dg.DagsterInvalidConfigDefinitionError, match="Map dict must have a scalar type as its only key"):
        convert_potential_field({"a": {dg.Shape({}): int}})


def test_field_with_non_config_value_is_a_definition_error():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="to a Field that expects a valid dagster type"):
        dg.Field(object())


def test_config_type_class_instead_of_instance_is_explained():
    with pytest.raises(dg.DagsterError, match=r'"Noneable\(Permissive\)" should instead be "Noneable\(Permissive\(\)\)"'):
        dg.Noneable(dg.Permissive)


def test_typing_module_types_are_rejected_with_guidance():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Cannot use typing.Optional as a config type"):
        dg.Field(typing.Optional[int])  # noqa: UP045 - typing.Optional is the point of the test
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Cannot use typing.Optional as a config type"):
        dg.Field(int | None)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Types from the typing module"):
        dg.Field(typing.List[int])  # noqa: UP006 - the typing alias is the point of the test


def test_type_printer_matches_dagster_layout():
    config_type = convert_potential_field(
        {"a": int, "n": dg.Noneable({"z": bool}), "s": dg.StringSource, "m": dg.Map(str, int, key_label_name="k")}
    ).config_type
    assert print_config_type(config_type, with_lines=False) == (
        "{ a: Int m: { [k: String]: Int } n?: { z: Bool }? s: (String | { env: String }) }"
    )
    assert print_config_type(config_type) == (
        "{\n  a: Int\n  m: {\n    [k: String]: Int\n  }\n  n?: {\n    z: Bool\n  }?\n"
        "  s: (String | {\n    env: String\n  })\n}"
    )


def test_config_type_keys_are_stable_and_content_addressed():
    assert dg.Shape({"a": int}).key == dg.Shape({"a": int}).key
    assert dg.Shape({"a": int}).key != dg.Shape({"a": str}).key
    assert dg.Array(int).key == "Array.Int"
    assert dg.Noneable(dg.Array(str)).key == "Noneable.Array.String"
    assert dg.Array(int).description == "List of Array.Int"


def test_enum_helpers_build_values_from_python_enums():
    config_enum = dg.Enum.from_python_enum(Color)
    assert config_enum.given_name == "Color"
    assert [(v.config_value, v.python_value) for v in config_enum.enum_values] == [("RED", Color.RED)]
    assert dg.EnumValue("x").python_value == "x"
    with pytest.raises(TypeError, match='Param "config_value" is not a str'):
        dg.EnumValue(1)


def test_importing_the_sdk_and_legacy_config_pulls_in_no_pydantic_or_django():
    code = (
        "import sys, orchestra as dg\n"
        "dg.Field({'a': dg.StringSource}); dg.RunConfig(); dg.EnvVar('X'); dg.MetadataValue.text('t')\n"
        "from orchestra._config import validate_config; validate_config({'a': int}, {'a': 1})\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pydantic', 'django', 'yaml')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
