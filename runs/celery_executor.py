"""The Celery executor: each step is a Celery task on the `steps` queue, run by any worker machine.

Run worker side (`CeleryExecutor`): it keeps the `ActiveExecution`, sends each ready step as the task
`runs.execute_step` (run id, step key, attempt, what upstream steps produced) and learns each step's
outcome from the event log, which is the source of truth: step tasks write their events straight
through `event_store`, and the executor reads back the ones that drive the plan (outputs, success,
failure, retry), feeds them to the `ActiveExecution` and yields them marked as already stored.

Step worker side (`runs/celery_step.py`, called by the task in `runs/step_tasks.py`): loads the job
from the run's code origin (cached per process), runs the one step with the storage-backed instance, and
reports its liveness to a Celery result backend (a heartbeat in the task's state). A step task whose
heartbeat stops (its worker was killed) is failed by the run worker after `lost_after` seconds with
the reason, and so is one that no worker takes (nobody consumes its queue) after `queued_timeout`
seconds; a canceled or finished run stops its step tasks (a revoke with SIGTERM, and the task's own
watch of the run status in case the revoke is lost).

Outputs pass between steps through the job's IO managers: the default `fs_io_manager` writes under
`$ORCHESTRA_HOME/storage`, so step workers on other machines need that directory on a shared
filesystem (or the job needs an IO manager on shared storage such as S3), as with Dagster. With the
embedded broker the task states live in a folder beside the broker's, so they need it too.

Step workers are `celery -A orchestra_site worker -Q steps` with the default prefork pool: a revoke
then signals only the pool process running the step, and a warm shutdown lets steps finish (under
`-P solo` the task's SIGTERM handler would turn a worker shutdown into an interrupted step). There is no
`max_concurrent`: as in Dagster, the workers' concurrency and queues (`dagster-celery/queue` op tag,
default `steps`; `dagster-celery/priority`) bound what runs at once.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from orchestra._core.active import ActiveExecution
from orchestra._core.events import (
    DagsterEvent,
    EngineEventData,
    ErrorSource,
    SerializableErrorInfo,
    StepFailureData,
)
from orchestra._core.execute import Executor, RunContext
from orchestra._core.plan import ExecutionPlan
from orchestra._core.step import KnownState, format_duration
from orchestra._errors import DagsterExecutionInterruptedError

STEP_TASK_NAME = "runs.execute_step"
STEPS_QUEUE = "steps"
QUEUE_TAG, PRIORITY_TAG = "dagster-celery/queue", "dagster-celery/priority"
HEARTBEAT_SECONDS = 2.0  # ORCHESTRA_CELERY_STEP_HEARTBEAT_SECONDS overrides it
LOST_AFTER_SECONDS = 60.0  # ORCHESTRA_CELERY_STEP_LOST_SECONDS overrides it
# How long a step task may wait for a worker to take it (no worker on its queue waits no longer than this);
# ORCHESTRA_CELERY_STEP_QUEUED_SECONDS overrides it. Generous: a busy queue legitimately makes tasks wait.
QUEUED_TIMEOUT_SECONDS = 1800.0
STOP_GRACE_SECONDS = 10.0
_POLL_MIN, _POLL_MAX = 0.005, 0.05
# The events that move the plan on; the rest of a step's events stay in the log only.
_OUTCOMES = ("STEP_OUTPUT", "STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY")
_STEP_ENDS = frozenset({"STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY", "STEP_SKIPPED"})


class StoredEvent(DagsterEvent):
    """An event read back from the event log: yielded for the run worker's bookkeeping, never rewritten."""

    __slots__ = ("storage_id",)

    @classmethod
    def of(cls, event: DagsterEvent, storage_id: int) -> StoredEvent:
        stored = cls(event.event_type_value, event.job_name, event.step_key, event.node_handle, event.step_kind_value,
                     event.logging_tags, event.event_specific_data, event.message, event.pid)
        stored.storage_id = storage_id
        return stored


# --- task state: the step task's liveness, in a Celery result backend --------------------------------


