"""Schedule and sensor programs of the kind found in Dagster's docs, run with Orchestra; expected values are what Dagster 1.13 printed."""

import datetime

import pytest

import orchestra as dg


def _first_line(exc):
    return str(exc).splitlines()[0]


@dg.op(config_schema={"date": str})
def report(context):
    return context.op_config["date"]


@dg.job
def report_job():
    report()


def _at(*args, **kwargs):
    return dg.build_schedule_context(scheduled_execution_time=datetime.datetime(*args, **kwargs))


def test_weekday_schedule_returns_run_requests_or_skip_reasons():
    @dg.schedule(job=report_job, cron_schedule="0 6 * * 1-5", execution_timezone="America/Los_Angeles")
    def weekday_schedule(context: dg.ScheduleEvaluationContext):
        t = context.scheduled_execution_time
        if t.day == 1:
            return dg.SkipReason(f"skip first of month {t.isoformat()}")
        return dg.RunRequest(run_key=t.strftime("%Y-%m-%d"), run_config={"ops": {"report": {"config": {"date": t.isoformat()}}}}, tags={"k": "v"})

    assert (weekday_schedule.name, weekday_schedule.cron_schedule, weekday_schedule.execution_timezone, weekday_schedule.job_name) == (
        "weekday_schedule", "0 6 * * 1-5", "America/Los_Angeles", "report_job",
    )
    assert weekday_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    result = weekday_schedule.evaluate_tick(_at(2024, 3, 11, 6, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-7))))
    assert [(r.run_key, r.run_config, r.tags) for r in result.run_requests] == [
        ("2024-03-11", {"ops": {"report": {"config": {"date": "2024-03-11T06:00:00-07:00"}}}}, {"k": "v", "dagster/schedule_name": "weekday_schedule"}),
    ]
    assert result.skip_message is None
    result = weekday_schedule.evaluate_tick(_at(2024, 4, 1, 6, 0))
    assert (result.run_requests, result.skip_message) == ([], "skip first of month 2024-04-01T06:00:00")
    direct = weekday_schedule(_at(2024, 4, 2, 6, 0))
    assert (type(direct).__name__, direct.run_key) == ("RunRequest", "2024-04-02")


def test_schedule_definitions_statuses_generators_and_empty_results():
    basic = dg.ScheduleDefinition(job=report_job, cron_schedule="@daily", run_config={"ops": {"report": {"config": {"date": "x"}}}},
                                  default_status=dg.DefaultScheduleStatus.RUNNING)
    assert (basic.name, basic.cron_schedule, basic.default_status, basic.execution_timezone) == (
        "report_job_schedule", "@daily", dg.DefaultScheduleStatus.RUNNING, None,
    )
    result = basic.evaluate_tick(_at(2024, 1, 1))
    assert [(r.run_key, r.run_config, sorted(r.tags.items())) for r in result.run_requests] == [
        (None, {"ops": {"report": {"config": {"date": "x"}}}}, [("dagster/schedule_name", "report_job_schedule")]),
    ]
    assert dg.ScheduleDefinition(name="twice", job_name="report_job", cron_schedule=["0 9 * * *", "0 17 * * *"]).cron_schedule == [
        "0 9 * * *", "0 17 * * *",
    ]

    @dg.schedule(cron_schedule="*/15 * * * *", job=report_job)
    def gen_schedule(context):
        for i in range(2):
            yield dg.RunRequest(run_key=f"k{i}", run_config={"ops": {"report": {"config": {"date": str(i)}}}})

    assert [r.run_key for r in gen_schedule.evaluate_tick(_at(2024, 1, 1)).run_requests] == ["k0", "k1"]

    @dg.schedule(cron_schedule="0 0 * * *", job=report_job)
    def empty_schedule(context):
        return []

    result = empty_schedule.evaluate_tick(_at(2024, 1, 1))
    assert (result.run_requests, result.skip_message) == ([], "Schedule function returned an empty result")


