"""`orchestra dev`'s supervisor killed with SIGKILL (the OOM killer, `kill -9`): every process it started —
webserver, Celery worker and its pool, beat, the workspace loader and its code servers — ends with it, so
nothing keeps serving, holding the port or running duties after the deployment is gone. (Before: the
children, each in its own session, lived on as orphans; a test run leaked 28 spinning workspace loaders.)"""

from __future__ import annotations

import signal
import time

import pytest

from tests.e2e.test_dev_flow import Dev, alive, descendants, health

pytestmark = pytest.mark.django_db(transaction=True)


def test_everything_the_supervisor_started_dies_with_it(child_home, tmp_path):
    workdir = tmp_path / "project"
    workdir.mkdir()
    dev = Dev(child_home, workdir, tmp_path / "dev.log")
    try:
        dev.wait_until_ready()
        tree = descendants(dev.proc.pid) - {p for p in descendants(dev.proc.pid) if p[0] == dev.proc.pid}
        assert len(tree) >= 5, tree  # webserver, worker (+ pool), beat, loader (+ code server), run workers
        dev.proc.send_signal(signal.SIGKILL)  # the supervisor only: `orchestra dev` execs into it
        dev.proc.wait()
        deadline = time.monotonic() + 30  # Celery's warm shutdown takes a few seconds
        while alive(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(tree) == set(), f"left behind: {alive(tree)}\n{dev.log.read_text()[-2000:]}"
        assert health(dev.port) is None
    finally:
        dev.kill()
