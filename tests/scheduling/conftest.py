"""Fixtures: a definitions file with schedules and sensors, a real code server on it, and its stored location."""

from __future__ import annotations

import dataclasses

import pytest

from core.instance_config import RunQueueConfig
from tests.workspace.conftest import start_code_server
from workspace.config import LocationEntry
from workspace.models import CodeLocation

DEFS = '''
import time

import orchestra as dg


@dg.op(config_schema={"n": dg.Field(int, default_value=0)})
def hello(context):
    return context.op_config["n"]


@dg.job
def my_job():
    hello()


@dg.job(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"))
def daily_job():
    hello()


@dg.schedule(cron_schedule="0 * * * *", job=my_job, default_status=dg.DefaultScheduleStatus.RUNNING)
def hourly(context):
    return dg.RunRequest(tags={"team": "data"})


@dg.schedule(cron_schedule="0 2 * * *", job=my_job, execution_timezone="America/New_York")
def new_york_2am(context):
    return dg.RunRequest(tags={"at": context.scheduled_execution_time.isoformat()})


@dg.schedule(cron_schedule="0 1 * * *", job=my_job, execution_timezone="America/New_York")
def new_york_1am(context):
    return dg.RunRequest()


@dg.schedule(cron_schedule="0 * * * *", job=my_job, execution_timezone="America/New_York")
def new_york_hourly(context):
    return dg.RunRequest()


@dg.schedule(cron_schedule=["0 9 * * *", "30 17 * * 1-5"], job=my_job)
def two_crons(context):
    return dg.RunRequest()


@dg.schedule(cron_schedule="0 0 * * *", job=my_job)
def failing_schedule(context):
    raise ValueError("the schedule broke")


@dg.schedule(cron_schedule="0 0 * * *", job=my_job)
def skipping_schedule(context):
    return dg.SkipReason("nothing to do today")


@dg.schedule(cron_schedule="0 0 * * *", job=my_job)
def bad_config_schedule(context):
    return dg.RunRequest(run_config={"ops": {"hello": {"config": {"n": "not a number"}}}})


@dg.schedule(cron_schedule="0 * * * *", job=my_job)
def slow_schedule(context):
    time.sleep(4)
    return dg.RunRequest()


regions = dg.DynamicPartitionsDefinition(name="regions")


@dg.sensor(job=my_job)
def region_sensor(context):
    if context.cursor is None:
        return dg.SensorResult(dynamic_partitions_requests=[regions.build_add_request(["eu", "us", "apac"])],
                               cursor="added")
    return dg.SensorResult(dynamic_partitions_requests=[regions.build_delete_request(["apac"])], cursor="deleted")


@dg.run_failure_sensor(request_job=my_job)
def on_failure(context):
    if context.dagster_run.tags.get("sensor") == "raise":
        raise RuntimeError("the failure sensor broke")
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}",
                         tags={"failed_run": context.dagster_run.run_id, "why": context.failure_event.message})


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[daily_job], request_job=my_job)
def on_daily_success(context):
    return dg.SkipReason(f"saw {context.dagster_run.job_name} {context.dagster_run.status.value}")


@dg.asset_sensor(asset_key=dg.AssetKey(["shop", "orders"]), job=my_job)
def orders_sensor(context, asset_event):
    materialization = asset_event.asset_materialization
    return dg.RunRequest(run_key=f"orders-{asset_event.run_id}",
                         tags={"rows": str(materialization.metadata["rows"].value), "from_run": asset_event.run_id})


daily_schedule = dg.build_schedule_from_partitioned_job(daily_job, name="daily_partitioned")


@dg.sensor(job=my_job, minimum_interval_seconds=45, default_status=dg.DefaultSensorStatus.RUNNING)
def counting_sensor(context):
    count = int(context.cursor or 0) + 1
    context.update_cursor(str(count))
    return dg.RunRequest(run_key=f"run-{count}", run_config={"ops": {"hello": {"config": {"n": count}}}})


@dg.sensor(job=my_job)
def slow_sensor(context):
    time.sleep(4)
    count = int(context.cursor or 0) + 1
    context.update_cursor(str(count))
    return dg.RunRequest(run_key=f"slow-{count}")


@dg.sensor(job=my_job)
def same_key_sensor(context):
    yield dg.RunRequest(run_key="always-the-same")
    yield dg.RunRequest(run_key="always-the-same")


@dg.sensor(job=my_job)
def failing_sensor(context):
    context.update_cursor("should not be stored")
    raise RuntimeError("the sensor broke")


@dg.sensor(job=my_job)
def result_sensor(context):
    if context.cursor == "done":
        return dg.SensorResult(skip_reason=dg.SkipReason("already done"), cursor="done")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key="once")], cursor="done")


defs = dg.Definitions(
    jobs=[my_job, daily_job],
    schedules=[hourly, new_york_2am, new_york_1am, new_york_hourly, two_crons, failing_schedule, skipping_schedule,
               bad_config_schedule, daily_schedule, slow_schedule],
    sensors=[counting_sensor, same_key_sensor, failing_sensor, result_sensor, slow_sensor,
             region_sensor, on_failure, on_daily_success, orders_sensor],
)
'''

LOCATION = "defs"


@pytest.fixture(scope="module")
def code_server(tmp_path_factory):
    """One code server for a test module (it holds no database state)."""
    tmp_path = tmp_path_factory.mktemp("scheduling-code-server")
    (tmp_path / "defs.py").write_text(DEFS)
    server = start_code_server(tmp_path, "-f", str(tmp_path / "defs.py"), "--location-name", LOCATION)
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture
def location(code_server) -> CodeLocation:
    """The location stored as the supervisor stores it (which also reconciles its schedules and sensors)."""
    from workspace.services import location_load

    entry = LocationEntry(name=LOCATION, kind="code_server", host=code_server.info["host"],
                          port=code_server.info["port"])
    location = location_load(entry=entry, client=code_server.client)
    assert location.status == "LOADED", location.load_error
    return location


@pytest.fixture(autouse=True)
def queued_runs(settings):
    """Runs submitted by ticks wait in the queue (as on a daemon deployment); no run worker starts."""
    config = settings.INSTANCE.config.model_copy(update={"run_queue": RunQueueConfig(), "run_coordinator": None})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
