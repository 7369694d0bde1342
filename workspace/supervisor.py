"""Starting and keeping alive one code server per local workspace entry, each in that entry's Python.

A small supervisor rather than a library: process managers that fit (supervisord, circus, honcho)
either run as their own daemon or do not restart with back-off; what is needed here is ~150 lines of
`subprocess` plus one monitor thread. Each server is `<python> -m orchestra code-server start` on a
free loopback port it picks itself (`--port 0`), reporting the port through a ready file, and stopping
on its own if the supervising process dies (`--exit-with-parent`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.exceptions import OrchestraError
from workspace.client import CodeServerClient, CodeServerError
from workspace.config import LocationEntry

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class CodeServerStartError(OrchestraError):
    """A code server did not come up: its process exited, or it was not healthy in time."""

    def __init__(self, location_name: str, message: str, output: str = ""):
        self.location_name = location_name
        self.output = output
        tail = f"\n\nIts output ended with:\n{output}" if output else ""
        super().__init__(f"The code server for location {location_name!r} did not start: {message}{tail}")


class ManagedCodeServer:
    """One local location's code server process."""

    def __init__(self, entry: LocationEntry, *, startup_timeout: float = 180.0, evaluation_timeout: float = 60.0,
                 run_dir: Path | None = None):
        if not entry.is_local:
            raise ValueError(f"location {entry.name!r} is a code_server entry; Orchestra does not start it")
        self.entry = entry
        self.startup_timeout = startup_timeout
        self.evaluation_timeout = evaluation_timeout
        self.run_dir = Path(run_dir or tempfile.mkdtemp(prefix="orchestra-code-server-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.restarts = 0
        self.started_at: float | None = None  # wall-clock time of the last successful start

    @property
    def name(self) -> str:
        return self.entry.name

    def command(self, ready_file: Path) -> list[str]:
        return [
            self.entry.python, "-m", "orchestra", "code-server", "start", *self.entry.pointer_args(),
            "--host", LOOPBACK, "--port", "0", "--ready-file", str(ready_file), "--exit-with-parent",
            "--evaluation-timeout", str(self.evaluation_timeout),
        ]

    def start(self, timeout: float | None = None) -> dict[str, Any]:
        """Start the process and wait until it answers `/health`; returns `{host, port, pid, server_id, ...}`.

        Raises CodeServerStartError (with the end of the server's output) when it exits or stays silent
        past `timeout` (default `startup_timeout`; 0 waits forever).
        """
        timeout = self.startup_timeout if timeout is None else timeout
        ready_file = self.run_dir / f"ready-{os.getpid()}-{time.monotonic_ns()}.json"
        log_path = self.run_dir / "output.log"
        executable = shutil.which(self.entry.python) or self.entry.python
        if not os.path.exists(executable):
            raise CodeServerStartError(self.name, f"executable_path {self.entry.python!r} does not exist")
        cwd = self.entry.working_directory if self.entry.working_directory and os.path.isdir(
            self.entry.working_directory) else None
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(ready_file), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + (timeout or float("inf"))
        while not ready_file.exists():
            if self.process.poll() is not None:
                raise CodeServerStartError(self.name, f"its process exited with status {self.process.returncode}",
                                           self.output_tail())
            if time.monotonic() > deadline:
                self.stop()
                raise CodeServerStartError(self.name, f"not listening after {timeout:g} s (code_servers' "
                                                      "local_startup_timeout or reload_timeout)", self.output_tail())
            time.sleep(0.02)
        info = json.loads(ready_file.read_text())
        ready_file.unlink(missing_ok=True)
        client = CodeServerClient(info["host"], info["port"], timeout=self.evaluation_timeout)
        while True:
            try:
                health = client.health(timeout=max(1.0, min(5.0, deadline - time.monotonic())))
                break
            except CodeServerError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise CodeServerStartError(self.name, "it did not answer /health", self.output_tail()) from None
                time.sleep(0.05)
        self.info = {**info, "loaded": health.get("loaded"), "executable": executable}
        self.started_at = time.time()
        return self.info

    def client(self) -> CodeServerClient:
        if not self.info:
            raise CodeServerStartError(self.name, "it has not been started")
        return CodeServerClient(self.info["host"], self.info["port"], timeout=self.evaluation_timeout)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def output_tail(self, lines: int = 30) -> str:
        try:
            text = (self.run_dir / "output.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])


class Supervisor:
    """Starts a code server per local entry and restarts any that dies, with exponential back-off.

    `on_start(server)` is called after every successful (re)start — the place to store the new
    snapshot; `on_failure(server, error)` after every failed start; `on_tick(supervisor)` from the
    monitor thread every `tick_interval` seconds (where reload requests are picked up).

    Example:
        >>> supervisor = Supervisor(entries, startup_timeout=180, on_start=store_snapshot)
        >>> supervisor.start()
        >>> supervisor.servers["defs.py"].client().snapshot()
        >>> supervisor.stop()
    """

    def __init__(self, entries: Iterable[LocationEntry], *, startup_timeout: float = 180.0,
                 evaluation_timeout: float = 60.0, initial_backoff: float = 0.5, max_backoff: float = 30.0,
                 stable_after: float = 60.0, poll_interval: float = 0.2,
                 on_start: Callable[[ManagedCodeServer], None] | None = None,
                 on_failure: Callable[[ManagedCodeServer, CodeServerStartError], None] | None = None,
                 on_tick: Callable[[Supervisor], None] | None = None, tick_interval: float = 1.0):
        self.run_dir = Path(tempfile.mkdtemp(prefix="orchestra-code-servers-"))
        self.servers: dict[str, ManagedCodeServer] = {
            entry.name: ManagedCodeServer(entry, startup_timeout=startup_timeout,
                                          evaluation_timeout=evaluation_timeout,
                                          run_dir=self.run_dir / _safe(entry.name))
            for entry in entries if entry.is_local
        }
        for server in self.servers.values():
            server.run_dir.mkdir(parents=True, exist_ok=True)
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.poll_interval = poll_interval
        self.on_start = on_start
        self.on_failure = on_failure
        self.on_tick = on_tick
        self.tick_interval = tick_interval
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        # Per server: when it last started and when it may next be restarted.
        self._started_at: dict[str, float] = {}
        self._backoff: dict[str, float] = {}
        self._next_try: dict[str, float] = {}

    def start(self) -> dict[str, CodeServerStartError | None]:
        """Start every server in parallel and the monitor; returns each location's start error (or None)."""
        results: dict[str, CodeServerStartError | None] = {}

        def one(server: ManagedCodeServer) -> None:
            results[server.name] = self._start_one(server)

        threads = [threading.Thread(target=one, args=(s,), daemon=True) for s in self.servers.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self._monitor = threading.Thread(target=self._watch, name="code server supervisor", daemon=True)
        self._monitor.start()
        return results

    def restart(self, name: str, timeout: float | None = None) -> CodeServerStartError | None:
        """Stop and start one server now (a reload: its process imports the code afresh)."""
        server = self.servers[name]
        with self._lock:
            server.stop()
            return self._start_one(server, timeout)

    def stop(self) -> None:
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        for server in self.servers.values():
            server.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def _start_one(self, server: ManagedCodeServer, timeout: float | None = None) -> CodeServerStartError | None:
        try:
            server.start(timeout)
        except CodeServerStartError as exc:
            backoff = self._backoff.get(server.name, self.initial_backoff / 2) * 2
            self._backoff[server.name] = min(backoff, self.max_backoff)
            self._next_try[server.name] = time.monotonic() + self._backoff[server.name]
            logger.warning("%s; next try in %.1f s", exc, self._backoff[server.name])
            if self.on_failure is not None:
                self.on_failure(server, exc)
            return exc
        self._started_at[server.name] = time.monotonic()
        self._next_try.pop(server.name, None)
        if self.on_start is not None:
            try:
                self.on_start(server)
            except Exception:
                logger.exception("Storing the state of code location %r failed", server.name)
        return None

    def _watch(self) -> None:
        last_tick = time.monotonic()
        while not self._stopping.wait(self.poll_interval):
            if self.on_tick is not None and time.monotonic() - last_tick >= self.tick_interval:
                last_tick = time.monotonic()
                try:
                    self.on_tick(self)
                except Exception:
                    logger.exception("The supervisor's periodic duty failed")
            for server in list(self.servers.values()):
                with self._lock:
                    if self._stopping.is_set() or server.alive():
                        if server.alive() and time.monotonic() - self._started_at.get(server.name, 0) > self.stable_after:
                            self._backoff.pop(server.name, None)  # up long enough: forget past crashes
                        continue
                    now = time.monotonic()
                    if server.name not in self._next_try:
                        # It died after a good start: wait the back-off before starting it again.
                        backoff = self._backoff.get(server.name, self.initial_backoff / 2) * 2
                        self._backoff[server.name] = min(backoff, self.max_backoff)
                        self._next_try[server.name] = now + self._backoff[server.name]
                        logger.warning("The code server for location %r exited (status %s); restarting in %.1f s",
                                       server.name, server.process.returncode if server.process else None,
                                       self._backoff[server.name])
                        continue
                    if now >= self._next_try[server.name]:
                        server.restarts += 1
                        self._start_one(server)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "location"
