"""Run and step events: `DagsterEventType`, `DagsterEvent`, `EventLogEntry` and their payloads.

Events are plain `__slots__` objects built on the per-step hot path, so nothing here validates or
copies: the execution core constructs them with already-checked values.
"""

from __future__ import annotations

import enum
from typing import Any

from orchestra._core.event_data import (  # noqa: F401 - re-exported: events are imported from here
    AssetObservationData,
    ComputeLogsCaptureData,
    EngineEventData,
    ErrorSource,
    HandledOutputData,
    HookErroredData,
    JobFailureData,
    LoadedInputData,
    SerializableErrorInfo,
    StepExpectationResultData,
    StepFailureData,
    StepInputData,
    StepMaterializationData,
    StepOutputData,
    StepOutputHandle,
    StepRetryData,
    StepSuccessData,
    TypeCheckData,
    UserFailureData,
)


class DagsterEventType(str, enum.Enum):  # noqa: UP042 - Dagster's type is a str enum
    """Every kind of event a run writes; the value is the string Dagster stores."""

    STEP_OUTPUT = "STEP_OUTPUT"
    STEP_INPUT = "STEP_INPUT"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_START = "STEP_START"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_WORKER_STARTING = "STEP_WORKER_STARTING"
    STEP_WORKER_STARTED = "STEP_WORKER_STARTED"
    RESOURCE_INIT_STARTED = "RESOURCE_INIT_STARTED"
    RESOURCE_INIT_SUCCESS = "RESOURCE_INIT_SUCCESS"
    RESOURCE_INIT_FAILURE = "RESOURCE_INIT_FAILURE"
    STEP_UP_FOR_RETRY = "STEP_UP_FOR_RETRY"
    STEP_RESTARTED = "STEP_RESTARTED"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    ASSET_MATERIALIZATION_PLANNED = "ASSET_MATERIALIZATION_PLANNED"
    ASSET_FAILED_TO_MATERIALIZE = "ASSET_FAILED_TO_MATERIALIZE"
    ASSET_OBSERVATION = "ASSET_OBSERVATION"
    STEP_EXPECTATION_RESULT = "STEP_EXPECTATION_RESULT"
    ASSET_CHECK_EVALUATION_PLANNED = "ASSET_CHECK_EVALUATION_PLANNED"
    ASSET_CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
    ASSET_HEALTH_CHANGED = "ASSET_HEALTH_CHANGED"
    ASSET_WIPED = "ASSET_WIPED"
    # run events keep their historical PIPELINE_* stored names
    RUN_ENQUEUED = "PIPELINE_ENQUEUED"
    RUN_DEQUEUED = "PIPELINE_DEQUEUED"
    RUN_STARTING = "PIPELINE_STARTING"
    RUN_START = "PIPELINE_START"
    RUN_SUCCESS = "PIPELINE_SUCCESS"
    RUN_FAILURE = "PIPELINE_FAILURE"
    RUN_CANCELING = "PIPELINE_CANCELING"
    RUN_CANCELED = "PIPELINE_CANCELED"
    # the stored names double as aliases of the run events, as in Dagster
    PIPELINE_ENQUEUED = "PIPELINE_ENQUEUED"
    PIPELINE_DEQUEUED = "PIPELINE_DEQUEUED"
    PIPELINE_STARTING = "PIPELINE_STARTING"
    PIPELINE_START = "PIPELINE_START"
    PIPELINE_SUCCESS = "PIPELINE_SUCCESS"
    PIPELINE_FAILURE = "PIPELINE_FAILURE"
    PIPELINE_CANCELING = "PIPELINE_CANCELING"
    PIPELINE_CANCELED = "PIPELINE_CANCELED"
    RUN_SUSPENDED = "RUN_SUSPENDED"
    RUN_RESUMED = "RUN_RESUMED"
    OBJECT_STORE_OPERATION = "OBJECT_STORE_OPERATION"
    ASSET_STORE_OPERATION = "ASSET_STORE_OPERATION"
    LOADED_INPUT = "LOADED_INPUT"
    HANDLED_OUTPUT = "HANDLED_OUTPUT"
    ENGINE_EVENT = "ENGINE_EVENT"
    HOOK_COMPLETED = "HOOK_COMPLETED"
    HOOK_ERRORED = "HOOK_ERRORED"
    HOOK_SKIPPED = "HOOK_SKIPPED"
    ALERT_START = "ALERT_START"
    ALERT_SUCCESS = "ALERT_SUCCESS"
    ALERT_FAILURE = "ALERT_FAILURE"
    LOGS_CAPTURED = "LOGS_CAPTURED"
    FRESHNESS_STATE_EVALUATION = "FRESHNESS_STATE_EVALUATION"
    FRESHNESS_STATE_CHANGE = "FRESHNESS_STATE_CHANGE"
    CODE_LOCATION_UPDATED = "CODE_LOCATION_UPDATED"

    def __str__(self) -> str:
        return f"DagsterEventType.{self.name}"


