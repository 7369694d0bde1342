"""The multiprocess executor: one child process per step, at most `max_concurrent` at a time.

The run worker keeps the `ActiveExecution` and stays the only writer: each child loads the job from
the run's code origin, runs its one step with `StepWorker.run_step` (inputs come from the job's
persistent IO manager) and sends its events and log lines back over a pipe; the parent feeds them
to the `ActiveExecution` and yields them to the run worker, which writes them. On an interrupt the
parent sends SIGTERM to its children, forwards what they report while stopping, and re-raises.

Everything a step starts dies with the run worker, even a SIGKILLed one: each step process leads a
process group of its own (the processes its op starts join it) and forks a small watchdog into that
group, which blocks on the read end of a "lifeline" pipe whose only write end the run worker holds.
When the worker dies for any reason the kernel closes that end; the watchdog reads EOF and SIGKILLs
the group. The watchdog is plain Python that runs no user code, so an op that holds the interpreter
cannot delay it. On its normal way out the run worker SIGKILLs each step's group after reaping it,
so nothing an op left behind outlives the run. (The `forkserver` server exits by itself when the
worker that started it dies: Python's fork server watches its own "alive" pipe.)

This module imports no Django: it is what a step process imports.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from orchestra._core.active import ActiveExecution
from orchestra._core.compute_logs import captured_logs_event
from orchestra._core.events import (
    DagsterEvent,
    EngineEventData,
    ErrorSource,
    SerializableErrorInfo,
    StepFailureData,
)
from orchestra._core.execute import Executor, RunContext
from orchestra._core.plan import ExecutionPlan
from orchestra._core.step import format_duration
from orchestra._errors import DagsterExecutionInterruptedError

ORIGIN_KEYS = frozenset({"python_file", "module_name", "package_name", "attribute", "working_directory"})
STOP_GRACE_SECONDS = 10.0
# What a step imports on first use; the fork server imports it once, so step processes start warm.
FORKSERVER_PRELOAD = (
    "orchestra", "orchestra._core.definitions.op", "orchestra._core.definitions.job", "orchestra._core.run_config",
    "orchestra._core.resources.initialization", "orchestra._core.io_managers.builtin",
    "orchestra._core.definitions_class.module_loading",
)
_STEP_ENDS = frozenset({"STEP_SUCCESS", "STEP_FAILURE", "STEP_UP_FOR_RETRY", "STEP_SKIPPED"})


def default_start_method() -> str:
    """The start method when the run config names none: `forkserver` where the platform has it.

    Dagster defaults to `spawn`; a spawned step process imports the SDK afresh (about 100 ms of CPU,
    seconds on a loaded machine), a step forked from the run's fork server finds it imported. What a
    step sees is the same either way (it loads the job from the run's origin in its own process);
    `start_method: {spawn: {}}` in the run config still spawns.
    """
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def fork_step_server(*, child_signals: dict[int, Any] | None = None) -> bool:
    """Start this process's multiprocessing fork server (and resource tracker) as forks of this process.

    Python starts the `forkserver` server as a fresh interpreter that imports the SDK again (about
    250 ms of CPU per run, more than the run's steps together), plus a fresh interpreter for the
    resource tracker. Forked from the run worker they cost a few milliseconds and share its pages,
    and they speak Python's own protocol, so `multiprocessing.get_context("forkserver")` uses them
    unchanged. Call it while the process has one thread and no open database connection (a forked
    copy of a connection must never be used or closed by the copy). Answers whether it started them;
    it does nothing where the interpreter's private forkserver state is not the one this knows (then
    Python starts its own server on first use, as before). The server serves this process only and
    exits when this process ends (its "alive" pipe), as Python's does; preload modules named in the
    run config are imported by each step on first use instead of by the server. `child_signals`
    (signal -> handler) are set in the server and the tracker before they serve: the handlers this
    process had before it installed its own (steps start with the server's, as Python's do).
    """
    restored = {sig: handler for sig, handler in (child_signals or {}).items() if handler is not None}
    from multiprocessing import connection as mp_connection
    from multiprocessing import forkserver, resource_tracker, util

    server, tracker = forkserver._forkserver, resource_tracker._resource_tracker
    known = (getattr(server, "_forkserver_pid", 0) is None and getattr(tracker, "_fd", 0) is None
             and not hasattr(server, "_forkserver_authkey") and util.abstract_sockets_supported)
    if not known or sys.platform != "linux":
        return False
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    tracker_r, tracker_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the resource tracker
        try:
            for sig, handler in restored.items():
                signal.signal(sig, handler)
            os.close(tracker_w)
            resource_tracker.main(tracker_r)
        finally:
            os._exit(0)
    os.close(tracker_r)
    tracker._fd, tracker._pid = tracker_w, pid
    listener = socket.socket(socket.AF_UNIX)
    address = mp_connection.arbitrary_address("AF_UNIX")
    listener.bind(address)
    listener.listen()
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the fork server: serves until every holder of `alive_w` (this process) is gone
        try:
            for sig, handler in restored.items():
                signal.signal(sig, handler)
            os.close(alive_w)
            os.close(tracker_w)
            tracker._fd = tracker._pid = None
            forkserver.main(listener.detach(), alive_r, [])
        finally:
            os._exit(0)
    listener.close()
    os.close(alive_r)
    server._forkserver_address, server._forkserver_alive_fd, server._forkserver_pid = address, alive_w, pid
    return True


# The job its run worker loaded before forking the step server (`remember_loaded_job`): steps forked
# from that server find it here instead of importing the location's code again. Set in run workers
# only (one run each), so a long-lived process never serves a job from an older version of the code.
_LOADED_BY_RUN_WORKER: dict[tuple[str, str], Any] = {}


def remember_loaded_job(origin: dict[str, Any] | None, job_name: str, job_def: Any) -> None:
    """Record the job a run worker loaded, for the steps forked from its step server."""
    _LOADED_BY_RUN_WORKER[_job_key(origin, job_name)] = job_def


def _job_key(origin: dict[str, Any] | None, job_name: str) -> tuple[str, str]:
    pointer = {k: v for k, v in (origin or {}).items() if k != "executable_path"}
    return json.dumps(pointer, sort_keys=True, default=str), job_name


def _step_job(origin: dict[str, Any] | None, job_name: str, op_selection: list[str] | None) -> Any:
    """The step's job: the one its run worker loaded when this process is a fork of it, else loaded."""
    job_def = _LOADED_BY_RUN_WORKER.get(_job_key(origin, job_name))
    if job_def is None:
        return load_job(origin, job_name, op_selection)
    return job_def.get_subset(op_selection=op_selection) if op_selection else job_def


def load_job(origin: dict[str, Any] | None, job_name: str, op_selection: list[str] | None = None) -> Any:
    """The job `job_name` from a run's code origin (the arguments of `load_definitions`)."""
    from orchestra._core.definitions_class.module_loading import load_definitions

    if not origin:
        raise ValueError("the run has no code origin to load its job from")
    # `executable_path` says which interpreter runs the code (the launcher's concern), not where it is
    pointer = {k: v for k, v in origin.items() if k != "executable_path"}
    unknown = set(pointer) - ORIGIN_KEYS
    if unknown:
        raise ValueError(f"the run's code origin has unknown keys {sorted(unknown)}; expected some of {sorted(ORIGIN_KEYS)}")
    job_def = load_definitions(**pointer).resolve_job_def(job_name)
    return job_def.get_subset(op_selection=op_selection) if op_selection else job_def


@dataclass(frozen=True)
class StepTask:
    """What a step process needs: where the job is, the run, its processed config and upstream state."""

    origin: dict[str, Any]
    run: Any
    run_config: dict[str, Any]
    storage_dir: str | None
    step_key: str
    retry_number: int
    known: Any
    retries_enabled: bool
    compute_log_manager: Any = None  # each step process captures its own stdout/stderr


class MultiprocessExecutor(Executor):
    """Runs each step in its own process (`spawn` or `forkserver`), at most `max_concurrent` at once."""

    def __init__(self, *, retries_enabled: bool = True, require_upstream_step_success: bool = True,
                 max_concurrent: int | None = None, tag_concurrency_limits: list[dict[str, Any]] | None = None,
                 start_method: str = "spawn", preload_modules: list[str] | None = None):
        self._retries_enabled = retries_enabled
        self.tag_concurrency_limits = list(tag_concurrency_limits or [])
        self.require_upstream_step_success = require_upstream_step_success
        env_limit = os.environ.get("DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT")
        self.max_concurrent = max_concurrent or (int(env_limit) if env_limit else None) or os.cpu_count() or 1
        self.start_method = start_method
        self.preload_modules = preload_modules or []

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MultiprocessExecutor:
        """Build from the `multiprocess` executor's processed config (Dagster's shape)."""
        start = config.get("start_method") or {default_start_method(): {}}
        method, options = next(iter(start.items()))
        return cls(
            retries_enabled="disabled" not in (config.get("retries") or {"enabled": {}}),
            require_upstream_step_success=(config.get("step_dependency_config") or {}).get(
                "require_upstream_step_success", True
            ),
            max_concurrent=config.get("max_concurrent"),
            tag_concurrency_limits=config.get("tag_concurrency_limits"),
            start_method=method,
            preload_modules=list((options or {}).get("preload_modules") or []),
        )

    @property
    def retries_enabled(self) -> bool:
        return self._retries_enabled

    def execute(self, run_context: RunContext, plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        pid = run_context.pid
        run_context.retries_enabled = self._retries_enabled
        origin = getattr(run_context.run, "job_code_origin", None)
        if not isinstance(origin, dict):
            raise ValueError("the multiprocess executor needs a run with a code origin (a run started by a run worker)")
        mp = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            # The server forks step processes with the executor (and the SDK core) already imported.
            mp.set_forkserver_preload([__name__, *FORKSERVER_PRELOAD, *self.preload_modules])
        yield run_context.event(
            "ENGINE_EVENT", f"Executing steps using multiprocess executor: parent process (pid: {pid})", EngineEventData()
        )
        started = time.perf_counter()
        active = ActiveExecution(plan, retries_enabled=self._retries_enabled,
                                 require_upstream_step_success=self.require_upstream_step_success)
        run_context.active = active  # type: ignore[attr-defined]
        children: dict[Connection, _Child] = {}
        # The worker keeps the only write end; its death (however it dies) is EOF for every step's watchdog.
        lifeline, lifeline_end = mp.Pipe(duplex=False)
        # Steps taken from the ActiveExecution that wait for a tag concurrency limit, in priority order.
        held: list[Any] = []
        exiting: list[_Child] = []  # finished steps whose processes may still be shutting down
        try:
            while not active.is_complete or children:
                free = self.max_concurrent - len(children)
                if free > 0:
                    held.extend(active.get_steps_to_execute(limit=free))
                for step in self._launchable(held, [c.step for c in children.values()], free):
                    yield run_context.event(
                        "STEP_WORKER_STARTING", f'Launching subprocess for "{step.key}".', EngineEventData(), step.key
                    )
                    task = StepTask(origin, run_context.run, run_context.run_config, _storage_dir(run_context.instance),
                                    step.key, active.retry_number(step.key), active.known, self._retries_enabled,
                                    getattr(run_context.instance, "compute_log_manager", None))
                    child = _Child.start(mp, task, step, lifeline)
                    children[child.conn] = child
                if not children:
                    if active.sleep_interval() > 0:
                        active.sleep_til_ready()
                        continue
                    for event in active.plan_events_iterator(run_context):
                        active.handle_event(event)
                        yield event
                    continue
                for conn in wait(list(children), timeout=active.sleep_interval() or None):
                    child = children[conn]
                    for event in child.receive(run_context):
                        active.handle_event(event)
                        yield event
                    if child.finished:
                        del children[conn]
                        exiting.append(child)
                        for event in active.plan_events_iterator(run_context):
                            active.handle_event(event)
                            yield event
        except (DagsterExecutionInterruptedError, KeyboardInterrupt):
            # Tell every step in flight to stop, and forward what they report while they do.
            for child in children.values():
                child.stop()
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while children and time.monotonic() < deadline:
                for conn in wait(list(children), timeout=max(0.0, deadline - time.monotonic())):
                    child = children[conn]
                    yield from child.receive(run_context)
                    if child.finished:
                        del children[conn]
                        exiting.append(child)  # reaped below, with its process group
            raise
        finally:
            # Also reached when the consumer stops early (the generator is closed): nothing outlives the run.
            for child in children.values():
                child.stop()
            for child in [*children.values(), *exiting]:
                child.reap(STOP_GRACE_SECONDS)
            lifeline.close()
            lifeline_end.close()
        elapsed = format_duration((time.perf_counter() - started) * 1000)
        yield run_context.event(
            "ENGINE_EVENT", f"Multiprocess executor: parent process exiting after {elapsed} (pid: {pid})", EngineEventData()
        )

    def _launchable(self, held: list[Any], running: list[Any], free: int) -> list[Any]:
        """Take from `held` the steps that fit in `free` slots and under the tag concurrency limits."""
        chosen: list[Any] = []
        for step in list(held):
            if len(chosen) >= free:
                break
            if self.tag_concurrency_limits and _over_tag_limit(step, running + chosen, self.tag_concurrency_limits):
                continue
            held.remove(step)
            chosen.append(step)
        if held and not running and not chosen and free > 0:  # a limit of 0 must not stall the run
            chosen.append(held.pop(0))
        return chosen


def _over_tag_limit(step: Any, running: list[Any], limits: list[dict[str, Any]]) -> bool:
    """Dagster's per-run tag limits: `{key}` across all values, `{key, value}` for that value,
    `{key, value: {applyLimitPerUniqueValue: true}}` per distinct value."""
    tags = step.tags
    for limit in limits:
        key, value = limit["key"], limit.get("value")
        if key not in tags:
            continue
        if value is None:
            count = sum(1 for other in running if key in other.tags)
        elif isinstance(value, dict):
            if not value.get("applyLimitPerUniqueValue"):
                continue
            count = sum(1 for other in running if other.tags.get(key) == tags[key])
        elif tags[key] == value:
            count = sum(1 for other in running if other.tags.get(key) == value)
        else:
            continue
        if count >= limit["limit"]:
            return True
    return False


def _storage_dir(instance: Any) -> str | None:
    return getattr(instance, "_storage_dir", None)


class _Child:
    """One step process and the parent's end of its pipe."""

    def __init__(self, process: Any, conn: Connection, task: StepTask, step: Any):
        self.process = process
        self.conn = conn
        self.task = task
        self.step = step
        self.ended = False  # the step's terminal event arrived
        self.finished = False

    @classmethod
    def start(cls, mp: Any, task: StepTask, step: Any, lifeline: Connection | None = None) -> _Child:
        parent_end, child_end = mp.Pipe(duplex=False)
        process = mp.Process(target=step_process_main, args=(child_end, task, lifeline), name=f"step-{task.step_key}")
        process.start()
        child_end.close()
        return cls(process, parent_end, task, step)

    def receive(self, run_context: RunContext) -> Iterator[DagsterEvent]:
        """Yield the events waiting on the pipe; write log lines straight to the run's sink."""
        while not self.finished and self.conn.poll():
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):
                yield from self._exited(run_context)
                return
            if kind == "event":
                if payload.event_type_value in _STEP_ENDS and payload.step_key == self.task.step_key:
                    self.ended = True
                yield payload
            elif kind == "log":
                run_context.sink(payload)
            else:  # "done"
                yield from self._exited(run_context)

    def _exited(self, run_context: RunContext) -> Iterator[DagsterEvent]:
        self.finished = True
        self.conn.close()
        if self.ended:
            return  # the step is over; the process is reaped later, without holding up the next launch
        self.reap(STOP_GRACE_SECONDS)
        if not self.ended:
            code = self.process.exitcode
            message = f'Step process for "{self.task.step_key}" exited unexpectedly (exit code {code}).'
            info = SerializableErrorInfo(message + "\n", [], "ChildProcessCrashException")
            yield run_context.event(
                "STEP_FAILURE", f'Execution of step "{self.task.step_key}" failed.',
                StepFailureData(info, None, ErrorSource.UNEXPECTED_ERROR), self.task.step_key,
            )

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                os.kill(self.process.pid, signal.SIGTERM)

    def reap(self, timeout: float) -> None:
        """Wait for the step process, then SIGKILL its process group: what its op started dies too."""
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)
        # The step process led a group of its own (`_die_with_run_worker`); its id is the process's pid.
        # Linux does not hand a pid out while a group of that id exists, so this reaches no stranger.
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)