def test_schedule_definition_and_evaluation_errors():
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.ScheduleDefinition(job=report_job, cron_schedule="not a cron")
    assert _first_line(info.value) == (
        "Found invalid cron schedule 'not a cron' for schedule 'None''. Dagster recognizes standard cron expressions "
        "consisting of 5 fields."
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Invalid execution timezone Mars/Base for None$"):
        dg.ScheduleDefinition(job=report_job, cron_schedule="0 0 * * *", execution_timezone="Mars/Base")

    @dg.schedule(cron_schedule="0 0 * * *", job=report_job)
    def broken(context):
        raise ValueError("boom")

    with pytest.raises(dg.DagsterUserCodeExecutionError, match="^Error occurred during the evaluation of schedule broken$") as info:
        broken.evaluate_tick(_at(2024, 1, 1))
    assert type(info.value).__name__ == "ScheduleExecutionError"  # not exported by Dagster


@dg.op(config_schema={"filename": str})
def process_file(context):
    return context.op_config["filename"]


@dg.job
def log_file_job():
    process_file()


def _file_config(name):
    return {"ops": {"process_file": {"config": {"filename": name}}}}


def test_directory_sensor_yields_run_requests_and_advances_its_cursor():
    files = ["a.csv", "b.csv", "c.csv"]

    @dg.sensor(job=log_file_job, minimum_interval_seconds=45)
    def my_directory_sensor(context: dg.SensorEvaluationContext):
        last = int(context.cursor) if context.cursor else 0
        new = files[last:]
        if not new:
            return dg.SkipReason("No new files")
        for f in new:
            yield dg.RunRequest(run_key=f, run_config=_file_config(f))
        context.update_cursor(str(len(files)))

    assert (my_directory_sensor.name, my_directory_sensor.minimum_interval_seconds, my_directory_sensor.default_status,
            my_directory_sensor.job_name) == ("my_directory_sensor", 45, dg.DefaultSensorStatus.STOPPED, "log_file_job")
    result = my_directory_sensor.evaluate_tick(dg.build_sensor_context())
    assert ([r.run_key for r in result.run_requests], result.cursor, result.skip_message) == (["a.csv", "b.csv", "c.csv"], "3", None)
    result = my_directory_sensor.evaluate_tick(dg.build_sensor_context(cursor="3"))
    assert (result.run_requests, result.cursor, result.skip_message) == ([], "3", "No new files")
    direct = my_directory_sensor(dg.build_sensor_context())
    assert (type(direct).__name__, [r.run_key for r in direct]) == ("generator", ["a.csv", "b.csv", "c.csv"])


def test_sensor_results_cursors_skips_and_job_checks():
    @dg.sensor(job=log_file_job)
    def result_sensor(context):
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key="x", run_config=_file_config("x"))], cursor="next")

    result = result_sensor.evaluate_tick(dg.build_sensor_context(cursor="prev"))
    assert ([r.run_key for r in result.run_requests], result.cursor) == (["x"], "next")

    @dg.sensor(job=log_file_job)
    def skip_sensor(context):
        return dg.SensorResult(skip_reason="nothing to do")

    result = skip_sensor.evaluate_tick(dg.build_sensor_context())
    assert (result.run_requests, result.skip_message, result.cursor) == ([], "nothing to do", None)

    @dg.sensor(job=log_file_job)
    def bad_sensor(context):
        context.update_cursor("c")
        return dg.SensorResult(run_requests=[], cursor="d")

    with pytest.raises(dg.DagsterInvariantViolationError, match=r"^SensorResult.cursor cannot be set if context.update_cursor\(\) was called.$"):
        bad_sensor.evaluate_tick(dg.build_sensor_context())

    @dg.sensor(job=log_file_job)
    def none_sensor(context):
        return None

    result = none_sensor.evaluate_tick(dg.build_sensor_context())
    assert (result.run_requests, result.skip_message) == ([], "Sensor function returned an empty result")

    @dg.sensor(jobs=[log_file_job], default_status=dg.DefaultSensorStatus.RUNNING)
    def multi_sensor(context):
        yield dg.RunRequest(run_key=None, job_name="log_file_job", run_config=_file_config("q"))

    result = multi_sensor.evaluate_tick(dg.build_sensor_context())
    assert ([(r.run_key, r.job_name) for r in result.run_requests], multi_sensor.default_status) == (
        [(None, "log_file_job")], dg.DefaultSensorStatus.RUNNING,
    )

    @dg.sensor(job=log_file_job)
    def wrong_job(context):
        yield dg.RunRequest(job_name="other")

    # Dagster raises a bare Exception here; Orchestra's DagsterInvariantViolationError is one too
    with pytest.raises(Exception) as info:
        wrong_job.evaluate_tick(dg.build_sensor_context())
    assert _first_line(info.value) == "Error in sensor wrong_job: Sensor returned a RunRequest with job_name other. Expected one of: ['log_file_job']"


