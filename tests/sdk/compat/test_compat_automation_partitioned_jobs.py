"""`build_schedule_from_partitioned_job` on asset jobs, run with Orchestra; expected values are what Dagster 1.13 printed.

An asset job defined without `partitions_def` gets its partitions from its assets when the `Definitions`
resolve it, so the schedule's cadence (and its run requests) are known only then.
"""

import datetime

import pytest

import orchestra as dg
from orchestra._core.automation.evaluation import evaluate_schedule
from orchestra._core.snapshot.location import snapshot_from_definitions

UTC = datetime.UTC
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=DAILY)
def a1():
    return 1


@dg.asset(partitions_def=DAILY, deps=[a1])
def a2():
    return 2


@dg.asset
def plain():
    return 3


def _ctx(*args, repository_def=None):
    return dg.build_schedule_context(
        scheduled_execution_time=datetime.datetime(*args, tzinfo=UTC), repository_def=repository_def
    )


def _request(request):
    return (request.run_key, request.partition_key, dict(sorted(request.tags.items())), request.job_name, request.run_config)


def _tags(partition, job, schedule=None, **extra):
    tags = {"dagster/partition": partition, "dagster/partition_set": f"{job}_partition_set", **extra}
    if schedule:
        tags["dagster/schedule_name"] = schedule
    return dict(sorted(tags.items()))


def test_schedule_on_asset_job_without_partitions_def_is_unresolved_until_definitions_resolve_it():
    job = dg.define_asset_job("j", selection=[a1, a2])
    schedule = dg.build_schedule_from_partitioned_job(job)
    assert type(schedule).__name__ == "UnresolvedPartitionedAssetScheduleDefinition"
    assert not isinstance(schedule, dg.ScheduleDefinition)
    assert (schedule.name, schedule.job is job, schedule.hour_of_day, schedule.tags) == ("j_schedule", True, None, None)
    assert not hasattr(schedule, "cron_schedule")
    with pytest.raises(TypeError, match="'UnresolvedPartitionedAssetScheduleDefinition' object is not callable"):
        schedule(_ctx(2024, 3, 5))

    resolved = dg.Definitions(assets=[a1, a2, plain], schedules=[schedule]).get_schedule_def("j_schedule")
    assert isinstance(resolved, dg.ScheduleDefinition)
    assert (resolved.cron_schedule, resolved.execution_timezone, resolved.job_name, resolved.description, resolved.tags) == (
        "0 0 * * *", "UTC", "j", None, {},
    )
    assert resolved.default_status == dg.DefaultScheduleStatus.STOPPED
    assert resolved.job.partitions_def == DAILY


def test_resolved_schedule_requests_latest_complete_partition_by_tick_and_direct_invocation():
    job = dg.define_asset_job("j", selection=[a1, a2])
    schedule = dg.build_schedule_from_partitioned_job(
        job, name="j_3am", hour_of_day=3, minute_of_hour=15, tags={"x": "y"}, description="d"
    )
    defs = dg.Definitions(assets=[a1, a2, plain], schedules=[schedule])
    repo = defs.get_repository_def()
    resolved = defs.get_schedule_def("j_3am")
    assert (resolved.cron_schedule, resolved.execution_timezone, resolved.description, resolved.tags) == ("15 3 * * *", "UTC", "d", {})

    context = _ctx(2024, 3, 5, 3, 15, repository_def=repo)
    assert _request(resolved(context)) == ("2024-03-04", "2024-03-04", _tags("2024-03-04", "j", x="y"), "j", {})
    [request] = resolved.evaluate_tick(context).run_requests
    assert _request(request) == ("2024-03-04", "2024-03-04", _tags("2024-03-04", "j", "j_3am", x="y"), "j", {})

    result = evaluate_schedule(resolved, datetime.datetime(2024, 3, 5, 3, 15, tzinfo=UTC), repository_def=repo)
    assert (result.error, result.skip_message) == (None, None)
    assert [(r["run_key"], r["partition_key"], r["job_name"], r["tags"]) for r in result.run_requests] == [
        ("2024-03-04", "2024-03-04", "j", {"x": "y", **_tags("2024-03-04", "j", "j_3am")}),
    ]


def test_resolved_schedule_works_without_repository_and_skips_before_first_partition():
    paris = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="Europe/Paris")

    @dg.asset(partitions_def=paris)
    def p1():
        return 1

    schedule = dg.build_schedule_from_partitioned_job(
        dg.define_asset_job("pj", selection=[p1]), hour_of_day=5, default_status=dg.DefaultScheduleStatus.RUNNING
    )
    resolved = dg.Definitions(assets=[p1], schedules=[schedule]).get_schedule_def("pj_schedule")
    assert (resolved.cron_schedule, resolved.execution_timezone, resolved.default_status) == (
        "0 5 * * *", "Europe/Paris", dg.DefaultScheduleStatus.RUNNING,
    )
    request = resolved(_ctx(2024, 3, 5, 4, 0))
    assert _request(request) == ("2024-03-04", "2024-03-04", _tags("2024-03-04", "pj"), "pj", {})
    assert resolved(_ctx(2024, 1, 1)) == dg.SkipReason("The job's PartitionsDefinition has no partitions")


