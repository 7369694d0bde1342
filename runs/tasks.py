"""Celery tasks of the runs app: thin, id-taking, safe to run twice."""

from celery import shared_task

from runs.services import daemon_heartbeat_record


@shared_task(name="runs.daemon_heartbeat")
def daemon_heartbeat_task(daemon_type: str, daemon_id: str) -> None:
    daemon_heartbeat_record(daemon_type=daemon_type, daemon_id=daemon_id)
