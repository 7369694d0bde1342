"""Reading asset events back from an instance, as Dagster 1.13's DagsterInstance asset methods do."""

import orchestra as dg

parts = dg.StaticPartitionsDefinition(["x", "y"])


@dg.asset(partitions_def=parts)
def split(context: dg.AssetExecutionContext):
    return dg.MaterializeResult(metadata={"k": context.partition_key})


@dg.asset
def whole():
    return 1


def _instance():
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([split], partition_key="x", instance=instance)
    dg.materialize([split], partition_key="y", instance=instance)
    dg.materialize([whole], instance=instance)
    return instance


def test_latest_materialization_event():
    instance = _instance()
    entry = instance.get_latest_materialization_event(dg.AssetKey("split"))
    assert isinstance(entry, dg.EventLogEntry)
    assert entry.asset_materialization.metadata == {"k": dg.TextMetadataValue("y")}
    assert entry.asset_materialization.partition == "y"
    assert instance.get_latest_materialization_event(dg.AssetKey("missing")) is None


def test_materialized_partitions_and_fetch():
    instance = _instance()
    assert instance.get_materialized_partitions(dg.AssetKey("split")) == {"x", "y"}
    result = instance.fetch_materializations(dg.AssetKey("split"), limit=10)
    assert [r.partition_key for r in result.records] == ["y", "x"]
    assert result.has_more is False
    assert result.records[0].asset_key == dg.AssetKey("split")
    only_x = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("split"), asset_partitions=["x"]), limit=10
    )
    assert [r.asset_materialization.partition for r in only_x.records] == ["x"]
    first = instance.fetch_materializations(dg.AssetKey("split"), limit=1, ascending=True)
    assert [r.partition_key for r in first.records] == ["x"] and first.has_more is True


def test_asset_keys_and_wipe():
    instance = _instance()
    assert instance.has_asset_key(dg.AssetKey("whole"))
    assert not instance.has_asset_key(dg.AssetKey("zz"))
    assert instance.get_asset_keys() == [dg.AssetKey("split"), dg.AssetKey("whole")]
    instance.wipe_assets([dg.AssetKey("whole")])
    assert instance.get_latest_materialization_event(dg.AssetKey("whole")) is None
    assert instance.get_asset_keys() == [dg.AssetKey("split")]
