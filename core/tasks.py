"""Celery tasks of core: the audit log's retention duty (thin; safe to run twice)."""

from celery import shared_task

from core.services import audit_purge

AUDIT_PURGE_TASK = "core.audit_purge"


@shared_task(name=AUDIT_PURGE_TASK, ignore_result=True)
def audit_purge_task() -> int:
    """Delete audit entries older than `retention.audit.purge_after_days` (none when it is -1)."""
    return audit_purge()
