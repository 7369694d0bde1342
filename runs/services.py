"""State changes of runs: creation, the single event writer (`event_store`) and deletion.

`event_store` is the only code that inserts event rows. It derives the run's status from run events
the way Dagster does (`EVENT_TYPE_TO_PIPELINE_RUN_STATUS`), keeps the asset index current, and closes
a run's event log at its terminal event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from core import faults
from core.audit import DAGSTER_USER_TAG, as_actor, launched_by_tags
from core.exceptions import Conflict, InvalidInput, NotFound
from core.services import audit_record
from runs import submission
from runs.models import (
    FINISHED_STATUSES,
    AssetCheckIndex,
    AssetIndex,
    DaemonHeartbeat,
    DynamicPartition,
    EventLogEntry,
    IdempotencyKey,
    Run,
    RunStatus,
    RunTag,
    new_run_id,
)
from runs.submission import JobNotFound, RunConfigInvalid, SelectionInvalid  # noqa: F401 - the contract's names

# Dagster's event-type -> run-status map (dagster/_core/events EVENT_TYPE_TO_PIPELINE_RUN_STATUS).
RUN_EVENT_STATUS: dict[str, RunStatus] = {
    "RUN_ENQUEUED": RunStatus.QUEUED,
    # Not in Dagster's map (its daemon goes QUEUED -> STARTING in one event); here the dequeue
    # records its claim first and `run_launch` takes the run from NOT_STARTED (runs/queue.py).
    "RUN_DEQUEUED": RunStatus.NOT_STARTED,
    "RUN_STARTING": RunStatus.STARTING,
    "RUN_START": RunStatus.STARTED,
    "RUN_RESUMED": RunStatus.STARTED,
    "RUN_SUSPENDED": RunStatus.SUSPENDED,
    "RUN_SUCCESS": RunStatus.SUCCESS,
    "RUN_FAILURE": RunStatus.FAILURE,
    "RUN_CANCELING": RunStatus.CANCELING,
    "RUN_CANCELED": RunStatus.CANCELED,
}
ASSET_INDEXED_EVENTS = frozenset({"ASSET_MATERIALIZATION", "ASSET_OBSERVATION"})
TAG_KEY_MAX = 255
# Tag values are indexed with their key for the runs-list filter; PostgreSQL caps a btree entry at
# ~2.7 kB, so values are capped at 600 characters (2.4 kB even in 4-byte UTF-8).
TAG_VALUE_MAX = 600


class RunEventLogClosed(Conflict):
    """Events arrived for a run whose event log closed at its terminal event."""

    def __init__(self, run_id: str, status: str, refused: int):
        self.run_id = run_id
        self.refused = refused
        super().__init__(f"run {run_id} is {status}: its event log is closed; refused {refused} event(s)")


@dataclass(frozen=True)
class EventInput:
    """An event to append. `event_type` is a DagsterEventType name, or None for a plain log message."""

    event_type: str | None = None
    message: str = ""
    level: int = logging.INFO
    step_key: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None
    asset_key: str | None = None
    partition: str | None = None


@dataclass(frozen=True)
class StoreResult:
    stored: list[EventLogEntry]
    refused: int
    status: str


def run_create(
    *,
    job_name: str,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    run_id: str | None = None,
    location_name: str = "",
    repository_name: str = "",
    op_selection: Sequence[str] | None = None,
    asset_selection: Sequence[Any] | None = None,
    asset_check_selection: Sequence[Any] | None = None,
    step_keys_to_execute: Sequence[str] | None = None,
    parent_run_id: str | None = None,
    root_run_id: str | None = None,
    snapshot_id: str = "",
    status: str = RunStatus.NOT_STARTED,
    origin: Mapping[str, Any] | None = None,
    actor: Any = None,
) -> Run:
    """Create a run and its tags in one transaction. Raises InvalidInput for a bad job name or tags.

    `origin` tells a run worker where to load the job from (see `Run.origin`).
    """
    if not job_name or not isinstance(job_name, str):
        raise InvalidInput(f"job_name must be a non-empty string, got {job_name!r}")
    clean_tags = _validate_tags(tags or {})
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.create(
            run_id=run_id or new_run_id(),
            job_name=job_name,
            location_name=location_name,
            repository_name=repository_name,
            status=status,
            run_config=dict(run_config or {}),
            op_selection=list(op_selection) if op_selection is not None else None,
            asset_selection=list(asset_selection) if asset_selection is not None else None,
            asset_check_selection=list(asset_check_selection) if asset_check_selection is not None else None,
            step_keys_to_execute=list(step_keys_to_execute) if step_keys_to_execute is not None else None,
            parent_run_id=parent_run_id,
            root_run_id=root_run_id,
            snapshot_id=snapshot_id,
            origin=dict(origin) if origin is not None else None,
            created_at=now,
            updated_at=now,
        )
        RunTag.objects.bulk_create([RunTag(run=run, key=k, value=v) for k, v in clean_tags.items()])
        if IDEMPOTENCY_KEY_TAG in clean_tags:
            _idempotency_key_claim(key=clean_tags[IDEMPOTENCY_KEY_TAG], run=run)
    return run


def run_tags_add(*, run_id: str, tags: Mapping[str, str], actor: Any = None) -> None:
    """Add or overwrite tags on an existing run; audited when an `actor` asked for it (launchers and the
    retry daemon record their own bookkeeping tags without one)."""
    clean = _validate_tags(tags)
    with transaction.atomic():
        run = Run.objects.only("id").filter(run_id=run_id).first()
        if run is None:
            raise NotFound("run", run_id)
        existing = {t.key: t for t in RunTag.objects.filter(run=run, key__in=list(clean))}
        for key, value in clean.items():
            if key in existing:
                existing[key].value = value
        RunTag.objects.bulk_update(list(existing.values()), ["value"])
        RunTag.objects.bulk_create([RunTag(run=run, key=k, value=v) for k, v in clean.items() if k not in existing])
        Run.objects.filter(pk=run.pk).update(updated_at=timezone.now())
        if actor is not None:
            audit_record(actor=actor, action="run.tags_add", target_type="run", target_id=run_id,
                         location_name=Run.objects.filter(pk=run.pk).values_list("location_name", flat=True)[0],
                         details={"tags": clean})


def run_delete(*, run_id: str, actor: Any = None) -> None:
    """Delete a run with its tags and events (raw deletes: a run may hold millions of events)."""
    with transaction.atomic():
        run = (Run.objects.only("id", "run_id", "location_name", "job_name", "status").filter(run_id=run_id).first()
               if _storable_text(run_id) else None)
        if run is None:
            raise NotFound("run", run_id)
        audit_record(actor=actor, action="run.delete", target_type="run", target_id=run_id,
                     location_name=run.location_name, details={"job_name": run.job_name, "status": run.status})
        EventLogEntry.objects.filter(run_id=run_id)._raw_delete(EventLogEntry.objects.db)
        RunTag.objects.filter(run_id=run.pk)._raw_delete(RunTag.objects.db)
        Run.objects.filter(pk=run.pk)._raw_delete(Run.objects.db)


def run_wipe(*, actor: Any = None) -> int:
    """Delete every run with its tags and events, and the asset index built from them (Dagster's
    `instance.wipe()`); answers how many runs were deleted."""
    from runs.models import AssetCheckIndex, AssetIndex

    with transaction.atomic():
        count = Run.objects.count()
        audit_record(actor=actor, action="run.wipe", target_type="instance", target_id="", details={"runs": count})
        for model in (AssetCheckIndex, AssetIndex, EventLogEntry, RunTag, Run):
            model.objects.all()._raw_delete(model.objects.db)
    return count


def event_store(*, run_id: str, events: Iterable[EventInput], strict: bool = True) -> StoreResult:
    """Append `events` to a run's log in one transaction, in order, and apply their consequences.

    Run events move the run's status (and start/end times). Once the run has a terminal status, the
    log is closed: later step events and run-status events are refused — with RunEventLogClosed when
    `strict`, silently counted in the result otherwise. Other events without a step key (engine
    events, log messages) are still accepted after the end, as Dagster writes "process exited" then.
    """
    batch = list(events)
    armed = faults.armed()
    if armed:
        for event in batch:
            faults.fault_point(f"event.before:{event.event_type}")
    with transaction.atomic():
        # The row lock serialises writers of one run, so a straggling step cannot slip an event in
        # between another writer's terminal event and its commit.
        run = Run.objects.select_for_update().only("id", "run_id", "status").filter(run_id=run_id).first()
        if run is None:
            raise NotFound("run", run_id)
        status = run.status
        accepted: list[tuple[Any, ...]] = []
        refused = 0
        updates: dict[str, Any] = {}
        now = timezone.now()
        for event in batch:
            if status in FINISHED_STATUSES and (event.step_key or event.event_type in RUN_EVENT_STATUS):
                refused += 1
                continue
            timestamp = event.timestamp or now
            new_status = RUN_EVENT_STATUS.get(event.event_type or "")
            if new_status is not None:
                status = new_status
                updates["status"] = new_status
                if event.event_type == "RUN_START":
                    updates["started_at"] = timestamp
                elif new_status in FINISHED_STATUSES:
                    updates["ended_at"] = timestamp
            accepted.append(
                (run_id, timestamp, event.event_type, event.step_key, event.level, _storable(event.message),
                 _storable(dict(event.payload)), event.asset_key, event.partition)
            )
        if refused and strict:
            raise RunEventLogClosed(run_id, status, refused)
        stored = _insert_events(accepted)
        if updates:
            updates["updated_at"] = now
            Run.objects.filter(pk=run.pk).update(**updates)
        _index_asset_events(run_id, stored)
        if armed:
            for entry in stored:
                faults.fault_point_on_commit(f"event.after:{entry.event_type}")
    return StoreResult(stored=stored, refused=refused, status=status)


_EVENT_COLUMNS = ("run_id", "timestamp", "event_type", "step_key", "level", "message", "payload", "asset_key", "partition")


def _storable(value: Any) -> Any:
    """`value` with NUL characters and lone surrogates (undecodable bytes) in its strings backslash-escaped.

    No database stores them in text (PostgreSQL refuses NUL, UTF-8 has no lone surrogates), and a log
    line or metadata value holding them must not cost the run its event; every other character is kept.
    """
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\\x00")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def _insert_events(rows: list[tuple[Any, ...]]) -> list[EventLogEntry]:
    """Insert event rows (values in `_EVENT_COLUMNS` order) and answer them as saved models, in order.

    What `bulk_create` does, without building and preparing a model per row first: the event log's
    hot path (a run worker writes every event through here). Values are adapted by the same field
    methods the ORM uses; ids come back through `RETURNING` (PostgreSQL, SQLite >= 3.35), in order.
    """
    if not rows:
        return []
    connection = connections[router.db_for_write(EventLogEntry)]
    meta = EventLogEntry._meta
    fields = [meta.get_field(name) for name in _EVENT_COLUMNS]
    timestamp_field, payload_field = fields[1], fields[6]
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, (connection.features.max_query_params or 10_000) // len(fields))
    per_statement = min(per_statement, 1000)
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list[Any] = []
            for row in chunk:
                values = list(row)
                values[1] = timestamp_field.get_db_prep_save(values[1], connection)
                values[6] = payload_field.get_db_prep_save(values[6], connection)
                params.extend(values)
            sql = head + ", ".join([placeholder] * len(chunk)) + f" RETURNING {quote(meta.pk.column)}"
            cursor.execute(sql, params)
            ids.extend(row_id for (row_id,) in cursor.fetchall())
    stored = []
    for row_id, row in zip(ids, rows, strict=True):
        entry = EventLogEntry(row_id, *row)
        entry._state.adding = False
        entry._state.db = connection.alias
        stored.append(entry)
    return stored


def run_events_delete(*, run_id: str, actor: Any = None) -> None:
    """Delete a run's events, keeping the run (raw delete: a run may hold millions of events)."""
    with transaction.atomic():
        audit_record(actor=actor, action="run.events_delete", target_type="run", target_id=run_id)
        EventLogEntry.objects.filter(run_id=run_id)._raw_delete(EventLogEntry.objects.db)


