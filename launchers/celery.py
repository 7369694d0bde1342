"""CeleryRunLauncher: each run worker is started by a task on the `runs` queue, on any worker machine.

The equivalent of `dagster_celery.CeleryRunLauncher`. The task is thin: it starts the run worker
(`orchestra api execute-run RUN_ID`) as a child process and waits for it. It is acknowledged late
(and the workers prefetch one message), so a Celery worker that dies mid-run gets its message
redelivered; the second run worker then refuses the run, which the first one already claimed, and
nothing runs twice. Termination revokes a task that has not started and relies on the run's
CANCELING status, which the run worker's heartbeat turns into SIGTERM wherever it runs.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from celery import current_app, shared_task

from launchers.subprocess import (
    local_worker_health,
    start_run_worker,
    terminate_local_worker,
    wait_for_run_worker,
)
from runs.launching import CheckRunHealthResult, LaunchRunContext, RunLauncher, WorkerStatus
from runs.models import FINISHED_STATUSES, Run
from runs.selectors import run_tags
from runs.services import run_launcher_record, run_tags_add

logger = logging.getLogger(__name__)

RUNS_QUEUE = "runs"
EXECUTE_RUN_TASK = "launchers.execute_run"
TASK_ID_TAG = "dagster-celery/task_id"
QUEUE_TAG = "dagster-celery/queue"
PRIORITY_TAG = "dagster-celery/run_priority"
# Dagster's CeleryRunLauncher keys that name its own Celery app; Orchestra uses the instance's broker.
_DAGSTER_APP_KEYS = ("broker", "backend", "include", "config_source")


@shared_task(name=EXECUTE_RUN_TASK, acks_late=True, ignore_result=True)
def execute_run_task(run_id: str) -> None:
    """Run the run worker for `run_id` as a child process and wait for it (safe to deliver twice)."""
    run = Run.objects.filter(run_id=run_id).first()
    if run is None:
        logger.warning("run %s no longer exists; nothing to execute", run_id)
        return
    if run.status in FINISHED_STATUSES or run.heartbeat_at is not None:
        # A redelivered message whose run went on without it (the run worker would refuse it too).
        logger.info("run %s is %s and already claimed by a run worker; not starting another", run_id, run.status)
        return
    process, output_path = start_run_worker(run, new_session=False)
    run_launcher_record(run_id=run_id, info={"pid": process.pid, "hostname": socket.gethostname()})
    wait_for_run_worker(process, run_id, socket.gethostname(), output_path)


class CeleryRunLauncher(RunLauncher):
    """Sends each run to the `runs` queue (or `default_queue`, or the run's `dagster-celery/queue` tag)."""

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[str]:
        problems = []
        for key, value in config.items():
            if key == "default_queue":
                if not isinstance(value, str) or not value:
                    problems.append(f"default_queue must be a queue name, got {value!r}")
            elif key not in _DAGSTER_APP_KEYS:
                problems.append(f"unexpected key {key!r}; the Celery run launcher takes 'default_queue'")
        return problems

    def __init__(self, config: dict[str, Any] | None = None):
        super().__init__(config)
        ignored = [key for key in _DAGSTER_APP_KEYS if key in self.config]
        if ignored:
            logger.info("CeleryRunLauncher ignores %s: runs go through the instance's broker", ignored)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.run
        tags = run_tags(run) if hasattr(run, "_prefetched_objects_cache") else dict(run.tags.values_list("key", "value"))
        queue = tags.get(QUEUE_TAG) or self.config.get("default_queue") or RUNS_QUEUE
        try:
            priority = int(tags.get(PRIORITY_TAG) or 0)
        except ValueError:
            priority = 0
        result = current_app.send_task(EXECUTE_RUN_TASK, args=[run.run_id], queue=queue, priority=priority)
        run_launcher_record(run_id=run.run_id, info={
            "class": f"{type(self).__module__}.{type(self).__qualname__}", "celery_task_id": result.id, "queue": queue,
        })
        run_tags_add(run_id=run.run_id, tags={TASK_ID_TAG: result.id})

    def terminate(self, run_id: str) -> bool:
        run = Run.objects.filter(run_id=run_id).only("run_id", "launcher").first()
        if run is None:
            return False
        task_id = (run.launcher or {}).get("celery_task_id")
        revoked = False
        if task_id and not (run.launcher or {}).get("worker"):
            # Not claimed yet: a worker that has not started the task drops it. Workers that are
            # offline now never hear of it; their run worker refuses the CANCELING run instead.
            try:
                current_app.control.revoke(task_id)
                revoked = True
            except Exception:
                logger.warning("could not revoke Celery task %s of run %s", task_id, run_id, exc_info=True)
        return terminate_local_worker(run_id) or revoked

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: Run) -> CheckRunHealthResult:
        if not (run.launcher or {}).get("worker") and not (run.launcher or {}).get("pid"):
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "the run's Celery task has not started a run worker yet",
                                        transient=True)
        return local_worker_health(run)