@pytest.mark.parametrize(
    ("label", "partitions_def", "kwargs", "cron", "timezone", "partition"),
    [
        ("ny_daily", dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="America/New_York"), {"hour_of_day": 2},
         "0 2 * * *", "America/New_York", "2024-03-05"),
        ("weekly", dg.WeeklyPartitionsDefinition(start_date="2024-01-01"), {"day_of_week": 3, "hour_of_day": 4},
         "0 4 * * 3", "UTC", "2024-02-25"),
        ("monthly", dg.MonthlyPartitionsDefinition(start_date="2024-01-01"), {"day_of_month": 5, "minute_of_hour": 30},
         "30 0 5 * *", "UTC", "2024-02-01"),
        ("hourly", dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00"), {"minute_of_hour": 7},
         "7 * * * *", "UTC", "2024-03-06-11:00"),
        ("end_offset", dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1), {},
         "0 0 * * *", "UTC", "2024-03-06"),
    ],
)
def test_cadence_and_latest_partition_come_from_assets_time_partitions(label, partitions_def, kwargs, cron, timezone, partition):
    @dg.asset(partitions_def=partitions_def, name=f"x_{label}")
    def x():
        return 1

    schedule = dg.build_schedule_from_partitioned_job(dg.define_asset_job(f"j_{label}", selection=[x]), **kwargs)
    defs = dg.Definitions(assets=[x], schedules=[schedule])
    resolved = defs.get_schedule_def(f"j_{label}_schedule")
    assert (resolved.cron_schedule, resolved.execution_timezone) == (cron, timezone)
    context = _ctx(2024, 3, 6, 12, 0, repository_def=defs.get_repository_def())
    assert [_request(r) for r in resolved.evaluate_tick(context).run_requests] == [
        (partition, partition, _tags(partition, f"j_{label}", f"j_{label}_schedule"), f"j_{label}", {}),
    ]


def test_multi_partitioned_assets_request_every_static_key_of_latest_time_partition():
    multi = dg.MultiPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition(start_date="2024-01-01"), "color": dg.StaticPartitionsDefinition(["red", "blue"])}
    )

    @dg.asset(partitions_def=multi)
    def m():
        return 1

    schedule = dg.build_schedule_from_partitioned_job(dg.define_asset_job("jm", selection=[m]), hour_of_day=6)
    defs = dg.Definitions(assets=[m], schedules=[schedule])
    resolved = defs.get_schedule_def("jm_schedule")
    assert (resolved.cron_schedule, resolved.execution_timezone) == ("0 6 * * *", "UTC")
    requests = resolved.evaluate_tick(_ctx(2024, 3, 5, 6, 0, repository_def=defs.get_repository_def())).run_requests
    assert [_request(r) for r in requests] == [
        (key, key, _tags(key, "jm", "jm_schedule", **{"dagster/partition/color": color, "dagster/partition/date": "2024-03-04"}), "jm", {})
        for key, color in (("red|2024-03-04", "red"), ("blue|2024-03-04", "blue"))
    ]


def test_explicit_partitions_def_gives_schedule_at_once_without_partition_set_tag():
    job = dg.define_asset_job("je", selection=[a1, a2], partitions_def=DAILY)
    schedule = dg.build_schedule_from_partitioned_job(job, hour_of_day=1)
    assert isinstance(schedule, dg.ScheduleDefinition)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 1 * * *", "UTC")
    defs = dg.Definitions(assets=[a1, a2], schedules=[schedule])
    resolved = defs.get_schedule_def("je_schedule")
    context = _ctx(2024, 3, 5, 1, 0, repository_def=defs.get_repository_def())
    # Dagster builds these requests from the unresolved job, which adds no dagster/partition_set tag
    assert _request(resolved(context)) == ("2024-03-04", "2024-03-04", {"dagster/partition": "2024-03-04"}, "je", {})
    [request] = resolved.evaluate_tick(context).run_requests
    assert _request(request) == (
        "2024-03-04", "2024-03-04", {"dagster/partition": "2024-03-04", "dagster/schedule_name": "je_schedule"}, "je", {},
    )


