"""The server's run statuses and status-moving events agree with the SDK's, name for name."""

from orchestra._core.events import DagsterEventType
from orchestra._core.runs import EVENT_TYPE_TO_RUN_STATUS, DagsterRunStatus
from runs.models import RunStatus
from runs.services import RUN_EVENT_STATUS


def test_run_statuses_are_the_sdks():
    assert set(RunStatus.values) == {status.value for status in DagsterRunStatus}


def test_run_events_move_runs_to_the_same_status_as_in_the_sdk():
    # The SDK keys its map by Dagster's stored strings (PIPELINE_START); storage uses the names (RUN_START).
    sdk = {DagsterEventType(stored).name: status.value for stored, status in EVENT_TYPE_TO_RUN_STATUS.items()}
    # One addition: the run queue's dequeue claims a run with RUN_DEQUEUED before launching it.
    sdk["RUN_DEQUEUED"] = "NOT_STARTED"
    assert {name: status.value for name, status in RUN_EVENT_STATUS.items()} == sdk