ET = DagsterEventType

STEP_EVENTS = frozenset(
    {
        ET.STEP_INPUT, ET.STEP_START, ET.STEP_OUTPUT, ET.STEP_FAILURE, ET.STEP_SUCCESS, ET.STEP_SKIPPED,
        ET.ASSET_MATERIALIZATION, ET.STEP_EXPECTATION_RESULT, ET.ASSET_OBSERVATION,
        ET.OBJECT_STORE_OPERATION, ET.HANDLED_OUTPUT, ET.LOADED_INPUT, ET.STEP_RESTARTED,
        ET.STEP_UP_FOR_RETRY, ET.ASSET_CHECK_EVALUATION, ET.ASSET_CHECK_EVALUATION_PLANNED,
    }
)
FAILURE_EVENTS = frozenset({ET.RUN_FAILURE, ET.STEP_FAILURE, ET.RUN_CANCELED})
RUN_EVENTS = frozenset(
    {
        ET.RUN_ENQUEUED, ET.RUN_DEQUEUED, ET.RUN_STARTING, ET.RUN_START, ET.RUN_SUCCESS, ET.RUN_FAILURE,
        ET.RUN_CANCELING, ET.RUN_CANCELED, ET.RUN_SUSPENDED, ET.RUN_RESUMED,
    }
)
HOOK_EVENTS = frozenset({ET.HOOK_COMPLETED, ET.HOOK_ERRORED, ET.HOOK_SKIPPED})
ALERT_EVENTS = frozenset({ET.ALERT_START, ET.ALERT_SUCCESS, ET.ALERT_FAILURE})
MARKER_EVENTS = frozenset(
    {
        ET.ENGINE_EVENT, ET.STEP_WORKER_STARTING, ET.STEP_WORKER_STARTED, ET.RESOURCE_INIT_STARTED,
        ET.RESOURCE_INIT_SUCCESS, ET.RESOURCE_INIT_FAILURE,
    }
)
_BY_VALUE = {t.value: t for t in DagsterEventType}


# --- the event ------------------------------------------------------------------------------


