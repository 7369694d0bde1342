"""`evaluate_sensor`: what a code server returns for one sensor tick — plain data, never a raise."""

from __future__ import annotations

import json

import orchestra as dg
from orchestra._core.automation.evaluation import evaluate_sensor


def test_run_requests_cursor_and_partition_requests_come_back_as_json():
    @dg.sensor(job_name="j")
    def files(context):
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=(context.cursor or "") + "x")],
            cursor="c1",
            dynamic_partitions_requests=[
                dg.AddDynamicPartitionsRequest("p", ["a"]),
                dg.DeleteDynamicPartitionsRequest("p", ["b"]),
            ],
        )

    result = evaluate_sensor(files, "c0", None, None)
    assert result.to_json() == {
        "run_requests": [
            {
                "run_key": "c0x",
                "run_config": {},
                "tags": {"dagster/sensor_name": "files"},
                "job_name": None,
                "asset_selection": None,
                "stale_assets_only": False,
                "partition_key": None,
                "asset_check_keys": None,
            }
        ],
        "skip_message": None,
        "cursor": "c1",
        "error": None,
        "dynamic_partitions_requests": [
            {"action": "add", "partitions_def_name": "p", "partition_keys": ["a"]},
            {"action": "delete", "partitions_def_name": "p", "partition_keys": ["b"]},
        ],
        "asset_events": [],
        "log_lines": [],
    }
    json.dumps(result.to_json())


def test_context_carries_cursor_last_run_key_and_last_tick_time():
    seen = {}

    @dg.sensor(job_name="j")
    def inspect_context(context):
        seen.update(
            cursor=context.cursor,
            last_run_key=context.last_run_key,
            last_tick=context.last_tick_completion_time,
            name=context.sensor_name,
            first=context.is_first_tick_since_sensor_start,
        )
        return dg.SkipReason("looked")

    result = evaluate_sensor(inspect_context, "c", "rk-7", 1700000000.0, last_sensor_start_time=1600000000.0)
    assert result.skip_message == "looked"
    assert result.cursor == "c"  # unchanged when the function does not set one
    assert seen == {"cursor": "c", "last_run_key": "rk-7", "last_tick": 1700000000.0, "name": "inspect_context", "first": False}


def test_update_cursor_is_returned():
    @dg.sensor(job_name="j")
    def advancing(context):
        context.update_cursor("next")
        return dg.SkipReason("nothing new")

    result = evaluate_sensor(advancing, "prev", None, None)
    assert (result.cursor, result.skip_message) == ("next", "nothing new")


def test_user_errors_come_back_wrapped_and_the_cursor_is_kept():
    @dg.sensor(job_name="j")
    def broken(context):
        context.log.warning("about to fail")
        raise RuntimeError("bad")

    result = evaluate_sensor(broken, "c0", None, None)
    assert result.run_requests == [] and result.cursor == "c0"
    assert result.error.cls_name == "SensorExecutionError"
    assert result.error.message.endswith("Error occurred during the execution of evaluation_fn for sensor broken")
    assert (result.error.cause.cls_name, result.error.cause.message) == ("RuntimeError", "RuntimeError: bad")
    assert [line["message"] for line in result.log_lines] == ["about to fail"]
    json.dumps(result.to_json())


def test_invalid_results_come_back_as_framework_errors():
    @dg.sensor(job_name="j")
    def odd(context):
        return "oops"

    result = evaluate_sensor(odd, None, None, None)
    assert result.error.cls_name == "DagsterInvariantViolationError"
    assert "Sensor unexpectedly returned output oops" in result.error.message
    assert result.error.cause is None


class Greeting(dg.ConfigurableResource):
    word: str


def test_resources_needed_by_parameters_are_built():
    @dg.sensor(job_name="j")
    def greets(greeting: Greeting):
        return dg.RunRequest(run_key=greeting.word)

    result = evaluate_sensor(greets, None, None, None, resources={"greeting": Greeting(word="hi"), "other": 1})
    assert [r["run_key"] for r in result.run_requests] == ["hi"]
