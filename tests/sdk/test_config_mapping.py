"""Config mappings, `configured`, definition config schemas and YAML run-config loading."""

from __future__ import annotations

import enum

import pytest

import orchestra as dg
from orchestra._config.mapping import (
    ConfiguredDefinitionConfigSchema,
    DefinitionConfigSchema,
    convert_user_facing_definition_config_schema,
)
from orchestra._config.validate import EvaluateValueResult, process_config


class Size(enum.Enum):
    SMALL = 1
    LARGE = 2


def test_config_mapping_validates_outer_config_and_maps_processed_values():
    @dg.config_mapping(config_schema={"size": dg.Enum.from_python_enum(Size), "n": dg.Field(int, default_value=2)})
    def mapping(val):
        return {"ops": {"o": {"config": {"size": val["size"], "n": val["n"]}}}}

    assert isinstance(mapping, dg.ConfigMapping)
    assert mapping.resolve_from_unvalidated_config({"size": "LARGE"}) == {
        "ops": {"o": {"config": {"size": Size.LARGE, "n": 2}}}
    }


def test_config_mapping_can_receive_raw_values_with_defaults():
    mapping = dg.ConfigMapping(
        config_fn=lambda val: val,
        config_schema={"size": dg.Enum.from_python_enum(Size), "n": dg.Field(int, default_value=2)},
        receive_processed_config_values=False,
    )
    assert mapping.resolve_from_unvalidated_config({"size": "LARGE"}) == {"size": "LARGE", "n": 2}


def test_config_mapping_rejects_invalid_outer_config():
    mapping = dg.ConfigMapping(config_fn=lambda val: val, config_schema={"n": int})
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        mapping.resolve_from_unvalidated_config({"n": "x"})
    assert str(info.value).startswith("Error in config mapping \n    Error 1: Invalid scalar at path root:n.")


def test_config_mapping_without_schema_accepts_anything():
    mapping = dg.config_mapping(lambda val: {"got": val})
    assert mapping.config_schema.config_type.kind.value == "ANY"
    assert mapping.resolve_from_unvalidated_config({"whatever": [1]}) == {"got": {"whatever": [1]}}


class Outer(dg.Config):
    word: str
    times: int = 2


class OpConfig(dg.Config):
    text: str


def test_config_mapping_with_config_class_infers_schema_and_accepts_run_config_result():
    @dg.config_mapping
    def mapping(config: Outer) -> dg.RunConfig:
        return dg.RunConfig(ops={"say": OpConfig(text=config.word * config.times)})

    assert set(mapping.config_schema.config_type.fields) == {"word", "times"}
    assert mapping.resolve_from_unvalidated_config({"word": "ab"}) == {
        "loggers": {},
        "resources": {},
        "ops": {"say": {"config": {"text": "abab"}}},
        "execution": {},
    }


def test_config_mapping_with_config_class_rejects_explicit_schema():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Cannot provide config_schema"):

        @dg.config_mapping(config_schema={"word": str})
        def mapping(config: Outer):
            return {}


def test_definition_config_schema_none_means_optional_any():
    schema = convert_user_facing_definition_config_schema(None)
    assert isinstance(schema, DefinitionConfigSchema)
    assert not schema.is_required and schema.config_type.kind.value == "ANY"
    assert convert_user_facing_definition_config_schema({"a": int}).is_required


class FakeDefinition:
    """The part of a definition `configured` relies on (ops and resources implement the real thing)."""

    def __init__(self, name, config_schema, description=None):
        self.name = name
        self.config_schema = convert_user_facing_definition_config_schema(config_schema)
        self.description = description

    @property
    def config_field(self):
        return self.config_schema.as_field()

    def apply_config_mapping(self, config):
        if isinstance(self.config_schema, ConfiguredDefinitionConfigSchema):
            return self.config_schema.resolve_config(config)
        return EvaluateValueResult.for_value(config)

    def configured(self, config_or_config_fn, name, config_schema=None, description=None):
        schema = ConfiguredDefinitionConfigSchema(
            self, convert_user_facing_definition_config_schema(config_schema), config_or_config_fn
        )
        new = FakeDefinition(name, None, description or self.description)
        new.config_schema = schema
        return new


def test_configured_with_fixed_config_needs_no_outer_config():
    base = FakeDefinition("base", {"bucket": str, "region": dg.Field(str, default_value="eu")})
    dev = dg.configured(base, name="dev")({"bucket": "dev-bucket"})
    assert dev.name == "dev"
    result = dev.apply_config_mapping({"config": {}})
    assert result.success and result.value == {"config": {"bucket": "dev-bucket", "region": "eu"}}


def test_configured_function_maps_outer_schema_to_parent_config():
    base = FakeDefinition("base", {"bucket": str})

    @dg.configured(base, {"prefix": str})
    def prefixed(config):
        return {"bucket": config["prefix"] + "-dev"}

    assert prefixed.name == "prefixed"
    outer = process_config({"config": prefixed.config_field}, {"config": {"prefix": "acme"}})
    assert prefixed.apply_config_mapping(outer.value).value == {"config": {"bucket": "acme-dev"}}


def test_configured_function_output_is_validated_against_parent_schema():
    base = FakeDefinition("base", {"bucket": str})
    broken = dg.configured(base, name="broken")(lambda _: {"bucket": 1})
    result = broken.apply_config_mapping({"config": {}})
    assert not result.success
    assert result.errors[0].message.startswith("Invalid scalar at path root:config:bucket.")


def test_configured_with_config_class_parameter():
    base = FakeDefinition("base", {"text": str})

    @dg.configured(base)
    def shout(config: Outer):
        return OpConfig(text=config.word.upper())

    outer = process_config({"config": shout.config_field}, {"config": {"word": "hi"}})
    assert shout.apply_config_mapping(outer.value).value == {"config": {"text": "HI"}}


def test_configured_error_in_user_function_is_a_config_mapping_error():
    base = FakeDefinition("base", {"bucket": str})
    broken = dg.configured(base, name="boom")(lambda _: 1 / 0)
    with pytest.raises(dg.DagsterConfigMappingFunctionError) as info:
        broken.apply_config_mapping({"config": {}})
    assert isinstance(info.value.user_exception, ZeroDivisionError)


def test_configured_rejects_objects_that_cannot_be_configured():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Only the following types can be used"):
        dg.configured(object())


def test_config_from_yaml_strings_deep_merges_and_keeps_dates_as_strings():
    merged = dg.config_from_yaml_strings(["ops: {a: {config: {x: 1, day: 2024-01-02}}}", "ops: {a: {config: {y: 2}}}"])
    assert merged == {"ops": {"a": {"config": {"x": 1, "day": "2024-01-02", "y": 2}}}}
    with pytest.raises(dg.DagsterInvariantViolationError, match="Encountered error attempting to parse yaml"):
        dg.config_from_yaml_strings(["a: [unclosed"])


def test_config_from_files_globs_and_merges(tmp_path):
    (tmp_path / "a.yaml").write_text("resources: {db: {config: {host: a}}}\n")
    (tmp_path / "b.yaml").write_text("resources: {db: {config: {port: 5}}}\n")
    merged = dg.config_from_files([str(tmp_path / "*.yaml")])
    assert merged == {"resources": {"db": {"config": {"host": "a", "port": 5}}}}
    with pytest.raises(dg.DagsterInvariantViolationError, match='produced no results'):
        dg.config_from_files([str(tmp_path / "missing-*.yaml")])
