"""Partition programs of the kind found in Dagster's docs, run with Orchestra; expected values are what Dagster 1.13 printed."""

import datetime

import pytest

import orchestra as dg


def _first_line(exc):
    return str(exc).splitlines()[0]


def test_daily_partitions_keys_windows_and_partitioned_materialize():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")
    keys = daily.get_partition_keys()
    assert (keys[:3], len(keys)) == (["2024-01-01", "2024-01-02", "2024-01-03"], 9)
    assert (daily.get_last_partition_key(), daily.get_first_partition_key()) == ("2024-01-09", "2024-01-01")
    window = daily.time_window_for_partition_key("2024-01-05")
    assert (window.start.isoformat(), window.end.isoformat()) == ("2024-01-05T00:00:00+00:00", "2024-01-06T00:00:00+00:00")
    assert daily.get_next_partition_key("2024-01-05") == "2024-01-06"
    assert daily.get_partition_keys_in_range(dg.PartitionKeyRange("2024-01-03", "2024-01-06")) == [
        "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06",
    ]
    assert (daily.has_partition_key("2024-01-10"), daily.has_partition_key("2023-12-31")) == (False, False)

    @dg.asset(partitions_def=daily)
    def events(context: dg.AssetExecutionContext):
        tw = context.partition_time_window
        return {"pk": context.partition_key, "start": tw.start.isoformat(), "end": tw.end.isoformat()}

    @dg.asset(partitions_def=daily)
    def daily_summary(context, events):
        return (context.partition_key, events["pk"])

    result = dg.materialize([events, daily_summary], partition_key="2024-01-04")
    assert result.output_for_node("events") == {"pk": "2024-01-04", "start": "2024-01-04T00:00:00+00:00", "end": "2024-01-05T00:00:00+00:00"}
    assert result.output_for_node("daily_summary") == ("2024-01-04", "2024-01-04")
    assert [e.event_specific_data.materialization.partition for e in result.get_asset_materialization_events()] == ["2024-01-04"] * 2
    assert result.dagster_run.tags.get("dagster/partition") == "2024-01-04"
    with pytest.raises(dg.DagsterUnknownPartitionError, match="^Could not find a partition with key `2030-01-01`.$"):
        dg.materialize([events], partition_key="2030-01-01")


