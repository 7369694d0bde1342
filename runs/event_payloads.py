"""SDK event log entries to event rows and back: type by `DagsterEventType` name, data as a JSON payload.

The payload is the event's data (`event_specific_data`) flattened to strict JSON with the keys the
GraphQL event types read (`error`, `output_name`, `manager_key`, `metadata`, `check_name`, ...).
Metadata is stored as `{label, type, data}` entries (`orchestra._core.metadata.json_form`), errors as
`{message, stack, cls_name, cause, context}`, asset keys as their path. Reading a row back rebuilds
the SDK payload for the event types whose data the SDK's readers use; others come back as None.
"""

from __future__ import annotations

import enum
import logging
import math
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from orchestra._core import events as ev
from orchestra._core.metadata.json_form import encode_json_value, metadata_from_json, metadata_to_json
from runs.services import EventInput

# Assets are imported on first use, so a run worker for a job of plain ops (and its time to RUN_START)
# does not pay for them: an AssetKey can only exist once its module has been imported. (Imports stay
# out of the write path: the heartbeat thread writes too, and concurrent first imports can collide.)
_KEYS_MODULE = "orchestra._core.assets.keys"
_UNSAFE_CHARS = re.compile("[\x00\ud800-\udfff]")

_NAME_BY_VALUE = {t.value: t.name for t in ev.DagsterEventType}
_VALUE_BY_NAME = {t.name: t.value for t in ev.DagsterEventType}
# Data objects whose fields are lifted into the payload (the asset event inside a materialization).
_NESTED = ("materialization", "asset_observation", "expectation_result")


def event_type_name(value: str) -> str:
    """The stored name of an SDK event type value (`PIPELINE_START` -> `RUN_START`)."""
    return _NAME_BY_VALUE.get(value, value)


def event_type_value(name: str) -> str:
    """The SDK's value for a stored event type name (`RUN_START` -> `PIPELINE_START`)."""
    return _VALUE_BY_NAME.get(name, name)


def event_input(entry: ev.EventLogEntry) -> EventInput:
    """The `EventInput` that stores an SDK log entry."""
    event = entry.dagster_event
    level = entry.level if isinstance(entry.level, int) else logging.getLevelName(str(entry.level).upper())
    timestamp = datetime.fromtimestamp(entry.timestamp, UTC)
    if event is None:
        return EventInput(
            event_type=None, message=entry.user_message, level=level if isinstance(level, int) else logging.INFO,
            step_key=entry.step_key, timestamp=timestamp,
        )
    data = event.event_specific_data
    payload = _payload(data)
    if event.node_handle is not None:
        payload["node_handle"] = str(event.node_handle)
    if event.pid is not None:
        payload.setdefault("pid", event.pid)
    asset_key, partition = _asset_of(data)
    return EventInput(
        event_type=event_type_name(event.event_type_value),
        message=entry.message,
        level=level if isinstance(level, int) else logging.INFO,
        step_key=entry.step_key or event.step_key,
        payload=payload,
        timestamp=timestamp,
        asset_key="/".join(asset_key.path) if asset_key is not None else None,
        partition=partition,
    )


def _asset_key_type() -> type | None:
    module = sys.modules.get(_KEYS_MODULE)
    return module.AssetKey if module is not None else None


def _is_asset_key(value: Any) -> bool:
    key_type = _asset_key_type()
    return key_type is not None and isinstance(value, key_type)


def _asset_of(data: Any) -> tuple[Any, str | None]:
    for name in _NESTED:
        inner = getattr(data, name, None)
        if inner is not None:
            data = inner
            break
    key = getattr(data, "asset_key", None)
    if not _is_asset_key(key):
        return None, None
    partition = getattr(data, "partition", None)
    return key, partition if isinstance(partition, str) else None


def _payload(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    for name in _NESTED:
        inner = getattr(data, name, None)
        if inner is not None:
            payload = _fields(inner)
            payload.pop("asset_key", None)
            label = getattr(inner, "label", None)
            if isinstance(label, str):
                payload["label"] = label
            return payload
    if isinstance(data, ev.StepOutputData):
        handle = data.step_output_handle
        return {
            "output_name": handle.output_name,
            "mapping_key": handle.mapping_key,
            "type_check_data": json_value(data.type_check_data),
            "version": data.version,
            "metadata": _metadata(data.metadata),
        }
    if _is_record(data):
        return _fields(data)
    return {"value": json_value(data)}


def _is_record(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields") or hasattr(type(value), "__slots__") and not isinstance(
        value, (str, bytes, int, float)
    )


def _field_names(value: Any) -> tuple[str, ...]:
    names = getattr(value, "_fields", None)
    if names is not None:
        return names
    return tuple(s for cls in type(value).__mro__ for s in getattr(cls, "__slots__", ()) if not s.startswith("_"))


def _plain_str(text: str) -> bool:
    # what PostgreSQL jsonb stores as is: no NUL, no lone surrogates (json_form tags the others)
    return _UNSAFE_CHARS.search(text) is None


def _fields(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _field_names(value):
        item = getattr(value, name, None)
        out[name] = _metadata(item) if name == "metadata" else json_value(item)
    return out


def _metadata(metadata: Any) -> list[dict[str, Any]]:
    if not metadata:
        return []
    try:
        return metadata_to_json(metadata)
    except Exception:  # metadata the SDK let through unnormalized: keep it readable as text
        return [{"label": str(k), "type": "text", "data": encode_json_value(str(v))} for k, v in dict(metadata).items()]


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, str):
        return value if _plain_str(value) else encode_json_value(value)
    if isinstance(value, ev.SerializableErrorInfo):
        return {
            "message": value.message,
            "stack": list(value.stack),
            "cls_name": value.cls_name,
            "cause": json_value(value.cause),
            "context": json_value(value.context),
        }
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if _is_asset_key(value):
        return list(value.path)
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)) and not hasattr(value, "_fields"):
        return [json_value(v) for v in value]
    if _is_record(value):
        return _fields(value)
    return str(value)


