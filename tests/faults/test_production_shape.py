"""The production shape, killed role by role (issue #12): every run ends, none is lost, none runs twice.

One deployment for the module (`tests/faults/shape.py`: code servers, webserver, two daemon workers and
beat, Celery run and step workers, as README's "Production" section starts them) on the test's
PostgreSQL database and Redis. Runs are submitted through the webserver, queued, dequeued by a daemon
worker, launched on the `runs` queue and executed step by step on the `steps` queue. Each scenario
SIGKILLs one role at a point of a run's (or a tick's) life, starts it again as a process supervisor
would, and asserts the invariants of the issue on what the database recorded.

It runs in the PostgreSQL + Redis pass: the SQLite pass has no such deployment (its faults are
covered on `orchestra dev` and single roles by the other modules here). `ORCHESTRA_FAULTS_FULL=1`
adds the longer scenarios (a schedule ticking across a minute with two beats, repeated kills) and the
full-only tests at the end: each role killed at each point of a run's life (5) and a sensor tick
killed at each stage on one of two daemon workers (3).
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from runs.models import EventLogEntry, Run, RunStatus, RunTag
from runs.services import IDEMPOTENCY_KEY_TAG
from scheduling.models import InstigatorKind, InstigatorState, SensorRunKey, Tick
from scheduling.ticks import SCHEDULED_TIME_TAG
from tests.conftest import require_service
from tests.faults.processes import record_figure
from tests.faults.shape import LOCATION, MAX_CONCURRENT_RUNS, STEP_LOST_SECONDS, Shape
from tests.runs.locations import wait_for
from workspace.models import CodeLocation, LocationStatus

# The deployment is module-wide, so tests must not empty the database after each other (as `transaction=True`
# would): each test reads inside a transaction that is rolled back (it writes nothing itself), and on
# PostgreSQL every read sees what the deployment's processes committed. The marker also makes pytest-django
# create the test database when this module runs alone. The xdist group keeps the whole module on one test
# worker (scripts/test.sh runs `--dist loadgroup`), so one deployment serves it, not one per worker.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("production_shape")]

FULL = os.environ.get("ORCHESTRA_FAULTS_FULL") == "1"
# Scenarios about queueing, launching and submitting run a one-step in-process job in the CI subset (its
# run worker is still started on the `runs` queue); the full suite runs them on the Celery executor too.
JOB = "chain" if FULL else "quick"
FINISHED = [RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED]
STEP_EVENTS = (
    "STEP_START",
    "STEP_OUTPUT",
    "STEP_SUCCESS",
    "STEP_FAILURE",
    "STEP_UP_FOR_RETRY",
    "HANDLED_OUTPUT",
    "LOADED_INPUT",
    "ASSET_MATERIALIZATION",
)


@pytest.fixture(scope="module")
def shape(django_db_setup, django_db_blocker, tmp_path_factory):
    """The deployment, for every test of the module; the database is emptied after the last one."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
            pytest.skip("the production shape runs on PostgreSQL and Redis (the PostgreSQL + Redis pass)")
        require_service("Redis", "127.0.0.1", 6379)
        deployment = Shape(tmp_path_factory.mktemp("shape"))
        try:
            deployment.start_all()
            wait_for(_loaded_pid, 120, "the code location loaded")
            yield deployment
        finally:
            deployment.stop_all()
            # What TransactionTestCase does after each test: the next module starts on an empty database.
            call_command("flush", verbosity=0, interactive=False)


@pytest.fixture(autouse=True)
def whole(shape):
    """After each scenario every role runs again, whatever the scenario did or where it failed."""
    yield
    shape.heal()


def _loaded_pid() -> int | None:
    location = CodeLocation.objects.filter(name=LOCATION).first()
    if location is None or location.status != LocationStatus.LOADED:
        return None
    return (location.server or {}).get("pid")


def _count(run_id: str, event_type: str) -> int:
    return EventLogEntry.objects.filter(run_id=run_id, event_type=event_type).count()


def _launches(run_id: str) -> tuple[int, int, int, int]:
    """(dequeued, launches recorded, run workers that claimed it, RUN_START): (1, 1, 1, 1) for a run launched once."""
    claims = EventLogEntry.objects.filter(
        run_id=run_id, event_type="ENGINE_EVENT", message__startswith="Started process for run"
    ).count()
    return (
        _count(run_id, "RUN_DEQUEUED"),
        _count(run_id, "RUN_STARTING"),
        claims,
        _count(run_id, "RUN_START"),
    )


