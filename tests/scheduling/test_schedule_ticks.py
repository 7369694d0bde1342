"""Schedule ticks against a real code server: due times, catch-up, time zones and DST, failures, concurrency."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from core.instance_config import ClassEntry
from runs.models import Run
from scheduling.models import InstigatorKind, InstigatorState, Tick, TickStatus
from scheduling.services import schedule_start, schedule_stop, schedule_tick
from tests.scheduling.conftest import LOCATION
from workspace.models import CodeLocation

pytestmark = pytest.mark.django_db(transaction=True)

UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def running(name: str, started_at: dt.datetime) -> InstigatorState:
    """The schedule, running since `started_at` (time is simulated by the `now` each tick is given)."""
    state = InstigatorState.objects.get(kind=InstigatorKind.SCHEDULE, location_name=LOCATION, name=name)
    if state.status != "RUNNING":
        schedule_start(location_name=LOCATION, name=name)
    InstigatorState.objects.filter(pk=state.pk).update(started_at=started_at, last_scheduled_time=None)
    state.refresh_from_db()
    return state


def runs_of(tick: Tick) -> list[Run]:
    return [Run.objects.get(run_id=run_id) for run_id in tick.run_ids]


def tags(run: Run) -> dict[str, str]:
    return dict(run.tags.values_list("key", "value"))


def scheduled(state: InstigatorState) -> list[dt.datetime]:
    return list(Tick.objects.filter(state=state).order_by("scheduled_time").values_list("scheduled_time", flat=True))


def test_a_due_tick_submits_one_run_with_dagsters_tags_and_only_once(location):
    state = running("hourly", at(2026, 1, 5, 9, 30))
    assert schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 9, 59)) == []

    [tick] = schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 0, 5))
    assert (tick.status, tick.scheduled_time, tick.kind) == (TickStatus.SUCCESS, at(2026, 1, 5, 10), "SCHEDULE")
    [run] = runs_of(tick)
    assert (run.job_name, run.location_name) == ("my_job", LOCATION)
    assert tags(run) == tags(run) | {
        "dagster/schedule_name": "hourly", "dagster/tick": str(tick.pk), "team": "data",
        ".dagster/scheduled_execution_time": "2026-01-05T10:00:00+00:00",
    }
    assert schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 30)) == []
    state.refresh_from_db()
    assert (state.last_scheduled_time, state.next_tick_at) == (at(2026, 1, 5, 10), at(2026, 1, 5, 11))
    assert Run.objects.count() == 1


def test_a_schedule_without_partitions_catches_up_with_its_latest_tick_only(location):
    state = running("hourly", at(2026, 1, 5, 9, 30))
    [tick] = schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 15, 5))
    assert tick.scheduled_time == at(2026, 1, 5, 15)
    assert scheduled(state) == [at(2026, 1, 5, 15)]
    assert Run.objects.count() == 1


def test_a_partitioned_schedule_catches_up_its_last_max_catchup_runs_ticks(location):
    state = running("daily_partitioned", at(2024, 1, 1, 0, 30))
    ticks = schedule_tick(state_id=state.pk, now=at(2024, 1, 10, 0, 5))
    # Nine days were missed; Dagster's default max_catchup_runs is 5, the latest ones, oldest first.
    assert [t.scheduled_time for t in ticks] == [at(2024, 1, day) for day in range(6, 11)]
    partitions = [tags(run)["dagster/partition"] for tick in ticks for run in runs_of(tick)]
    assert partitions == ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09"]


def test_max_catchup_runs_comes_from_the_instance_scheduler_config(location, settings):
    config = settings.INSTANCE.config.model_copy(update={"scheduler": ClassEntry(
        module="dagster._core.scheduler", class_="DagsterDaemonScheduler", config={"max_catchup_runs": 2})})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    state = running("daily_partitioned", at(2024, 1, 1, 0, 30))
    ticks = schedule_tick(state_id=state.pk, now=at(2024, 1, 10, 0, 5))
    assert [t.scheduled_time for t in ticks] == [at(2024, 1, 9), at(2024, 1, 10)]


def test_a_schedule_turned_off_and_on_does_not_back_fill_the_ticks_in_between(location):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=10)
    state = running("daily_partitioned", start)
    first = schedule_tick(state_id=state.pk, now=start + dt.timedelta(days=1))
    assert len(first) == 1
    schedule_stop(location_name=LOCATION, name="daily_partitioned")
    assert schedule_tick(state_id=state.pk, now=start + dt.timedelta(days=5)) == []  # stopped: nothing

    restarted = schedule_start(location_name=LOCATION, name="daily_partitioned")
    later = schedule_tick(state_id=state.pk, now=restarted.started_at + dt.timedelta(days=1))
    # Partitioned, so it would catch up 5 ticks, but none from before the restart.
    assert len(later) == 1 and later[0].scheduled_time > restarted.started_at
    assert all(t <= first[0].scheduled_time or t > restarted.started_at for t in scheduled(state))


def test_spring_forward_fires_a_skipped_wall_time_once_at_the_transition(location):
    state = running("new_york_2am", at(2024, 3, 9, 12))
    assert schedule_tick(state_id=state.pk, now=at(2024, 3, 10, 6, 59)) == []   # 01:59 EST
    [tick] = schedule_tick(state_id=state.pk, now=at(2024, 3, 10, 7, 0, 30))     # 03:00:30 EDT
    assert tick.scheduled_time == at(2024, 3, 10, 7)
    assert tags(runs_of(tick)[0])["at"] == "2024-03-10T03:00:00-04:00"
    [next_day] = schedule_tick(state_id=state.pk, now=at(2024, 3, 11, 6, 30))
    assert next_day.scheduled_time == at(2024, 3, 11, 6)  # 02:00 EDT


def test_fall_back_fires_a_repeated_wall_time_once_at_its_later_occurrence(location):
    state = running("new_york_1am", at(2024, 11, 2, 12))
    assert schedule_tick(state_id=state.pk, now=at(2024, 11, 3, 5, 30)) == []   # 01:30 EDT: not yet
    [tick] = schedule_tick(state_id=state.pk, now=at(2024, 11, 3, 6, 30))        # 01:30 EST
    assert tick.scheduled_time == at(2024, 11, 3, 6)
    assert schedule_tick(state_id=state.pk, now=at(2024, 11, 3, 12)) == []


def test_an_hourly_schedule_fires_twice_in_the_repeated_hour(location):
    state = running("new_york_hourly", at(2024, 11, 3, 3, 30))
    for hour in (4, 5, 6, 7):
        schedule_tick(state_id=state.pk, now=at(2024, 11, 3, hour, 1))
    assert scheduled(state) == [at(2024, 11, 3, h) for h in (4, 5, 6, 7)]  # 00:00 EDT, 01:00 EDT, 01:00 EST, 02:00 EST


def test_a_list_of_cron_strings_fires_at_each(location):
    state = running("two_crons", at(2024, 1, 1))  # a Monday
    for now in (at(2024, 1, 1, 9, 1), at(2024, 1, 1, 17, 31), at(2024, 1, 2, 9, 1)):
        schedule_tick(state_id=state.pk, now=now)
    assert scheduled(state) == [at(2024, 1, 1, 9), at(2024, 1, 1, 17, 30), at(2024, 1, 2, 9)]


def test_a_failing_schedule_records_a_failure_tick_with_the_error_and_is_not_retried(location):
    state = running("failing_schedule", at(2026, 1, 1, 12))
    [tick] = schedule_tick(state_id=state.pk, now=at(2026, 1, 2, 0, 1))
    assert tick.status == TickStatus.FAILURE
    assert "the schedule broke" in str(tick.error)
    assert tick.run_ids == [] and Run.objects.count() == 0
    assert schedule_tick(state_id=state.pk, now=at(2026, 1, 2, 0, 2)) == []  # max_tick_retries = 0, as Dagster


def test_a_skip_reason_records_a_skipped_tick(location):
    state = running("skipping_schedule", at(2026, 1, 1, 12))
    [tick] = schedule_tick(state_id=state.pk, now=at(2026, 1, 2, 0, 1))
    assert (tick.status, tick.skip_reason, tick.run_ids) == (TickStatus.SKIPPED, "nothing to do today", [])


def test_invalid_run_config_is_a_failure_tick_naming_the_error_and_creates_no_run(location):
    state = running("bad_config_schedule", at(2026, 1, 1, 12))
    [tick] = schedule_tick(state_id=state.pk, now=at(2026, 1, 2, 0, 1))
    assert tick.status == TickStatus.FAILURE
    assert tick.error["cls_name"] == "RunConfigInvalid"
    assert Run.objects.count() == 0


def test_an_unreachable_code_server_is_a_failure_tick(location):
    state = running("hourly", at(2026, 1, 5, 9, 30))
    CodeLocation.objects.filter(name=LOCATION).update(server={"host": "127.0.0.1", "port": 9})
    [tick] = schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 1))
    assert tick.status == TickStatus.FAILURE
    assert tick.error["cls_name"] == "CodeServerUnavailable"


def test_a_tick_left_started_by_a_dead_daemon_is_taken_over_once_its_claim_expires(location):
    state = running("hourly", at(2026, 1, 5, 9, 30))
    due = at(2026, 1, 5, 10)
    held = Tick.objects.create(state=state, kind="SCHEDULE", scheduled_time=due, status=TickStatus.STARTED,
                               claimed_until=timezone.now() + dt.timedelta(minutes=1))
    assert schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 1)) == []  # another daemon is on it
    assert Run.objects.count() == 0

    Tick.objects.filter(pk=held.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    [tick] = schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 1))
    assert (tick.pk, tick.status, len(tick.run_ids)) == (held.pk, TickStatus.SUCCESS, 1)
    assert Tick.objects.filter(state=state).count() == 1


def test_two_daemons_ticking_the_same_schedule_at_once_submit_one_run(location):
    state = running("hourly", at(2026, 1, 5, 9, 30))
    barrier = threading.Barrier(2)
    results: list = []

    def daemon() -> None:
        try:
            barrier.wait()
            results.append(schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 1)))
        except Exception as exc:  # surfaced below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=daemon) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(r, list) for r in results), results
    assert sorted(len(r) for r in results) == [0, 1]
    assert Tick.objects.filter(state=state).count() == 1
    assert Run.objects.count() == 1


def test_the_sweep_answers_running_schedules_whose_tick_is_due_until_it_is_handled(location):
    from scheduling.services import scheduling_sweep

    state = running("hourly", at(2026, 1, 5, 9, 30))
    InstigatorState.objects.filter(pk=state.pk).update(next_tick_at=at(2026, 1, 5, 10))
    assert scheduling_sweep(now=at(2026, 1, 5, 9, 59)) == []
    assert scheduling_sweep(now=at(2026, 1, 5, 10, 0, 30)) == [state.pk]
    schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 0, 30))
    assert scheduling_sweep(now=at(2026, 1, 5, 10, 0, 40)) == []
    schedule_stop(location_name=LOCATION, name="hourly")
    assert scheduling_sweep(now=at(2026, 1, 5, 12)) == []


def test_ticks_wait_while_the_location_reloads_and_run_once_it_is_back(location):
    state = running("hourly", at(2026, 1, 5, 9, 30))
    CodeLocation.objects.filter(name=LOCATION).update(status="LOADING")
    assert schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 1)) == []
    assert not Tick.objects.exists()
    CodeLocation.objects.filter(name=LOCATION).update(status="LOADED")
    [tick] = schedule_tick(state_id=state.pk, now=at(2026, 1, 5, 10, 2))
    assert (tick.scheduled_time, tick.status) == (at(2026, 1, 5, 10), TickStatus.SUCCESS)


def test_max_tick_retries_evaluates_a_failed_tick_again_that_many_times(location, settings):
    config = settings.INSTANCE.config.model_copy(update={"scheduler": ClassEntry(
        module="dagster._core.scheduler", class_="DagsterDaemonScheduler", config={"max_tick_retries": 1})})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    state = running("failing_schedule", at(2026, 1, 1, 12))
    [first] = schedule_tick(state_id=state.pk, now=at(2026, 1, 2, 0, 1))
    [retried] = schedule_tick(state_id=state.pk, now=at(2026, 1, 2, 0, 2))
    assert (retried.pk, retried.status, retried.failure_count) == (first.pk, TickStatus.FAILURE, 2)
    assert schedule_tick(state_id=state.pk, now=at(2026, 1, 2, 0, 3)) == []  # out of retries
    state.refresh_from_db()
    assert state.last_scheduled_time == at(2026, 1, 2)
