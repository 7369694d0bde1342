"""GraphQL types of the event log: one Dagster event type per stored event type, behind `DagsterRunEvent`.

The root of every event type is an `EventLogEntry` row. Type-specific fields read the row's payload
with the keys the storage-backed event sink writes (`error`, `output_name`, `manager_key`, ...); a
missing key answers null or an empty value, never an error.
"""

from __future__ import annotations

import logging
from typing import Any

import graphene

from core.graphql import PythonError
from runs.models import EventLogEntry
from runs.schema_metadata import AssetKey, MetadataEntry, metadata_entries

# Dagster's `DagsterEventType` names, which are also the names the event log stores.
EVENT_TYPE_NAMES = (
    "STEP_OUTPUT", "STEP_INPUT", "STEP_FAILURE", "STEP_START", "STEP_SUCCESS", "STEP_SKIPPED",
    "STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS",
    "RESOURCE_INIT_FAILURE", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "ASSET_MATERIALIZATION",
    "ASSET_MATERIALIZATION_PLANNED", "ASSET_FAILED_TO_MATERIALIZE", "ASSET_OBSERVATION",
    "STEP_EXPECTATION_RESULT", "ASSET_CHECK_EVALUATION_PLANNED", "ASSET_CHECK_EVALUATION",
    "ASSET_HEALTH_CHANGED", "ASSET_WIPED", "RUN_ENQUEUED", "RUN_DEQUEUED", "RUN_STARTING", "RUN_START",
    "RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELING", "RUN_CANCELED", "RUN_SUSPENDED", "RUN_RESUMED",
    "PIPELINE_ENQUEUED", "PIPELINE_DEQUEUED", "PIPELINE_STARTING", "PIPELINE_START", "PIPELINE_SUCCESS",
    "PIPELINE_FAILURE", "PIPELINE_CANCELING", "PIPELINE_CANCELED", "OBJECT_STORE_OPERATION",
    "ASSET_STORE_OPERATION", "LOADED_INPUT", "HANDLED_OUTPUT", "ENGINE_EVENT", "HOOK_COMPLETED",
    "HOOK_ERRORED", "HOOK_SKIPPED", "ALERT_START", "ALERT_SUCCESS", "ALERT_FAILURE", "LOGS_CAPTURED",
    "FRESHNESS_STATE_EVALUATION", "FRESHNESS_STATE_CHANGE", "CODE_LOCATION_UPDATED",
)  # fmt: skip

DagsterEventType = graphene.Enum("DagsterEventType", [(name, name) for name in EVENT_TYPE_NAMES])
LogLevel = graphene.Enum("LogLevel", [(n, n) for n in ("CRITICAL", "ERROR", "INFO", "WARNING", "DEBUG")])
AssetCheckSeverity = graphene.Enum("AssetCheckSeverity", [("WARN", "WARN"), ("ERROR", "ERROR")])


def log_level_name(level: int) -> str:
    """The `LogLevel` of a Python logging level; custom levels fall to the standard level below them."""
    for threshold, name in (
        (logging.CRITICAL, "CRITICAL"),
        (logging.ERROR, "ERROR"),
        (logging.WARNING, "WARNING"),
    ):
        if level >= threshold:
            return name
    return "INFO" if level >= logging.INFO else "DEBUG"


def asset_key_path(joined: str | None) -> list[str] | None:
    """An asset key's path from its stored form (the path joined by '/')."""
    return joined.split("/") if joined else None


def _payload(key: str, default: Any = None):
    """A resolver reading one payload key of the event row."""

    def resolve(row: EventLogEntry, info) -> Any:
        value = row.payload.get(key, default)
        return default if value is None else value

    return resolve


def _error(row: EventLogEntry, info) -> PythonError | None:
    """The serialized error a failure event carries (`{message, cls_name, stack, cause}`), if any."""
    return error_from_payload(row.payload.get("error"))


def error_from_payload(data: Any) -> PythonError | None:
    if not isinstance(data, dict):
        return None
    stack = data.get("stack") or []
    return PythonError(
        message=str(data.get("message", "")),
        className=data.get("cls_name") or data.get("class_name"),
        stack=[str(line) for line in stack] if isinstance(stack, list) else [str(stack)],
        cause=error_from_payload(data.get("cause")),
    )


