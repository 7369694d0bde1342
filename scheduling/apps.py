"""Schedules, sensors, ticks and backfills; the only writer of django-celery-beat rows."""

from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
