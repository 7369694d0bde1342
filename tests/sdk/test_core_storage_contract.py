"""Contract tests for run and event-log storage; every storage implementation subclasses these classes.

A database-backed storage (the server's) gets the same guarantees by subclassing
`RunStorageContract` / `EventLogStorageContract` and overriding the `storage` fixture.
"""

import pytest

import orchestra as dg
from orchestra._core.instance import InMemoryEventLogStorage, InMemoryRunStorage


def _event(kind, job="job", step=None):
    return dg.DagsterEvent(kind, job, step_key=step, message=kind)


def _entry(run_id, kind=None, message="m", step=None):
    event = _event(kind, step=step) if kind else None
    return dg.EventLogEntry(None, 10, message, run_id, 1.0, step, "job", event)


class RunStorageContract:
    @pytest.fixture
    def storage(self):
        raise NotImplementedError

    def test_add_and_read_back_a_run(self, storage):
        storage.add_run(dg.DagsterRun(job_name="job", run_id="r1", tags={"a": "1"}))
        records = storage.get_run_records(dg.RunsFilter(run_ids=["r1"]))
        assert [r.dagster_run.run_id for r in records] == ["r1"]
        assert records[0].dagster_run.tags == {"a": "1"}
        assert storage.has_run("r1") and not storage.has_run("nope")

    def test_duplicate_run_id_is_rejected(self, storage):
        storage.add_run(dg.DagsterRun(job_name="job", run_id="r1"))
        with pytest.raises(dg.DagsterInvariantViolationError):
            storage.add_run(dg.DagsterRun(job_name="job", run_id="r1"))

    def test_run_events_move_the_status_and_set_times(self, storage):
        storage.add_run(dg.DagsterRun(job_name="job", run_id="r1"))
        storage.handle_run_event("r1", _event("PIPELINE_START"), 10.0)
        assert storage.get_runs()[0].status == dg.DagsterRunStatus.STARTED
        storage.handle_run_event("r1", _event("PIPELINE_SUCCESS"), 12.0)
        record = storage.get_run_records()[0]
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        assert (record.start_time, record.end_time) == (10.0, 12.0)

    def test_filters_limit_and_order(self, storage):
        for index in range(3):
            storage.add_run(dg.DagsterRun(job_name="even" if index % 2 == 0 else "odd", run_id=f"r{index}"))
        assert [r.run_id for r in storage.get_runs()] == ["r2", "r1", "r0"]
        assert [r.run_id for r in storage.get_runs(limit=2)] == ["r2", "r1"]
        assert [r.run_id for r in storage.get_runs(dg.RunsFilter(job_name="even"))] == ["r2", "r0"]
        assert storage.get_runs_count(dg.RunsFilter(job_name="odd")) == 1
        ascending = storage.get_run_records(ascending=True)
        assert [r.dagster_run.run_id for r in ascending] == ["r0", "r1", "r2"]

    def test_tags_can_be_added_and_runs_deleted(self, storage):
        storage.add_run(dg.DagsterRun(job_name="job", run_id="r1"))
        storage.add_run_tags("r1", {"k": "v"})
        assert storage.get_runs(dg.RunsFilter(tags={"k": "v"}))[0].run_id == "r1"
        storage.delete_run("r1")
        assert storage.get_runs() == []


class EventLogStorageContract:
    @pytest.fixture
    def storage(self):
        raise NotImplementedError

    def test_entries_come_back_in_order_with_increasing_ids(self, storage):
        for kind in ("PIPELINE_START", None, "PIPELINE_SUCCESS"):
            storage.store_event(_entry("r1", kind))
        storage.store_event(_entry("other", "PIPELINE_START"))
        records = storage.get_records_for_run("r1")
        assert [r.event_log_entry.dagster_event.event_type_value if r.event_log_entry.dagster_event else None for r in records] == [
            "PIPELINE_START", None, "PIPELINE_SUCCESS",
        ]
        ids = [r.storage_id for r in records]
        assert ids == sorted(ids) and len(set(ids)) == 3

    def test_of_type_cursor_and_limit(self, storage):
        for kind in ("PIPELINE_START", "STEP_START", "STEP_SUCCESS", "PIPELINE_SUCCESS"):
            storage.store_event(_entry("r1", kind))
        starts = storage.get_logs_for_run("r1", of_type=dg.DagsterEventType.STEP_START)
        assert [e.dagster_event.event_type_value for e in starts] == ["STEP_START"]
        first_two = storage.get_records_for_run("r1", limit=2)
        after = storage.get_records_for_run("r1", cursor=first_two[-1].storage_id)
        assert [r.event_log_entry.dagster_event.event_type_value for r in after] == ["STEP_SUCCESS", "PIPELINE_SUCCESS"]

    def test_delete_events_of_a_run(self, storage):
        storage.store_event(_entry("r1", "PIPELINE_START"))
        storage.delete_events("r1")
        assert storage.get_records_for_run("r1") == []


class TestInMemoryRunStorage(RunStorageContract):
    @pytest.fixture
    def storage(self):
        return InMemoryRunStorage()


class TestInMemoryEventLogStorage(EventLogStorageContract):
    @pytest.fixture
    def storage(self):
        return InMemoryEventLogStorage()
