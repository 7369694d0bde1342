"""The multiprocess executor, through the run worker: a process per step, events written by the worker only."""

from __future__ import annotations

import os
import signal
import textwrap

import pytest

from runs import selectors, services
from runs.models import Run, RunStatus
from runs.multiprocess_executor import MultiprocessExecutor
from runs.services import EventInput
from tests.runs.test_worker import _events, _finish, _wait_for, _worker

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
    def double(value):
        return value * 2

    @dg.op
    def nap(context, value):
        context.log.info(f"napping in {os.getpid()}")
        time.sleep(1.5)  # long enough to overlap with a sibling whatever the process start-up jitter
        return value

    @dg.op(tags={"database": "warehouse"})
    def query(value):
        time.sleep(0.3)
        return value

    @dg.op
    def slow(value):
        try:
            time.sleep(60)
        finally:
            open(os.path.join(MARKS, "slow-stopped"), "w").close()

    @dg.op
    def boom(value):
        raise ValueError("boom went the op")

    @dg.op
    def crash(value):
        os._exit(3)

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=1))
    def flaky(value):
        mark = os.path.join(MARKS, "flaky-tried")
        if not os.path.exists(mark):
            open(mark, "w").close()
            raise RuntimeError("first attempt fails")
        return value

    @dg.op(out=dg.DynamicOut())
    def fan_out():
        for key in ("a", "b"):
            yield dg.DynamicOutput(key, mapping_key=key)

    @dg.op
    def total(values):
        assert sorted(values) == ["aa", "bb"], values
        return len(values)

    @dg.op
    def twice(value):
        return value * 2

    @dg.job
    def pipeline():
        double(double(start()))

    @dg.job
    def wide():
        value = start()
        for index in range(3):
            nap.alias(f"nap_{index}")(value)

    @dg.job
    def queries():
        value = start()
        for index in range(3):
            query.alias(f"query_{index}")(value)

    @dg.job
    def sleepy():
        slow(start())

    @dg.job
    def broken():
        boom(start())

    @dg.job
    def crashing():
        crash(start())

    @dg.job
    def retrying():
        flaky(start())

    @dg.job
    def dynamic():
        total(fan_out().map(twice).collect())

    defs = dg.Definitions(jobs=[pipeline, wide, queries, sleepy, broken, crashing, retrying, dynamic])
    """
)


@pytest.fixture
def code(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "marks").mkdir()
    (tmp_path / "code" / "defs.py").write_text(DEFS)
    return tmp_path


def _run(code, job_name, run_config=None):
    origin = {"python_file": str(code / "code" / "defs.py"), "attribute": "defs"}
    run = services.run_create(job_name=job_name, origin=origin, run_config=run_config or {})
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    return run


def _pids(run_id, event_type="STEP_START"):
    return {e.step_key: e.payload["pid"] for e in selectors.events_after(run_id=run_id, event_types=[event_type])}


def test_a_job_runs_each_step_in_its_own_process_by_default(child_home, code):
    run = _run(code, "pipeline")  # no execution block: the job default is multiprocess
    proc = _worker(child_home, code, run.run_id)
    code_, out, err = _finish(proc)
    assert code_ == 0, err
    assert Run.objects.get(pk=run.pk).status == RunStatus.SUCCESS
    pids = _pids(run.run_id)
    assert set(pids) == {"start", "double", "double_2"}
    assert proc.pid not in pids.values() and len(set(pids.values())) == 3
    types = [e.event_type for e in _events(run.run_id)]
    assert types.count("STEP_WORKER_STARTING") == 3 and types.count("STEP_WORKER_STARTED") == 3
    messages = [e.message for e in _events(run.run_id) if e.event_type == "ENGINE_EVENT"]
    assert f"Executing steps using multiprocess executor: parent process (pid: {proc.pid})" in messages


def _most_in_flight(events):
    in_flight, most = set(), 0
    for event in events:
        if event.event_type == "STEP_START":
            in_flight.add(event.step_key)
            most = max(most, len(in_flight))
        elif event.event_type == "STEP_SUCCESS":
            in_flight.discard(event.step_key)
    return most


def test_max_concurrent_bounds_the_steps_in_flight_and_logs_come_back(child_home, code):
    run = _run(code, "wide", {"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}})
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 0, err
    events = [e for e in _events(run.run_id) if e.step_key and e.step_key.startswith("nap_")]
    assert _most_in_flight(events) == 2
    logs = [e for e in events if e.event_type is None and e.message.startswith("napping in")]
    assert len(logs) == 3


def test_tag_concurrency_limits_hold_steps_back(child_home, code):
    limits = [{"key": "database", "value": "warehouse", "limit": 1}]
    config = {"multiprocess": {"max_concurrent": 3, "tag_concurrency_limits": limits}}
    run = _run(code, "queries", {"execution": {"config": config}})
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 0, err
    events = [e for e in _events(run.run_id) if e.step_key and e.step_key.startswith("query_")]
    assert _most_in_flight(events) == 1
    assert len([e for e in events if e.event_type == "STEP_SUCCESS"]) == 3


def test_a_failing_step_fails_the_run(child_home, code):
    run = _run(code, "broken")
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 1, err
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILURE
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert "boom went the op" in failure.payload["error"]["cause"]["message"]


def test_a_step_process_that_dies_fails_its_step(child_home, code):
    run = _run(code, "crashing")
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 1, err
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "crash" and "exit code 3" in failure.payload["error"]["message"]
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILURE


def test_retries_run_in_a_new_process(child_home, code):
    run = _run(code, "retrying")
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 0, err
    types = [e.event_type for e in _events(run.run_id) if e.step_key == "flaky"]
    assert "STEP_UP_FOR_RETRY" in types and "STEP_RESTARTED" in types and types[-1] == "STEP_SUCCESS"


def test_dynamic_steps_resolve_in_their_processes(child_home, code):
    run = _run(code, "dynamic")
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 0, err
    assert {"twice[a]", "twice[b]", "total"} <= set(_pids(run.run_id, "STEP_SUCCESS"))


def test_sigterm_stops_the_step_processes_and_cancels_the_run(child_home, code):
    run = _run(code, "sleepy")
    proc = _worker(child_home, code, run.run_id)
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    step_pid = _pids(run.run_id)["slow"]
    proc.send_signal(signal.SIGTERM)
    code_, out, err = _finish(proc)
    assert code_ == 1, err
    assert (code / "marks" / "slow-stopped").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(step_pid, 0)  # nothing the run worker started outlives it
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "slow" and failure.payload["error_source"] == "INTERRUPT"
    assert [e.event_type for e in _events(run.run_id)][-2:] == ["RUN_CANCELED", "ENGINE_EVENT"]


def test_config_maps_to_the_executor_like_dagster(monkeypatch):
    monkeypatch.delenv("DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT", raising=False)
    executor = MultiprocessExecutor.from_config(
        {"max_concurrent": 3, "retries": {"disabled": {}}, "start_method": {"forkserver": {"preload_modules": ["os"]}}}
    )
    assert (executor.max_concurrent, executor.retries_enabled, executor.start_method) == (3, False, "forkserver")
    assert executor.preload_modules == ["os"]
    monkeypatch.setenv("DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT", "5")
    assert MultiprocessExecutor.from_config({"max_concurrent": 0}).max_concurrent == 5


class _Step:
    def __init__(self, **tags):
        self.tags = tags


@pytest.mark.parametrize(
    "limit, running, blocked",
    [
        ({"key": "db", "limit": 1}, [_Step(db="other")], True),  # a key alone counts every value
        ({"key": "db", "value": "wh", "limit": 1}, [_Step(db="other")], False),
        ({"key": "db", "value": "wh", "limit": 1}, [_Step(db="wh")], True),
        ({"key": "db", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}, [_Step(db="other")], False),
        ({"key": "db", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}, [_Step(db="wh")], True),
        ({"key": "team", "limit": 0}, [], False),  # limits only apply to steps carrying the key
    ],
)
def test_tag_limits_follow_dagster_semantics(limit, running, blocked):
    from runs.multiprocess_executor import _over_tag_limit

    assert _over_tag_limit(_Step(db="wh"), running, [limit]) is blocked


def test_steps_fork_from_a_warm_fork_server_unless_the_run_config_says_spawn():
    assert MultiprocessExecutor.from_config({}).start_method == "forkserver"
    assert MultiprocessExecutor.from_config({"start_method": {"spawn": {}}}).start_method == "spawn"
