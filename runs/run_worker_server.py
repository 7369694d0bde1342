"""The run-worker server: a warm process that forks run workers, so a run starts in milliseconds.

Dagster's DefaultRunLauncher asks a code location's gRPC server to start a run; this is the same
idea for `SubprocessRunLauncher`. `orchestra api run-worker-server` (started by `orchestra dev`) sets
Django up with the worker settings, imports the run worker and the SDK, and listens on an abstract
Unix socket named after ORCHESTRA_HOME. A launcher on this host that finds it sends the run id, the
interpreter, the working directory and its environment; the server forks a child that becomes the
run worker exactly as `orchestra api execute-run RUN_ID` would (its own session, output in
`run_workers/<run_id>.log`, the launcher's environment, the location's directory first on
`sys.path`), answers its pid and, when it ends, its exit code. The launcher's reaper thread reads
that answer where it would otherwise wait for its own child. A run whose interpreter is not the
server's, or a server that is not there, takes the subprocess path unchanged.

Invariants kept: the server is single-threaded and holds no database connection when it forks (it
closes them after warming up); the child closes the server's sockets and resets its signals before
anything else. The server kills what a worker left in its process group before it reaps the worker
(the group id is still reserved then). Workers do not die with the server: like subprocess workers
they outlive whoever launched them, and when the server is gone before its worker, the launcher
gets no exit code and leaves the run to run monitoring (pid, start time and heartbeat). User code
is never imported by the server, so each run imports the location's current code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path

REQUEST_TIMEOUT_SECONDS = 5.0
_MAX_REQUEST_BYTES = 4 * 2**20


def server_address(home: str | os.PathLike) -> str:
    """The abstract socket name of the run-worker server of ORCHESTRA_HOME `home` (Linux only)."""
    digest = hashlib.sha256(str(Path(home).resolve()).encode()).hexdigest()[:24]
    return f"\0orchestra-run-workers-{digest}"


def process_start_ticks(pid: int) -> str | None:
    """The start time of process `pid` in clock ticks since boot (with the pid, names one process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


# --- the launcher's side -------------------------------------------------------------------------


class ForkedRunWorker:
    """A run worker forked by the run-worker server, waited on like a `subprocess.Popen`."""

    forked = True

    def __init__(self, connection: socket.socket, pid: int, started: str | None):
        self._connection, self.pid, self.started = connection, pid, started
        self._reader = connection.makefile("rb")

    def wait(self) -> int | None:
        """The worker's exit code (negative: the signal), or None when the server went away first."""
        try:
            line = self._reader.readline()
            answer = json.loads(line) if line else {}
        except (OSError, ValueError):
            answer = {}
        finally:
            with contextlib.suppress(OSError):
                self._reader.close()
                self._connection.close()
        return answer.get("exit") if isinstance(answer.get("exit"), int) else None


def fork_run_worker(*, home: str, run_id: str, python: str, cwd: str | None, env: Mapping[str, str],
                    output_path: Path) -> ForkedRunWorker | None:
    """Ask this home's run-worker server to fork the worker of `run_id`; None when it cannot.

    None (no server, another interpreter, a refusal) means: start the worker as a subprocess.
    """
    if not sys.platform.startswith("linux"):
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(REQUEST_TIMEOUT_SECONDS)
        connection.connect(server_address(home))
        request = {"run_id": run_id, "python": python, "cwd": cwd, "env": dict(env), "output": str(output_path)}
        connection.sendall(json.dumps(request).encode() + b"\n")
        reader = connection.makefile("rb")
        answer = json.loads(reader.readline() or b"{}")
        reader.close()
    except (OSError, ValueError):
        connection.close()
        return None
    if not isinstance(answer.get("pid"), int):
        connection.close()
        return None
    connection.settimeout(None)  # the exit comes when the run ends
    return ForkedRunWorker(connection, answer["pid"], answer.get("started"))


# --- the server ----------------------------------------------------------------------------------


def serve(home: str) -> None:
    """Serve fork requests until SIGTERM/SIGINT or until the parent process exits.

    Django must be set up (worker settings); the caller did that.
    """
    _warm_up()
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(server_address(home))
    listener.listen(64)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    stopping: list[int] = []
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda signum, _: stopping.append(signum))
    signal.signal(signal.SIGINT, lambda signum, _: stopping.append(signum))
    signal.set_wakeup_fd(wake_write)
    waiting: dict[int, socket.socket] = {}  # worker pid -> the launcher's connection
    print(f"run-worker server ready (pid {os.getpid()})", flush=True)
    try:
        while not stopping and os.getppid() == parent:
            with contextlib.suppress(InterruptedError):
                readable, _, _ = select.select([listener, wake_read], [], [], 1.0)
            if wake_read in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_read, 4096)
            if listener in readable:
                _accept(listener, waiting, (listener.fileno(), wake_read, wake_write))
            _reap(waiting)
    finally:
        signal.set_wakeup_fd(-1)
        listener.close()
        for connection in waiting.values():  # the launchers fall back to run monitoring
            connection.close()