class DagsterEvent:
    """One framework event of a run (step started, output yielded, run succeeded, ...).

    Example:
        >>> result = my_job.execute_in_process()
        >>> [e.event_type_value for e in result.all_events][:1]
        ['PIPELINE_START']
    """

    __slots__ = (
        "event_type_value", "job_name", "step_key", "node_handle", "step_kind_value", "logging_tags",
        "event_specific_data", "message", "pid",
    )

    def __init__(
        self,
        event_type_value: str,
        job_name: str,
        step_key: str | None = None,
        node_handle: Any = None,
        step_kind_value: str | None = None,
        logging_tags: dict[str, str] | None = None,
        event_specific_data: Any = None,
        message: str | None = None,
        pid: int | None = None,
    ):
        self.event_type_value = event_type_value
        self.job_name = job_name
        self.step_key = step_key
        self.node_handle = node_handle
        self.step_kind_value = step_kind_value
        self.logging_tags = logging_tags or {}
        self.event_specific_data = event_specific_data
        self.message = message
        self.pid = pid

    def __repr__(self) -> str:
        return (
            f"DagsterEvent(event_type_value={self.event_type_value!r}, job_name={self.job_name!r}, "
            f"step_key={self.step_key!r}, message={self.message!r})"
        )

    @property
    def event_type(self) -> DagsterEventType:
        return _BY_VALUE[self.event_type_value]

    @property
    def job_name_value(self) -> str:
        return self.job_name

    @property
    def node_name(self) -> str:
        if self.node_handle is None:
            raise ValueError("This event is not attached to a node.")
        return self.node_handle.name

    @property
    def solid_handle(self) -> Any:
        return self.node_handle

    @property
    def is_step_event(self) -> bool:
        return self.event_type in STEP_EVENTS

    @property
    def is_hook_event(self) -> bool:
        return self.event_type in HOOK_EVENTS

    @property
    def is_alert_event(self) -> bool:
        return self.event_type in ALERT_EVENTS

    @property
    def is_step_start(self) -> bool:
        return self.event_type_value == "STEP_START"

    @property
    def is_step_success(self) -> bool:
        return self.event_type_value == "STEP_SUCCESS"

    @property
    def is_successful_output(self) -> bool:
        return self.event_type_value == "STEP_OUTPUT"

    @property
    def is_step_failure(self) -> bool:
        return self.event_type_value == "STEP_FAILURE"

    @property
    def is_resource_init_failure(self) -> bool:
        return self.event_type_value == "RESOURCE_INIT_FAILURE"

    @property
    def is_step_skipped(self) -> bool:
        return self.event_type_value == "STEP_SKIPPED"

    @property
    def is_step_up_for_retry(self) -> bool:
        return self.event_type_value == "STEP_UP_FOR_RETRY"

    @property
    def is_step_restarted(self) -> bool:
        return self.event_type_value == "STEP_RESTARTED"

    @property
    def is_job_success(self) -> bool:
        return self.event_type_value == "PIPELINE_SUCCESS"

    @property
    def is_job_failure(self) -> bool:
        return self.event_type_value == "PIPELINE_FAILURE"

    @property
    def is_run_failure(self) -> bool:
        return self.event_type_value == "PIPELINE_FAILURE"

    @property
    def is_failure(self) -> bool:
        return self.event_type in FAILURE_EVENTS

    @property
    def is_job_event(self) -> bool:
        return self.event_type in RUN_EVENTS

    @property
    def is_engine_event(self) -> bool:
        return self.event_type_value == "ENGINE_EVENT"

    @property
    def is_handled_output(self) -> bool:
        return self.event_type_value == "HANDLED_OUTPUT"

    @property
    def is_loaded_input(self) -> bool:
        return self.event_type_value == "LOADED_INPUT"

    @property
    def is_step_materialization(self) -> bool:
        return self.event_type_value == "ASSET_MATERIALIZATION"

    @property
    def is_expectation_result(self) -> bool:
        return self.event_type_value == "STEP_EXPECTATION_RESULT"

    @property
    def is_asset_observation(self) -> bool:
        return self.event_type_value == "ASSET_OBSERVATION"

    def _data(self, *types: str) -> Any:
        if self.event_type_value not in types:
            raise ValueError(f"{self.event_type_value} event has no {types[0].lower()} data")
        return self.event_specific_data

    @property
    def step_input_data(self) -> StepInputData:
        return self._data("STEP_INPUT")

    @property
    def step_output_data(self) -> StepOutputData:
        return self._data("STEP_OUTPUT")

    @property
    def step_success_data(self) -> StepSuccessData:
        return self._data("STEP_SUCCESS")

    @property
    def step_failure_data(self) -> StepFailureData:
        return self._data("STEP_FAILURE")

    @property
    def step_retry_data(self) -> StepRetryData:
        return self._data("STEP_UP_FOR_RETRY")

    @property
    def step_materialization_data(self) -> Any:
        return self._data("ASSET_MATERIALIZATION")

    @property
    def asset_observation_data(self) -> Any:
        return self._data("ASSET_OBSERVATION")

    @property
    def materialization(self) -> Any:
        return self._data("ASSET_MATERIALIZATION").materialization

    @property
    def step_expectation_result_data(self) -> Any:
        return self._data("STEP_EXPECTATION_RESULT")

    @property
    def asset_check_evaluation_data(self) -> Any:
        return self._data("ASSET_CHECK_EVALUATION")

    @property
    def job_failure_data(self) -> JobFailureData:
        return self._data("PIPELINE_FAILURE")

    @property
    def engine_event_data(self) -> EngineEventData:
        return self._data(
            "ENGINE_EVENT", "STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "RESOURCE_INIT_STARTED",
            "RESOURCE_INIT_SUCCESS", "RESOURCE_INIT_FAILURE",
        )

    @property
    def hook_errored_data(self) -> HookErroredData:
        return self._data("HOOK_ERRORED")

    @property
    def logs_captured_data(self) -> ComputeLogsCaptureData:
        return self._data("LOGS_CAPTURED")

    @property
    def asset_key(self) -> Any:
        data = self.event_specific_data
        materialization = getattr(data, "materialization", None) or getattr(data, "asset_observation", None)
        return getattr(materialization, "asset_key", None)

    @property
    def partition(self) -> str | None:
        data = self.event_specific_data
        materialization = getattr(data, "materialization", None) or getattr(data, "asset_observation", None)
        return getattr(materialization, "partition", None)