def test_asset_sensor_fires_once_per_new_materialization():
    @dg.asset
    def upstream():
        return 1

    @dg.op
    def react(context):
        return "reacted"

    @dg.job
    def react_job():
        react()

    @dg.asset_sensor(asset_key=dg.AssetKey("upstream"), job=react_job)
    def upstream_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
        mat = asset_event.dagster_event.event_specific_data.materialization
        return dg.RunRequest(run_key=context.cursor, tags={"asset": mat.asset_key.to_user_string()})

    instance = dg.DagsterInstance.ephemeral()
    result = upstream_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert (result.run_requests, result.skip_message, result.cursor) == (
        [], "No new materialization events found for asset key AssetKey(['upstream'])", None,
    )
    dg.materialize([upstream], instance=instance)
    result = upstream_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert [(r.run_key is not None, r.tags) for r in result.run_requests] == [(False, {"asset": "upstream", "dagster/sensor_name": "upstream_sensor"})]
    cursor = result.cursor
    assert cursor is not None
    result = upstream_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert (result.run_requests, result.skip_message, result.cursor) == (
        [], "No new materialization events found for asset key AssetKey(['upstream'])", cursor,
    )
    dg.materialize([upstream], instance=instance)
    result = upstream_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert (len(result.run_requests), result.cursor != cursor) == (1, True)
    assert (upstream_sensor.asset_key, upstream_sensor.job_name) == (dg.AssetKey(["upstream"]), "react_job")
    assert instance.get_latest_materialization_event(dg.AssetKey("upstream")).asset_materialization.asset_key == dg.AssetKey(["upstream"])


def test_sensors_targeting_assets_and_schedules_of_asset_jobs():
    @dg.asset
    def a():
        return 1

    @dg.asset
    def b(a):
        return 2

    @dg.sensor(target=[a, b])
    def asset_target_sensor(context):
        return dg.RunRequest(run_key="r1")

    result = asset_target_sensor.evaluate_tick(dg.build_sensor_context())
    assert [(r.run_key, sorted(k.to_user_string() for k in (r.asset_selection or []))) for r in result.run_requests] == [("r1", [])]

    @dg.sensor(asset_selection=dg.AssetSelection.assets(b))
    def selection_sensor(context):
        yield dg.RunRequest(run_key="x", asset_selection=[dg.AssetKey("b")])

    defs = dg.Definitions(assets=[a, b], sensors=[selection_sensor])
    result = selection_sensor.evaluate_tick(dg.build_sensor_context(definitions=defs))
    assert [(r.run_key, [k.to_user_string() for k in r.asset_selection]) for r in result.run_requests] == [("x", ["b"])]


