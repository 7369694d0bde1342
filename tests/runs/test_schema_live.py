"""What the live run page reads from /graphql beyond the event log: `Run.stepStats` (Dagster's RunStepStats:
status, times, attempts, markers; one query for any number of steps) and `logsForRun(eventFilter:)`, Orchestra's
extension that filters a big run's events in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs import services
from runs.services import EventInput
from tests.runs.test_schema import gql

pytestmark = pytest.mark.django_db

STEP_STATS = """
query Steps($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId
      stepStats { runId stepKey status startTime endTime attempts { startTime endTime } markers { startTime endTime } }
    }
  }
}
"""


def step_stats(client, run_id: str) -> dict[str, dict]:
    run = gql(client, STEP_STATS, {"runId": run_id})["data"]["runOrError"]
    assert run["__typename"] == "Run", run
    return {step["stepKey"]: step for step in run["stepStats"]}


def test_step_stats_give_each_step_its_status_times_and_attempts_in_seconds(client):
    run = services.run_create(job_name="job")
    t0 = timezone.now() - timedelta(minutes=5)
    at = [t0 + timedelta(seconds=n) for n in range(8)]
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="RUN_START", timestamp=at[0]),
        EventInput(event_type="STEP_START", step_key="flaky", timestamp=at[1]),
        EventInput(event_type="STEP_UP_FOR_RETRY", step_key="flaky", timestamp=at[2]),
        EventInput(event_type="STEP_RESTARTED", step_key="flaky", timestamp=at[3]),
        EventInput(event_type="STEP_SUCCESS", step_key="flaky", timestamp=at[4]),
        EventInput(event_type="STEP_START", step_key="broken", timestamp=at[4]),
        EventInput(event_type="STEP_FAILURE", step_key="broken", timestamp=at[5]),
        EventInput(event_type="STEP_SKIPPED", step_key="after_broken", timestamp=at[6]),
        EventInput(event_type="STEP_START", step_key="running", timestamp=at[6]),
        EventInput(message="a log line", step_key="running", timestamp=at[7]),
    ])
    steps = step_stats(client, run.run_id)
    assert list(steps) == ["flaky", "broken", "after_broken", "running"]  # in the order they first appeared
    flaky = steps["flaky"]
    assert (flaky["runId"], flaky["status"]) == (run.run_id, "SUCCESS")
    assert (flaky["startTime"], flaky["endTime"]) == (at[1].timestamp(), at[4].timestamp())
    assert flaky["attempts"] == [{"startTime": at[1].timestamp(), "endTime": at[2].timestamp()},
                                 {"startTime": at[3].timestamp(), "endTime": at[4].timestamp()}]
    assert steps["broken"]["status"] == "FAILURE" and steps["broken"]["endTime"] == at[5].timestamp()
    assert steps["after_broken"]["status"] == "SKIPPED" and steps["after_broken"]["startTime"] is None
    running = steps["running"]
    assert running["status"] == "IN_PROGRESS" and running["endTime"] is None
    assert running["attempts"] == [{"startTime": at[6].timestamp(), "endTime": None}] and running["markers"] == []


def test_a_step_waiting_for_its_retry_is_in_progress_with_its_last_attempt_ended(client):
    """Dagster's StepEventStatus has no "up for retry": the step is IN_PROGRESS, no end time, its attempt closed."""
    run = services.run_create(job_name="job")
    t0 = timezone.now() - timedelta(minutes=1)
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="STEP_START", step_key="flaky", timestamp=t0),
        EventInput(event_type="STEP_UP_FOR_RETRY", step_key="flaky", timestamp=t0 + timedelta(seconds=2)),
    ])
    flaky = step_stats(client, run.run_id)["flaky"]
    assert flaky["status"] == "IN_PROGRESS" and flaky["endTime"] is None
    assert flaky["attempts"] == [{"startTime": t0.timestamp(), "endTime": (t0 + timedelta(seconds=2)).timestamp()}]


