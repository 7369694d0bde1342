"""Run status and run failure sensors: runs found in the event log by event-id cursor, evaluated in the code server."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from runs.models import Run
from runs.services import EventInput, event_store, run_create
from scheduling.models import InstigatorKind, InstigatorState, TickStatus
from scheduling.services import sensor_start, sensor_tick
from tests.scheduling.conftest import LOCATION

pytestmark = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def started(name: str) -> InstigatorState:
    sensor_start(location_name=LOCATION, name=name)
    return InstigatorState.objects.get(kind=InstigatorKind.SENSOR, location_name=LOCATION, name=name)


def finished_run(job_name: str, event: str, *, location: str = LOCATION, tags: dict | None = None) -> Run:
    run = run_create(job_name=job_name, location_name=location, tags=tags or {})
    event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START"),
                                           EventInput(event_type=event, message=f"{job_name} ended")])
    return run


class Clock:
    def __init__(self):
        self.now = T0

    def tick(self, state):
        self.now += dt.timedelta(minutes=1)
        return sensor_tick(state_id=state.pk, now=self.now)


def test_a_run_failure_sensor_sees_each_failed_run_once_from_when_it_started(location):
    finished_run("my_job", "RUN_FAILURE")  # before the sensor started: not replayed
    state = started("on_failure")
    clock = Clock()
    first = clock.tick(state)
    assert first.status == TickStatus.SKIPPED and first.skip_reason.startswith("Initiating on_failure")

    failed = finished_run("my_job", "RUN_FAILURE")
    finished_run("my_job", "RUN_SUCCESS")                       # another status
    finished_run("my_job", "RUN_FAILURE", location="elsewhere")  # another code location
    tick = clock.tick(state)
    assert tick.status == TickStatus.SUCCESS
    [run_id] = tick.run_ids
    tags = dict(Run.objects.get(run_id=run_id).tags.values_list("key", "value"))
    assert (tags["failed_run"], tags["why"], tags["dagster/sensor_name"]) == (failed.run_id, "my_job ended", "on_failure")
    assert tick.run_keys == [f"after-{failed.run_id}"]
    assert json.loads(tick.cursor_after)["record_id"] > json.loads(tick.cursor_before)["record_id"]

    assert clock.tick(state).status == TickStatus.SKIPPED  # nothing new: nothing seen twice
    second = finished_run("my_job", "RUN_FAILURE")
    assert clock.tick(state).run_keys == [f"after-{second.run_id}"]


def test_an_error_keeps_the_cursor_so_the_runs_are_evaluated_again(location):
    state = started("on_failure")
    clock = Clock()
    clock.tick(state)
    broken = finished_run("my_job", "RUN_FAILURE", tags={"sensor": "raise"})
    failure = clock.tick(state)
    assert failure.status == TickStatus.FAILURE and "the failure sensor broke" in str(failure.error)
    state.refresh_from_db()
    assert state.cursor == failure.cursor_before

    Run.objects.filter(run_id=broken.run_id).first().tags.filter(key="sensor").update(value="fine")
    retry = clock.tick(state)
    assert retry.run_keys == [f"after-{broken.run_id}"]


def test_a_run_status_sensor_watches_only_its_status_and_monitored_jobs(location):
    state = started("on_daily_success")
    clock = Clock()
    clock.tick(state)
    finished_run("my_job", "RUN_SUCCESS")      # not monitored
    finished_run("daily_job", "RUN_FAILURE")   # not its status
    assert clock.tick(state).skip_reason is None
    finished_run("daily_job", "RUN_SUCCESS")
    assert clock.tick(state).skip_reason == "saw daily_job SUCCESS"