def test_hourly_weekly_monthly_offsets_formats_and_dst():
    hourly = dg.HourlyPartitionsDefinition(start_date="2024-03-10-00:00", end_date="2024-03-10-06:00", timezone="America/New_York")
    assert hourly.get_partition_keys() == ["2024-03-10-00:00", "2024-03-10-01:00", "2024-03-10-03:00", "2024-03-10-04:00", "2024-03-10-05:00"]
    windows = [(k, hourly.time_window_for_partition_key(k)) for k in hourly.get_partition_keys()[1:4]]
    assert [(k, w.start.isoformat(), w.end.isoformat()) for k, w in windows] == [
        ("2024-03-10-01:00", "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00"),
        ("2024-03-10-03:00", "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00"),
        ("2024-03-10-04:00", "2024-03-10T04:00:00-04:00", "2024-03-10T05:00:00-04:00"),
    ]
    fall = dg.HourlyPartitionsDefinition(start_date="2024-11-03-00:00", end_date="2024-11-03-04:00", timezone="America/New_York")
    assert fall.get_partition_keys() == ["2024-11-03-00:00", "2024-11-03-01:00", "2024-11-03-01:00-0500", "2024-11-03-02:00", "2024-11-03-03:00"]
    weekly = dg.WeeklyPartitionsDefinition(start_date="2024-01-01", end_date="2024-02-15")
    assert weekly.get_partition_keys() == ["2024-01-07", "2024-01-14", "2024-01-21", "2024-01-28", "2024-02-04"]
    wed = dg.WeeklyPartitionsDefinition(start_date="2024-01-03", day_offset=3, end_date="2024-02-01")
    assert (wed.get_partition_keys(), wed.cron_schedule) == (["2024-01-03", "2024-01-10", "2024-01-17", "2024-01-24"], "0 0 * * 3")
    monthly = dg.MonthlyPartitionsDefinition(start_date="2023-11-01", end_date="2024-03-01")
    assert (monthly.get_partition_keys(), monthly.cron_schedule) == (["2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01"], "0 0 1 * *")
    assert dg.MonthlyPartitionsDefinition(start_date="2023-11-05", day_offset=5, end_date="2024-02-01").get_partition_keys() == ["2023-11-05", "2023-12-05"]
    assert dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1, end_date="2024-01-05").get_partition_keys() == [
        "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04",
    ]
    offset = dg.DailyPartitionsDefinition(start_date="2024-01-01", minute_offset=30, hour_offset=2, end_date="2024-01-04")
    assert (offset.get_partition_keys(), offset.cron_schedule) == (["2024-01-01", "2024-01-02"], "30 2 * * *")
    assert offset.time_window_for_partition_key("2024-01-02").start.isoformat() == "2024-01-02T02:30:00+00:00"
    assert dg.DailyPartitionsDefinition(start_date="20240101", fmt="%Y%m%d", end_date="20240104").get_partition_keys() == ["20240101", "20240102", "20240103"]
    six_hourly = dg.TimeWindowPartitionsDefinition(cron_schedule="0 */6 * * *", start="2024-01-01-00:00", fmt="%Y-%m-%d-%H:%M", end="2024-01-02-00:00")
    assert six_hourly.get_partition_keys() == ["2024-01-01-00:00", "2024-01-01-06:00", "2024-01-01-12:00", "2024-01-01-18:00"]
    now = datetime.datetime(2024, 1, 3, 5, tzinfo=datetime.UTC)
    assert dg.DailyPartitionsDefinition(start_date="2024-01-01").get_partition_keys(current_time=now) == ["2024-01-01", "2024-01-02"]
    assert dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1).get_partition_keys(current_time=now) == [
        "2024-01-01", "2024-01-02", "2024-01-03",
    ]
    with pytest.raises(TypeError):  # Dagster 1.13 takes no current_time here
        dg.DailyPartitionsDefinition(start_date="2024-01-01").get_last_partition_key(current_time=now)


def test_static_and_multi_partitions_keys_tags_and_errors():
    colors = dg.StaticPartitionsDefinition(["red", "green", "blue"])
    dates = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03")
    multi = dg.MultiPartitionsDefinition({"date": dates, "color": colors})
    assert multi.get_partition_keys() == [
        "red|2024-01-01", "red|2024-01-02", "green|2024-01-01", "green|2024-01-02", "blue|2024-01-01", "blue|2024-01-02",
    ]
    assert [d.name for d in multi.partitions_defs] == ["color", "date"]
    key = multi.get_partition_keys()[0]
    assert (type(key).__name__, key.keys_by_dimension, str(key)) == ("MultiPartitionKey", {"color": "red", "date": "2024-01-01"}, "red|2024-01-01")

    @dg.asset(partitions_def=multi)
    def painted(context: dg.AssetExecutionContext):
        pk = context.partition_key
        return (pk.keys_by_dimension["color"], pk.keys_by_dimension["date"])

    result = dg.materialize([painted], partition_key=dg.MultiPartitionKey({"color": "blue", "date": "2024-01-02"}))
    assert result.output_for_node("painted") == ("blue", "2024-01-02")
    assert sorted((k, v) for k, v in result.dagster_run.tags.items() if k.startswith("dagster/partition")) == [
        ("dagster/partition", "blue|2024-01-02"), ("dagster/partition/color", "blue"),
        ("dagster/partition/date", "2024-01-02"), ("dagster/partition_set", "__ephemeral_asset_job___partition_set"),
    ]
    # dimensions are ordered by name, so the date comes second
    with pytest.raises(dg.DagsterUnknownPartitionError, match="^Could not find a partition with key `2024-01-01|red`.$"):
        dg.materialize([painted], partition_key="2024-01-01|red")


