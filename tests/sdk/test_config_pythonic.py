"""Pythonic config: Config classes to schemas, processed config back to instances, RunConfig, EnvVar."""

from __future__ import annotations

import enum
from typing import Literal, Optional, Union

import pydantic
import pytest

import orchestra as dg
from orchestra._config import validate_config
from orchestra._config.errors import print_config_type
from orchestra._config.pythonic import config_from_processed, infer_schema_from_config_class


class Color(enum.Enum):
    RED = "r"
    BLUE = "b"


class Inner(dg.Config):
    x: int = 1
    y: str


class Cat(dg.Config):
    pet_type: Literal["cat"]
    meows: int


class Dog(dg.Config):
    pet_type: Literal["dog"]
    barks: float = 1.0


class Everything(dg.Config):
    """Config with one field of each kind."""

    a: int
    b: str = "d"
    c: float | None = None
    d: list[int] = pydantic.Field(default_factory=list, description="ints")
    e: dict[str, int] = {}
    f: Literal["x", "y"] = "x"
    g: Color = Color.RED
    h: Inner
    i: Union[Cat, Dog] = pydantic.Field(discriminator="pet_type")
    k: bool = False
    items: list[Inner] = []


def schema_of(cls):
    return infer_schema_from_config_class(cls)


def run(cls, value):
    result = validate_config(schema_of(cls), value)
    assert result.success, [e.message for e in result.errors]
    return config_from_processed(cls, result.value)


def test_schema_is_inferred_with_sources_unions_as_selectors_and_literals_as_enums():
    assert print_config_type(schema_of(Everything).config_type, with_lines=False) == (
        "{ a: (Int | { env: String }) b?: (String | { env: String })? c?: Float? d?: [(Int | { env: String })]? "
        "e?: { [String]: (Int | { env: String }) }? f?: Literal['x', 'y'] g?: Color? "
        "h: { x?: (Int | { env: String })? y: (String | { env: String }) } "
        "i: { cat: { meows: (Int | { env: String }) } dog?: { barks?: Float? } } "
        "items?: [{ x?: (Int | { env: String })? y: (String | { env: String }) }]? k?: (Bool | { env: String })? }"
    )


def test_schema_carries_defaults_descriptions_and_docstring():
    field = schema_of(Everything)
    fields = field.config_type.fields
    assert field.description == "Config with one field of each kind."
    assert fields["a"].is_required and not fields["b"].is_required
    assert fields["b"].default_value == "d"
    assert fields["d"].description == "ints" and not fields["d"].default_provided
    assert fields["g"].default_value == "RED"
    assert fields["f"].default_value == "x"


def test_processed_config_builds_instances_with_nested_configs_enums_and_unions():
    config = run(Everything, {"a": 1, "h": {"y": "s"}, "i": {"cat": {"meows": 2}}, "g": "BLUE", "items": [{"y": "q"}]})
    assert isinstance(config, Everything)
    assert config.a == 1 and config.b == "d" and config.c is None
    assert config.h == Inner(x=1, y="s")
    assert config.i == Cat(pet_type="cat", meows=2)
    assert config.g is Color.BLUE
    assert config.items == [Inner(x=1, y="q")]


def test_missing_required_fields_are_config_errors_before_any_instance_exists():
    result = validate_config(schema_of(Everything), {"h": {}, "i": {}})
    assert [e.message for e in result.errors] == [
        'Missing required config entry "a" at the root. You must provide this value in your run config. '
        "Example config for the missing entry: {'a': 0}",
        'Missing required config entry "y" at path root:h. You must provide this value in your run config. '
        "Example config for the missing entry: {'y': '...'}",
        "Must specify a field at path root:i if more than one field is defined. Defined fields: ['cat', 'dog']",
    ]


def test_env_var_fields_read_the_environment_at_processing_time(monkeypatch):
    monkeypatch.setenv("ORCH_PY_NAME", "from-env")
    config = run(Inner, {"y": {"env": "ORCH_PY_NAME"}})
    assert config.y == "from-env"


def test_env_var_in_an_instance_becomes_env_dict_in_run_config():
    config = Inner(y=dg.EnvVar("SECRET"))
    assert isinstance(config.y, dg.EnvVar)
    assert config._convert_to_config_dictionary() == {"x": 1, "y": {"env": "SECRET"}}