def _finished(run_ids: list[str], timeout: float, shape: Shape) -> list[Run]:
    try:
        wait_for(
            lambda: Run.objects.filter(run_id__in=run_ids, status__in=FINISHED).count() == len(run_ids),
            timeout,
            "every run finished",
        )
    except AssertionError:
        statuses = dict(Run.objects.filter(run_id__in=run_ids).values_list("run_id", "status"))
        raise AssertionError(f"runs not finished: {statuses}\n{shape.logs()}") from None
    return list(Run.objects.filter(run_id__in=run_ids))


def _events(run_id: str) -> list[tuple[str, str]]:
    return list(
        EventLogEntry.objects.filter(run_id=run_id).order_by("id").values_list("event_type", "message")
    )


def _assert_closed_at_its_end(run: Run) -> EventLogEntry:
    """No step event (a straggler's write) after the run's terminal event; answers that event."""
    [end] = EventLogEntry.objects.filter(
        run_id=run.run_id, event_type__in=["RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"]
    )
    late = EventLogEntry.objects.filter(run_id=run.run_id, id__gt=end.id, event_type__in=STEP_EVENTS)
    assert not late.exists(), list(late.values_list("event_type", "step_key"))
    return end


def _max_in_progress(run_ids: list[str]) -> int:
    """The most runs in progress at once (from RUN_DEQUEUED to the run's end), from the event log."""
    moments = []
    for run in Run.objects.filter(run_id__in=run_ids):
        dequeued = EventLogEntry.objects.filter(run_id=run.run_id, event_type="RUN_DEQUEUED").first()
        if dequeued is not None:
            moments += [(dequeued.timestamp, 1), (run.ended_at, -1)]
    level = peak = 0
    for _, step in sorted(
        moments, key=lambda moment: (moment[0], moment[1])
    ):  # an end before a start at a tie
        level += step
        peak = max(peak, level)
    return peak


def _wait_mark(shape: Shape, name: str, timeout: float = 120) -> None:
    wait_for(lambda: (shape.marks / name).exists(), timeout, f"mark {name}: {shape.logs()}")


# --- scenarios ------------------------------------------------------------------------------------


def test_a_run_passes_through_every_role(shape):
    run_id = shape.launch("chain")
    [run] = _finished([run_id], 180, shape)
    assert run.status == RunStatus.SUCCESS, _events(run_id)
    assert _launches(run_id) == (1, 1, 1, 1)
    assert (run.launcher or {}).get("celery_task_id"), run.launcher  # launched on the `runs` queue
    in_celery = EventLogEntry.objects.filter(
        run_id=run_id, event_type="STEP_WORKER_STARTED", message__contains="in Celery worker"
    ).count()
    assert in_celery == 3, _events(run_id)  # each step a task on the `steps` queue


def test_a_killed_celery_run_worker_ends_its_run_and_stops_its_steps(shape):
    """The `runs` worker (and the run worker it started) is SIGKILLed mid-step: run monitoring fails the
    run with the reason, the step task still running on the step worker stops itself, and nothing the
    step writes after the run's end is stored."""
    run_id = shape.launch("sleepy", {"ops": {"slow": {"config": {"label": "run-killed"}}}})
    _wait_mark(shape, "run-killed.started")
    killed, killed_wall = shape.kill("run worker"), time.time()
    shape.start("run worker")
    [run] = _finished([run_id], 120, shape)
    ended = time.monotonic()
    assert run.status == RunStatus.FAILURE, _events(run_id)
    [failure] = EventLogEntry.objects.filter(run_id=run_id, event_type="RUN_FAILURE")
    assert "is not running" in failure.message or "heartbeat" in failure.message, failure.message
    # The step task on the step worker sees the run is over and stops (it would sleep for 60 s).
    _wait_mark(shape, "run-killed.stopped", 30)
    stopped = time.monotonic()
    time.sleep(1)  # a straggling write would land now
    _assert_closed_at_its_end(run)
    assert _count(run_id, "STEP_SUCCESS") == 1 and _count(run_id, "RUN_SUCCESS") == 0  # only `start` finished
    assert _launches(run_id) == (1, 1, 1, 1)
    record_figure(
        "production: run worker killed mid-step",
        runs=1,
        lost=0,
        duplicated=max(_launches(run_id)) - 1,
        worker_killed_to_terminal_s=run.ended_at.timestamp() - killed_wall,
        step_stopped_after_run_end_s=stopped - ended,
    )
    assert ended - killed < 60  # within run monitoring's interval, with room for a loaded machine


