"""Celery tasks of the launchers app: the run-monitoring daemon duty (thin; safe to run twice)."""

from celery import shared_task

from launchers.beat import MONITORING_TASK
from launchers.monitoring import DAEMON_TYPE, monitoring_policy, run_monitoring_sweep
from runs.services import daemon_heartbeat_record
from runs.tasks import daemon_id


@shared_task(name=MONITORING_TASK, bind=True, ignore_result=True)
def run_monitoring_task(self) -> None:
    """One monitoring sweep and the MONITORING heartbeat; a no-op when `run_monitoring.enabled: false`."""
    policy = monitoring_policy()
    if not policy.enabled:
        return
    result = run_monitoring_sweep(policy=policy)
    daemon_heartbeat_record(
        daemon_type=DAEMON_TYPE,
        daemon_id=daemon_id(self.request),
        info={"checked": result.checked, "failed": len(result.failed), "canceled": len(result.canceled),
              "relaunched": len(result.relaunched)},
        errors=result.errors,
    )