class RunNotStartable(Conflict):
    """A run worker was started for a run that is finished, canceled, queued or already claimed."""


STARTABLE_STATUSES = frozenset({RunStatus.NOT_STARTED, RunStatus.STARTING})


def run_worker_claim(*, run_id: str, pid: int, hostname: str) -> Run:
    """Claim a run for the run worker process `pid`, or raise RunNotStartable without changing anything.

    A run is startable when NOT_STARTED or STARTING and no worker has claimed it yet, so a second
    worker started for the same run (a redelivered task, a repeated command) refuses instead of
    executing it twice. Records the worker in `launcher`, its first heartbeat, and Dagster's
    "Started process for run (pid: N)." engine event.
    """
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(run_id=run_id).first()
        if run is None:
            raise NotFound("run", run_id)
        if run.status not in STARTABLE_STATUSES:
            raise RunNotStartable(f"run {run_id} is {run.status}; a run worker only starts NOT_STARTED or STARTING runs")
        if run.heartbeat_at is not None:
            worker = run.launcher.get("worker", {})
            raise RunNotStartable(
                f"run {run_id} was already claimed by run worker pid {worker.get('pid')} on {worker.get('hostname')}"
            )
        now = timezone.now()
        run.launcher = {**run.launcher, "worker": {"pid": pid, "hostname": hostname, "started_at": now.isoformat()}}
        run.heartbeat_at = now
        run.save(update_fields=["launcher", "heartbeat_at"])
        event_store(
            run_id=run_id,
            events=[EventInput(event_type="ENGINE_EVENT", message=f"Started process for run (pid: {pid}).",
                               payload={"pid": pid, "metadata": [], "marker_start": None, "marker_end": None})],
        )
    return run


