"""Shared server plumbing: instance configuration checks, domain exceptions, abstract models."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Orchestra core"

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers the system checks)

