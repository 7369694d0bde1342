"""Runs started by schedules, sensors and backfills record who launched them, and so does the audit log."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from core.audit import DAGSTER_USER_TAG, LAUNCHED_BY_TAG
from core.models import AuditEntry
from runs.models import Run
from scheduling.backfills import backfill_progress
from scheduling.models import InstigatorKind, InstigatorState
from scheduling.services import schedule_start, schedule_tick, sensor_start, sensor_tick
from tests.scheduling.conftest import LOCATION

pytestmark = pytest.mark.django_db(transaction=True)

UTC = dt.UTC


def state(kind: str, name: str) -> InstigatorState:
    return InstigatorState.objects.get(kind=kind, location_name=LOCATION, name=name)


def tags(run_id: str) -> dict[str, str]:
    return dict(Run.objects.get(run_id=run_id).tags.values_list("key", "value"))


def launches(run_id: str) -> list[tuple[str, str]]:
    return list(AuditEntry.objects.filter(action="run.launch", target_id=run_id).values_list("actor_kind", "actor_name"))


def test_a_schedule_tick_launches_its_run_as_the_schedule(location):
    schedule = state(InstigatorKind.SCHEDULE, "new_york_hourly")
    schedule_start(location_name=LOCATION, name=schedule.name)
    InstigatorState.objects.filter(pk=schedule.pk).update(started_at=dt.datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
                                                          last_scheduled_time=None)
    [tick] = schedule_tick(state_id=schedule.pk, now=dt.datetime(2026, 1, 5, 10, 0, 5, tzinfo=UTC))
    [run_id] = tick.run_ids
    assert tags(run_id)[LAUNCHED_BY_TAG] == "schedule:new_york_hourly" and DAGSTER_USER_TAG not in tags(run_id)
    assert launches(run_id) == [("schedule", "new_york_hourly")]
    # Starting it was recorded too, as the system (no actor was given).
    assert AuditEntry.objects.filter(action="schedule.start", target_id="new_york_hourly", actor_kind="system",
                                     location_name=LOCATION).count() == 1


def test_a_sensor_tick_launches_its_runs_and_edits_partitions_as_the_sensor(location):
    counting = state(InstigatorKind.SENSOR, "counting_sensor")
    tick = sensor_tick(state_id=counting.pk, now=dt.datetime(2026, 3, 1, 12, tzinfo=UTC))
    [run_id] = tick.run_ids
    assert tags(run_id)[LAUNCHED_BY_TAG] == "sensor:counting_sensor"
    assert launches(run_id) == [("sensor", "counting_sensor")]

    regions = state(InstigatorKind.SENSOR, "region_sensor")
    sensor_start(location_name=LOCATION, name="region_sensor")
    sensor_tick(state_id=regions.pk, now=dt.datetime(2026, 3, 1, 12, tzinfo=UTC))
    [entry] = AuditEntry.objects.filter(action="dynamic_partitions.add")
    assert (entry.actor_kind, entry.actor_name, entry.target_id) == ("sensor", "region_sensor", "regions")
    assert entry.details == {"partition_keys": ["eu", "us", "apac"], "count": 3}


def test_a_backfill_launched_over_rest_records_the_user_and_its_runs_are_launched_by_the_backfill(client, login_as,
                                                                                                  location):
    login_as("editor", username="ed")
    response = client.post("/api/backfills", json.dumps({
        "location_name": LOCATION, "job_name": "daily_job", "partition_names": ["2024-01-01", "2024-01-02"]}),
        content_type="application/json")
    assert response.status_code == 201, response.content
    backfill_id = response.json()["backfill_id"]
    [entry] = AuditEntry.objects.filter(action="backfill.launch")
    assert (entry.actor_kind, entry.actor_name, entry.address, entry.target_id, entry.location_name) == (
        "user", "ed", "127.0.0.1", backfill_id, LOCATION)
    assert entry.details["partitions"] == 2 and entry.details["job_name"] == "daily_job"

    backfill_progress(backfill_id=backfill_id)
    runs = Run.objects.filter(job_name="daily_job")
    assert runs.count() == 2
    for run in runs:
        assert tags(run.run_id)[LAUNCHED_BY_TAG] == f"backfill:{backfill_id}"
        assert launches(run.run_id) == [("backfill", backfill_id)]
    listed = client.get("/api/runs", {"launched_by": f"backfill:{backfill_id}"}).json()["results"]
    assert {r["run_id"] for r in listed} == {r.run_id for r in runs}


def test_a_refused_backfill_leaves_no_entry(client, login_as, location):
    login_as("launcher", username="lou")  # backfills need the editor role
    response = client.post("/api/backfills", json.dumps({
        "location_name": LOCATION, "job_name": "daily_job", "partition_names": ["2024-01-01"]}),
        content_type="application/json")
    assert response.status_code == 403
    login_as("editor", username="ed")
    response = client.post("/api/backfills", json.dumps({
        "location_name": LOCATION, "job_name": "daily_job", "partition_names": ["1999-01-01"]}),
        content_type="application/json")
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(action="backfill.launch").exists()
