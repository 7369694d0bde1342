"""The GraphQL API for runs, events and assets: Dagster's names and unions over real stored runs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from runs import selectors, services
from runs.models import Run
from runs.services import EventInput

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> \"quoted\" \\ back\nslash \u202e rtl 💥 ' OR 1=1 --"

RUNS_QUERY = """
query Runs($filter: RunsFilter, $cursor: String, $limit: Int) {
  runsOrError(filter: $filter, cursor: $cursor, limit: $limit) {
    __typename
    ... on Runs { count results { runId jobName status tags { key value } } }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message }
  }
}
"""

LOGS_QUERY = """
query Logs($runId: ID!, $afterCursor: String, $limit: Int) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on MessageEvent { runId message timestamp level stepKey eventType }
      }
    }
    ... on RunNotFoundError { runId message }
    ... on PythonError { message className }
  }
}
"""


def gql(client, query: str, variables: dict | None = None, status: int = 200) -> dict:
    response = client.post(
        "/graphql",
        json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
    )
    assert response.status_code == status, response.content
    return response.json()


def runs_page(client, **variables) -> dict:
    return gql(client, RUNS_QUERY, variables)["data"]["runsOrError"]


def logs(client, run_id: str, **variables) -> dict:
    return gql(client, LOGS_QUERY, {"runId": run_id, **variables})["data"]["logsForRun"]


def store(run_id: str, *events: EventInput) -> None:
    services.event_store(run_id=run_id, events=list(events))


# --- runs -------------------------------------------------------------------------------------------


def test_run_or_error_answers_the_run_with_dagster_field_names(client):
    run = services.run_create(
        job_name="etl",
        run_config={"ops": {"load": {"config": {"rows": 3}}}},
        tags={"team": "data"},
        op_selection=["load*"],
        asset_selection=[["warehouse", "orders"], "raw/events"],
        step_keys_to_execute=["load"],
        parent_run_id="parent",
        root_run_id="root",
    )
    store(run.run_id, EventInput("RUN_STARTING"), EventInput("RUN_START"))
    query = """query($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run {
        id runId status runStatus pipelineName jobName runConfigYaml runConfig mode tags { key value }
        creationTime startTime endTime updateTime parentRunId rootRunId solidSelection stepKeysToExecute
        assetSelection { path } canTerminate } } }"""
    data = gql(client, query, {"runId": run.run_id})["data"]["runOrError"]
    run.refresh_from_db()
    assert data == {
        "__typename": "Run",
        "id": run.run_id,
        "runId": run.run_id,
        "status": "STARTED",
        "runStatus": "STARTED",
        "pipelineName": "etl",
        "jobName": "etl",
        "runConfigYaml": "ops:\n  load:\n    config:\n      rows: 3\n",
        "runConfig": {"ops": {"load": {"config": {"rows": 3}}}},
        "mode": "default",
        "tags": [{"key": "team", "value": "data"}],
        "creationTime": pytest.approx(run.created_at.timestamp()),
        "startTime": pytest.approx(run.started_at.timestamp()),
        "endTime": None,
        "updateTime": pytest.approx(run.updated_at.timestamp()),
        "parentRunId": "parent",
        "rootRunId": "root",
        "solidSelection": ["load*"],
        "stepKeysToExecute": ["load"],
        "assetSelection": [{"path": ["warehouse", "orders"]}, {"path": ["raw", "events"]}],
        "canTerminate": True,
    }


def test_legacy_pipeline_run_or_error_answers_the_query_dagsters_client_sends(client):
    run = services.run_create(job_name="etl")
    store(run.run_id, EventInput("RUN_START"), EventInput("RUN_SUCCESS"))
    query = """query GraphQLClientGetRunStatus($runId: ID!) { pipelineRunOrError(runId: $runId) {
        __typename ... on PipelineRun { status } ... on PipelineRunNotFoundError { message }
        ... on PythonError { message } } }"""
    assert gql(client, query, {"runId": run.run_id})["data"]["pipelineRunOrError"] == {
        "__typename": "Run",
        "status": "SUCCESS",
    }
    assert gql(client, query, {"runId": "missing"})["data"]["pipelineRunOrError"] == {
        "__typename": "RunNotFoundError",
        "message": "Run missing could not be found.",
    }


def test_can_terminate_only_queued_or_started_runs(client):
    finished = services.run_create(job_name="etl")
    store(finished.run_id, EventInput("RUN_START"), EventInput("RUN_FAILURE"))
    queued = services.run_create(job_name="etl")
    store(queued.run_id, EventInput("RUN_ENQUEUED"))
    query = "query($runId: ID!) { runOrError(runId: $runId) { ... on Run { canTerminate } } }"
    assert gql(client, query, {"runId": finished.run_id})["data"]["runOrError"] == {"canTerminate": False}
    assert gql(client, query, {"runId": queued.run_id})["data"]["runOrError"] == {"canTerminate": True}


def test_runs_or_error_lists_newest_first_and_counts_all_matches(client):
    ids = [services.run_create(job_name=f"job_{i}").run_id for i in range(3)]
    page = runs_page(client, limit=2)
    assert page["__typename"] == "Runs"
    assert [r["runId"] for r in page["results"]] == ids[::-1][:2]
    assert page["count"] == 3


def test_runs_cursor_pages_without_overlap_and_the_legacy_field_agrees(client):
    ids = [services.run_create(job_name="etl").run_id for _ in range(7)]
    seen, cursor = [], None
    while True:
        page = runs_page(client, limit=3, cursor=cursor)["results"]
        if not page:
            break
        seen += [r["runId"] for r in page]
        cursor = page[-1]["runId"]
    assert seen == ids[::-1]
    legacy = gql(client, "{ pipelineRunsOrError(limit: 3) { __typename ... on Runs { results { runId } } } }")
    assert legacy["data"]["pipelineRunsOrError"]["__typename"] == "Runs"
    assert [r["runId"] for r in legacy["data"]["pipelineRunsOrError"]["results"]] == ids[::-1][:3]


def test_runs_filter_by_status_job_ids_and_tags(client):
    ok = services.run_create(job_name="etl", tags={"team": "data", "env": "prod"})
    store(ok.run_id, EventInput("RUN_START"), EventInput("RUN_SUCCESS"))
    failed = services.run_create(job_name="etl", tags={"team": "data", "env": "dev"})
    store(failed.run_id, EventInput("RUN_START"), EventInput("RUN_FAILURE"))
    other = services.run_create(job_name="report", tags={"team": "web"})

    def ids(**filter_):
        return [r["runId"] for r in runs_page(client, filter=filter_)["results"]]

    assert ids(statuses=["SUCCESS", "FAILURE"]) == [failed.run_id, ok.run_id]
    assert ids(statuses=["NOT_STARTED"]) == [other.run_id]
    assert ids(pipelineName="report") == [other.run_id]
    assert ids(runIds=[ok.run_id, other.run_id]) == [other.run_id, ok.run_id]
    assert ids(tags=[{"key": "team", "value": "data"}]) == [failed.run_id, ok.run_id]
    assert ids(tags=[{"key": "team", "value": "data"}, {"key": "env", "value": "prod"}]) == [ok.run_id]
    assert ids(pipelineName="etl", statuses=["SUCCESS"], mode="default") == [ok.run_id]
    assert runs_page(client, filter={"tags": [{"key": "team", "value": "data"}]})["count"] == 2


def test_runs_filter_by_creation_and_update_time_in_seconds(client):
    old = services.run_create(job_name="etl")
    Run.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=2), updated_at=timezone.now() - timedelta(days=2)
    )
    new = services.run_create(job_name="etl")
    day_ago = (timezone.now() - timedelta(days=1)).timestamp()

    def ids(**filter_):
        return [r["runId"] for r in runs_page(client, filter=filter_)["results"]]

    assert ids(createdAfter=day_ago) == [new.run_id]
    assert ids(createdBefore=day_ago) == [old.run_id]
    assert ids(updatedAfter=day_ago) == [new.run_id]
    assert ids(updatedBefore=day_ago) == [old.run_id]


def test_runs_list_runs_in_constant_queries_whatever_the_page_size(client, django_assert_num_queries):
    services.run_create(job_name="etl", tags={"a": "1"})
    # runs, their tags (one prefetch), the count
    with django_assert_num_queries(3):
        assert len(runs_page(client)["results"]) == 1
    for i in range(30):
        services.run_create(job_name=f"job_{i}", tags={"a": str(i), "b": "x"})
    with django_assert_num_queries(3):
        assert len(runs_page(client)["results"]) == 31


UI_RUNS_QUERY = """
query RunsRoot($limit: Int) {
  runsOrError(limit: $limit) {
    ... on Runs { results { id runId status jobName startTime endTime tags { key value } } }
  }
}
"""


def test_the_ui_run_list_takes_the_same_number_of_queries_for_5_and_50_runs(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_newest(n: int) -> int:
        for i in range(n - Run.objects.count()):
            run = services.run_create(job_name=f"job_{i}", tags={"team": str(i % 3), "dagster/from_ui": "true"})
            store(run.run_id, EventInput(event_type="RUN_START"), EventInput(event_type="RUN_SUCCESS"))
        with CaptureQueriesContext(connection) as captured:
            results = gql(client, UI_RUNS_QUERY, {"limit": 50})["data"]["runsOrError"]["results"]
        assert len(results) == n
        assert all(r["startTime"] and r["endTime"] and r["tags"] for r in results)
        return len(captured.captured_queries)

    assert queries_for_newest(5) == queries_for_newest(50)


def test_runs_bad_limit_or_unknown_cursor_is_an_invalid_filter_error(client):
    services.run_create(job_name="etl")
    for variables in (
        {"limit": 0},
        {"limit": 5000},
        {"cursor": "no-such-run"},
        {"filter": {"createdAfter": 1e20}},
    ):
        page = runs_page(client, **variables)
        assert page["__typename"] == "InvalidPipelineRunsFilterError", variables
        assert page["message"]


def test_unknown_run_status_in_the_filter_is_a_validation_error(client):
    body = gql(client, RUNS_QUERY, {"filter": {"statuses": ["EXPLODED"]}}, status=400)
    assert "EXPLODED" in body["errors"][0]["message"]


def test_hostile_strings_come_back_verbatim(client):
    run = services.run_create(job_name="etl", tags={"note": HOSTILE, "k<b>": "v"})
    store(run.run_id, EventInput(None, message=HOSTILE, step_key=HOSTILE))
    page = runs_page(client, filter={"tags": [{"key": "note", "value": HOSTILE}]})
    assert {t["key"]: t["value"] for t in page["results"][0]["tags"]} == {"note": HOSTILE, "k<b>": "v"}
    event = logs(client, run.run_id)["events"][0]
    assert event["message"] == HOSTILE and event["stepKey"] == HOSTILE


# --- events -----------------------------------------------------------------------------------------

TYPED_EVENTS = [
    (None, "LogMessageEvent"),
    ("RUN_ENQUEUED", "RunEnqueuedEvent"),
    ("RUN_STARTING", "RunStartingEvent"),
    ("RUN_START", "RunStartEvent"),
    ("STEP_START", "ExecutionStepStartEvent"),
    ("STEP_OUTPUT", "ExecutionStepOutputEvent"),
    ("HANDLED_OUTPUT", "HandledOutputEvent"),
    ("LOADED_INPUT", "LoadedInputEvent"),
    ("ASSET_MATERIALIZATION", "MaterializationEvent"),
    ("ASSET_OBSERVATION", "ObservationEvent"),
    ("ASSET_CHECK_EVALUATION", "AssetCheckEvaluationEvent"),
    ("STEP_UP_FOR_RETRY", "ExecutionStepUpForRetryEvent"),
    ("STEP_FAILURE", "ExecutionStepFailureEvent"),
    ("STEP_SKIPPED", "ExecutionStepSkippedEvent"),
    ("STEP_SUCCESS", "ExecutionStepSuccessEvent"),
    ("ENGINE_EVENT", "EngineEvent"),
    ("LOGS_CAPTURED", "LogsCapturedEvent"),
    ("ASSET_MATERIALIZATION_PLANNED", "AssetMaterializationPlannedEvent"),
    ("ASSET_CHECK_EVALUATION_PLANNED", "AssetCheckEvaluationPlannedEvent"),
    ("STEP_EXPECTATION_RESULT", "StepExpectationResultEvent"),
    ("ALERT_START", "AlertStartEvent"),
    ("ALERT_SUCCESS", "AlertSuccessEvent"),
    ("ALERT_FAILURE", "AlertFailureEvent"),
    ("RUN_CANCELING", "RunCancelingEvent"),
    ("RUN_CANCELED", "RunCanceledEvent"),
]


def test_each_stored_event_type_is_served_as_its_dagster_type(client):
    run = services.run_create(job_name="etl")
    events = []
    for event_type, _ in TYPED_EVENTS:
        step = "op_a" if event_type and event_type.startswith(("STEP", "HANDLED", "LOADED")) else None
        asset = "warehouse/orders" if event_type and event_type.startswith("ASSET") else None
        events.append(EventInput(event_type, message=f"m {event_type}", step_key=step, asset_key=asset))
    store(run.run_id, *events)
    page = logs(client, run.run_id)
    assert [e["__typename"] for e in page["events"]] == [name for _, name in TYPED_EVENTS]
    assert [e["eventType"] for e in page["events"]] == [t for t, _ in TYPED_EVENTS]
    assert all(e["runId"] == run.run_id and e["level"] == "INFO" for e in page["events"])
    assert page["events"][4]["stepKey"] == "op_a" and page["events"][4]["message"] == "m STEP_START"


def test_run_success_and_failure_events_carry_the_job_name_and_the_error(client):
    run = services.run_create(job_name="etl")
    store(run.run_id, EventInput("RUN_START"), EventInput("RUN_SUCCESS"))
    failed = services.run_create(job_name="etl")
    error = {"message": "ValueError: boom\n", "cls_name": "ValueError", "stack": ['  File "x.py", line 1\n']}
    store(
        failed.run_id,
        EventInput("STEP_FAILURE", step_key="op_a", payload={"error": error}),
        EventInput("RUN_FAILURE", payload={"error": error}),
    )
    query = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events { __typename
        ... on RunEvent { pipelineName } ... on ErrorEvent { error { message className stack } } } } } }"""
    ok_events = gql(client, query, {"runId": run.run_id})["data"]["logsForRun"]["events"]
    assert ok_events == [
        {"__typename": "RunStartEvent", "pipelineName": "etl"},
        {"__typename": "RunSuccessEvent", "pipelineName": "etl"},
    ]
    failed_events = gql(client, query, {"runId": failed.run_id})["data"]["logsForRun"]["events"]
    served = {
        "message": "ValueError: boom\n",
        "className": "ValueError",
        "stack": ['  File "x.py", line 1\n'],
    }
    assert failed_events == [
        {"__typename": "ExecutionStepFailureEvent", "error": served},
        {"__typename": "RunFailureEvent", "pipelineName": "etl", "error": served},
    ]


