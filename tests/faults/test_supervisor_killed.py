"""`orchestra dev`'s supervisor killed with SIGKILL (the OOM killer, `kill -9`): every process it started —
webserver and the code servers it hosts, the Celery worker with its pool and embedded beat, the run-worker
server — ends with it, so nothing keeps serving, holding the port or running duties after the deployment is
gone. (Before: the children, each in its own session, lived on as orphans; a test run leaked 28 spinning
workspace loaders.)"""

from __future__ import annotations

import signal
import time

import pytest

from tests.e2e.test_dev_flow import Dev, alive, descendants, health

pytestmark = pytest.mark.django_db(transaction=True)

# What `orchestra dev` starts, by a piece of each command line (orchestra/_cli/dev.py). Some start after the
# webserver answers /health (the code server, the worker's pool and beat), so the test waits for all of them
# rather than counting whatever is up at that moment.
ROLES = {
    "webserver": "uvicorn",
    "code server": "code-server start",
    "celery worker": "celery",
    "run-worker server": "run-worker-server",
}


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _started_tree(supervisor_pid: int, timeout: float = 60.0) -> set[tuple[int, str]]:
    """The supervisor's descendants once every role in ROLES is among them."""
    deadline = time.monotonic() + timeout
    while True:
        tree = {p for p in descendants(supervisor_pid) if p[0] != supervisor_pid}
        lines = [_command_line(pid) for pid, _ in tree]
        missing = [role for role, needle in ROLES.items() if not any(needle in line for line in lines)]
        if not missing:
            return tree
        if time.monotonic() > deadline:
            raise AssertionError(f"never started: {missing}; running: {lines}")
        time.sleep(0.2)


def test_everything_the_supervisor_started_dies_with_it(child_home, tmp_path):
    workdir = tmp_path / "project"
    workdir.mkdir()
    dev = Dev(child_home, workdir, tmp_path / "dev.log")
    try:
        dev.wait_until_ready()
        tree = _started_tree(dev.proc.pid)
        dev.proc.send_signal(signal.SIGKILL)  # the supervisor only: `orchestra dev` execs into it
        dev.proc.wait()
        deadline = time.monotonic() + 30  # Celery's warm shutdown takes a few seconds
        while alive(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(tree) == set(), f"left behind: {alive(tree)}\n{dev.log.read_text()[-2000:]}"
        assert health(dev.port) is None
    finally:
        dev.kill()