def _warm_up() -> None:
    """Import what run workers and their steps import, then close the connections opened on the way.

    The whole public SDK is imported (it is lazy: user code's `dg.asset`, `dg.Definitions` pull in
    most of it), and the default IO manager's path class set up (upath scans entry points once).
    A run worker forks its step server from this state, so a step finds all of it imported instead
    of compiling and importing it again (~150 ms of CPU per step). Objects are then frozen
    (`gc.freeze`): the collector never writes to them, so the forks keep sharing their pages.
    """
    import gc
    import importlib

    from django.db import connections

    import orchestra
    import orchestra._core.execute  # noqa: F401
    import runs.multiprocess_executor  # noqa: F401
    import runs.worker  # noqa: F401
    from orchestra._core.definitions_class import module_loading  # noqa: F401
    from orchestra._core.io_managers.upath import PickledObjectFilesystemIOManager
    from runs import instance_storage  # noqa: F401

    for name in orchestra.__all__:
        getattr(orchestra, name)
    PickledObjectFilesystemIOManager(base_dir=".")
    for module in runs.multiprocess_executor.FORKSERVER_PRELOAD:
        importlib.import_module(module)
    for connection in connections.all():
        connection.ensure_connection()  # imports the database driver and backend modules
    _prime_queries()
    connections.close_all()
    gc.collect()
    gc.freeze()


def _prime_queries() -> None:
    """Read through the models a run worker reads and writes, so Django's lazily built query and
    field caches are built here, once, rather than in each worker (about 3 MiB each)."""
    from core.exceptions import NotFound
    from runs import selectors
    from runs.models import EventLogEntry

    with contextlib.suppress(NotFound):
        selectors.run_get(run_id="")
    selectors.events_after(run_id="", cursor=None, limit=1)
    EventLogEntry.objects.filter(run_id="").order_by("-id").first()


def _accept(listener: socket.socket, waiting: dict[int, socket.socket], server_fds: tuple[int, ...]) -> None:
    try:
        connection, _ = listener.accept()
    except OSError:
        return
    try:
        connection.settimeout(REQUEST_TIMEOUT_SECONDS)
        uid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                        struct.calcsize("3i")))[1]
        request = json.loads(_read_line(connection))
        if uid != os.getuid():
            raise PermissionError("the run-worker server serves its own user only")
        if request.get("python") != sys.executable:
            raise ValueError(f"this server runs {sys.executable}, not {request.get('python')}")
        run_id, cwd, env, output = (str(request["run_id"]), request.get("cwd"), dict(request["env"]),
                                    str(request["output"]))
    except Exception as exc:  # a refusal: the launcher starts a subprocess instead
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"refused": str(exc)}).encode() + b"\n")
        connection.close()
        return
    from django.db import connections

    connections.close_all()  # a connection must never be shared with a child
    pid = os.fork()
    if pid == 0:
        _become_worker(run_id, cwd, env, output, [*server_fds, connection.fileno(),
                                                  *(c.fileno() for c in waiting.values())])
    try:
        connection.sendall(json.dumps({"pid": pid, "started": process_start_ticks(pid)}).encode() + b"\n")
    except OSError:
        pass  # the launcher is gone: run monitoring watches the worker through its pid and heartbeat
    waiting[pid] = connection


def _read_line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > _MAX_REQUEST_BYTES:
            raise ValueError("request too large")
    return data


def _reap(waiting: dict[int, socket.socket]) -> None:
    """Report every worker that exited, after killing what it left in its process group."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None:
            return
        pid = info.si_pid
        # Still a zombie: its pid and group id cannot have been reused.
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        connection = waiting.pop(pid, None)
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
            connection.close()


def _become_worker(run_id: str, cwd: str | None, env: dict[str, str], output: str, close_fds: list[int]) -> None:
    """In the forked child: turn into `orchestra api execute-run RUN_ID`; never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in close_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        os.setsid()
        sys.stdout.flush()
        sys.stderr.flush()
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(null)
        os.close(out)
        os.environ.clear()
        os.environ.update(env)
        if cwd:
            os.chdir(cwd)
        sys.path[0] = cwd or os.getcwd()  # as `python -m` puts the working directory first
        sys.argv = [sys.executable, "-m", "orchestra", "api", "execute-run", run_id]
        from runs.worker import run_worker_execute

        code = run_worker_execute(run_id=run_id)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def wait_until_serving(home: str, timeout: float = 30.0) -> bool:
    """Whether the server of `home` accepts connections within `timeout` seconds (for tests and tools)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(server_address(home))
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            probe.close()
    return False