def test_a_killed_celery_step_worker_fails_its_step_and_the_run_ends(shape):
    """The `steps` worker is SIGKILLed mid-step: the run worker stops receiving the task's heartbeats and
    fails the step after ORCHESTRA_CELERY_STEP_LOST_SECONDS, and the run ends FAILURE with that reason."""
    run_id = shape.launch("sleepy", {"ops": {"slow": {"config": {"label": "step-killed"}}}})
    _wait_mark(shape, "step-killed.started")
    killed = shape.kill("step worker")
    shape.start("step worker")
    [run] = _finished([run_id], 120, shape)
    assert run.status == RunStatus.FAILURE, _events(run_id)
    failure = EventLogEntry.objects.get(run_id=run_id, event_type="STEP_FAILURE", step_key="slow")
    assert "stopped sending heartbeats" in str(failure.payload), failure.payload
    assert time.monotonic() - killed < STEP_LOST_SECONDS + 60
    _assert_closed_at_its_end(run)
    assert _launches(run_id) == (1, 1, 1, 1)
    # `slow` started at most once: the lost task is not run again. (Its STEP_START may be missing: a step
    # worker buffers its events for up to a fraction of a second, and that buffer dies with it.)
    assert EventLogEntry.objects.filter(run_id=run_id, event_type="STEP_START", step_key="slow").count() <= 1
    record_figure(
        "production: step worker killed mid-step", runs=1, lost=0, duplicated=max(_launches(run_id)) - 1
    )


def test_restarted_daemons_drain_a_queue_and_one_killed_while_it_dequeues_launches_nothing_twice(shape):
    """Both daemon workers are SIGKILLed (beat goes with the first: its supervisor stops the rest) and ten
    runs are queued meanwhile (`max_concurrent_runs: 2`). The daemons are started again; while they drain
    the queue the second one's worker is SIGKILLed once (three times with ORCHESTRA_FAULTS_FULL=1) and
    started again. Every run is launched once and succeeds, and never more than two are in progress."""
    shape.kill_daemon_child("daemon", "worker")
    shape.kill_daemon_child("daemon 2", "worker")
    run_ids = [shape.launch(JOB) for _ in range(10)]
    assert Run.objects.filter(run_id__in=run_ids, status=RunStatus.QUEUED).count() == 10
    restarted = time.monotonic()
    shape.start("daemon")
    shape.start("daemon 2")
    for _ in range(3 if FULL else 1):
        shape.daemon_child_pid("daemon 2", "worker")
        dequeued = Run.objects.filter(run_id__in=run_ids).exclude(status=RunStatus.QUEUED).count()
        wait_for(
            lambda n=dequeued: (
                Run.objects.filter(run_id__in=run_ids).exclude(status=RunStatus.QUEUED).count() > n
            ),
            120,
            "a dequeue",
        )
        shape.kill_daemon_child("daemon 2", "worker")
        shape.start("daemon 2")
    runs = _finished(run_ids, 300, shape)
    drained = max(run.ended_at for run in runs).timestamp() - (time.time() - (time.monotonic() - restarted))
    launches = {run_id: _launches(run_id) for run_id in run_ids}
    record_figure(
        "production: daemons restarted with 10 queued, one killed while dequeuing",
        runs=len(run_ids),
        lost=0,
        duplicated=sum(max(counts) - 1 for counts in launches.values()),
        restarted_daemon_drained_s=drained,
    )
    assert all(counts == (1, 1, 1, 1) for counts in launches.values()), launches
    assert [run.status for run in runs] == [RunStatus.SUCCESS] * len(run_ids)
    assert _max_in_progress(run_ids) <= MAX_CONCURRENT_RUNS


