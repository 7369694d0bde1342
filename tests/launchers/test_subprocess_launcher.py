"""SubprocessRunLauncher: real run worker processes started, watched, reaped and stopped."""

from __future__ import annotations

import os
import signal
import socket

import pytest

from launchers.subprocess import SubprocessRunLauncher, worker_output_path
from runs import selectors
from runs.launching import WorkerStatus, instance_run_launcher
from runs.models import Run, RunStatus
from runs.services import run_submit, run_terminate
from tests.runs.locations import join_reapers, store_location, wait_finished, wait_for, wait_worker_exited
from workspace.models import CodeLocation

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


@pytest.fixture
def location(tmp_path, settings, child_home, monkeypatch):
    settings.ORCHESTRA_HOME = child_home
    (tmp_path / "marks").mkdir()
    monkeypatch.setenv("TEST_MARKS", str(tmp_path / "marks"))  # the workers inherit the environment
    monkeypatch.setenv("ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS", "0.2")
    yield store_location(tmp_path)
    join_reapers()


def _events(run_id, *types):
    return selectors.events_after(run_id=run_id, limit=10_000, event_types=list(types) or None)


def _running_slow_step(run_id, marks=None):
    """Wait until the slow op runs: inside its `try` when `marks` is given (so its `finally` runs on a stop)."""
    wait_for(lambda: _events(run_id, "STEP_INPUT"), what="the slow step running")
    if marks is not None:
        wait_for(lambda: (marks / "slow-started").exists(), what="the slow op inside its try")


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_in_its_own_session_and_is_healthy_while_it_runs(location, tmp_path):
    launcher = instance_run_launcher()
    assert isinstance(launcher, SubprocessRunLauncher) and launcher.supports_check_run_worker_health
    run = run_submit(job_name="sleepy", location_name="launch_defs", run_config=IN_PROCESS)
    _running_slow_step(run.run_id)
    run = Run.objects.get(pk=run.pk)
    pid = run.launcher["pid"]
    assert run.launcher["hostname"] == socket.gethostname() and run.launcher["worker"]["pid"] == pid
    assert os.getsid(pid) == pid != os.getsid(0)  # its own session: a restart of the launcher leaves it be
    health = launcher.check_run_worker_health(run)
    assert health.status == WorkerStatus.RUNNING and health.run_worker_id == str(pid)
    elsewhere = Run(run_id=run.run_id, launcher={"worker": {"pid": pid, "hostname": "another-host"}})
    assert launcher.check_run_worker_health(elsewhere).status == WorkerStatus.UNKNOWN
    run_terminate(run_id=run.run_id)
    assert wait_worker_exited(run.run_id).status == RunStatus.CANCELED
    wait_for(lambda: launcher.check_run_worker_health(run).status == WorkerStatus.NOT_FOUND, what="worker gone")
    wait_for(lambda: not worker_output_path(run.run_id).exists(), what="output removed after a normal end")


@pytest.mark.django_db(transaction=True)
def test_force_terminate_cancels_at_once_and_still_stops_the_worker(location, tmp_path):
    run = run_submit(job_name="sleepy", location_name="launch_defs", run_config=IN_PROCESS)
    _running_slow_step(run.run_id, tmp_path / "marks")
    done = run_terminate(run_id=run.run_id, force=True)
    assert done.status == RunStatus.CANCELED
    wait_worker_exited(run.run_id)
    assert (tmp_path / "marks" / "slow-stopped").exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED
    types = [e.event_type for e in _events(run.run_id)]
    # the worker's own step and run events came too late: the log closed at RUN_CANCELED
    assert types.count("RUN_CANCELED") == 1 and "STEP_FAILURE" not in types
    assert types[-1] == "ENGINE_EVENT"


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_fails_the_run_with_the_reason(location):
    run = run_submit(job_name="sleepy", location_name="launch_defs", run_config=IN_PROCESS)
    _running_slow_step(run.run_id)
    pid = Run.objects.get(pk=run.pk).launcher["pid"]
    os.kill(pid, signal.SIGKILL)
    done = wait_finished(run.run_id)
    assert done.status == RunStatus.FAILURE
    [failure] = _events(run.run_id, "RUN_FAILURE")
    assert failure.payload["failure_reason"] == "UNEXPECTED_TERMINATION"
    assert f"Run worker process (pid: {pid})" in failure.message and "killed by signal 9" in failure.message
    assert worker_output_path(run.run_id).exists()  # kept for a look after an abnormal end


@pytest.mark.django_db(transaction=True)
def test_terminating_a_worker_that_has_not_claimed_the_run_cancels_it(location, tmp_path):
    # An interpreter that takes its time to start: the run stays STARTING, unclaimed.
    slow_python = tmp_path / "slow-python"
    slow_python.write_text('#!/bin/sh\nexec python3 -c "import time; time.sleep(30)" "$@"\n')
    slow_python.chmod(0o755)
    CodeLocation.objects.filter(pk=location.pk).update(
        origin={**location.origin, "executable_path": str(slow_python)})
    run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    assert run.status == RunStatus.STARTING
    assert run_terminate(run_id=run.run_id).status in (RunStatus.CANCELING, RunStatus.CANCELED)
    done = wait_finished(run.run_id)
    assert done.status == RunStatus.CANCELED
    [engine] = _events(run.run_id, "ENGINE_EVENT")
    assert "killed by signal 15 before it started the run" in engine.message


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.django_db(transaction=True)
def test_what_an_in_process_op_started_dies_with_its_sigkilled_worker(location, tmp_path):
    """In process the worker is the step process: SIGKILLed, it cannot stop the `sleep` its op
    started, so the launcher that reaps it kills what is left in the worker's process group."""
    run = run_submit(job_name="spawning", location_name="launch_defs", run_config=IN_PROCESS)
    marks = tmp_path / "marks"
    wait_for(lambda: (marks / "sleeper-pid").exists(), what="the op started its sleeper")
    sleeper = int((marks / "sleeper-pid").read_text())
    assert _alive(sleeper)
    os.kill(Run.objects.get(pk=run.pk).launcher["pid"], signal.SIGKILL)
    try:
        wait_for(lambda: not _alive(sleeper), what="the op's sleeper gone with its worker")
    finally:
        if _alive(sleeper):
            os.kill(sleeper, signal.SIGKILL)
    assert wait_finished(run.run_id).status == RunStatus.FAILURE