# --- the step process ---------------------------------------------------------------------------------


def step_process_main(conn: Connection, task: StepTask, lifeline: Connection | None = None) -> None:
    """Entry point of a step process: run one step and send everything it produces to the parent."""
    watchdog = _die_with_run_worker(lifeline) if lifeline is not None else None
    interrupted: list[int] = []

    def interrupt(signum: int, frame: Any) -> None:
        if interrupted:
            return
        interrupted.append(signum)
        raise DagsterExecutionInterruptedError(f"The step process received {signal.Signals(signum).name}.")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    run_context: RunContext | None = None
    ended = False
    try:
        run_context, step = _step_context(conn, task)
        send = conn.send
        send(("event", run_context.event("STEP_WORKER_STARTED", f'Executing step "{step.key}" in subprocess.',
                                         EngineEventData(), step.key)))
        with run_context.step_worker([step.key]) as (init_events, worker):
            for event in init_events:
                send(("event", event))
            if worker is None:
                error = init_events[-1].event_specific_data.error
                send(("event", _failure(run_context, step.key, error, ErrorSource.FRAMEWORK_ERROR)))
                ended = True
                return
            with captured_logs_event(task.compute_log_manager, run_id=run_context.run_id,
                                     job_name=run_context.job_name, step_keys=[step.key]) as logs_captured:
                if logs_captured is not None:
                    send(("event", logs_captured))
                step_events: list[DagsterEvent] = []
                for event in worker.run_step(step, task.retry_number, task.known):
                    send(("event", event))
                    if event.event_type_value in _STEP_ENDS:
                        ended = True
                    if step.hook_defs:
                        step_events.append(event)
                if step.hook_defs:
                    for event in worker.run_hooks(step, step_events):
                        send(("event", event))
    except BaseException as exc:  # noqa: BLE001 - every way out is reported to the parent
        if not ended and run_context is not None:
            source = ErrorSource.INTERRUPT if isinstance(exc, DagsterExecutionInterruptedError) else ErrorSource.FRAMEWORK_ERROR
            with contextlib.suppress(Exception):
                conn.send(("event", _failure(run_context, task.step_key, SerializableErrorInfo.from_exception(exc), source)))
    finally:
        with contextlib.suppress(Exception):
            conn.send(("done", None))
        conn.close()
        if watchdog is not None:
            watchdog.release()


