"""The instance's `scheduler` entry (orchestra.yaml, as in dagster.yaml): Dagster's
`DagsterDaemonScheduler` is read as `DaemonScheduler`, whose config the scheduling daemon honours."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCHEDULER_CONFIG_KEYS = {"max_catchup_runs": 1, "max_tick_retries": 0}  # key -> smallest value allowed


class DaemonScheduler:
    """Schedules ticked by the daemon (Celery beat and workers).

    Config: `max_catchup_runs` (default 5: how many missed ticks of a partitioned schedule run after
    a gap; others run only the latest) and `max_tick_retries` (default 0: how often a failed tick is
    evaluated again).
    """

    def __init__(self, config: Mapping[str, Any] | None = None):
        self.config = dict(config or {})

    @staticmethod
    def config_errors(config: Mapping[str, Any]) -> list[str]:
        problems = []
        for key in sorted(set(config) - set(SCHEDULER_CONFIG_KEYS)):
            problems.append(f"unknown key {key!r}; expected {', '.join(sorted(SCHEDULER_CONFIG_KEYS))}")
        for key, least in SCHEDULER_CONFIG_KEYS.items():
            value = config.get(key)
            if key in config and (not isinstance(value, int) or isinstance(value, bool) or value < least):
                problems.append(f"{key} must be an integer of at least {least}, got {value!r}")
        return problems
