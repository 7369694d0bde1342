"""A real Celery worker on the configured broker (embedded filesystem or Redis) runs a daemon task."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.conf import settings

from runs.models import DaemonHeartbeat
from tests.conftest import REPO, child_env, require_service


@pytest.mark.django_db(transaction=True)
def test_worker_on_configured_broker_records_a_heartbeat(child_home):
    if settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    from orchestra_site.celery import app

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orchestra_site", "worker", "-Q", "daemon", "-P", "solo",
         "-l", "warning", "-n", "test@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=child_env(child_home),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        app.send_task("runs.daemon_heartbeat", args=["TEST_DUTY", "daemon-1"], queue="daemon")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            if DaemonHeartbeat.objects.filter(daemon_type="TEST_DUTY", daemon_id="daemon-1").exists():
                break
            time.sleep(0.2)
        assert worker.poll() is None, worker.stderr.read()
        assert DaemonHeartbeat.objects.filter(daemon_type="TEST_DUTY").count() == 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
