"""Pluggable instance components: Dagster's `{module, class}` names mapped to Orchestra's classes.

A `dagster.yaml` names Dagster's coordinators and launchers (`dagster.core.run_coordinator` /
`dagster._core.run_coordinator` + `QueuedRunCoordinator`, `dagster_celery` + `CeleryRunLauncher`,
...). They are read as Orchestra's equivalents so such a file works unchanged. The targets are
dotted strings: this module imports none of them (core sits below every app).
"""

from __future__ import annotations

from typing import Any

DEFAULT_RUN_COORDINATOR = "runs.launching.DefaultRunCoordinator"
QUEUED_RUN_COORDINATOR = "runs.launching.QueuedRunCoordinator"
DEFAULT_RUN_LAUNCHER = "launchers.subprocess.SubprocessRunLauncher"
CELERY_RUN_LAUNCHER = "launchers.celery.CeleryRunLauncher"
DAEMON_SCHEDULER = "scheduling.scheduler.DaemonScheduler"

# Dagster class name -> Orchestra class, per component key.
_DAGSTER_CLASSES: dict[str, dict[str, str]] = {
    "run_coordinator": {
        "QueuedRunCoordinator": QUEUED_RUN_COORDINATOR,
        "DefaultRunCoordinator": DEFAULT_RUN_COORDINATOR,
        "SyncInMemoryRunCoordinator": DEFAULT_RUN_COORDINATOR,
    },
    "run_launcher": {
        "DefaultRunLauncher": DEFAULT_RUN_LAUNCHER,
        "CeleryRunLauncher": CELERY_RUN_LAUNCHER,
    },
    "scheduler": {
        "DagsterDaemonScheduler": DAEMON_SCHEDULER,
    },
}


def _is_dagster_module(module: str) -> bool:
    return module.split(".", 1)[0] in ("dagster", "dagster_celery")


def component_path(key: str, module: str, class_name: str) -> str:
    """The dotted path of the class to load for the orchestra.yaml entry `key: {module, class}`.

    Dagster's modules and class names are mapped to Orchestra's equivalents; anything else is taken
    as written (a user's own class).
    """
    if _is_dagster_module(module):
        target = _DAGSTER_CLASSES.get(key, {}).get(class_name)
        if target is not None:
            return target
    return f"{module}.{class_name}"


def entry_path(key: str, entry: Any) -> str:
    """`component_path` for a parsed `ClassEntry` (`entry.module`, `entry.class_`)."""
    return component_path(key, entry.module, entry.class_)
