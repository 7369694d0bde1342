"""Run launcher implementations (subprocess, Celery) and run monitoring."""

from django.apps import AppConfig


class LaunchersConfig(AppConfig):
    name = "launchers"
