"""The executor contract: in_process, multiprocess and celery record the same step events and outcomes.

Each run goes through the real run worker; the celery case through a real `celery worker -Q steps`.
What a step records is compared without the events that say where it ran (worker processes, resource
set-up per process), which necessarily differ by executor.
"""

from __future__ import annotations

import signal
import subprocess
import textwrap

import pytest

from runs import selectors, services
from runs.models import Run, RunStatus
from runs.services import EventInput
from tests.runs.test_celery_executor import _run_worker, _wait_for
from tests.runs.test_celery_executor import steps_worker as steps_worker  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)

EXECUTORS = ["in_process", "multiprocess", "celery"]
RUN_CONFIG = {
    "in_process": {"execution": {"config": {"in_process": {}}}},
    "multiprocess": {"execution": {"config": {"multiprocess": {}}}},
    "celery": {},  # the jobs are defined with `executor_def=dg.celery_executor`
}
_PLACEMENT = {"ENGINE_EVENT", "STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "RESOURCE_INIT_STARTED",
              "RESOURCE_INIT_SUCCESS", "LOGS_CAPTURED", None}

DEFS = textwrap.dedent(
    """
    import os
    import time

    import orchestra as dg

    MARKS = os.environ["TEST_MARKS"]
    EXECUTOR = dg.celery_executor if os.environ.get("TEST_EXECUTOR") == "celery" else None


    @dg.op
    def start():
        return 1


    @dg.op
    def double(value):
        return value * 2


    @dg.op
    def total(values):
        return sum(values)


    @dg.op(out=dg.DynamicOut())
    def fan_out(value):
        for key in ("a", "b"):
            yield dg.DynamicOutput(value, mapping_key=key)


    @dg.op
    def boom(value):
        raise ValueError("boom went the op")


    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky(context, value):
        if context.retry_number < 2:
            raise RuntimeError(f"attempt {context.retry_number + 1} fails")
        return value


    @dg.op
    def slow(value):
        open(os.path.join(MARKS, "slow-started"), "w").close()
        try:
            time.sleep(60)
        finally:
            open(os.path.join(MARKS, "slow-stopped"), "w").close()


    @dg.job(executor_def=EXECUTOR)
    def succeeding():
        total(fan_out(double(start())).map(double).collect())


    @dg.job(executor_def=EXECUTOR)
    def failing():
        double(boom(start()))


    @dg.job(executor_def=EXECUTOR)
    def retrying():
        double(flaky(start()))


    @dg.job(executor_def=EXECUTOR)
    def sleepy():
        slow(start())


    defs = dg.Definitions(jobs=[succeeding, failing, retrying, sleepy])
    """
)

STORED = ["STEP_OUTPUT", "HANDLED_OUTPUT"]
LOADED = ["LOADED_INPUT", "STEP_INPUT"]


@pytest.fixture
def code(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "marks").mkdir()
    (tmp_path / "code" / "defs.py").write_text(DEFS)
    return tmp_path


@pytest.fixture(params=EXECUTORS)
def executor(request):
    if request.param == "celery":
        request.getfixturevalue("steps_worker")
    return request.param


def _start(child_home, code, executor, job_name, monkeypatch):
    origin = {"python_file": str(code / "code" / "defs.py"), "attribute": "defs"}
    run = services.run_create(job_name=job_name, origin=origin, run_config=RUN_CONFIG[executor])
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    monkeypatch.setenv("TEST_EXECUTOR", executor)
    return run, _run_worker(child_home, code, run.run_id)


def _execute(child_home, code, executor, job_name, monkeypatch):
    run, proc = _start(child_home, code, executor, job_name, monkeypatch)
    try:
        # Generous for a loaded machine; a run worker still going after this is a hang, reported with
        # what it was waiting for (and stopped, so it does not outlive the test).
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        events = [(e.step_key, e.event_type) for e in selectors.events_after(run_id=run.run_id, limit=10_000)]
        log = code / "steps-worker.log"
        raise AssertionError(f"run worker hung: {err}\nevents: {events}\n"
                             f"{log.read_text() if log.exists() else ''}") from None
    return Run.objects.get(pk=run.pk), proc.returncode, err


def _per_step(run_id):
    steps: dict[str, list[str]] = {}
    for event in selectors.events_after(run_id=run_id, limit=10_000):
        if event.step_key and event.event_type not in _PLACEMENT:
            steps.setdefault(event.step_key, []).append(event.event_type)
    return steps


def test_success_with_dynamic_outputs(child_home, code, executor, monkeypatch):
    run, exit_code, err = _execute(child_home, code, executor, "succeeding", monkeypatch)
    assert (exit_code, run.status) == (0, RunStatus.SUCCESS), err
    assert _per_step(run.run_id) == {
        "start": ["STEP_START", *STORED, "STEP_SUCCESS"],
        "double": ["STEP_START", *LOADED, *STORED, "STEP_SUCCESS"],
        "fan_out": ["STEP_START", *LOADED, *STORED, *STORED, "STEP_SUCCESS"],
        "double_2[a]": ["STEP_START", *LOADED, *STORED, "STEP_SUCCESS"],
        "double_2[b]": ["STEP_START", *LOADED, *STORED, "STEP_SUCCESS"],
        "total": ["STEP_START", "LOADED_INPUT", "LOADED_INPUT", "STEP_INPUT", *STORED, "STEP_SUCCESS"],
    }


def test_failure_fails_the_run_and_does_not_run_downstream(child_home, code, executor, monkeypatch):
    run, exit_code, err = _execute(child_home, code, executor, "failing", monkeypatch)
    assert (exit_code, run.status) == (1, RunStatus.FAILURE), err
    assert _per_step(run.run_id) == {
        "start": ["STEP_START", *STORED, "STEP_SUCCESS"],
        "boom": ["STEP_START", *LOADED, "STEP_FAILURE"],
    }
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.payload["error_source"] == "USER_CODE_ERROR"
    assert "boom went the op" in failure.payload["error"]["cause"]["message"]
    [run_failure] = selectors.events_after(run_id=run.run_id, event_types=["RUN_FAILURE"])
    assert run_failure.message == "Execution of run for \"failing\" failed. Steps failed: ['boom']."


def test_retry_policy_retries_with_up_for_retry_and_restarted(child_home, code, executor, monkeypatch):
    run, exit_code, err = _execute(child_home, code, executor, "retrying", monkeypatch)
    assert (exit_code, run.status) == (0, RunStatus.SUCCESS), err
    attempt = [*LOADED, "STEP_UP_FOR_RETRY"]
    assert _per_step(run.run_id)["flaky"] == [
        "STEP_START", *attempt, "STEP_RESTARTED", *attempt, "STEP_RESTARTED", *LOADED, *STORED, "STEP_SUCCESS",
    ]
    assert _per_step(run.run_id)["double"] == ["STEP_START", *LOADED, *STORED, "STEP_SUCCESS"]


def test_sigterm_cancels_the_run_and_interrupts_the_step(child_home, code, executor, monkeypatch):
    run, proc = _start(child_home, code, executor, "sleepy", monkeypatch)
    _wait_for(lambda: (code / "marks" / "slow-started").exists())
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert (code / "marks" / "slow-stopped").exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED
    assert _per_step(run.run_id)["slow"] == ["STEP_START", *LOADED, "STEP_FAILURE"]
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.payload["error_source"] == "INTERRUPT"