def _launch_graphql(shape: Shape, job: str, key: str | None = None) -> tuple[int, dict]:
    tags = [{"key": IDEMPOTENCY_KEY_TAG, "value": key}] if key else []
    variables = {
        "executionParams": {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": "__repository__",
                "jobName": job,
            },
            "runConfigData": {},
            "executionMetadata": {"tags": tags},
        }
    }
    query = (
        "mutation($executionParams: ExecutionParams!) { launchRun(executionParams: $executionParams) { "
        "__typename ... on LaunchRunSuccess { run { runId } } ... on PipelineNotFoundError { message } "
        "... on PythonError { message className } } }"
    )
    return shape.request("POST", "/graphql", {"query": query, "variables": variables})


@pytest.mark.parametrize("what", ["code server", "code servers' supervisor"])
def test_a_killed_code_server_is_back_within_10_s_and_launches_never_answer_not_found(shape, what):
    """The location's code server is SIGKILLed (restarted by `workspace load --serve`), or the whole
    code-server role is (started again, as systemd would). Launches meanwhile succeed or say the
    location is unavailable, never "not found"; it is usable again within 10 s."""
    old_pid = wait_for(_loaded_pid, 60, "the location loaded")
    killed_wall = time.time()
    if what == "code server":
        os.kill(old_pid, 9)
        killed = time.monotonic()
    else:
        killed = shape.kill("code servers")
        shape.start("code servers")
        # The location stays LOADED with its stored snapshot (and the dead server's address) until the new
        # server has answered; were it LOADING (a reload, a changed origin), the loop launches in that window.
        wait_for(
            lambda: (
                CodeLocation.objects.filter(name=LOCATION, status=LocationStatus.LOADING).exists()
                or _loaded_pid() not in (None, old_pid)
            ),
            60,
            "the restarted supervisor at work",
        )
    answers, run_ids, back_at, last_launch = [], [], None, 0.0
    # A client launching about once a second (at once when the location is LOADING) until the location
    # is back with a new server and a launch worked; the location is checked every 50 ms.
    while back_at is None or not run_ids:
        loading = CodeLocation.objects.filter(name=LOCATION, status=LocationStatus.LOADING).exists()
        if back_at is None and _loaded_pid() not in (None, old_pid):
            back_at = time.monotonic()
        if time.monotonic() - last_launch >= 1 or (loading and not any(answer[3] for answer in answers)):
            last_launch = time.monotonic()
            status, body = _launch_graphql(shape, JOB)
            result = (body.get("data") or {}).get("launchRun") or {}
            answers.append((status, result.get("__typename"), result.get("message"), loading))
            if result.get("__typename") == "LaunchRunSuccess":
                run_ids.append(result["run"]["runId"])
        assert time.monotonic() - killed < 60, answers[-5:]
        time.sleep(0.05)
    reloaded = back_at - killed
    runs = _finished(run_ids, 300, shape)
    first_success = min(run.ended_at for run in runs if run.status == RunStatus.SUCCESS)
    kinds = sorted({answer[1] or str(answer[0]) for answer in answers})
    record_figure(
        f"production: {what} killed",
        runs=len(run_ids),
        lost=0,
        answers=len(answers),
        kinds=kinds,
        duplicated=sum(max(_launches(r)) - 1 for r in run_ids),
        code_server_killed_to_loaded_s=reloaded,
        launches_while_loading=sum(1 for answer in answers if answer[3]),
        code_server_killed_to_successful_launch_s=first_success.timestamp() - killed_wall,
    )
    not_found = [answer for answer in answers if answer[1] == "PipelineNotFoundError"]
    assert not not_found, not_found
    refused = [answer for answer in answers if answer[1] != "LaunchRunSuccess"]
    assert all("unavailable" in (answer[2] or "") for answer in refused), refused
    assert reloaded < 10 + 5, reloaded  # 10 s promised; polling and a loaded machine add a little
    assert all(run.status == RunStatus.SUCCESS for run in runs), [(r.run_id, r.status) for r in runs]


