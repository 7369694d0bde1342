"""Kills at each step of a run's life and of a tick (issue #12, invariants 1-3), at deterministic points.

A process started with `ORCHESTRA_FAULT_KILL_AT=<point>` SIGKILLs itself there (`core/faults.py`):
- a run's life, on a queued deployment (a Celery daemon worker and beat, run workers started by the
  subprocess launcher): the daemon dies once it has claimed a queued run (`queued`) or recorded its
  launch (`starting`) — a new daemon takes over —, the run worker dies mid-step or as it finishes.
  Every run ends, none is lost, none is launched twice, and no step event follows the run's end.
- a tick, in a child process ticking against the test database: the daemon dies while the tick is
  evaluated, after its runs were submitted but before they committed, or right after it recorded them.
  A second daemon ticks once the claim has expired: one run per schedule time and per sensor run key.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.faults import KILL_AT_ENV
from runs import services
from runs.models import EventLogEntry, Run, RunStatus, RunTag
from scheduling.models import InstigatorKind, InstigatorState, SensorRunKey, Tick, TickStatus
from scheduling.services import schedule_tick, sensor_tick
from tests.conftest import run_child
from tests.faults.processes import Process, add_to_instance, record_figure
from tests.faults.test_daemon_killed import DAEMON_CONFIG, beat, daemon_worker
from tests.runs.locations import queued, store_location, wait_for
from tests.scheduling.conftest import LOCATION, code_server, location, queued_runs  # noqa: F401 - fixtures

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}  # steps run in the run worker itself
FINISHED = [RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED]

# name -> (kill point, the role that dies there)
RUN_POINTS = {
    "queued": ("event.after:RUN_DEQUEUED", "daemon"),  # claimed from the queue, not launched
    "starting": ("event.after:RUN_STARTING", "daemon"),  # launch recorded, no worker started
    "mid-step": ("event.after:STEP_START", "run worker"),
    "finishing": ("event.before:RUN_SUCCESS", "run worker"),  # every step done, the run's end not written
}


def _count(run_id: str, event_type: str) -> int:
    return EventLogEntry.objects.filter(run_id=run_id, event_type=event_type).count()


def _claims(run_id: str) -> int:
    return EventLogEntry.objects.filter(run_id=run_id, event_type="ENGINE_EVENT",
                                        message__startswith="Started process for run").count()


@pytest.fixture
def daemon_deployment(child_home, tmp_path, settings):
    add_to_instance(child_home, DAEMON_CONFIG)
    queued(settings)
    store_location(tmp_path)
    started: list[Process] = []

    def start(process: Process) -> Process:
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stage", list(RUN_POINTS))
def test_a_kill_at_each_stage_of_a_run_leaves_it_ended_and_launched_once(daemon_deployment, child_home, tmp_path,
                                                                        stage):
    point, role = RUN_POINTS[stage]
    run_id = services.run_submit(job_name="chain", location_name="launch_defs", run_config=IN_PROCESS).run_id
    daemon_deployment(beat(child_home, tmp_path))
    first = daemon_worker(child_home, tmp_path / "daemon-1.log")
    first.env[KILL_AT_ENV] = point  # the run workers it launches inherit it
    daemon_deployment(first)

    if role == "daemon":
        wait_for(lambda: first.proc.poll() is not None, 120, "the daemon killing itself")
        assert first.proc.returncode == -9, first.output()
        assert Run.objects.get(run_id=run_id).status == (
            RunStatus.NOT_STARTED if stage == "queued" else RunStatus.STARTING)
        daemon_deployment(daemon_worker(child_home, tmp_path / "daemon-2.log"))
    run = wait_for(lambda: Run.objects.filter(run_id=run_id, status__in=FINISHED).first(), 180, f"run ended ({stage})")

    counts = (_count(run_id, "RUN_DEQUEUED"), _count(run_id, "RUN_STARTING"), _claims(run_id), _count(run_id, "RUN_START"))
    figures = {"runs": 1, "lost": 0, "duplicated": max(counts) - 1}
    if role == "run worker":  # from the worker's last event (it dies right after) to the run's end
        last = EventLogEntry.objects.filter(run_id=run_id, event_type=point.split(":")[1]).first()
        died = last.timestamp if last is not None else EventLogEntry.objects.filter(
            run_id=run_id, event_type="STEP_SUCCESS").order_by("-id").first().timestamp
        figures["worker_killed_to_terminal_s"] = (run.ended_at - died).total_seconds()
    record_figure(f"run killed {stage}", **figures)
    assert counts == (1, 1, 1, 1), (stage, run.status, counts)  # launched once, by one worker
    if role == "daemon":
        assert run.status == RunStatus.SUCCESS, first.output()
    else:
        assert run.status == RunStatus.FAILURE
        [failure] = EventLogEntry.objects.filter(run_id=run_id, event_type="RUN_FAILURE")
        # the launching daemon reaps the worker, or run monitoring finds its pid gone first: either says so
        assert ("killed by signal 9" in failure.message and failure.payload["failure_reason"] == "UNEXPECTED_TERMINATION"
                or "is not running" in failure.message and failure.payload["failure_reason"] == "UNEXPECTED_ERROR"), (
            failure.message)
        # the log is closed at the end: no step event after it
        assert not EventLogEntry.objects.filter(run_id=run_id, id__gt=failure.id, step_key__isnull=False).exists()
        started, succeeded = _count(run_id, "STEP_START"), _count(run_id, "STEP_SUCCESS")
        assert (started, succeeded) == ((4, 4) if stage == "finishing" else (1, 0)), (started, succeeded)  # 4 steps
        assert _count(run_id, "RUN_SUCCESS") == 0


# --- ticks ------------------------------------------------------------------------------------------

TICK_POINTS = ["tick.evaluating", "tick.launching", "tick.recorded"]
AT = dt.datetime(2026, 1, 5, 10, 0, 5, tzinfo=dt.UTC)


def _tick_in_a_child(child_home, call: str) -> None:
    """Tick in a child process that dies at the kill point (set by the caller in the environment)."""
    code = ("import os, django, datetime as dt; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'orchestra_site.settings'); django.setup(); from scheduling.services import schedule_tick, sensor_tick; "
            f"{call}")
    result = run_child(child_home, code, timeout=120)
    assert result.returncode == -9, (result.returncode, result.stderr[-3000:])


def _expire_claims() -> None:
    """Time passes: the dead daemon's tick claim and sensor lease run out."""
    past = timezone.now() - dt.timedelta(seconds=1)
    Tick.objects.filter(status=TickStatus.STARTED).update(claimed_until=past)
    InstigatorState.objects.exclude(tick_lease_until=None).update(tick_lease_until=past)


