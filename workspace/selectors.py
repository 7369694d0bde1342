"""Reads of code locations and their stored snapshots (the webserver and daemon never ask user code)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from core.exceptions import NotFound
from orchestra._core.snapshot import read
from workspace.models import CodeLocation, LocationStatus


def location_list() -> QuerySet[CodeLocation]:
    """Every location, by name, without the (large) snapshot column."""
    return CodeLocation.objects.defer("snapshot").order_by("name")


def location_get(*, name: str) -> CodeLocation:
    try:
        return CodeLocation.objects.get(name=name)
    except CodeLocation.DoesNotExist:
        raise NotFound("code location", name) from None


def location_get_cached(*, name: str) -> CodeLocation:
    """`location_get` with the snapshot decoded once per process (per snapshot id, shared with
    `loaded_snapshots_cached`): the row is read without its snapshot column, which for a big location is
    megabytes of JSON to decode on every request. Read the snapshot; never modify it."""
    global _SNAPSHOTS
    try:
        location = CodeLocation.objects.defer("snapshot").get(name=name)
    except CodeLocation.DoesNotExist:
        raise NotFound("code location", name) from None
    snapshot = _SNAPSHOTS.get(location.snapshot_id) if location.snapshot_id else None
    if snapshot is None and location.snapshot_id:
        snapshot = CodeLocation.objects.filter(pk=location.pk).values_list("snapshot", flat=True).first()
        if snapshot is not None:  # replaced, never changed in place; the location's older snapshots go
            _SNAPSHOTS = {**{snapshot_id: kept for snapshot_id, kept in _SNAPSHOTS.items()
                             if kept.get("location_name") != snapshot.get("location_name")},
                          location.snapshot_id: snapshot}
    location.snapshot = snapshot
    return location


def location_snapshot(*, name: str) -> dict[str, Any] | None:
    """The stored snapshot of a loaded location; None while it loads or when its code is broken. Decoded once
    per process (`location_get_cached`): read it, never modify it."""
    location = location_get_cached(name=name)
    return location.snapshot if location.status == LocationStatus.LOADED else None


def loaded_snapshots() -> dict[str, dict[str, Any]]:
    """Every loaded location's snapshot by location name (one query)."""
    rows = CodeLocation.objects.filter(status=LocationStatus.LOADED).values_list("name", "snapshot")
    return {name: snapshot for name, snapshot in rows if snapshot is not None}


def location_list_with_snapshots() -> list[CodeLocation]:
    """Every location with its snapshot, by name (one query): what the workspace and repository lists read."""
    return list(CodeLocation.objects.order_by("name"))



def job_snapshot(*, location_name: str, job_name: str, repository_name: str | None = None) -> dict[str, Any]:
    """The snapshot of one job in its whole form (`full_job`). Raises NotFound for an unknown or unloaded
    location, or job."""
    snapshot = location_snapshot(name=location_name)
    if snapshot is None:
        raise NotFound("loaded code location", location_name)
    if repository_name and repository_name != snapshot.get("repository_name", repository_name):
        raise NotFound("repository", f"{repository_name}@{location_name}")
    for job in snapshot.get("jobs") or []:
        if job.get("name") == job_name:
            return full_job(snapshot, job)
    raise NotFound("job", f"{job_name}@{location_name}")


_FULL_JOBS: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
_FULL_JOBS_KEPT = 32
_full_jobs_lock = threading.Lock()


def full_job(snapshot: Mapping[str, Any], job: Mapping[str, Any]) -> dict[str, Any]:
    """`job` (one of `snapshot["jobs"]`) as every reader of a job reads it: its whole op graph (each node
    with its inputs, outputs and types) and `run_config_schema.json_schema`, whichever snapshot version
    stored it (`orchestra._core.snapshot.read.full_job`). Built once per process for each location
    snapshot id and job (the last 32); shared between callers: read it, never modify it."""
    snapshot_id = snapshot.get("snapshot_id")
    if not snapshot_id:
        return read.full_job(snapshot, job)
    key = (str(snapshot_id), str(snapshot.get("location_name") or ""), str(job.get("name")))
    with _full_jobs_lock:
        found = _FULL_JOBS.get(key)
        if found is not None:
            _FULL_JOBS.move_to_end(key)
            return found
    found = read.full_job(snapshot, job)
    with _full_jobs_lock:
        _FULL_JOBS[key] = found
        while len(_FULL_JOBS) > _FULL_JOBS_KEPT:
            _FULL_JOBS.popitem(last=False)
    return found


def cached_job(*, location_name: str, job_name: str) -> dict[str, Any]:
    """`job_snapshot` read from the process's decoded snapshots (`loaded_snapshots_cached`), as pages read a job.
    Raises NotFound for an unknown or unloaded location, or job."""
    snapshot = loaded_snapshots_cached().get(location_name)
    if snapshot is None:
        raise NotFound("loaded code location", location_name)
    for job in snapshot.get("jobs") or []:
        if job["name"] == job_name:
            return full_job(snapshot, job)
    raise NotFound("job", f"{job_name}@{location_name}")


def location_repository_name(*, location_name: str) -> str:
    """The repository a loaded location's snapshot holds (GraphQL selectors name it; one per location)."""
    snapshot = loaded_snapshots_cached().get(location_name) or {}
    return snapshot.get("repository_name") or "__repository__"


def job_instigators(*, location_name: str, job_name: str) -> list[dict[str, Any]]:
    """The schedules and sensors of a loaded location that launch `job_name` (kind, name, cron), read from
    the cached snapshots."""
    snapshot = loaded_snapshots_cached().get(location_name) or {}
    return [{"kind": kind[:-1], "name": item["name"], "cron": item.get("cron_schedule")}
            for kind in ("schedules", "sensors") for item in snapshot.get(kind) or []
            if item.get("job_name") == job_name or job_name in (item.get("target_job_names") or [])]


_SNAPSHOTS: dict[str, dict[str, Any]] = {}  # snapshot id -> decoded snapshot, for loaded_snapshots_cached


def loaded_snapshots_cached() -> dict[str, dict[str, Any]]:
    """`loaded_snapshots`, decoding each snapshot once per process: one query of the locations' snapshot
    ids, and one more only when a location's snapshot changed since the last call. The answer is shared
    between callers: read it, never modify it. (A snapshot is named by the hash of its content.)"""
    global _SNAPSHOTS
    rows = list(CodeLocation.objects.filter(status=LocationStatus.LOADED).exclude(snapshot_id="")
                .order_by("name").values_list("name", "snapshot_id"))
    cache = _SNAPSHOTS  # threads replace the dict, never change it: a reader always sees a whole one
    missing = [snapshot_id for _, snapshot_id in rows if snapshot_id not in cache]
    if missing:
        cache = {snapshot_id: cache[snapshot_id] for _, snapshot_id in rows if snapshot_id in cache}
        for snapshot_id, snapshot in (CodeLocation.objects.filter(snapshot_id__in=missing)
                                      .values_list("snapshot_id", "snapshot")):
            if snapshot is not None:
                cache[snapshot_id] = snapshot
        _SNAPSHOTS = cache
    return {name: cache[snapshot_id] for name, snapshot_id in rows if snapshot_id in cache}
