"""Real processes for the fault scenarios: start them on the test database and broker, kill them with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO, child_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_to_instance(home: Path, yaml_text: str) -> None:
    """Append top-level keys to the child ORCHESTRA_HOME's orchestra.yaml."""
    path = home / "orchestra.yaml"
    path.write_text(path.read_text() + yaml_text)


class Process:
    """One child process of the deployment, started in its own process group so a kill reaches its children."""

    def __init__(self, home: Path, args: list[str], log: Path, env: dict[str, str] | None = None):
        self.home, self.args, self.log, self.env = home, args, log, dict(env or {})
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(self.args, env={**child_env(self.home), **self.env}, cwd=REPO, stdout=handle,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL the whole process group, as the OOM killer or a lost machine would, and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def record_figure(scenario: str, **values: float) -> None:
    """Append one measurement of a scenario for `bench/faults.py`, when ORCHESTRA_FAULTS_FIGURES names a file."""
    path = os.environ.get("ORCHESTRA_FAULTS_FIGURES")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps({"scenario": scenario, **values}) + "\n")


def webserver(home: Path, port: int, log: Path) -> Process:
    return Process(home, [sys.executable, "-m", "uvicorn", "orchestra_site.asgi:application", "--host", "127.0.0.1",
                          "--port", str(port)], log)


def wait_http(process: Process, url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.proc.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{process.args} did not answer {url}: {process.output()}")
        time.sleep(0.1)


def celery_worker(home: Path, log: Path, *, queues: str = "celery", name: str = "w") -> Process:
    return Process(home, [sys.executable, "-m", "celery", "-A", "orchestra_site", "worker", "-Q", queues,
                          "--pool", "solo", "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
                          "--without-heartbeat", "-l", "INFO"], log)
