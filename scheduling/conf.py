"""Scheduling settings, read lazily from the instance configuration (`orchestra.yaml`)."""

from __future__ import annotations

from django.conf import settings

DEFAULT_MAX_CATCHUP_RUNS = 5  # Dagster's DagsterDaemonScheduler default
DEFAULT_SENSOR_INTERVAL = 30  # seconds; Dagster's DEFAULT_SENSOR_DAEMON_INTERVAL
# A STARTED tick (or a sensor's lease) older than this belongs to a daemon that stopped: the code
# server's evaluation timeout (60 s) plus room for submitting the runs.
TICK_LEASE_SECONDS = 180


def _scheduler_config() -> dict:
    instance = getattr(settings, "INSTANCE", None)
    entry = instance.config.scheduler if instance is not None else None
    return dict(entry.config) if entry is not None else {}


def max_catchup_runs() -> int:
    """`scheduler: {config: {max_catchup_runs}}` in orchestra.yaml, as Dagster's dagster.yaml."""
    value = _scheduler_config().get("max_catchup_runs", DEFAULT_MAX_CATCHUP_RUNS)
    return max(int(value), 1)


def max_tick_retries() -> int:
    """`scheduler: {config: {max_tick_retries}}`: how often a failed schedule tick is evaluated again (0)."""
    return max(int(_scheduler_config().get("max_tick_retries", 0)), 0)