@pytest.fixture
def ticking(child_home, location):  # noqa: F811 - the imported fixture
    """The child ticks on a queued instance (its runs wait in the queue: no run worker starts)."""
    add_to_instance(child_home, "run_queue:\n  max_concurrent_runs: 1\n")
    return child_home


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("point", TICK_POINTS)
def test_a_daemon_killed_at_each_stage_of_a_schedule_tick_leaves_one_run_for_the_time(ticking, monkeypatch, point):
    state = InstigatorState.objects.get(kind=InstigatorKind.SCHEDULE, location_name=LOCATION, name="hourly")
    InstigatorState.objects.filter(pk=state.pk).update(started_at=AT - dt.timedelta(hours=1), last_scheduled_time=None)
    monkeypatch.setenv(KILL_AT_ENV, point)
    _tick_in_a_child(ticking, f"schedule_tick(state_id={state.pk}, now=dt.datetime.fromisoformat({AT.isoformat()!r}))")
    monkeypatch.delenv(KILL_AT_ENV)
    committed = point == "tick.recorded"
    assert Run.objects.count() == (1 if committed else 0)

    _expire_claims()
    schedule_tick(state_id=state.pk, now=AT)  # the next daemon
    schedule_tick(state_id=state.pk, now=AT + dt.timedelta(seconds=30))  # and a repeated nudge
    [tick] = Tick.objects.filter(state=state)
    assert tick.status == TickStatus.SUCCESS and tick.scheduled_time == AT.replace(second=0)
    assert Run.objects.count() == 1 and tick.run_ids == [Run.objects.get().run_id]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("point", TICK_POINTS)
def test_a_daemon_killed_at_each_stage_of_a_sensor_tick_leaves_one_run_per_run_key(ticking, monkeypatch, point):
    state = InstigatorState.objects.get(kind=InstigatorKind.SENSOR, location_name=LOCATION, name="counting_sensor")
    monkeypatch.setenv(KILL_AT_ENV, point)
    _tick_in_a_child(ticking, f"sensor_tick(state_id={state.pk}, now=dt.datetime.fromisoformat({AT.isoformat()!r}))")
    monkeypatch.delenv(KILL_AT_ENV)
    assert Run.objects.count() == (1 if point == "tick.recorded" else 0)

    _expire_claims()
    for minutes in (1, 2):  # the next daemon's ticks
        sensor_tick(state_id=state.pk, now=AT + dt.timedelta(minutes=minutes))
    keys = dict(SensorRunKey.objects.filter(state=state).values_list("run_key", "run_id"))
    tagged = RunTag.objects.filter(key="dagster/run_key").values_list("value", flat=True)
    assert sorted(tagged) == sorted(keys) == ["run-1", "run-2"] + (["run-3"] if point == "tick.recorded" else [])
    assert Run.objects.count() == len(keys) and set(keys.values()) == set(Run.objects.values_list("run_id", flat=True))
    statuses = list(Tick.objects.filter(state=state).order_by("id").values_list("status", flat=True))
    assert statuses[-2:] == [TickStatus.SUCCESS, TickStatus.SUCCESS], statuses
    if point != "tick.recorded":  # the interrupted tick says so
        assert statuses[0] == TickStatus.FAILURE
