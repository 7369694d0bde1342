"""The storage-backed instance: `DagsterInstance.get()` records runs, events and materializations in the database."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import orchestra as dg
from orchestra._core.events import DagsterEvent, EventLogEntry
from runs import selectors
from runs.event_payloads import event_input
from runs.instance_storage import DjangoEventLogStorage, DjangoRunStorage
from runs.models import AssetIndex, Run, RunStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance():
    return dg.DagsterInstance.get()


@dg.asset
def upstream():
    return 1


@dg.asset(metadata={"owner": "data"})
def downstream(upstream):
    return upstream + 1


def _types(run_id):
    return [e.event_type for e in selectors.events_after(run_id=run_id, limit=10_000)]


def test_get_returns_a_persistent_instance_on_the_database(instance):
    assert not instance.is_ephemeral
    assert isinstance(instance.run_storage, DjangoRunStorage)
    assert isinstance(instance.event_log_storage, DjangoEventLogStorage)


def test_get_without_orchestra_home_refuses(monkeypatch):
    monkeypatch.delenv("ORCHESTRA_HOME")
    with pytest.raises(dg.DagsterInvariantViolationError, match="ORCHESTRA_HOME"):
        dg.DagsterInstance.get()


def test_get_names_a_factory_it_cannot_import(monkeypatch):
    monkeypatch.setenv("ORCHESTRA_INSTANCE_FACTORY", "runs.nowhere.instance_for_home")
    with pytest.raises(dg.DagsterInvariantViolationError, match="runs.nowhere.instance_for_home"):
        dg.DagsterInstance.get()


def test_execute_in_process_records_the_run_and_its_events_by_type_name(instance):
    @dg.op
    def hello():
        return "hi"

    @dg.job(tags={"team": "data"})
    def greet():
        hello()

    result = greet.execute_in_process(instance=instance)
    assert result.success
    run = selectors.run_get(run_id=result.run_id)
    assert run.job_name == "greet" and run.status == RunStatus.SUCCESS
    assert run.started_at is not None and run.ended_at >= run.started_at
    assert selectors.run_tags(run) == {"team": "data"}
    types = _types(result.run_id)
    assert types[0] == "RUN_START" and types[-1] == "RUN_SUCCESS"
    assert types.index("STEP_START") < types.index("STEP_OUTPUT") < types.index("STEP_SUCCESS")
    assert "PIPELINE_START" not in types


def test_materialize_records_materializations_where_the_selectors_read_them(instance):
    result = dg.materialize([upstream, downstream], instance=instance)
    assert result.success
    [latest] = selectors.asset_materializations(asset_key="downstream")
    assert latest.run_id == result.run_id and latest.step_key == "downstream"
    assert selectors.asset_keys_list() == ["downstream", "upstream"]
    index = AssetIndex.objects.get(asset_key="upstream", partition="")
    assert index.last_run_id == result.run_id
    paths = [m for m in latest.payload["metadata"] if m["label"] == "path"]
    assert paths and paths[0]["type"] == "path"


def test_asset_keys_are_stored_by_path_and_partitions_beside_them(instance):
    days = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(key_prefix=["warehouse"], partitions_def=days)
    def orders(context):
        return context.partition_key

    result = dg.materialize([orders], instance=instance, partition_key="b")
    [row] = selectors.asset_materializations(asset_key="warehouse/orders")
    assert row.partition == "b" and row.run_id == result.run_id
    assert selectors.run_tags(selectors.run_get(run_id=result.run_id))["dagster/partition"] == "b"
    planned = selectors.events_after(run_id=result.run_id, event_types=["ASSET_MATERIALIZATION_PLANNED"])
    assert [(e.asset_key, e.partition) for e in planned] == [("warehouse/orders", "b")]


def test_a_failing_op_records_the_error_and_the_failure_reason(instance):
    @dg.op
    def boom():
        raise ValueError("no good")

    @dg.job
    def broken():
        boom()

    result = broken.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    assert selectors.run_get(run_id=result.run_id).status == RunStatus.FAILURE
    [failure] = selectors.events_after(run_id=result.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "boom" and failure.level == 40
    assert failure.payload["error_source"] == "USER_CODE_ERROR"
    assert "no good" in failure.payload["error"]["cause"]["message"]
    [run_failure] = selectors.events_after(run_id=result.run_id, event_types=["RUN_FAILURE"])
    assert run_failure.payload["failure_reason"] == "STEP_FAILURE"


def test_stored_events_read_back_as_sdk_entries_with_their_data(instance):
    result = dg.materialize([upstream], instance=instance)
    logs = instance.all_logs(result.run_id)
    values = [e.dagster_event.event_type_value for e in logs if e.dagster_event]
    assert values[0] == "ASSET_MATERIALIZATION_PLANNED" and values[-1] == "PIPELINE_SUCCESS"
    assert all(e.storage_id for e in logs)
    [mat] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    data = mat.dagster_event.event_specific_data
    assert data.materialization.asset_key == dg.AssetKey("upstream")
    assert isinstance(data.materialization.metadata["path"], dg.PathMetadataValue)
    [success] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    assert success.dagster_event.step_success_data.duration_ms > 0
    user_lines = [e for e in logs if e.dagster_event is None]
    assert user_lines and all(e.user_message for e in user_lines)


def test_failure_data_reads_back(instance):
    @dg.op
    def boom():
        raise ValueError("no good")

    @dg.job
    def broken():
        boom()

    result = broken.execute_in_process(instance=instance, raise_on_error=False)
    [failure] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    error = failure.dagster_event.step_failure_data.error
    assert error.cls_name == "DagsterExecutionStepExecutionError"
    assert "no good" in error.cause.message
    [run_failure] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert run_failure.dagster_event.job_failure_data.failure_reason == "STEP_FAILURE"


def test_run_queries_filter_count_tag_and_delete(instance):
    @dg.op
    def noop():
        return None

    @dg.job
    def tagged():
        noop()

    first = tagged.execute_in_process(instance=instance, tags={"env": "prod"})
    second = tagged.execute_in_process(instance=instance, tags={"env": "dev"})
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="tagged"))
    assert [r.run_id for r in runs] == [second.run_id, first.run_id]
    prod = instance.get_runs(filters=dg.RunsFilter(tags={"env": "prod"}))
    assert [r.run_id for r in prod] == [first.run_id]
    assert instance.get_runs_count(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS])) == 2
    assert [r.run_id for r in instance.get_runs(limit=1)] == [second.run_id]
    assert [r.run_id for r in instance.get_runs(cursor=second.run_id)] == [first.run_id]
    record = instance.get_run_record_by_id(first.run_id)
    assert record.start_time is not None and record.end_time >= record.start_time
    instance.add_run_tags(first.run_id, {"reviewed": "yes"})
    assert instance.get_run_by_id(first.run_id).tags == {"env": "prod", "reviewed": "yes"}
    instance.delete_run(first.run_id)
    assert not instance.has_run(first.run_id)
    assert not selectors.events_after(run_id=first.run_id)
    assert instance.get_run_by_id("nope") is None


def test_create_run_with_an_existing_id_refuses(instance):
    run = instance.create_run(job_name="j")
    with pytest.raises(dg.DagsterInvariantViolationError, match="already exists"):
        instance.create_run(job_name="j", run_id=run.run_id)


def test_a_code_origin_is_stored_with_the_run(instance):
    origin = {"python_file": "/code/defs.py", "attribute": "defs", "working_directory": "/code"}
    run = instance.create_run(job_name="j", job_code_origin=origin)
    assert Run.objects.get(run_id=run.run_id).origin == origin
    assert instance.get_run_by_id(run.run_id).job_code_origin == origin


def test_a_long_run_writes_its_events_in_a_few_batches(instance):
    @dg.op
    def start():
        return 0

    @dg.op
    def add_one(value):
        return value + 1

    @dg.job
    def chain():
        value = start()
        for _ in range(49):
            value = add_one(value)

    with CaptureQueriesContext(connection) as queries:
        result = chain.execute_in_process(instance=instance)
    assert result.success
    stored = len(selectors.events_after(run_id=result.run_id, limit=10_000))
    assert stored > 300
    inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "runs_eventlogentry"')]
    # RUN_START and RUN_SUCCESS each flush; the steps between go in batches of up to 500 or 100 ms.
    # (SQLite splits a large bulk insert into statements of at most 999 parameters.)
    assert 2 <= instance.event_log_storage.batches <= 4
    assert len(inserts) <= 10, len(inserts)


def test_buffered_events_are_visible_to_the_same_instance_before_a_flush(instance):
    run = instance.create_run(job_name="j")
    instance.report_engine_event("hello", run)
    assert [e.message for e in instance.all_logs(run.run_id)] == ["hello"]


def test_buffered_events_are_written_when_they_grow_old_or_on_dispose():
    storage = DjangoEventLogStorage(max_batch=1000, max_delay=60)
    run = DjangoRunStorage().add_run(dg.DagsterInstance.ephemeral().create_run(job_name="j"))
    storage.store_event(_engine(run.run_id, "one"))
    assert not selectors.events_after(run_id=run.run_id)
    storage.max_delay = 0.01
    time.sleep(0.02)
    storage.flush_if_stale()
    assert [e.message for e in selectors.events_after(run_id=run.run_id)] == ["one"]
    storage.max_delay = 60
    storage.store_event(_engine(run.run_id, "two"))
    storage.dispose()
    assert [e.message for e in selectors.events_after(run_id=run.run_id)] == ["one", "two"]


def test_run_events_flush_at_once_with_everything_before_them():
    storage = DjangoEventLogStorage(max_batch=1000, max_delay=60)
    run = DjangoRunStorage().add_run(dg.DagsterInstance.ephemeral().create_run(job_name="j"))
    storage.store_event(_engine(run.run_id, "before"))
    storage.store_event(_entry(run.run_id, DagsterEvent("PIPELINE_START", "j", message="go")))
    assert _types(run.run_id) == ["ENGINE_EVENT", "RUN_START"]
    assert selectors.run_get(run_id=run.run_id).status == RunStatus.STARTED


def test_events_after_the_end_are_refused_without_failing_the_writer():
    storage = DjangoEventLogStorage()
    run = DjangoRunStorage().add_run(dg.DagsterInstance.ephemeral().create_run(job_name="j"))
    storage.store_event(_entry(run.run_id, DagsterEvent("PIPELINE_CANCELED", "j", message="stop")))
    storage.store_event(_entry(run.run_id, DagsterEvent("STEP_START", "j", step_key="late", message="late")))
    storage.flush()
    assert storage.refused == 1
    assert _types(run.run_id) == ["RUN_CANCELED"]


def test_log_levels_given_as_names_are_stored_as_numbers():
    entry = EventLogEntry(None, "WARNING", "careful", "r", time.time(), "s", "j", None)
    stored = event_input(entry)
    assert stored.level == 30 and stored.event_type is None and stored.step_key == "s"


def _entry(run_id, event):
    return EventLogEntry(None, 10, event.message or "", run_id, time.time(), event.step_key, event.job_name, event)


def _engine(run_id, message):
    return _entry(run_id, DagsterEvent("ENGINE_EVENT", "j", message=message))


def test_values_json_cannot_hold_are_stored_tagged_and_read_back(instance):
    @dg.op
    def odd(context):
        context.log_event(dg.AssetMaterialization("odd", metadata={"ratio": float("nan"), "raw": "a\x00b"}))

    @dg.job
    def odd_job():
        odd()

    result = odd_job.execute_in_process(instance=instance)
    [row] = selectors.asset_materializations(asset_key="odd")
    by_label = {m["label"]: m for m in row.payload["metadata"]}
    assert by_label["ratio"]["data"] == {"__float__": "NaN"}
    [entry] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    metadata = entry.dagster_event.event_specific_data.materialization.metadata
    assert metadata["raw"].value == "a\x00b"


def test_dynamic_partitions_are_stored_in_order_and_materialize(instance):
    instance.add_dynamic_partitions("regions", ["eu", "us", "eu"])
    instance.add_dynamic_partitions("regions", ["ap", "us"])
    assert instance.get_dynamic_partitions("regions") == ["eu", "us", "ap"]
    assert instance.has_dynamic_partition("regions", "ap") and not instance.has_dynamic_partition("regions", "xx")
    instance.delete_dynamic_partition("regions", "us")
    assert dg.DagsterInstance.get().get_dynamic_partitions("regions") == ["eu", "ap"]

    @dg.asset(partitions_def=dg.DynamicPartitionsDefinition(name="regions"))
    def sales(context):
        return context.partition_key

    result = dg.materialize([sales], instance=instance, partition_key="ap")
    assert [row.partition for row in selectors.asset_materializations(asset_key="sales")] == ["ap"]
    assert result.success


def test_the_graphql_log_reads_what_the_sink_writes(instance, client):
    import json

    @dg.op
    def boom():
        raise ValueError("no good")

    @dg.job
    def broken():
        boom()

    failed = broken.execute_in_process(instance=instance, raise_on_error=False)
    materialized = dg.materialize([upstream, downstream], instance=instance)
    query = """query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events { __typename
        ... on ExecutionStepFailureEvent { stepKey error { className cause { message } } }
        ... on RunFailureEvent { pipelineName }
        ... on MaterializationEvent { assetKey { path } metadataEntries { label } }
        ... on HandledOutputEvent { outputName managerKey } } } } }"""

    def events(run_id):
        response = client.post("/graphql", json.dumps({"query": query, "variables": {"runId": run_id}}),
                               content_type="application/json")
        return response.json()["data"]["logsForRun"]["events"]

    failed_events = events(failed.run_id)
    [step_failure] = [e for e in failed_events if e["__typename"] == "ExecutionStepFailureEvent"]
    assert step_failure["stepKey"] == "boom"
    assert step_failure["error"]["className"] == "DagsterExecutionStepExecutionError"
    assert "no good" in step_failure["error"]["cause"]["message"]
    assert {"__typename": "RunFailureEvent", "pipelineName": "broken"} in failed_events
    ok_events = events(materialized.run_id)
    mats = [e for e in ok_events if e["__typename"] == "MaterializationEvent"]
    assert [m["assetKey"]["path"] for m in mats] == [["upstream"], ["downstream"]]
    assert {"label": "path"} in mats[0]["metadataEntries"]
    assert {"__typename": "HandledOutputEvent", "outputName": "result", "managerKey": "io_manager"} in ok_events
