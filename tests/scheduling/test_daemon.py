"""The daemon for real: Celery beat on the database scheduler and two daemon workers tick together; a killed daemon."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest
from django.conf import settings

from runs.models import Run, RunTag
from scheduling.models import InstigatorState, SensorRunKey, Tick, TickStatus
from tests.conftest import REPO, child_env, require_service
from tests.workspace.conftest import start_code_server
from workspace.config import LocationEntry
from workspace.services import location_load

pytestmark = pytest.mark.django_db(transaction=True)

DEFS = '''
import orchestra as dg


@dg.op
def hello():
    return 1


@dg.job
def my_job():
    hello()


@dg.sensor(job=my_job, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING)
def fast_sensor(context):
    count = int(context.cursor or 0) + 1
    context.update_cursor(str(count))
    return dg.RunRequest(run_key=f"key-{count}")


@dg.schedule(cron_schedule="* * * * *", job=my_job)
def every_minute(context):
    return dg.RunRequest()


defs = dg.Definitions(jobs=[my_job], sensors=[fast_sensor], schedules=[every_minute])
'''


def spawn(home, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "orchestra_site", *args], env=child_env(home),
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_beat_and_two_workers_tick_a_sensor_and_a_schedule_with_no_tick_repeated_or_lost(tmp_path, child_home):
    from django.utils import timezone

    from orchestra_site.celery import app
    from scheduling.services import schedule_start

    if settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    with (child_home / "orchestra.yaml").open("a") as config:
        config.write("run_queue: {}\n")  # runs wait QUEUED: no run worker needed here
    (tmp_path / "defs.py").write_text(DEFS)
    server = start_code_server(tmp_path, "-f", str(tmp_path / "defs.py"), "--location-name", "fast")
    processes = []
    try:
        entry = LocationEntry(name="fast", kind="code_server", host=server.info["host"], port=server.info["port"])
        assert location_load(entry=entry, client=server.client).status == "LOADED"
        assert InstigatorState.objects.get(name="fast_sensor").status == "RUNNING"

        worker_args = ["worker", "-Q", "daemon", "-P", "solo", "-l", "warning", "--without-heartbeat",
                       "--without-gossip", "--without-mingle"]
        processes = [
            spawn(child_home, *worker_args, "-n", "one@%h"),
            spawn(child_home, *worker_args, "-n", "two@%h"),
            spawn(child_home, "beat", "-S", "django_celery_beat.schedulers:DatabaseScheduler", "-l", "warning",
                  "--max-interval", "1"),
        ]
        # Both workers get a nudge for the same schedule at once (beat may add its own).
        schedule = schedule_start(location_name="fast", name="every_minute")
        InstigatorState.objects.filter(pk=schedule.pk).update(started_at=timezone.now() - dt.timedelta(minutes=2))
        for _ in range(4):
            app.send_task("scheduling.schedule_tick", args=[schedule.pk], queue="daemon")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and all(p.poll() is None for p in processes):
            if Tick.objects.filter(status=TickStatus.SUCCESS, kind="SENSOR").count() >= 5 and Tick.objects.filter(
                    status=TickStatus.SUCCESS, kind="SCHEDULE").exists():
                break
            time.sleep(0.2)
        assert all(p.poll() is None for p in processes), [p.stderr.read() for p in processes if p.poll() is not None]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        server.process.terminate()
        server.process.wait(10)

    schedule_ticks = list(Tick.objects.filter(kind="SCHEDULE"))
    assert schedule_ticks and all(t.status == TickStatus.SUCCESS and len(t.run_ids) == 1 for t in schedule_ticks)
    scheduled_runs = Run.objects.filter(tags__key="dagster/schedule_name", tags__value="every_minute")
    assert scheduled_runs.count() == len(schedule_ticks)  # one run per scheduled time, however many nudges

    ticks = list(Tick.objects.filter(status=TickStatus.SUCCESS, kind="SENSOR").order_by("id"))
    assert len(ticks) >= 5
    assert not Tick.objects.exclude(status__in=[TickStatus.SUCCESS, TickStatus.STARTED]).exists()
    # Each tick started from the cursor the one before stored: none repeated, none lost.
    assert [t.cursor_before for t in ticks] == [None] + [t.cursor_after for t in ticks[:-1]]
    assert [t.cursor_after for t in ticks] == [str(n) for n in range(1, len(ticks) + 1)]
    keys = list(SensorRunKey.objects.order_by("id").values_list("run_key", flat=True))
    assert keys[:len(ticks)] == [f"key-{n}" for n in range(1, len(ticks) + 1)]
    runs = Run.objects.filter(tags__key="dagster/sensor_name", tags__value="fast_sensor")
    assert runs.count() == len(keys)
    run_keys = RunTag.objects.filter(run__in=runs, key="dagster/run_key").values_list("value", flat=True)
    assert sorted(run_keys) == sorted(keys)  # one run per run key


def _daemon_child(home, code: str) -> subprocess.Popen:
    prelude = "import django, datetime as dt\ndjango.setup()\n"
    return subprocess.Popen([sys.executable, "-c", prelude + code], env=child_env(home), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_daemon_killed_mid_tick_leaves_the_tick_to_the_next_one_neither_skipped_nor_repeated(
        location, child_home, queued_runs):
    from django.utils import timezone

    from scheduling.services import schedule_start, schedule_tick, sensor_start, sensor_tick

    with (child_home / "orchestra.yaml").open("a") as config:
        config.write("run_queue: {}\n")
    schedule = schedule_start(location_name="defs", name="slow_schedule")
    InstigatorState.objects.filter(pk=schedule.pk).update(started_at=timezone.now() - dt.timedelta(hours=2))
    sensor = sensor_start(location_name="defs", name="slow_sensor")
    now = timezone.now().isoformat()
    child = _daemon_child(child_home, (
        "from scheduling.services import schedule_tick\n"
        f"schedule_tick(state_id={schedule.pk}, now=dt.datetime.fromisoformat({now!r}))\n"
    ))
    try:
        # Killed while the code server evaluates the schedule (it sleeps 4 s).
        _wait_for(lambda: Tick.objects.filter(state=schedule.pk).exists(), child)
        child.kill()
        child.wait(10)
        [left] = Tick.objects.filter(state=schedule.pk)
        assert left.status == TickStatus.STARTED and not Run.objects.exists()

        # Restarted before the claim expires: the tick is another daemon's, nothing happens.
        assert schedule_tick(state_id=schedule.pk, now=dt.datetime.fromisoformat(now)) == []
        # The claim expires (time passes): the restarted daemon finishes that same tick, once.
        Tick.objects.filter(pk=left.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
        [done] = schedule_tick(state_id=schedule.pk, now=dt.datetime.fromisoformat(now))
        assert (done.pk, done.scheduled_time, done.status, len(done.run_ids)) == (
            left.pk, left.scheduled_time, TickStatus.SUCCESS, 1)
        assert Tick.objects.filter(state=schedule.pk).count() == 1
    finally:
        if child.poll() is None:
            child.kill()

    child = _daemon_child(child_home, (
        "from scheduling.services import sensor_tick\n"
        f"sensor_tick(state_id={sensor.pk}, now=dt.datetime.fromisoformat({now!r}))\n"
    ))
    try:
        _wait_for(lambda: Tick.objects.filter(state=sensor.pk).exists(), child)
        child.kill()
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    sensor.refresh_from_db()
    assert (sensor.cursor, SensorRunKey.objects.filter(state=sensor).count()) == (None, 0)
    InstigatorState.objects.filter(pk=sensor.pk).update(tick_lease_until=timezone.now() - dt.timedelta(seconds=1))
    tick = sensor_tick(state_id=sensor.pk, now=timezone.now())
    # Evaluated again from the cursor the killed tick started with: key slow-1, not skipped to slow-2.
    assert (tick.status, tick.cursor_before, tick.cursor_after, tick.run_keys) == (
        TickStatus.SUCCESS, None, "1", ["slow-1"])
    statuses = sorted(Tick.objects.filter(state=sensor.pk).values_list("status", flat=True))
    assert statuses == [TickStatus.FAILURE, TickStatus.SUCCESS]  # the killed one, closed as interrupted
