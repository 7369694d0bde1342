"""The step side of the Celery executor: what a `runs.execute_step` task does in a Celery worker.

Loads the run's job from its code origin (cached per process and origin, snapshot and selection),
runs the one step with a storage-backed instance, so its events go straight to the event log, and
reports the task alive in its Celery task state while it runs (see `runs/celery_executor.py`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from orchestra._core.compute_logs import captured_logs_event
from orchestra._core.events import (
    DagsterEvent,
    EngineEventData,
    ErrorSource,
    SerializableErrorInfo,
    StepFailureData,
)
from orchestra._core.execute import RunContext
from orchestra._core.step import KnownState
from orchestra._errors import DagsterExecutionInterruptedError
from runs.celery_executor import HEARTBEAT_SECONDS, TaskState, known_from_json
from runs.worker import Termination

logger = logging.getLogger(__name__)

_STEP_ENDS = frozenset({"STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY", "STEP_SKIPPED"})
_RUN_OVER = frozenset({"SUCCESS", "FAILURE", "CANCELED", "CANCELING"})


_JOBS: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def _job_and_plan(run: Any) -> tuple[Any, Any]:
    """The run's job (subset as the run worker subsets it) and plan, loaded once per process for each
    code origin, snapshot and selection."""
    from orchestra._core.plan import plan_for_job
    from runs.multiprocess_executor import load_job

    assets = sorted("/".join(key.path) for key in run.asset_selection or ())
    checks = sorted(repr(key) for key in run.asset_check_selection or ())
    key = (json.dumps(run.job_code_origin, sort_keys=True), run.job_name, run.job_snapshot_id,
           tuple(run.op_selection or ()), tuple(assets), tuple(checks))
    cached = _JOBS.get(key)
    if cached is None:
        job_def = load_job(run.job_code_origin, run.job_name, run.op_selection)
        if not run.op_selection and run.asset_selection and getattr(job_def, "_asset_layer", None) is not None:
            job_def = job_def.get_subset(asset_selection=set(run.asset_selection),
                                         asset_check_selection=run.asset_check_selection)
        cached = _JOBS[key] = (job_def, plan_for_job(job_def))
    return cached


class _StepHeartbeat(threading.Thread):
    """Reports the task alive, writes events that waited too long, and stops the step when the run is over."""

    def __init__(self, run_id: str, task_id: str, state: TaskState, storage: Any, interval: float, where: dict[str, Any]):
        super().__init__(name=f"step-heartbeat-{task_id}", daemon=True)
        self.run_id, self.task_id, self.state, self.storage = run_id, task_id, state, storage
        self.interval, self.where = interval, where
        self._stopped = threading.Event()
        self.beats = 0

    def beat(self) -> None:
        self.beats += 1
        self.state.report(self.task_id, "STARTED", beat=self.beats, **self.where)

    def run(self) -> None:
        from django.db import connections

        from runs.models import Run

        signalled = False
        next_beat = time.monotonic() + self.interval
        try:
            while not self._stopped.wait(self.storage.max_delay):
                try:
                    self.storage.flush_if_stale()
                    if time.monotonic() < next_beat:
                        continue
                    next_beat = time.monotonic() + self.interval
                    self.beat()
                    status = Run.objects.filter(run_id=self.run_id).values_list("status", flat=True).first()
                    if status in _RUN_OVER and not signalled:
                        signalled = True
                        os.kill(os.getpid(), signal.SIGTERM)
                except Exception:  # a hiccup must not end the step; the next beat retries
                    logger.exception("step heartbeat failed for run %s", self.run_id)
        finally:
            connections.close_all()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)


def step_execute(*, run_id: str, step_key: str, attempt: int, known: dict[str, Any] | None, task_id: str,
                 options: dict[str, Any]) -> str:
    """Execute attempt `attempt` of step `step_key` of run `run_id` here; answer what happened.

    Safe to run twice (a redelivered message): it refuses a run that is not running and an attempt
    that has already started. Events go to the event log through the storage-backed instance.
    """
    from runs.models import EventLogEntry, Run

    state = TaskState.for_url(options["state_url"])
    where = {"hostname": socket.gethostname(), "pid": os.getpid()}
    state.report(task_id, "STARTED", beat=0, **where)
    reason = ""
    try:
        status = Run.objects.filter(run_id=run_id).values_list("status", flat=True).first()
        starts = EventLogEntry.objects.filter(run_id=run_id, step_key=step_key,
                                              event_type__in=("STEP_START", "STEP_RESTARTED")).count()
        ends = EventLogEntry.objects.filter(run_id=run_id, step_key=step_key, event_type__in=_STEP_ENDS).count()
        if status not in ("STARTED", "STARTING"):
            reason = f"the run is {status or 'unknown'}, not running"
        elif starts > attempt:
            reason = f"attempt {attempt + 1} of the step has already started (a redelivered task)"
        elif ends > attempt:  # the run worker stopped waiting for this attempt while it was queued
            reason = f"attempt {attempt + 1} of the step has already ended (it waited too long in its queue)"
        else:
            try:
                _run_step(run_id, step_key, attempt, known_from_json(known), task_id, state, options, where)
            except Exception as exc:  # before the step could start (e.g. the job did not load): fail the step
                reason = f"{type(exc).__name__}: {exc}"
                _record_failure(run_id, step_key, exc)
                raise
            # The step's outcome is in the event log. Saying so too (rather than forgetting the state)
            # keeps a finished task from looking queued: a run worker that cannot see the outcome then
            # fails the step instead of waiting for ever. The run worker forgets the state once it has
            # read the step's end (a file-based result store would otherwise keep a file per step).
            state.report(task_id, "SUCCESS", ended=True, executed=True,
                         reason="the step task finished after writing the step's events", **where)
            return "executed"
    except BaseException:
        state.report(task_id, "SUCCESS", ended=True, reason=reason or "the step task failed", **where)
        raise
    state.report(task_id, "SUCCESS", ended=True, reason=reason, **where)
    return f"refused: {reason}"


def _record_failure(run_id: str, step_key: str, exc: BaseException) -> None:
    from runs import services
    from runs.event_payloads import json_value

    with contextlib.suppress(Exception):
        services.event_store(run_id=run_id, strict=False, events=[services.EventInput(
            event_type="STEP_FAILURE", step_key=step_key, level=logging.ERROR,
            message=f'Execution of step "{step_key}" failed.',
            payload={"error": json_value(SerializableErrorInfo.from_exception(exc)), "error_source": "FRAMEWORK_ERROR",
                     "user_failure_data": None},
        )])


def _run_step(run_id: str, step_key: str, attempt: int, known: KnownState, task_id: str, state: TaskState,
              options: dict[str, Any], where: dict[str, Any]) -> None:
    from django.conf import settings

    from orchestra._core.execute import write_events
    from orchestra._core.instance import DagsterInstance
    from orchestra._core.run_config import process_job_run_config
    from runs.compute_logs import compute_log_manager
    from runs.instance_storage import DjangoEventLogStorage, DjangoRunStorage

    termination = _StepTermination()
    try:
        previous = termination.install()
    except ValueError:  # signals can only be caught on the main thread (not in a threads pool)
        previous = {}
    storage = DjangoEventLogStorage(write_guard=termination)
    home = os.environ.get("ORCHESTRA_HOME") or str(settings.INSTANCE.home)
    instance = DagsterInstance(DjangoRunStorage(), storage, is_ephemeral=False, storage_dir=home,
                               compute_log_manager=compute_log_manager())
    heartbeat = _StepHeartbeat(run_id, task_id, state, storage, float(options.get("heartbeat") or HEARTBEAT_SECONDS), where)
    heartbeat.start()
    try:
        run = instance.get_run_by_id(run_id)
        job_def, plan = _job_and_plan(run)
        processed, _ = process_job_run_config(job_def, run.run_config, input_values=job_def.input_values)
        run_context = RunContext(
            job_def=job_def, plan=plan, run=run, instance=instance, run_config=processed,
            sink=instance.handle_new_event, console=None, raise_on_error=False,
            input_values=dict(job_def.input_values), output_capture=None, resource_defs=job_def.resource_defs,
            partition_key=run.tags.get("dagster/partition"),
        )
        run_context.retries_enabled = bool(options.get("retries_enabled", True))
        run_context.marker_step_key = lambda: step_key  # type: ignore[method-assign]  # resource events name the step
        write_events(run_context, _step_events(run_context, plan, step_key, attempt, known, where), None)
    finally:
        termination.closed = True
        heartbeat.stop()
        storage.flush()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _step_events(run_context: RunContext, plan: Any, step_key: str, attempt: int, known: KnownState,
                 where: dict[str, Any]) -> Iterator[DagsterEvent]:
    from runs.multiprocess_executor import _resolve_step

    ended = False
    try:
        step = _resolve_step(plan, step_key, known)
        yield run_context.event(
            "STEP_WORKER_STARTED",
            f'Executing step "{step_key}" in Celery worker {where["hostname"]} (pid: {where["pid"]}).',
            EngineEventData(), step_key,
        )
        with run_context.step_worker([step_key]) as (init_events, worker):
            yield from init_events
            if worker is None:
                error = init_events[-1].event_specific_data.error
                ended = True
                yield run_context.event("STEP_FAILURE", f'Execution of step "{step_key}" failed.',
                                        StepFailureData(error, None, ErrorSource.FRAMEWORK_ERROR), step_key)
                return
            # The step's stdout/stderr, captured on this machine (shared storage makes them readable elsewhere).
            with captured_logs_event(getattr(run_context.instance, "compute_log_manager", None), run_id=run_context.run_id,
                                     job_name=run_context.job_name, step_keys=[step_key]) as logs_captured:
                if logs_captured is not None:
                    yield logs_captured
                step_events: list[DagsterEvent] = []
                for event in worker.run_step(step, attempt, known):
                    if event.event_type_value in _STEP_ENDS:
                        ended = True
                    if step.hook_defs:
                        step_events.append(event)
                    yield event
                if step.hook_defs:
                    yield from worker.run_hooks(step, step_events)
    except BaseException as exc:  # noqa: BLE001 - every way out of the step is recorded
        if ended:
            raise
        interrupted = isinstance(exc, (DagsterExecutionInterruptedError, KeyboardInterrupt))
        source = ErrorSource.INTERRUPT if interrupted else ErrorSource.FRAMEWORK_ERROR
        message = f'Execution of step "{step_key}" was interrupted.' if interrupted else f'Execution of step "{step_key}" failed.'
        yield run_context.event("STEP_FAILURE", message,
                                StepFailureData(SerializableErrorInfo.from_exception(exc), None, source), step_key)


class _StepTermination(Termination):
    """The run worker's signal handling (held back while events are written), worded for a step task."""

    def error(self) -> DagsterExecutionInterruptedError:
        name = signal.Signals(self.signum).name if self.signum else "a signal"
        return DagsterExecutionInterruptedError(f"The Celery step task received {name}: the step was interrupted.")
