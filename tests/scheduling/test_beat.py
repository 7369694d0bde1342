"""Reconciling stored schedules and sensors with their django-celery-beat rows."""

from __future__ import annotations

import json

import pytest
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from core.exceptions import Conflict, NotFound
from scheduling.beat import BACKFILL_TASK_NAME, SWEEP_TASK_NAME, crontab_fields, task_name
from scheduling.models import InstigatorKind, InstigatorState, InstigatorStatus
from scheduling.services import (
    instigator_reset,
    instigators_reconcile,
    schedule_start,
    schedule_stop,
    sensor_cursor_set,
    sensor_start,
    sensor_stop,
)
from tests.scheduling.conftest import LOCATION
from workspace.models import CodeLocation, LocationStatus

pytestmark = pytest.mark.django_db(transaction=True)


def beat_rows() -> list[tuple]:
    return sorted(
        (t.name, t.task, t.enabled, t.kwargs, t.queue, t.crontab_id, t.interval_id)
        for t in PeriodicTask.objects.all()
    )


def state(kind: str, name: str) -> InstigatorState:
    return InstigatorState.objects.get(kind=kind, location_name=LOCATION, name=name)


def test_storing_a_snapshot_creates_a_state_and_a_beat_row_for_every_schedule_and_sensor(location):
    snapshot = location.snapshot
    names = {(InstigatorKind.SCHEDULE, s["name"]) for s in snapshot["schedules"]}
    names |= {(InstigatorKind.SENSOR, s["name"]) for s in snapshot["sensors"]}
    states = {(s.kind, s.name): s for s in InstigatorState.objects.all()}
    assert set(states) == names
    assert all(s.repository_name == snapshot["repository_name"] for s in states.values())

    tasks = {t.name: t for t in PeriodicTask.objects.all()}
    assert set(tasks) == {task_name(s) for s in states.values()} | {SWEEP_TASK_NAME, BACKFILL_TASK_NAME}
    hourly = tasks[task_name(states[(InstigatorKind.SCHEDULE, "hourly")])]
    assert (hourly.task, hourly.queue, json.loads(hourly.kwargs)) == (
        "scheduling.schedule_tick", "daemon", {"state_id": states[(InstigatorKind.SCHEDULE, "hourly")].pk})
    assert hourly.interval is None
    assert (hourly.crontab.minute, hourly.crontab.hour, hourly.crontab.day_of_week, str(hourly.crontab.timezone)) == (
        "0", "*", "*", "UTC")
    sensor = tasks[task_name(states[(InstigatorKind.SENSOR, "counting_sensor")])]
    assert (sensor.task, sensor.crontab, sensor.interval.every, sensor.interval.period) == (
        "scheduling.sensor_tick", None, 45, IntervalSchedule.SECONDS)
    # The default sensor interval is Dagster's 30 seconds.
    assert tasks[task_name(states[(InstigatorKind.SENSOR, "failing_sensor")])].interval.every == 30


def test_default_status_decides_until_someone_starts_or_stops(location):
    assert state(InstigatorKind.SCHEDULE, "hourly").status == InstigatorStatus.RUNNING
    assert state(InstigatorKind.SCHEDULE, "failing_schedule").status == InstigatorStatus.STOPPED
    assert state(InstigatorKind.SENSOR, "counting_sensor").status == InstigatorStatus.RUNNING
    enabled = {t.name for t in PeriodicTask.objects.filter(enabled=True)}
    assert enabled == {task_name(state(InstigatorKind.SCHEDULE, "hourly")),
                       task_name(state(InstigatorKind.SENSOR, "counting_sensor")), SWEEP_TASK_NAME, BACKFILL_TASK_NAME}
    assert state(InstigatorKind.SCHEDULE, "hourly").next_tick_at is not None
    assert state(InstigatorKind.SCHEDULE, "failing_schedule").next_tick_at is None


def test_reconciling_twice_leaves_every_row_as_it_was(location):
    before_rows = beat_rows()
    before_states = list(InstigatorState.objects.values().order_by("pk"))
    crontabs, intervals = CrontabSchedule.objects.count(), IntervalSchedule.objects.count()
    def changed():
        return dict(PeriodicTask.objects.values_list("name", "date_changed"))

    before_changed = changed()
    instigators_reconcile(location_name=LOCATION, force=True)
    instigators_reconcile()

    assert beat_rows() == before_rows
    assert list(InstigatorState.objects.values().order_by("pk")) == before_states
    assert (CrontabSchedule.objects.count(), IntervalSchedule.objects.count()) == (crontabs, intervals)
    assert changed() == before_changed  # not even re-saved


