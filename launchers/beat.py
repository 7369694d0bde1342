"""The daemon's periodic duties as Celery beat entries (`CELERY_BEAT_SCHEDULE`; imports no Django).

The settings module builds the schedule from the instance configuration before Django starts;
django-celery-beat's DatabaseScheduler stores the entries as PeriodicTask rows and beat sends them
to the `daemon` queue. Each message expires after one interval, so a beat that ran while no worker
was up does not leave a backlog of identical sweeps behind.
"""

from __future__ import annotations

from typing import Any

from core.instance_config import ResolvedInstance

DAEMON_QUEUE = "daemon"
DEQUEUE_TASK = "runs.run_queue_dequeue"
MONITORING_TASK = "launchers.run_monitoring"
RETRIES_TASK = "runs.run_retries_consume"
AUDIT_PURGE_TASK = "core.audit_purge"  # core/tasks.py
# Audit entries are kept for days (`retention.audit.purge_after_days`): an hourly purge is plenty.
AUDIT_PURGE_SECONDS = 3600
# Dagster's EVENT_LOG_CONSUMER daemon polls every 5 s.
DEFAULT_RETRIES_SECONDS = 5
# The queue is dequeued at once on every submission (a nudge); the interval only bounds how long a
# run waits for a slot another run frees, so it is shorter than Dagster's 5 s: one indexed query
# when nothing is queued. `dequeue_interval_seconds`, when written out, is honoured.
DEFAULT_DEQUEUE_SECONDS = 2
# Dagster polls every 120 s; a sweep is one indexed query over the runs in progress, so every 10 s
# keeps a dead worker's run from waiting more than its heartbeat timeout + 10 s to end.
DEFAULT_MONITORING_SECONDS = 10

RUNS_QUEUE = "runs"
STEPS_QUEUE = "steps"
# Which queue each task is sent to when its sender names none (`CELERY_TASK_ROUTES`): Celery 6 drops the
# `queue=` task attribute (https://docs.celeryq.dev/en/stable/userguide/routing.html#automatic-routing).
# A sender that names a queue (a run's `dagster-celery/queue` tag, a launcher's `default_queue`) still wins.
TASK_ROUTES: dict[str, dict[str, str]] = {
    "scheduling.*": {"queue": DAEMON_QUEUE},
    DEQUEUE_TASK: {"queue": DAEMON_QUEUE},
    RETRIES_TASK: {"queue": DAEMON_QUEUE},
    MONITORING_TASK: {"queue": DAEMON_QUEUE},
    AUDIT_PURGE_TASK: {"queue": DAEMON_QUEUE},
    "runs.daemon_heartbeat": {"queue": DAEMON_QUEUE},
    "launchers.execute_run": {"queue": RUNS_QUEUE},  # launchers/celery.py
    "runs.execute_step": {"queue": STEPS_QUEUE},  # runs/step_tasks.py
}


def dequeue_interval(instance: ResolvedInstance) -> float | None:
    """Seconds between dequeues, or None when the instance does not queue runs."""
    if not instance.uses_queue:
        return None
    config = instance.config
    if config.run_queue is not None:
        explicit = "dequeue_interval_seconds" in config.run_queue.model_fields_set
        return config.run_queue.dequeue_interval_seconds if explicit else DEFAULT_DEQUEUE_SECONDS
    given = (config.run_coordinator.config if config.run_coordinator else {}).get("dequeue_interval_seconds")
    return float(given) if isinstance(given, int | float) and given > 0 else DEFAULT_DEQUEUE_SECONDS


def monitoring_interval(instance: ResolvedInstance) -> float:
    monitoring = instance.config.run_monitoring
    if "poll_interval_seconds" in monitoring.model_fields_set:
        return monitoring.poll_interval_seconds
    return DEFAULT_MONITORING_SECONDS


def daemon_beat_schedule(instance: ResolvedInstance) -> dict[str, dict[str, Any]]:
    """The beat entries of the run queue, run monitoring, run retries and audit retention for this instance.

    The dequeue entry exists only with a queued coordinator, monitoring unless it is disabled,
    retries only when `run_retries.enabled`; the
    tasks themselves are no-ops otherwise, so a row left in the database by an earlier configuration
    costs nothing.
    """
    schedule: dict[str, dict[str, Any]] = {}
    every = dequeue_interval(instance)
    if every is not None:
        schedule["orchestra run queue"] = _entry(DEQUEUE_TASK, every)
    if instance.monitoring_enabled:
        schedule["orchestra run monitoring"] = _entry(MONITORING_TASK, monitoring_interval(instance))
    if instance.config.run_retries.enabled:
        schedule["orchestra run retries"] = _entry(RETRIES_TASK, DEFAULT_RETRIES_SECONDS)
    if instance.config.retention.audit.purge_after_days >= 0:
        schedule["orchestra audit retention"] = _entry(AUDIT_PURGE_TASK, AUDIT_PURGE_SECONDS)
    return schedule


def _entry(task: str, every: float) -> dict[str, Any]:
    return {"task": task, "schedule": float(every), "options": {"queue": DAEMON_QUEUE, "expires": float(every)}}
