"""Schedules, sensors, ticks and backfills; the only writer of django-celery-beat rows."""

import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class SchedulingConfig(AppConfig):
    name = "scheduling"

    def ready(self) -> None:
        from workspace.signals import location_stored

        location_stored.connect(_location_stored, dispatch_uid="scheduling.reconcile_on_location_stored")


def _location_stored(sender, location_name: str, **kwargs) -> None:
    """A location's snapshot changed: bring its schedules, sensors and beat rows in step at once.

    The store has committed; a failure here must not undo it or stop the supervisor, and the
    once-a-minute sweep reconciles again anyway.
    """
    from scheduling.services import instigators_reconcile

    try:
        instigators_reconcile(location_name=location_name)
    except Exception:
        logger.exception("reconciling schedules and sensors of code location %r failed", location_name)
