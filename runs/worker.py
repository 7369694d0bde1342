"""The run worker: executes one stored run (`orchestra api execute-run RUN_ID`) and is its only event writer.

Sequence, as Dagster's run worker: claim the run ("Started process for run (pid: N)."), load the job
from the run's code origin, RUN_START, the executor's events, RUN_SUCCESS / RUN_FAILURE, then
"Process for run exited (pid: N).". A heartbeat thread refreshes `Run.heartbeat_at` and writes
buffered events that have waited too long. SIGTERM (or SIGINT) interrupts the step in flight with
`DagsterExecutionInterruptedError`, lets the executor stop, and ends the run as CANCELED; a signal
that arrives while events are being written waits until the write is done, so nothing half-written
is lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from django.db import close_old_connections, connections

from core.exceptions import NotFound
from orchestra._core.events import SerializableErrorInfo
from orchestra._errors import DagsterExecutionInterruptedError
from runs import selectors, services
from runs.event_payloads import json_value
from runs.instance import instance_for_home
from runs.models import RunStatus
from runs.multiprocess_executor import MultiprocessExecutor, fork_step_server, load_job, remember_loaded_job
from runs.services import EventInput, RunNotStartable

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 3.0  # ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS overrides it
EXIT_SUCCESS, EXIT_RUN_FAILED, EXIT_REFUSED = 0, 1, 2
# Statuses that stop the worker when its heartbeat reads them: a terminate request, or a run ended elsewhere.
_STOP_STATUSES = frozenset({RunStatus.CANCELING, RunStatus.FAILURE, RunStatus.CANCELED})
_STEP_BOUNDARY = ("STEP_START", "STEP_RESTARTED", "STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY", "STEP_SKIPPED")


class Termination:
    """Turns SIGTERM/SIGINT into `DagsterExecutionInterruptedError` in the main thread.

    Also the event storage's write guard: while the main thread is inside it (buffering or writing
    events) the interrupt is held back and raised when the write is complete.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.closed = False
        self._depth = 0
        self._pending = False
        self._main = threading.main_thread()

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def install(self) -> dict[int, Any]:
        return {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None or self.closed:
            return
        self.signum = signum
        if self._depth:
            self._pending = True
            return
        raise self.error()

    def error(self) -> DagsterExecutionInterruptedError:
        name = signal.Signals(self.signum).name if self.signum else "a signal"
        return DagsterExecutionInterruptedError(f"The run worker received {name}: execution was interrupted.")

    def __enter__(self) -> None:
        if threading.current_thread() is self._main:
            self._depth += 1

    def __exit__(self, *exc: Any) -> None:
        if threading.current_thread() is not self._main:
            return
        self._depth -= 1
        if not self._depth and self._pending and not self.closed:
            self._pending = False
            raise self.error()


class Heartbeat(threading.Thread):
    """Refreshes the run's heartbeat and writes buffered events that have waited `max_delay`.

    It also watches for a termination request: when the run turns CANCELING (a terminate from the UI,
    GraphQL or REST, possibly on another machine) it sends this process SIGTERM, so a request recorded
    in the database stops the run like a signal from the launcher. So it does when the run ended by
    someone else's hand (FAILURE from run monitoring, CANCELED from a forced terminate): the run's
    log refuses whatever the steps still do, so they are stopped rather than left running. (When the
    worker itself wrote that end, it is past `Termination.closed` before the signal could matter,
    or the interrupt finds a closed log and changes nothing.)
    """

    def __init__(self, run_id: str, storage: Any, interval: float = HEARTBEAT_SECONDS):
        super().__init__(name=f"run-heartbeat-{run_id}", daemon=True)
        self.run_id = run_id
        self.storage = storage
        self.interval = interval
        self._stopped = threading.Event()
        self.cancel_requested = False
        self.ended_elsewhere = False  # the run turned FAILURE/CANCELED while this worker was executing it

    def run(self) -> None:
        next_beat = time.monotonic() + self.interval
        try:
            while not self._stopped.wait(self.storage.max_delay):
                try:
                    self.storage.flush_if_stale()
                    if time.monotonic() >= next_beat:
                        status = services.run_heartbeat(run_id=self.run_id)
                        next_beat = time.monotonic() + self.interval
                        if status in _STOP_STATUSES and not self.cancel_requested and not self._stopped.is_set():
                            self.cancel_requested = True
                            self.ended_elsewhere = status != RunStatus.CANCELING
                            if self.ended_elsewhere:
                                logger.warning("run %s turned %s while this worker executed it; stopping its steps",
                                               self.run_id, status)
                            os.kill(os.getpid(), signal.SIGTERM)
                except Exception:  # a database hiccup must not end the run; the next tick retries
                    logger.exception("run worker heartbeat failed for run %s", self.run_id)
                    close_old_connections()  # a dropped connection is replaced on the next tick
        finally:
            connections.close_all()  # this thread's connections only

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)


