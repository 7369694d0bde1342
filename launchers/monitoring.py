"""Run monitoring: the daemon duty that ends runs whose worker is gone and re-drives lost launches.

Dagster's MonitoringDaemon checks (`run_monitoring` in orchestra.yaml): runs STARTING (or
NOT_STARTED) longer than `start_timeout_seconds` fail with START_TIMEOUT; runs CANCELING longer
than `cancel_timeout_seconds` are marked CANCELED; STARTED runs whose worker is dead fail; STARTED
runs past `max_runtime_seconds` (or tag `dagster/max_runtime`) fail. Two additions, because the
database is the source of truth and broker messages are only nudges: a worker is also presumed dead
when its heartbeat (`Run.heartbeat_at`) is older than `heartbeat_timeout`, and a run left NOT_STARTED
with an origin (dequeued or submitted, then its launch lost) is launched again through `run_launch`,
which launches only a NOT_STARTED run, so it never runs twice.

Every change re-reads the run under its row lock and acts only if the run is still in the status
and condition that called for it, so a run worker writing its own terminal event at the same moment
wins or loses cleanly; `event_store` refuses anything after a terminal event.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.instance_config import ResolvedInstance
from launchers.beat import DEFAULT_MONITORING_SECONDS, monitoring_interval
from runs.launching import LaunchRunContext, RunLauncher, instance_run_launcher
from runs.models import EventLogEntry, Run, RunStatus, RunTag
from runs.services import EventInput, event_store, run_launch

logger = logging.getLogger(__name__)

DAEMON_TYPE = "MONITORING"
MAX_RUNTIME_TAGS = ("dagster/max_runtime", "dagster/max_runtime_seconds")
DEFAULT_POLL_SECONDS = DEFAULT_MONITORING_SECONDS  # why 10 s and not Dagster's 120 s: launchers/beat.py
# The run worker heartbeats every 3 s: ten missed beats mean it is gone (or cut off from the database).
DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 30
# A NOT_STARTED run with an origin is normally launched within a second of being created or
# dequeued; one left longer than this lost its launch (a daemon or webserver died in between).
DEFAULT_RELAUNCH_AFTER_SECONDS = 15


@dataclass(frozen=True)
class MonitoringPolicy:
    """The limits one sweep applies (seconds; 0 disables a check)."""

    enabled: bool = True
    start_timeout: float = 180
    cancel_timeout: float = 180
    max_runtime: float = 0
    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT_SECONDS
    relaunch_after: float = DEFAULT_RELAUNCH_AFTER_SECONDS
    poll_interval: float = DEFAULT_POLL_SECONDS


def monitoring_policy(instance: ResolvedInstance | None = None) -> MonitoringPolicy:
    """The instance's `run_monitoring` settings.

    Monitoring is on unless `enabled: false` is written out (Dagster 1.13 defaults to off; here the
    promise that every run ends needs it). `poll_interval_seconds` is honoured when given.
    """
    instance = instance if instance is not None else settings.INSTANCE
    config = instance.config.run_monitoring
    return MonitoringPolicy(
        enabled=instance.monitoring_enabled,
        start_timeout=config.start_timeout_seconds,
        cancel_timeout=config.cancel_timeout_seconds,
        max_runtime=config.max_runtime_seconds,
        poll_interval=monitoring_interval(instance),
    )


@dataclass
class SweepResult:
    checked: int = 0
    failed: list[str] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)
    relaunched: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_monitoring_sweep(*, policy: MonitoringPolicy | None = None, now: datetime | None = None) -> SweepResult:
    """Check every run in NOT_STARTED, STARTING, STARTED or CANCELING once, and act on those overdue."""
    policy = policy if policy is not None else monitoring_policy()
    result = SweepResult()
    if not policy.enabled:
        return result
    runs = list(
        Run.objects.filter(
            status__in=[RunStatus.NOT_STARTED, RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING]
        ).only("id", "run_id", "status", "origin", "launcher", "heartbeat_at", "updated_at", "started_at")
    )
    launcher = _instance_launcher()
    for run in runs:
        result.checked += 1
        try:
            _monitor(run, policy, now or timezone.now(), launcher, result)
        except Exception as exc:  # one run's trouble must not stop the sweep
            logger.exception("run monitoring failed on run %s", run.run_id)
            result.errors.append(f"run {run.run_id}: {type(exc).__name__}: {exc}")
    return result


def _monitor(run: Run, policy: MonitoringPolicy, now: datetime, launcher: Any, result: SweepResult) -> None:
    if run.status == RunStatus.NOT_STARTED:
        _monitor_not_started(run, policy, now, result)
    elif run.status == RunStatus.STARTING:
        if _dead_worker(run, policy, now, launcher, result, statuses=(RunStatus.STARTING,)):
            return
        if _monitor_start_timeout(run, policy, now, result):
            return
        _relaunch_unclaimed(run, policy, now, launcher, result)
    elif run.status == RunStatus.STARTED:
        if _dead_worker(run, policy, now, launcher, result, statuses=(RunStatus.STARTED,)):
            return
        _monitor_max_runtime(run, policy, now, launcher, result)
    elif run.status == RunStatus.CANCELING:
        _monitor_canceling(run, policy, now, launcher, result)


# -- NOT_STARTED and STARTING --------------------------------------------------------------------


def _monitor_not_started(run: Run, policy: MonitoringPolicy, now: datetime, result: SweepResult) -> None:
    def timed_out(fresh: Run) -> bool:
        return bool(policy.start_timeout) and _age(fresh.updated_at, now) >= policy.start_timeout

    if timed_out(run):
        _fail_start_timeout(run, policy, timed_out, (RunStatus.NOT_STARTED,), result)
        return
    lost = run.origin is not None and run.heartbeat_at is None and _age(run.updated_at, now) >= policy.relaunch_after
    if lost:
        # run_launch locks the run and launches only a NOT_STARTED one: a launch that was merely
        # slow, or a second daemon re-driving it too, makes this a no-op.
        logger.warning("run %s was left NOT_STARTED for %.0f s; launching it again", run.run_id, _age(run.updated_at, now))
        launched = run_launch(run_id=run.run_id)
        if launched.status != RunStatus.NOT_STARTED:
            result.relaunched.append(run.run_id)


def _monitor_start_timeout(run: Run, policy: MonitoringPolicy, now: datetime, result: SweepResult) -> bool:
    def timed_out(fresh: Run) -> bool:
        return bool(policy.start_timeout) and _age(_starting_since(fresh), now) >= policy.start_timeout

    return timed_out(run) and _fail_start_timeout(run, policy, timed_out, (RunStatus.STARTING,), result)


def _fail_start_timeout(run: Run, policy: MonitoringPolicy, due: Callable[[Run], bool],
                        statuses: Sequence[str], result: SweepResult) -> bool:
    message = f"Run timed out due to taking longer than {policy.start_timeout:g} seconds to start."
    if _transition(run.run_id, statuses, due, _failure(message, "START_TIMEOUT")):
        result.failed.append(run.run_id)
        return True
    return False


MAX_RELAUNCHES = 3
RELAUNCH_MESSAGE = "No run worker claimed the run within {seconds:g} seconds of its launch; launching it again."


def _relaunch_unclaimed(run: Run, policy: MonitoringPolicy, now: datetime, launcher: Any, result: SweepResult) -> None:
    """Send the launch of a STARTING run again when no worker claimed it (its message was lost: a
    broker restart, a killed daemon). A second worker for a run that is claimed after all refuses
    it (`run_worker_claim`), so a slow first launch costs one refused process, never a second run."""
    if launcher is None or not policy.relaunch_after:
        return

    def unclaimed(fresh: Run) -> bool:
        if fresh.heartbeat_at is not None:
            return False
        relaunches = list(
            EventLogEntry.objects.filter(run_id=fresh.run_id, event_type="ENGINE_EVENT", payload__relaunch=True)
            .order_by("-id").values_list("timestamp", flat=True)[:MAX_RELAUNCHES]
        )
        if len(relaunches) >= MAX_RELAUNCHES:
            return False  # the start timeout will end it
        since = max([*relaunches[:1], _starting_since(fresh)])
        return _age(since, now) >= policy.relaunch_after

    if not unclaimed(run):
        return
    message = RELAUNCH_MESSAGE.format(seconds=policy.relaunch_after)
    event = EventInput(event_type="ENGINE_EVENT", level=logging.WARNING, message=message, timestamp=now,
                       payload={"metadata": [], "relaunch": True})
    if not _transition(run.run_id, (RunStatus.STARTING,), unclaimed, [event]):
        return
    launcher.launch_run(LaunchRunContext(run=Run.objects.get(run_id=run.run_id)))
    result.relaunched.append(run.run_id)


def _starting_since(run: Run) -> datetime:
    """When the run was last sent to STARTING (its RUN_STARTING event), else its last change."""
    starting = (
        EventLogEntry.objects.filter(run_id=run.run_id, event_type="RUN_STARTING")
        .order_by("-id").values_list("timestamp", flat=True).first()
    )
    return starting or run.updated_at


# -- STARTED (and claimed STARTING): is the worker alive? ---------------------------------------


def _dead_worker(run: Run, policy: MonitoringPolicy, now: datetime, launcher: Any, result: SweepResult,
                 statuses: Sequence[str]) -> bool:
    if run.heartbeat_at is None:  # not claimed by a worker yet: the start timeout applies
        return False
    reason = _worker_death(run, policy, now, launcher)
    if reason is None:
        return False
    message = f"{reason} Marking run {run.run_id} as failed."

    def still_dead(fresh: Run) -> bool:
        # Re-checked under the lock: a beat that arrived meanwhile proves the worker alive.
        return fresh.heartbeat_at is not None and _worker_death(fresh, policy, now, launcher) is not None

    if _transition(run.run_id, statuses, still_dead, _failure(message, "UNEXPECTED_ERROR", worker=run.launcher.get("worker"))):
        result.failed.append(run.run_id)
        return True
    return False


def _worker_death(run: Run, policy: MonitoringPolicy, now: datetime, launcher: Any) -> str | None:
    """Why the run's worker is considered dead, or None while it may be alive.

    The launcher's `check_run_worker_health` decides when it knows (RUNNING/SUCCESS: alive;
    FAILED/NOT_FOUND: dead); then a worker process recorded on this host that no longer exists;
    otherwise the heartbeat's age.
    """
    health, detail = _launcher_health(launcher, run)
    if health in ("RUNNING", "SUCCESS"):
        return None
    if health in ("FAILED", "NOT_FOUND"):
        return f"Detected run worker status {detail}."
    worker = run.launcher.get("worker") or {}
    pid, host = worker.get("pid"), worker.get("hostname")
    if isinstance(pid, int) and host == socket.gethostname() and not _process_alive(pid):
        return f"The run worker process (pid {pid} on {host}) is no longer running."
    age = _age(run.heartbeat_at, now)
    if policy.heartbeat_timeout and age >= policy.heartbeat_timeout:
        return (
            f"The run worker's last heartbeat was {age:.0f} seconds ago (more than "
            f"{policy.heartbeat_timeout:g} seconds): the worker is presumed dead."
        )
    return None


def _launcher_health(launcher: Any, run: Run) -> tuple[str | None, str]:
    """The launcher's WorkerStatus name for the run's worker and its description, if it can tell."""
    if launcher is None or not getattr(launcher, "supports_check_run_worker_health", False):
        return None, ""
    try:
        health = launcher.check_run_worker_health(run)
    except Exception:
        logger.exception("check_run_worker_health failed for run %s", run.run_id)
        return None, ""
    status = getattr(health, "status", health)
    name = str(getattr(status, "value", status) or "") or None
    return name, str(health)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet still answers signal 0
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


# -- STARTED: maximum runtime --------------------------------------------------------------------


def _monitor_max_runtime(run: Run, policy: MonitoringPolicy, now: datetime, launcher: Any, result: SweepResult) -> None:
    if run.started_at is None:
        return
    max_runtime = policy.max_runtime
    tags = dict(RunTag.objects.filter(run_id=run.pk, key__in=MAX_RUNTIME_TAGS).values_list("key", "value"))
    raw = tags.get(MAX_RUNTIME_TAGS[0], tags.get(MAX_RUNTIME_TAGS[1]))
    if raw:
        try:
            max_runtime = float(raw)
        except ValueError:
            logger.warning("run %s has an invalid max runtime tag %r", run.run_id, raw)
    if not max_runtime:
        return

    def overdue(fresh: Run) -> bool:
        return fresh.started_at is not None and _age(fresh.started_at, now) > max_runtime

    events = [
        EventInput(event_type="ENGINE_EVENT", level=logging.ERROR,
                   message=f"Canceling due to exceeding maximum runtime of {int(max_runtime)} seconds."),
        EventInput(event_type="RUN_FAILURE", level=logging.ERROR,
                   message=f"Exceeded maximum runtime of {int(max_runtime)} seconds.",
                   payload={"failure_reason": "RUN_EXCEPTION", "error": None}),
    ]
    if _transition(run.run_id, (RunStatus.STARTED,), overdue, events):
        result.failed.append(run.run_id)
        _terminate(launcher, run.run_id)


# -- CANCELING -----------------------------------------------------------------------------------


def _monitor_canceling(run: Run, policy: MonitoringPolicy, now: datetime, launcher: Any, result: SweepResult) -> None:
    def timed_out(fresh: Run) -> bool:
        return bool(policy.cancel_timeout) and _age(_canceling_since(fresh), now) >= policy.cancel_timeout

    if not timed_out(run):
        return
    message = f"Run timed out due to taking longer than {policy.cancel_timeout:g} seconds to cancel."
    events = [
        EventInput(event_type="ENGINE_EVENT", level=logging.ERROR, message=message),
        EventInput(event_type="RUN_CANCELED", level=logging.ERROR, message=message),
    ]
    if _transition(run.run_id, (RunStatus.CANCELING,), timed_out, events):
        result.canceled.append(run.run_id)
        _terminate(launcher, run.run_id)


def _canceling_since(run: Run) -> datetime:
    canceling = (
        EventLogEntry.objects.filter(run_id=run.run_id, event_type="RUN_CANCELING")
        .order_by("-id").values_list("timestamp", flat=True).first()
    )
    return canceling or run.updated_at


# -- shared --------------------------------------------------------------------------------------


def _transition(run_id: str, statuses: Sequence[str], due: Callable[[Run], bool], events: list[EventInput]) -> bool:
    """Write `events` if, under the run's row lock, it is still in `statuses` and still `due`."""
    with transaction.atomic():
        fresh = Run.objects.select_for_update().filter(run_id=run_id).first()
        if fresh is None or fresh.status not in statuses or not due(fresh):
            return False
        event_store(run_id=run_id, events=events)
    logger.warning("run monitoring: %s", events[-1].message)
    return True


def _failure(message: str, reason: str, **extra: Any) -> list[EventInput]:
    return [
        EventInput(event_type="ENGINE_EVENT", level=logging.ERROR, message=message,
                   payload={"metadata": [], "reason": reason, **{k: v for k, v in extra.items() if v is not None}}),
        EventInput(event_type="RUN_FAILURE", level=logging.ERROR, message=message,
                   payload={"failure_reason": reason, "error": None}),
    ]


def _age(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    return max((now - moment) / timedelta(seconds=1), 0.0)


def _instance_launcher() -> RunLauncher | None:
    """The configured run launcher; None (heartbeats and pids only) if it cannot be built."""
    try:
        return instance_run_launcher()
    except Exception:
        logger.exception("could not build the configured run launcher; monitoring falls back to heartbeats")
        return None


def _terminate(launcher: Any, run_id: str) -> None:
    """Ask the launcher to stop a worker that may still be running (best effort)."""
    if launcher is None or not hasattr(launcher, "terminate"):
        return
    try:
        launcher.terminate(run_id)
    except Exception:
        logger.exception("could not terminate the worker of run %s", run_id)
