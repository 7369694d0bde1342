"""Shared server plumbing: instance configuration checks, domain exceptions, abstract models."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Orchestra core"

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers the system checks)


class OrchestraAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Orchestra's site: only the admin role may enter (see core.admin_site)."""

    default = False  # named in INSTALLED_APPS; `core` itself is CoreConfig
    default_site = "core.admin_site.OrchestraAdminSite"
