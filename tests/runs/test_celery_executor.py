"""The Celery executor, through the run worker and a real `celery worker -Q steps` on the test broker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from django.conf import settings

from runs import selectors, services
from runs.models import AssetIndex, Run, RunStatus
from runs.services import EventInput
from tests.conftest import REPO, child_env, require_service

pytestmark = pytest.mark.django_db(transaction=True)

DEFS = textwrap.dedent(
    """
    import os
    import time
    import orchestra as dg

    MARKS = os.environ["TEST_MARKS"]

    @dg.op
    def start():
        return 1

    @dg.op
    def left(value):
        return value + 1

    @dg.op
    def right(value):
        return value + 2

    @dg.op
    def join(a, b):
        assert (a, b) == (2, 3), (a, b)
        return a + b

    @dg.op
    def boom(value):
        raise ValueError("boom went the op")

    @dg.op
    def after(value):
        return value

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=1))
    def flaky(value):
        mark = os.path.join(MARKS, "flaky-tried-" + os.environ.get("TEST_EXECUTOR", "default"))
        if not os.path.exists(mark):
            open(mark, "w").close()
            raise RuntimeError("first attempt fails")
        return value

    @dg.op
    def slow(value):
        open(os.path.join(MARKS, "slow-started"), "w").write(str(os.getpid()))
        try:
            time.sleep(60)
        finally:
            open(os.path.join(MARKS, "slow-stopped"), "w").close()

    @dg.op(tags={"dagster-celery/queue": "nobody-consumes"})
    def stranded():
        return 1

    @dg.op
    def loud():
        print("loud on stdout")
        import sys
        print("loud on stderr", file=sys.stderr)

    @dg.graph
    def diamond():
        value = start()
        join(left(value), right(value))

    @dg.graph
    def broken():
        after(boom(start()))

    @dg.graph
    def retrying():
        flaky(start())

    @dg.graph
    def sleepy():
        slow(start())

    @dg.graph
    def stranding():
        stranded()

    @dg.asset
    def upstream():
        return 10

    @dg.asset
    def downstream(upstream):
        return upstream + 1

    celery = dg.celery_executor
    jobs = [
        diamond.to_job(name="diamond_celery", executor_def=celery),
        diamond.to_job(name="diamond_in_process", executor_def=dg.in_process_executor),
        broken.to_job(name="broken_celery", executor_def=celery),
        broken.to_job(name="broken_in_process", executor_def=dg.in_process_executor),
        retrying.to_job(name="retrying_celery", executor_def=celery),
        sleepy.to_job(name="sleepy_celery", executor_def=celery),
        stranding.to_job(name="stranded_celery", executor_def=celery),
        dg.GraphDefinition("loud", node_defs=[loud]).to_job(name="loud_celery", executor_def=celery),
        dg.define_asset_job("assets_celery", executor_def=celery),
    ]
    defs = dg.Definitions(assets=[upstream, downstream], jobs=jobs)
    """
)

# Events that tell *where* a step ran (worker processes, resource set-up per process) differ by executor;
# everything else a step records must be the same.
_PLACEMENT = {"ENGINE_EVENT", "STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "RESOURCE_INIT_STARTED",
              "RESOURCE_INIT_SUCCESS", "LOGS_CAPTURED", None}


@pytest.fixture
def code(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "marks").mkdir()
    (tmp_path / "code" / "defs.py").write_text(DEFS)
    return tmp_path


def _env(home, code):
    env = child_env(home)
    env["TEST_MARKS"] = str(code / "marks")
    env["ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS"] = "0.2"
    env["ORCHESTRA_CELERY_STEP_HEARTBEAT_SECONDS"] = "0.3"
    env["ORCHESTRA_CELERY_STEP_LOST_SECONDS"] = "3"
    return env


@pytest.fixture
def steps_worker(child_home, code):
    """A real Celery worker consuming the `steps` queue (prefork, two processes), in its own process group."""
    if settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    log = open(code / "steps-worker.log", "w")  # noqa: SIM115 - closed after the worker stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orchestra_site", "worker", "-Q", "steps", "-c", "2",
         "-l", "warning", "-n", f"steps-{uuid.uuid4().hex[:8]}@%h", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        env=_env(child_home, code), cwd=REPO, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )
    yield proc
    proc.terminate()  # a warm shutdown of the main process stops its pool
    try:
        proc.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group
        proc.wait(timeout=10)
    log.close()


def _run(code, job_name):
    origin = {"python_file": str(code / "code" / "defs.py"), "attribute": "defs"}
    run = services.run_create(job_name=job_name, origin=origin, run_config={})
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    return run


def _run_worker(home, code, run_id, **env):
    return subprocess.Popen(
        [sys.executable, "-c", "from orchestra._cli import main; main()", "api", "execute-run", run_id],
        env={**_env(home, code), **env}, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _execute(home, code, job_name, timeout=120):  # generous for a loaded machine; a hang still fails
    run = _run(code, job_name)
    proc = _run_worker(home, code, run.run_id)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"run worker timed out: {err}\n{(code / 'steps-worker.log').read_text()}") from None
    failures = [e.payload for e in _events(run.run_id) if e.event_type in ("RUN_FAILURE", "STEP_FAILURE")]
    return run, proc.returncode, f"{err}\n{failures}"


def _events(run_id):
    return selectors.events_after(run_id=run_id, limit=10_000)


def _per_step(run_id):
    steps: dict[str, list[str]] = {}
    for event in _events(run_id):
        if event.step_key and event.event_type not in _PLACEMENT:
            steps.setdefault(event.step_key, []).append(event.event_type)
    return steps


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_a_diamond_runs_each_step_as_a_celery_task_with_the_in_process_events(child_home, code, steps_worker):
    run, exit_code, err = _execute(child_home, code, "diamond_celery")
    assert exit_code == 0, err
    assert Run.objects.get(pk=run.pk).status == RunStatus.SUCCESS
    reference, ref_code, ref_err = _execute(child_home, code, "diamond_in_process")
    assert ref_code == 0, ref_err
    assert _per_step(run.run_id) == _per_step(reference.run_id)
    assert set(_per_step(run.run_id)) == {"start", "left", "right", "join"}
    started = [e for e in _events(run.run_id) if e.event_type == "STEP_WORKER_STARTED"]
    assert len(started) == 4 and all("in Celery worker" in e.message for e in started)
    worker_pid = Run.objects.get(pk=run.pk).launcher["worker"]["pid"]
    assert worker_pid not in {e.payload.get("pid") for e in _events(run.run_id) if e.event_type == "STEP_START"}
    submitted = [e for e in _events(run.run_id) if e.event_type == "STEP_WORKER_STARTING"]
    assert len(submitted) == 4 and all('to queue "steps"' in e.message for e in submitted)
    types = [e.event_type for e in _events(run.run_id)]
    assert types.count("STEP_SUCCESS") == 4 and types[-2:] == ["RUN_SUCCESS", "ENGINE_EVENT"]


def test_a_failing_step_fails_the_run_and_skips_downstream_like_in_process(child_home, code, steps_worker):
    run, exit_code, err = _execute(child_home, code, "broken_celery")
    assert exit_code == 1, err
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILURE
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "boom" and "boom went the op" in failure.payload["error"]["cause"]["message"]
    after = [e for e in _events(run.run_id) if e.step_key == "after"]  # not executed, as Dagster says why
    assert [(e.event_type, e.message) for e in after] == [(None, "Dependencies for step after failed: ['boom']. Not executing.")]
    reference, ref_code, _ = _execute(child_home, code, "broken_in_process")
    assert ref_code == 1
    assert _per_step(run.run_id) == _per_step(reference.run_id)
    [run_failure] = selectors.events_after(run_id=run.run_id, event_types=["RUN_FAILURE"])
    assert run_failure.message == "Execution of run for \"broken_celery\" failed. Steps failed: ['boom']."


def test_a_retry_policy_reruns_the_step_as_a_new_task(child_home, code, steps_worker):
    run, exit_code, err = _execute(child_home, code, "retrying_celery")
    assert exit_code == 0, err
    assert _per_step(run.run_id)["flaky"] == [
        "STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_UP_FOR_RETRY",
        "STEP_RESTARTED", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]
    submitted = [e.message for e in _events(run.run_id) if e.event_type == "STEP_WORKER_STARTING" and e.step_key == "flaky"]
    assert len(submitted) == 2 and submitted[0] != submitted[1]  # two tasks, two task ids


def test_sigterm_to_the_run_worker_interrupts_the_step_task_and_cancels_the_run(child_home, code, steps_worker):
    run = _run(code, "sleepy_celery")
    proc = _run_worker(child_home, code, run.run_id)
    _wait_for(lambda: (code / "marks" / "slow-started").exists())
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert (code / "marks" / "slow-stopped").exists()  # the step task was told to stop before the run ended
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "slow" and failure.payload["error_source"] == "INTERRUPT"
    assert "Celery step task received SIGTERM" in failure.payload["error"]["message"]
    assert [e.event_type for e in _events(run.run_id)][-2:] == ["RUN_CANCELED", "ENGINE_EVENT"]
    assert steps_worker.poll() is None  # the worker survives: only the task was stopped


def test_a_step_task_whose_worker_is_killed_fails_its_step_with_the_reason(child_home, code, steps_worker):
    run = _run(code, "sleepy_celery")
    proc = _run_worker(child_home, code, run.run_id)
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    os.killpg(steps_worker.pid, signal.SIGKILL)  # the whole Celery worker, pool processes included
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILURE
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "slow" and failure.payload["error_source"] == "UNEXPECTED_ERROR"
    assert "stopped sending heartbeats" in failure.payload["error"]["message"]
    assert failure.payload["error"]["cls_name"] == "StepTaskLostError"


def test_a_step_task_no_worker_takes_fails_its_step_naming_the_queue(child_home, code):
    run = _run(code, "stranded_celery")
    proc = _run_worker(child_home, code, run.run_id, ORCHESTRA_CELERY_STEP_QUEUED_SECONDS="2")
    try:
        out, err = proc.communicate(timeout=120)  # without the bound it waits for ever
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILURE
    assert not selectors.events_after(run_id=run.run_id, event_types=["STEP_START", "STEP_SUCCESS"])
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "stranded" and failure.payload["error"]["cls_name"] == "StepTaskNotTakenError"
    message = failure.payload["error"]["message"]
    assert 'from queue "nobody-consumes" within 2 s' in message and "-Q nobody-consumes" in message


def test_an_asset_job_materializes_through_celery_tasks(child_home, code, steps_worker):
    run, exit_code, err = _execute(child_home, code, "assets_celery")
    assert exit_code == 0, err
    materialized = selectors.events_after(run_id=run.run_id, event_types=["ASSET_MATERIALIZATION"])
    assert sorted(e.asset_key for e in materialized) == ["downstream", "upstream"]
    index = {row.asset_key: row for row in AssetIndex.objects.filter(asset_key__in=["upstream", "downstream"])}
    assert set(index) == {"upstream", "downstream"}
    assert all(row.last_run_id == run.run_id for row in index.values())
    assert {row.last_materialization_id for row in index.values()} == {e.id for e in materialized}


def test_a_step_task_stops_itself_when_its_run_is_canceled_without_its_run_worker(child_home, code, steps_worker):
    # No revoke reaches the task (its run worker is gone); the task's own watch of the run status stops it.
    run = _run(code, "sleepy_celery")
    proc = _run_worker(child_home, code, run.run_id)
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    proc.kill()
    proc.communicate(timeout=30)
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_CANCELING")])
    _wait_for(lambda: (code / "marks" / "slow-stopped").exists())
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"]))
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "slow" and failure.payload["error_source"] == "INTERRUPT"
    assert steps_worker.poll() is None


def test_a_redelivered_step_task_changes_nothing(child_home, code, steps_worker):
    from celery import current_app

    from runs.celery_executor import STEP_TASK_NAME, TaskState

    run, exit_code, err = _execute(child_home, code, "diamond_celery")
    assert exit_code == 0, err
    before = [e.id for e in _events(run.run_id)]
    state = TaskState.for_url(TaskState.default_url())
    task_id = str(uuid.uuid4())
    current_app.send_task(STEP_TASK_NAME, args=[run.run_id, "start", 0, {}, {"state_url": state.url}],
                          task_id=task_id, queue="steps")
    _wait_for(lambda: state.read(task_id)[1].get("ended"))
    assert state.read(task_id)[1]["reason"] == "the run is SUCCESS, not running"
    assert [e.id for e in _events(run.run_id)] == before


def test_a_second_delivery_of_a_running_step_is_refused(child_home, code, steps_worker):
    from celery import current_app

    from runs.celery_executor import STEP_TASK_NAME, TaskState

    run = _run(code, "sleepy_celery")
    proc = _run_worker(child_home, code, run.run_id)
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    state = TaskState.for_url(TaskState.default_url())
    task_id = str(uuid.uuid4())
    current_app.send_task(STEP_TASK_NAME, args=[run.run_id, "slow", 0, {}, {"state_url": state.url}],
                          task_id=task_id, queue="steps")
    _wait_for(lambda: state.read(task_id)[1].get("ended"))
    assert state.read(task_id)[1]["reason"] == "attempt 1 of the step has already started (a redelivered task)"
    starts = selectors.events_after(run_id=run.run_id, event_types=["STEP_START", "STEP_RESTARTED"])
    assert [e.step_key for e in starts] == ["start", "slow"]
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED


def test_each_step_task_captures_its_stdout_and_stderr(child_home, code, steps_worker):
    run, exit_code, err = _execute(child_home, code, "loud_celery")
    assert exit_code == 0, err
    [capture] = selectors.events_after(run_id=run.run_id, event_types=["LOGS_CAPTURED"])
    assert capture.payload["step_keys"] == ["loud"]
    [start] = selectors.events_after(run_id=run.run_id, event_types=["STEP_START"])
    assert capture.payload["pid"] == start.payload["pid"]  # announced by the step task's process
    folder = child_home / "storage" / run.run_id / "compute_logs"
    assert (folder / f"{capture.payload['file_key']}.out").read_text() == "loud on stdout\n"
    assert (folder / f"{capture.payload['file_key']}.err").read_text() == "loud on stderr\n"


def test_run_terminate_stops_the_step_task_and_cancels_the_run(child_home, code, steps_worker):
    run = _run(code, "sleepy_celery")
    proc = _run_worker(child_home, code, run.run_id)
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    services.run_terminate(run_id=run.run_id)  # what the UI, GraphQL and REST call
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert (code / "marks" / "slow-stopped").exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "slow" and failure.payload["error_source"] == "INTERRUPT"
    types = [e.event_type for e in _events(run.run_id)]
    assert types.index("RUN_CANCELING") < types.index("STEP_FAILURE") < types.index("RUN_CANCELED")