def test_dynamic_partitions_live_in_the_instance():
    regions = dg.DynamicPartitionsDefinition(name="regions")

    @dg.asset(partitions_def=regions)
    def region_data(context):
        return f"data-{context.partition_key}"

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("regions", ["us", "eu"])
    assert regions.get_partition_keys(dynamic_partitions_store=instance) == ["us", "eu"]
    assert (instance.get_dynamic_partitions("regions"), instance.has_dynamic_partition("regions", "us")) == (["us", "eu"], True)
    result = dg.materialize([region_data], partition_key="eu", instance=instance)
    assert (result.success, result.output_for_node("region_data")) == (True, "data-eu")
    with pytest.raises(dg.DagsterUnknownPartitionError, match="^Could not find a partition with key `apac`.$"):
        dg.materialize([region_data], partition_key="apac", instance=instance)
    instance.delete_dynamic_partition("regions", "us")
    assert instance.get_dynamic_partitions("regions") == ["eu"]
    assert sorted(instance.get_materialized_partitions(dg.AssetKey("region_data"))) == ["eu"]
    assert (regions.build_add_request(["x"]).partition_keys, regions.build_delete_request(["y"]).partitions_def_name) == (["x"], "regions")


class _KeysIO(dg.IOManager):
    def handle_output(self, context, obj):
        pass

    def load_input(self, context):
        if context.has_asset_partitions:
            return {k: f"v{k[-2:]}" for k in context.asset_partition_keys}
        return None