def _submit_until_answered(shape: Shape, index: int) -> str:
    """One submission with an idempotency key, retried (same key) until a run is answered."""
    key = f"shape-burst-{index}"
    while True:
        try:
            if index % 2:
                status, body = shape.request(
                    "POST",
                    "/api/runs",
                    {"job_name": JOB, "location_name": LOCATION},
                    {"Idempotency-Key": key},
                )
                if status == 201:
                    return body["run_id"]
            else:
                status, body = _launch_graphql(shape, JOB, key)
                result = (body.get("data") or {}).get("launchRun") or {}
                if result.get("__typename") == "LaunchRunSuccess":
                    return result["run"]["runId"]
            assert status >= 500 or not body, (status, body)  # only a dying server may fail a submission
        except (OSError, ValueError):
            pass  # refused, reset or cut short: the webserver is down; retry with the same key
        time.sleep(0.05)


def test_a_webserver_killed_mid_burst_leaves_one_run_per_key_and_every_run_ends(shape):
    submissions = 30 if FULL else 10
    answers: dict[int, tuple[str, str]] = {}
    errors: list[BaseException] = []
    before = set(Run.objects.values_list("run_id", flat=True))

    def client(index: int) -> None:
        try:
            time.sleep(0.05 * index)  # a burst spread over the kill
            answers[index] = (_submit_until_answered(shape, index), _submit_until_answered(shape, index))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(submissions)]
    for thread in threads:
        thread.start()
    wait_for(
        lambda: Run.objects.exclude(run_id__in=before).count() >= submissions // 3, 60, "a third submitted"
    )
    shape.kill("webserver")
    killed_at = Run.objects.exclude(run_id__in=before).count()
    shape.start("webserver")
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors
    assert 0 < killed_at < submissions, f"the kill did not land mid-burst ({killed_at} runs then)"
    new = list(Run.objects.exclude(run_id__in=before).values_list("run_id", flat=True))
    keys = dict(
        RunTag.objects.filter(key=IDEMPOTENCY_KEY_TAG, run__run_id__in=new).values_list(
            "value", "run__run_id"
        )
    )
    record_figure(
        "production: webserver killed mid-burst",
        runs=submissions,
        lost=submissions - len(keys),
        duplicated=len(new) - len(keys),
    )
    assert len(new) == len(keys) == submissions, "a submission became two runs (or none)"
    for index, (first, again) in answers.items():
        assert first == again == keys[f"shape-burst-{index}"], index
    runs = _finished(new, 400, shape)  # acknowledged means durable: each one runs, once
    assert all(run.status == RunStatus.SUCCESS for run in runs), [(r.run_id, r.status) for r in runs]
    assert all(_launches(run_id) == (1, 1, 1, 1) for run_id in new)


def _instigate(shape: Shape, kind: str, name: str, action: str) -> None:
    instigator = InstigatorKind.SENSOR if kind == "sensors" else InstigatorKind.SCHEDULE
    wait_for(
        lambda: InstigatorState.objects.filter(kind=instigator, location_name=LOCATION, name=name).exists(),
        60,
        f"the state of {name}",
    )
    status, body = shape.request("POST", f"/api/{kind}/{LOCATION}/{name}/{action}")
    assert status == 200, (status, body)