def test_run_failure_and_run_status_sensors_called_directly():
    @dg.op
    def fail_op():
        raise Exception("boom")

    @dg.job
    def failing_job():
        fail_op()

    @dg.op
    def ok_op():
        return 1

    @dg.job
    def ok_job():
        ok_op()

    @dg.run_failure_sensor(monitored_jobs=[failing_job])
    def on_failure(context: dg.RunFailureSensorContext):
        return dg.RunRequest(run_key="alert", tags={"failed_job": context.dagster_run.job_name})

    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, request_job=failing_job)
    def on_success(context: dg.RunStatusSensorContext):
        if context.dagster_run.job_name != ok_job.name:
            return dg.SkipReason("not ok job")
        return dg.RunRequest(run_key=None)

    instance = dg.DagsterInstance.ephemeral()
    failed = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert (failed.success, failed.dagster_run.status) == (False, dg.DagsterRunStatus.FAILURE)
    failure_event = [e for e in failed.all_events if e.event_type_value == "PIPELINE_FAILURE"][0]
    context = dg.build_run_status_sensor_context(
        sensor_name="on_failure", dagster_instance=instance, dagster_run=failed.dagster_run, dagster_event=failure_event,
    ).for_run_failure()
    out = on_failure(context)
    assert (type(out).__name__, out.run_key, out.tags) == ("RunRequest", "alert", {"failed_job": "failing_job"})
    assert (context.failure_event.event_type_value, context.dagster_run.job_name) == ("PIPELINE_FAILURE", "failing_job")
    ok = ok_job.execute_in_process(instance=instance)
    success_event = [e for e in ok.all_events if e.event_type_value == "PIPELINE_SUCCESS"][0]
    out = on_success(dg.build_run_status_sensor_context(sensor_name="on_success", dagster_instance=instance,
                                                        dagster_run=ok.dagster_run, dagster_event=success_event))
    assert type(out).__name__ == "RunRequest"
    out = on_success(dg.build_run_status_sensor_context(sensor_name="on_success", dagster_instance=instance,
                                                        dagster_run=failed.dagster_run, dagster_event=failure_event))
    assert (type(out).__name__, out.skip_message) == ("SkipReason", "not ok job")


def test_schedule_functions_tags_should_execute_and_sensor_asset_events():
    @dg.op(config_schema={"d": str})
    def o(context):
        return context.op_config["d"]

    @dg.job
    def j():
        o()

    @dg.sensor(job=j)
    def dup_sensor(context):  # the same run key twice in one tick: evaluation keeps both, the daemon dedups
        yield dg.RunRequest(run_key="same", run_config={"ops": {"o": {"config": {"d": "1"}}}})
        yield dg.RunRequest(run_key="same", run_config={"ops": {"o": {"config": {"d": "2"}}}})

    result = dup_sensor.evaluate_tick(dg.build_sensor_context())
    assert [(r.run_key, r.run_config["ops"]["o"]["config"]["d"]) for r in result.run_requests] == [("same", "1"), ("same", "2")]

    tokyo = dg.ScheduleDefinition(
        job=j, cron_schedule="30 8 * * *", execution_timezone="Asia/Tokyo", name="tokyo",
        run_config_fn=lambda c: {"ops": {"o": {"config": {"d": c.scheduled_execution_time.strftime("%H:%M %Z")}}}},
        tags_fn=lambda c: {"hour": str(c.scheduled_execution_time.hour)},
    )
    for when, shown in ((datetime.datetime(2024, 1, 1, 8, 30), "08:30 "),
                        (datetime.datetime(2024, 1, 1, 8, 30, tzinfo=datetime.UTC), "08:30 UTC")):
        result = tokyo.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when))
        assert [(r.run_config, sorted(r.tags.items())) for r in result.run_requests] == [
            ({"ops": {"o": {"config": {"d": shown}}}}, [("dagster/schedule_name", "tokyo"), ("hour", "8")]),
        ]

    weekdays = dg.ScheduleDefinition(job=j, cron_schedule="0 0 * * *", run_config={"ops": {"o": {"config": {"d": "x"}}}},
                                     should_execute=lambda c: c.scheduled_execution_time.weekday() < 5, name="weekdays")
    outcomes = []
    for day in (5, 6, 8):
        result = weekdays.evaluate_tick(_at(2024, 1, day))
        outcomes.append((day, len(result.run_requests), result.skip_message))
    assert outcomes == [(5, 1, None), (6, 0, "should_execute function for weekdays returned false."), (8, 1, None)]

    @dg.schedule(job=j, cron_schedule="0 0 * * *", tags={"static": "t"}, description="desc", default_status=dg.DefaultScheduleStatus.RUNNING)
    def tagged(context):
        return dg.RunRequest(tags={"dyn": "d"}, run_config={"ops": {"o": {"config": {"d": "x"}}}})

    result = tagged.evaluate_tick(_at(2024, 1, 1))
    assert ([sorted(r.tags.items()) for r in result.run_requests], tagged.description, tagged.tags) == (
        [[("dagster/schedule_name", "tagged"), ("dyn", "d")]], "desc", {"static": "t"},
    )

    @dg.schedule(job=j, cron_schedule="0 0 * * *")
    def no_ctx():
        return {"ops": {"o": {"config": {"d": "plain"}}}}

    assert [(r.run_key, r.run_config) for r in no_ctx.evaluate_tick(_at(2024, 1, 1)).run_requests] == [
        (None, {"ops": {"o": {"config": {"d": "plain"}}}}),
    ]

    @dg.sensor(job=j)
    def events_sensor(context):
        return dg.SensorResult(asset_events=[dg.AssetMaterialization(asset_key="ext", metadata={"n": 1}), dg.AssetObservation(asset_key="ext2")])

    result = events_sensor.evaluate_tick(dg.build_sensor_context())
    assert [(type(e).__name__, e.asset_key.to_user_string()) for e in result.asset_events] == [("AssetMaterialization", "ext"), ("AssetObservation", "ext2")]
    assert (result.run_requests, result.skip_message) == ([], "Sensor function returned an empty result")

    @dg.sensor(job=j, minimum_interval_seconds=10, description="d")
    def ctx_sensor(context):
        return dg.SkipReason(f"last={context.last_tick_completion_time} name={context.sensor_name} cursor={context.cursor}")

    assert ctx_sensor.evaluate_tick(dg.build_sensor_context(cursor="c1", sensor_name="ctx_sensor")).skip_message == "last=None name=ctx_sensor cursor=c1"
    request = dg.RunRequest(run_key="k", tags={"a": 1}, partition_key="p")
    assert (request.tags, request.partition_key, request.run_config) == ({"a": "1"}, "p", {})
    assert (dg.SkipReason("x").skip_message, dg.SkipReason().skip_message) == ("x", None)