# --- reading back -----------------------------------------------------------------------------------


def log_entry(row: Any, job_name: str) -> ev.EventLogEntry:
    """The SDK `EventLogEntry` for a stored event row, with its storage id."""
    timestamp = row.timestamp.timestamp()
    if row.event_type is None:
        entry = ev.EventLogEntry(None, row.level, row.message, row.run_id, timestamp, row.step_key, job_name, None)
    else:
        value = event_type_value(row.event_type)
        payload = row.payload or {}
        event = ev.DagsterEvent(
            value, job_name, row.step_key, None, None, None, _data(value, row, payload), row.message or None,
            payload.get("pid"),
        )
        entry = ev.EventLogEntry(None, row.level, "", row.run_id, timestamp, row.step_key, job_name, event)
    entry.storage_id = row.id
    return entry


def _error(data: Any) -> ev.SerializableErrorInfo | None:
    if not isinstance(data, dict):
        return None
    return ev.SerializableErrorInfo(
        str(data.get("message", "")), list(data.get("stack") or []), data.get("cls_name"),
        _error(data.get("cause")), _error(data.get("context")),
    )


def _meta(payload: Mapping[str, Any]) -> dict[str, Any]:
    entries = payload.get("metadata")
    if not isinstance(entries, list):
        return {}
    try:
        return metadata_from_json(entries)
    except Exception:
        return {}


def _data(value: str, row: Any, p: Mapping[str, Any]) -> Any:
    from orchestra._core.assets import results as ar
    from orchestra._core.assets.keys import AssetKey

    key = AssetKey(row.asset_key.split("/")) if row.asset_key else None
    if value == "STEP_FAILURE":
        user = p.get("user_failure_data")
        user_data = ev.UserFailureData(user.get("label", ""), user.get("description"), _meta(user)) if isinstance(user, dict) else None
        source = p.get("error_source")
        return ev.StepFailureData(_error(p.get("error")), user_data, ev.ErrorSource(source) if source in ev.ErrorSource.__members__ else None)
    if value in ("PIPELINE_FAILURE", "PIPELINE_CANCELED"):
        return ev.JobFailureData(_error(p.get("error")), p.get("failure_reason"))
    if value == "STEP_UP_FOR_RETRY":
        return ev.StepRetryData(_error(p.get("error")), p.get("seconds_to_wait"))
    if value == "STEP_SUCCESS":
        return ev.StepSuccessData(p.get("duration_ms") or 0.0)
    if value == "STEP_OUTPUT":
        handle = ev.StepOutputHandle(row.step_key, p.get("output_name", "result"), p.get("mapping_key"))
        return ev.StepOutputData(handle, None, p.get("version"), _meta(p))
    if value == "HANDLED_OUTPUT":
        return ev.HandledOutputData(p.get("output_name", ""), p.get("manager_key", ""), _meta(p))
    if value == "LOADED_INPUT":
        return ev.LoadedInputData(p.get("input_name", ""), p.get("manager_key", ""), p.get("upstream_output_name"),
                                  p.get("upstream_step_key"), _meta(p))
    if value in ("ENGINE_EVENT", "STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "RESOURCE_INIT_STARTED",
                 "RESOURCE_INIT_SUCCESS", "RESOURCE_INIT_FAILURE"):
        return ev.EngineEventData(_meta(p), _error(p.get("error")), p.get("marker_start"), p.get("marker_end"))
    if value == "LOGS_CAPTURED" and "file_key" in p:
        return ev.ComputeLogsCaptureData(p["file_key"], list(p.get("step_keys") or []))
    if value == "HOOK_ERRORED" and p.get("error"):
        return ev.HookErroredData(_error(p["error"]))
    if key is None:
        return None
    if value == "ASSET_MATERIALIZATION":
        return ev.StepMaterializationData(
            ar.AssetMaterialization(key, p.get("description"), _meta(p), row.partition, p.get("tags"))
        )
    if value == "ASSET_OBSERVATION":
        return ev.AssetObservationData(ar.AssetObservation(key, p.get("description"), _meta(p), row.partition, p.get("tags")))
    if value == "ASSET_MATERIALIZATION_PLANNED":
        return ar.AssetMaterializationPlannedData(key, row.partition)
    if value == "ASSET_CHECK_EVALUATION_PLANNED":
        return ar.AssetCheckEvaluationPlanned(key, p.get("check_name", ""))
    if value == "ASSET_CHECK_EVALUATION":
        severity = p.get("severity")
        return ar.AssetCheckEvaluation(
            key, p.get("check_name", ""), bool(p.get("passed")), _meta(p), None,
            ar.AssetCheckSeverity(severity) if severity in ("WARN", "ERROR") else ar.AssetCheckSeverity.ERROR,
            p.get("description"), p.get("blocking"), row.partition,
        )
    return None