def test_asset_and_io_events_expose_their_payload_fields(client):
    run = services.run_create(job_name="etl")
    store(
        run.run_id,
        EventInput(
            "HANDLED_OUTPUT", step_key="a", payload={"output_name": "result", "manager_key": "io_manager"}
        ),
        EventInput(
            "ASSET_MATERIALIZATION", step_key="a", asset_key="warehouse/orders", partition="2024-01-01"
        ),
        EventInput(
            "ASSET_CHECK_EVALUATION",
            step_key="a",
            asset_key="warehouse/orders",
            payload={"check_name": "not_empty", "passed": False, "severity": "WARN"},
        ),
    )
    query = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
        ... on HandledOutputEvent { outputName managerKey }
        ... on MaterializationEvent { assetKey { path } partition }
        ... on AssetCheckEvaluationEvent { evaluation { checkName success severity assetKey { path } } } } } } }"""
    events = gql(client, query, {"runId": run.run_id})["data"]["logsForRun"]["events"]
    assert events == [
        {"outputName": "result", "managerKey": "io_manager"},
        {"assetKey": {"path": ["warehouse", "orders"]}, "partition": "2024-01-01"},
        {
            "evaluation": {
                "checkName": "not_empty",
                "success": False,
                "severity": "WARN",
                "assetKey": {"path": ["warehouse", "orders"]},
            }
        },
    ]


def test_planned_and_expectation_events_serve_their_asset_check_and_result_with_metadata(client):
    run = services.run_create(job_name="etl")
    store(
        run.run_id,
        EventInput("ASSET_MATERIALIZATION_PLANNED", asset_key="warehouse/orders", payload={"partition": None}),
        EventInput("ASSET_CHECK_EVALUATION_PLANNED", step_key="a", asset_key="warehouse/orders",
                   payload={"check_name": "not_empty"}),
        EventInput("STEP_EXPECTATION_RESULT", step_key="a", message="rows are there", payload={
            "success": False, "label": "non_empty", "description": "rows are there",
            "metadata": [{"label": "rows", "type": "int", "data": 0}]}),
        EventInput("ALERT_FAILURE", message="alert sent"),
    )
    query = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events { __typename
        ... on AssetMaterializationPlannedEvent { assetKey { path } pipelineName }
        ... on AssetCheckEvaluationPlannedEvent { checkedKey: assetKey { path } checkName stepKey }
        ... on StepExpectationResultEvent { stepKey expectationResult { success label description
          metadataEntries { label ... on IntMetadataEntry { intValue } } } }
        ... on AlertFailureEvent { message pipelineName } } } } }"""
    events = gql(client, query, {"runId": run.run_id})["data"]["logsForRun"]["events"]
    assert events == [
        {"__typename": "AssetMaterializationPlannedEvent", "assetKey": {"path": ["warehouse", "orders"]},
         "pipelineName": "etl"},
        {"__typename": "AssetCheckEvaluationPlannedEvent", "checkedKey": {"path": ["warehouse", "orders"]},
         "checkName": "not_empty", "stepKey": "a"},
        {"__typename": "StepExpectationResultEvent", "stepKey": "a", "expectationResult": {
            "success": False, "label": "non_empty", "description": "rows are there",
            "metadataEntries": [{"label": "rows", "intValue": 0}]}},
        {"__typename": "AlertFailureEvent", "message": "alert sent", "pipelineName": "etl"},
    ]