class TaskState:
    """Heartbeats of step tasks in a Celery result backend (`redis://…`, `file://…`, any Celery backend URL)."""

    def __init__(self, url: str):
        from celery import current_app
        from celery.app.backends import by_url

        if url.startswith("file://"):
            os.makedirs(url[len("file://"):], exist_ok=True)
        backend_cls, backend_url = by_url(url, current_app.loader)
        self.url = url
        self.backend = backend_cls(app=current_app, url=backend_url)

    @classmethod
    def for_url(cls, url: str) -> TaskState:
        """One per URL and process (a backend holds a connection pool)."""
        state = _STATES.get(url)
        if state is None:
            state = _STATES[url] = cls(url)
        return state

    @classmethod
    def default_url(cls) -> str:
        """The instance's broker when it is Redis; beside the embedded broker's folders otherwise."""
        from django.conf import settings

        broker = settings.CELERY_BROKER_URL
        if broker.startswith(("redis://", "rediss://")):
            return broker
        folder = os.path.dirname(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return "file://" + os.path.join(folder, "results")

    def report(self, task_id: str, state: str, **meta: Any) -> None:
        self.backend.store_result(task_id, meta, state)

    def forget(self, task_id: str) -> None:
        with contextlib.suppress(Exception):
            self.backend.forget(task_id)

    def read(self, task_id: str) -> tuple[str, dict[str, Any]]:
        """(state, meta): PENDING and {} for a task that has not reported yet (or a partial read)."""
        try:
            meta = self.backend.get_task_meta(task_id)
        except Exception:  # a file being rewritten, a connection blip: ask again next time
            return "PENDING", {}
        result = meta.get("result")
        return meta.get("status") or "PENDING", result if isinstance(result, dict) else {}


_STATES: dict[str, TaskState] = {}


# --- the run worker's side ------------------------------------------------------------------------


@dataclass
class _InFlight:
    step: Any
    task_id: str
    attempt: int
    submitted: float
    beat: Any = None  # the last heartbeat value seen
    beat_seen: float = 0.0  # when (monotonic, this machine) it last changed
    ended_seen: bool = False  # the task reported it has finished
    host: dict[str, Any] = field(default_factory=dict)


class CeleryExecutor(Executor):
    """Sends each step to the `steps` queue as a Celery task; the event log tells it how the step went."""

    def __init__(self, *, retries_enabled: bool = True, broker: str | None = None, backend: str | None = None,
                 config_source: dict[str, Any] | None = None, include: list[str] | None = None,
                 heartbeat: float | None = None, lost_after: float | None = None,
                 queued_timeout: float | None = None):
        self._retries_enabled = retries_enabled
        self.broker = broker
        self.backend = None if backend in (None, "rpc://") else backend  # rpc:// cannot be read by another process
        self.config_source = dict(config_source or {})
        self.include = list(include or [])  # workers load the job from the run's origin; kept for Dagster's shape
        self.heartbeat = heartbeat or float(os.environ.get("ORCHESTRA_CELERY_STEP_HEARTBEAT_SECONDS") or HEARTBEAT_SECONDS)
        self.lost_after = lost_after or float(os.environ.get("ORCHESTRA_CELERY_STEP_LOST_SECONDS") or LOST_AFTER_SECONDS)
        self.queued_timeout = queued_timeout or float(
            os.environ.get("ORCHESTRA_CELERY_STEP_QUEUED_SECONDS") or QUEUED_TIMEOUT_SECONDS)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CeleryExecutor:
        """Build from the `celery` executor's processed config (Dagster's `dagster_celery` shape)."""
        return cls(
            retries_enabled="disabled" not in (config.get("retries") or {"enabled": {}}),
            broker=config.get("broker"), backend=config.get("backend"),
            config_source=config.get("config_source"), include=config.get("include"),
        )

    @property
    def retries_enabled(self) -> bool:
        return self._retries_enabled

    def _app(self) -> Any:
        from celery import Celery, current_app

        if not self.broker and not self.config_source:
            return current_app
        app = Celery("orchestra-steps", broker=self.broker or current_app.conf.broker_url, set_as_current=False)
        if not self.broker:
            app.conf.broker_transport_options = current_app.conf.broker_transport_options
        app.conf.update(self.config_source)
        return app

    def execute(self, run_context: RunContext, plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        run_context.retries_enabled = self._retries_enabled
        if not isinstance(getattr(run_context.run, "job_code_origin", None), dict):
            raise ValueError("the celery executor needs a run with a code origin (a run started by a run worker)")
        app = self._app()
        state = TaskState.for_url(self.backend or TaskState.default_url())
        storage = run_context.instance.event_log_storage
        guard = getattr(storage, "write_guard", None) or contextlib.nullcontext()
        flush = getattr(storage, "flush", None) or (lambda: None)
        run_id = run_context.run_id
        yield run_context.event(
            "ENGINE_EVENT", f"Executing steps using celery executor: run worker (pid: {run_context.pid})",
            EngineEventData(),
        )
        started = time.perf_counter()
        active = ActiveExecution(plan, retries_enabled=self._retries_enabled)
        run_context.active = active  # type: ignore[attr-defined]
        flights: dict[str, _InFlight] = {}
        with guard:
            cursor = _last_event_id(run_id)
        options = {"heartbeat": self.heartbeat, "retries_enabled": self._retries_enabled, "state_url": state.url}
        pause, next_check = _POLL_MIN, time.monotonic() + self.heartbeat
        try:
            while not active.is_complete or flights:
                ready = [(step, str(uuid.uuid4())) for step in active.get_steps_to_execute()]
                for step, task_id in ready:
                    queue = step.tags.get(QUEUE_TAG) or STEPS_QUEUE
                    yield run_context.event(
                        "STEP_WORKER_STARTING", f'Submitted Celery task {task_id} for step "{step.key}" to queue "{queue}".',
                        EngineEventData(), step.key,
                    )
                if ready:
                    with guard:  # an interrupt waits until every task sent is also known to be in flight
                        flush()  # the log shows the submission before anything the task writes
                        for step, task_id in ready:
                            flights[step.key] = self._submit(app, run_context, active, step, task_id, options)
                if not flights:
                    if active.sleep_interval() > 0:
                        active.sleep_til_ready()
                        continue
                    for event in active.plan_events_iterator(run_context):
                        active.handle_event(event)
                        yield event
                    continue
                with guard:
                    cursor, events = _outcomes(run_context, cursor, flights)
                ended = False
                for event in events:
                    active.handle_event(event)
                    if event.event_type_value in _STEP_ENDS:
                        done = flights.pop(event.step_key, None)
                        if done is not None:
                            state.forget(done.task_id)  # the task reports "ended" and leaves its state to us
                        ended = True
                    yield event
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + self.heartbeat
                    with guard:
                        lost = self._lost(state, flights)
                    for flight, reason, cls_name in lost:
                        _revoke(app, flight.task_id)
                        state.forget(flight.task_id)
                        del flights[flight.step.key]
                        event = _failure(run_context, flight.step.key, reason, ErrorSource.UNEXPECTED_ERROR, cls_name)
                        active.handle_event(event)
                        ended = True
                        yield event
                if ended:
                    for event in active.plan_events_iterator(run_context):
                        active.handle_event(event)
                        yield event
                    pause = _POLL_MIN
                elif not events:
                    time.sleep(pause)
                    pause = min(pause * 2, _POLL_MAX)
        except (DagsterExecutionInterruptedError, KeyboardInterrupt):
            # Stop every step task in flight and forward what they report while they stop.
            for flight in flights.values():
                _revoke(app, flight.task_id)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while flights and time.monotonic() < deadline:
                with guard:
                    cursor, events = _outcomes(run_context, cursor, flights)
                for event in events:
                    if event.event_type_value in _STEP_ENDS:
                        flights.pop(event.step_key, None)
                    yield event
                time.sleep(0.1)
            raise
        finally:
            # Also reached when the consumer stops early (the generator is closed): no step outlives the run.
            for flight in flights.values():
                _revoke(app, flight.task_id)
        elapsed = format_duration((time.perf_counter() - started) * 1000)
        yield run_context.event(
            "ENGINE_EVENT", f"Celery executor: run worker finished steps after {elapsed} (pid: {run_context.pid})",
            EngineEventData(),
        )

    def _submit(self, app: Any, run_context: RunContext, active: ActiveExecution, step: Any, task_id: str,
                options: dict[str, Any]) -> _InFlight:
        attempt = active.retry_number(step.key)
        priority = step.tags.get(PRIORITY_TAG)
        app.send_task(
            STEP_TASK_NAME, args=[run_context.run_id, step.key, attempt, known_to_json(active.known), options],
            task_id=task_id, queue=step.tags.get(QUEUE_TAG) or STEPS_QUEUE,
            priority=int(priority) if priority is not None else None,
        )
        now = time.monotonic()
        return _InFlight(step, task_id, attempt, now, beat_seen=now)

    def _lost(self, state: TaskState, flights: dict[str, _InFlight]) -> list[tuple[_InFlight, str, str]]:
        """The step tasks that stopped reporting (no heartbeat for `lost_after`, or ended without an
        outcome) or were never taken (queued for `queued_timeout`), each with the reason and error class."""
        lost = []
        now = time.monotonic()
        for flight in flights.values():
            status, meta = state.read(flight.task_id)
            if status == "PENDING":  # still queued: no worker has taken it yet
                flight.beat_seen = now
                if now - flight.submitted > self.queued_timeout:
                    queue = flight.step.tags.get(QUEUE_TAG) or STEPS_QUEUE
                    lost.append((flight, f'No Celery worker took the task {flight.task_id} for step '
                                         f'"{flight.step.key}" from queue "{queue}" within {self.queued_timeout:g} s '
                                         f'(ORCHESTRA_CELERY_STEP_QUEUED_SECONDS): start a worker on that queue '
                                         f'(`celery -A orchestra_site worker -Q {queue}`).', "StepTaskNotTakenError"))
                continue
            where = f'{meta.get("hostname", "?")} (pid {meta.get("pid", "?")})'
            if meta.get("ended"):
                if flight.ended_seen:  # the task's events were written before it said so: none came
                    lost.append((flight, f'The Celery task {flight.task_id} for step "{flight.step.key}" on {where} '
                                         f'ended without recording the step\'s outcome: {meta.get("reason") or "unknown"}.',
                                 "StepTaskLostError"))
                flight.ended_seen = True
                continue
            if meta.get("beat") != flight.beat:
                flight.beat, flight.beat_seen = meta.get("beat"), now
            elif now - flight.beat_seen > self.lost_after:
                lost.append((flight, f'The Celery task {flight.task_id} for step "{flight.step.key}" on {where} '
                                     f'stopped sending heartbeats {now - flight.beat_seen:.0f} s ago: its worker '
                                     'was probably killed.', "StepTaskLostError"))
        return lost


def known_to_json(known: KnownState) -> dict[str, Any]:
    return {
        "produced": sorted([list(item) for item in known.produced]),
        "mapping_keys": [[step, output, list(keys)] for (step, output), keys in known.mapping_keys.items()],
        "resolved": {key: list(copies) for key, copies in known.resolved.items()},
        # re-execution: the earlier run each output of a step left out was produced in
        "sources": [[step, output, run_id] for (step, output), run_id in known.sources.items()],
    }


def known_from_json(data: dict[str, Any] | None) -> KnownState:
    known = KnownState()
    data = data or {}
    known.produced = {(step, output) for step, output in data.get("produced") or ()}
    known.mapping_keys = {(step, output): list(keys) for step, output, keys in data.get("mapping_keys") or ()}
    known.resolved = {key: list(copies) for key, copies in (data.get("resolved") or {}).items()}
    known.sources = {(step, output): run_id for step, output, run_id in data.get("sources") or ()}
    return known


def _last_event_id(run_id: str) -> int | None:
    from runs.models import EventLogEntry

    return EventLogEntry.objects.filter(run_id=run_id).order_by("-id").values_list("id", flat=True).first()


def _outcomes(run_context: RunContext, cursor: int | None, flights: dict[str, _InFlight]) -> tuple[int | None, list[DagsterEvent]]:
    """The outcome events of the steps in flight written since `cursor`, and the new cursor."""
    from runs import selectors
    from runs.event_payloads import log_entry

    rows = selectors.events_after(run_id=run_context.run_id, cursor=cursor, limit=1000, event_types=_OUTCOMES)
    events = []
    for row in rows:
        cursor = row.id
        if row.step_key in flights:
            events.append(StoredEvent.of(log_entry(row, run_context.job_name).dagster_event, row.id))
    return cursor, events


def _revoke(app: Any, task_id: str) -> None:
    with contextlib.suppress(Exception):  # a broker that cannot broadcast: the task also watches the run status
        app.control.revoke(task_id, terminate=True, signal="SIGTERM")


def _failure(run_context: RunContext, step_key: str, message: str, source: ErrorSource, cls_name: str) -> DagsterEvent:
    info = SerializableErrorInfo(message + "\n", [], cls_name)
    return run_context.event("STEP_FAILURE", f'Execution of step "{step_key}" failed.',
                             StepFailureData(info, None, source), step_key)
