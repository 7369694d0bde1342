"""Materializing assets: values, events, IO managers, partitions and selection, as Dagster 1.13 does."""

import os

import pytest

import orchestra as dg


def _types(result):
    return [e.event_type_value for e in result.all_events]


def test_chain_values_and_event_sequence():
    @dg.asset
    def a():
        return 1

    @dg.asset
    def b(a):
        return a + 1

    @dg.asset
    def c(b):
        return b * 10

    result = dg.materialize([a, b, c])
    assert result.success
    assert result.job_def.name == "__ephemeral_asset_job__"
    assert [result.asset_value(k) for k in ("a", "b", "c")] == [1, 2, 20]
    assert result.output_for_node("c") == 20
    assert _types(result) == [
        "PIPELINE_START", "ENGINE_EVENT", "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "LOGS_CAPTURED",
        "STEP_START", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "HANDLED_OUTPUT", "STEP_SUCCESS",
        "STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "HANDLED_OUTPUT",
        "STEP_SUCCESS",
        "STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "HANDLED_OUTPUT",
        "STEP_SUCCESS",
        "ENGINE_EVENT", "PIPELINE_SUCCESS",
    ]
    events = result.get_asset_materialization_events()
    assert [e.asset_key for e in events] == [dg.AssetKey("a"), dg.AssetKey("b"), dg.AssetKey("c")]
    assert [e.step_key for e in events] == ["a", "b", "c"]
    assert events[0].message == "Materialized value a."
    materialization = result.asset_materializations_for_node("b")[0]
    assert materialization.asset_key == dg.AssetKey("b")
    assert materialization.partition is None
    assert isinstance(materialization.metadata["path"], dg.PathMetadataValue)


def test_planned_events_are_written_before_the_run_starts():
    @dg.asset
    def a():
        return 1

    @dg.asset
    def b(a):
        return a

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([a, b], instance=instance)
    entries = [e for e in instance.all_logs(result.run_id) if e.dagster_event is not None]
    types = [e.dagster_event.event_type_value for e in entries]
    assert types[:3] == ["ASSET_MATERIALIZATION_PLANNED", "ASSET_MATERIALIZATION_PLANNED", "PIPELINE_START"]
    planned = entries[0].dagster_event
    assert planned.event_specific_data.asset_key == dg.AssetKey("a")
    assert planned.step_key == "a"
    assert planned.message == '__ephemeral_asset_job__ intends to materialize asset ["a"]'
    assert "ASSET_MATERIALIZATION_PLANNED" not in _types(result)


def test_materialize_result_metadata_and_no_io_manager():
    @dg.asset
    def table(context):
        context.log_event(dg.AssetObservation(asset_key="other", metadata={"q": 1}))
        return dg.MaterializeResult(metadata={"rows": 3, "source": "db"})

    @dg.asset(deps=[table])
    def summary() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 1})

    result = dg.materialize([table, summary])
    assert result.success
    assert "HANDLED_OUTPUT" not in _types(result)
    step_types = [e.event_type_value for e in result.all_events if e.step_key == "table"]
    assert step_types == ["STEP_START", "ASSET_OBSERVATION", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "STEP_SUCCESS"]
    materialization = result.asset_materializations_for_node("table")[0]
    assert materialization.metadata == {"rows": dg.IntMetadataValue(3), "source": dg.TextMetadataValue("db")}
    observation = result.get_asset_observation_events()[0]
    assert observation.asset_key == dg.AssetKey("other")
    assert observation.event_specific_data.asset_observation.metadata == {"q": dg.IntMetadataValue(1)}


def test_output_and_context_metadata_reach_the_materialization():
    @dg.asset
    def a(context: dg.AssetExecutionContext):
        context.add_output_metadata({"from_context": 1})
        return dg.Output(5, metadata={"from_output": "x"})

    result = dg.materialize([a])
    metadata = result.asset_materializations_for_node("a")[0].metadata
    assert metadata["from_context"] == dg.IntMetadataValue(1)
    assert metadata["from_output"] == dg.TextMetadataValue("x")
    assert "path" in metadata
    assert result.asset_value("a") == 5


def test_yielded_asset_materialization_from_an_asset():
    @dg.asset
    def a():
        yield dg.AssetMaterialization("side_table", metadata={"n": 1})
        yield dg.Output(1)

    result = dg.materialize([a])
    keys = [e.asset_key for e in result.get_asset_materialization_events()]
    assert keys == [dg.AssetKey("side_table"), dg.AssetKey("a")]


