"""Reads of daemon health: which daemon duties this instance needs, and whether each heartbeats.

Dagster's rules (`dagster._daemon.controller.get_daemon_statuses`, as its GraphQL applies them): a
required daemon is healthy while its newest heartbeat is at most interval (30 s) + tolerance (1800 s)
old; errors in the heartbeat are reported but do not make it unhealthy; a daemon that is not required
has no health (`None`). SENSOR and BACKFILL are always required; SCHEDULER with the default
scheduler; QUEUED_RUN_COORDINATOR with a queued run coordinator; MONITORING when run monitoring is
on (here it is on unless `run_monitoring.enabled: false` is written out); EVENT_LOG_CONSUMER when run retries are on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from core.instance_config import InstanceConfig
from runs.models import DaemonHeartbeat

HEARTBEAT_INTERVAL_SECONDS = 30
HEARTBEAT_TOLERANCE_SECONDS = 1800


@dataclass(frozen=True)
class DaemonStatus:
    daemon_type: str
    required: bool
    healthy: bool | None
    last_heartbeat: DaemonHeartbeat | None


def _config() -> InstanceConfig:
    instance = getattr(settings, "INSTANCE", None)
    return instance.config if instance is not None else InstanceConfig()


def required_daemon_types() -> list[str]:
    """The daemon duties this instance's configuration needs, in Dagster's order."""
    config = _config()
    instance = getattr(settings, "INSTANCE", None)
    required = ["SENSOR", "BACKFILL"]
    if config.scheduler is None or config.scheduler.class_ in ("DagsterDaemonScheduler", "DaemonScheduler"):
        required.append("SCHEDULER")
    if instance is not None and instance.uses_queue:
        required.append("QUEUED_RUN_COORDINATOR")
    if instance.monitoring_enabled if instance is not None else config.run_monitoring.enabled:
        required.append("MONITORING")
    if config.run_retries.enabled:
        required.append("EVENT_LOG_CONSUMER")
    return required


def latest_heartbeats() -> dict[str, DaemonHeartbeat]:
    """The newest heartbeat of each daemon type, whichever daemon process wrote it (one query)."""
    latest: dict[str, DaemonHeartbeat] = {}
    for heartbeat in DaemonHeartbeat.objects.order_by("daemon_type", "-timestamp"):
        latest.setdefault(heartbeat.daemon_type, heartbeat)
    return latest


def daemon_statuses(*, daemon_types: Iterable[str] | None = None, now: datetime | None = None) -> list[DaemonStatus]:
    """The status of each daemon type asked for (default: the required ones), in one query."""
    required = required_daemon_types()
    types = list(daemon_types) if daemon_types is not None else required
    heartbeats = latest_heartbeats()
    now = now or timezone.now()
    statuses = []
    for daemon_type in types:
        heartbeat = heartbeats.get(daemon_type)
        if daemon_type not in required:
            statuses.append(DaemonStatus(daemon_type, False, None, heartbeat))
        elif heartbeat is None:
            statuses.append(DaemonStatus(daemon_type, True, False, None))
        else:
            age = (now - heartbeat.timestamp).total_seconds()
            healthy = age <= HEARTBEAT_INTERVAL_SECONDS + HEARTBEAT_TOLERANCE_SECONDS
            statuses.append(DaemonStatus(daemon_type, True, healthy, heartbeat))
    return statuses