def test_markers_come_from_the_step_s_engine_events(client):
    run = services.run_create(job_name="job")
    t0 = timezone.now() - timedelta(minutes=1)
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="STEP_START", step_key="load", timestamp=t0),
        EventInput(event_type="ENGINE_EVENT", step_key="load", timestamp=t0 + timedelta(seconds=1),
                   payload={"marker_start": "resources", "marker_end": None, "metadata": []}),
        EventInput(event_type="ENGINE_EVENT", step_key="load", timestamp=t0 + timedelta(seconds=3),
                   payload={"marker_start": None, "marker_end": "resources", "metadata": []}),
        EventInput(event_type="ENGINE_EVENT", step_key="load", message="no marker", timestamp=t0,
                   payload={"marker_start": None, "marker_end": None, "metadata": []}),
    ])
    load = step_stats(client, run.run_id)["load"]
    assert load["markers"] == [{"startTime": (t0 + timedelta(seconds=1)).timestamp(),
                                "endTime": (t0 + timedelta(seconds=3)).timestamp()}]
    assert len(load["attempts"]) == 1


def _run_with_steps(count: int) -> str:
    run = services.run_create(job_name="job")
    events = []
    for n in range(count):
        events += [EventInput(event_type="STEP_START", step_key=f"step_{n}"),
                   EventInput(message=f"line of {n}", step_key=f"step_{n}"),
                   EventInput(event_type="STEP_SUCCESS", step_key=f"step_{n}")]
    services.event_store(run_id=run.run_id, events=events)
    return run.run_id


def test_step_stats_take_the_same_queries_for_3_and_300_steps(client):
    few, many = _run_with_steps(3), _run_with_steps(300)
    step_stats(client, few)  # the parsed document is cached: both measured runs execute it the same way
    with CaptureQueriesContext(connection) as for_few:
        assert len(step_stats(client, few)) == 3
    with CaptureQueriesContext(connection) as for_many:
        assert len(step_stats(client, many)) == 300
    assert len(for_few) == len(for_many) <= 3, [q["sql"] for q in for_many.captured_queries]


# --- logsForRun(eventFilter): Orchestra's extension, the event-log filter applied in the database -------------

FILTERED_LOGS = """
query Filtered($runId: ID!, $after: String, $filter: OrchestraEventLogFilter) {
  logsForRun(runId: $runId, afterCursor: $after, limit: 2, eventFilter: $filter) {
    __typename
    ... on EventConnection { cursor hasMore events { ... on MessageEvent { message level stepKey eventType } } }
    ... on PythonError { message }
  }
}
"""


def filtered(client, run_id: str, event_filter: dict, after: str | None = None) -> dict:
    return gql(client, FILTERED_LOGS, {"runId": run_id, "filter": event_filter, "after": after})["data"]["logsForRun"]


def test_logs_for_run_filters_by_type_step_level_text_and_before_a_cursor(client):
    run = services.run_create(job_name="job")
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="RUN_START", message="Started."),
        EventInput(event_type="STEP_START", step_key="a", message="Started a."),
        EventInput(message="a says Hello", step_key="a"),
        EventInput(message="a warns", step_key="a", level=30),
        EventInput(message="b says hello too", step_key="b", level=40),
        EventInput(event_type="STEP_FAILURE", step_key="b", message="b failed.", level=40),
    ])

    def messages(event_filter: dict, after: str | None = None) -> list[str]:
        seen, page = [], {"hasMore": True, "cursor": after}
        while page["hasMore"]:  # pages of 2 by cursor, as without a filter
            page = filtered(client, run.run_id, event_filter, page["cursor"])
            seen += [e["message"] for e in page["events"]]
        return seen

    assert messages({"eventTypes": ["LOG"]}) == ["a says Hello", "a warns", "b says hello too"]
    assert messages({"eventTypes": ["STEP_START", "STEP_FAILURE"]}) == ["Started a.", "b failed."]
    assert messages({"stepKeys": ["b"]}) == ["b says hello too", "b failed."]
    assert messages({"minLevel": "WARNING"}) == ["a warns", "b says hello too", "b failed."]
    assert messages({"text": "HELLO"}) == ["a says Hello", "b says hello too"]  # any case
    assert messages({"text": "hello", "minLevel": "ERROR", "stepKeys": ["b"]}) == ["b says hello too"]
    last_a = filtered(client, run.run_id, {"stepKeys": ["a"], "eventTypes": ["LOG"], "minLevel": "WARNING"})["cursor"]
    assert messages({"text": "s", "beforeCursor": last_a}) == ["Started.", "Started a.", "a says Hello"]
    assert messages({}) == messages({"eventTypes": None}) and len(messages({})) == 6
    assert filtered(client, run.run_id, {"beforeCursor": "x"})["__typename"] == "PythonError"  # not a cursor