def test_multi_asset_tuple_and_yielded_outputs():
    @dg.multi_asset(outs={"x": dg.AssetOut(), "y": dg.AssetOut(key_prefix="pre")})
    def tuple_multi():
        return 1, 2

    @dg.multi_asset(outs={"p": dg.AssetOut(), "q": dg.AssetOut()})
    def yielding(x):
        yield dg.Output(x + 10, "q")
        yield dg.Output(x + 20, "p")

    result = dg.materialize([tuple_multi, yielding])
    assert result.success
    assert result.asset_value("x") == 1
    assert result.asset_value(["pre", "y"]) == 2
    assert result.asset_value("p") == 21 and result.asset_value("q") == 11
    assert [m.asset_key for m in result.asset_materializations_for_node("yielding")] == [
        dg.AssetKey("q"), dg.AssetKey("p"),
    ]


def test_multi_asset_subset_selection():
    seen = []

    @dg.multi_asset(outs={"a": dg.AssetOut(is_required=False), "b": dg.AssetOut(is_required=False)}, can_subset=True)
    def sub(context: dg.AssetExecutionContext):
        seen.append(set(context.selected_asset_keys))
        for name in sorted(context.selected_output_names):
            yield dg.Output(name.upper(), name)

    result = dg.materialize([sub], selection=["b"])
    assert result.success
    assert seen == [{dg.AssetKey("b")}]
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [dg.AssetKey("b")]
    assert result.asset_value("b") == "B"


def test_multi_asset_without_can_subset_rejects_partial_selection():
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def both():
        return 1, 2

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Failed to resolve asset job") as info:
        dg.materialize([both], selection=["a"])
    assert isinstance(info.value.__cause__, dg.DagsterInvalidSubsetError)
    assert "does not support subsetting" in str(info.value.__cause__)


def test_partitioned_assets_get_partition_key_and_window():
    daily = dg.DailyPartitionsDefinition("2024-01-01")
    seen = {}

    @dg.asset(partitions_def=daily)
    def events(context: dg.AssetExecutionContext):
        seen["key"] = context.partition_key
        seen["keys"] = context.partition_keys
        seen["window"] = context.partition_time_window
        return [context.partition_key]

    @dg.asset(partitions_def=daily)
    def summary(context: dg.AssetExecutionContext, events):
        return events + ["summary"]

    result = dg.materialize([events, summary], partition_key="2024-01-02")
    assert result.success
    assert seen["key"] == "2024-01-02" and seen["keys"] == ["2024-01-02"]
    assert seen["window"].start.isoformat().startswith("2024-01-02")
    assert seen["window"].end.isoformat().startswith("2024-01-03")
    assert result.asset_value("summary") == ["2024-01-02", "summary"]
    assert [m.partition for m in result.asset_materializations_for_node("events")] == ["2024-01-02"]
    assert result.dagster_run.tags["dagster/partition"] == "2024-01-02"


def test_partition_key_outside_a_partitioned_run_raises():
    @dg.asset
    def plain(context: dg.AssetExecutionContext):
        with pytest.raises(dg.DagsterInvariantViolationError, match="non-partitioned run"):
            _ = context.partition_key
        return context.has_partition_key

    assert dg.materialize([plain]).asset_value("plain") is False


def test_static_partitions_with_io_manager_paths(tmp_path):
    colors = dg.StaticPartitionsDefinition(["red", "blue"])

    @dg.asset(partitions_def=colors)
    def paint(context: dg.AssetExecutionContext):
        return context.partition_key * 2

    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    dg.materialize([paint], partition_key="red", instance=instance)
    dg.materialize([paint], partition_key="blue", instance=instance)
    assert sorted(os.listdir(tmp_path / "storage" / "paint")) == ["blue", "red"]


def test_fs_io_manager_shares_values_across_materialize_calls_with_one_instance():
    calls = []

    @dg.asset
    def upstream():
        calls.append("upstream")
        return 41

    @dg.asset
    def downstream(upstream):
        return upstream + 1

    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([upstream], instance=instance)
    result = dg.materialize([upstream, downstream], selection=["downstream"], instance=instance)
    assert result.success
    assert calls == ["upstream"]
    assert result.asset_value("downstream") == 42
    loaded = [e for e in result.all_events if e.event_type_value == "LOADED_INPUT"]
    assert loaded[0].message == 'Loaded input "upstream" using input manager "io_manager"'


def test_without_an_instance_each_materialize_has_its_own_storage():
    @dg.asset
    def first():
        return 1

    @dg.asset
    def second(first):
        return first

    dg.materialize([first])
    with pytest.raises(FileNotFoundError):
        dg.materialize([first, second], selection=[second])


def test_deps_without_data_order_execution():
    order = []

    @dg.asset
    def writes_table():
        order.append("writes")

    @dg.asset(deps=[writes_table])
    def reads_table():
        order.append("reads")

    result = dg.materialize([reads_table, writes_table])
    assert result.success
    assert order == ["writes", "reads"]
    reads_events = [e.event_type_value for e in result.all_events if e.step_key == "reads_table"]
    assert "LOADED_INPUT" not in reads_events


