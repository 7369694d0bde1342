"""Celery tasks of the celery executor: one step of a run, on the `steps` queue (thin over `runs.celery_executor`)."""

from typing import Any

from celery import shared_task

from runs.celery_executor import STEP_TASK_NAME
from runs.celery_step import step_execute


@shared_task(name=STEP_TASK_NAME, bind=True, acks_late=True, ignore_result=True)
def execute_step_task(self: Any, run_id: str, step_key: str, attempt: int = 0, known: dict | None = None,
                      options: dict | None = None) -> str:
    return step_execute(run_id=run_id, step_key=step_key, attempt=attempt, known=known, task_id=self.request.id,
                        options=options or {})
