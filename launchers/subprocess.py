"""SubprocessRunLauncher, the default run launcher: a run worker process per run on this machine.

The equivalent of Dagster's DefaultRunLauncher. The worker is `<python> -m orchestra api
execute-run RUN_ID`, where `<python>` is the code location's `executable_path` (or this
interpreter), started in the location's working directory, in a session of its own so that a
restart of the process that launched it (a webserver, a daemon worker) does not stop the run.

Reaping: each launched worker gets a small daemon thread in the launching process that waits for
it (so no zombie is left) and then reports the exit to `run_worker_exited`, which finishes the run
when the worker could not (an interpreter that does not start, a crash, a kill). A thread rather
than a double fork, because the launching process is the one place that learns the exit code at
once; if that process dies first, the worker is re-parented to init (which reaps it) and run
monitoring notices the silent heartbeat.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from runs.launching import CheckRunHealthResult, LaunchRunContext, RunLauncher, WorkerStatus
from runs.models import FINISHED_STATUSES, Run
from runs.queue import run_queue_nudge
from runs.run_worker_server import ForkedRunWorker, fork_run_worker, process_start_ticks
from runs.services import run_launcher_record, run_worker_exited

logger = logging.getLogger(__name__)

OUTPUT_TAIL_BYTES = 8000


def worker_command(run: Run) -> list[str]:
    """The run worker's command line for `run`, in its location's interpreter."""
    python = (run.origin or {}).get("executable_path") or sys.executable
    return [python, "-m", "orchestra", "api", "execute-run", run.run_id]


def worker_output_path(run_id: str) -> Path:
    """Where the run worker's own stdout/stderr go (kept only when it ended abnormally)."""
    folder = Path(settings.ORCHESTRA_HOME) / "run_workers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{run_id}.log"


def start_run_worker(run: Run, *, new_session: bool = True,
                     fork: bool = False) -> tuple[subprocess.Popen | ForkedRunWorker, Path]:
    """Start the run worker process for `run`; raise OSError when it cannot be started.

    With `fork`, this home's run-worker server (`runs/run_worker_server.py`) forks it when
    there is one serving the run's interpreter; otherwise, and without `fork`, it is a subprocess.
    """
    origin = run.origin or {}
    cwd = origin.get("working_directory") or None
    if cwd is not None and not Path(cwd).is_dir():
        raise FileNotFoundError(f"the code location's working directory {cwd!r} does not exist")
    env = {**os.environ, "ORCHESTRA_HOME": str(settings.ORCHESTRA_HOME)}
    output_path = worker_output_path(run.run_id)
    if fork and new_session:
        forked = fork_run_worker(home=str(settings.ORCHESTRA_HOME), run_id=run.run_id,
                                 python=worker_command(run)[0], cwd=cwd, env=env, output_path=output_path)
        if forked is not None:
            return forked, output_path
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            worker_command(run), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=new_session, close_fds=True,
        )
    return process, output_path


def wait_for_run_worker(process: subprocess.Popen | ForkedRunWorker, run_id: str, hostname: str,
                        output_path: Path) -> Run | None:
    """Wait for the worker to exit, then let `run_worker_exited` finish the run if the worker could not.

    The worker's output file is removed after a normal end (the run's events say everything), kept
    and named in the engine event otherwise. A forked worker's server reaps it and cleans its
    process group; when that server went away first there is no exit code, and run monitoring
    (the worker's pid, start time and heartbeat) ends the run.
    """
    forked = isinstance(process, ForkedRunWorker)
    try:  # asked before the wait: the process (or its zombie) still holds its pid
        leads_group = not forked and os.getpgid(process.pid) == process.pid
    except OSError:
        leads_group = False
    returncode = process.wait()
    if returncode is None:
        run_queue_nudge()
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()
        return None
    if leads_group:
        # Whatever the worker left in its own process group (processes an in-process op started,
        # when the worker was SIGKILLed) dies with it. The group id stays reserved while any member
        # lives, so this cannot reach an unrelated process.
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    try:
        output = _tail(output_path)
        run = run_worker_exited(run_id=run_id, pid=process.pid, hostname=hostname, returncode=returncode,
                                output=output)
        # 0 succeeded, 1 failed or canceled, 2 refused (a run that went on without this worker)
        normal = returncode in (0, 1, 2) and run is not None and run.status in FINISHED_STATUSES
        if normal or run is None:
            output_path.unlink(missing_ok=True)
        # The run's slot is free: let the run queue fill it now rather than at its next periodic pass.
        run_queue_nudge()
        return run
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()  # this thread's connections only


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - OUTPUT_TAIL_BYTES))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def worker_pid(run: Run) -> tuple[int | None, str | None]:
    """The run worker's pid and host: the claiming worker's, else the one the launcher started."""
    launcher = run.launcher or {}
    worker = launcher.get("worker") or {}
    if worker.get("pid"):
        return int(worker["pid"]), worker.get("hostname")
    if launcher.get("pid"):
        return int(launcher["pid"]), launcher.get("hostname")
    return None, None