def test_beat_killed_and_a_second_beat_started_by_mistake_tick_each_sensor_run_key_once(shape):
    """Beat (in `orchestra daemon`) is SIGKILLed while the sensor ticks every second; the daemon is started
    again, and a second `orchestra daemon` with its own beat too, by mistake. Each run key gets one run.
    With ORCHESTRA_FAULTS_FULL=1 a schedule also ticks every minute across two minute boundaries."""
    before = set(Run.objects.values_list("run_id", flat=True))
    _instigate(shape, "sensors", "windows", "start")
    if FULL:
        _instigate(shape, "schedules", "every_minute", "start")
    state = InstigatorState.objects.get(kind=InstigatorKind.SENSOR, location_name=LOCATION, name="windows")
    wait_for(lambda: Tick.objects.filter(state=state).exists(), 60, f"a sensor tick: {shape.logs()}")
    shape.kill_daemon_child("daemon", "beat")
    shape.start("daemon")
    second = shape.start("daemon 3", shape.commands["daemon"])  # a second beat, by mistake
    after_restart = Tick.objects.filter(state=state).order_by("-id").values_list("id", flat=True).first()

    def keys_since_restart() -> int:
        return len(
            set(
                SensorRunKey.objects.filter(state=state, created_at__gt=restarted).values_list(
                    "run_key", flat=True
                )
            )
        )

    restarted = timezone.now()
    try:
        # Both beats tick the sensor every second: wait for three 5-second windows' runs after the restart.
        wait_for(lambda: keys_since_restart() >= 3, 120, "three run keys after the restart")
        if FULL:  # and the schedule across two minute boundaries
            time.sleep(125)
    finally:
        _instigate(shape, "sensors", "windows", "stop")
        if FULL:
            _instigate(shape, "schedules", "every_minute", "stop")
        second.stop()
        shape.processes.pop("daemon 3")
    time.sleep(2)  # a tick in flight commits
    new = list(Run.objects.exclude(run_id__in=before).values_list("run_id", flat=True))
    keyed = list(
        RunTag.objects.filter(run__run_id__in=new, key="dagster/run_key").values_list("value", flat=True)
    )
    ticks = list(
        Tick.objects.filter(state=state, id__gt=after_restart or 0).values_list("status", "run_keys", "error")
    )
    assert len(keyed) == len(set(keyed)) >= 3, (sorted(keyed), ticks)  # one run per run key
    assert SensorRunKey.objects.filter(state=state).count() == len(keyed)
    if FULL:
        scheduled = list(
            RunTag.objects.filter(run__run_id__in=new, key=SCHEDULED_TIME_TAG).values_list("value", flat=True)
        )
        assert len(scheduled) == len(set(scheduled)) >= 2, sorted(scheduled)  # one run per scheduled minute
    runs = _finished(new, 400, shape)
    launches = {run.run_id: _launches(run.run_id) for run in runs}
    record_figure(
        "production: beat killed, a second beat started",
        runs=len(new),
        lost=0,
        duplicated=sum(max(c) - 1 for c in launches.values()) + len(keyed) - len(set(keyed)),
    )
    assert all(counts == (1, 1, 1, 1) for counts in launches.values()), launches
    assert all(run.status == RunStatus.SUCCESS for run in runs), [(r.run_id, r.status) for r in runs]


def test_broker_queues_purged_mid_flight_lose_no_run(shape):
    """Redis is shared here, so it is not restarted: its queues are purged instead (what a restart of a
    Redis that keeps nothing on disk leaves), with runs queued and launched but not yet taken."""
    shape.kill("run worker")  # launches pile up on the `runs` queue
    run_ids = [shape.launch(JOB) for _ in range(3)]
    wait_for(
        lambda: Run.objects.filter(run_id__in=run_ids, status=RunStatus.STARTING).exists(), 60, "a launch"
    )
    from celery import current_app

    with current_app.connection_for_write() as conn:
        for queue in ("runs", "steps", "daemon", "celery"):
            conn.default_channel.queue_purge(queue)
    shape.start("run worker")
    runs = _finished(run_ids, 400, shape)
    launches = {run_id: _launches(run_id) for run_id in run_ids}
    record_figure(
        "production: broker queues purged",
        runs=len(run_ids),
        lost=0,
        duplicated=sum(max(c) - 1 for c in launches.values()),
    )
    assert all(run.status == RunStatus.SUCCESS for run in runs), [
        (r.run_id, r.status, _events(r.run_id)) for r in runs
    ]
    assert all(counts[0] == 1 and counts[2:] == (1, 1) for counts in launches.values()), launches


# --- the full suite (ORCHESTRA_FAULTS_FULL=1): a role killed at each point of a run's and a tick's life ---

full_only = pytest.mark.skipif(not FULL, reason="the full fault suite (ORCHESTRA_FAULTS_FULL=1)")

# point -> (the role that dies there, what is killed, the run's end)
RUN_POINTS = {
    "queued": ("daemon 2", "event.after:RUN_DEQUEUED", RunStatus.SUCCESS),  # claimed, not launched
    "starting": ("daemon 2", "event.after:RUN_STARTING", RunStatus.SUCCESS),  # launch recorded, task not sent
    "mid-step": (
        "run worker",
        "event.after:STEP_WORKER_STARTING",
        RunStatus.FAILURE,
    ),  # a step task in flight
    "finishing": ("run worker", "event.before:RUN_SUCCESS", RunStatus.FAILURE),  # every step done
    "step mid-step": ("step worker", "event.after:STEP_START", RunStatus.FAILURE),
}


