"""Every change to code locations: applying the workspace, storing a location's snapshot or load error, reload.

A location's snapshot is fetched from its code server before the write (no network call inside a
transaction); the write itself is one atomic update, so readers see the old snapshot or the new one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connections, transaction
from django.db.models import JSONField, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from core.exceptions import Conflict, NotFound
from core.services import audit_record
from workspace.client import CodeServerClient, CodeServerError, SnapshotDocument
from workspace.conf import code_servers
from workspace.config import LocationEntry
from workspace.models import CodeLocation, LocationStatus
from workspace.signals import location_stored
from workspace.supervisor import CodeServerStartError, Supervisor


@transaction.atomic
def workspace_apply(*, entries: Iterable[LocationEntry], actor: Any = None) -> list[CodeLocation]:
    """Make the stored locations match the workspace: add new entries (LOADING), update changed origins,
    remove locations no longer in it. Returns the workspace's locations in order.
    """
    entries = list(entries)
    names = [entry.name for entry in entries]
    CodeLocation.objects.exclude(name__in=names).delete()
    existing = {loc.name: loc for loc in CodeLocation.objects.select_for_update().filter(name__in=names)}
    locations = []
    for entry in entries:
        location = existing.get(entry.name)
        origin = entry.origin()
        if location is None:
            location = CodeLocation.objects.create(name=entry.name, origin=origin, status=LocationStatus.LOADING)
        elif location.origin != origin:
            location.origin = origin
            location.status = LocationStatus.LOADING
            location.updated_at = timezone.now()
            location.save(update_fields=["origin", "status", "updated_at"])
        locations.append(location)
    return locations


def location_load(*, entry: LocationEntry, client: CodeServerClient | None = None,
                  server: dict[str, Any] | None = None, start_error: CodeServerStartError | None = None,
                  actor: Any = None) -> CodeLocation:
    """Ask the location's code server for its snapshot and store it, or store why there is none.

    `client` defaults to the entry's own address (for `code_server` entries). A server that failed to
    start (`start_error`), did not answer, or answered with a load error leaves the location in ERROR
    with that error as data; the other locations are untouched.
    """
    if start_error is not None:
        return _store(entry=entry, snapshot=None, load_error=_error("CodeServerStartError", str(start_error)),
                      server=server or {})
    if client is None:
        if entry.host is None or entry.port is None:
            raise Conflict(f"location {entry.name!r} has no code server address; start it first")
        client = CodeServerClient(entry.host, entry.port)
    server_info = {"host": client.host, "port": client.port, **(server or {})}
    if not entry.is_local:  # a server run elsewhere: learn where its code is, for run workers
        try:
            server_info["code_pointer"] = client.health().get("code_pointer")
        except CodeServerError as exc:
            return _store(entry=entry, snapshot=None, load_error=_error(type(exc).__name__, str(exc)),
                          server=server_info)
    try:
        document = client.snapshot_document()
    except CodeServerError as exc:
        return _store(entry=entry, snapshot=None, load_error=_error(type(exc).__name__, str(exc)), server=server_info)
    if document is not None:
        server_info.update(server_id=document.server_id, version=document.version, api_version=document.api_version)
        return _store(entry=entry, snapshot=document, load_error=None, server=server_info)
    try:  # no document: the location's load error (or a server without /snapshot.json)
        answer = client.snapshot()
    except CodeServerError as exc:
        return _store(entry=entry, snapshot=None, load_error=_error(type(exc).__name__, str(exc)), server=server_info)
    server_info.update(server_id=answer.get("server_id"), version=answer.get("version"),
                       api_version=answer.get("api_version"))
    if answer.get("error") is not None or answer.get("snapshot") is None:
        error = answer.get("error") or _error("CodeServerError", "the code server answered without a snapshot")
        return _store(entry=entry, snapshot=None, load_error=error, server=server_info)
    return _store(entry=entry, snapshot=answer["snapshot"], load_error=None, server=server_info)


def location_load_from_server(*, entry: LocationEntry, supervisor: Supervisor,
                              actor: Any = None) -> CodeLocation:
    """Store the snapshot of a location whose code server `supervisor` runs (after a start or restart)."""
    managed = supervisor.servers[entry.name]
    info = {k: managed.info.get(k) for k in ("pid", "executable")} | {"restarts": managed.restarts}
    return location_load(entry=entry, client=managed.client(), server=info, actor=actor)


def workspace_start(*, entries: Iterable[LocationEntry], startup_timeout: float | None = None,
                    evaluation_timeout: float = 60.0, actor: Any = None) -> Supervisor:
    """Apply the workspace, start a supervised code server per local entry and store every location's
    snapshot (or load error). Returns the running supervisor; it stores the snapshot again after each
    restart. Stop it with `supervisor.stop()`.
    """
    entries = list(entries)
    workspace_apply(entries=entries, actor=actor)
    by_name = {entry.name: entry for entry in entries}
    supervisor = Supervisor(
        entries,
        startup_timeout=code_servers().local_startup_timeout if startup_timeout is None else startup_timeout,
        evaluation_timeout=evaluation_timeout,
        on_start=_closing_connections(
            lambda managed: location_load_from_server(entry=by_name[managed.name], supervisor=supervisor)
        ),
        on_failure=_closing_connections(
            lambda managed, error: location_load(entry=by_name[managed.name], start_error=error,
                                                 server={"restarts": managed.restarts})
        ),
        on_tick=_closing_connections(serve_reload_requests),
    )
    supervisor.start()
    for entry in entries:
        if not entry.is_local:
            location_load(entry=entry, actor=actor)
    return supervisor


def _closing_connections(callback: Callable[..., Any]) -> Callable[..., None]:
    """The supervisor calls back from its own threads; each closes the database connection it opened,
    or they pile up (and PostgreSQL refuses to drop a database still in use)."""

    def run(*args: Any) -> None:
        try:
            callback(*args)
        finally:
            if threading.current_thread() is not threading.main_thread():
                connections.close_all()

    return run


def location_reload(*, name: str, supervisor: Supervisor | None = None, actor: Any = None) -> CodeLocation:
    """Reload one location without touching the others.

    A local location's code server is restarted, so a fresh process imports the code again: at once
    when `supervisor` (running in this process) runs it; otherwise the reload is recorded on the row
    (`reload_requested_at`) and every supervisor serving the location restarts its server within a
    second or so, storing the new snapshot. A `code_server` location, run by someone else, is asked
    for its snapshot again. Raises NotFound for an unknown name.
    """
    try:
        location = CodeLocation.objects.get(name=name)
    except CodeLocation.DoesNotExist:
        raise NotFound("code location", name) from None
    entry = LocationEntry.from_origin(location.origin)
    if not entry.is_local:
        audit_record(actor=actor, action="location.reload", target_type="location", target_id=name, location_name=name)
        return location_load(entry=entry, actor=actor)
    _request_reload(name=name, actor=actor)
    if supervisor is None or name not in supervisor.servers:
        return CodeLocation.objects.get(name=name)
    managed = supervisor.servers[name]
    error = supervisor.restart(name, timeout=code_servers().reload_timeout)
    if supervisor.on_start is not None and supervisor.on_failure is not None:
        return CodeLocation.objects.get(name=name)  # the supervisor's callbacks stored the outcome
    if error is not None:
        return location_load(entry=entry, start_error=error, server={"restarts": managed.restarts}, actor=actor)
    return location_load_from_server(entry=entry, supervisor=supervisor, actor=actor)


def serve_reload_requests(supervisor: Supervisor) -> list[str]:
    """Restart every server of `supervisor` whose location was asked to reload after the server started
    (the supervisor's periodic duty). Returns the names restarted."""
    requested = CodeLocation.objects.filter(name__in=list(supervisor.servers), reload_requested_at__isnull=False)
    restarted = []
    for name, requested_at in requested.values_list("name", "reload_requested_at"):
        managed = supervisor.servers[name]
        if managed.started_at is None or requested_at.timestamp() > managed.started_at:
            supervisor.restart(name, timeout=code_servers().reload_timeout)
            restarted.append(name)
    return restarted


@transaction.atomic
def _request_reload(*, name: str, actor: Any = None) -> None:
    now = timezone.now()
    CodeLocation.objects.filter(name=name).update(status=LocationStatus.LOADING, reload_requested_at=now, updated_at=now)
    audit_record(actor=actor, action="location.reload", target_type="location", target_id=name, location_name=name)


@transaction.atomic
def _store(*, entry: LocationEntry, snapshot: dict[str, Any] | SnapshotDocument | None,
           load_error: dict[str, Any] | None, server: dict[str, Any]) -> CodeLocation:
    # The old snapshot is replaced, never read: loading it would decode megabytes of JSON for nothing.
    location, _ = CodeLocation.objects.select_for_update().defer("snapshot").get_or_create(name=entry.name, defaults={
        "origin": entry.origin()})
    # A `code_server` entry names only an address; the code pointer its server reports (file or
    # module, working directory, interpreter) completes the origin run workers load the job from.
    location.origin = {**(server.get("code_pointer") or {}), **entry.origin()}
    location.server = {k: v for k, v in server.items() if v is not None and k != "code_pointer"}
    location.updated_at = timezone.now()
    if load_error is None:
        assert snapshot is not None
        location.status = LocationStatus.LOADED
        if isinstance(snapshot, SnapshotDocument):  # stored as the server encoded it, never decoded here
            location.snapshot = Cast(Value(snapshot.text, output_field=TextField()), output_field=JSONField())
            location.snapshot_id = snapshot.snapshot_id
        else:
            location.snapshot = snapshot
            location.snapshot_id = str(snapshot.get("snapshot_id", ""))
        location.load_error = None
    else:
        # The last good snapshot is dropped with the error: readers must not run against code that
        # no longer loads (Dagster shows a failed location without its old definitions too).
        location.status = LocationStatus.ERROR
        location.snapshot = None
        location.snapshot_id = ""
        location.load_error = load_error
    location.save()
    if isinstance(snapshot, SnapshotDocument):
        del location.snapshot  # deferred: read back from the database if asked for
    transaction.on_commit(lambda: location_stored.send(sender=CodeLocation, location_name=location.name))
    return location


def _error(cls_name: str, message: str) -> dict[str, Any]:
    return {"cls_name": cls_name, "message": message, "stack": [], "cause": None}