def test_markdown_entries_serve_the_text_and_the_sanitized_html_the_pages_show(client):
    run = services.run_create(job_name="etl")
    text = f"**bold** [docs](https://example.com) {HOSTILE} [x](javascript:alert(1))"
    store(run.run_id, EventInput("ASSET_MATERIALIZATION", asset_key="orders", payload={
        "metadata": [{"label": "summary", "type": "md", "data": text}]}))
    query = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
        ... on DisplayableEvent { metadataEntries { ... on MarkdownMetadataEntry { mdStr mdHtml } } } } } } }"""
    (entry,) = gql(client, query, {"runId": run.run_id})["data"]["logsForRun"]["events"][0]["metadataEntries"]
    assert entry["mdStr"] == text
    html = entry["mdHtml"]
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">docs</a>' in html
    # Raw HTML in Markdown is shown as text; the `javascript:` link is not made a link.
    assert "&lt;script&gt;" in html and "<script" not in html and html.count("<a ") == 1


def test_displayable_events_serve_stored_metadata_entries_and_never_fail_on_odd_ones(client):
    run = services.run_create(job_name="etl")
    metadata = [
        {"label": "rows", "type": "int", "data": 2**40},
        {"label": "small", "type": "int", "data": 7},
        {"label": "ratio", "type": "float", "data": {"__float__": "NaN"}},
        {"label": "note", "type": "text", "data": HOSTILE},
        {"label": "upstream", "type": "asset", "data": {"path": ["raw", "events"]}},
        {"label": "preview", "type": "table", "data": {"records": [{"a": [1]}], "schema": {"columns": []}}},
        {"label": "odd", "type": "float", "data": "not a number"},
        {"label": "when", "type": "timestamp", "data": 1700000000.5},
        {"label": "never", "type": "timestamp", "data": {"__float__": "NaN"}},
        {"label": "scores", "type": "json", "data": {"best": {"__float__": "Infinity"}}},
        "not an entry",
    ]
    store(run.run_id, EventInput("ASSET_MATERIALIZATION", asset_key="orders", payload={"metadata": metadata}))
    query = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
        ... on DisplayableEvent { metadataEntries { __typename label
          ... on IntMetadataEntry { intValue intRepr } ... on FloatMetadataEntry { floatValue floatRepr }
          ... on TextMetadataEntry { text } ... on AssetMetadataEntry { assetKey { path } }
          ... on JsonMetadataEntry { jsonString } ... on TimestampMetadataEntry { timestamp } } } } } } }"""
    entries = gql(client, query, {"runId": run.run_id})["data"]["logsForRun"]["events"][0]["metadataEntries"]
    # A table whose cell is not a scalar is served as JSON; PostgreSQL's jsonb does not keep key order.
    assert json.loads(entries[5].pop("jsonString")) == {"records": [{"a": [1]}], "schema": {"columns": []}}
    assert entries == [
        {"__typename": "IntMetadataEntry", "label": "rows", "intValue": None, "intRepr": str(2**40)},
        {"__typename": "IntMetadataEntry", "label": "small", "intValue": 7, "intRepr": "7"},
        {"__typename": "FloatMetadataEntry", "label": "ratio", "floatValue": None, "floatRepr": "nan"},
        {"__typename": "TextMetadataEntry", "label": "note", "text": HOSTILE},
        {"__typename": "AssetMetadataEntry", "label": "upstream", "assetKey": {"path": ["raw", "events"]}},
        {"__typename": "JsonMetadataEntry", "label": "preview"},
        {"__typename": "JsonMetadataEntry", "label": "odd", "jsonString": '"not a number"'},
        {"__typename": "TimestampMetadataEntry", "label": "when", "timestamp": 1700000000.5},
        # GraphQL's Float has no NaN: a NaN timestamp is served as a float entry, NaN in JSON as text.
        {"__typename": "FloatMetadataEntry", "label": "never", "floatValue": None, "floatRepr": "nan"},
        {"__typename": "JsonMetadataEntry", "label": "scores", "jsonString": '"{\'best\': inf}"'},
    ]


