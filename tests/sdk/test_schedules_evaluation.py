"""`evaluate_schedule`: what a code server returns for one schedule tick — plain data, never a raise."""

from __future__ import annotations

import datetime as dt
import json

import orchestra as dg
from orchestra._core.automation.evaluation import evaluate_schedule

UTC = dt.UTC


def test_the_function_sees_the_tick_in_the_schedules_time_zone_and_results_are_json():
    @dg.schedule("0 2 * * *", job_name="j", execution_timezone="America/New_York")
    def nightly(context):
        context.log.info("evaluating")
        return dg.RunRequest(run_key=context.scheduled_execution_time.isoformat())

    result = evaluate_schedule(nightly, dt.datetime(2024, 3, 10, 7, tzinfo=UTC))
    assert result.error is None and result.skip_message is None
    assert result.run_requests == [
        {
            "run_key": "2024-03-10T03:00:00-04:00",
            "run_config": {},
            "tags": {"dagster/schedule_name": "nightly"},
            "job_name": None,
            "asset_selection": None,
            "stale_assets_only": False,
            "partition_key": None,
            "asset_check_keys": None,
        }
    ]
    assert [(line["level"], line["message"]) for line in result.log_lines] == [("INFO", "evaluating")]
    json.dumps(result.to_json())


def test_a_timestamp_tick_is_read_in_utc_when_the_schedule_has_no_time_zone():
    schedule = dg.schedule("0 0 * * *", job_name="j", name="utc")(
        lambda context: {"at": context.scheduled_execution_time.isoformat()}
    )
    result = evaluate_schedule(schedule, dt.datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    assert result.run_requests[0]["run_config"] == {"at": "2024-01-01T00:00:00+00:00"}


def test_skips_are_returned_as_a_message():
    schedule = dg.schedule("0 0 * * *", job_name="j", name="skipper")(lambda context: dg.SkipReason("holiday"))
    result = evaluate_schedule(schedule, 0)
    assert (result.run_requests, result.skip_message, result.error) == ([], "holiday", None)


def test_user_errors_come_back_with_type_message_stack_and_cause():
    @dg.schedule("0 0 * * *", job_name="j")
    def broken(context):
        raise ValueError("boom")

    result = evaluate_schedule(broken, 0)
    assert result.run_requests == [] and result.skip_message is None
    assert result.error.cls_name == "ScheduleExecutionError"
    assert result.error.message.endswith("ScheduleExecutionError: Error occurred during the evaluation of schedule broken")
    assert result.error.cause.cls_name == "ValueError"
    assert result.error.cause.message == "ValueError: boom"
    assert any("raise ValueError" in frame for frame in result.error.cause.stack)
    assert "Stack Trace:" in result.error.to_string()
    json.dumps(result.to_json())


def test_invalid_results_come_back_as_errors():
    schedule = dg.schedule("0 0 * * *", job_name="j", name="multi")(lambda context: [dg.RunRequest(), dg.RunRequest()])
    result = evaluate_schedule(schedule, 0)
    assert result.error.cls_name == "DagsterInvariantViolationError"
    assert "must specify a run_key in each RunRequest" in result.error.message


def test_only_the_resources_a_schedule_needs_are_built():
    built = []

    @dg.resource
    def tracked(_):
        built.append("tracked")
        return "t"

    @dg.resource
    def unused(_):
        built.append("unused")
        return "u"

    @dg.schedule("0 0 * * *", job_name="j", required_resource_keys={"tracked"})
    def uses_tracked(context):
        return {"value": context.resources.tracked}

    result = evaluate_schedule(uses_tracked, 0, resources={"tracked": tracked, "unused": unused})
    assert result.run_requests[0]["run_config"] == {"value": "t"}
    assert built == ["tracked"]


def test_generator_resources_are_torn_down_after_the_tick():
    events = []

    @dg.resource
    def conn(_):
        events.append("open")
        yield "c"
        events.append("close")

    @dg.schedule("0 0 * * *", job_name="j", required_resource_keys={"conn"})
    def uses_conn(context):
        return {"c": context.resources.conn}

    result = evaluate_schedule(uses_conn, 0, resources={"conn": conn})
    assert result.error is None
    assert events == ["open", "close"]


def test_the_instance_is_passed_to_the_context():
    instance = object()
    seen = []
    schedule = dg.schedule("0 0 * * *", job_name="j", name="inst")(lambda context: seen.append(context.instance))
    evaluate_schedule(schedule, 0, instance=instance)
    assert seen == [instance]