def test_env_var_is_a_str_that_refuses_to_be_read_directly(monkeypatch):
    monkeypatch.setenv("ORCH_PY_VAR", "v")
    var = dg.EnvVar("ORCH_PY_VAR")
    assert isinstance(var, str) and var.env_var_name == "ORCH_PY_VAR"
    assert var.get_value() == "v"
    assert dg.EnvVar("ORCH_PY_UNSET").get_value("fallback") == "fallback"
    with pytest.raises(RuntimeError, match=r'Attempted to directly retrieve environment variable EnvVar\("ORCH_PY_VAR"\)'):
        str(var)


def test_run_config_turns_config_instances_into_plain_dicts():
    run_config = dg.RunConfig(
        ops={"my_op": Everything(a=1, h=Inner(y="z"), i=Dog(pet_type="dog", barks=2))},
        resources={"db": Inner(y=dg.EnvVar("DB"))},
        loggers={"console": {"config": {"log_level": "DEBUG"}}},
    )
    as_dict = run_config.to_config_dict()
    assert as_dict["resources"] == {"db": {"config": {"x": 1, "y": {"env": "DB"}}}}
    assert as_dict["loggers"] == {"console": {"config": {"log_level": "DEBUG"}}}
    assert as_dict["execution"] == {}
    op_config = as_dict["ops"]["my_op"]["config"]
    assert op_config["i"] == {"dog": {"barks": 2.0}}
    assert op_config["g"] == "RED" and op_config["h"] == {"x": 1, "y": "z"}
    assert validate_config(schema_of(Everything), op_config).success
    same_ops = dg.RunConfig(ops={"my_op": Everything(a=1, h=Inner(y="z"), i=Dog(pet_type="dog", barks=2))})
    assert same_ops == dg.RunConfig(ops={"my_op": Everything(a=1, h=Inner(y="z"), i=Dog(pet_type="dog", barks=2))})
    assert same_ops != run_config


def test_run_config_nested_graph_ops_are_converted_too():
    as_dict = dg.RunConfig(ops={"graph": {"ops": {"inner_op": Inner(y="q")}}}).to_config_dict()
    assert as_dict["ops"] == {"graph": {"ops": {"inner_op": {"config": {"x": 1, "y": "q"}}}}}


def test_config_instances_are_frozen():
    config = Inner(y="a")
    with pytest.raises(dg.DagsterInvalidInvocationError, match="does not support item assignment"):
        config.y = "b"


def test_direct_construction_validates_types_with_pydantic():
    with pytest.raises(pydantic.ValidationError):
        Everything(a="not an int", h={"y": "s"}, i={"cat": {"meows": 1}})


class Loose(dg.PermissiveConfig):
    a: int


def test_permissive_config_keeps_unknown_keys():
    config = run(Loose, {"a": 1, "zz": [1]})
    assert config.zz == [1]
    assert config.model_dump() == {"a": 1, "zz": [1]}
    assert print_config_type(schema_of(Loose).config_type, with_lines=False) == "{ a: (Int | { env: String }) }"


class OptionalOnly(dg.Config):
    o: Optional[int]  # noqa: UP045 - typing.Optional, as users write it


def test_optional_without_default_is_optional_and_none():
    assert run(OptionalOnly, {}).o is None
    assert run(OptionalOnly, {"o": 3}).o == 3


class WithNestedDefault(dg.Config):
    inner: Inner = Inner(y="dflt", x=5)


def test_nested_config_default_instance_becomes_schema_default():
    field = schema_of(WithNestedDefault).config_type.fields["inner"]
    assert field.default_value == {"x": 5, "y": "dflt"}
    assert run(WithNestedDefault, {}).inner == Inner(x=5, y="dflt")


def test_unsupported_field_types_raise_pythonic_definition_error():
    class Bad(dg.Config):
        u: Union[int, str] = 1

    with pytest.raises(dg.DagsterError, match="Error defining Dagster config class .* on field 'u'"):
        schema_of(Bad)


def test_legacy_field_inside_config_class_is_rejected():
    class Mixed(dg.Config):
        a: int = dg.Field(int)

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Did you mean to use 'pydantic.Field' instead"):
        schema_of(Mixed)


def test_config_class_is_accepted_as_a_schema():
    from orchestra._config import convert_potential_field

    field = convert_potential_field(Inner)
    assert set(field.config_type.fields) == {"x", "y"}
    assert Inner.to_fields_dict().keys() == {"x", "y"}
