"""Run status and run failure sensors: definitions, contexts and direct invocation. Expected values
were taken from Dagster 1.13 running the same code against an ephemeral instance."""

from __future__ import annotations

import pytest

import orchestra as dg


@dg.op
def boom():
    raise ValueError("kaput")


@dg.job
def failing():
    boom()


@dg.op
def fine():
    pass


@dg.job
def ok_job():
    fine()


def run_and_event(job, event_type):
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    run = instance.get_run_by_id(result.run_id)
    event = next(e for e in result.all_events if e.event_type_value == event_type)
    return instance, run, event


def test_run_status_sensor_definition_defaults():
    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, request_job=failing)
    def on_success(context):
        return dg.RunRequest(run_key=context.dagster_run.run_id)

    assert isinstance(on_success, dg.RunStatusSensorDefinition)
    assert isinstance(on_success, dg.SensorDefinition)
    assert (on_success.name, on_success.minimum_interval_seconds, on_success.job_name) == ("on_success", 30, "failing")
    assert on_success.default_status == dg.DefaultSensorStatus.STOPPED
    assert on_success.sensor_type.value == "RUN_STATUS"
    assert on_success.to_snapshot()["run_status"] == "SUCCESS"


def test_run_failure_sensor_works_bare_and_with_arguments():
    @dg.run_failure_sensor
    def on_fail(context: dg.RunFailureSensorContext):
        pass

    @dg.run_failure_sensor(name="named", monitored_jobs=[ok_job], minimum_interval_seconds=10, description="d")
    def on_fail2(context):
        pass

    assert (on_fail.name, on_fail.minimum_interval_seconds, on_fail.sensor_type.value) == ("on_fail", 30, "RUN_STATUS")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="No job was provided to SensorDefinition."):
        _ = on_fail.job_name
    assert (on_fail2.name, on_fail2.minimum_interval_seconds, on_fail2.description) == ("named", 10, "d")
    assert on_fail2.monitors_job("ok_job") and not on_fail2.monitors_job("failing")
    assert on_fail.monitors_job("anything")


def test_direct_invocation_needs_a_run_status_context():
    @dg.run_failure_sensor
    def on_fail(context):
        pass

    with pytest.raises(dg.DagsterInvalidInvocationError, match="Sensor evaluation function expected context argument"):
        on_fail()
    with pytest.raises(dg.DagsterInvalidInvocationError):
        on_fail(dg.build_sensor_context())


def test_failure_sensor_context_exposes_the_failure_and_step_failures():
    seen = []

    @dg.run_failure_sensor(monitored_jobs=[failing])
    def on_fail(context: dg.RunFailureSensorContext):
        seen.append(
            (
                type(context).__name__,
                context.dagster_run.job_name,
                context.failure_event.event_type_value,
                context.failure_event.message,
                [e.step_key for e in context.get_step_failure_events()],
            )
        )
        return dg.SkipReason("alerted")

    instance, run, event = run_and_event(failing, "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="on_fail", dagster_event=event, dagster_instance=instance, dagster_run=run
    )
    assert on_fail(context.for_run_failure()) == dg.SkipReason("alerted")
    assert seen == [
        ("RunFailureSensorContext", "failing", "PIPELINE_FAILURE", "Execution of run for \"failing\" failed. Steps failed: ['boom'].", ["boom"])
    ]


def test_success_sensor_requests_a_run_keyed_by_the_run_id():
    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, request_job=failing)
    def on_ok(context):
        return dg.RunRequest(run_key=context.dagster_run.run_id)

    instance, run, event = run_and_event(ok_job, "PIPELINE_SUCCESS")
    context = dg.build_run_status_sensor_context(
        sensor_name="on_ok", dagster_event=event, dagster_instance=instance, dagster_run=run
    )
    assert type(context).__name__ == "RunStatusSensorContext" and context.partition_key is None
    assert on_ok(context).run_key == run.run_id
    assert [r.run_key for r in on_ok.evaluate_for_run(context)] == [run.run_id]


def test_evaluate_tick_alone_explains_that_the_daemon_drives_run_status_sensors():
    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS)
    def on_ok(context):
        pass

    with pytest.raises(dg.DagsterInvariantViolationError, match="evaluated by the sensor daemon"):
        on_ok.evaluate_tick(dg.build_sensor_context())


def test_resources_reach_run_status_sensor_functions():
    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS)
    def with_resource(context):
        return dg.SkipReason(context.resources.channel)

    instance, run, event = run_and_event(ok_job, "PIPELINE_SUCCESS")
    context = dg.build_run_status_sensor_context(
        sensor_name="with_resource", dagster_event=event, dagster_instance=instance, dagster_run=run, resources={"channel": "#ops"}
    )
    assert with_resource(context) == dg.SkipReason("#ops")


def test_monitored_jobs_and_all_code_locations_are_exclusive():
    def watcher(context):
        pass

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Cannot specify both monitor_all_code_locations and monitored_jobs.$"):
        dg.run_status_sensor(
            run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[ok_job], monitor_all_code_locations=True
        )(watcher)
