"""Scheduling's GraphQL: Dagster's queries and mutations for schedules, sensors, ticks and backfills, over the
states reconciled from a real code server's snapshot."""

from __future__ import annotations

import itertools
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduling import services
from scheduling.models import Backfill, InstigatorKind, InstigatorState, Tick, TickStatus
from tests.scheduling.conftest import LOCATION
from workspace.models import CodeLocation, LocationStatus

pytestmark = pytest.mark.django_db



@pytest.fixture
def location(location):
    """The stored location with its states (the signal that reconciles them fires on commit, which a test
    transaction never reaches)."""
    services.instigators_reconcile(location_name=LOCATION)
    return location


REPO = {"repositoryName": "__repository__", "repositoryLocationName": LOCATION}

SCHEDULES = """
query Schedules($repositorySelector: RepositorySelector!, $status: InstigationStatus) {
  schedulesOrError(repositorySelector: $repositorySelector, scheduleStatus: $status) {
    __typename
    ... on Schedules { results { id name cronSchedule executionTimezone pipelineName mode defaultStatus canReset
      scheduleState { id selectorId name status instigationType runsCount
        ticks(limit: 2) { id status timestamp runIds runKeys skipReason cursor error { message } }
        typeSpecificData { __typename ... on ScheduleData { cronSchedule startTimestamp } } nextTick { timestamp } } } }
    ... on RepositoryNotFoundError { message repositoryName }
    ... on PythonError { message }
  }
}
"""

SCHEDULE = """
query Schedule($sel: ScheduleSelector!) {
  scheduleOrError(scheduleSelector: $sel) {
    __typename
    ... on Schedule { name scheduleState { id status } futureTicks(limit: 3) { results { timestamp } cursor } }
    ... on ScheduleNotFoundError { scheduleName message }
  }
}
"""

SENSOR = """
query Sensor($sel: SensorSelector!) {
  sensorOrError(sensorSelector: $sel) {
    __typename
    ... on Sensor { name minIntervalSeconds sensorType defaultStatus hasCursorUpdatePermissions jobOriginId
      sensorState { id status typeSpecificData { ... on SensorData { lastCursor lastRunKey lastTickTimestamp } }
        ticks(limit: 5, statuses: [FAILURE]) { status error { message causes { message } } } }
      nextTick { timestamp } metadata { assetKeys { path } } }
    ... on SensorNotFoundError { sensorName message }
  }
}
"""

START_SCHEDULE = """
mutation Start($sel: ScheduleSelector!) {
  startSchedule(scheduleSelector: $sel) {
    __typename
    ... on ScheduleStateResult { scheduleState { id status } }
    ... on ScheduleNotFoundError { scheduleName message }
    ... on PythonError { message }
  }
}
"""

STOP_SCHEDULE = """
mutation Stop($id: String) {
  stopRunningSchedule(id: $id) {
    __typename
    ... on ScheduleStateResult { scheduleState { id status } }
    ... on ScheduleNotFoundError { message }
  }
}
"""

SENSOR_MUTATIONS = """
mutation Start($sel: SensorSelector!) { startSensor(sensorSelector: $sel) {
  __typename ... on Sensor { sensorState { id status } } ... on SensorNotFoundError { message } } }
mutation Cursor($sel: SensorSelector!, $cursor: String) { setSensorCursor(sensorSelector: $sel, cursor: $cursor) {
  __typename ... on Sensor { sensorState { typeSpecificData { ... on SensorData { lastCursor } } } } } }
mutation Stop($id: String) { stopSensor(id: $id) {
  __typename ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }
mutation Reset($sel: SensorSelector!) { resetSensor(sensorSelector: $sel) {
  __typename ... on Sensor { canReset sensorState { status } } } }
"""

