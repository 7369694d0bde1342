"""Tasks reach their queues through `CELERY_TASK_ROUTES` (daemon, runs, steps), not through the `queue=` task
attribute Celery 6 drops: a message sent without a queue lands on a real worker listening on its queue only."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.conf import settings

from launchers.beat import TASK_ROUTES
from runs.models import DaemonHeartbeat
from tests.conftest import REPO, child_env, require_service
from tests.launchers.test_daemon import _celery, _stop

EXPECTED = {
    "core.audit_purge": "daemon",
    "launchers.run_monitoring": "daemon",
    "runs.daemon_heartbeat": "daemon",
    "runs.run_queue_dequeue": "daemon",
    "runs.run_retries_consume": "daemon",
    "scheduling.backfill_progress": "daemon",
    "scheduling.backfills_sweep": "daemon",
    "scheduling.reconcile": "daemon",
    "scheduling.schedule_tick": "daemon",
    "scheduling.sensor_tick": "daemon",
    "scheduling.sweep": "daemon",
    "launchers.execute_run": "runs",
    "runs.execute_step": "steps",
}


def test_every_orchestra_task_is_routed_by_the_settings_and_none_names_its_queue_itself():
    from orchestra_site.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert set(ours) == set(EXPECTED)
    assert settings.CELERY_TASK_ROUTES == TASK_ROUTES
    assert {name: app.amqp.router.route({}, name)["queue"].name for name in ours} == EXPECTED
    assert [name for name, task in ours.items() if "queue" in type(task).__dict__] == []


def test_loading_the_tasks_raises_no_celery_deprecation_warning(child_home):
    script = (
        "import django; django.setup(); from orchestra_site.celery import app; "
        "app.loader.import_default_modules(); [t.name for t in app.tasks.values()]"
    )
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", script],
        env=child_env(child_home),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "task attribute" not in done.stderr


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_without_a_queue_is_taken_by_a_worker_on_the_daemon_queue_only(child_home, tmp_path):
    if settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    from runs.tasks import daemon_heartbeat_task

    worker = _celery(
        child_home,
        tmp_path,
        "worker",
        "-Q",
        "daemon",
        "-P",
        "solo",
        "-n",
        "routes-test@%h",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    )
    try:
        daemon_heartbeat_task.delay("ROUTES_TEST", "routed")
        deadline = time.monotonic() + 90
        while (
            time.monotonic() < deadline
            and not DaemonHeartbeat.objects.filter(daemon_type="ROUTES_TEST").exists()
        ):
            assert worker.poll() is None, worker.stderr.read()
            time.sleep(0.2)
        assert DaemonHeartbeat.objects.filter(daemon_type="ROUTES_TEST", daemon_id="routed").exists()
    finally:
        _stop(worker)
