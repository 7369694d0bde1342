"""JSON export of config schemas: a JSON Schema validator and Orchestra's validator agree."""

from __future__ import annotations

import json

import jsonschema
import pytest

import orchestra as dg
from orchestra._config import validate_config
from orchestra._config.snapshot import config_type_from_snapshot, config_type_snapshot, to_json_schema
from orchestra._config.validate import validate_structure

SCHEMAS = {
    "shape": {"a": int, "b": dg.Field(str, default_value="x", description="bee"), "c": {"d": [float]}},
    "permissive": dg.Permissive({"known": bool}),
    "selector": {"storage": dg.Selector({"fs": {"base_dir": dg.Field(str, default_value="/tmp")}, "s3": {"bucket": str}})},
    "single_optional_selector": dg.Selector({"in_process": {"retries": dg.Field(int, default_value=0)}}),
    "map_and_noneable": {"m": {str: dg.Noneable(int)}, "n": dg.Noneable({"z": bool})},
    "sources": {"s": dg.StringSource, "i": dg.IntSource, "b": dg.BoolSource},
    "enum": {"e": dg.Enum("Size", [dg.EnumValue("small"), dg.EnumValue("large")])},
    "union": {"u": dg.ScalarUnion(int, {"v": int})},
    "any": {"x": dg.Any, "l": list, "d": dict},
}

VALUES = [
    {},
    {"a": 1, "c": {"d": [1.5, 2]}},
    {"a": "1", "c": {"d": []}},
    {"a": 1, "c": {"d": [1.5]}, "extra": 1},
    {"a": None, "c": {"d": None}},
    {"known": True, "anything": [1]},
    {"known": "yes"},
    {"storage": {"fs": {}}},
    {"storage": {"fs": None}},
    {"storage": {"fs": {}, "s3": {"bucket": "b"}}},
    {"storage": {"s3": {}}},
    {"storage": {}},
    {"in_process": {"retries": 2}},
    {"in_process": {"retries": "2"}},
    {"m": {"k": 1, "j": None}, "n": None},
    {"m": {"k": "1"}, "n": {"z": True}},
    {"m": {}, "n": {}},
    {"s": "x", "i": 2, "b": False},
    {"s": {"env": "X"}, "i": {"env": "Y"}, "b": {"env": "Z"}},
    {"s": {"env": 1}, "i": "2", "b": "true"},
    {"s": {"env": "X", "other": 1}, "i": 1, "b": True},
    {"e": "small"},
    {"e": "medium"},
    {"u": 1},
    {"u": {"v": 1}},
    {"u": {"v": "x"}},
    {"u": "x"},
    {"x": {"anything": None}, "l": [1, "a"], "d": {"k": [1]}},
    {"x": 1, "l": "no", "d": []},
]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_json_schema_accepts_exactly_what_the_validator_accepts(name):
    schema = SCHEMAS[name]
    json_schema = to_json_schema(schema)
    jsonschema.Draft202012Validator.check_schema(json_schema)
    validator = jsonschema.Draft202012Validator(json_schema)
    for value in VALUES:
        ours = validate_structure(schema, value).success
        theirs = validator.is_valid(value)
        assert ours == theirs, (name, value, ours, theirs)


def test_json_schema_is_plain_json_with_defaults_and_descriptions():
    json_schema = to_json_schema(SCHEMAS["shape"])
    assert json.loads(json.dumps(json_schema)) == json_schema
    assert json_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json_schema["required"] == ["a", "c"]
    assert json_schema["additionalProperties"] is False
    assert json_schema["properties"]["b"] == {"type": "string", "description": "bee", "default": "x"}


def test_secret_fields_are_marked_write_only():
    json_schema = to_json_schema({"password": dg.Field(str, is_secret=True)})
    assert json_schema["properties"]["password"]["writeOnly"] is True


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_snapshot_round_trip_validates_and_reports_like_the_original(name):
    schema = SCHEMAS[name]
    snapshot = json.loads(json.dumps(config_type_snapshot(schema)))
    rebuilt = config_type_from_snapshot(snapshot)
    for value in VALUES:
        original = validate_structure(schema, value)
        copy = validate_structure(rebuilt, value)
        assert original.success == copy.success
        assert [e.message for e in original.errors] == [e.message for e in copy.errors]