BACKFILLS = """
mutation Launch($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId launchedRunIds }
  ... on PartitionSetNotFoundError { partitionSetName message } ... on PartitionKeysNotFoundError { message }
  ... on PythonError { message } } }
mutation Resume($id: String!) { resumePartitionBackfill(backfillId: $id) {
  __typename ... on ResumeBackfillSuccess { backfillId } ... on PythonError { message } } }
mutation Cancel($id: String!) { cancelPartitionBackfill(backfillId: $id) {
  __typename ... on CancelBackfillSuccess { backfillId } ... on PythonError { message } } }
query One($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { id status partitionNames numPartitions partitionSetName fromFailure
    runs { runId tags { key value } } }
  ... on BackfillNotFoundError { backfillId message } } }
query All($status: BulkActionStatus) { partitionBackfillsOrError(status: $status) {
  __typename ... on PartitionBackfills { results { id status } } } }
"""


def gql(client, query: str, variables: dict | None = None, operation: str | None = None) -> dict:
    body = {"query": query, "variables": variables or {}}
    if operation:
        body["operationName"] = operation
    response = client.post("/graphql", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def test_schedules_or_error_answers_each_schedule_with_its_state_and_ticks(client, location):
    state = InstigatorState.objects.get(kind=InstigatorKind.SCHEDULE, location_name=LOCATION, name="skipping_schedule")
    Tick.objects.create(state=state, kind=state.kind, status=TickStatus.SKIPPED, skip_reason="nothing to do today",
                        scheduled_time=timezone.now())
    data = gql(client, SCHEDULES, {"repositorySelector": REPO})["schedulesOrError"]
    assert data["__typename"] == "Schedules"
    by_name = {s["name"]: s for s in data["results"]}
    assert {"hourly", "two_crons", "daily_partitioned", "skipping_schedule"} <= set(by_name)
    hourly = by_name["hourly"]
    assert (hourly["cronSchedule"], hourly["pipelineName"], hourly["mode"]) == ("0 * * * *", "my_job", "default")
    assert hourly["defaultStatus"] == "RUNNING" and hourly["scheduleState"]["status"] == "RUNNING"
    assert hourly["scheduleState"]["nextTick"]["timestamp"] > timezone.now().timestamp()
    assert hourly["scheduleState"]["typeSpecificData"]["__typename"] == "ScheduleData"
    assert by_name["two_crons"]["cronSchedule"] == json.dumps(["0 9 * * *", "30 17 * * 1-5"])
    assert by_name["new_york_2am"]["executionTimezone"] == "America/New_York"
    skipping = by_name["skipping_schedule"]["scheduleState"]
    assert skipping["status"] == "STOPPED" and skipping["instigationType"] == "SCHEDULE"
    assert [(t["status"], t["skipReason"]) for t in skipping["ticks"]] == [("SKIPPED", "nothing to do today")]

    running = gql(client, SCHEDULES, {"repositorySelector": REPO, "status": "RUNNING"})["schedulesOrError"]
    assert [s["name"] for s in running["results"]] == ["hourly"]
    missing = gql(client, SCHEDULES, {"repositorySelector": {**REPO, "repositoryLocationName": "nope"}})
    assert missing["schedulesOrError"]["__typename"] == "RepositoryNotFoundError"


def test_the_repository_lists_its_schedules_and_sensors_with_their_state(client, location):
    query = """query { repositoriesOrError { ... on RepositoryConnection { nodes { name
      schedules { name scheduleState { status } } sensors { name minIntervalSeconds sensorState { status } } } } } }"""
    nodes = gql(client, query)["repositoriesOrError"]["nodes"]
    schedules = {s["name"]: s["scheduleState"]["status"] for s in nodes[0]["schedules"]}
    sensors = {s["name"]: (s["minIntervalSeconds"], s["sensorState"]["status"]) for s in nodes[0]["sensors"]}
    assert schedules["hourly"] == "RUNNING" and schedules["two_crons"] == "STOPPED"
    assert sensors["counting_sensor"] == (45, "RUNNING") and sensors["failing_sensor"][1] == "STOPPED"


def test_start_and_stop_a_schedule_by_selector_and_by_state_id(client, location):
    sel = {**REPO, "scheduleName": "two_crons"}
    started = gql(client, START_SCHEDULE, {"sel": sel})["startSchedule"]
    assert started["__typename"] == "ScheduleStateResult" and started["scheduleState"]["status"] == "RUNNING"
    state = InstigatorState.objects.get(kind=InstigatorKind.SCHEDULE, location_name=LOCATION, name="two_crons")
    assert state.status == "RUNNING" and state.status_overridden and state.next_tick_at is not None

    stopped = gql(client, STOP_SCHEDULE, {"id": started["scheduleState"]["id"]})["stopRunningSchedule"]
    assert stopped["scheduleState"] == {"id": started["scheduleState"]["id"], "status": "STOPPED"}
    state.refresh_from_db()
    assert state.status == "STOPPED"

    unknown = gql(client, START_SCHEDULE, {"sel": {**sel, "scheduleName": "no_such"}})["startSchedule"]
    assert unknown == {"__typename": "ScheduleNotFoundError", "scheduleName": "no_such",
                       "message": "Schedule no_such could not be found."}
    assert gql(client, STOP_SCHEDULE, {"id": "not-an-id"})["stopRunningSchedule"]["__typename"] == \
        "ScheduleNotFoundError"


def test_schedule_or_error_answers_future_ticks_from_the_cron(client, location):
    data = gql(client, SCHEDULE, {"sel": {**REPO, "scheduleName": "hourly"}})["scheduleOrError"]
    stamps = [t["timestamp"] for t in data["futureTicks"]["results"]]
    assert len(stamps) == 3 and all(int(s) % 3600 == 0 for s in stamps)
    assert [b - a for a, b in itertools.pairwise(stamps)] == [3600.0, 3600.0]
    assert data["futureTicks"]["cursor"] == stamps[-1]
    missing = gql(client, SCHEDULE, {"sel": {**REPO, "scheduleName": "nope"}})["scheduleOrError"]
    assert missing["__typename"] == "ScheduleNotFoundError"


def test_sensor_mutations_start_set_cursor_stop_and_reset(client, location):
    sel = {**REPO, "sensorName": "failing_sensor"}
    started = gql(client, SENSOR_MUTATIONS, {"sel": sel}, "Start")["startSensor"]
    assert started["sensorState"]["status"] == "RUNNING"
    cursor = gql(client, SENSOR_MUTATIONS, {"sel": sel, "cursor": "42"}, "Cursor")["setSensorCursor"]
    assert cursor["sensorState"]["typeSpecificData"]["lastCursor"] == "42"
    assert InstigatorState.objects.get(kind="SENSOR", name="failing_sensor").cursor == "42"

    sensor = gql(client, SENSOR, {"sel": sel})["sensorOrError"]
    assert sensor["sensorType"] == "STANDARD" and sensor["minIntervalSeconds"] == 30
    assert sensor["nextTick"]["timestamp"] > 0
    stopped = gql(client, SENSOR_MUTATIONS, {"id": sensor["sensorState"]["id"]}, "Stop")["stopSensor"]
    assert stopped == {"__typename": "StopSensorMutationResult", "instigationState": {"status": "STOPPED"}}
    # By the id the Sensor type hands out as well.
    gql(client, SENSOR_MUTATIONS, {"sel": sel}, "Start")
    stopped = gql(client, SENSOR_MUTATIONS, {"id": sensor["jobOriginId"]}, "Stop")["stopSensor"]
    assert stopped["instigationState"]["status"] == "STOPPED"
    reset = gql(client, SENSOR_MUTATIONS, {"sel": sel}, "Reset")["resetSensor"]
    assert reset == {"__typename": "Sensor", "canReset": False, "sensorState": {"status": "STOPPED"}}
    unknown = gql(client, SENSOR_MUTATIONS, {"sel": {**sel, "sensorName": "nope"}}, "Start")["startSensor"]
    assert unknown["__typename"] == "SensorNotFoundError"


def test_a_failed_sensor_tick_is_listed_with_its_error_and_the_cursor_kept(client, location):
    state = services.sensor_start(location_name=LOCATION, name="failing_sensor")
    services.sensor_tick(state_id=state.pk)
    sensor = gql(client, SENSOR, {"sel": {**REPO, "sensorName": "failing_sensor"}})["sensorOrError"]
    ticks = sensor["sensorState"]["ticks"]
    assert [t["status"] for t in ticks] == ["FAILURE"]
    assert "failing_sensor" in ticks[0]["error"]["message"]
    assert "the sensor broke" in ticks[0]["error"]["causes"][0]["message"]
    assert sensor["sensorState"]["typeSpecificData"]["lastCursor"] is None
    asset = gql(client, SENSOR, {"sel": {**REPO, "sensorName": "orders_sensor"}})["sensorOrError"]
    assert asset["sensorType"] == "ASSET"


def test_instigation_state_or_error(client, location):
    query = """query($sel: InstigationSelector!) { instigationStateOrError(instigationSelector: $sel) {
      __typename ... on InstigationState { name status repositoryLocationName }
      ... on InstigationStateNotFoundError { name } } }"""
    found = gql(client, query, {"sel": {**REPO, "name": "counting_sensor"}})["instigationStateOrError"]
    assert found == {"__typename": "InstigationState", "name": "counting_sensor", "status": "RUNNING",
                     "repositoryLocationName": LOCATION}
    missing = gql(client, query, {"sel": {**REPO, "name": "nope"}})["instigationStateOrError"]
    assert missing == {"__typename": "InstigationStateNotFoundError", "name": "nope"}


def test_launch_list_get_and_cancel_a_partition_backfill(client, location):
    params = {"selector": {"partitionSetName": "daily_job_partition_set", "repositorySelector": REPO},
              "partitionNames": ["2024-01-01", "2024-01-02"], "tags": [{"key": "team", "value": "data"}],
              "forceSynchronousSubmission": True}
    launched = gql(client, BACKFILLS, {"params": params}, "Launch")["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess" and len(launched["launchedRunIds"]) == 2
    backfill_id = launched["backfillId"]
    one = gql(client, BACKFILLS, {"id": backfill_id}, "One")["partitionBackfillOrError"]
    assert one["status"] == "REQUESTED" and one["partitionNames"] == ["2024-01-01", "2024-01-02"]
    assert one["partitionSetName"] == "daily_job_partition_set" and one["numPartitions"] == 2
    partitions = sorted(t["value"] for r in one["runs"] for t in r["tags"] if t["key"] == "dagster/partition")
    assert partitions == ["2024-01-01", "2024-01-02"]
    listed = gql(client, BACKFILLS, {"status": "REQUESTED"}, "All")["partitionBackfillsOrError"]["results"]
    assert [b["id"] for b in listed] == [backfill_id]

    canceled = gql(client, BACKFILLS, {"id": backfill_id}, "Cancel")["cancelPartitionBackfill"]
    assert canceled == {"__typename": "CancelBackfillSuccess", "backfillId": backfill_id}
    assert Backfill.objects.get(backfill_id=backfill_id).status in ("CANCELING", "CANCELED")
    again = gql(client, BACKFILLS, {"id": backfill_id}, "Cancel")["cancelPartitionBackfill"]
    assert again["__typename"] == "PythonError" and "only a requested backfill" in again["message"]

    bad = gql(client, BACKFILLS, {"params": {**params, "partitionNames": ["1999-01-01"]}}, "Launch")
    assert bad["launchPartitionBackfill"]["__typename"] == "PartitionKeysNotFoundError"
    unknown = {**params, "selector": {**params["selector"], "partitionSetName": "nope_partition_set"}}
    assert gql(client, BACKFILLS, {"params": unknown}, "Launch")["launchPartitionBackfill"]["__typename"] == \
        "PartitionSetNotFoundError"
    not_failed = gql(client, BACKFILLS, {"id": backfill_id}, "Resume")["resumePartitionBackfill"]
    assert not_failed["__typename"] == "PythonError" and "only a failed backfill can be resumed" in not_failed["message"]
    Backfill.objects.filter(backfill_id=backfill_id).update(status="FAILED", error={"message": "code server gone"})
    resumed = gql(client, BACKFILLS, {"id": backfill_id}, "Resume")["resumePartitionBackfill"]
    assert resumed == {"__typename": "ResumeBackfillSuccess", "backfillId": backfill_id}
    assert Backfill.objects.get(backfill_id=backfill_id).status == "REQUESTED"
    missing = gql(client, BACKFILLS, {"id": "zzzz"}, "One")["partitionBackfillOrError"]
    assert missing["__typename"] == "BackfillNotFoundError"


def test_mutations_answer_unauthorized_when_the_permission_is_refused(client, location, login_as):
    login_as("viewer")
    result = gql(client, START_SCHEDULE, {"sel": {**REPO, "scheduleName": "two_crons"}})["startSchedule"]
    assert result["__typename"] == "UnauthorizedError"
    assert InstigatorState.objects.get(kind="SCHEDULE", name="two_crons").status == "STOPPED"
    stop = gql(client, SENSOR_MUTATIONS, {"id": "x"}, "Stop")["stopSensor"]
    assert stop["__typename"] == "UnauthorizedError"


def _location_with_schedules(name: str, count: int) -> None:
    schedules = [{"kind": "schedule", "name": f"s{i}", "cron_schedule": "0 * * * *", "execution_timezone": None,
                  "job_name": "j", "default_status": "RUNNING", "description": None, "tags": {}}
                 for i in range(count)]
    CodeLocation.objects.create(name=name, status=LocationStatus.LOADED, snapshot_id=f"snap-{name}",
                                snapshot={"repository_name": "__repository__", "jobs": [], "schedules": schedules,
                                          "sensors": []})
    services.instigators_reconcile(location_name=name)
    for state in InstigatorState.objects.filter(location_name=name):
        for minute in range(3):
            Tick.objects.create(state=state, kind=state.kind, status=TickStatus.SUCCESS,
                                scheduled_time=timezone.now().replace(minute=minute, second=0, microsecond=0))


def test_listing_schedules_with_state_and_ticks_costs_the_same_queries_for_2_or_20(client):
    _location_with_schedules("two", 2)
    _location_with_schedules("twenty", 20)
    query = """query($sel: RepositorySelector!) { schedulesOrError(repositorySelector: $sel) { ... on Schedules {
      results { name canReset scheduleState { id status nextTick { timestamp } ticks(limit: 2) { id status } } } } } }"""
    counts = {}
    for name in ("two", "twenty"):
        with CaptureQueriesContext(connection) as queries:
            data = gql(client, query, {"sel": {**REPO, "repositoryLocationName": name}})
        results = data["schedulesOrError"]["results"]
        assert all(len(s["scheduleState"]["ticks"]) == 2 for s in results)
        counts[name] = len(queries)
    assert len(results) == 20
    assert counts["two"] == counts["twenty"], counts


def test_runs_and_runs_count_of_a_list_of_1_or_20_schedules_cost_the_same_queries(client):
    from runs.services import run_create

    _location_with_schedules("one", 1)
    _location_with_schedules("many", 20)
    for name, count in (("one", 1), ("many", 20)):
        for i in range(count):
            for _ in range(i % 3 + 1):
                run_create(job_name="j", location_name=name, tags={"dagster/schedule_name": f"s{i}", "team": "t"})
    run_create(job_name="j", location_name="elsewhere", tags={"dagster/schedule_name": "s0"})  # another location's
    run_create(job_name="j", location_name="many", tags={"dagster/sensor_name": "s1"})  # a sensor of the same name
    query = """query($sel: RepositorySelector!) { schedulesOrError(repositorySelector: $sel) { ... on Schedules {
      results { name scheduleState { runsCount runs(limit: 2) { runId tags { key value } } } } } } }"""
    counts = {}
    for name in ("one", "many"):
        with CaptureQueriesContext(connection) as queries:
            results = gql(client, query, {"sel": {**REPO, "repositoryLocationName": name}})["schedulesOrError"]["results"]
        counts[name] = len(queries)
        for result in results:
            i = int(result["name"][1:])
            state = result["scheduleState"]
            assert state["runsCount"] == i % 3 + 1
            assert len(state["runs"]) == min(2, i % 3 + 1)
            assert all({"key": "dagster/schedule_name", "value": result["name"]} in run["tags"] for run in state["runs"])
    assert len(results) == 20
    assert counts["one"] == counts["many"], counts


SCHEDULING_TYPES = (
    "Schedule", "Sensor", "InstigationState", "InstigationTick", "Schedules", "Sensors", "SchedulesOrError",
    "ScheduleOrError", "SensorsOrError", "SensorOrError", "InstigationStateOrError", "ScheduleMutationResult",
    "ScheduleStateResult", "StopSensorMutationResultOrError", "StopSensorMutationResult", "PartitionBackfill",
    "PartitionBackfills", "PartitionBackfillOrError", "PartitionBackfillsOrError", "LaunchBackfillResult",
    "LaunchBackfillSuccess", "CancelBackfillResult", "CancelBackfillSuccess", "LaunchBackfillParams",
    "ScheduleSelector", "SensorSelector", "InstigationSelector", "PartitionSetSelector", "DryRunInstigationTicks",
    "ResumeBackfillResult", "ResumeBackfillSuccess", "SensorData", "ScheduleData", "InstigationTypeSpecificData", "SensorType", "BulkActionStatus",
)
SCHEDULING_ROOT_FIELDS = {
    "Query": ("schedulesOrError", "scheduleOrError", "sensorsOrError", "sensorOrError", "instigationStateOrError",
              "partitionBackfillOrError", "partitionBackfillsOrError"),
    "Mutation": ("startSchedule", "stopRunningSchedule", "resetSchedule", "startSensor", "stopSensor", "resetSensor",
                 "setSensorCursor", "launchPartitionBackfill", "cancelPartitionBackfill", "resumePartitionBackfill",
                 "reexecutePartitionBackfill"),
}


def test_scheduling_types_and_root_fields_have_dagsters_names_and_shapes():
    """Each scheduling type is served and shaped as in Dagster's schema (fields, argument types, union members);
    PartitionBackfill does not implement RunsFeedEntry yet, as Run does not."""
    from dagster_graphql.schema import create_schema
    from graphql import GraphQLUnionType

    from orchestra_site.schema import schema

    ours, theirs = schema.graphql_schema, create_schema().graphql_schema
    problems = []
    for name in SCHEDULING_TYPES:
        mine, their = ours.type_map.get(name), theirs.type_map[name]
        if mine is None:
            problems.append(f"{name}: not served")
            continue
        if isinstance(mine, GraphQLUnionType):
            problems += [f"{name}: member {t.name} not Dagster's" for t in mine.types
                         if t.name not in {x.name for x in their.types}]
        for field_name, field in getattr(mine, "fields", {}).items():
            if field_name not in their.fields or str(field.type) != str(their.fields[field_name].type):
                problems.append(f"{name}.{field_name}: {field.type} differs from Dagster's")
    for root, names in SCHEDULING_ROOT_FIELDS.items():
        for name in names:
            mine, their = ours.type_map[root].fields.get(name), theirs.type_map[root].fields[name]
            if mine is None:
                problems.append(f"{root}.{name}: not served")
                continue
            if str(mine.type) != str(their.type):
                problems.append(f"{root}.{name}: {mine.type}, Dagster has {their.type}")
            if {a: str(t.type) for a, t in mine.args.items()} != {a: str(t.type) for a, t in their.args.items()
                                                                   if a in mine.args}:
                problems.append(f"{root}.{name}: arguments differ")
            required = {a for a, t in their.args.items() if str(t.type).endswith("!")}
            if not required <= set(mine.args):
                problems.append(f"{root}.{name}: lacks Dagster's required arguments {required - set(mine.args)}")
    assert problems == []
