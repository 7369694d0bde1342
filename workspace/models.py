"""Code locations with their stored snapshot (or last load error)."""

from django.db import models
from django.utils import timezone


class LocationStatus(models.TextChoices):
    LOADING = "LOADING"
    LOADED = "LOADED"
    ERROR = "ERROR"


class CodeLocation(models.Model):
    """One entry of the workspace. The webserver and daemon read its snapshot, never user code."""

    name = models.CharField(max_length=255, unique=True)
    origin = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=LocationStatus.choices, default=LocationStatus.LOADING)
    snapshot = models.JSONField(null=True, blank=True)
    snapshot_id = models.CharField(max_length=64, blank=True, default="")
    load_error = models.JSONField(null=True, blank=True)
    server = models.JSONField(default=dict, blank=True)  # host, port, pid, version of its code server
    updated_at = models.DateTimeField(default=timezone.now)
    # Set by a reload asked for anywhere; every supervisor running the location restarts its server
    # when this is newer than that server's start, so N webservers and the daemon all pick it up.
    reload_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