def run_heartbeat(*, run_id: str) -> str | None:
    """Record that the run's worker is alive; answer the run's status (None if it was deleted)."""
    Run.objects.filter(run_id=run_id).update(heartbeat_at=timezone.now())
    return Run.objects.filter(run_id=run_id).values_list("status", flat=True).first()


# --- submitting, launching and terminating runs (DESIGN.md §3) -------------------------------------

logger = logging.getLogger(__name__)
IDEMPOTENCY_KEY_TAG = "orchestra/idempotency_key"
# A key answers the run it created for this long (issue #12); after that the same key creates a new run.
IDEMPOTENCY_KEY_WINDOW = timedelta(hours=24)
CODE_LOCATION_TAG = "dagster/code_location"  # set by Dagster on every run created from a location


class RunNotTerminable(Conflict):
    """The run is finished: there is nothing left to terminate."""


class IdempotencyKeyTaken(Conflict):
    """The idempotency key already answers a run created within the key window."""


def run_submit(
    *,
    job_name: str,
    location_name: str | None = None,
    repository_name: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    op_selection: Sequence[str] | None = None,
    asset_selection: Sequence[str] | None = None,
    asset_check_selection: Sequence[str] | None = None,
    step_keys_to_execute: Sequence[str] | None = None,
    parent_run_id: str | None = None,
    root_run_id: str | None = None,
    actor: Any = None,
) -> Run:
    """Create a run of `job_name` and hand it to the configured run coordinator.

    Everything is checked against the location's stored snapshot before anything is written: the job
    exists (JobNotFound), the run config fits its schema (RunConfigInvalid, every error with its path
    and reason), the selections name real ops, assets, checks and steps (SelectionInvalid). The run
    gets the location's code origin, the job's run tags under the given tags, and Dagster's
    `dagster/code_location` tag. DefaultRunCoordinator launches it at once (-> STARTING);
    QueuedRunCoordinator enqueues it (-> QUEUED) for the daemon. A tag `orchestra/idempotency_key`
    answers the run an earlier submission with the same key created within IDEMPOTENCY_KEY_WINDOW (the
    unique key column of `IdempotencyKey` settles two concurrent submissions); an older run's key
    creates a new run.
    """
    from runs.launching import SubmitRunContext, instance_run_coordinator

    given_tags = dict(tags or {})
    idempotency_key = given_tags.get(IDEMPOTENCY_KEY_TAG)
    if idempotency_key is not None:
        existing = _run_for_idempotency_key(idempotency_key)
        if existing is not None:
            return existing
    target = submission.resolve_target(job_name=job_name, location_name=location_name, repository_name=repository_name)
    job = target.job
    if not any(target.origin.get(key) for key in ("python_file", "module_name", "package_name")):
        raise InvalidInput(
            f"code location {target.location_name!r} has no python_file, module_name or package_name to start a "
            "run worker from (a `code_server` entry served by someone else): give the entry its code pointer"
        )
    op_selection = list(op_selection) if op_selection else None
    if op_selection is not None and (asset_selection is not None or asset_check_selection):
        raise InvalidInput("op_selection cannot be combined with asset_selection or asset_check_selection")
    nodes = submission.resolve_op_selection(job, op_selection) if op_selection is not None else None
    assets = submission.resolve_asset_selection(job, asset_selection) if asset_selection is not None else None
    if assets is not None:
        nodes = submission.asset_selection_nodes(job, assets)
    checks = (
        submission.resolve_check_selection(job, asset_check_selection) if asset_check_selection is not None else None
    )
    steps = submission.check_step_keys(job, step_keys_to_execute) if step_keys_to_execute is not None else None
    config = submission.validate_run_config(job, run_config, nodes)
    job_tags = {str(k): str(v) for k, v in (job.snapshot.get("run_tags") or {}).items()}
    who = as_actor(actor)
    # Who launched the run is the server's word, never the caller's (a re-execution records its own).
    all_tags = {k: v for k, v in {**job_tags, **given_tags}.items() if k != DAGSTER_USER_TAG}
    all_tags.update({**launched_by_tags(who), CODE_LOCATION_TAG: target.location_name})
    coordinator = instance_run_coordinator()
    try:
        with transaction.atomic():
            run = run_create(
                job_name=job.name, run_config=config, tags=all_tags, location_name=target.location_name,
                repository_name=target.repository_name, op_selection=op_selection, asset_selection=assets,
                asset_check_selection=checks, step_keys_to_execute=steps, parent_run_id=parent_run_id,
                root_run_id=root_run_id, snapshot_id=str(job.snapshot.get("snapshot_id") or ""),
                origin=target.origin, actor=who,
            )
            audit_record(actor=who, action="run.launch", target_type="run", target_id=run.run_id,
                         location_name=target.location_name,
                         details={"job_name": job.name, **({"parent_run_id": parent_run_id} if parent_run_id else {})})
            coordinator.submit_run(SubmitRunContext(run=run, actor=who))
    except (IntegrityError, IdempotencyKeyTaken):
        # Another submission with the same idempotency key committed first.
        existing = _run_for_idempotency_key(idempotency_key) if idempotency_key is not None else None
        if existing is None:
            raise
        return existing
    run.refresh_from_db()
    return run