def worker_started(run: Run, pid: int) -> str | None:
    """The start time the launcher recorded for the forked worker `pid`, if it forked that one."""
    launcher = run.launcher or {}
    return launcher.get("started") if launcher.get("pid") == pid else None


def process_is_worker(pid: int, run_id: str, started: str | None = None) -> bool:
    """Whether `pid` is alive (not a zombie) and is the run worker of `run_id` (pids get reused).

    A worker is recognised by the run id on its command line, or, forked by the run-worker server
    (whose command line it keeps), by the start time the launcher recorded with its pid.
    """
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            return False
        if state == "Z":
            return False
        return run_id.encode() in cmdline or (started is not None and process_start_ticks(pid) == started)
    if Path("/proc/self").is_dir():
        return False  # a /proc without this pid: it is gone
    try:  # no /proc (macOS): the pid alone
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def local_worker_health(run: Run) -> CheckRunHealthResult:
    pid, hostname = worker_pid(run)
    if pid is None:
        return CheckRunHealthResult(WorkerStatus.NOT_FOUND, "no run worker was recorded for the run")
    if hostname != socket.gethostname():
        return CheckRunHealthResult(WorkerStatus.UNKNOWN, f"the run worker runs on {hostname}, not on this host",
                                    run_worker_id=str(pid))
    if process_is_worker(pid, run.run_id, worker_started(run, pid)):
        return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
    return CheckRunHealthResult(WorkerStatus.NOT_FOUND, f"run worker process {pid} is not running",
                                run_worker_id=str(pid))


def terminate_local_worker(run_id: str) -> bool:
    """SIGTERM the run's worker if it runs on this host; the worker then cancels the run."""
    run = Run.objects.filter(run_id=run_id).only("run_id", "launcher").first()
    if run is None:
        return False
    pid, hostname = worker_pid(run)
    if pid is None or hostname != socket.gethostname() or not process_is_worker(pid, run_id, worker_started(run, pid)):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


class SubprocessRunLauncher(RunLauncher):
    """Starts each run worker as a child process of the launching process, on this machine."""

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.run
        process, output_path = start_run_worker(run, fork=True)
        hostname = socket.gethostname()
        info = {"class": f"{type(self).__module__}.{type(self).__qualname__}", "pid": process.pid,
                "hostname": hostname, "output": str(output_path)}
        if isinstance(process, ForkedRunWorker):
            info.update(forked=True, started=process.started)
        try:
            run_launcher_record(run_id=run.run_id, info=info)
        finally:
            threading.Thread(
                target=wait_for_run_worker, args=(process, run.run_id, hostname, output_path),
                name=f"run-worker-reaper-{process.pid}", daemon=True,
            ).start()

    def terminate(self, run_id: str) -> bool:
        return terminate_local_worker(run_id)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: Run) -> CheckRunHealthResult:
        return local_worker_health(run)

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[str]:
        return [f"unexpected key {key!r}: the subprocess run launcher takes no config" for key in config]