def _killed_pool_process(shape: Shape, role: str) -> bool:
    return "exited with 'signal 9 (SIGKILL)'" in shape.processes[role].log.read_text(errors="replace")


@full_only
@pytest.mark.parametrize("stage", list(RUN_POINTS))
def test_a_role_killed_at_each_stage_of_a_run_leaves_it_ended_and_launched_once(shape, stage):
    """The role's process (a daemon worker's or step worker's pool process, or the run worker) SIGKILLs
    itself at the point (`core/faults.py`); the role is then started again without it. For the daemon
    points the other daemon is stopped first, so the armed one takes the run."""
    role, point, end = RUN_POINTS[stage]
    if role == "daemon 2":
        shape.processes["daemon"].stop()
    shape.processes[role].stop()
    shape.env["ORCHESTRA_FAULT_KILL_AT"] = point
    try:
        shape.start(role)
        if role == "daemon 2":
            shape.daemon_child_pid(role, "worker")
        run_id = shape.launch("chain")
        if role == "run worker":  # the run worker dies; the Celery task reaps it
            wait_for(lambda: _count(run_id, "RUN_FAILURE"), 120, f"the run failed: {shape.logs()}")
        else:
            wait_for(
                lambda: _killed_pool_process(shape, role), 120, f"{role} killed at {point}: {shape.logs()}"
            )
    finally:
        del shape.env["ORCHESTRA_FAULT_KILL_AT"]
    shape.processes[role].stop()
    shape.start(role)
    if role == "daemon 2":
        shape.start("daemon")
    [run] = _finished([run_id], 300, shape)
    time.sleep(1)  # a straggling write would land now
    counts = _launches(run_id)
    record_figure(f"production: killed at {stage}", runs=1, lost=0, duplicated=max(counts) - 1)
    assert counts == (1, 1, 1, 1), (stage, run.status, counts, _events(run_id))
    assert run.status == end, _events(run_id)
    _assert_closed_at_its_end(run)
    if end == RunStatus.FAILURE:
        [failure] = EventLogEntry.objects.filter(run_id=run_id, event_type="RUN_FAILURE")
        assert failure.message, failure


@full_only
@pytest.mark.parametrize("point", ["tick.evaluating", "tick.launching", "tick.recorded"])
def test_a_daemon_worker_killed_at_each_stage_of_a_sensor_tick_leaves_one_run_per_run_key(shape, point):
    """The sensor ticks every second on both daemon workers; the second one's pool processes die at the
    tick point each time it takes a tick (Celery replaces them). One run per run key, all launched once."""
    before = set(Run.objects.values_list("run_id", flat=True))
    shape.processes["daemon 2"].stop()
    shape.env["ORCHESTRA_FAULT_KILL_AT"] = point
    try:
        shape.start("daemon 2")
        _instigate(shape, "sensors", "windows", "start")
        wait_for(
            lambda: _killed_pool_process(shape, "daemon 2"), 120, f"a tick killed at {point}: {shape.logs()}"
        )
        time.sleep(12)
        _instigate(shape, "sensors", "windows", "stop")
    finally:
        del shape.env["ORCHESTRA_FAULT_KILL_AT"]
    shape.processes["daemon 2"].stop()
    shape.start("daemon 2")
    time.sleep(2)
    new = list(Run.objects.exclude(run_id__in=before).values_list("run_id", flat=True))
    keyed = list(
        RunTag.objects.filter(run__run_id__in=new, key="dagster/run_key").values_list("value", flat=True)
    )
    record_figure(
        f"production: sensor tick killed at {point}",
        runs=len(new),
        lost=0,
        duplicated=len(keyed) - len(set(keyed)),
    )
    # (An interrupted evaluation holds the sensor's lease for TICK_LEASE_SECONDS, 180 s: the sensor may tick
    # no more within this test. What it did ask for, it asked for once.)
    assert len(keyed) == len(set(keyed)) == len(new), sorted(keyed)
    runs = _finished(new, 400, shape)
    assert all(_launches(run.run_id) == (1, 1, 1, 1) for run in runs)
    assert all(run.status == RunStatus.SUCCESS for run in runs), [(r.run_id, r.status) for r in runs]