# --- interfaces -------------------------------------------------------------------------------------


class MessageEvent(graphene.Interface):
    """What every event of a run's log has, whatever its type."""

    runId = graphene.NonNull(graphene.String)
    message = graphene.NonNull(graphene.String)
    timestamp = graphene.NonNull(graphene.String, description="Milliseconds since the epoch, as a string.")
    level = graphene.NonNull(LogLevel)
    stepKey = graphene.String()
    solidHandleID = graphene.String()
    eventType = graphene.Field(DagsterEventType)

    def resolve_runId(row: EventLogEntry, info) -> str:
        return row.run_id

    def resolve_timestamp(row: EventLogEntry, info) -> str:
        return str(int(row.timestamp.timestamp() * 1000))

    def resolve_level(row: EventLogEntry, info) -> str:
        return log_level_name(row.level)

    def resolve_stepKey(row: EventLogEntry, info) -> str | None:
        return row.step_key

    def resolve_solidHandleID(row: EventLogEntry, info) -> str | None:
        return row.payload.get("node_handle") or row.step_key

    def resolve_eventType(row: EventLogEntry, info) -> str | None:
        # A type this schema does not know (a newer writer) answers null rather than failing the page.
        return row.event_type if row.event_type in EVENT_TYPE_NAMES else None


class StepEvent(graphene.Interface):
    stepKey = graphene.String()
    solidHandleID = graphene.String()


class RunEvent(graphene.Interface):
    pipelineName = graphene.NonNull(graphene.String)

    def resolve_pipelineName(row: EventLogEntry, info) -> str:
        # `job_name` is annotated by `events_page`; rows reached another way fall back to one query.
        return getattr(row, "job_name", None) or row.run.job_name


class ErrorEvent(graphene.Interface):
    error = graphene.Field(PythonError, resolver=_error)


class MarkerEvent(graphene.Interface):
    markerStart = graphene.String(resolver=_payload("marker_start"))
    markerEnd = graphene.String(resolver=_payload("marker_end"))


class DisplayableEvent(graphene.Interface):
    label = graphene.String(resolver=_payload("label"))
    description = graphene.String(resolver=_payload("description"))
    metadataEntries = graphene.NonNull(graphene.List(graphene.NonNull(MetadataEntry)))

    def resolve_metadataEntries(row: EventLogEntry, info) -> list[graphene.ObjectType]:
        return metadata_entries(row.payload.get("metadata"))


# --- event types ------------------------------------------------------------------------------------


class LogMessageEvent(graphene.ObjectType):
    """A plain log line; also the answer for a stored event type this schema has no type for."""

    class Meta:
        interfaces = (MessageEvent,)


class RunEnqueuedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class RunDequeuedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class RunStartingEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class RunStartEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class RunSuccessEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class RunFailureEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent, ErrorEvent)


class RunCancelingEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class RunCanceledEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent, ErrorEvent)


class RunSuspendedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class RunResumedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class ExecutionStepStartEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)


class ExecutionStepRestartEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)


class ExecutionStepSuccessEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)


class ExecutionStepSkippedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)


class ExecutionStepFailureEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, ErrorEvent)


class ExecutionStepUpForRetryEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, ErrorEvent)

    secondsToWait = graphene.Float(resolver=_payload("seconds_to_wait"))


class ExecutionStepInputEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)

    inputName = graphene.NonNull(graphene.String, resolver=_payload("input_name", ""))


class ExecutionStepOutputEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, DisplayableEvent)

    outputName = graphene.NonNull(graphene.String, resolver=_payload("output_name", ""))


class HandledOutputEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, DisplayableEvent)

    outputName = graphene.NonNull(graphene.String, resolver=_payload("output_name", ""))
    managerKey = graphene.NonNull(graphene.String, resolver=_payload("manager_key", ""))


class LoadedInputEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, DisplayableEvent)

    inputName = graphene.NonNull(graphene.String, resolver=_payload("input_name", ""))
    managerKey = graphene.NonNull(graphene.String, resolver=_payload("manager_key", ""))
    upstreamOutputName = graphene.String(resolver=_payload("upstream_output_name"))
    upstreamStepKey = graphene.String(resolver=_payload("upstream_step_key"))


