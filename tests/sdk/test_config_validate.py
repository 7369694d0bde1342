"""Validation and processing of config values: results, paths, reasons and Dagster's messages."""

from __future__ import annotations

import enum

import pytest

import orchestra as dg
from orchestra._config import DagsterEvaluationErrorReason as Reason
from orchestra._config import validate_config
from orchestra._config.validate import process_run_config, resolve_defaults, validate_structure


def only_error(schema, value):
    result = validate_config(schema, value)
    assert not result.success
    assert len(result.errors) == 1, [e.message for e in result.errors]
    return result.errors[0]


def test_unexpected_entry_names_the_entry_path_and_expected_type():
    error = only_error({"ops": {"my_op": {"config": {"a": int}}}}, {"ops": {"my_op": {"config": {"a": 1, "x": 1}}}})
    assert error.reason is Reason.FIELD_NOT_DEFINED
    assert error.path == ["ops", "my_op", "config"]
    assert error.message == (
        'Received unexpected config entry "x" at path root:ops:my_op:config. Expected: "{ a: Int }".'
    )


def test_several_unexpected_entries_are_one_error_listing_them_sorted():
    error = only_error({"a": int}, {"a": 1, "y": 2, "x": 1})
    assert error.reason is Reason.FIELDS_NOT_DEFINED
    assert error.message == 'Received unexpected config entries "[\'x\', \'y\']" at the root. Expected: "[\'a\']."'


def test_missing_required_entry_gives_sample_config():
    error = only_error({"ops": {"my_op": {"config": {"a": int}}}}, {"ops": {"my_op": {"config": {}}}})
    assert error.reason is Reason.MISSING_REQUIRED_FIELD
    assert error.message == (
        'Missing required config entry "a" at path root:ops:my_op:config. You must provide this value in your '
        "run config. Example config for the missing entry: {'a': 0}"
    )


def test_missing_required_entries_sample_covers_nested_required_fields():
    error = only_error({"a": int, "b": {"c": str, "d": dg.Field(int, is_required=False)}}, {})
    assert error.reason is Reason.MISSING_REQUIRED_FIELDS
    assert error.message == (
        "Missing required config entries ['a', 'b'] at the root. You must provide these values in your run "
        "config. Example config for the missing entries: {'a': 0, 'b': {'c': '...'}}"
    )


def test_invalid_scalar_message_shows_value_and_python_type():
    error = only_error({"ops": {"my_op": {"config": {"a": int}}}}, {"ops": {"my_op": {"config": {"a": "abc"}}}})
    assert error.reason is Reason.RUNTIME_TYPE_MISMATCH
    assert error.path == ["ops", "my_op", "config", "a"]
    assert error.message == (
        'Invalid scalar at path root:ops:my_op:config:a. Value "abc" of type "<class \'str\'>" is not valid for '
        'expected type "Int".'
    )


def test_bool_is_not_an_int_and_int_is_not_a_bool():
    assert not validate_config(int, True).success
    assert not validate_config(bool, 1).success
    assert validate_config(float, 3).value == 3.0
    assert isinstance(validate_config(float, 3).value, float)


def test_errors_in_list_items_carry_the_index_in_the_path():
    result = validate_config({"a": [int]}, {"a": [1, "x", None]})
    assert [e.path for e in result.errors] == [["a", "[1]"], ["a", "[2]"]]
    assert result.errors[1].message == 'Value at path root:a[2] must not be None. Expected "Int"'


def test_non_list_for_array_is_a_type_mismatch():
    assert only_error({"a": [int]}, {"a": 5}).message == 'Value at path root:a must be list. Expected: "[Int]"'


def test_map_keys_and_values_are_checked_with_repr_paths():
    result = validate_config({"a": {str: int}}, {"a": {"k": "v", 3: 4}})
    assert [e.message for e in result.errors] == [
        'Invalid scalar at path root:a:3:key. Value "3" of type "<class \'int\'>" is not valid for expected type '
        '"String".',
        "Invalid scalar at path root:a:'k':value. Value \"v\" of type \"<class 'str'>\" is not valid for expected "
        'type "Int".',
    ]


def test_map_with_key_label_prints_label():
    error = only_error({"a": dg.Map(str, int, key_label_name="name")}, {"a": 1})
    assert error.message == 'Value at path root:a must be dict. Expected: "{ [name: String]: Int }"'


def test_defaults_are_filled_recursively_and_floats_coerced():
    schema = {"a": dg.Field(int, default_value=3), "b": dg.Field({"c": dg.Field(float, default_value=1)})}
    assert validate_config(schema, {}).value == {"a": 3, "b": {"c": 1.0}}


def test_optional_field_without_default_is_left_out_but_noneable_becomes_none():
    schema = {"a": dg.Field(int, is_required=False), "n": dg.Noneable(int)}
    assert validate_config(schema, {}).value == {"n": None}