class _Watchdog:
    """The step process's end of its watchdog: closing `alive` tells the watchdog the step is over."""

    def __init__(self, pid: int, alive: int):
        self.pid = pid
        self.alive = alive

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.alive)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)  # it exits at once on EOF; reaped here, it leaves no zombie behind


def _die_with_run_worker(lifeline: Connection) -> _Watchdog | None:
    """Lead a new process group and fork the watchdog that SIGKILLs it when the run worker dies.

    Called first thing in the step process, while it has a single thread (forking is safe). The
    watchdog waits for EOF on either the lifeline (the run worker is gone: kill the group, itself
    included) or `alive` (the step process ended normally: exit quietly).
    """
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    alive_r, alive_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(alive_r)
        os.close(alive_w)
        return None  # no watchdog: the run worker still kills the group on its normal way out
    if pid:
        os.close(alive_r)
        return _Watchdog(pid, alive_w)
    try:  # the watchdog: never returns into the step's code
        os.close(alive_w)
        _close_all_but(lifeline.fileno(), alive_r)  # above all the step's event pipe: its EOF must not wait for us
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        ready, _, _ = select.select([lifeline.fileno(), alive_r], [], [])
        if lifeline.fileno() in ready:
            os.killpg(os.getpgid(0), signal.SIGKILL)
    finally:
        os._exit(0)