class _AssetEventFields:
    assetKey = graphene.Field(AssetKey)
    partition = graphene.String()

    def resolve_assetKey(row: EventLogEntry, info) -> AssetKey | None:
        path = asset_key_path(row.asset_key)
        return AssetKey(path=path) if path else None

    def resolve_partition(row: EventLogEntry, info) -> str | None:
        return row.partition or None


class MaterializationEvent(_AssetEventFields, graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, DisplayableEvent)


class ObservationEvent(_AssetEventFields, graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, DisplayableEvent)


class EngineEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, DisplayableEvent, MarkerEvent, ErrorEvent)


class StepWorkerStartingEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, DisplayableEvent, StepEvent, MarkerEvent)


class StepWorkerStartedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, DisplayableEvent, StepEvent, MarkerEvent)


class ResourceInitStartedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, DisplayableEvent, StepEvent, MarkerEvent)


class ResourceInitSuccessEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, DisplayableEvent, StepEvent, MarkerEvent)


class ResourceInitFailureEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, DisplayableEvent, StepEvent, MarkerEvent, ErrorEvent)


class HookCompletedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)


class HookSkippedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)


class HookErroredEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent, ErrorEvent)


class LogsCapturedEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent,)

    fileKey = graphene.NonNull(graphene.String, resolver=_payload("file_key", ""))
    logKey = graphene.NonNull(graphene.String)
    stepKeys = graphene.List(graphene.NonNull(graphene.String), resolver=_payload("step_keys"))
    pid = graphene.Int(resolver=_payload("pid"))

    def resolve_logKey(row: EventLogEntry, info) -> str:
        log_key = row.payload.get("log_key")
        return (
            "/".join(log_key)
            if isinstance(log_key, list)
            else str(log_key or row.payload.get("file_key", ""))
        )


class AssetCheckEvaluation(graphene.ObjectType):
    """One asset check result; its root is the ASSET_CHECK_EVALUATION row."""

    timestamp = graphene.NonNull(graphene.Float)
    checkName = graphene.NonNull(graphene.String, resolver=_payload("check_name", ""))
    assetKey = graphene.NonNull(AssetKey)
    severity = graphene.NonNull(AssetCheckSeverity)
    description = graphene.String(resolver=_payload("description"))
    partition = graphene.String()
    success = graphene.NonNull(graphene.Boolean)

    def resolve_timestamp(row: EventLogEntry, info) -> float:
        return row.timestamp.timestamp()

    def resolve_assetKey(row: EventLogEntry, info) -> AssetKey:
        return AssetKey(path=asset_key_path(row.asset_key) or [])

    def resolve_severity(row: EventLogEntry, info) -> str:
        return "WARN" if str(row.payload.get("severity", "")).upper() == "WARN" else "ERROR"

    def resolve_partition(row: EventLogEntry, info) -> str | None:
        return row.partition or None

    def resolve_success(row: EventLogEntry, info) -> bool:
        return bool(row.payload.get("passed"))


class AssetCheckEvaluationEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)

    evaluation = graphene.NonNull(AssetCheckEvaluation)

    def resolve_evaluation(row: EventLogEntry, info) -> EventLogEntry:
        return row


class AssetMaterializationPlannedEvent(graphene.ObjectType):
    """Written when a run is created, for each asset the run plans to materialize."""

    class Meta:
        interfaces = (MessageEvent, RunEvent)

    assetKey = graphene.Field(AssetKey)

    def resolve_assetKey(row: EventLogEntry, info) -> AssetKey | None:
        path = asset_key_path(row.asset_key)
        return AssetKey(path=path) if path else None


class AssetCheckEvaluationPlannedEvent(graphene.ObjectType):
    """Written when a run is created, for each asset check the run plans to evaluate."""

    class Meta:
        interfaces = (MessageEvent, StepEvent)

    assetKey = graphene.NonNull(AssetKey)
    checkName = graphene.NonNull(graphene.String, resolver=_payload("check_name", ""))

    def resolve_assetKey(row: EventLogEntry, info) -> AssetKey:
        return AssetKey(path=asset_key_path(row.asset_key) or [])


