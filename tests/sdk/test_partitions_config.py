"""Partitioned config decorators and the plain-JSON snapshots of partitions definitions."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

import orchestra as dg
from orchestra._core.partitions import partition_mapping_from_snapshot, partitions_def_from_snapshot

NOW = datetime(2024, 11, 5, 12, 30, tzinfo=UTC)


# --- partitioned config ------------------------------------------------------------------------------


def test_daily_partitioned_config_receives_the_window_bounds():
    @dg.daily_partitioned_config(start_date="2024-01-01", timezone="America/New_York")
    def my_config(start: datetime, end: datetime):
        return {"ops": {"x": {"config": {"s": start.isoformat(), "e": end.isoformat()}}}}

    assert isinstance(my_config, dg.PartitionedConfig)
    assert isinstance(my_config.partitions_def, dg.DailyPartitionsDefinition)
    assert my_config.get_run_config_for_partition_key("2024-03-10") == {
        "ops": {"x": {"config": {"s": "2024-03-10T00:00:00-05:00", "e": "2024-03-11T00:00:00-04:00"}}}
    }
    assert my_config.get_tags_for_partition_key("2024-03-10") == {"dagster/partition": "2024-03-10"}
    assert my_config.get_tags_for_partition_key("2024-03-10", job_name="j") == {
        "dagster/partition": "2024-03-10", "dagster/partition_set": "j_partition_set"
    }
    # the decorated function stays callable
    assert my_config(datetime(2024, 1, 1), datetime(2024, 1, 2)) == {
        "ops": {"x": {"config": {"s": "2024-01-01T00:00:00", "e": "2024-01-02T00:00:00"}}}
    }


def test_static_partitioned_config_passes_the_key_and_adds_user_tags():
    @dg.static_partitioned_config(partition_keys=["a", "b"], tags_for_partition_key_fn=lambda k: {"my": k})
    def my_config(partition_key: str):
        return {"k": partition_key}

    assert my_config.get_run_config_for_partition_key("a") == {"k": "a"}
    assert my_config.get_tags_for_partition_key("a") == {"my": "a", "dagster/partition": "a"}
    assert list(my_config.get_partition_keys()) == ["a", "b"]
    assert my_config("q") == {"k": "q"}


def test_hourly_config_tags_function_receives_the_window():
    @dg.hourly_partitioned_config(start_date="2024-01-01-00:00", tags_for_partition_fn=lambda s, e: {"s": s.isoformat()})
    def my_config(start, end):
        return {"h": start.hour}

    assert my_config.get_run_config_for_partition_key("2024-01-01-05:00") == {"h": 5}
    assert my_config.get_tags_for_partition_key("2024-01-01-05:00") == {
        "s": "2024-01-01T05:00:00+00:00", "dagster/partition": "2024-01-01-05:00"
    }


def test_weekly_and_monthly_configs_honour_day_offset():
    @dg.weekly_partitioned_config(start_date="2024-01-01", day_offset=2)
    def weekly(start, end):
        return {"s": str(start), "e": str(end)}

    @dg.monthly_partitioned_config(start_date="2024-01-01", day_offset=3)
    def monthly(start, end):
        return {"s": str(start), "e": str(end)}

    # a key that is not a window start names the next window (Dagster does the same)
    assert weekly.get_run_config_for_partition_key("2024-01-03") == {
        "s": "2024-01-09 00:00:00+00:00", "e": "2024-01-16 00:00:00+00:00"
    }
    assert list(weekly.get_partition_keys(current_time=NOW))[:3] == ["2024-01-02", "2024-01-09", "2024-01-16"]
    assert monthly.get_run_config_for_partition_key("2024-01-03") == {
        "s": "2024-01-03 00:00:00+00:00", "e": "2024-02-03 00:00:00+00:00"
    }
    assert list(monthly.get_partition_keys(current_time=NOW))[:3] == ["2024-01-03", "2024-02-03", "2024-03-03"]


def test_dynamic_and_generic_partitioned_config():
    @dg.dynamic_partitioned_config(partition_fn=lambda _t: ["p", "q"])
    def dynamic(partition_key):
        return {"d": partition_key}

    assert dynamic.get_run_config_for_partition_key("p") == {"d": "p"}
    assert list(dynamic.get_partition_keys()) == ["p", "q"]

    multi = dg.MultiPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition("2024-11-01"), "color": dg.StaticPartitionsDefinition(["red", "blue"])}
    )

    @dg.partitioned_config(partitions_def=multi)
    def generic(partition_key):
        return {"k": partition_key}

    assert generic.get_run_config_for_partition_key("red|2024-11-02") == {"k": "red|2024-11-02"}
    assert generic.get_tags_for_partition_key("red|2024-11-02") == {
        "dagster/partition": "red|2024-11-02", "dagster/partition/color": "red", "dagster/partition/date": "2024-11-02"
    }


def test_run_config_is_copied_so_callers_cannot_mutate_it():
    shared = {"ops": {"x": {"config": {"v": 1}}}}
    pc = dg.PartitionedConfig(dg.StaticPartitionsDefinition(["a"]), run_config_for_partition_key_fn=lambda _k: shared)
    pc.get_run_config_for_partition_key("a")["ops"]["x"]["config"]["v"] = 2
    assert shared["ops"]["x"]["config"]["v"] == 1


def test_partitioned_config_errors_match_dagster():
    static = dg.StaticPartitionsDefinition(["a"])
    with pytest.raises(dg.DagsterInvalidInvocationError, match="Only PartitionedConfig objects created using one"):
        dg.PartitionedConfig(static, run_config_for_partition_key_fn=lambda _k: {})("x")
    with pytest.raises(dg.DagsterInvariantViolationError, match="Must provide exactly one of run_config_for_partition_fn"):
        dg.PartitionedConfig(static)


# --- snapshots -----------------------------------------------------------------------------------------


SNAPSHOT_CASES = [
    dg.DailyPartitionsDefinition("2024-10-01", timezone="America/New_York", end_offset=1),
    dg.HourlyPartitionsDefinition("2024-11-03-00:00", end_date="2024-11-03-05:00", timezone="America/New_York"),
    dg.WeeklyPartitionsDefinition("2024-01-01", day_offset=3),
    dg.MonthlyPartitionsDefinition("2024-01-01", day_offset=5),
    dg.DailyPartitionsDefinition("2024-10-20", exclusions=["0 0 * * 6,0", datetime(2024, 10, 22)]),
    dg.TimeWindowPartitionsDefinition(start="2024-10-30", fmt="%Y-%m-%d", cron_schedule="0 0 * * 1-5"),
    dg.StaticPartitionsDefinition(["b", "a"]),
    dg.MultiPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition("2024-11-01"), "color": dg.StaticPartitionsDefinition(["red", "blue"])}
    ),
]


@pytest.mark.parametrize("pdef", SNAPSHOT_CASES, ids=lambda p: type(p).__name__)
def test_a_snapshot_rebuilds_an_equivalent_definition(pdef):
    snapshot = json.loads(json.dumps(pdef.to_snapshot()))  # survives a JSON round trip
    rebuilt = partitions_def_from_snapshot(snapshot)
    assert type(rebuilt) is type(pdef)
    assert rebuilt == pdef
    assert rebuilt.get_partition_keys(current_time=NOW) == pdef.get_partition_keys(current_time=NOW)
    assert rebuilt.to_snapshot() == snapshot


def test_time_window_snapshot_is_plain_json():
    assert dg.DailyPartitionsDefinition("2024-01-01", timezone="Europe/Paris").to_snapshot() == {
        "kind": "time_window",
        "class": "DailyPartitionsDefinition",
        "start": 1704063600.0,
        "end": None,
        "timezone": "Europe/Paris",
        "fmt": "%Y-%m-%d",
        "end_offset": 0,
        "cron_schedule": "0 0 * * *",
        "exclusions": None,
    }


def test_dynamic_snapshot_keeps_the_name():
    rebuilt = partitions_def_from_snapshot(dg.DynamicPartitionsDefinition(name="files").to_snapshot())
    assert rebuilt == dg.DynamicPartitionsDefinition(name="files")


MAPPING_CASES = [
    dg.IdentityPartitionMapping(),
    dg.AllPartitionMapping(),
    dg.LastPartitionMapping(),
    dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True),
    dg.SpecificPartitionsPartitionMapping(["a"]),
    dg.StaticPartitionMapping({"a": ["x", "y"], "b": "y"}),
    dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date"),
    dg.MultiPartitionMapping({"date": dg.DimensionPartitionMapping("day", dg.TimeWindowPartitionMapping(start_offset=-1))}),
]


@pytest.mark.parametrize("mapping", MAPPING_CASES, ids=lambda m: type(m).__name__)
def test_a_mapping_snapshot_rebuilds_an_equal_mapping(mapping):
    snapshot = json.loads(json.dumps(mapping.to_snapshot()))
    assert partition_mapping_from_snapshot(snapshot) == mapping


# --- packaging -------------------------------------------------------------------------------------------


def test_importing_orchestra_does_not_load_partitions():
    code = (
        "import sys, orchestra\n"
        "assert 'orchestra._core.partitions' not in sys.modules\n"
        "orchestra.DailyPartitionsDefinition\n"
        "assert 'orchestra._core.partitions.cadences' in sys.modules\n"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_dagster_partition_name_is_exported():
    names = [
        "AllPartitionMapping", "AssetPartitionStatus", "DailyPartitionsDefinition", "DimensionPartitionMapping",
        "DynamicPartitionsDefinition", "HourlyPartitionsDefinition", "IdentityPartitionMapping", "LastPartitionMapping",
        "MonthlyPartitionsDefinition", "MultiPartitionKey", "MultiPartitionMapping", "MultiPartitionsDefinition",
        "MultiToSingleDimensionPartitionMapping", "Partition", "PartitionKeyRange", "PartitionMapping",
        "PartitionedConfig", "PartitionsDefinition", "SpecificPartitionsPartitionMapping", "StaticPartitionMapping",
        "StaticPartitionsDefinition", "TimeWindow", "TimeWindowPartitionMapping", "TimeWindowPartitionsDefinition",
        "WeeklyPartitionsDefinition", "daily_partitioned_config", "dynamic_partitioned_config",
        "hourly_partitioned_config", "monthly_partitioned_config", "partition_loading_context", "partitioned_config",
        "static_partitioned_config", "weekly_partitioned_config",
    ]
    assert [name for name in names if not hasattr(dg, name)] == []