def test_static_partitioned_asset_job_needs_explicit_partitions_def_and_cron_schedule():
    static = dg.StaticPartitionsDefinition(["p", "q"])

    @dg.asset(partitions_def=static)
    def st():
        return 1

    # Dagster raises its internal CheckError in these cases; the message after its prefix is the same
    with pytest.raises(Exception, match="Creating a schedule from a static partitions definition requires a cron schedule$"):
        dg.build_schedule_from_partitioned_job(dg.define_asset_job("js", selection=[st], partitions_def=static))
    schedule = dg.build_schedule_from_partitioned_job(
        dg.define_asset_job("js", selection=[st], partitions_def=static), cron_schedule="0 4 * * *"
    )
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 4 * * *", None)
    defs = dg.Definitions(assets=[st], schedules=[schedule])
    requests = defs.get_schedule_def("js_schedule").evaluate_tick(_ctx(2024, 3, 5, 4, 0, repository_def=defs.get_repository_def())).run_requests
    assert [_request(r) for r in requests] == [
        (k, k, {"dagster/partition": k, "dagster/schedule_name": "js_schedule"}, "js", {}) for k in ("p", "q")
    ]

    # without partitions_def, the job is unresolved: no cron_schedule/execution_timezone accepted...
    message = "Cannot provide cron_schedule or execution_timezone to build_schedule_from_partitioned_job for a time-partitioned job."
    with pytest.raises(Exception, match=message):
        dg.build_schedule_from_partitioned_job(dg.define_asset_job("js2", selection=[st]), cron_schedule="0 4 * * *")
    with pytest.raises(Exception, match=message):
        dg.build_schedule_from_partitioned_job(dg.define_asset_job("js2", selection=[st]), execution_timezone="UTC")
    # ...and static partitions give no cadence when the Definitions resolve it
    unresolved = dg.build_schedule_from_partitioned_job(dg.define_asset_job("js3", selection=[st]))
    assert type(unresolved).__name__ == "UnresolvedPartitionedAssetScheduleDefinition"
    with pytest.raises(Exception, match="^Expected non-None value: None"):
        dg.Definitions(assets=[st], schedules=[unresolved]).get_schedule_def("js3_schedule")
    with pytest.raises(Exception, match="^Expected non-None value: None"):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[st], schedules=[unresolved]))


def test_unpartitioned_selection_fails_when_definitions_resolve_the_schedule():
    schedule = dg.build_schedule_from_partitioned_job(dg.define_asset_job("ju", selection=[plain]))
    with pytest.raises(
        Exception,
        match="Job 'ju' provided to build_schedule_from_partitioned_job must contain partitioned assets or a partitions definition.",
    ):
        dg.Definitions(assets=[plain], schedules=[schedule]).get_schedule_def("ju_schedule")


def test_argument_checks_apply_before_the_job_is_resolved():
    job = dg.define_asset_job("j", selection=[a1])
    with pytest.raises(Exception, match="Cannot provide both day_of_month and day_of_week parameter to build_schedule_from_partitioned_job."):
        dg.build_schedule_from_partitioned_job(job, day_of_week=1, day_of_month=2)
    with pytest.raises(Exception, match="Cannot provide both cron_schedule / execution_timezone parameters and day_of_month"):
        dg.build_schedule_from_partitioned_job(job, cron_schedule="0 0 * * *", hour_of_day=1)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Invalid owner 'nobody' for schedule 'j_schedule'"):
        dg.build_schedule_from_partitioned_job(job, owners=["nobody"])


def test_unresolved_schedule_keeps_owners_metadata_and_name_rules_in_definitions():
    job = dg.define_asset_job("j", selection=[a1, a2])
    owned = dg.build_schedule_from_partitioned_job(job, name="own", owners=["team:a"], metadata={"k": "v"})
    resolved = dg.Definitions(assets=[a1, a2], schedules=[owned]).get_schedule_def("own")
    assert (resolved.owners, sorted(resolved.metadata)) == (["team:a"], ["k"])

    first, second = dg.build_schedule_from_partitioned_job(job), dg.build_schedule_from_partitioned_job(job)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Duplicate definition found for j_schedule"):
        dg.Definitions(assets=[a1, a2], schedules=[first, second]).get_repository_def()

    with_job = dg.Definitions(assets=[a1, a2], jobs=[job], schedules=[first]).get_schedule_def("j_schedule")
    assert (with_job.cron_schedule, with_job.job.partitions_def == DAILY) == ("0 0 * * *", True)
    merged = dg.Definitions.merge(dg.Definitions(assets=[a1, a2], schedules=[first]), dg.Definitions())
    assert merged.get_schedule_def("j_schedule").cron_schedule == "0 0 * * *"


def test_snapshot_lists_resolved_cadence():
    schedule = dg.build_schedule_from_partitioned_job(dg.define_asset_job("j", selection=[a1]), hour_of_day=3)
    [snap] = snapshot_from_definitions(dg.Definitions(assets=[a1], schedules=[schedule]), "loc")["schedules"]
    assert (snap["name"], snap["cron_schedule"], snap["execution_timezone"], snap["job_name"]) == ("j_schedule", "0 3 * * *", "UTC", "j")


def test_get_unresolved_schedule_def_refuses_unresolved_partitioned_schedule():
    schedule = dg.build_schedule_from_partitioned_job(dg.define_asset_job("j", selection=[a1]))
    defs = dg.Definitions(assets=[a1], schedules=[schedule])
    with pytest.raises(
        ValueError,
        match="ScheduleDefinition with name j_schedule is an UnresolvedPartitionedAssetScheduleDefinition, which is not "
        "supported in get_unresolved_schedule_def",
    ):
        defs.get_unresolved_schedule_def("j_schedule")
