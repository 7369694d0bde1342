"""The run launcher contract, run against every launcher: a submitted run is executed by a real run
worker, terminate reaches the worker, and the worker's health is reported while it runs and after."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from launchers.celery import CeleryRunLauncher
from launchers.subprocess import SubprocessRunLauncher
from runs import selectors
from runs.launching import WorkerStatus, instance_run_launcher
from runs.models import Run, RunStatus
from runs.services import run_submit, run_terminate
from tests.conftest import require_service
from tests.launchers.test_celery_launcher import Worker
from tests.runs.locations import join_reapers, launcher, store_location, wait_for, wait_worker_exited

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


@pytest.fixture
def location(tmp_path, settings, child_home, monkeypatch):
    settings.ORCHESTRA_HOME = child_home
    (tmp_path / "marks").mkdir()
    monkeypatch.setenv("TEST_MARKS", str(tmp_path / "marks"))
    monkeypatch.setenv("ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS", "0.2")
    yield store_location(tmp_path)
    join_reapers()


def _types(run_id):
    return [e.event_type for e in selectors.events_after(run_id=run_id, limit=10_000)]


class LauncherContract:
    """Subclasses give `launched`: the instance configured with their launcher and whatever serves it."""

    launcher_class: type

    @pytest.fixture
    def launched(self, location, settings, child_home, tmp_path):
        raise NotImplementedError

    @pytest.mark.django_db(transaction=True)
    def test_a_submitted_run_is_executed_to_success(self, launched):
        assert type(instance_run_launcher()) is self.launcher_class
        run = run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS)
        assert run.status == RunStatus.STARTING
        assert run.launcher["class"] == f"{self.launcher_class.__module__}.{self.launcher_class.__name__}"
        done = wait_worker_exited(run.run_id, timeout=120)
        assert done.status == RunStatus.SUCCESS
        types = _types(run.run_id)
        assert types[:3] == ["RUN_STARTING", "ENGINE_EVENT", "RUN_START"]
        assert types.count("RUN_START") == 1 and types.count("STEP_SUCCESS") == 4

    @pytest.mark.django_db(transaction=True)
    def test_terminate_cancels_a_running_run_and_interrupts_its_step(self, launched, tmp_path):
        run = run_submit(job_name="sleepy", location_name="launch_defs", run_config=IN_PROCESS)
        # The op's own mark, not its STEP_INPUT event: that event is written up to 0.1 s after it is emitted
        # (by the worker's flush thread), and a signal that lands before the op enters its `try` has no
        # `finally` to run.
        wait_for(lambda: (tmp_path / "marks" / "slow-started").exists(), 120, "slow step running")
        # CANCELING, or already CANCELED when the signalled worker was quicker than the answer
        assert run_terminate(run_id=run.run_id).status in (RunStatus.CANCELING, RunStatus.CANCELED)
        done = wait_worker_exited(run.run_id)
        assert done.status == RunStatus.CANCELED
        assert (tmp_path / "marks" / "slow-stopped").exists()  # the op was interrupted (its finally ran)
        [interrupted] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
        assert interrupted.step_key == "slow" and interrupted.payload["error_source"] == "INTERRUPT"
        types = _types(run.run_id)
        assert types.count("RUN_CANCELING") == 1 and types[-2:] == ["RUN_CANCELED", "ENGINE_EVENT"]

    @pytest.mark.django_db(transaction=True)
    def test_the_worker_is_reported_running_then_gone(self, launched):
        launcher_ = instance_run_launcher()
        assert launcher_.supports_check_run_worker_health
        run = run_submit(job_name="sleepy", location_name="launch_defs", run_config=IN_PROCESS)
        wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]), 120, "slow step")
        run = Run.objects.get(pk=run.pk)
        health = launcher_.check_run_worker_health(run)
        assert health.status == WorkerStatus.RUNNING and health.run_worker_id == str(run.launcher["worker"]["pid"])
        run_terminate(run_id=run.run_id)
        wait_worker_exited(run.run_id)
        wait_for(lambda: launcher_.check_run_worker_health(run).status == WorkerStatus.NOT_FOUND, 30, "worker gone")


class TestSubprocessRunLauncher(LauncherContract):
    launcher_class = SubprocessRunLauncher

    @pytest.fixture
    def launched(self, location):
        yield  # the default launcher


class TestCeleryRunLauncher(LauncherContract):
    launcher_class = CeleryRunLauncher

    @pytest.fixture
    def launched(self, location, settings, child_home, tmp_path):
        if django_settings.CELERY_BROKER_URL.startswith("redis"):
            require_service("Redis", "127.0.0.1", 6379)
        launcher(settings, "launchers.celery", "CeleryRunLauncher")
        worker = Worker(child_home, tmp_path / "marks")
        yield worker
        worker.stop()