class ExpectationResult(graphene.ObjectType):
    """An op's `ExpectationResult`; its root is the STEP_EXPECTATION_RESULT row, whose payload holds the
    result's `success`, `label`, `description` and `metadata`."""

    class Meta:
        interfaces = (DisplayableEvent,)

    success = graphene.NonNull(graphene.Boolean)

    def resolve_success(row: EventLogEntry, info) -> bool:
        return bool(row.payload.get("success"))


class StepExpectationResultEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, StepEvent)

    expectationResult = graphene.NonNull(ExpectationResult)

    def resolve_expectationResult(row: EventLogEntry, info) -> EventLogEntry:
        return row


class AlertStartEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class AlertSuccessEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


class AlertFailureEvent(graphene.ObjectType):
    class Meta:
        interfaces = (MessageEvent, RunEvent)


# Stored event type (None: a plain log message) -> GraphQL type. A type missing here is served as a
# LogMessageEvent, so a new event type never breaks reading a run's log.
EVENT_GRAPHQL_TYPES: dict[str | None, type[graphene.ObjectType]] = {
    None: LogMessageEvent,
    "RUN_ENQUEUED": RunEnqueuedEvent,
    "RUN_DEQUEUED": RunDequeuedEvent,
    "RUN_STARTING": RunStartingEvent,
    "RUN_START": RunStartEvent,
    "RUN_SUCCESS": RunSuccessEvent,
    "RUN_FAILURE": RunFailureEvent,
    "RUN_CANCELING": RunCancelingEvent,
    "RUN_CANCELED": RunCanceledEvent,
    "RUN_SUSPENDED": RunSuspendedEvent,
    "RUN_RESUMED": RunResumedEvent,
    "STEP_START": ExecutionStepStartEvent,
    "STEP_RESTARTED": ExecutionStepRestartEvent,
    "STEP_SUCCESS": ExecutionStepSuccessEvent,
    "STEP_FAILURE": ExecutionStepFailureEvent,
    "STEP_SKIPPED": ExecutionStepSkippedEvent,
    "STEP_UP_FOR_RETRY": ExecutionStepUpForRetryEvent,
    "STEP_INPUT": ExecutionStepInputEvent,
    "STEP_OUTPUT": ExecutionStepOutputEvent,
    "HANDLED_OUTPUT": HandledOutputEvent,
    "LOADED_INPUT": LoadedInputEvent,
    "ASSET_MATERIALIZATION": MaterializationEvent,
    "ASSET_OBSERVATION": ObservationEvent,
    "ENGINE_EVENT": EngineEvent,
    "STEP_WORKER_STARTING": StepWorkerStartingEvent,
    "STEP_WORKER_STARTED": StepWorkerStartedEvent,
    "RESOURCE_INIT_STARTED": ResourceInitStartedEvent,
    "RESOURCE_INIT_SUCCESS": ResourceInitSuccessEvent,
    "RESOURCE_INIT_FAILURE": ResourceInitFailureEvent,
    "HOOK_COMPLETED": HookCompletedEvent,
    "HOOK_SKIPPED": HookSkippedEvent,
    "HOOK_ERRORED": HookErroredEvent,
    "LOGS_CAPTURED": LogsCapturedEvent,
    "ASSET_CHECK_EVALUATION": AssetCheckEvaluationEvent,
    "ASSET_CHECK_EVALUATION_PLANNED": AssetCheckEvaluationPlannedEvent,
    "ASSET_MATERIALIZATION_PLANNED": AssetMaterializationPlannedEvent,
    "STEP_EXPECTATION_RESULT": StepExpectationResultEvent,
    "ALERT_START": AlertStartEvent,
    "ALERT_SUCCESS": AlertSuccessEvent,
    "ALERT_FAILURE": AlertFailureEvent,
}


class DagsterRunEvent(graphene.Union):
    """Any event of a run's log, typed by its stored event type."""

    class Meta:
        types = tuple(EVENT_GRAPHQL_TYPES.values())

    @classmethod
    def resolve_type(cls, row: EventLogEntry, info) -> type[graphene.ObjectType]:
        return EVENT_GRAPHQL_TYPES.get(row.event_type, LogMessageEvent)
