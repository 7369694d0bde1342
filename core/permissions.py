"""Who may do what: the one decision every edge (GraphQL, REST, UI) asks before changing state."""

from __future__ import annotations

import enum
from typing import Any


class Permission(enum.StrEnum):
    """Actions that need permission, named as Dagster's `Permissions` so its UI's checks map one to one."""

    LAUNCH_PIPELINE_EXECUTION = "launch_pipeline_execution"
    LAUNCH_PIPELINE_REEXECUTION = "launch_pipeline_reexecution"
    TERMINATE_PIPELINE_EXECUTION = "terminate_pipeline_execution"
    DELETE_PIPELINE_RUN = "delete_pipeline_run"
    RELOAD_REPOSITORY_LOCATION = "reload_repository_location"
    RELOAD_WORKSPACE = "reload_workspace"
    WIPE_ASSETS = "wipe_assets"
    START_SCHEDULE = "start_schedule"
    STOP_RUNNING_SCHEDULE = "stop_running_schedule"
    EDIT_SENSOR = "edit_sensor"
    UPDATE_SENSOR_CURSOR = "update_sensor_cursor"
    LAUNCH_PARTITION_BACKFILL = "launch_partition_backfill"
    CANCEL_PARTITION_BACKFILL = "cancel_partition_backfill"


def has_permission(request: Any, permission: Permission) -> bool:
    """Whether the caller of `request` may perform `permission`.

    Authentication arrives in a later issue; until then every caller may do everything, as in a
    Dagster webserver started without `--read-only`. This is the seam to replace.
    """
    return True
