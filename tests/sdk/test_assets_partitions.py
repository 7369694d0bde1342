"""Partitioned assets: partition mappings between assets and partition errors, as in Dagster 1.13."""

import pytest

import orchestra as dg

colors = dg.StaticPartitionsDefinition(["red", "blue"])
daily = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-05")


@dg.asset(partitions_def=colors)
def paint(context: dg.AssetExecutionContext):
    return context.partition_key.upper()


@dg.asset
def palette(context: dg.AssetExecutionContext, paint):
    assert context.asset_partition_keys_for_input("paint") == ["red", "blue"]
    return paint


@dg.asset(ins={"paint": dg.AssetIn(partition_mapping=dg.LastPartitionMapping())})
def last_one(paint):
    return paint


@dg.asset(partitions_def=daily)
def day(context: dg.AssetExecutionContext):
    return context.partition_key


@dg.asset(partitions_def=daily, ins={"day": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1))})
def lagged(context: dg.AssetExecutionContext, day):
    return (context.partition_key, day)


def test_unpartitioned_downstream_reads_every_partition():
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([paint], partition_key="red", instance=instance)
    dg.materialize([paint], partition_key="blue", instance=instance)
    result = dg.materialize([paint, palette, last_one], selection=[palette, last_one], instance=instance)
    assert result.asset_value("palette") == {"red": "RED", "blue": "BLUE"}
    assert result.asset_value("last_one") == "BLUE"


def test_time_window_mapping_reads_the_previous_day():
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([day], partition_key="2024-01-02", instance=instance)
    result = dg.materialize([day, lagged], selection=[lagged], partition_key="2024-01-03", instance=instance)
    assert result.asset_value("lagged") == ("2024-01-03", "2024-01-02")
    assert lagged.partitions_def == daily
    assert lagged.get_partition_mapping(dg.AssetKey("day")) == dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)


def test_unknown_partition_key_is_rejected():
    with pytest.raises(dg.DagsterUnknownPartitionError, match="Could not find a partition with key `zzz`"):
        dg.materialize([paint], partition_key="zzz")


def test_partitioned_asset_without_partition_key_fails():
    with pytest.raises(dg.DagsterInvariantViolationError, match="non-partitioned run"):
        dg.materialize([paint])


def test_planned_event_carries_the_partition():
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([paint], partition_key="blue", instance=instance)
    planned = [
        e.dagster_event.event_specific_data for e in instance.all_logs(result.run_id)
        if e.dagster_event is not None and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION_PLANNED"
    ]
    assert [(p.asset_key, p.partition) for p in planned] == [(dg.AssetKey("paint"), "blue")]


def test_multi_partitioned_assets_get_multi_partition_keys(tmp_path):
    grid = dg.MultiPartitionsDefinition(
        {"date": dg.StaticPartitionsDefinition(["d1", "d2"]), "color": dg.StaticPartitionsDefinition(["red", "blue"])}
    )
    seen = []

    @dg.asset(partitions_def=grid)
    def cell(context: dg.AssetExecutionContext):
        seen.append(context.partition_key.keys_by_dimension)
        return 1

    @dg.asset(partitions_def=grid)
    def cell_child(cell):
        return cell + 1

    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    result = dg.materialize([cell, cell_child], partition_key="red|d1", instance=instance)
    assert seen == [{"color": "red", "date": "d1"}]
    partition = result.asset_materializations_for_node("cell")[0].partition
    assert isinstance(partition, dg.MultiPartitionKey) and partition == "red|d1"
    assert (tmp_path / "storage" / "cell" / "red" / "d1").is_file()
    assert result.asset_value("cell_child") == 2
    assert result.dagster_run.tags["dagster/partition/color"] == "red"


def test_partition_range_run_materializes_every_partition():
    seen = {}

    @dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
    def ranged(context: dg.AssetExecutionContext):
        seen["keys"] = context.partition_keys
        seen["range"] = context.partition_key_range
        seen["window_end"] = context.partition_time_window.end.isoformat()
        seen["has_key"] = context.has_partition_key
        with pytest.raises(dg.DagsterInvariantViolationError, match="range of partitions"):
            _ = context.partition_key
        return dg.MaterializeResult(metadata={"n": len(context.partition_keys)})

    tags = {"dagster/asset_partition_range_start": "2024-01-02", "dagster/asset_partition_range_end": "2024-01-04"}
    result = dg.materialize([ranged], tags=tags)
    assert seen["keys"] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert seen["range"] == dg.PartitionKeyRange("2024-01-02", "2024-01-04")
    assert seen["window_end"].startswith("2024-01-05") and seen["has_key"] is False
    assert [m.partition for m in result.asset_materializations_for_node("ranged")] == [
        "2024-01-02", "2024-01-03", "2024-01-04",
    ]
    assert dg.BackfillPolicy.single_run().max_partitions_per_run is None
    assert str(dg.BackfillPolicy.multi_run(3)) == "BackfillPolicy.multi_run(max_partitions_per_run=3)"