def run_worker_execute(*, run_id: str) -> int:
    """Execute the stored run `run_id` in this process; answer the process exit code.

    0 when the run succeeded, 1 when it failed or was canceled, 2 when it was refused (unknown run,
    or a run that is finished, canceled, queued or already claimed by another worker) — a refusal
    changes nothing.
    """
    pid = os.getpid()
    try:
        run = services.run_worker_claim(run_id=run_id, pid=pid, hostname=socket.gethostname())
    except (NotFound, RunNotStartable) as exc:
        print(f"Refusing to execute run {run_id}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    termination = Termination()
    previous = termination.install()
    instance = instance_for_home(write_guard=termination)
    storage = instance.event_log_storage
    interval = float(os.environ.get("ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS") or HEARTBEAT_SECONDS)
    heartbeat = Heartbeat(run_id, storage, interval)
    heartbeat.start()
    try:
        try:
            job_def = load_job(run.origin, run.job_name)
        except DagsterExecutionInterruptedError:
            raise
        except Exception as exc:
            _write(run_id, EventInput(
                event_type="RUN_FAILURE", level=logging.ERROR,
                message=f'Execution of run for "{run.job_name}" failed. Could not load the job: {exc}',
                payload={"error": _error(exc), "failure_reason": "JOB_INITIALIZATION_FAILURE"},
            ))
            return EXIT_RUN_FAILED
        from orchestra._core.execute import execute_run

        dagster_run = instance.get_run_by_id(run_id)
        executor = executor_for(job_def, dagster_run)
        if isinstance(executor, MultiprocessExecutor) and executor.start_method == "forkserver":
            remember_loaded_job(run.origin, run.job_name, job_def)  # the steps forked from it reuse it
            heartbeat = _start_step_server(heartbeat, previous)
        execute_run(job_def, dagster_run=dagster_run, instance=instance, executor=executor)
    except DagsterExecutionInterruptedError as exc:
        termination.closed = True
        storage.flush()
        _cancel(run_id, run.job_name, exc)
    except Exception as exc:  # a framework error outside any step
        termination.closed = True
        storage.flush()
        _write(run_id, EventInput(
            event_type="RUN_FAILURE", level=logging.ERROR,
            message=f'Execution of run for "{run.job_name}" failed. An exception was thrown during execution.',
            payload={"error": _error(exc), "failure_reason": "RUN_EXCEPTION"},
        ))
    finally:
        termination.closed = True
        heartbeat.stop()
        storage.flush()
        _write(run_id, EventInput(event_type="ENGINE_EVENT", message=f"Process for run exited (pid: {pid}).",
                                  payload={"pid": pid, "metadata": []}))
        _kill_group_members()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # The stored status decides: a signal that arrived after RUN_SUCCESS does not make the run fail.
    return EXIT_SUCCESS if selectors.run_get(run_id=run_id).status == RunStatus.SUCCESS else EXIT_RUN_FAILED


def _start_step_server(heartbeat: Heartbeat, signals: dict[int, Any]) -> Heartbeat:
    """Fork the step server (`fork_step_server`) for a run whose steps start through `forkserver`.

    Only such runs get one: an in-process or Celery run forks nothing. The fork needs one thread and
    no open database connection (a forked copy of a connection must never be used or closed by the
    copy), so the heartbeat pauses around it; when another thread remains (one the job's code
    started), nothing is forked and Python starts its own server on the first step, as it would
    anywhere. The server is a copy of this process with the job loaded, so steps start with the
    location's code imported, as Dagster's forkserver preloads the job's module. Answers the
    heartbeat now running.
    """
    heartbeat.stop()
    if threading.active_count() == 1:
        connections.close_all()
        fork_step_server(child_signals=signals)
    resumed = Heartbeat(heartbeat.run_id, heartbeat.storage, heartbeat.interval)
    resumed.cancel_requested, resumed.ended_elsewhere = heartbeat.cancel_requested, heartbeat.ended_elsewhere
    resumed.start()
    return resumed


def executor_for(job_def: Any, dagster_run: Any) -> Any:
    """The server's multiprocess or Celery engine when the job's executor is one of them, else None.

    None leaves the choice to the job's executor definition (`in_process`, custom executors), and
    to `execute_run` the reporting of an invalid run config.
    """
    from orchestra._core.run_config import process_job_run_config

    name = job_def.executor_def.name
    if name not in ("multiprocess", "multi_or_in_process_executor", "celery"):
        return None
    subset = job_def.get_subset(op_selection=dagster_run.op_selection) if dagster_run.op_selection else job_def
    try:
        processed, _ = process_job_run_config(subset, dagster_run.run_config, input_values=subset.input_values)
    except Exception:
        return None
    config = (processed.get("execution") or {}).get("config")
    if name == "celery":  # a Celery task per step (runs/celery_executor.py)
        from runs.celery_executor import CeleryExecutor

        _celery_app_load()
        return CeleryExecutor.from_config(config or {})
    if config is None:  # no execution block: the definition's default (multiprocess for jobs)
        config = {"multiprocess": {}} if name == "multi_or_in_process_executor" else {}
    if name == "multi_or_in_process_executor":
        if "multiprocess" not in config:
            return None
        config = config["multiprocess"] or {}
    return MultiprocessExecutor.from_config(config)


def _kill_group_members() -> None:
    """SIGKILL what is left in this worker's process group (what an in-process op started), when the
    worker leads the group, as under the subprocess launcher; a worker sharing a group does nothing.

    Multiprocess step processes lead groups of their own, killed by the executor as it reaps them.
    """
    me = os.getpid()
    if os.getpgid(0) != me or not os.path.isdir("/proc/self"):
        return
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                pgrp = int(handle.read().rsplit(b")", 1)[1].split()[2])
        except (OSError, IndexError, ValueError):
            continue
        if pgrp == me:
            with contextlib.suppress(OSError):
                os.kill(int(name), signal.SIGKILL)


def _celery_app_load() -> None:
    """Create the deployment's Celery app, which a run worker starts without (`settings_worker`).

    The app (`settings.ORCHESTRA_CELERY_APP`, a dotted path) becomes Celery's current app, so the
    executor's `current_app` has the instance's broker; under the web settings it already exists.
    """
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, "ORCHESTRA_CELERY_APP", None)
    if path:
        import_string(path)