def _close_all_but(*keep: int) -> None:
    """Close every descriptor above stderr except `keep`."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _step_context(conn: Connection, task: StepTask) -> tuple[RunContext, Any]:
    from orchestra._core.instance import DagsterInstance, InMemoryEventLogStorage, InMemoryRunStorage
    from orchestra._core.plan import plan_for_job

    run = task.run
    job_def = _step_job(task.origin, run.job_name, run.op_selection)
    plan = plan_for_job(job_def)
    step = _resolve_step(plan, task.step_key, task.known)
    instance = DagsterInstance(InMemoryRunStorage(), InMemoryEventLogStorage(), is_ephemeral=False,
                               storage_dir=task.storage_dir)

    def sink(entry: Any) -> None:
        conn.send(("log", entry))

    run_context = RunContext(
        job_def=job_def, plan=plan, run=run, instance=instance, run_config=task.run_config, sink=sink, console=None,
        raise_on_error=False, input_values=dict(job_def.input_values), output_capture=None,
        resource_defs=job_def.resource_defs, partition_key=run.tags.get("dagster/partition"),
    )
    run_context.retries_enabled = task.retries_enabled
    run_context.marker_step_key = lambda: step.key  # type: ignore[method-assign]  # resource events name the step
    return run_context, step


def _resolve_step(plan: ExecutionPlan, step_key: str, known: Any) -> Any:
    """The plan's step `step_key`, resolving dynamic copies from the mapping keys seen so far."""
    step = plan.step_dict.get(step_key)
    if step is not None:
        return step
    for root, mapping_keys in known.mapping_keys.items():
        if root not in plan.unresolved_by_root:
            continue
        for copies in plan.resolve(root, mapping_keys).values():
            for copy in copies:
                if copy.key == step_key:
                    return copy
    raise KeyError(f"step {step_key!r} is not in the plan of this job")


def _failure(run_context: RunContext, step_key: str, error: Any, source: ErrorSource) -> DagsterEvent:
    message = (f'Execution of step "{step_key}" was interrupted.' if source == ErrorSource.INTERRUPT
               else f'Execution of step "{step_key}" failed.')
    return run_context.event("STEP_FAILURE", message, StepFailureData(error, None, source), step_key)
