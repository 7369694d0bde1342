"""The daemon for real: Celery beat (DatabaseScheduler) and a worker on the daemon queue, on the
configured broker (embedded or Redis), run the run queue and run monitoring from the database alone."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from runs import services
from runs.models import DaemonHeartbeat, Run, RunStatus
from runs.services import EventInput
from tests.conftest import child_env, require_service

pytestmark = pytest.mark.django_db(transaction=True)

DAEMON_CONFIG = """
run_queue:
  max_concurrent_runs: 2
run_launcher:
  module: tests.runs.holding_launcher
  class: HoldingLauncher
"""


def _celery(home, cwd, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orchestra_site", *args, "-l", "warning"],
        env=child_env(home), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_beat_and_a_daemon_worker_drain_the_queue_and_end_a_stuck_run(child_home, tmp_path):
    if settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    with (child_home / "orchestra.yaml").open("a") as config:
        config.write(DAEMON_CONFIG)
    # A run stuck in STARTING for an hour (its worker never came) holds one of the two slots.
    stuck = services.run_create(job_name="job")
    services.event_store(run_id=stuck.run_id, events=[
        EventInput(event_type="RUN_STARTING", timestamp=timezone.now() - timedelta(hours=1))])
    queued = []
    for _ in range(3):  # enqueued without a nudge: only beat's periodic dequeue can find them
        run = services.run_create(job_name="job")
        services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_ENQUEUED")])
        queued.append(run.run_id)

    worker = _celery(child_home, tmp_path, "worker", "-Q", "daemon", "-P", "solo", "-n", "daemon-test@%h",
                     "--without-heartbeat", "--without-gossip", "--without-mingle")
    beat = _celery(child_home, tmp_path, "beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler")
    try:
        def done():
            statuses = list(Run.objects.filter(run_id__in=queued).values_list("status", flat=True))
            return (Run.objects.get(pk=stuck.pk).status == RunStatus.FAILURE
                    and statuses.count(RunStatus.STARTING) == 2)

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not done():
            assert worker.poll() is None, worker.stderr.read()
            assert beat.poll() is None, beat.stderr.read()
            time.sleep(0.2)
        assert done(), "the daemon did not dequeue the runs and fail the stuck one"
    finally:
        _stop(beat)
        _stop(worker)
    statuses = sorted(Run.objects.filter(run_id__in=queued).values_list("status", flat=True))
    assert statuses == [RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTING]  # the limit holds
    assert Run.objects.get(pk=stuck.pk).status == RunStatus.FAILURE
    types = set(DaemonHeartbeat.objects.values_list("daemon_type", flat=True))
    assert {"QUEUED_RUN_COORDINATOR", "MONITORING"} <= types
    rows = {t.name: t for t in PeriodicTask.objects.filter(name__startswith="orchestra run ")}
    assert rows["orchestra run queue"].task == "runs.run_queue_dequeue"
    assert rows["orchestra run monitoring"].task == "launchers.run_monitoring"
    assert rows["orchestra run queue"].queue == "daemon"


def test_a_nudge_on_enqueue_launches_the_run_without_waiting_for_beat(child_home, tmp_path, settings):
    import dataclasses

    from django.db import transaction

    from core.instance_config import RunQueueConfig
    from runs.queue import run_queue_nudge

    if settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    with (child_home / "orchestra.yaml").open("a") as config:
        config.write(DAEMON_CONFIG)
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=settings.INSTANCE.config.model_copy(
        update={"run_queue": RunQueueConfig(max_concurrent_runs=2)}))
    worker = _celery(child_home, tmp_path, "worker", "-Q", "daemon", "-P", "solo", "-n", "nudge-test@%h",
                     "--without-heartbeat", "--without-gossip", "--without-mingle")
    try:
        with transaction.atomic():
            run = services.run_create(job_name="job")
            services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_ENQUEUED")])
            run_queue_nudge()  # sent when this transaction commits
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Run.objects.get(pk=run.pk).status == RunStatus.QUEUED:
            assert worker.poll() is None, worker.stderr.read()
            time.sleep(0.1)
    finally:
        _stop(worker)
    assert Run.objects.get(pk=run.pk).status == RunStatus.STARTING
    assert DaemonHeartbeat.objects.filter(daemon_type="QUEUED_RUN_COORDINATOR").exists()


def test_two_daemon_workers_dequeueing_at_once_launch_each_run_once_within_the_limit(child_home, tmp_path):
    """Two real Celery worker processes on the daemon queue, many nudges at once: every run is
    launched exactly once and no more than max_concurrent_runs are ever in progress (launched runs
    stay STARTING until the test finishes them, so the count at the end of a round is its peak)."""
    from orchestra_site.celery import app
    from runs.queue import DEQUEUE_TASK

    if settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    with (child_home / "orchestra.yaml").open("a") as config:
        config.write(DAEMON_CONFIG)  # max_concurrent_runs: 2
    queued = []
    for _ in range(8):
        run = services.run_create(job_name="job")
        services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_ENQUEUED")])
        queued.append(run.run_id)
    workers = [
        _celery(child_home, tmp_path, "worker", "-Q", "daemon", "-P", "solo", "-n", f"daemon-{i}@%h",
                "--without-heartbeat", "--without-gossip", "--without-mingle")
        for i in (1, 2)
    ]
    try:
        for _ in range(4):  # rounds: nudge both workers repeatedly, let them settle, free the slots
            for _ in range(6):
                app.send_task(DEQUEUE_TASK, queue="daemon")
            remaining = Run.objects.filter(run_id__in=queued, status=RunStatus.QUEUED).count()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for worker in workers:
                    assert worker.poll() is None, worker.stderr.read()
                starting = Run.objects.filter(run_id__in=queued, status=RunStatus.STARTING).count()
                if starting >= min(2, remaining):
                    break
                time.sleep(0.1)
            time.sleep(2)  # let the other nudges of the round run: they must find no room
            in_progress = list(Run.objects.filter(run_id__in=queued, status=RunStatus.STARTING)
                               .values_list("run_id", flat=True))
            assert len(in_progress) == min(2, remaining)
            for run_id in in_progress:
                services.event_store(run_id=run_id, events=[EventInput(event_type="RUN_SUCCESS")])
    finally:
        for worker in workers:
            _stop(worker)
    assert set(Run.objects.filter(run_id__in=queued).values_list("status", flat=True)) == {RunStatus.SUCCESS}
    from runs import selectors

    for run_id in queued:
        types = [e.event_type for e in selectors.events_after(run_id=run_id)]
        assert types == ["RUN_ENQUEUED", "RUN_DEQUEUED", "RUN_STARTING", "RUN_SUCCESS"], types
    daemon_ids = set(DaemonHeartbeat.objects.filter(daemon_type="QUEUED_RUN_COORDINATOR")
                     .values_list("daemon_id", flat=True))
    assert len(daemon_ids) == 2  # both workers dequeued
