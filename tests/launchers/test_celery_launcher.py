"""CeleryRunLauncher: runs go to a real `celery worker` on the `runs` queue (embedded broker or Redis)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from celery import current_app
from django.conf import settings as django_settings

from launchers.celery import EXECUTE_RUN_TASK, RUNS_QUEUE, TASK_ID_TAG, CeleryRunLauncher
from runs import selectors
from runs.launching import instance_run_launcher
from runs.models import Run, RunStatus
from runs.services import run_submit, run_terminate
from tests.conftest import REPO, child_env, require_service
from tests.runs.locations import launcher, store_location, wait_finished, wait_worker_exited

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


@pytest.fixture
def location(tmp_path, settings, child_home):
    if django_settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    settings.ORCHESTRA_HOME = child_home
    launcher(settings, "dagster_celery", "CeleryRunLauncher")  # Dagster's name reads as ours
    (tmp_path / "marks").mkdir()
    return store_location(tmp_path)


class Worker:
    """A `celery worker` child process on the runs queue, sharing the test database and broker."""

    def __init__(self, home, marks):
        env = child_env(home)
        env["TEST_MARKS"] = str(marks)
        env["ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS"] = "0.2"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "orchestra_site", "worker", "-Q", RUNS_QUEUE, "-P", "solo",
             "-l", "warning", "-n", f"runs-{uuid.uuid4().hex[:8]}@%h", "--without-heartbeat", "--without-gossip",
             "--without-mingle"],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def worker(child_home, tmp_path):
    started = Worker(child_home, tmp_path / "marks")
    yield started
    started.stop()


def _types(run_id):
    return [e.event_type for e in selectors.events_after(run_id=run_id, limit=10_000)]


@pytest.mark.django_db(transaction=True)
def test_a_submitted_run_is_executed_by_a_celery_worker(location, worker):
    assert isinstance(instance_run_launcher(), CeleryRunLauncher)
    run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    assert run.status == RunStatus.STARTING
    task_id = run.launcher["celery_task_id"]
    assert run.launcher["queue"] == RUNS_QUEUE
    assert selectors.run_tags(selectors.run_get(run_id=run.run_id))[TASK_ID_TAG] == task_id
    done = wait_worker_exited(run.run_id, timeout=120)
    assert done.status == RunStatus.SUCCESS, worker.process.poll()
    types = _types(run.run_id)
    assert types.count("RUN_START") == 1 and types.count("STEP_SUCCESS") == 4
    worker_pid = done.launcher["worker"]["pid"]
    assert done.launcher["pid"] == worker_pid  # recorded by the task that started it


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_task_does_not_run_the_run_twice(location, worker):
    first = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    # the same message again, as a broker redelivers an unacknowledged task after a worker crash
    current_app.send_task(EXECUTE_RUN_TASK, args=[first.run_id], queue=RUNS_QUEUE)
    # the solo worker takes its messages in order: once this run is done, the duplicate was handled
    later = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    assert wait_worker_exited(later.run_id, timeout=120).status == RunStatus.SUCCESS
    done = Run.objects.get(pk=first.pk)
    assert done.status == RunStatus.SUCCESS
    assert _types(first.run_id).count("RUN_START") == 1 and _types(first.run_id).count("RUN_SUCCESS") == 1
    assert done.launcher["pid"] == done.launcher["worker"]["pid"]  # the duplicate started no worker
    assert worker.process.poll() is None


@pytest.mark.django_db(transaction=True)
def test_a_run_terminated_before_its_task_started_ends_canceled_without_executing(location, child_home, tmp_path):
    run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
    assert run.launcher["celery_task_id"]
    assert run_terminate(run_id=run.run_id).status == RunStatus.CANCELING
    late = Worker(child_home, tmp_path / "marks")  # it was not online for the revoke: it gets the task
    try:
        done = wait_finished(run.run_id, timeout=120)
    finally:
        late.stop()
    assert done.status == RunStatus.CANCELED
    assert "RUN_START" not in _types(run.run_id)
