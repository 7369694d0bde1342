"""The ephemeral instance: runs, run records, filters and event logs."""

import pytest

import orchestra as dg
from orchestra._core.instance import EventLogStorage, InMemoryEventLogStorage, InMemoryRunStorage, RunStorage


@dg.op
def hello(context):
    context.log.info("hello from op")
    return 1


@dg.op
def fails():
    raise ValueError("no")


@dg.job(tags={"team": "a"})
def good_job():
    hello()


@dg.job
def bad_job():
    fails()


def test_execute_in_process_records_the_run_and_its_events_in_the_instance():
    instance = dg.DagsterInstance.ephemeral()
    result = good_job.execute_in_process(instance=instance)
    run = instance.get_run_by_id(result.run_id)
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.job_name == "good_job"
    assert run.tags == {"team": "a"}
    assert instance.has_run(result.run_id)
    logs = instance.all_logs(result.run_id)
    assert logs[0].dagster_event.event_type == dg.DagsterEventType.RUN_START
    user = [e for e in logs if not e.is_dagster_event]
    assert [e.user_message for e in user] == ["hello from op"]
    assert user[0].step_key == "hello"
    assert user[0].level == 20
    storage_ids = [e.storage_id for e in logs]
    assert storage_ids == sorted(storage_ids)


def test_all_logs_filters_by_event_type():
    instance = dg.DagsterInstance.ephemeral()
    result = good_job.execute_in_process(instance=instance)
    starts = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_START)
    assert [e.step_key for e in starts] == ["hello"]
    both = instance.all_logs(result.run_id, of_type={dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS})
    assert [e.dagster_event.event_type_value for e in both] == ["PIPELINE_START", "PIPELINE_SUCCESS"]


def test_get_runs_filters_and_orders_newest_first():
    instance = dg.DagsterInstance.ephemeral()
    first = good_job.execute_in_process(instance=instance)
    second = bad_job.execute_in_process(instance=instance, raise_on_error=False)
    third = good_job.execute_in_process(instance=instance, tags={"extra": "yes"})
    assert [r.run_id for r in instance.get_runs()] == [third.run_id, second.run_id, first.run_id]
    assert [r.run_id for r in instance.get_runs(limit=1)] == [third.run_id]
    assert [r.run_id for r in instance.get_runs(filters=dg.RunsFilter(job_name="bad_job"))] == [second.run_id]
    failed = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert [r.run_id for r in failed] == [second.run_id]
    tagged = instance.get_runs(filters=dg.RunsFilter(tags={"extra": "yes"}))
    assert [r.run_id for r in tagged] == [third.run_id]
    by_ids = instance.get_runs(filters=dg.RunsFilter(run_ids=[first.run_id]))
    assert [r.run_id for r in by_ids] == [first.run_id]
    assert instance.get_runs_count() == 3


def test_run_records_have_timestamps():
    instance = dg.DagsterInstance.ephemeral()
    result = good_job.execute_in_process(instance=instance)
    records = instance.get_run_records()
    assert len(records) == 1
    record = records[0]
    assert isinstance(record, dg.RunRecord)
    assert record.dagster_run.run_id == result.run_id
    assert record.start_time is not None and record.end_time is not None
    assert record.end_time >= record.start_time
    assert record.create_timestamp <= record.update_timestamp


def test_delete_run_removes_run_and_events():
    instance = dg.DagsterInstance.ephemeral()
    result = good_job.execute_in_process(instance=instance)
    instance.delete_run(result.run_id)
    assert not instance.has_run(result.run_id)
    assert instance.get_run_by_id(result.run_id) is None
    assert instance.all_logs(result.run_id) == []


def test_duplicate_run_id_is_rejected():
    instance = dg.DagsterInstance.ephemeral()
    good_job.execute_in_process(instance=instance, run_id="same")
    with pytest.raises(dg.DagsterInvariantViolationError):
        good_job.execute_in_process(instance=instance, run_id="same")


def test_dagster_run_properties():
    result = bad_job.execute_in_process(raise_on_error=False)
    run = result.dagster_run
    assert isinstance(run, dg.DagsterRun)
    assert run.is_finished and run.is_failure and not run.is_success
    assert run.step_keys_to_execute == ["fails"]


class _CountingEvents(InMemoryEventLogStorage):
    def __init__(self):
        super().__init__()
        self.stored = 0

    def store_event(self, event):
        self.stored += 1
        super().store_event(event)


def test_instance_writes_through_its_storage_interface():
    assert issubclass(InMemoryRunStorage, RunStorage)
    assert issubclass(InMemoryEventLogStorage, EventLogStorage)
    events = _CountingEvents()
    instance = dg.DagsterInstance(InMemoryRunStorage(), events)
    result = good_job.execute_in_process(instance=instance)
    assert events.stored == len(instance.all_logs(result.run_id)) > 0
    assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS


def test_instance_create_run_and_handle_new_event_drive_status():
    instance = dg.DagsterInstance.ephemeral()
    run = instance.create_run(job_name="external", run_id="r1")
    assert run.status == dg.DagsterRunStatus.NOT_STARTED
    start = dg.DagsterEvent("PIPELINE_START", "external", message="start")
    instance.handle_new_event(dg.EventLogEntry(None, 10, "start", "r1", 1.0, dagster_event=start))
    assert instance.get_run_by_id("r1").status == dg.DagsterRunStatus.STARTED


def test_instance_for_test_is_the_current_instance_inside_its_block(monkeypatch):
    monkeypatch.delenv("ORCHESTRA_HOME", raising=False)
    with dg.instance_for_test() as instance:
        assert dg.DagsterInstance.get() is instance
        good_job.execute_in_process(instance=instance)
        assert len(instance.get_runs()) == 1
    with pytest.raises(dg.DagsterInvariantViolationError):
        dg.DagsterInstance.get()