def test_partition_mappings_pick_upstream_keys_for_inputs():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")

    @dg.asset(partitions_def=daily)
    def clicks(context):
        return context.partition_key

    @dg.asset(partitions_def=daily, ins={"clicks": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=0))})
    def rolling(context, clicks):
        return (context.partition_key, context.asset_partition_keys_for_input("clicks"), clicks)

    @dg.asset(ins={"clicks": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
    def all_clicks(context, clicks):
        return sorted(clicks)

    io = {"io_manager": _KeysIO()}
    result = dg.materialize([clicks, rolling], partition_key="2024-01-05", resources=io, selection=[rolling])
    assert result.output_for_node("rolling") == ("2024-01-05", ["2024-01-04", "2024-01-05"], {"2024-01-04": "v04", "2024-01-05": "v05"})
    result = dg.materialize([clicks, rolling], partition_key="2024-01-01", resources=io, selection=[rolling])
    assert result.output_for_node("rolling") == ("2024-01-01", ["2024-01-01"], {"2024-01-01": "v01"})
    result = dg.materialize([clicks, all_clicks], resources=io, selection=[all_clicks])
    assert result.output_for_node("all_clicks") == [f"2024-01-0{d}" for d in range(1, 10)]


def test_weekly_asset_reading_days_past_the_daily_end_fails():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")
    weekly = dg.WeeklyPartitionsDefinition(start_date="2024-01-07", end_date="2024-02-04")

    @dg.asset(partitions_def=daily)
    def clicks():
        return 1

    @dg.asset(partitions_def=weekly)
    def weekly_clicks(context, clicks):
        return (context.partition_key, context.asset_partition_keys_for_input("clicks"), context.asset_partition_key_range_for_input("clicks"))

    with pytest.raises(dg.DagsterInvariantViolationError) as info:
        dg.materialize([clicks, weekly_clicks], partition_key="2024-01-07", resources={"io_manager": _KeysIO()}, selection=[weekly_clicks])
    assert _first_line(info.value) == (
        "Partition key range PartitionKeyRange(start='2024-01-07', end='2024-01-07') in weekly_clicks depends on invalid "
        "partitions TimeWindowPartitionsSubset([PartitionKeyRange(start='2024-01-10', end='2024-01-13')]) in upstream "
        "asset AssetKey(['clicks'])"
    )

    @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01"), name="clicks")
    def clicks_long():
        return 1

    result = dg.materialize([clicks_long, weekly_clicks], partition_key="2024-01-14", resources={"io_manager": _KeysIO()}, selection=[weekly_clicks])
    key, keys, key_range = result.output_for_node("weekly_clicks")
    assert (key, keys, key_range.start, key_range.end) == ("2024-01-14", [f"2024-01-{d}" for d in range(14, 21)], "2024-01-14", "2024-01-20")


def test_partition_mapping_objects_map_keys_both_ways():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")
    mapping = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    mapped = mapping.get_upstream_mapped_partitions_result_for_partitions(
        daily.subset_with_partition_keys(["2024-01-01", "2024-01-03"]), daily, daily,
    )
    assert (sorted(mapped.partitions_subset.get_partition_keys()), sorted(mapped.required_but_nonexistent_partition_keys)) == (["2024-01-02"], [])
    last = dg.LastPartitionMapping().get_upstream_mapped_partitions_result_for_partitions(None, None, daily)
    assert list(last.partitions_subset.get_partition_keys()) == ["2024-01-09"]
    static = dg.StaticPartitionMapping({"a": "x", "b": ["x", "y"]})
    up, down = dg.StaticPartitionsDefinition(["a", "b"]), dg.StaticPartitionsDefinition(["x", "y"])
    assert sorted(static.get_downstream_partitions_for_partitions(up.subset_with_partition_keys(["b"]), up, down).get_partition_keys()) == ["x", "y"]
    upstream = static.get_upstream_mapped_partitions_result_for_partitions(down.subset_with_partition_keys(["x"]), down, up)
    assert sorted(upstream.partitions_subset.get_partition_keys()) == ["a", "b"]


def test_partitioned_configs_give_each_partition_its_run_config_and_tags():
    @dg.daily_partitioned_config(start_date="2024-01-01")
    def my_config(start, end):
        return {"ops": {"process": {"config": {"date": start.strftime("%Y-%m-%d"), "end": end.strftime("%Y-%m-%d")}}}}

    @dg.op(config_schema={"date": str, "end": str})
    def process(context):
        return (context.op_config["date"], context.op_config["end"], context.partition_key)

    @dg.job(config=my_config)
    def do_stuff():
        process()

    result = do_stuff.execute_in_process(partition_key="2024-02-10")
    assert result.output_for_node("process") == ("2024-02-10", "2024-02-11", "2024-02-10")
    assert sorted((k, v) for k, v in result.dagster_run.tags.items() if k.startswith("dagster/")) == [
        ("dagster/partition", "2024-02-10"), ("dagster/partition_set", "do_stuff_partition_set"),
    ]
    assert my_config.get_run_config_for_partition_key("2024-01-03") == {"ops": {"process": {"config": {"date": "2024-01-03", "end": "2024-01-04"}}}}
    assert do_stuff.partitions_def.get_partition_keys()[:2] == ["2024-01-01", "2024-01-02"]

    @dg.static_partitioned_config(partition_keys=["us", "eu"])
    def region_config(partition_key):
        return {"ops": {"region_op": {"config": {"region": partition_key}}}}

    @dg.op(config_schema={"region": str})
    def region_op(context):
        return context.op_config["region"]

    @dg.job(config=region_config)
    def region_job():
        region_op()

    assert region_job.execute_in_process(partition_key="eu").output_for_node("region_op") == "eu"
    with pytest.raises(dg.DagsterUnknownPartitionError, match="^Could not find a partition with key `apac`.$"):
        region_job.execute_in_process(partition_key="apac")

    config = dg.PartitionedConfig(
        partitions_def=dg.StaticPartitionsDefinition(["x", "y"]),
        run_config_for_partition_key_fn=lambda k: {"ops": {"region_op": {"config": {"region": k * 2}}}},
        tags_for_partition_key_fn=lambda k: {"region": k},
    )

    @dg.job(config=config)
    def pc_job():
        region_op()

    result = pc_job.execute_in_process(partition_key="y")
    assert (result.output_for_node("region_op"), result.dagster_run.tags.get("region")) == ("yy", "y")


def test_partitioned_asset_job_and_its_schedule():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")

    @dg.asset(partitions_def=daily)
    def raw(context):
        return context.partition_key

    @dg.asset(partitions_def=daily)
    def clean(raw):
        return raw + "!"

    @dg.asset
    def unpartitioned():
        return 1

    job = dg.define_asset_job("daily_job", selection=[raw, clean], partitions_def=daily, tags={"team": "data"})
    defs = dg.Definitions(assets=[raw, clean, unpartitioned], jobs=[job])
    resolved = defs.resolve_job_def("daily_job")
    assert (resolved.name, resolved.partitions_def == daily, resolved.tags) == ("daily_job", True, {"team": "data"})
    result = resolved.execute_in_process(partition_key="2024-03-02")
    assert sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events()) == ["clean", "raw"]
    assert [e.event_specific_data.materialization.partition for e in result.get_asset_materialization_events()] == ["2024-03-02"] * 2
    assert (result.dagster_run.tags.get("team"), result.dagster_run.tags.get("dagster/partition")) == ("data", "2024-03-02")
    schedule = dg.build_schedule_from_partitioned_job(job)
    assert (schedule.name, schedule.cron_schedule, schedule.execution_timezone) == ("daily_job_schedule", "0 0 * * *", "UTC")
    context = dg.build_schedule_context(scheduled_execution_time=datetime.datetime(2024, 5, 3, tzinfo=datetime.UTC))
    requests = schedule.evaluate_tick(context).run_requests
    assert [(r.partition_key, r.run_key, r.tags.get("dagster/partition")) for r in requests] == [("2024-05-02", "2024-05-02", "2024-05-02")]
    late = dg.build_schedule_from_partitioned_job(job, hour_of_day=3, minute_of_hour=15, name="late")
    assert (late.name, late.cron_schedule) == ("late", "15 3 * * *")
    with pytest.raises(dg.DagsterInvariantViolationError, match="^Could not find job 'nope'. Found: '__ASSET_JOB', 'daily_job'.$"):
        defs.resolve_job_def("nope")
    assert defs.resolve_implicit_global_asset_job_def().name == "__ASSET_JOB"


def test_single_run_backfill_ranges_and_berlin_hours():
    hourly = dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00", timezone="Europe/Berlin")
    seen = []

    @dg.asset(partitions_def=hourly, backfill_policy=dg.BackfillPolicy.single_run())
    def hourly_asset(context: dg.AssetExecutionContext) -> None:
        tw = context.partition_time_window
        seen.append((context.partition_key_range.start, context.partition_key_range.end, tw.start.isoformat(),
                     tw.end.isoformat(), len(context.partition_keys)))

    result = dg.materialize([hourly_asset], tags={"dagster/asset_partition_range_start": "2024-01-02-00:00",
                                                  "dagster/asset_partition_range_end": "2024-01-02-03:00"})
    assert seen[-1] == ("2024-01-02-00:00", "2024-01-02-03:00", "2024-01-02T00:00:00+01:00", "2024-01-02T04:00:00+01:00", 4)
    assert sorted(e.event_specific_data.materialization.partition for e in result.get_asset_materialization_events()) == [
        "2024-01-02-00:00", "2024-01-02-01:00", "2024-01-02-02:00", "2024-01-02-03:00",
    ]
    dg.materialize([hourly_asset], partition_key="2024-03-31-03:00")
    assert seen[-1] == ("2024-03-31-03:00", "2024-03-31-03:00", "2024-03-31T03:00:00+02:00", "2024-03-31T04:00:00+02:00", 1)
    assert hourly.get_partition_keys_in_range(dg.PartitionKeyRange("2024-03-31-00:00", "2024-03-31-04:00")) == [
        "2024-03-31-00:00", "2024-03-31-01:00", "2024-03-31-03:00", "2024-03-31-04:00",
    ]
    assert hourly.time_window_for_partition_key("2024-10-27-02:00").start.isoformat() == "2024-10-27T02:00:00+02:00"
    utc = datetime.UTC
    window = dg.TimeWindow(datetime.datetime(2024, 1, 1, 5, tzinfo=utc), datetime.datetime(2024, 1, 1, 8, tzinfo=utc))
    assert hourly.get_partition_key_range_for_time_window(window) == dg.PartitionKeyRange("2024-01-01-06:00", "2024-01-01-08:00")
    schedule = dg.build_schedule_from_partitioned_job(dg.define_asset_job("hj", selection=[hourly_asset], partitions_def=hourly), minute_of_hour=5)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("5 * * * *", "Europe/Berlin")
    tick = datetime.datetime(2024, 3, 31, 3, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert [r.partition_key for r in schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests] == ["2024-03-31-01:00"]


def test_multi_partitions_mapped_to_a_single_dimension_and_dynamic_dimensions():
    dates = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
    colors = dg.StaticPartitionsDefinition(["red", "blue"])
    multi = dg.MultiPartitionsDefinition({"date": dates, "color": colors})

    class SortedKeysIO(dg.IOManager):
        def handle_output(self, context, obj):
            pass

        def load_input(self, context):
            return sorted(str(k) for k in context.asset_partition_keys)

    @dg.asset(partitions_def=multi)
    def painted():
        return 1

    mapping = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date")

    @dg.asset(partitions_def=dates, ins={"painted": dg.AssetIn(partition_mapping=mapping)})
    def per_day(context, painted):
        return (context.partition_key, painted)

    @dg.asset(partitions_def=dates)
    def per_day_default(context, painted):
        return (context.partition_key, painted)

    @dg.asset(partitions_def=multi)
    def painted_copy(context, painted):
        return (str(context.partition_key), painted, context.asset_partition_key_for_input("painted"))

    io = {"io_manager": SortedKeysIO()}
    both = ["blue|2024-01-02", "red|2024-01-02"]
    assert dg.materialize([painted, per_day], partition_key="2024-01-02", resources=io, selection=[per_day]).output_for_node("per_day") == ("2024-01-02", both)
    result = dg.materialize([painted, per_day_default], partition_key="2024-01-02", resources=io, selection=[per_day_default])
    assert result.output_for_node("per_day_default") == ("2024-01-02", both)
    result = dg.materialize([painted, painted_copy], partition_key="red|2024-01-03", resources=io, selection=[painted_copy])
    assert result.output_for_node("painted_copy") == ("red|2024-01-03", ["red|2024-01-03"], "red|2024-01-03")
    by_color = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="color")
    upstream = by_color.get_upstream_mapped_partitions_result_for_partitions(colors.subset_with_partition_keys(["red"]), colors, multi)
    assert sorted(upstream.partitions_subset.get_partition_keys()) == ["red|2024-01-01", "red|2024-01-02", "red|2024-01-03"]
    downstream = by_color.get_downstream_partitions_for_partitions(multi.subset_with_partition_keys(["blue|2024-01-01"]), multi, colors)
    assert sorted(str(k) for k in downstream.get_partition_keys()) == ["blue"]
    key = multi.get_partition_key_from_str("blue|2024-01-03")
    assert (type(key).__name__, key.keys_by_dimension) == ("MultiPartitionKey", {"color": "blue", "date": "2024-01-03"})
    assert (multi.get_num_partitions(), dates.get_num_partitions(), colors.get_num_partitions()) == (6, 3, 2)

    regional_multi = dg.MultiPartitionsDefinition({"region": dg.DynamicPartitionsDefinition(name="reg"), "date": dates})
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("reg", ["us"])
    assert [str(k) for k in regional_multi.get_partition_keys(dynamic_partitions_store=instance)] == ["2024-01-01|us", "2024-01-02|us", "2024-01-03|us"]

    @dg.asset(partitions_def=regional_multi)
    def regional(context):
        return context.partition_key.keys_by_dimension

    result = dg.materialize([regional], partition_key="2024-01-01|us", instance=instance)
    assert result.output_for_node("regional") == {"date": "2024-01-01", "region": "us"}