def test_schedules_built_from_partitioned_jobs_pick_the_last_complete_partition():
    def at(*args):
        return dg.build_schedule_context(scheduled_execution_time=datetime.datetime(*args, tzinfo=datetime.UTC))

    expected = [
        (dg.WeeklyPartitionsDefinition(start_date="2024-01-01"), "0 0 * * 0", "UTC", "2024-02-25"),
        (dg.MonthlyPartitionsDefinition(start_date="2024-01-01"), "0 0 1 * *", "UTC", "2024-02-01"),
        (dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00", timezone="America/New_York"), "0 * * * *", "America/New_York", "2024-03-05-01:00"),
        (dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1), "0 0 * * *", "UTC", "2024-03-05"),
        (dg.DailyPartitionsDefinition(start_date="2024-01-01", hour_offset=6, timezone="Europe/London"), "0 6 * * *", "Europe/London", "2024-03-04"),
    ]
    for partitions_def, cron, timezone, partition in expected:
        @dg.asset(partitions_def=partitions_def, name="x")
        def x():
            return 1

        schedule = dg.build_schedule_from_partitioned_job(dg.define_asset_job("pj", selection=[x], partitions_def=partitions_def))
        result = schedule.evaluate_tick(at(2024, 3, 5, 7, 0))
        assert (schedule.cron_schedule, schedule.execution_timezone, [(r.partition_key, r.run_key) for r in result.run_requests], result.skip_message) == (
            cron, timezone, [(partition, partition)], None,
        )
        result = schedule.evaluate_tick(at(2023, 12, 1))
        assert (result.run_requests, result.skip_message) == ([], "The job's PartitionsDefinition has no partitions")

    static = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(partitions_def=static)
    def st():
        return 1

    # Dagster raises its internal CheckError here; the first line after its prefix is the same
    with pytest.raises(Exception, match="Creating a schedule from a static partitions definition requires a cron schedule$"):
        dg.build_schedule_from_partitioned_job(dg.define_asset_job("sj", selection=[st], partitions_def=static))
    schedule = dg.build_schedule_from_partitioned_job(dg.define_asset_job("sj", selection=[st], partitions_def=static), cron_schedule="0 0 * * *")
    assert (schedule.cron_schedule, [(r.partition_key, r.run_key) for r in schedule.evaluate_tick(at(2024, 1, 1)).run_requests]) == (
        "0 0 * * *", [("a", "a"), ("b", "b")],
    )

    @dg.daily_partitioned_config(start_date="2024-01-01", timezone="US/Pacific", hour_offset=2)
    def cfg(start, end):
        return {"ops": {"p": {"config": {"s": start.isoformat()}}}}

    @dg.op(config_schema={"s": str})
    def p(context):
        return context.op_config["s"]

    @dg.job(config=cfg)
    def cj():
        p()

    schedule = dg.build_schedule_from_partitioned_job(cj, description="d")
    result = schedule.evaluate_tick(at(2024, 2, 2, 10, 0))
    assert (schedule.cron_schedule, schedule.execution_timezone, [(r.partition_key, r.run_config) for r in result.run_requests]) == (
        "0 2 * * *", "US/Pacific", [("2024-02-01", {"ops": {"p": {"config": {"s": "2024-02-01T02:00:00-08:00"}}}})],
    )


