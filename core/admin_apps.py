"""django.contrib.admin with Orchestra's site, named in the web settings' INSTALLED_APPS. Kept out of
core/apps.py so the run worker's settings (no admin) never import django.contrib.admin."""

from django.contrib.admin import apps as admin_apps


class OrchestraAdminConfig(admin_apps.AdminConfig):
    """Only the admin role may enter (see core.admin_site)."""

    default_site = "core.admin_site.OrchestraAdminSite"
