"""A run that ends frees its slot at once: the launching process nudges the run queue (no beat here)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from core.instance_config import RunQueueConfig
from runs import services
from runs.models import Run, RunStatus
from runs.services import EventInput, run_submit
from tests.conftest import child_env, require_service
from tests.runs.locations import join_reapers, store_location, wait_worker_exited

QUEUE_CONFIG = """
run_queue:
  max_concurrent_runs: 1
run_launcher:
  module: tests.runs.holding_launcher
  class: HoldingLauncher
"""


@pytest.mark.django_db(transaction=True)
def test_a_queued_run_is_launched_when_the_run_holding_the_only_slot_ends(tmp_path, settings, child_home):
    if django_settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    settings.ORCHESTRA_HOME = child_home
    store_location(tmp_path)
    # The daemon worker (a child) queues with one slot and holds what it launches; this process
    # launches the first run itself through the subprocess launcher and reaps its worker.
    with (child_home / "orchestra.yaml").open("a") as config:
        config.write(QUEUE_CONFIG)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orchestra_site", "worker", "-Q", "daemon", "-P", "solo",
         "-n", "refill-test@%h", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info"],
        env=child_env(child_home), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log.open("w"), text=True)
    try:
        # The nudge is a message with an expiry: wait until the worker consumes before the slot frees.
        deadline = time.monotonic() + 120
        while " ready." not in log.read_text() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.poll() is None and " ready." in log.read_text(), log.read_text()
        first = run_submit(job_name="chain", location_name="launch_defs",
                           run_config={"execution": {"config": {"in_process": {}}}})
        settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=settings.INSTANCE.config.model_copy(
            update={"run_queue": RunQueueConfig(max_concurrent_runs=1)}))
        second = services.run_create(job_name="chain")
        services.event_store(run_id=second.run_id, events=[EventInput(event_type="RUN_ENQUEUED")])  # no nudge
        assert wait_worker_exited(first.run_id).status == RunStatus.SUCCESS
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Run.objects.get(pk=second.pk).status == RunStatus.QUEUED:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.1)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        join_reapers()
    assert Run.objects.get(pk=second.pk).status == RunStatus.STARTING