def test_stopping_disables_the_beat_row_and_starting_enables_it(location):
    hourly = state(InstigatorKind.SCHEDULE, "hourly")
    schedule_stop(location_name=LOCATION, name="hourly")
    row = PeriodicTask.objects.get(name=task_name(hourly))
    assert row.enabled is False
    stopped = state(InstigatorKind.SCHEDULE, "hourly")
    assert (stopped.status, stopped.status_overridden, stopped.next_tick_at) == (InstigatorStatus.STOPPED, True, None)

    # A stop survives the next snapshot even though the code says RUNNING.
    instigators_reconcile(location_name=LOCATION, force=True)
    assert state(InstigatorKind.SCHEDULE, "hourly").status == InstigatorStatus.STOPPED
    assert PeriodicTask.objects.get(name=task_name(hourly)).enabled is False

    schedule_start(location_name=LOCATION, name="hourly")
    assert PeriodicTask.objects.get(name=task_name(hourly)).enabled is True

    sensor_start(location_name=LOCATION, name="failing_sensor")
    failing = state(InstigatorKind.SENSOR, "failing_sensor")
    assert PeriodicTask.objects.get(name=task_name(failing)).enabled is True
    sensor_stop(location_name=LOCATION, name="failing_sensor")
    assert PeriodicTask.objects.get(name=task_name(failing)).enabled is False

    instigator_reset(kind=InstigatorKind.SENSOR, location_name=LOCATION, name="failing_sensor")
    assert state(InstigatorKind.SENSOR, "failing_sensor").status_overridden is False


def test_unknown_or_removed_definitions_are_refused(location):
    with pytest.raises(NotFound):
        schedule_start(location_name=LOCATION, name="no_such_schedule")
    with pytest.raises(NotFound):
        sensor_cursor_set(location_name="elsewhere", name="counting_sensor", cursor="1")

    CodeLocation.objects.filter(name=LOCATION).update(status=LocationStatus.ERROR, snapshot=None, snapshot_id="")
    instigators_reconcile()
    assert not InstigatorState.objects.filter(present=True).exists()
    assert not PeriodicTask.objects.filter(enabled=True).exclude(name__in=[SWEEP_TASK_NAME, BACKFILL_TASK_NAME]).exists()
    with pytest.raises(Conflict):
        schedule_start(location_name=LOCATION, name="hourly")


def test_a_definition_gone_from_the_snapshot_is_disabled_and_comes_back_with_its_state(location):
    snapshot = dict(location.snapshot)
    snapshot["schedules"] = [s for s in snapshot["schedules"] if s["name"] != "hourly"]
    CodeLocation.objects.filter(name=LOCATION).update(snapshot=snapshot, snapshot_id="changed")
    instigators_reconcile()
    hourly = state(InstigatorKind.SCHEDULE, "hourly")
    assert hourly.present is False
    assert PeriodicTask.objects.get(name=task_name(hourly)).enabled is False

    CodeLocation.objects.filter(name=LOCATION).update(snapshot=location.snapshot, snapshot_id=location.snapshot_id)
    instigators_reconcile()
    again = state(InstigatorKind.SCHEDULE, "hourly")
    assert (again.pk, again.present) == (hourly.pk, True)
    assert PeriodicTask.objects.get(name=task_name(again)).enabled is True


def test_sensor_cursor_is_set_and_cleared(location):
    sensor_cursor_set(location_name=LOCATION, name="counting_sensor", cursor="41")
    assert state(InstigatorKind.SENSOR, "counting_sensor").cursor == "41"
    sensor_cursor_set(location_name=LOCATION, name="counting_sensor", cursor=None)
    assert state(InstigatorKind.SENSOR, "counting_sensor").cursor is None


@pytest.mark.parametrize(("cron", "expected"), [
    ("0 * * * *", ("0", "*", "*", "*", "*")),
    ("*/15 9-17 * * 1-5", ("*/15", "9-17", "*", "*", "1-5")),
    ("0 0 1,15 * *", ("0", "0", "1,15", "*", "*")),
    ("@daily", None),
    (["0 9 * * *", "30 17 * * 1-5"], None),
    ("0 0 1 * 1", None),      # cron ORs the day fields, a Celery crontab ANDs them
    ("0 0 * * 7", None),      # Sunday as 7
    ("0 0 * * mon", None),
    ("0 0 L * *", None),
])
def test_crontab_rows_only_for_cron_strings_celery_reads_the_same_way(cron, expected):
    assert crontab_fields(cron) == expected


def test_a_cron_list_gets_a_minute_level_crontab_in_its_time_zone(location):
    two = state(InstigatorKind.SCHEDULE, "two_crons")
    ny = state(InstigatorKind.SCHEDULE, "new_york_2am")
    row = PeriodicTask.objects.get(name=task_name(two)).crontab
    assert (row.minute, row.hour, row.day_of_month, row.month_of_year, row.day_of_week) == ("*",) * 5
    ny_row = PeriodicTask.objects.get(name=task_name(ny)).crontab
    assert (ny_row.minute, ny_row.hour, str(ny_row.timezone)) == ("0", "2", "America/New_York")


def test_a_location_without_schedules_or_sensors_is_in_step_without_reconciling(location):
    from scheduling.services import _in_step

    snapshot = dict(location.snapshot, schedules=[], sensors=[])
    CodeLocation.objects.create(name="plain", status=LocationStatus.LOADED, snapshot=snapshot, snapshot_id="s1")
    assert _in_step("plain", "s1") is True
    assert _in_step(LOCATION, location.snapshot_id) is True
    assert _in_step(LOCATION, "another snapshot") is False