def _run_for_idempotency_key(key: str) -> Run | None:
    cutoff = timezone.now() - IDEMPOTENCY_KEY_WINDOW
    claim = IdempotencyKey.objects.filter(key=key, created_at__gte=cutoff).select_related("run").first()
    return claim.run if claim is not None else None


def _idempotency_key_claim(*, key: str, run: Run) -> None:
    """Point `key` at `run` (inside the run's creating transaction) or raise IdempotencyKeyTaken.

    A key whose run is older than the window moves with a conditional UPDATE: a concurrent submission
    waits on the row lock and then finds the key fresh (PostgreSQL re-checks the condition on the new
    row; SQLite serialises writers), so it inserts, hits the unique key and answers the first run.
    """
    cutoff = timezone.now() - IDEMPOTENCY_KEY_WINDOW
    if IdempotencyKey.objects.filter(key=key, created_at__lt=cutoff).update(run=run, created_at=run.created_at):
        return
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(key=key, run=run, created_at=run.created_at)
    except IntegrityError:
        raise IdempotencyKeyTaken(f"idempotency key {key[:100]!r} answers a run created in the last 24 hours") from None


def run_enqueue(*, run_id: str, actor: Any = None) -> Run:
    """NOT_STARTED -> RUN_ENQUEUED (QUEUED), for the daemon's dequeue; a no-op in any other status."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(run_id=run_id).first()
        if run is None:
            raise NotFound("run", run_id)
        if run.status == RunStatus.NOT_STARTED:
            event_store(run_id=run_id, events=[EventInput(event_type="RUN_ENQUEUED")])
            run.refresh_from_db()
    return run


def run_launch(*, run_id: str, actor: Any = None) -> Run:
    """NOT_STARTED -> RUN_STARTING (STARTING), then the configured launcher starts the run worker.

    A no-op for a run in any other status, so calling it twice launches once (the row lock settles
    concurrent calls). A launcher that raises fails the run at once with the error in an engine
    event (Dagster's "launch_run" does the same), so no run waits in STARTING for a worker that
    will never come. A launcher that cannot be built (orchestra.yaml names a class that does not
    load; the start-up system check refuses that) raises ImproperlyConfigured and changes nothing:
    run monitoring launches the run again once the configuration is fixed.
    """
    from runs.launching import LaunchRunContext, instance_run_launcher

    launcher = instance_run_launcher()  # a launcher that cannot be built raises here, leaving the run NOT_STARTED
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(run_id=run_id).first()
        if run is None:
            raise NotFound("run", run_id)
        if run.status != RunStatus.NOT_STARTED:
            return run
        event_store(run_id=run_id, events=[EventInput(event_type="RUN_STARTING")])
    run.refresh_from_db()
    try:
        launcher.launch_run(LaunchRunContext(run=run, actor=actor))
    except Exception as exc:  # any launcher fault: record it on the run instead of leaving it STARTING
        logger.exception("launching run %s failed", run_id)
        _fail_run(run, f"Launching the run worker failed: {type(exc).__name__}: {exc}", error=_error_of(exc),
                  failure_reason="RUN_EXCEPTION")
    run.refresh_from_db()
    return run


def run_terminate(*, run_id: str, actor: Any = None, force: bool = False) -> Run:
    """Stop a run. QUEUED / NOT_STARTED runs are CANCELED at once (RUN_CANCELING, RUN_CANCELED, as
    Dagster's queued coordinator writes); STARTING / STARTED runs get RUN_CANCELING and the launcher
    stops their worker, which writes RUN_CANCELED (a worker on another host sees CANCELING through
    its heartbeat). `force` (Dagster's MARK_AS_CANCELED_IMMEDIATELY) also writes RUN_CANCELED at once.

    Raises NotFound for an unknown run and RunNotTerminable for a finished one.
    """
    from runs.launching import instance_run_launcher

    with transaction.atomic():
        run = Run.objects.select_for_update().filter(run_id=run_id).first() if _storable_text(run_id) else None
        if run is None:
            raise NotFound("run", run_id)
        if run.status in FINISHED_STATUSES:
            raise RunNotTerminable(f"run {run_id} is {run.status}: a finished run cannot be terminated")
        audit_record(actor=actor, action="run.terminate", target_type="run", target_id=run_id,
                     location_name=run.location_name, details={"status": run.status, "force": force})
        stop_worker = run.status in (RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING,
                                     RunStatus.SUSPENDED, RunStatus.MANAGED)
        events = []
        if run.status != RunStatus.CANCELING:
            events.append(EventInput(event_type="RUN_CANCELING", message="Sending run termination request."))
        if not stop_worker or force:
            message = (
                "This run has been marked as canceled from outside the execution context." if stop_worker
                else "This run was canceled before it started."
            )
            events.append(EventInput(event_type="RUN_CANCELED", level=logging.ERROR, message=message))
        event_store(run_id=run_id, events=events)
    if stop_worker:
        try:
            instance_run_launcher().terminate(run_id)
        except Exception:  # the CANCELING status still reaches the worker through its heartbeat
            logger.exception("the run launcher could not terminate run %s", run_id)
    run.refresh_from_db()
    return run


def run_worker_exited(*, run_id: str, pid: int, hostname: str, returncode: int, output: str = "",
                      actor: Any = None) -> Run | None:
    """A launcher saw the run worker process `pid` exit: finish the run if the worker could not.

    A worker that exits normally has already written the run's terminal event, so nothing changes. A
    worker that died first (a crash, a kill, an interpreter that could not start it) leaves the run
    unfinished: it is then CANCELED if it was CANCELING, else FAILED, with an engine event giving the
    exit code and the end of the process's output. A run claimed by another worker (a redelivered
    task whose worker refused it) is left alone. Answers the run, or None if it was deleted.
    """
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(run_id=run_id).first()
        if run is None or run.status in FINISHED_STATUSES:
            return run
        worker = (run.launcher or {}).get("worker") or {}
        claimed_by_this = worker.get("pid") == pid and worker.get("hostname") == hostname
        if run.heartbeat_at is not None and not claimed_by_this:
            return run
        if run.status in (RunStatus.QUEUED, RunStatus.NOT_STARTED):
            return run
        how = f"killed by signal {-returncode}" if returncode < 0 else f"exited with code {returncode}"
        when = "before it started the run" if run.heartbeat_at is None else "before the run finished"
        message = f"Run worker process (pid: {pid}) on {hostname} {how} {when}."
        tail = output.strip()[-4000:]
        payload: dict[str, Any] = {"pid": pid, "metadata": [], "marker_start": None, "marker_end": None}
        if tail:
            payload["metadata"] = [{"label": "output", "type": "text", "data": tail}]
        events = [EventInput(event_type="ENGINE_EVENT", level=logging.ERROR, message=message, payload=payload)]
        if run.status == RunStatus.CANCELING:
            events.append(EventInput(event_type="RUN_CANCELED", level=logging.ERROR,
                                     message=f'Execution of run for "{run.job_name}" canceled.'))
        else:
            error = {"message": message + (f"\n{tail}" if tail else ""), "stack": [], "cls_name": None,
                     "cause": None, "context": None}
            events.append(EventInput(event_type="RUN_FAILURE", level=logging.ERROR, message=message,
                                     payload={"error": error, "failure_reason": "UNEXPECTED_TERMINATION"}))
        event_store(run_id=run_id, events=events, strict=False)
    run.refresh_from_db()
    return run


def run_launcher_record(*, run_id: str, info: Mapping[str, Any], actor: Any = None) -> None:
    """Merge what a launcher knows about the run worker it started (pid, host, task id) into `Run.launcher`."""
    with transaction.atomic():
        run = Run.objects.select_for_update().only("id", "launcher").filter(run_id=run_id).first()
        if run is None:
            raise NotFound("run", run_id)
        run.launcher = {**(run.launcher or {}), **dict(info)}
        run.save(update_fields=["launcher"])


def _fail_run(run: Run, message: str, *, error: Any, failure_reason: str) -> None:
    payload = {"metadata": [], "error": error, "marker_start": None, "marker_end": None}
    event_store(run_id=run.run_id, strict=False, events=[
        EventInput(event_type="ENGINE_EVENT", level=logging.ERROR, message=message, payload=payload),
        EventInput(event_type="RUN_FAILURE", level=logging.ERROR,
                   message=f'Execution of run for "{run.job_name}" failed. {message}',
                   payload={"error": error, "failure_reason": failure_reason}),
    ])


def _error_of(exc: BaseException) -> Any:
    from orchestra._core.event_data import SerializableErrorInfo
    from runs.event_payloads import json_value

    return json_value(SerializableErrorInfo.from_exception(exc))


PARTITION_KEY_MAX = 255


def dynamic_partitions_add(*, partitions_def_name: str, partition_keys: Sequence[str], actor: Any = None) -> None:
    """Add keys to a dynamic partitions definition, in order; keys already there keep their place."""
    keys = list(dict.fromkeys(partition_keys))
    for key in [partitions_def_name, *keys]:
        if not isinstance(key, str) or not key or len(key) > PARTITION_KEY_MAX:
            raise InvalidInput(f"partition names and keys must be non-empty strings of at most {PARTITION_KEY_MAX} characters, got {key!r}")
    with transaction.atomic():
        DynamicPartition.objects.bulk_create(
            [DynamicPartition(partitions_def_name=partitions_def_name, partition_key=key) for key in keys],
            ignore_conflicts=True,
        )
        audit_record(actor=actor, action="dynamic_partitions.add", target_type="partitions_def",
                     target_id=partitions_def_name, details={"partition_keys": keys[:100], "count": len(keys)})


def dynamic_partition_delete(*, partitions_def_name: str, partition_key: str, actor: Any = None) -> None:
    with transaction.atomic():
        DynamicPartition.objects.filter(partitions_def_name=partitions_def_name, partition_key=partition_key).delete()
        audit_record(actor=actor, action="dynamic_partitions.delete", target_type="partitions_def",
                     target_id=partitions_def_name, details={"partition_key": partition_key})


def daemon_heartbeat_record(
    *, daemon_type: str, daemon_id: str, info: Mapping[str, Any] | None = None, errors: Sequence[str] = ()
) -> DaemonHeartbeat:
    """Record that a daemon duty is alive (one row per duty and daemon process, overwritten)."""
    heartbeat, _ = DaemonHeartbeat.objects.update_or_create(
        daemon_type=daemon_type,
        daemon_id=daemon_id,
        defaults={"timestamp": timezone.now(), "info": dict(info or {}), "errors": list(errors)},
    )
    return heartbeat


def _index_asset_events(run_id: str, stored: Sequence[EventLogEntry]) -> None:
    """Point the asset index at the newest asset events of this batch.

    Relies on bulk_create returning primary keys (SQLite >= 3.35 and PostgreSQL both do).
    """
    latest: dict[tuple[str, str], dict[str, EventLogEntry]] = {}
    checks: dict[tuple[str, str, str], EventLogEntry] = {}
    for row in stored:
        if row.asset_key is None:
            continue
        partition = row.partition or ""
        if row.event_type in ASSET_INDEXED_EVENTS:
            latest.setdefault((row.asset_key, partition), {})[row.event_type] = row
        elif row.event_type == "ASSET_CHECK_EVALUATION":
            check_name = str(row.payload.get("check_name", ""))
            checks[(row.asset_key, check_name, partition)] = row
    now = timezone.now()
    for (asset_key, partition), by_type in latest.items():
        defaults: dict[str, Any] = {"last_run_id": run_id, "updated_at": now}
        if "ASSET_MATERIALIZATION" in by_type:
            defaults["last_materialization"] = by_type["ASSET_MATERIALIZATION"]
        if "ASSET_OBSERVATION" in by_type:
            defaults["last_observation"] = by_type["ASSET_OBSERVATION"]
        AssetIndex.objects.update_or_create(asset_key=asset_key, partition=partition, defaults=defaults)
    for (asset_key, check_name, partition), row in checks.items():
        AssetCheckIndex.objects.update_or_create(
            asset_key=asset_key,
            check_name=check_name,
            partition=partition,
            defaults={
                "last_evaluation": row,
                "passed": bool(row.payload.get("passed")),
                "severity": str(row.payload.get("severity", "")),
                "last_run_id": run_id,
                "updated_at": now,
            },
        )


def _storable_text(text: str) -> bool:
    """False for text no database column stores as given: NUL (PostgreSQL) or a lone surrogate (UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _validate_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        raise InvalidInput(f"tags must be a mapping of strings to strings, got {type(tags).__name__}")
    clean = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key or len(key) > TAG_KEY_MAX:
            raise InvalidInput(f"tag key {key!r} must be a non-empty string of at most {TAG_KEY_MAX} characters")
        if not isinstance(value, str):
            raise InvalidInput(f"tag {key!r} must have a string value, got {type(value).__name__}")
        if not _storable_text(key) or not _storable_text(value):
            raise InvalidInput(f"tag {key[:100]!r}: tag keys and values cannot hold NUL characters or lone surrogates")
        if len(value) > TAG_VALUE_MAX:
            raise InvalidInput(f"tag {key!r} has a value of {len(value)} characters; at most {TAG_VALUE_MAX} are allowed")
        clean[key] = value
    return clean