# --- log entries ----------------------------------------------------------------------------


class EventLogEntry:
    """What the event log stores: a user log line, or a framework event with `dagster_event` set."""

    __slots__ = (
        "error_info", "level", "user_message", "run_id", "timestamp", "step_key", "job_name",
        "dagster_event", "storage_id",
    )

    def __init__(
        self,
        error_info: SerializableErrorInfo | None,
        level: int | str,
        user_message: str,
        run_id: str,
        timestamp: float,
        step_key: str | None = None,
        job_name: str | None = None,
        dagster_event: DagsterEvent | None = None,
    ):
        self.error_info = error_info
        self.level = level
        self.user_message = user_message
        self.run_id = run_id
        self.timestamp = timestamp
        self.step_key = step_key
        self.job_name = job_name
        self.dagster_event = dagster_event
        self.storage_id: int | None = None

    def __repr__(self) -> str:
        what = self.dagster_event.event_type_value if self.dagster_event else "log"
        return f"EventLogEntry({what}, run_id={self.run_id!r}, step_key={self.step_key!r}, {self.message!r})"

    @property
    def is_dagster_event(self) -> bool:
        return self.dagster_event is not None

    @property
    def message(self) -> str:
        if self.dagster_event is not None and self.dagster_event.message:
            return self.dagster_event.message
        return self.user_message

    @property
    def dagster_event_type(self) -> DagsterEventType | None:
        return self.dagster_event.event_type if self.dagster_event else None

    @property
    def pipeline_name(self) -> str | None:
        return self.job_name

    def get_dagster_event(self) -> DagsterEvent:
        if self.dagster_event is None:
            raise ValueError("This log entry is not a Dagster event.")
        return self.dagster_event

    @property
    def asset_materialization(self) -> Any:
        event = self.dagster_event
        if event is None or event.event_type_value != "ASSET_MATERIALIZATION":
            return None
        return event.event_specific_data.materialization

    @property
    def asset_observation(self) -> Any:
        event = self.dagster_event
        if event is None or event.event_type_value != "ASSET_OBSERVATION":
            return None
        return event.event_specific_data.asset_observation

    @property
    def asset_check_evaluation(self) -> Any:
        event = self.dagster_event
        if event is None or event.event_type_value != "ASSET_CHECK_EVALUATION":
            return None
        return event.event_specific_data
