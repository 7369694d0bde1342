"""Reads of code locations and their stored snapshots (the webserver and daemon never ask user code)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.exceptions import NotFound
from workspace.models import CodeLocation, LocationStatus


def location_list() -> QuerySet[CodeLocation]:
    """Every location, by name, without the (large) snapshot column."""
    return CodeLocation.objects.defer("snapshot").order_by("name")


def location_get(*, name: str) -> CodeLocation:
    try:
        return CodeLocation.objects.get(name=name)
    except CodeLocation.DoesNotExist:
        raise NotFound("code location", name) from None


def location_snapshot(*, name: str) -> dict[str, Any] | None:
    """The stored snapshot of a loaded location; None while it loads or when its code is broken."""
    location = location_get(name=name)
    return location.snapshot if location.status == LocationStatus.LOADED else None


def loaded_snapshots() -> dict[str, dict[str, Any]]:
    """Every loaded location's snapshot by location name (one query)."""
    rows = CodeLocation.objects.filter(status=LocationStatus.LOADED).values_list("name", "snapshot")
    return {name: snapshot for name, snapshot in rows if snapshot is not None}