def test_deps_on_assets_outside_the_run_are_ignored():
    @dg.asset(deps=["somewhere_else"])
    def standalone():
        return 1

    assert dg.materialize([standalone]).success


def test_source_asset_input_is_loaded_through_its_io_manager():
    loaded = []

    class Warehouse(dg.IOManager):
        def handle_output(self, context, obj):
            raise AssertionError("source assets are never stored")

        def load_input(self, context):
            loaded.append((context.asset_key, context.upstream_output.asset_key))
            return [1, 2, 3]

    raw = dg.SourceAsset("raw", io_manager_key="warehouse")

    @dg.asset
    def total(raw):
        return sum(raw)

    result = dg.materialize([raw, total], resources={"warehouse": Warehouse()})
    assert result.asset_value("total") == 6
    assert loaded == [(dg.AssetKey("raw"), dg.AssetKey("raw"))]
    loaded_event = [e for e in result.all_events if e.event_type_value == "LOADED_INPUT"][0]
    assert loaded_event.message == 'Loaded input "raw" using input manager "warehouse"'


def test_asset_spec_as_external_upstream_loads_from_io_manager():
    class Values(dg.IOManager):
        def handle_output(self, context, obj):
            pass

        def load_input(self, context):
            return context.asset_key.to_user_string()

    @dg.asset
    def uses(ext):
        return ext + "!"

    result = dg.materialize([dg.AssetSpec("ext"), uses], resources={"io_manager": Values()})
    assert result.success
    assert result.output_for_node("uses") == "ext!"


def test_custom_io_manager_gets_asset_keys_and_partitions():
    seen = []

    class Recorder(dg.IOManager):
        def handle_output(self, context, obj):
            seen.append(("out", context.asset_key, context.has_asset_partitions and context.asset_partition_keys))

        def load_input(self, context):
            seen.append(("in", context.asset_key, context.has_asset_partitions and context.asset_partition_keys))
            return 1

    parts = dg.StaticPartitionsDefinition(["p1", "p2"])

    @dg.asset(partitions_def=parts, key_prefix="pre")
    def up():
        return 1

    @dg.asset(partitions_def=parts, ins={"up": dg.AssetIn(key=["pre", "up"])})
    def down(up):
        return up

    dg.materialize([up, down], partition_key="p2", resources={"io_manager": Recorder()})
    assert seen == [
        ("out", dg.AssetKey(["pre", "up"]), ["p2"]),
        ("in", dg.AssetKey(["pre", "up"]), ["p2"]),
        ("out", dg.AssetKey("down"), ["p2"]),
    ]


def test_failure_raises_and_stops_downstream():
    ran = []

    @dg.asset
    def broken():
        raise ValueError("boom")

    @dg.asset
    def after(broken):
        ran.append(1)

    with pytest.raises(ValueError, match="boom"):
        dg.materialize([broken, after])
    result = dg.materialize([broken, after], raise_on_error=False)
    assert not result.success
    assert ran == []
    assert result.get_failed_step_keys() == {"broken"}


def test_resources_and_config():
    class Multiplier(dg.ConfigurableResource):
        factor: int

    class Settings(dg.Config):
        base: int = 1

    @dg.asset
    def scaled(config: Settings, multiplier: Multiplier):
        return config.base * multiplier.factor

    @dg.asset(required_resource_keys={"offset"}, config_schema={"extra": int})
    def legacy(context, scaled):
        return scaled + context.resources.offset + context.op_config["extra"]

    result = dg.materialize(
        [scaled, legacy],
        resources={"multiplier": Multiplier(factor=3), "offset": 100},
        run_config={"ops": {"scaled": {"config": {"base": 2}}, "legacy": {"config": {"extra": 1}}}},
    )
    assert result.asset_value("scaled") == 6
    assert result.asset_value("legacy") == 107


def test_selection_by_key_strings_and_keys():
    @dg.asset(key_prefix="grp")
    def one():
        return 1

    @dg.asset
    def two():
        return 2

    result = dg.materialize([one, two], selection=["grp/one"])
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [dg.AssetKey(["grp", "one"])]
    result = dg.materialize([one, two], selection=[dg.AssetKey("two")])
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [dg.AssetKey("two")]


def test_key_prefixed_asset_is_stored_under_its_path(tmp_path):
    @dg.asset(key_prefix=["a", "b"])
    def c():
        return 3

    dg.materialize([c], instance=dg.DagsterInstance.ephemeral(tempdir=str(tmp_path)))
    assert (tmp_path / "storage" / "a" / "b" / "c").is_file()