def _cancel(run_id: str, job_name: str, exc: BaseException) -> None:
    """Fail the steps that were in flight as interrupted, then end the run as CANCELED."""
    error = _error(exc)
    events = [
        EventInput(
            event_type="STEP_FAILURE", step_key=step_key, level=logging.ERROR,
            message=f'Execution of step "{step_key}" was interrupted.',
            payload={"error": error, "error_source": "INTERRUPT", "user_failure_data": None},
        )
        for step_key in _steps_in_flight(run_id)
    ]
    events.append(EventInput(event_type="RUN_CANCELED", message=f'Execution of run for "{job_name}" canceled.',
                             payload={"error": error}))
    _write(run_id, *events)


def _steps_in_flight(run_id: str) -> list[str]:
    open_steps: dict[str, None] = {}
    cursor = None
    while True:
        rows = selectors.events_after(run_id=run_id, cursor=cursor, limit=10_000, event_types=_STEP_BOUNDARY)
        for row in rows:
            if row.event_type in ("STEP_START", "STEP_RESTARTED"):
                open_steps[row.step_key] = None
            else:
                open_steps.pop(row.step_key, None)
        if len(rows) < 10_000:
            return list(open_steps)
        cursor = rows[-1].id


def _write(run_id: str, *events: EventInput) -> None:
    services.event_store(run_id=run_id, events=events, strict=False)


def _error(exc: BaseException) -> Any:
    return json_value(SerializableErrorInfo.from_exception(exc))
