"""Partition mappings map keys both ways as Dagster 1.13's (expected values obtained by running Dagster)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import orchestra as dg
from orchestra._core.partitions import infer_partition_mapping

NOW = datetime(2024, 11, 5, 12, 30, tzinfo=UTC)
DAILY = dg.DailyPartitionsDefinition("2024-10-01")
DAILY_LATER = dg.DailyPartitionsDefinition("2024-10-15")
HOURLY = dg.HourlyPartitionsDefinition("2024-10-01-00:00")
WEEKLY = dg.WeeklyPartitionsDefinition("2024-09-01")
STATIC = dg.StaticPartitionsDefinition(["a", "b", "c"])
STATIC2 = dg.StaticPartitionsDefinition(["x", "y"])
MULTI = dg.MultiPartitionsDefinition({"date": DAILY, "color": STATIC})
MULTI2 = dg.MultiPartitionsDefinition({"day": DAILY, "letter": STATIC})


def upstream(mapping, keys, downstream_def, upstream_def):
    result = mapping.get_upstream_mapped_partitions_result_for_partitions(keys, downstream_def, upstream_def, current_time=NOW)
    return sorted(result.partitions_subset.get_partition_keys()), sorted(result.required_but_nonexistent_partition_keys)


def downstream(mapping, keys, upstream_def, downstream_def):
    return sorted(mapping.get_downstream_partitions_for_partitions(keys, upstream_def, downstream_def, current_time=NOW))


# --- time windows ----------------------------------------------------------------------------------


def test_time_window_mapping_of_identical_definitions_is_identity():
    assert upstream(dg.TimeWindowPartitionMapping(), ["2024-10-10", "2024-10-11"], DAILY, DAILY) == (
        ["2024-10-10", "2024-10-11"], []
    )


def test_previous_day_mapping():
    mapping = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    assert upstream(mapping, ["2024-10-10", "2024-10-11", "2024-10-12"], DAILY, DAILY) == (
        ["2024-10-09", "2024-10-10", "2024-10-11"], []
    )
    assert downstream(mapping, ["2024-10-10"], DAILY, DAILY) == ["2024-10-11"]


def test_start_offset_widens_the_upstream_range():
    mapping = dg.TimeWindowPartitionMapping(start_offset=-2)
    assert upstream(mapping, ["2024-10-15", "2024-10-20"], DAILY, DAILY) == (
        ["2024-10-13", "2024-10-14", "2024-10-15", "2024-10-18", "2024-10-19", "2024-10-20"], []
    )


def test_a_daily_partition_reads_its_24_hours():
    keys, missing = upstream(dg.TimeWindowPartitionMapping(), ["2024-10-10"], DAILY, HOURLY)
    assert (len(keys), keys[0], keys[-1], missing) == (24, "2024-10-10-00:00", "2024-10-10-23:00", [])
    assert downstream(dg.TimeWindowPartitionMapping(), ["2024-10-10-05:00"], HOURLY, DAILY) == ["2024-10-10"]


def test_a_daily_partition_reads_the_week_containing_it():
    assert upstream(dg.TimeWindowPartitionMapping(), ["2024-10-10"], DAILY, WEEKLY) == (["2024-10-06"], [])
    assert downstream(dg.TimeWindowPartitionMapping(), ["2024-10-13"], WEEKLY, DAILY) == [
        "2024-10-13", "2024-10-14", "2024-10-15", "2024-10-16", "2024-10-17", "2024-10-18", "2024-10-19"
    ]


def test_partitions_before_the_upstream_start_are_required_but_nonexistent():
    assert upstream(dg.TimeWindowPartitionMapping(), ["2024-10-01", "2024-10-20"], DAILY, DAILY_LATER) == (
        ["2024-10-20"], ["2024-10-01"]
    )


def test_offsets_are_clamped_to_the_upstream_bounds():
    mapping = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    assert upstream(mapping, ["2024-10-01"], DAILY, DAILY) == ([], [])
    allowed = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True)
    assert upstream(allowed, ["2024-10-01"], DAILY, DAILY_LATER) == ([], [])


def test_time_window_mapping_refuses_other_definitions_and_zones():
    mapping = dg.TimeWindowPartitionMapping()
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="must be a TimeWindowPartitionsDefinition"):
        mapping.validate_partition_mapping(STATIC, DAILY)
    ny = dg.DailyPartitionsDefinition("2024-10-01", timezone="America/New_York")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Timezones UTC and America/New_York don't match"):
        mapping.validate_partition_mapping(DAILY, ny)


def test_time_window_mapping_repr_and_equality():
    mapping = dg.TimeWindowPartitionMapping(start_offset=-1)
    assert repr(mapping) == (
        "TimeWindowPartitionMapping(start_offset=-1, end_offset=0, allow_nonexistent_upstream_partitions=False)"
    )
    assert mapping == dg.TimeWindowPartitionMapping(start_offset=-1)
    assert mapping != dg.TimeWindowPartitionMapping()


# --- identity, all, last, specific, static ------------------------------------------------------------------


def test_identity_mapping_reports_keys_the_upstream_lacks():
    assert upstream(dg.IdentityPartitionMapping(), ["2024-10-01", "2024-10-20"], DAILY, DAILY_LATER) == (
        ["2024-10-20"], ["2024-10-01"]
    )
    assert downstream(dg.IdentityPartitionMapping(), ["b", "c"], STATIC, STATIC) == ["b", "c"]


def test_all_partition_mapping_reads_every_upstream_key():
    assert upstream(dg.AllPartitionMapping(), ["x"], STATIC2, STATIC) == (["a", "b", "c"], [])
    assert downstream(dg.AllPartitionMapping(), ["a"], STATIC, STATIC2) == ["x", "y"]
    assert downstream(dg.AllPartitionMapping(), [], STATIC, STATIC2) == []


def test_last_partition_mapping_reads_the_latest_upstream_key():
    assert upstream(dg.LastPartitionMapping(), ["x"], STATIC2, DAILY) == (["2024-11-04"], [])
    assert downstream(dg.LastPartitionMapping(), ["2024-11-04"], DAILY, STATIC2) == ["x", "y"]
    assert downstream(dg.LastPartitionMapping(), ["2024-11-03"], DAILY, STATIC2) == []


def test_specific_partitions_mapping():
    mapping = dg.SpecificPartitionsPartitionMapping(["a", "c"])
    assert upstream(mapping, ["x"], STATIC2, STATIC) == (["a", "c"], [])
    assert downstream(mapping, ["c"], STATIC, STATIC2) == ["x", "y"]
    assert downstream(mapping, ["b"], STATIC, STATIC2) == []


def test_static_partition_mapping_both_ways():
    mapping = dg.StaticPartitionMapping({"a": ["x", "y"], "b": "y"})
    assert upstream(mapping, ["y"], STATIC2, STATIC) == (["a", "b"], [])
    assert downstream(mapping, ["a"], STATIC, STATIC2) == ["x", "y"]
    with pytest.raises(ValueError, match="mapping source partitions not in the upstream partitions definition"):
        dg.StaticPartitionMapping({"zz": "x"}).validate_partition_mapping(STATIC, STATIC2)


# --- multi-dimensional ------------------------------------------------------------------------------------


def test_multi_to_single_reads_every_key_with_the_matching_date():
    mapping = dg.MultiToSingleDimensionPartitionMapping()
    assert upstream(mapping, ["2024-10-01"], DAILY, MULTI) == (["a|2024-10-01", "b|2024-10-01", "c|2024-10-01"], [])
    assert downstream(mapping, ["b|2024-10-01", "c|2024-10-03"], MULTI, DAILY) == ["2024-10-01", "2024-10-03"]
    assert upstream(mapping, ["a|2024-10-02"], MULTI, STATIC) == (["a"], [])


def test_multi_to_single_explains_when_no_dimension_matches():
    with pytest.raises(dg.DagsterInvariantViolationError, match="can only be used when"):
        dg.MultiToSingleDimensionPartitionMapping().validate_partition_mapping(MULTI, STATIC2)


def test_multi_partition_mapping_maps_each_dimension():
    mapping = dg.MultiPartitionMapping(
        {
            "date": dg.DimensionPartitionMapping("day", dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)),
            "color": dg.DimensionPartitionMapping("letter", dg.IdentityPartitionMapping()),
        }
    )
    # MULTI2's dimensions sort as ("day", "letter"), so its keys read "<day>|<letter>".
    assert upstream(mapping, ["2024-10-02|a"], MULTI2, MULTI) == (["a|2024-10-01"], [])
    assert downstream(mapping, ["b|2024-10-01"], MULTI, MULTI2) == ["2024-10-02|b"]


def test_unmapped_dimensions_fan_out_to_every_key():
    mapping = dg.MultiPartitionMapping({"color": dg.DimensionPartitionMapping("letter", dg.IdentityPartitionMapping())})
    keys, missing = upstream(mapping, ["2024-10-02|a"], MULTI2, MULTI)
    assert len(keys) == 35 and (keys[0], keys[-1]) == ("a|2024-10-01", "a|2024-11-04")
    assert all(k.startswith("a|") for k in keys)
    assert missing == []


# --- inference -------------------------------------------------------------------------------------------


def test_default_mapping_is_inferred_like_dagster():
    assert isinstance(infer_partition_mapping(None, DAILY, HOURLY), dg.TimeWindowPartitionMapping)
    assert isinstance(infer_partition_mapping(None, STATIC, STATIC), dg.IdentityPartitionMapping)
    assert isinstance(infer_partition_mapping(None, MULTI, DAILY), dg.MultiToSingleDimensionPartitionMapping)
    assert isinstance(infer_partition_mapping(None, None, DAILY), dg.AllPartitionMapping)
    explicit = dg.LastPartitionMapping()
    assert infer_partition_mapping(explicit, DAILY, DAILY) is explicit


def test_key_level_methods_return_ordered_keys():
    result = dg.TimeWindowPartitionMapping().map_to_upstream(["2024-10-10"], DAILY, HOURLY)
    assert result.partition_keys[:2] == ["2024-10-10-00:00", "2024-10-10-01:00"]
    assert result.required_but_nonexistent_partition_keys == []
    assert list(dg.IdentityPartitionMapping().map_to_downstream(["c", "a"], STATIC, STATIC)) == ["a", "c"]


def test_dagster_style_subsets_can_be_passed_to_mappings():
    subset = DAILY.subset_with_partition_keys(["2024-10-02"])
    assert subset.get_partition_keys() == ["2024-10-02"] and not subset.is_empty
    assert DAILY.empty_subset().is_empty
    assert subset.with_partition_keys(["2024-10-03"]).get_partition_keys() == ["2024-10-02", "2024-10-03"]
    result = dg.TimeWindowPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(
        subset, DAILY, HOURLY, current_time=NOW
    )
    assert len(result.partitions_subset) == 24 and "2024-10-02-23:00" in result.partitions_subset