def test_snapshot_lists_every_type_by_key():
    snapshot = config_type_snapshot({"a": [int], "s": dg.StringSource})
    root = snapshot["types"][snapshot["root"]]
    assert root["kind"] == "STRICT_SHAPE"
    assert [f["name"] for f in root["fields"]] == ["a", "s"]
    assert snapshot["types"]["Array.Int"]["type_param_keys"] == ["Int"]
    assert snapshot["types"]["Int"]["scalar_kind"] == "INT"
    assert "StringSourceType" in snapshot["types"]


def test_rebuilt_snapshot_fills_defaults():
    rebuilt = config_type_from_snapshot(config_type_snapshot(SCHEMAS["selector"]))
    assert validate_config(rebuilt, {"storage": {"fs": {}}}).value == {"storage": {"fs": {"base_dir": "/tmp"}}}


def test_schemas_sharing_a_memo_are_the_schemas_described_alone():
    # a location's jobs and resources share one memo: every schema must be what it is on its own
    json_memo: dict = {}
    types_memo: dict = {}
    for name in [*sorted(SCHEMAS), *sorted(SCHEMAS)]:
        alone_json, alone_types = to_json_schema(SCHEMAS[name]), config_type_snapshot(SCHEMAS[name])
        assert to_json_schema(SCHEMAS[name], json_memo) == alone_json, name
        assert config_type_snapshot(SCHEMAS[name], types_memo) == alone_types, name
    secret = {"password": dg.Field(str, is_secret=True), "user": dg.Field(str, description="who")}
    assert to_json_schema(secret, json_memo)["properties"]["password"]["writeOnly"] is True
    assert "writeOnly" not in to_json_schema(secret, json_memo)["properties"]["user"]


EXTRA_SCHEMAS = {
    "secret_and_described": dg.Field({"password": dg.Field(str, is_secret=True), "user": dg.Field(str, description="who")},
                                     description="the root"),
    "aliases": dg.Shape({"a": int, "b": dg.Field(str, is_required=False)}, field_aliases={"a": "alias_a"}),
    "int_map": {"m": dg.Map(int, str)},
    "described_shape": dg.Shape({"x": int}, description="a shape"),
    "selector_of_scalars": dg.Selector({"one": int, "two": str}),
    "python_enum_default": {"e": dg.Field(dg.Enum("E", [dg.EnumValue("A"), dg.EnumValue("B")]), default_value="B")},
}


@pytest.mark.parametrize("name", sorted({**SCHEMAS, **EXTRA_SCHEMAS}))
def test_json_schema_derived_from_the_stored_snapshot_is_the_one_from_the_schema(name):
    # snapshot version 2 stores only config_types; readers derive the JSON Schema the webserver advertises
    from orchestra._core.snapshot.read import json_schema_from_config_types

    schema = {**SCHEMAS, **EXTRA_SCHEMAS}[name]
    stored = json.loads(json.dumps(config_type_snapshot(schema)))
    assert json_schema_from_config_types(stored) == json.loads(json.dumps(to_json_schema(schema)))


def test_snapshots_sharing_a_field_memo_are_the_snapshots_described_alone():
    types_memo: dict = {}
    field_memo: dict = {}
    shared = dg.Field({"x": int}, default_value={"x": 1})
    schema = {"one": shared, "two": shared, "three": dg.Field(int, is_required=False)}
    for name in [*sorted(SCHEMAS), "shared", *sorted(SCHEMAS)]:
        case = schema if name == "shared" else SCHEMAS[name]
        assert config_type_snapshot(case, types_memo, field_memo) == config_type_snapshot(case), name
    fields = config_type_snapshot(schema, {}, field_memo)["types"]
    root = next(t for t in fields.values() if t["fields"] and [f["name"] for f in t["fields"]] == ["one", "two", "three"])
    assert root["fields"][0]["name"] == "one" and root["fields"][1]["name"] == "two"