TABLE_QUERY = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
    ... on DisplayableEvent { metadataEntries { __typename label
      ... on TableMetadataEntry { table { records schema { ...Schema } } }
      ... on TableSchemaMetadataEntry { schema { ...Schema } }
      ... on JsonMetadataEntry { jsonString } } } } } } }
fragment Schema on TableSchema { constraints { other }
  columns { name type description constraints { nullable unique other } tags { key value } } }"""


def test_tables_and_table_schemas_are_served_as_dagsters_table_entries(client):
    import orchestra as dg
    from orchestra._core.metadata.json_form import metadata_to_json

    schema = dg.TableSchema(
        columns=[dg.TableColumn("id", "int", constraints=dg.TableColumnConstraints(nullable=False, unique=True)),
                 dg.TableColumn(HOSTILE, "string", description=HOSTILE,
                                constraints=dg.TableColumnConstraints(other=[HOSTILE]), tags={"pii": HOSTILE})],
        constraints=dg.TableConstraints(other=["id > 0"]))
    metadata = metadata_to_json({
        "rows": dg.MetadataValue.table(records=[dg.TableRecord({"id": 1, HOSTILE: HOSTILE}),
                                                dg.TableRecord({"id": 2, HOSTILE: float("nan")})], schema=schema),
        "schema": dg.MetadataValue.table_schema(schema),
        HOSTILE: dg.MetadataValue.table(records=[dg.TableRecord({"x": None, "y": True, "z": 1.0})]),
    })
    run = services.run_create(job_name="etl")
    store(run.run_id, EventInput("ASSET_MATERIALIZATION", asset_key="orders", payload={"metadata": metadata}))
    entries = gql(client, TABLE_QUERY, {"runId": run.run_id})["data"]["logsForRun"]["events"][0]["metadataEntries"]
    columns = [
        {"name": "id", "type": "int", "description": None,
         "constraints": {"nullable": False, "unique": True, "other": []}, "tags": []},
        {"name": HOSTILE, "type": "string", "description": HOSTILE,
         "constraints": {"nullable": True, "unique": False, "other": [HOSTILE]}, "tags": [{"key": "pii", "value": HOSTILE}]},
    ]
    served_schema = {"constraints": {"other": ["id > 0"]}, "columns": columns}
    table, table_schema, inferred = entries
    # Each record is one JSON object (jsonb may reorder its keys); NaN, which JSON cannot hold, as JavaScript shows it.
    assert table["__typename"] == "TableMetadataEntry" and table["table"]["schema"] == served_schema
    assert [json.loads(record) for record in table["table"]["records"]] == [{"id": 1, HOSTILE: HOSTILE},
                                                                            {"id": 2, HOSTILE: "NaN"}]
    assert table_schema == {"__typename": "TableSchemaMetadataEntry", "label": "schema", "schema": served_schema}
    # Without a schema the SDK infers the columns from the first record, as Dagster's does.
    assert inferred["label"] == HOSTILE and json.loads(inferred["table"]["records"][0]) == {"x": None, "y": True, "z": 1.0}
    assert {c["name"]: c["type"] for c in inferred["table"]["schema"]["columns"]} == {"x": "string", "y": "bool", "z": "float"}


@pytest.mark.parametrize("kind, data", [
    ("table", {"records": "not a list", "schema": {"columns": []}}),
    ("table", {"records": [{"a": {"nested": 1}}], "schema": {"columns": []}}),
    ("table", {"records": [], "schema": {"columns": [{"name": 1, "type": "int"}]}}),
    ("table", {"records": []}),
    ("table_schema", {"columns": [{"name": "a", "type": "int", "constraints": {"nullable": "yes"}}]}),
    ("table_schema", {"columns": [{"name": "a", "type": "int", "tags": {"k": 1}}]}),
    ("table_schema", {"columns": ["a"]}),
    ("table_schema", [HOSTILE]),
])
def test_a_malformed_table_or_table_schema_is_served_as_json(client, kind, data):
    run = services.run_create(job_name="etl")
    store(run.run_id, EventInput("ASSET_MATERIALIZATION", asset_key="orders", payload={
        "metadata": [{"label": "t", "type": kind, "data": data}]}))
    (entry,) = gql(client, TABLE_QUERY, {"runId": run.run_id})["data"]["logsForRun"]["events"][0]["metadataEntries"]
    assert entry["__typename"] == "JsonMetadataEntry" and json.loads(entry["jsonString"]) == data


def test_unknown_event_type_falls_back_to_a_log_message_without_failing_the_page(client):
    run = services.run_create(job_name="etl")
    store(run.run_id, EventInput("SOMETHING_NEW", message="from the future"), EventInput("RUN_START"))
    events = logs(client, run.run_id)["events"]
    assert events[0]["__typename"] == "LogMessageEvent"
    assert events[0]["eventType"] is None and events[0]["message"] == "from the future"
    assert events[1]["__typename"] == "RunStartEvent"


def test_event_timestamp_is_milliseconds_as_a_string_and_levels_are_named(client):
    run = services.run_create(job_name="etl")
    when = timezone.now().replace(microsecond=123000)
    store(
        run.run_id,
        EventInput(None, message="warn", level=30, timestamp=when),
        EventInput(None, message="custom", level=25),
        EventInput(None, message="debug", level=10),
        EventInput(None, message="critical", level=50),
    )
    events = logs(client, run.run_id)["events"]
    assert events[0]["timestamp"] == str(int(when.timestamp() * 1000))
    assert [e["level"] for e in events] == ["WARNING", "INFO", "DEBUG", "CRITICAL"]


def test_logs_page_by_cursor_without_overlap(client):
    run = services.run_create(job_name="etl")
    store(run.run_id, *[EventInput(None, message=str(i)) for i in range(10)])
    seen, cursor = [], None
    while True:
        page = logs(client, run.run_id, afterCursor=cursor, limit=4)
        seen += [e["message"] for e in page["events"]]
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    assert seen == [str(i) for i in range(10)]
    # Polling at the end answers nothing new and keeps the cursor, until more events arrive.
    idle = logs(client, run.run_id, afterCursor=cursor)
    assert idle["events"] == [] and idle["cursor"] == cursor and idle["hasMore"] is False
    store(run.run_id, EventInput(None, message="late"))
    assert [e["message"] for e in logs(client, run.run_id, afterCursor=cursor)["events"]] == ["late"]


def test_logs_for_unknown_run_or_with_a_bad_cursor_answer_union_members(client):
    assert logs(client, "missing") == {
        "__typename": "RunNotFoundError",
        "runId": "missing",
        "message": "Run missing could not be found.",
    }
    run = services.run_create(job_name="etl")
    bad = logs(client, run.run_id, afterCursor="not-a-cursor")
    assert bad["__typename"] == "PythonError" and bad["className"] == "InvalidInput"
    assert "not-a-cursor" in bad["message"]


def test_run_event_connection_field_pages_the_same_log(client):
    run = services.run_create(job_name="etl")
    store(run.run_id, EventInput("RUN_START"), EventInput(None, message="hello"))
    query = """query($runId: ID!) { runOrError(runId: $runId) { ... on Run {
        eventConnection(limit: 1) { cursor hasMore events { __typename } } } } }"""
    connection = gql(client, query, {"runId": run.run_id})["data"]["runOrError"]["eventConnection"]
    assert connection["events"] == [{"__typename": "RunStartEvent"}] and connection["hasMore"] is True


# --- assets -----------------------------------------------------------------------------------------

ASSETS_QUERY = """query($prefix: [String!], $cursor: String, $limit: Int) {
  assetsOrError(prefix: $prefix, cursor: $cursor, limit: $limit) {
    __typename ... on AssetConnection { cursor nodes { id key { path } } } } }"""


def _materialize(run_id: str, key: str, partition: str | None = None, message: str = "") -> None:
    store(run_id, EventInput("ASSET_MATERIALIZATION", asset_key=key, partition=partition, message=message))


def test_assets_list_by_prefix_and_page_by_cursor(client):
    run = services.run_create(job_name="etl")
    stored = (
        "warehouse/orders",
        "warehouse/customers",
        "raw/events",
        "warehouse",
        "warehouseX/other",
        "WAREHOUSE/a",
    )
    for key in stored:
        _materialize(run.run_id, key)

    def keys(**variables):
        result = gql(client, ASSETS_QUERY, variables)["data"]["assetsOrError"]
        return [n["key"]["path"] for n in result["nodes"]], result["cursor"]

    # The order is the database's collation; paging below holds whatever it is.
    everything, _ = keys()
    assert sorted(everything) == sorted(key.split("/") for key in stored)
    # A prefix is whole path components, case-sensitive.
    assert sorted(keys(prefix=["warehouse"])[0]) == [
        ["warehouse"],
        ["warehouse", "customers"],
        ["warehouse", "orders"],
    ]
    assert keys(prefix=["ware"])[0] == []
    first, cursor = keys(limit=2)
    second, _ = keys(limit=10, cursor=cursor)
    assert first + second == everything
    node = gql(client, ASSETS_QUERY, {"limit": 1})["data"]["assetsOrError"]["nodes"][0]
    assert node["id"] == json.dumps(everything[0])


def test_asset_or_error_answers_materializations_newest_first_by_partition(client):
    run = services.run_create(job_name="etl")
    _materialize(run.run_id, "orders", "2024-01-01", "first")
    _materialize(run.run_id, "orders", "2024-01-02", "second")
    _materialize(run.run_id, "orders", "2024-01-01", "third")
    query = """query($key: AssetKeyInput!, $partitions: [String!], $limit: Int) { assetOrError(assetKey: $key) {
        __typename ... on Asset { key { path } assetMaterializations(partitions: $partitions, limit: $limit) {
        message partition runId stepKey } } ... on AssetNotFoundError { message } } }"""
    asset = gql(client, query, {"key": {"path": ["orders"]}})["data"]["assetOrError"]
    assert asset["__typename"] == "Asset"
    assert [m["message"] for m in asset["assetMaterializations"]] == ["third", "second", "first"]
    only = gql(client, query, {"key": {"path": ["orders"]}, "partitions": ["2024-01-01"], "limit": 1})
    assert only["data"]["assetOrError"]["assetMaterializations"] == [
        {"message": "third", "partition": "2024-01-01", "runId": run.run_id, "stepKey": None}
    ]
    missing = gql(client, query, {"key": {"path": ["nope", "x"]}})["data"]["assetOrError"]
    assert missing["__typename"] == "AssetNotFoundError" and '["nope", "x"]' in missing["message"]


# --- deletion ---------------------------------------------------------------------------------------

DELETE = """mutation($runId: String!) { %s(runId: $runId) { __typename
    ... on DeletePipelineRunSuccess { runId } ... on RunNotFoundError { runId message }
    ... on UnauthorizedError { message } ... on PythonError { message } } }"""


@pytest.mark.parametrize("field", ["deleteRun", "deletePipelineRun"])
def test_delete_run_removes_the_run_and_its_events(client, field):
    run = services.run_create(job_name="etl", tags={"a": "b"})
    store(run.run_id, EventInput("RUN_START"))
    result = gql(client, DELETE % field, {"runId": run.run_id})["data"][field]
    assert result == {"__typename": "DeletePipelineRunSuccess", "runId": run.run_id}
    assert not Run.objects.filter(run_id=run.run_id).exists()
    again = gql(client, DELETE % field, {"runId": run.run_id})["data"][field]
    assert again["__typename"] == "RunNotFoundError" and again["runId"] == run.run_id


def test_delete_run_without_permission_is_unauthorized_and_deletes_nothing(client, login_as):
    login_as("launcher")  # launchers may not delete runs
    run = services.run_create(job_name="etl")
    result = gql(client, DELETE % "deleteRun", {"runId": run.run_id})["data"]["deleteRun"]
    assert result["__typename"] == "UnauthorizedError"
    assert Run.objects.filter(run_id=run.run_id).exists()


def test_mutations_are_refused_over_get(client):
    run = services.run_create(job_name="etl")
    mutation = f'mutation {{ deleteRun(runId: "{run.run_id}") {{ __typename }} }}'
    response = client.get("/graphql", {"query": mutation})
    assert response.status_code == 405
    assert Run.objects.filter(run_id=run.run_id).exists()


# --- errors and transport ---------------------------------------------------------------------------


def test_unexpected_exception_becomes_a_python_error_in_the_union(client, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database on fire <b>")

    monkeypatch.setattr(selectors, "run_get", explode)
    query = '{ runOrError(runId: "x") { __typename ... on PythonError { message className stack } } }'
    result = gql(client, query)["data"]["runOrError"]
    assert result["__typename"] == "PythonError"
    assert result["className"] == "RuntimeError" and "database on fire <b>" in result["message"]
    assert result["stack"] and all(isinstance(line, str) for line in result["stack"])


def test_an_exception_outside_a_union_answers_500_json_not_a_page(client, monkeypatch):
    monkeypatch.setattr(selectors, "run_count", lambda **kwargs: 1 / 0)
    body = gql(client, "{ runsOrError { ... on Runs { count } } }", status=500)
    assert body["errors"][0]["path"] == ["runsOrError", "count"]


@pytest.mark.parametrize(
    "body",
    ['{"query": "{ runsOrError { "}', '{"query": "{ noSuchField }"}', "not json", '{"variables": {}}'],
)
def test_parse_and_validation_errors_answer_400_json(client, body):
    response = client.post("/graphql", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_api_clients_need_no_csrf_token_and_the_version_is_served(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/graphql", json.dumps({"query": "{ version }"}), content_type="application/json")
    assert response.status_code == 200 and response.json()["data"]["version"]
    over_get = client.get("/graphql", {"query": "{ version }"})
    assert over_get.status_code == 200 and over_get.json()["data"]["version"]


# Interfaces of Dagster's that Orchestra does not serve yet: Run is not yet a runs-feed entry; step stats
# have no `materializations`/`expectationResults` yet (the run's events carry both).
KNOWN_MISSING_INTERFACES = {"Run": {"RunsFeedEntry"}, "PartitionBackfill": {"RunsFeedEntry"},
                            "RunStepStats": {"PipelineRunStepStats"}}


def test_every_type_has_dagsters_shape_where_both_schemas_define_it():
    """Each type, field, argument and union member served has the name and type Dagster's schema gives it."""
    from dagster_graphql.schema import create_schema
    from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType

    from orchestra_site.schema import schema
    from runs.schema import EXTENSION_ARGUMENTS
    from runs.schema import EXTENSION_FIELDS as RUNS_EXTENSION_FIELDS
    from runs.schema import EXTENSION_TYPES as RUNS_EXTENSION_TYPES
    from workspace.schema_graph import EXTENSION_FIELDS as GRAPH_EXTENSION_FIELDS
    from workspace.schema_graph import EXTENSION_TYPES as GRAPH_EXTENSION_TYPES

    EXTENSION_TYPES = GRAPH_EXTENSION_TYPES | RUNS_EXTENSION_TYPES
    EXTENSION_FIELDS = GRAPH_EXTENSION_FIELDS | RUNS_EXTENSION_FIELDS

    ours, theirs = schema.graphql_schema, create_schema().graphql_schema
    problems = []
    for name, ours_type in ours.type_map.items():
        if name.startswith("__") or name in EXTENSION_TYPES:  # Orchestra's own, named as such
            continue
        their_type = theirs.type_map.get(name)
        if their_type is None or type(their_type) is not type(ours_type):
            problems.append(f"{name}: not a {type(ours_type).__name__} in Dagster's schema")
            continue
        if isinstance(ours_type, (GraphQLObjectType, GraphQLInterfaceType)):
            missing = {i.name for i in their_type.interfaces} - {i.name for i in ours_type.interfaces}
            if missing - KNOWN_MISSING_INTERFACES.get(name, set()):
                problems.append(f"{name}: does not implement {sorted(missing)}")
        if isinstance(ours_type, GraphQLUnionType):
            extra = {t.name for t in ours_type.types} - {t.name for t in their_type.types}
            if extra:
                problems.append(f"{name}: union members {sorted(extra)} are not Dagster's")
        if isinstance(ours_type, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, field in ours_type.fields.items():
                if f"{name}.{field_name}" in EXTENSION_FIELDS:
                    continue
                their_field = their_type.fields.get(field_name)
                if their_field is None:
                    problems.append(f"{name}.{field_name}: not in Dagster's schema")
                    continue
                if str(field.type) != str(their_field.type):
                    problems.append(f"{name}.{field_name}: {field.type}, Dagster has {their_field.type}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    their_arg = their_field.args.get(arg_name)
                    if f"{name}.{field_name}({arg_name})" in EXTENSION_ARGUMENTS:
                        continue
                    if their_arg is None or str(arg.type) != str(their_arg.type):
                        problems.append(f"{name}.{field_name}({arg_name}): differs from Dagster's")
    assert problems == []
