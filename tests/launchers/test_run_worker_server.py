"""SubprocessRunLauncher with the run-worker server: workers forked from a warm process keep every
guarantee of subprocess workers (the subprocess launcher's tests run again here, with a server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from launchers.subprocess import worker_output_path
from runs import selectors
from runs.launching import WorkerStatus, instance_run_launcher
from runs.models import Run, RunStatus
from runs.run_worker_server import process_start_ticks, wait_until_serving
from runs.services import run_submit, run_terminate
from tests.launchers.test_subprocess_launcher import (  # noqa: F401  (run again, with the server up)
    IN_PROCESS,
    location,
    test_a_killed_worker_fails_the_run_with_the_reason,
    test_force_terminate_cancels_at_once_and_still_stops_the_worker,
    test_terminating_a_worker_that_has_not_claimed_the_run_cancels_it,
    test_the_worker_runs_in_its_own_session_and_is_healthy_while_it_runs,
    test_what_an_in_process_op_started_dies_with_its_sigkilled_worker,
)
from tests.runs.locations import wait_finished, wait_for, wait_worker_exited
from workspace.models import CodeLocation, LocationStatus

ENV_DEFS = """
import os
import sys

import orchestra as dg


@dg.op
def record():
    with open(os.path.join(os.environ["TEST_MARKS"], "environment"), "w") as handle:
        handle.write("\\n".join([os.environ.get("ORCHESTRA_TEST_FROM_LAUNCHER", ""), os.getcwd(), sys.path[0]]))


@dg.job
def environment():
    record()


defs = dg.Definitions(jobs=[environment])
"""


def _store_env_location(tmp_path) -> CodeLocation:
    from orchestra._core.definitions_class.module_loading import load_definitions
    from orchestra._core.snapshot.location import snapshot_from_definitions

    code = tmp_path / "env-code"
    code.mkdir()
    (code / "env_defs.py").write_text(ENV_DEFS)
    snapshot = snapshot_from_definitions(load_definitions(python_file=str(code / "env_defs.py")), "env_defs")
    return CodeLocation.objects.create(
        name="env_defs", status=LocationStatus.LOADED, snapshot=snapshot, snapshot_id=snapshot["snapshot_id"],
        origin={"name": "env_defs", "kind": "python_file", "python_file": str(code / "env_defs.py"),
                "working_directory": str(code)},
    )


def _start_server(home) -> subprocess.Popen:
    env = {**os.environ, "ORCHESTRA_HOME": str(home)}
    server = subprocess.Popen([sys.executable, "-m", "orchestra", "api", "run-worker-server"], env=env,
                              stdout=subprocess.DEVNULL)
    if not wait_until_serving(str(home), timeout=60):
        server.kill()
        server.wait()
        raise AssertionError("the run-worker server did not start")
    return server


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(autouse=True)
def server(location, child_home):  # noqa: F811  (the imported fixture)
    process = _start_server(child_home)
    yield process
    _stop(process)


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def _slow_step_running(run_id):
    wait_for(lambda: selectors.events_after(run_id=run_id, event_types=["STEP_INPUT"]), what="the slow step")


@pytest.mark.django_db(transaction=True)
def test_the_server_forks_the_worker_which_runs_the_run_to_success(server):
    run = run_submit(job_name="chain", location_name="launch_defs", run_config={})  # multiprocess: the default
    launcher = Run.objects.get(pk=run.pk).launcher
    assert launcher["forked"] is True and launcher["started"] == process_start_ticks(launcher["pid"])
    assert _parent(launcher["pid"]) == server.pid
    done = wait_worker_exited(run.run_id, timeout=120)
    assert done.status == RunStatus.SUCCESS
    assert done.launcher["worker"]["pid"] == launcher["pid"]
    types = [e.event_type for e in selectors.events_after(run_id=run.run_id, limit=10_000)]
    assert types.count("STEP_SUCCESS") == 4 and types[-2:] == ["RUN_SUCCESS", "ENGINE_EVENT"]
    wait_for(lambda: not worker_output_path(run.run_id).exists(), what="output removed after a normal end")


@pytest.mark.django_db(transaction=True)
def test_the_worker_gets_the_launchers_environment_and_the_locations_directory(server, monkeypatch, tmp_path):
    env_location = _store_env_location(tmp_path)
    monkeypatch.setenv("ORCHESTRA_TEST_FROM_LAUNCHER", "yes")  # set after the server started
    run = run_submit(job_name="environment", location_name="env_defs", run_config=IN_PROCESS)
    assert Run.objects.get(pk=run.pk).launcher["forked"] is True
    assert wait_worker_exited(run.run_id, timeout=120).status == RunStatus.SUCCESS
    seen = (tmp_path / "marks" / "environment").read_text().split("\n")
    assert seen == ["yes", env_location.origin["working_directory"], env_location.origin["working_directory"]]


@pytest.mark.django_db(transaction=True)
def test_a_worker_outlives_its_server_and_is_still_watched_and_terminated(server):
    run = run_submit(job_name="sleepy", location_name="launch_defs", run_config=IN_PROCESS)
    _slow_step_running(run.run_id)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    run = Run.objects.get(pk=run.pk)
    pid = run.launcher["pid"]
    # Its command line is the server's: the recorded start time is what identifies it now.
    health = instance_run_launcher().check_run_worker_health(run)
    assert health.status == WorkerStatus.RUNNING and health.run_worker_id == str(pid)
    assert run_terminate(run_id=run.run_id).status in (RunStatus.CANCELING, RunStatus.CANCELED)
    assert wait_finished(run.run_id).status == RunStatus.CANCELED
    wait_for(lambda: instance_run_launcher().check_run_worker_health(Run.objects.get(pk=run.pk)).status
             == WorkerStatus.NOT_FOUND, what="the worker gone")


@pytest.mark.django_db(transaction=True)
def test_a_server_refuses_another_interpreter_and_the_launcher_spawns_instead(server, child_home, tmp_path):
    from runs.run_worker_server import fork_run_worker

    answer = fork_run_worker(home=str(child_home), run_id="x", python="/usr/bin/python3-other", cwd=None, env={},
                             output_path=tmp_path / "out.log")
    assert answer is None
    assert fork_run_worker(home=str(tmp_path / "no-server-here"), run_id="x", python=sys.executable, cwd=None,
                           env={}, output_path=tmp_path / "out.log") is None
