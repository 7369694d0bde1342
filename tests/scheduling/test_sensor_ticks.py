"""Sensor ticks against a real code server: cursors, run keys, SensorResult, failures, intervals, concurrency."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from runs.models import Run
from scheduling.models import InstigatorKind, InstigatorState, SensorRunKey, Tick, TickStatus
from scheduling.services import sensor_cursor_set, sensor_start, sensor_stop, sensor_tick
from tests.scheduling.conftest import LOCATION
from workspace.models import CodeLocation

pytestmark = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def sensor(name: str) -> InstigatorState:
    state = InstigatorState.objects.get(kind=InstigatorKind.SENSOR, location_name=LOCATION, name=name)
    if state.status != "RUNNING":
        sensor_start(location_name=LOCATION, name=name)
        state.refresh_from_db()
    return state


def tags(run_id: str) -> dict[str, str]:
    return dict(Run.objects.get(run_id=run_id).tags.values_list("key", "value"))


def test_each_tick_gets_the_stored_cursor_and_stores_the_new_one_with_its_run(location):
    state = sensor("counting_sensor")
    first = sensor_tick(state_id=state.pk, now=T0)
    assert (first.status, first.cursor_before, first.cursor_after, first.run_keys) == (
        TickStatus.SUCCESS, None, "1", ["run-1"])
    [run_id] = first.run_ids
    run = Run.objects.get(run_id=run_id)
    assert run.run_config == {"ops": {"hello": {"config": {"n": 1}}}}
    assert tags(run_id) == tags(run_id) | {"dagster/sensor_name": "counting_sensor", "dagster/run_key": "run-1",
                                            "dagster/tick": str(first.pk)}
    state.refresh_from_db()
    assert (state.cursor, state.last_run_key, state.last_tick_at) == ("1", "run-1", T0)

    # minimum_interval_seconds=45: a nudge 10 s later evaluates nothing.
    assert sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(seconds=10)) is None
    second = sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(seconds=45))
    assert (second.cursor_before, second.cursor_after, second.run_keys) == ("1", "2", ["run-2"])
    assert SensorRunKey.objects.filter(state=state).count() == 2


def test_a_run_key_launches_one_run_ever(location):
    state = sensor("same_key_sensor")
    first = sensor_tick(state_id=state.pk, now=T0)
    assert (first.status, len(first.run_ids)) == (TickStatus.SUCCESS, 1)  # two requests, one key
    second = sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(minutes=1))
    assert (second.status, second.run_ids) == (TickStatus.SKIPPED, [])
    assert "always-the-same" in second.skip_reason
    assert Run.objects.count() == 1
    assert list(SensorRunKey.objects.values_list("run_key", "run_id")) == [("always-the-same", first.run_ids[0])]


def test_a_sensor_result_sets_the_cursor_and_its_skip_reason_is_recorded(location):
    state = sensor("result_sensor")
    first = sensor_tick(state_id=state.pk, now=T0)
    assert (first.status, first.cursor_after, first.run_keys) == (TickStatus.SUCCESS, "done", ["once"])
    second = sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(minutes=1))
    assert (second.status, second.skip_reason, second.cursor_before) == (TickStatus.SKIPPED, "already done", "done")


def test_a_sensor_that_raises_records_a_failed_tick_and_keeps_its_cursor(location):
    state = sensor("failing_sensor")
    sensor_cursor_set(location_name=LOCATION, name="failing_sensor", cursor="7")
    tick = sensor_tick(state_id=state.pk, now=T0)
    assert tick.status == TickStatus.FAILURE
    assert "the sensor broke" in str(tick.error)
    assert (tick.cursor_before, tick.cursor_after) == ("7", None)
    state.refresh_from_db()
    assert (state.cursor, state.last_tick_at, state.tick_lease_until) == ("7", T0, None)
    assert Run.objects.count() == 0


def test_a_run_that_cannot_be_submitted_fails_the_tick_and_keeps_cursor_and_run_keys_unchanged(location):
    state = sensor("counting_sensor")
    snapshot = dict(location.snapshot)
    snapshot["jobs"] = [job for job in snapshot["jobs"] if job["name"] != "my_job"]
    CodeLocation.objects.filter(name=LOCATION).update(snapshot=snapshot, snapshot_id="without-my-job")
    tick = sensor_tick(state_id=state.pk, now=T0)
    assert tick.status == TickStatus.FAILURE
    assert tick.error["cls_name"] == "JobNotFound"
    state.refresh_from_db()
    assert (state.cursor, state.last_run_key) == (None, None)
    assert not SensorRunKey.objects.exists() and not Run.objects.exists()

    CodeLocation.objects.filter(name=LOCATION).update(snapshot=location.snapshot, snapshot_id=location.snapshot_id)
    retry = sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(minutes=1))
    assert (retry.status, retry.run_keys, retry.cursor_after) == (TickStatus.SUCCESS, ["run-1"], "1")


def test_a_stopped_sensor_does_not_tick(location):
    state = sensor("counting_sensor")
    sensor_stop(location_name=LOCATION, name="counting_sensor")
    assert sensor_tick(state_id=state.pk, now=T0) is None
    assert not Tick.objects.exists()


def test_a_tick_left_started_by_a_dead_daemon_is_closed_as_failed_and_evaluated_again(location):
    state = sensor("counting_sensor")
    Tick.objects.create(state=state, kind="SENSOR", status=TickStatus.STARTED, timestamp=T0)
    InstigatorState.objects.filter(pk=state.pk).update(tick_lease_until=T0 - dt.timedelta(seconds=1))
    tick = sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(minutes=1))
    assert (tick.status, tick.run_keys) == (TickStatus.SUCCESS, ["run-1"])
    interrupted = Tick.objects.exclude(pk=tick.pk).get()
    assert (interrupted.status, interrupted.error["cls_name"]) == (TickStatus.FAILURE, "DaemonInterrupted")


def test_two_daemons_ticking_the_same_sensor_at_once_evaluate_it_once(location):
    state = sensor("counting_sensor")
    barrier = threading.Barrier(2)
    results: list = []

    def daemon() -> None:
        try:
            barrier.wait()
            results.append(sensor_tick(state_id=state.pk, now=T0))
        except Exception as exc:  # surfaced below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=daemon) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(isinstance(r, Tick) for r in results) == 1 and results.count(None) == 1, results
    assert Tick.objects.count() == 1 and Run.objects.count() == 1


def test_dynamic_partition_requests_are_applied_with_the_tick(location):
    from runs.models import DynamicPartition

    state = sensor("region_sensor")
    first = sensor_tick(state_id=state.pk, now=T0)
    assert (first.status, first.cursor_after) == (TickStatus.SKIPPED, "added")
    keys = DynamicPartition.objects.filter(partitions_def_name="regions").values_list("partition_key", flat=True)
    assert sorted(keys) == ["apac", "eu", "us"]
    sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(minutes=1))
    assert sorted(keys.all()) == ["eu", "us"]


def test_previews_evaluate_without_recording_anything(location):
    from core.exceptions import NotFound
    from scheduling.services import schedule_preview, sensor_preview

    preview = sensor_preview(location_name=LOCATION, name="counting_sensor", cursor="41")
    assert (preview["cursor"], preview["run_requests"][0]["run_key"], preview["error"]) == ("42", "run-42", None)
    scheduled = schedule_preview(location_name=LOCATION, name="hourly",
                                 scheduled_time=dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC))
    assert scheduled["run_requests"][0]["tags"]["team"] == "data"
    assert schedule_preview(location_name=LOCATION, name="failing_schedule")["error"]["message"]
    assert not Tick.objects.exists() and not Run.objects.exists()
    state = InstigatorState.objects.get(name="counting_sensor")
    assert state.cursor is None
    with pytest.raises(NotFound):
        sensor_preview(location_name=LOCATION, name="nope")
