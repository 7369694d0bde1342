"""The production shape as real processes, started the way README's "Production" section tells a user to.

On the test's PostgreSQL database and Redis: `orchestra workspace load --serve` (the code servers),
`orchestra webserver`, `orchestra daemon` (beat and a daemon worker), `orchestra daemon --no-beat` (a
second daemon worker), and Celery workers for run workers (`-Q runs`) and step workers (`-Q steps`).
The instance queues runs (QueuedRunCoordinator) and launches them on Celery (CeleryRunLauncher), and
the location's jobs use the Celery executor, so every role is on the path of every run. Each role can
be SIGKILLed (its whole process group, as a lost machine or container would be) and started again, as
a process supervisor (systemd, Kubernetes) would.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import write_child_home
from tests.faults.processes import Process, add_to_instance, free_port, wait_http

DEFS = Path(__file__).with_name("shape_defs.py")
LOCATION = "shape"
MAX_CONCURRENT_RUNS = 2
# A step whose Celery task stops heart-beating is failed by its run worker after this long (default 60 s).
STEP_LOST_SECONDS = 10
INSTANCE = f"""\
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: {MAX_CONCURRENT_RUNS}
    dequeue_interval_seconds: 1
run_launcher:
  module: dagster_celery
  class: CeleryRunLauncher
run_monitoring:
  enabled: true
"""


def orchestra(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestra", *args]


def celery_worker(queue: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "orchestra_site",
        "worker",
        "-Q",
        queue,
        "-c",
        "2",
        "-l",
        "warning",
        "-n",
        f"{queue}-{os.getpid()}@%h",
    ]


class Shape:
    """The deployment: one Process per role, started again under the same name after a kill."""

    def __init__(self, root: Path):
        self.root = root
        self.home = write_child_home(root / "home")
        add_to_instance(self.home, INSTANCE)
        self.code = root / "code"
        self.code.mkdir()
        shutil.copy(DEFS, self.code / "shape_defs.py")
        (self.code / "workspace.yaml").write_text(
            f"load_from:\n  - python_file: {{relative_path: shape_defs.py, location_name: {LOCATION}}}\n"
        )
        self.marks = root / "marks"
        self.marks.mkdir()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "TEST_MARKS": str(self.marks),
            "ORCHESTRA_CELERY_STEP_LOST_SECONDS": str(STEP_LOST_SECONDS),
        }
        self.commands = {
            "code servers": orchestra(
                "workspace", "load", "--serve", "-w", str(self.code / "workspace.yaml")
            ),
            "webserver": orchestra("webserver", "-h", "127.0.0.1", "-p", str(self.port)),
            "daemon": orchestra("daemon"),  # beat and a daemon worker
            "daemon 2": orchestra("daemon", "--no-beat"),
            "run worker": celery_worker("runs"),
            "step worker": celery_worker("steps"),
        }
        self.processes: dict[str, Process] = {}
        self.starts: dict[str, int] = {}

    def start(self, role: str, command: list[str] | None = None) -> Process:
        self.starts[role] = self.starts.get(role, 0) + 1
        log = self.root / f"{role.replace(' ', '_')}.{self.starts[role]}.log"
        process = Process(self.home, command or self.commands[role], log, self.env).start()
        self.processes[role] = process
        return process

    def start_all(self) -> None:
        for role in self.commands:
            self.start(role)
        wait_http(self.processes["webserver"], f"{self.base}/health")

    def heal(self) -> list[str]:
        """Start again every role whose process has ended (a scenario that failed half-way leaves the
        deployment whole for the next one); answers the roles started."""
        ended = [role for role in self.commands if self.processes[role].proc.poll() is not None]
        for role in ended:
            self.start(role)
        return ended

    def kill(self, role: str) -> float:
        """SIGKILL the role's process group; answers when (time.monotonic())."""
        self.processes[role].kill()
        return time.monotonic()

    def kill_daemon_child(self, role: str, child: str) -> float:
        """SIGKILL one child (`worker` or `beat`) of an `orchestra daemon` with its group, as the OOM
        killer or a crash would. Its supervisor then stops the rest and exits; the caller starts it again."""
        process = self.processes[role]
        pid = self.daemon_child_pid(role, child)
        os.killpg(pid, signal.SIGKILL)
        killed = time.monotonic()
        process.proc.wait(timeout=60)
        return killed

    def daemon_child_pid(self, role: str, child: str, timeout: float = 60) -> int:
        pattern = re.compile(rf"\| {child} started \(pid (\d+)\)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.findall(self.processes[role].log.read_text(errors="replace"))
            if found:
                return int(found[-1])
            time.sleep(0.1)
        raise AssertionError(f"{role}: no {child} started: {self.processes[role].output()}")

    def stop_all(self) -> None:
        """SIGTERM every role at once (Celery workers shut down warm in parallel), then kill what is left."""
        for process in self.processes.values():
            if process.proc is not None and process.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.proc.wait(max(0.1, deadline - time.monotonic()))
            process.kill()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted(self.root.glob("*.log"))
        )

    # --- a client of the deployment, through its webserver ---

    def request(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        headers: dict | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.base}{path}",
            json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"{}")
            except ValueError:
                return exc.code, {}

    def launch(self, job: str, run_config: dict | None = None, headers: dict | None = None) -> str:
        status, body = self.request(
            "POST",
            "/api/runs",
            {"job_name": job, "location_name": LOCATION, "run_config": run_config or {}},
            headers,
        )
        assert status == 201, (status, body)
        return body["run_id"]
