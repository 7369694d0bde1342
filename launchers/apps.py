"""Run launcher implementations (subprocess, Celery) and run monitoring."""

from django.apps import AppConfig


class LaunchersConfig(AppConfig):
    name = "launchers"

    def ready(self) -> None:
        # The Celery run launcher's task lives beside its launcher (launchers/celery.py), not in a
        # tasks.py that autodiscovery would find: import it so every worker registers it.
        from launchers import celery  # noqa: F401
