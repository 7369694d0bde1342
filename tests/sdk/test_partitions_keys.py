"""Static, dynamic and multi-dimensional partitions behave as Dagster 1.13's."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime

import pytest

import orchestra as dg
from orchestra._core.partitions import tags

NOW = datetime(2024, 11, 5, 12, 30, tzinfo=UTC)


class MemoryStore:
    """The dynamic partitions store protocol, as the instance will implement it."""

    def __init__(self, **keys_by_name: list[str]):
        self.keys_by_name = keys_by_name

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        return list(self.keys_by_name.get(partitions_def_name, []))

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return partition_key in self.keys_by_name.get(partitions_def_name, [])


# --- static -------------------------------------------------------------------------------------------


def test_static_keys_keep_their_order():
    pdef = dg.StaticPartitionsDefinition(["b", "a"])
    assert list(pdef.get_partition_keys()) == ["b", "a"]
    assert (pdef.get_first_partition_key(), pdef.get_last_partition_key(), pdef.get_num_partitions()) == ("b", "a", 2)
    assert list(pdef.get_partition_keys_in_range(dg.PartitionKeyRange("b", "a"))) == ["b", "a"]
    assert repr(pdef) == "StaticPartitionsDefinition(partition_keys=['b', 'a'])"
    assert str(pdef) == "'b', 'a'"


def test_static_duplicate_keys_are_refused():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"Duplicate instances of partition keys: \['a'\]"):
        dg.StaticPartitionsDefinition(["a", "b", "a"])


def test_static_keys_may_not_contain_the_range_separator():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"\['...'\] are invalid substrings in a partition key"):
        dg.StaticPartitionsDefinition(["a...b"])


def test_static_range_with_unknown_key_is_an_invalid_invocation():
    with pytest.raises(dg.DagsterInvalidInvocationError, match="Partition range b to z is"):
        dg.StaticPartitionsDefinition(["b", "a"]).get_partition_keys_in_range(dg.PartitionKeyRange("b", "z"))


def test_static_validate_and_tags():
    pdef = dg.StaticPartitionsDefinition(["b", "a"])
    assert pdef.get_tags_for_partition_key("a") == {"dagster/partition": "a"}
    assert pdef == dg.StaticPartitionsDefinition(["b", "a"])
    with pytest.raises(dg.DagsterUnknownPartitionError, match="Could not find a partition with key `z`"):
        pdef.validate_partition_key("z")


# --- dynamic ------------------------------------------------------------------------------------------


def test_dynamic_keys_come_from_the_store():
    pdef = dg.DynamicPartitionsDefinition(name="files")
    store = MemoryStore(files=["k1", "k2"])
    assert list(pdef.get_partition_keys(dynamic_partitions_store=store)) == ["k1", "k2"]
    assert pdef.has_partition_key("k1", dynamic_partitions_store=store) is True
    with dg.partition_loading_context(dynamic_partitions_store=store):
        assert pdef.get_last_partition_key() == "k2"
        assert pdef.has_partition_key("zz") is False
    assert str(pdef) == 'Dynamic partitions: "files"'
    assert repr(pdef) == "DynamicPartitionsDefinition(partition_fn=None, name='files')"


def test_dynamic_without_a_store_explains_what_is_missing():
    with pytest.raises(dg.DagsterInvariantViolationError, match="The instance is not available to load partitions"):
        dg.DynamicPartitionsDefinition(name="files").get_partition_keys()


def test_dynamic_needs_exactly_one_of_name_and_partition_fn():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Must provide either partition_fn or name"):
        dg.DynamicPartitionsDefinition()
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Cannot provide both partition_fn and name"):
        dg.DynamicPartitionsDefinition(lambda _t: ["a"], name="x")
    assert list(dg.DynamicPartitionsDefinition(lambda _t: ["a", "b"]).get_partition_keys()) == ["a", "b"]


def test_dynamic_build_requests_name_the_definition():
    pdef = dg.DynamicPartitionsDefinition(name="files")
    add = pdef.build_add_request(["a.csv"])
    delete = pdef.build_delete_request(["b.csv"])
    assert (add.partitions_def_name, list(add.partition_keys)) == ("files", ["a.csv"])
    assert (delete.partitions_def_name, list(delete.partition_keys)) == ("files", ["b.csv"])


def test_a_plain_object_with_the_two_methods_is_a_dynamic_partitions_store():
    from orchestra._core.partitions import DynamicPartitionsStore

    assert isinstance(MemoryStore(), DynamicPartitionsStore)


# --- multi --------------------------------------------------------------------------------------------


def make_multi():
    return dg.MultiPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition("2024-11-02"), "color": dg.StaticPartitionsDefinition(["red", "blue"])}
    )


def test_multi_partition_key_joins_dimensions_in_name_order():
    key = dg.MultiPartitionKey({"z": "1", "a": "2"})
    assert key == "2|1" and isinstance(key, str)
    assert key.keys_by_dimension == {"a": "2", "z": "1"}
    assert pickle.loads(pickle.dumps(key)).keys_by_dimension == {"a": "2", "z": "1"}


def test_multi_keys_are_the_product_of_the_dimensions():
    keys = make_multi().get_partition_keys(current_time=NOW)
    assert keys == [
        "red|2024-11-02", "red|2024-11-03", "red|2024-11-04", "blue|2024-11-02", "blue|2024-11-03", "blue|2024-11-04"
    ]
    assert all(isinstance(k, dg.MultiPartitionKey) for k in keys)
    assert keys[0].keys_by_dimension == {"color": "red", "date": "2024-11-02"}


def test_multi_tags_carry_one_tag_per_dimension():
    assert make_multi().get_tags_for_partition_key("red|2024-11-03") == {
        "dagster/partition": "red|2024-11-03",
        "dagster/partition/color": "red",
        "dagster/partition/date": "2024-11-03",
    }


def test_multi_lookups():
    pdef = make_multi()
    with dg.partition_loading_context(NOW):
        assert pdef.has_partition_key("red|2024-11-02") is True
        assert pdef.has_partition_key("red|2024-12-02") is False
        assert pdef.has_partition_key("green|2024-11-02") is False
        assert pdef.has_partition_key("nope") is False
        assert pdef.get_num_partitions() == 6
        assert (pdef.get_first_partition_key(), pdef.get_last_partition_key()) == ("red|2024-11-02", "blue|2024-11-04")
        assert pdef.get_partition_keys_in_range(dg.PartitionKeyRange("red|2024-11-02", "blue|2024-11-03")) == [
            "red|2024-11-02", "red|2024-11-03", "blue|2024-11-02", "blue|2024-11-03"
        ]
        assert pdef.get_multipartition_keys_with_dimension_value("color", "red") == [
            "red|2024-11-02", "red|2024-11-03", "red|2024-11-04"
        ]
        assert pdef.time_window_for_partition_key("red|2024-11-02").start == datetime(2024, 11, 2, tzinfo=UTC)
        assert pdef.primary_dimension.name == "date"
        with pytest.raises(dg.DagsterUnknownPartitionError):
            pdef.validate_partition_key("red|2024-12-02")


def test_multi_text_forms():
    pdef = make_multi()
    assert str(pdef) == (
        "Multi-partitioned, with dimensions: \nColor: 'red', 'blue' \nDate: Daily, starting 2024-11-02 UTC."
    )


def test_multi_definition_needs_exactly_two_supported_dimensions():
    static = dg.StaticPartitionsDefinition(["a"])
    with pytest.raises(dg.DagsterInvalidInvocationError, match="only supports multi-partitions definitions with 2"):
        dg.MultiPartitionsDefinition({"a": static, "b": static, "c": static})
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Invalid character in partition key for dimension a"):
        dg.MultiPartitionsDefinition({"a": dg.StaticPartitionsDefinition(["x|y"]), "b": static})
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="must have a name to be used in a MultiPartitionsDefinition"):
        dg.MultiPartitionsDefinition({"a": dg.DynamicPartitionsDefinition(lambda _t: []), "b": static})
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Invalid partitions definition type"):
        dg.MultiPartitionsDefinition({"a": make_multi(), "b": static})


def test_multi_with_a_dynamic_dimension_reads_the_store():
    pdef = dg.MultiPartitionsDefinition(
        {"file": dg.DynamicPartitionsDefinition(name="files"), "kind": dg.StaticPartitionsDefinition(["x"])}
    )
    keys = pdef.get_partition_keys(dynamic_partitions_store=MemoryStore(files=["f1", "f2"]))
    assert keys == ["f1|x", "f2|x"]


# --- shared names ------------------------------------------------------------------------------------------


def test_partition_key_range_is_a_named_pair():
    assert dg.PartitionKeyRange(start="a", end="b") == dg.PartitionKeyRange("a", "b")
    assert repr(dg.PartitionKeyRange("a", "b")) == "PartitionKeyRange(start='a', end='b')"


def test_partition_tag_constants_match_dagster():
    assert tags.PARTITION_NAME_TAG == "dagster/partition"
    assert tags.multidimensional_partition_tag("color") == "dagster/partition/color"
    assert tags.ASSET_PARTITION_RANGE_START_TAG == "dagster/asset_partition_range_start"
    assert tags.ASSET_PARTITION_RANGE_END_TAG == "dagster/asset_partition_range_end"
    assert tags.PARTITION_SET_TAG == "dagster/partition_set"


def test_asset_partition_status_values():
    assert [s.value for s in dg.AssetPartitionStatus] == ["MATERIALIZED", "IN_PROGRESS", "FAILED"]


def test_partition_loading_context_nests_and_restores():
    pdef = dg.DailyPartitionsDefinition("2024-11-01")
    with dg.partition_loading_context(NOW):
        with dg.partition_loading_context(dynamic_partitions_store=MemoryStore()) as ctx:
            assert ctx.effective_dt == NOW
            assert pdef.get_last_partition_key() == "2024-11-04"
        with dg.partition_loading_context(datetime(2024, 11, 3, tzinfo=UTC)):
            assert pdef.get_last_partition_key() == "2024-11-02"
        assert pdef.get_last_partition_key() == "2024-11-04"


def test_definitions_survive_pickling_and_deep_copies():
    definitions = [
        dg.DailyPartitionsDefinition("2024-01-01", timezone="America/New_York", exclusions=["0 0 * * 0"]),
        dg.StaticPartitionsDefinition(["a"]),
        make_multi(),
        dg.DynamicPartitionsDefinition(name="files"),
    ]
    for pdef in definitions:
        for clone in (pickle.loads(pickle.dumps(pdef)), copy.deepcopy(pdef)):
            assert clone == pdef and type(clone) is type(pdef)
    daily = definitions[0]
    assert pickle.loads(pickle.dumps(daily)).get_partition_keys(current_time=NOW) == daily.get_partition_keys(current_time=NOW)


def test_keys_can_be_read_page_by_page():
    pdef = dg.StaticPartitionsDefinition(["a", "b", "c"])
    first = pdef.get_paginated_partition_keys(None, limit=2, ascending=True)
    assert (first.results, first.has_more) == (["a", "b"], True)
    second = pdef.get_paginated_partition_keys(None, limit=2, ascending=True, cursor=first.cursor)
    assert (second.results, second.has_more) == (["c"], False)
    assert pdef.get_paginated_partition_keys(None, limit=2, ascending=False).results == ["c", "b"]
