"""Which permission each scheduling edge needs and where: schedules, sensors and backfills.

Schedules and sensors act in their own code location (named by the selector, or found from the
state's id); a backfill in its location (a new asset backfill in the location of its first asset, as
`backfill_create` picks it). `core.guards` enforces the tables; `orchestra_site` installs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.guards import Rule, operation_rules
from core.permissions import Permission
from scheduling import api, selectors
from scheduling.models import InstigatorKind
from workspace.selectors import loaded_snapshots_cached


def _asset_location(key: str) -> str | None:
    for name, snapshot in sorted(loaded_snapshots_cached().items()):
        if any(node.get("key_string") == key for node in snapshot.get("asset_nodes") or []):
            return name
    return None


def _schedule_location(scheduleSelector: Mapping[str, Any], **_: Any) -> str | None:
    return scheduleSelector.get("repositoryLocationName") or None


def _sensor_location(sensorSelector: Mapping[str, Any], **_: Any) -> str | None:
    return sensorSelector.get("repositoryLocationName") or None


def _state_location(kind: str, *ids: str | None) -> str | None:
    value = next((v for v in ids if v), None)
    state = selectors.instigator_by_id(kind=kind, value=value) if value else None
    return state.location_name if state is not None else None


def _stopped_schedule_location(id: str | None = None, scheduleOriginId: str | None = None,
                               scheduleSelectorId: str | None = None, **_: Any) -> str | None:
    return _state_location(InstigatorKind.SCHEDULE, id, scheduleOriginId, scheduleSelectorId)


def _stopped_sensor_location(id: str | None = None, jobOriginId: str | None = None,
                             jobSelectorId: str | None = None, **_: Any) -> str | None:
    return _state_location(InstigatorKind.SENSOR, id, jobOriginId, jobSelectorId)


def _new_backfill_location(backfillParams: Mapping[str, Any], **_: Any) -> str | None:
    selector = backfillParams.get("selector")
    if selector is not None:
        return (selector.get("repositorySelector") or {}).get("repositoryLocationName") or None
    keys = backfillParams.get("assetSelection") or []
    return _asset_location("/".join(keys[0]["path"])) if keys else None


def _backfill_location(backfillId: str, **_: Any) -> str | None:
    return selectors.backfill_location_name(backfill_id=backfillId)


def _reexecuted_backfill_location(reexecutionParams: Mapping[str, Any] | None = None, **_: Any) -> str | None:
    return selectors.backfill_location_name(backfill_id=(reexecutionParams or {}).get("parentRunId") or "")


MUTATION_RULES: dict[str, Rule] = {
    "startSchedule": Rule(Permission.START_SCHEDULE, _schedule_location),
    "resetSchedule": Rule(Permission.START_SCHEDULE, _schedule_location),
    "stopRunningSchedule": Rule(Permission.STOP_RUNNING_SCHEDULE, _stopped_schedule_location),
    "startSensor": Rule(Permission.EDIT_SENSOR, _sensor_location),
    "resetSensor": Rule(Permission.EDIT_SENSOR, _sensor_location),
    "stopSensor": Rule(Permission.EDIT_SENSOR, _stopped_sensor_location),
    "setSensorCursor": Rule(Permission.UPDATE_SENSOR_CURSOR, _sensor_location),
    "launchPartitionBackfill": Rule(Permission.LAUNCH_PARTITION_BACKFILL, _new_backfill_location),
    "resumePartitionBackfill": Rule(Permission.LAUNCH_PARTITION_BACKFILL, _backfill_location),
    "reexecutePartitionBackfill": Rule(Permission.LAUNCH_PARTITION_BACKFILL, _reexecuted_backfill_location),
    "cancelPartitionBackfill": Rule(Permission.CANCEL_PARTITION_BACKFILL, _backfill_location),
}


def _rest_location(location: str, **_: Any) -> str:
    return location


def _rest_new_backfill_location(body: Any, **_: Any) -> str | None:
    if body.location_name:
        return body.location_name
    return _asset_location(body.asset_selection[0]) if body.asset_selection else None


def _rest_backfill_location(backfill_id: str, **_: Any) -> str | None:
    return selectors.backfill_location_name(backfill_id=backfill_id)


OPERATION_RULES: dict[str, Rule] = operation_rules({
    api.start_schedule: Rule(Permission.START_SCHEDULE, _rest_location),
    api.stop_schedule: Rule(Permission.STOP_RUNNING_SCHEDULE, _rest_location),
    api.reset_schedule: Rule(Permission.START_SCHEDULE, _rest_location),
    api.start_sensor: Rule(Permission.EDIT_SENSOR, _rest_location),
    api.stop_sensor: Rule(Permission.EDIT_SENSOR, _rest_location),
    api.reset_sensor: Rule(Permission.EDIT_SENSOR, _rest_location),
    api.set_sensor_cursor: Rule(Permission.UPDATE_SENSOR_CURSOR, _rest_location),
    api.create_backfill: Rule(Permission.LAUNCH_PARTITION_BACKFILL, _rest_new_backfill_location),
    api.cancel_backfill: Rule(Permission.CANCEL_PARTITION_BACKFILL, _rest_backfill_location),
    api.reexecute_backfill: Rule(Permission.LAUNCH_PARTITION_BACKFILL, _rest_backfill_location),
    api.resume_backfill: Rule(Permission.LAUNCH_PARTITION_BACKFILL, _rest_backfill_location),
})