def test_none_for_required_scalar_is_rejected():
    assert only_error({"a": int}, {"a": None}).message == 'Value at path root:a must not be None. Expected "Int"'


class Color(enum.Enum):
    RED = 1
    BLUE = 2


def test_enum_config_values_become_python_values():
    assert validate_config({"c": dg.Enum.from_python_enum(Color)}, {"c": "RED"}).value == {"c": Color.RED}
    direct = dg.Enum.from_python_enum_direct_values(Color)
    assert validate_config({"c": direct}, {"c": "BLUE"}).value == {"c": 2}
    custom = dg.Enum("E", [dg.EnumValue("a", python_value=1), dg.EnumValue("b")])
    assert validate_config({"e": custom}, {"e": "b"}).value == {"e": "b"}


def test_enum_rejects_unknown_and_non_string_values():
    schema = {"c": dg.Enum.from_python_enum(Color)}
    assert only_error(schema, {"c": "GREEN"}).message == "Value at path root:c not in enum type Color got GREEN"
    assert only_error(schema, {"c": 1}).message == "Value at path root:c for enum type Color must be a string"


SELECTOR = {"a": dg.Selector({"x": int, "y": {"z": dg.Field(int, default_value=2)}})}


def test_selector_accepts_one_branch_and_fills_its_defaults():
    assert validate_config(SELECTOR, {"a": {"y": {}}}).value == {"a": {"y": {"z": 2}}}
    assert validate_config(SELECTOR, {"a": {"y": None}}).value == {"a": {"y": {"z": 2}}}


def test_selector_with_two_branches_given_is_a_selector_error():
    error = only_error(SELECTOR, {"a": {"x": 1, "y": {}}})
    assert error.reason is Reason.SELECTOR_FIELD_ERROR
    assert error.message == (
        "You can only specify a single field at path root:a. You specified ['x', 'y']. The available fields "
        "are ['x', 'y']"
    )


def test_empty_selector_with_several_branches_must_choose():
    error = only_error(SELECTOR, {"a": {}})
    assert error.message == (
        "Must specify a field at path root:a if more than one field is defined. Defined fields: ['x', 'y']"
    )


def test_selector_unknown_branch_and_non_dict():
    assert only_error(SELECTOR, {"a": {"w": 1}}).message == (
        'Received unexpected config entry "w" at path root:a. Expected: "{ x: Int y?: { z?: Int } }".'
    )
    assert only_error(SELECTOR, {"a": 3}).message == "Value for selector type at path root:a must be a dict"


def test_single_optional_branch_selector_defaults_to_that_branch():
    schema = {"a": dg.Selector({"y": {"z": dg.Field(int, default_value=2)}})}
    assert validate_config(schema, {}).value == {"a": {"y": {"z": 2}}}
    required = {"a": dg.Selector({"y": int})}
    assert only_error(required, {"a": {}}).message == (
        "Must specify the required field at path root:a. Defined fields: ['y']"
    )


def test_permissive_passes_unknown_keys_through_but_checks_known_ones():
    schema = {"a": dg.Permissive({"b": int})}
    assert validate_config(schema, {"a": {"b": 1, "c": "x"}}).value == {"a": {"b": 1, "c": "x"}}
    assert only_error(schema, {"a": {"c": "x"}}).reason is Reason.MISSING_REQUIRED_FIELD
    assert validate_config({"d": dict, "l": list}, {"d": {"x": 1}, "l": [1, "a"]}).success
    assert only_error({"d": dict}, {"d": 3}).message == 'Value at path root:d must be dict. Expected: "{ }".'


def test_source_types_read_environment_variables(monkeypatch):
    monkeypatch.setenv("ORCH_TEST_INT", "42")
    monkeypatch.setenv("ORCH_TEST_BOOL", "false")
    monkeypatch.setenv("ORCH_TEST_STR", "hello")
    schema = {"s": dg.StringSource, "i": dg.IntSource, "b": dg.BoolSource}
    value = {"s": {"env": "ORCH_TEST_STR"}, "i": {"env": "ORCH_TEST_INT"}, "b": {"env": "ORCH_TEST_BOOL"}}
    assert validate_config(schema, value).value == {"s": "hello", "i": 42, "b": False}
    assert validate_config(schema, {"s": "x", "i": 1, "b": True}).value == {"s": "x", "i": 1, "b": True}


