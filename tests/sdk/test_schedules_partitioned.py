"""`build_schedule_from_partitioned_job`. Expected values were taken from Dagster 1.13 running the
same code (`import dagster as dg`)."""

from __future__ import annotations

import datetime as dt

import pytest

import orchestra as dg

UTC = dt.UTC


@dg.op(config_schema={"date": str})
def configured(context):
    pass


@dg.op
def plain_op():
    pass


@dg.daily_partitioned_config(start_date="2024-01-01")
def daily_config(start, end):
    return {"ops": {"configured": {"config": {"date": start.strftime("%Y-%m-%d")}}}}


@dg.job(config=daily_config)
def daily_job():
    configured()


@dg.static_partitioned_config(partition_keys=["a", "b"])
def static_config(key):
    return {"ops": {"configured": {"config": {"date": key}}}}


@dg.job(config=static_config)
def static_job():
    configured()


def at(*args):
    return dg.build_schedule_context(scheduled_execution_time=dt.datetime(*args, tzinfo=UTC))


def summary(tick):
    return [(r.run_key, r.run_config, dict(r.tags), r.job_name, r.partition_key) for r in tick.run_requests]


def test_daily_job_schedule_runs_the_last_complete_partition():
    schedule = dg.build_schedule_from_partitioned_job(daily_job)
    assert isinstance(schedule, dg.ScheduleDefinition)
    assert (schedule.name, schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "daily_job_schedule",
        "0 0 * * *",
        "UTC",
        "daily_job",
    )
    assert summary(schedule.evaluate_tick(at(2024, 3, 5))) == [
        (
            "2024-03-04",
            {"ops": {"configured": {"config": {"date": "2024-03-04"}}}},
            {
                "dagster/partition": "2024-03-04",
                "dagster/partition_set": "daily_job_partition_set",
                "dagster/schedule_name": "daily_job_schedule",
            },
            "daily_job",
            "2024-03-04",
        )
    ]


def test_offsets_move_the_tick_and_tags_are_added_before_partition_tags():
    schedule = dg.build_schedule_from_partitioned_job(daily_job, hour_of_day=3, minute_of_hour=15, name="custom", tags={"x": "y"})
    assert (schedule.name, schedule.cron_schedule) == ("custom", "15 3 * * *")
    assert list(schedule.evaluate_tick(at(2024, 3, 5)).run_requests[0].tags.items()) == [
        ("x", "y"),
        ("dagster/partition", "2024-03-04"),
        ("dagster/partition_set", "daily_job_partition_set"),
        ("dagster/schedule_name", "custom"),
    ]


def test_direct_invocation_returns_the_partition_run_request():
    schedule = dg.build_schedule_from_partitioned_job(daily_job)
    request = schedule(at(2024, 3, 5))
    assert (request.run_key, dict(request.tags)) == (
        "2024-03-04",
        {"dagster/partition": "2024-03-04", "dagster/partition_set": "daily_job_partition_set"},
    )


def test_before_the_first_partition_the_tick_skips():
    tick = dg.build_schedule_from_partitioned_job(daily_job).evaluate_tick(at(2023, 12, 1))
    assert (tick.run_requests, tick.skip_message) == ([], "The job's PartitionsDefinition has no partitions")


def test_static_partitions_need_a_cron_schedule_and_run_every_partition():
    with pytest.raises(dg.DagsterInvariantViolationError, match="static partitions definition requires a cron schedule"):
        dg.build_schedule_from_partitioned_job(static_job)
    schedule = dg.build_schedule_from_partitioned_job(static_job, cron_schedule="0 5 * * *")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 5 * * *", None)
    assert [(r.run_key, r.run_config) for r in schedule.evaluate_tick(at(2024, 3, 5)).run_requests] == [
        ("a", {"ops": {"configured": {"config": {"date": "a"}}}}),
        ("b", {"ops": {"configured": {"config": {"date": "b"}}}}),
    ]


def test_partitions_def_jobs_and_time_zones():
    @dg.job(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"))
    def pjob():
        plain_op()

    schedule = dg.build_schedule_from_partitioned_job(pjob, hour_of_day=1)
    assert schedule.cron_schedule == "0 1 * * *"
    assert summary(schedule.evaluate_tick(at(2024, 3, 5, 1))) == [
        (
            "2024-03-04",
            {},
            {"dagster/partition": "2024-03-04", "dagster/partition_set": "pjob_partition_set", "dagster/schedule_name": "pjob_schedule"},
            "pjob",
            "2024-03-04",
        )
    ]

    @dg.job(partitions_def=dg.WeeklyPartitionsDefinition(start_date="2024-01-01", timezone="Europe/Paris"))
    def wjob():
        plain_op()

    weekly = dg.build_schedule_from_partitioned_job(wjob, day_of_week=3, hour_of_day=6)
    assert (weekly.cron_schedule, weekly.execution_timezone) == ("0 6 * * 3", "Europe/Paris")
    assert [r.run_key for r in weekly.evaluate_tick(at(2024, 3, 5, 1)).run_requests] == ["2024-02-25"]


def test_multi_partitions_with_one_time_dimension_run_every_key_of_the_latest_window():
    partitions = dg.MultiPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition(start_date="2024-01-01"), "color": dg.StaticPartitionsDefinition(["red", "blue"])}
    )

    @dg.job(partitions_def=partitions)
    def mjob():
        plain_op()

    schedule = dg.build_schedule_from_partitioned_job(mjob)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 0 * * *", "UTC")
    assert [(r.run_key, dict(r.tags)) for r in schedule.evaluate_tick(at(2024, 3, 5, 1)).run_requests] == [
        (
            "red|2024-03-04",
            {
                "dagster/partition": "red|2024-03-04",
                "dagster/partition/color": "red",
                "dagster/partition/date": "2024-03-04",
                "dagster/partition_set": "mjob_partition_set",
                "dagster/schedule_name": "mjob_schedule",
            },
        ),
        (
            "blue|2024-03-04",
            {
                "dagster/partition": "blue|2024-03-04",
                "dagster/partition/color": "blue",
                "dagster/partition/date": "2024-03-04",
                "dagster/partition_set": "mjob_partition_set",
                "dagster/schedule_name": "mjob_schedule",
            },
        ),
    ]


def test_invalid_arguments_and_jobs_are_rejected():
    @dg.job
    def unpartitioned():
        plain_op()

    @dg.job(partitions_def=dg.DynamicPartitionsDefinition(name="dyn"))
    def dynamic_job():
        plain_op()

    with pytest.raises(dg.DagsterInvariantViolationError, match="^The provided job is not partitioned$"):
        dg.build_schedule_from_partitioned_job(unpartitioned)
    with pytest.raises(dg.DagsterInvariantViolationError, match="Cannot provide cron_schedule or execution_timezone"):
        dg.build_schedule_from_partitioned_job(daily_job, cron_schedule="0 0 * * *")
    with pytest.raises(dg.DagsterInvariantViolationError, match="Cannot provide both day_of_month and day_of_week"):
        dg.build_schedule_from_partitioned_job(daily_job, day_of_week=1, day_of_month=1)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="received an invalid partitions definition"):
        dg.build_schedule_from_partitioned_job(dynamic_job)
