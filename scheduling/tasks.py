"""Celery tasks of the scheduling daemon duties: thin, id-taking, safe to run twice."""

from celery import shared_task

from runs.services import daemon_heartbeat_record
from runs.tasks import daemon_id
from scheduling.backfills import backfill_progress
from scheduling.selectors import backfill_ids_in_progress
from scheduling.services import instigators_reconcile, schedule_tick, scheduling_sweep, sensor_tick


@shared_task(name="scheduling.schedule_tick")
def schedule_tick_task(state_id: int) -> None:
    schedule_tick(state_id=state_id)


@shared_task(name="scheduling.sensor_tick")
def sensor_tick_task(state_id: int) -> None:
    sensor_tick(state_id=state_id)


@shared_task(name="scheduling.sweep", bind=True)
def sweep_task(self) -> None:
    for state_id in scheduling_sweep():
        schedule_tick_task.delay(state_id)  # to the daemon queue (CELERY_TASK_ROUTES)
    # The sweep runs every minute on a daemon worker: its heartbeat is the scheduler's and the
    # sensor daemon's (sensor ticks themselves are sent by beat to the same workers).
    for daemon_type in ("SCHEDULER", "SENSOR"):
        daemon_heartbeat_record(daemon_type=daemon_type, daemon_id=daemon_id(self.request))


@shared_task(name="scheduling.reconcile")
def reconcile_task(location_name: str | None = None) -> None:
    instigators_reconcile(location_name=location_name, force=location_name is not None)


@shared_task(name="scheduling.backfill_progress")
def backfill_progress_task(backfill_id: str) -> None:
    backfill_progress(backfill_id=backfill_id)


@shared_task(name="scheduling.backfills_sweep", bind=True)
def backfills_sweep_task(self) -> None:
    """Resume every backfill still in progress (after a restart, a lost message, a full run cap)."""
    for backfill_id in backfill_ids_in_progress():
        backfill_progress_task.delay(backfill_id)
    daemon_heartbeat_record(daemon_type="BACKFILL", daemon_id=daemon_id(self.request))