def test_instance_answers_the_asset_queries_sensors_make():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")

    @dg.asset(partitions_def=daily)
    def part():
        return dg.MaterializeResult(metadata={"n": 1})

    @dg.asset
    def plain():
        return 1

    instance = dg.DagsterInstance.ephemeral()
    for key in ("2024-01-01", "2024-01-03"):
        dg.materialize([part], partition_key=key, instance=instance)
    dg.materialize([plain], instance=instance)
    dg.materialize([plain], instance=instance)
    assert sorted(instance.get_materialized_partitions(dg.AssetKey("part"))) == ["2024-01-01", "2024-01-03"]
    latest = instance.get_latest_materialization_event(dg.AssetKey("part"))
    assert (latest.asset_materialization.partition, latest.dagster_event.event_type_value) == ("2024-01-03", "ASSET_MATERIALIZATION")
    found = instance.fetch_materializations(dg.AssetKey("plain"), limit=10)
    assert (len(found.records), found.has_more, [r.asset_key.to_user_string() for r in found.records]) == (2, False, ["plain", "plain"])
    found = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("part"), asset_partitions=["2024-01-03"]), limit=5)
    assert [r.partition_key for r in found.records] == ["2024-01-03"]
    found = instance.fetch_materializations(dg.AssetKey("part"), limit=1, ascending=True)
    assert ([r.partition_key for r in found.records], found.has_more) == (["2024-01-01"], True)
    assert sorted(k.to_user_string() for k in instance.get_asset_keys()) == ["part", "plain"]
    assert (instance.has_asset_key(dg.AssetKey("plain")), instance.has_asset_key(dg.AssetKey("nope"))) == (True, False)
    instance.wipe_assets([dg.AssetKey("plain")])
    assert (sorted(k.to_user_string() for k in instance.get_asset_keys()), instance.get_latest_materialization_event(dg.AssetKey("plain"))) == (["part"], None)
    runs = instance.get_runs()
    assert (len(runs), sorted({r.status.value for r in runs}), sorted({r.job_name for r in runs})) == (4, ["SUCCESS"], ["__ephemeral_asset_job__"])
    assert instance.get_runs_count(dg.RunsFilter(tags={"dagster/partition": "2024-01-03"})) == 1
    records = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]), limit=2)
    assert (len(records), type(records[0]).__name__) == (2, "RunRecord")

    @dg.asset_sensor(asset_key=dg.AssetKey("part"), job_name="j")
    def part_sensor(context, event):
        return dg.RunRequest(run_key=None, partition_key=event.asset_materialization.partition)

    with pytest.raises(dg.DagsterInvariantViolationError, match="^Must provide repository def to build_sensor_context when yielding partitioned run requests$"):
        part_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