RUNS_WITH_STEP_STATS = """
query { runsOrError(limit: 50) { ... on Runs { results { runId stepStats { stepKey status materializations { partition } } } } } }
"""


def test_step_stats_of_a_runs_page_cost_one_query_whatever_the_number_of_runs(client):
    def listed() -> tuple[dict[str, list], int]:
        with CaptureQueriesContext(connection) as captured:
            results = gql(client, RUNS_WITH_STEP_STATS)["data"]["runsOrError"]["results"]
        return {r["runId"]: r["stepStats"] for r in results}, len(captured)

    def add_runs(count: int) -> list[str]:
        ids = []
        for n in range(count):
            run = services.run_create(job_name="job")
            services.event_store(run_id=run.run_id, events=[
                EventInput(event_type="STEP_START", step_key=f"step_{n}"),
                EventInput(event_type="STEP_SUCCESS" if n % 2 else "STEP_FAILURE", step_key=f"step_{n}"),
            ])
            ids.append(run.run_id)
        return ids

    first = add_runs(2)
    steps, few_queries = listed()
    more = add_runs(20)
    steps, many_queries = listed()
    assert many_queries == few_queries
    assert steps[first[0]] == [{"stepKey": "step_0", "status": "FAILURE", "materializations": []}]
    assert steps[more[-1]] == [{"stepKey": "step_19", "status": "SUCCESS", "materializations": []}]
    assert all(len(s) == 1 for s in steps.values()) and len(steps) == 22


STEP_RESULTS = """
query Steps($runId: ID!) {
  runOrError(runId: $runId) {
    ... on Run { stepStats { stepKey
      materializations { assetKey { path } partition }
      expectationResults { success label description } } }
  }
}
"""


def test_step_stats_carry_each_steps_materializations_and_expectation_results(client):
    run = services.run_create(job_name="job")
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="STEP_START", step_key="orders"),
        EventInput(event_type="ASSET_MATERIALIZATION", step_key="orders", asset_key="warehouse/orders",
                   partition="2024-01-01"),
        EventInput(event_type="STEP_EXPECTATION_RESULT", step_key="orders",
                   payload={"success": False, "label": "no_nulls", "description": "3 null ids"}),
        EventInput(event_type="STEP_SUCCESS", step_key="orders"),
        EventInput(event_type="STEP_START", step_key="report"),
        EventInput(event_type="STEP_SUCCESS", step_key="report"),
    ])
    other = services.run_create(job_name="job")  # another run's events stay with it
    services.event_store(run_id=other.run_id, events=[
        EventInput(event_type="ASSET_MATERIALIZATION", step_key="orders", asset_key="warehouse/orders")])
    steps = {s["stepKey"]: s for s in
             gql(client, STEP_RESULTS, {"runId": run.run_id})["data"]["runOrError"]["stepStats"]}
    assert steps["orders"]["materializations"] == [
        {"assetKey": {"path": ["warehouse", "orders"]}, "partition": "2024-01-01"}]
    assert steps["orders"]["expectationResults"] == [
        {"success": False, "label": "no_nulls", "description": "3 null ids"}]
    assert steps["report"]["materializations"] == [] and steps["report"]["expectationResults"] == []
