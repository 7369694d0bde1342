"""Fault scenarios of the daemon (issue #12, invariants 2 and 7), with a real Celery worker, beat and run workers.

- Daemon killed with a full queue: 10 runs are queued, a daemon worker (`celery worker -Q daemon`) is
  SIGKILLed as soon as it has taken the first from the queue, and a new one is started. Every run is
  launched exactly once (one RUN_DEQUEUED, one RUN_STARTING, one run worker) and succeeds.
- Lost broker message: a run is submitted while no daemon worker is up, then the broker's queues are
  purged (`celery purge`, standing in for a Redis restart, which keeps nothing on disk here), so the
  submission's nudge is gone. Once a worker and beat start, beat's periodic dequeue — which reads the
  database, the source of truth — launches the run, once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from runs import services
from runs.models import EventLogEntry, Run, RunStatus
from tests.conftest import REPO, child_env
from tests.faults.processes import Process, add_to_instance, record_figure
from tests.runs.locations import queued, store_location, wait_for

RUNS = 10
DAEMON_CONFIG = (
    "run_queue:\n  max_concurrent_runs: 4\n  dequeue_interval_seconds: 1\n"
    "run_monitoring:\n  enabled: true\n  poll_interval_seconds: 2\n"
)


def daemon_worker(home, log) -> Process:
    return Process(home, [sys.executable, "-m", "celery", "-A", "orchestra_site", "worker", "-Q", "daemon,celery",
                          "--pool", "solo", "-n", f"faults-{time.monotonic_ns()}@%h", "-l", "INFO"], log)


def beat(home, tmp_path) -> Process:
    return Process(home, [sys.executable, "-m", "celery", "-A", "orchestra_site", "beat", "-l", "INFO"],
                   tmp_path / "beat.log")


def _events(run_id: str, event_type: str) -> int:
    return EventLogEntry.objects.filter(run_id=run_id, event_type=event_type).count()


def _worker_claims(run_id: str) -> int:
    return EventLogEntry.objects.filter(run_id=run_id, event_type="ENGINE_EVENT",
                                        message__startswith="Started process for run").count()


def _all_finished(run_ids: list[str]) -> bool:
    return Run.objects.filter(run_id__in=run_ids, status__in=[RunStatus.SUCCESS, RunStatus.FAILURE,
                                                              RunStatus.CANCELED]).count() == len(run_ids)


def _wait_all_finished(run_ids: list[str], timeout: float, tmp_path) -> None:
    try:
        wait_for(lambda: _all_finished(run_ids), timeout, "every run finished")
    except AssertionError:
        statuses = list(Run.objects.filter(run_id__in=run_ids).values_list("status", flat=True))
        logs = {p.name: p.read_text(errors="replace")[-1500:] for p in tmp_path.glob("*.log")}
        raise AssertionError(f"runs not finished: {statuses}; logs: {logs}") from None


def _assert_each_launched_once_and_succeeded(run_ids: list[str]) -> None:
    for run_id in run_ids:
        run = Run.objects.get(run_id=run_id)
        counts = (_events(run_id, "RUN_DEQUEUED"), _events(run_id, "RUN_STARTING"), _worker_claims(run_id),
                  _events(run_id, "RUN_START"))
        assert counts == (1, 1, 1, 1), (run_id, run.status, counts)
        assert run.status == RunStatus.SUCCESS, (run_id, run.status)


@pytest.fixture
def deployment(child_home, tmp_path, settings):
    """A queued instance (here and in the children) with the test location stored; children stopped after."""
    add_to_instance(child_home, DAEMON_CONFIG)
    queued(settings)
    store_location(tmp_path)
    started: list[Process] = []

    def start(process: Process) -> Process:
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop()


@pytest.mark.django_db(transaction=True)
def test_a_daemon_killed_with_a_full_queue_and_restarted_launches_every_run_exactly_once(deployment, child_home,
                                                                                         tmp_path):
    run_ids = [services.run_submit(job_name="chain", location_name="launch_defs").run_id for _ in range(RUNS)]
    assert Run.objects.filter(status=RunStatus.QUEUED).count() == RUNS

    deployment(beat(child_home, tmp_path))
    first = deployment(daemon_worker(child_home, tmp_path / "daemon-1.log"))
    wait_for(lambda: Run.objects.filter(run_id__in=run_ids).exclude(status=RunStatus.QUEUED).exists(), 120,
             "the first dequeue")
    time.sleep(float(os.environ.get("FAULTS_KILL_DELAY", "0")))
    first.kill()  # mid-dequeue: some runs dequeued or starting, the rest still queued
    left = Run.objects.filter(run_id__in=run_ids, status=RunStatus.QUEUED).count()
    assert left > 0, "the daemon drained the whole queue before it was killed"

    restarted = time.monotonic()
    deployment(daemon_worker(child_home, tmp_path / "daemon-2.log"))
    _wait_all_finished(run_ids, 240, tmp_path)
    drained = time.monotonic() - restarted  # includes the new worker's start-up
    launches = [_events(run_id, "RUN_STARTING") for run_id in run_ids]
    record_figure("daemon killed with 10 queued", runs=RUNS, lost=0, duplicated=sum(n - 1 for n in launches if n > 1),
                  restarted_daemon_drained_s=drained)
    _assert_each_launched_once_and_succeeded(run_ids)


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_queue_message_was_lost_is_launched_by_beats_dequeue(deployment, child_home, tmp_path):
    run_id = services.run_submit(job_name="chain", location_name="launch_defs").run_id
    assert Run.objects.get(run_id=run_id).status == RunStatus.QUEUED
    purge = subprocess.run([sys.executable, "-m", "celery", "-A", "orchestra_site", "purge", "-f"],
                           env=child_env(child_home), cwd=REPO, capture_output=True, text=True, timeout=60)
    assert purge.returncode == 0, purge.stderr
    assert "Purged" in purge.stdout or "No messages purged" in purge.stdout, purge.stdout

    deployment(daemon_worker(child_home, tmp_path / "daemon.log"))
    deployment(beat(child_home, tmp_path))
    _wait_all_finished([run_id], 180, tmp_path)
    _assert_each_launched_once_and_succeeded([run_id])