def test_unset_or_uncoercible_env_var_fails_post_processing(monkeypatch):
    monkeypatch.delenv("ORCH_TEST_MISSING", raising=False)
    monkeypatch.setenv("ORCH_TEST_BAD", "x")
    missing = only_error({"b": dg.StringSource}, {"b": {"env": "ORCH_TEST_MISSING"}})
    assert missing.reason is Reason.FAILED_POST_PROCESSING
    assert missing.message.startswith(
        "Post processing at path root:b of original value {'env': 'ORCH_TEST_MISSING'} failed:\n"
    )
    assert 'You have attempted to fetch the environment variable "ORCH_TEST_MISSING" which is not set.' in missing.message
    bad = only_error({"b": dg.IntSource}, {"b": {"env": "ORCH_TEST_BAD"}})
    assert 'Value stored in env variable "ORCH_TEST_BAD" cannot be coerced into an int.' in bad.message


def test_source_type_rejects_other_dict_keys_and_wrong_scalars():
    assert only_error({"b": dg.StringSource}, {"b": {"envx": "X"}}).message == (
        'Received unexpected config entry "envx" at path root:b. Expected: "{ env: String }".'
    )
    assert only_error({"b": dg.StringSource}, {"b": 3}).reason is Reason.RUNTIME_TYPE_MISMATCH


def test_scalar_union_routes_dicts_to_the_non_scalar_schema():
    schema = {"u": dg.ScalarUnion(int, {"v": int})}
    assert validate_config(schema, {"u": 3}).value == {"u": 3}
    assert validate_config(schema, {"u": {"v": 4}}).value == {"u": {"v": 4}}
    assert only_error(schema, {"u": {"v": "x"}}).path == ["u", "v"]


def test_field_aliases_accept_the_alias_and_reject_both():
    schema = {"a": dg.Shape({"b": int}, field_aliases={"b": "bee"})}
    assert validate_config(schema, {"a": {"bee": 1}}).value == {"a": {"b": 1}}
    assert only_error(schema, {"a": {"bee": 1, "b": 2}}).reason is Reason.FIELD_ALIAS_COLLISION


def test_env_var_object_in_a_run_config_dict_is_an_error():
    error = only_error({"s": str}, {"s": dg.EnvVar("TOKEN")})
    assert error.message.startswith('Invalid use of environment variable wrapper. Value "TOKEN" is wrapped with EnvVar()')
    assert "replace EnvVar(\"TOKEN\") with {'env': 'TOKEN'}" in error.message


def test_builtin_markers_and_none_schema_mean_config_scalars_and_any():
    assert validate_config({"a": dg.Int, "b": dg.String, "c": dg.Bool, "d": dg.Float}, {"a": 1, "b": "x", "c": True, "d": 1}).value == {
        "a": 1,
        "b": "x",
        "c": True,
        "d": 1.0,
    }
    assert validate_config({"x": dg.Any}, {"x": object}).success
    assert validate_config(dg.Field(None), [1, {"y": 2}]).success


def test_none_as_a_field_schema_is_a_definition_error_naming_its_path():
    with pytest.raises(dg.DagsterInvalidConfigDefinitionError, match="Error at stack path :x. None cannot be resolved"):
        dg.Field({"x": None})


def test_validate_structure_does_not_fill_defaults_or_post_process():
    schema = {"a": dg.Field(int, default_value=3), "c": dg.Enum.from_python_enum(Color)}
    assert validate_structure(schema, {"c": "RED"}).value == {"c": "RED"}
    assert resolve_defaults(schema, {"c": "RED"}).value == {"a": 3, "c": "RED"}


def test_process_run_config_raises_invalid_config_error_for_the_job():
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        process_run_config({"ops": {"o": {"config": {"a": int}}}}, {"ops": {"o": {"config": {"a": "x", "b": 1}}}}, job_name="my_job")
    assert str(info.value).startswith("Error in config for job my_job\n    Error 1: ")
    assert "\n    Error 2: Invalid scalar at path root:ops:o:config:a." in str(info.value)
    assert len(info.value.errors) == 2
    assert info.value.config_value == {"ops": {"o": {"config": {"a": "x", "b": 1}}}}


def test_errors_serialise_for_the_api():
    error = only_error({"a": int}, {"a": "x"})
    assert error.to_dict() == {"path": ["a"], "reason": "RUNTIME_TYPE_MISMATCH", "message": error.message}


def test_error_stack_entries_expose_field_names_and_indexes():
    error = only_error({"a": [{"b": int}]}, {"a": [{"b": 1}, {"b": "x"}]})
    entries = error.stack.entries
    assert [(e.field_name, e.list_index) for e in entries] == [("a", None), (None, 1), ("b", None)]


def test_process_run_config_accepts_run_config_objects_and_none():
    schema = {"ops": dg.Field({"o": dg.Field({"config": dg.Field(int, default_value=1)})})}
    assert process_run_config(schema, None, job_name="j") == {"ops": {"o": {"config": 1}}}
    assert process_run_config(dg.Permissive({"ops": dg.Permissive()}), dg.RunConfig(), job_name="j") == {
        "loggers": {},
        "resources": {},
        "ops": {},
        "execution": {},
    }