def test_materialize_to_memory_keeps_values_in_memory():
    @dg.asset(io_manager_key="custom")
    def a():
        return [1]

    @dg.asset
    def b(a):
        return a + [2]

    result = dg.materialize_to_memory([a, b])
    assert result.asset_value("b") == [1, 2]
    with pytest.raises(dg.DagsterInvariantViolationError, match="io manager key 'custom'"):
        dg.materialize_to_memory([a], resources={"custom": dg.InMemoryIOManager()})


def test_none_returning_asset_is_still_materialized():
    @dg.asset
    def side_effect() -> None:
        pass

    result = dg.materialize([side_effect])
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [dg.AssetKey("side_effect")]
    assert "HANDLED_OUTPUT" not in _types(result)


def test_context_properties_in_a_run():
    seen = {}

    @dg.asset
    def a(context: dg.AssetExecutionContext):
        seen["asset_key"] = context.asset_key
        seen["run_id"] = context.run_id
        seen["job_name"] = context.job_name
        seen["op"] = context.op_execution_context.op_def.name
        seen["selected"] = context.selected_asset_keys
        context.log.info("hello")
        return 1

    result = dg.materialize([a])
    assert seen == {
        "asset_key": dg.AssetKey("a"), "run_id": result.run_id, "job_name": "__ephemeral_asset_job__", "op": "a",
        "selected": {dg.AssetKey("a")},
    }


def test_observable_source_asset_records_an_observation():
    @dg.observable_source_asset
    def watched():
        return dg.ObserveResult(metadata={"n": 1}, data_version=dg.DataVersion("v1"))

    @dg.asset(deps=[watched])
    def after_watch():
        return 1

    assert isinstance(watched, dg.SourceAsset)
    assert watched.key == dg.AssetKey("watched")
    result = dg.materialize([watched, after_watch], selection=[watched, after_watch])
    assert result.success
    steps = [(e.event_type_value, e.step_key) for e in result.all_events if e.step_key == "watched"]
    assert [t for t, _ in steps if t.startswith(("ASSET", "STEP_OUTPUT"))] == ["ASSET_OBSERVATION", "STEP_OUTPUT"]
    observation = result.get_asset_observation_events()[0].event_specific_data.asset_observation
    assert observation.asset_key == dg.AssetKey("watched")
    assert observation.metadata == {"n": dg.IntMetadataValue(1)}
    assert observation.tags == {"dagster/data_version": "v1"}
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [dg.AssetKey("after_watch")]
    default = dg.materialize([watched, after_watch])
    assert default.get_asset_observation_events() == []


def test_tuple_value_of_a_single_asset_is_one_value():
    @dg.asset
    def pair():
        return (1, 2)

    assert dg.materialize([pair]).asset_value("pair") == (1, 2)


def test_plain_return_with_check_specs_is_an_error():
    @dg.asset(check_specs=[dg.AssetCheckSpec("c", asset="checked")])
    def checked():
        return 1

    result = dg.materialize([checked], raise_on_error=False)
    assert not result.success
    assert [e.event_type_value for e in result.all_events if e.step_key == "checked"][-2:] == ["STEP_START", "STEP_FAILURE"]


def test_missing_io_managers_are_definition_errors():
    @dg.asset(io_manager_key="missing_io")
    def needs_io():
        return 1

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="io manager with key 'missing_io' required by output"):
        dg.materialize([needs_io])

    source = dg.SourceAsset("src", io_manager_key="src_io")

    @dg.asset
    def reads_src(src):
        return src

    with pytest.raises(dg.DagsterInvalidDefinitionError, match='required by SourceAsset with key \\["src"\\]'):
        dg.materialize([source, reads_src])


def test_output_annotation_gives_the_output_type():
    @dg.asset
    def typed() -> dg.Output[int]:
        return dg.Output(1, metadata={"m": 1})

    @dg.asset
    def stored() -> dg.MaterializeResult:
        return dg.MaterializeResult()

    assert [o.dagster_type.display_name for o in typed.op.output_defs] == ["Int"]
    assert [o.dagster_type.display_name for o in stored.op.output_defs] == ["Any"]
    assert dg.materialize([typed, stored]).asset_value("typed") == 1


def test_asset_hooks_run_for_the_asset_step():
    calls = []

    @dg.success_hook
    def record(context):
        calls.append(context.op.name)

    @dg.asset(hooks={record})
    def hooked():
        return 1

    @dg.asset
    def not_hooked(hooked):
        return 2

    result = dg.materialize([hooked, not_hooked])
    assert calls == ["hooked"]
    assert [e.event_type_value for e in result.all_events if e.event_type_value.startswith("HOOK")] == ["HOOK_COMPLETED"]
