"""Celery tasks of the runs app: thin, id-taking, safe to run twice."""

import os
import socket

from celery import shared_task

from runs import retries
from runs.queue import DAEMON_TYPE, DEQUEUE_TASK, run_queue_config, run_queue_dequeue_detailed
from runs.services import daemon_heartbeat_record


@shared_task(name="runs.daemon_heartbeat")
def daemon_heartbeat_task(daemon_type: str, daemon_id: str) -> None:
    daemon_heartbeat_record(daemon_type=daemon_type, daemon_id=daemon_id)


@shared_task(name=DEQUEUE_TASK, bind=True, ignore_result=True)
def run_queue_dequeue_task(self) -> None:
    """The run queue's daemon duty (beat, and nudges on submit); a no-op without a queued coordinator."""
    if run_queue_config() is None:
        return
    result = run_queue_dequeue_detailed()
    daemon_heartbeat_record(
        daemon_type=DAEMON_TYPE,
        daemon_id=daemon_id(self.request),
        info={"dequeued": len(result.dequeued), "launched": len(result.launched)},
        errors=result.errors,
    )


@shared_task(name=retries.RETRIES_TASK, bind=True, ignore_result=True)
def run_retries_task(self) -> None:
    """Run retries' daemon duty (Dagster's EVENT_LOG_CONSUMER); a no-op unless `run_retries` is enabled."""
    if retries.run_retries_config() is None:
        return
    result = retries.run_retries_consume()
    daemon_heartbeat_record(
        daemon_type=retries.DAEMON_TYPE,
        daemon_id=daemon_id(self.request),
        info={"retried": len(result.retried), "cursor": result.cursor},
        errors=result.errors,
    )


def daemon_id(request) -> str:
    """The Celery worker's node name (one heartbeat row per daemon worker), else host:pid."""
    return getattr(request, "hostname", None) or f"{socket.gethostname()}:{os.getpid()}"
