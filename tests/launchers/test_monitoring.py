"""Run monitoring: start and cancel timeouts, dead run workers (a real killed process), max runtime,
re-driven launches; every transition re-checked under the run's lock and never past a terminal event."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from launchers.monitoring import MonitoringPolicy, monitoring_policy, run_monitoring_sweep
from runs import selectors, services
from runs.models import Run, RunStatus
from runs.services import EventInput
from tests.conftest import REPO, child_env, run_child
from tests.runs.holding_launcher import HoldingLauncher, use_holding_launcher

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def holding_launcher(settings):
    """Launches are recorded, not performed (the worker in the kill test is started by the test)."""
    use_holding_launcher(settings)
    return HoldingLauncher

POLICY = MonitoringPolicy(start_timeout=60, cancel_timeout=60, heartbeat_timeout=30, relaunch_after=15)

DEFS = textwrap.dedent(
    """
    import os
    import time
    import orchestra as dg

    @dg.op
    def start():
        return 0

    @dg.op
    def slow(value):
        time.sleep(60)
        open(os.path.join(os.environ["TEST_MARKS"], "slow-finished"), "w").close()
        return value

    @dg.job
    def sleepy():
        slow(start())

    defs = dg.Definitions(jobs=[sleepy])
    """
)


def _run(*events, **kwargs):
    run = services.run_create(job_name="job", **kwargs)
    if events:
        services.event_store(run_id=run.run_id, events=[EventInput(event_type=e) for e in events])
    return Run.objects.get(pk=run.pk)


def _later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def _events(run_id, *types):
    return selectors.events_after(run_id=run_id, limit=10_000, event_types=list(types) or None)


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_monitoring_is_on_unless_disabled_and_polls_every_ten_seconds_unless_told(settings):
    policy = monitoring_policy()
    assert policy.enabled and policy.poll_interval == 10
    assert (policy.start_timeout, policy.cancel_timeout, policy.max_runtime) == (180, 180, 0)
    from core.instance_config import parse_instance_config

    config = parse_instance_config("run_monitoring:\n  enabled: false\n  poll_interval_seconds: 30\n", "test")
    import dataclasses

    disabled = monitoring_policy(dataclasses.replace(settings.INSTANCE, config=config))
    assert not disabled.enabled and disabled.poll_interval == 30
    stuck = _run("RUN_STARTING")
    assert run_monitoring_sweep(policy=disabled, now=_later(10_000)).checked == 0
    assert Run.objects.get(pk=stuck.pk).status == RunStatus.STARTING


def test_a_run_starting_longer_than_the_start_timeout_fails_with_start_timeout():
    run = _run("RUN_STARTING")
    assert run_monitoring_sweep(policy=POLICY, now=_later(30)).failed == []
    assert Run.objects.get(pk=run.pk).status == RunStatus.STARTING
    result = run_monitoring_sweep(policy=POLICY, now=_later(61))
    assert result.failed == [run.run_id]
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILURE
    [engine] = [e for e in _events(run.run_id, "ENGINE_EVENT") if e.level >= 40]
    [failure] = _events(run.run_id, "RUN_FAILURE")
    assert engine.message == failure.message == "Run timed out due to taking longer than 60 seconds to start."
    assert failure.payload["failure_reason"] == "START_TIMEOUT"
    # A second sweep (or a second daemon) finds nothing left to do.
    assert run_monitoring_sweep(policy=POLICY, now=_later(120)).failed == []
    assert len(_events(run.run_id, "RUN_FAILURE")) == 1


def test_a_run_never_launched_fails_after_the_start_timeout_like_dagster():
    run = _run()  # NOT_STARTED, no origin: nothing can launch it
    assert run_monitoring_sweep(policy=POLICY, now=_later(30)).failed == []
    assert run_monitoring_sweep(policy=POLICY, now=_later(61)).failed == [run.run_id]
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILURE


def test_a_run_canceling_longer_than_the_cancel_timeout_is_marked_canceled():
    run = _run("RUN_STARTING", "RUN_START", "RUN_CANCELING")
    assert run_monitoring_sweep(policy=POLICY, now=_later(30)).canceled == []
    assert run_monitoring_sweep(policy=POLICY, now=_later(61)).canceled == [run.run_id]
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED
    [canceled] = _events(run.run_id, "RUN_CANCELED")
    assert canceled.message == "Run timed out due to taking longer than 60 seconds to cancel."


def test_a_worker_whose_heartbeat_stopped_fails_its_run_with_the_reason():
    run = _run("RUN_STARTING")
    services.run_worker_claim(run_id=run.run_id, pid=4242, hostname="another-machine")
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START")])
    assert run_monitoring_sweep(policy=POLICY, now=_later(20)).failed == []
    assert run_monitoring_sweep(policy=POLICY, now=_later(31)).failed == [run.run_id]
    fresh = Run.objects.get(pk=run.pk)
    assert fresh.status == RunStatus.FAILURE
    [failure] = _events(run.run_id, "RUN_FAILURE")
    assert "last heartbeat was" in failure.message and "presumed dead" in failure.message


def test_a_finished_run_is_never_overwritten_by_monitoring():
    run = _run("RUN_STARTING")
    services.run_worker_claim(run_id=run.run_id, pid=4242, hostname="another-machine")
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START"),
                                                    EventInput(event_type="RUN_SUCCESS")])
    assert run_monitoring_sweep(policy=POLICY, now=_later(10_000)).failed == []
    assert Run.objects.get(pk=run.pk).status == RunStatus.SUCCESS
    assert _events(run.run_id, "RUN_FAILURE") == []


def test_a_run_past_its_max_runtime_tag_fails():
    run = _run("RUN_STARTING", tags={"dagster/max_runtime": "5"})
    services.run_worker_claim(run_id=run.run_id, pid=4242, hostname="another-machine")
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START")])
    Run.objects.filter(pk=run.pk).update(heartbeat_at=_later(100))  # a live worker
    assert run_monitoring_sweep(policy=POLICY, now=_later(4)).failed == []
    assert run_monitoring_sweep(policy=POLICY, now=_later(6)).failed == [run.run_id]
    [failure] = _events(run.run_id, "RUN_FAILURE")
    assert failure.message == "Exceeded maximum runtime of 5 seconds."
    assert HoldingLauncher.terminated == [run.run_id]  # the launcher is asked to stop the worker


@pytest.mark.parametrize("launcher", ["holding", "subprocess"])
def test_a_killed_run_worker_fails_its_run_and_its_orphan_step_cannot_write_afterwards(
    child_home, tmp_path, settings, launcher
):
    """The worker is started by the test, so no launcher reaps it: monitoring alone finds it dead —
    through the default SubprocessRunLauncher's health check, or (a launcher that cannot check) by
    the worker's recorded pid on this host."""
    if launcher == "subprocess":
        import dataclasses

        config = settings.INSTANCE.config.model_copy(update={"run_launcher": None})
        settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    (tmp_path / "code").mkdir()
    (tmp_path / "marks").mkdir()
    (tmp_path / "code" / "defs.py").write_text(DEFS)
    run = services.run_create(
        job_name="sleepy", origin={"python_file": str(tmp_path / "code" / "defs.py"), "attribute": "defs"},
        run_config={"execution": {"config": {"in_process": {}}}},
    )
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    env = child_env(child_home)
    env["TEST_MARKS"] = str(tmp_path / "marks")
    worker = subprocess.Popen(
        [sys.executable, "-c", "from orchestra._cli import main; main()", "api", "execute-run", run.run_id],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for(lambda: _events(run.run_id, "STEP_INPUT"))
        assert Run.objects.get(pk=run.pk).status == RunStatus.STARTED
        assert run_monitoring_sweep(now=_later(1)).failed == []  # alive: left alone
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()
    result = run_monitoring_sweep()  # the default policy: no waiting for the heartbeat to go stale
    assert result.failed == [run.run_id]
    fresh = Run.objects.get(pk=run.pk)
    assert fresh.status == RunStatus.FAILURE
    [engine] = [e for e in _events(run.run_id, "ENGINE_EVENT") if e.level >= 40]
    if launcher == "subprocess":
        assert engine.message.startswith(
            f"Detected run worker status NOT_FOUND: run worker process {worker.pid} is not running.")
    else:
        assert f"(pid {worker.pid} on" in engine.message and "no longer running" in engine.message
    assert engine.payload["worker"]["pid"] == worker.pid
    # The step the dead worker left open reports in from another process, as a straggling step
    # process would: the closed event log refuses it and stores nothing.
    before = [e.id for e in _events(run.run_id)]
    straggler = run_child(child_home, textwrap.dedent(f"""
        import django; django.setup()
        from runs.services import EventInput, RunEventLogClosed, event_store
        try:
            event_store(run_id={run.run_id!r}, events=[EventInput(event_type="STEP_OUTPUT", step_key="slow"),
                                                       EventInput(event_type="STEP_SUCCESS", step_key="slow")])
        except RunEventLogClosed as exc:
            print("REFUSED", exc.refused)
    """))
    assert straggler.returncode == 0, straggler.stderr
    assert straggler.stdout.strip() == "REFUSED 2"
    assert [e.id for e in _events(run.run_id)] == before
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILURE


def test_a_run_whose_launch_was_lost_is_launched_again(holding_launcher):
    run = _run(origin={"python_file": "/nonexistent/defs.py", "attribute": "defs"})  # NOT_STARTED
    assert run_monitoring_sweep(policy=POLICY, now=_later(5)).relaunched == []
    assert Run.objects.get(pk=run.pk).status == RunStatus.NOT_STARTED
    assert run_monitoring_sweep(policy=POLICY, now=_later(16)).relaunched == [run.run_id]
    assert Run.objects.get(pk=run.pk).status != RunStatus.NOT_STARTED
    assert len(_events(run.run_id, "RUN_STARTING")) == 1
    assert holding_launcher.launched == [run.run_id]
    # Another sweep (another daemon) launches nothing more: run_launch launches only NOT_STARTED runs.
    run_monitoring_sweep(policy=POLICY, now=_later(10))
    assert len(_events(run.run_id, "RUN_STARTING")) == 1
    assert holding_launcher.launched == [run.run_id]


def test_a_starting_run_no_worker_claimed_is_launched_again_a_few_times_then_times_out(holding_launcher):
    run = _run("RUN_STARTING")  # launched, but the launch never reached a worker (a lost message)
    assert run_monitoring_sweep(policy=POLICY, now=_later(10)).relaunched == []
    assert run_monitoring_sweep(policy=POLICY, now=_later(16)).relaunched == [run.run_id]
    assert run_monitoring_sweep(policy=POLICY, now=_later(20)).relaunched == []  # 15 s since the last
    assert run_monitoring_sweep(policy=POLICY, now=_later(32)).relaunched == [run.run_id]
    assert run_monitoring_sweep(policy=POLICY, now=_later(48)).relaunched == [run.run_id]
    assert run_monitoring_sweep(policy=POLICY, now=_later(59)).relaunched == []  # at most three times
    assert holding_launcher.launched == [run.run_id] * 3
    relaunches = [e for e in _events(run.run_id, "ENGINE_EVENT") if e.payload.get("relaunch")]
    assert [e.message for e in relaunches] == [
        "No run worker claimed the run within 15 seconds of its launch; launching it again."] * 3
    assert run_monitoring_sweep(policy=POLICY, now=_later(61)).failed == [run.run_id]


def test_a_claimed_starting_run_is_not_launched_again(holding_launcher):
    run = _run("RUN_STARTING")
    services.run_worker_claim(run_id=run.run_id, pid=4242, hostname="another-machine")
    Run.objects.filter(pk=run.pk).update(heartbeat_at=_later(100))  # alive
    assert run_monitoring_sweep(policy=POLICY, now=_later(30)).relaunched == []
    assert holding_launcher.launched == []


MULTIPROCESS_DEFS = textwrap.dedent(
    """
    import os
    import time
    import orchestra as dg

    @dg.op
    def slow():
        open(os.path.join(os.environ["TEST_MARKS"], "step-pid"), "w").write(str(os.getpid()))
        time.sleep(60)
        open(os.path.join(os.environ["TEST_MARKS"], "side-effect"), "w").close()

    @dg.job
    def sleepy():
        slow()

    defs = dg.Definitions(jobs=[sleepy])
    """
)


def test_a_step_process_dies_with_its_killed_run_worker(child_home, tmp_path):
    import os

    (tmp_path / "defs.py").write_text(MULTIPROCESS_DEFS)
    marks = tmp_path / "marks"
    marks.mkdir()
    run = services.run_create(job_name="sleepy", origin={"python_file": str(tmp_path / "defs.py"), "attribute": "defs"})
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    env = child_env(child_home)
    env["TEST_MARKS"] = str(marks)
    worker = subprocess.Popen([sys.executable, "-m", "orchestra", "api", "execute-run", run.run_id], env=env,
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    step_pid = None
    try:
        _wait_for(lambda: (marks / "step-pid").exists() and (marks / "step-pid").read_text())
        step_pid = int((marks / "step-pid").read_text())
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        assert run_monitoring_sweep().failed == [run.run_id]
        _wait_for(lambda: not os.path.exists(f"/proc/{step_pid}"), timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if step_pid is not None and os.path.exists(f"/proc/{step_pid}"):
            os.kill(step_pid, signal.SIGKILL)


def test_a_worker_finishing_while_monitoring_decides_wins_cleanly():
    """PostgreSQL: the sweep has read the run as STARTED with a dead worker and waits for the row lock
    the run worker holds while it writes RUN_SUCCESS. Re-read under the lock, the run is finished:
    monitoring writes nothing and reports no error."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("needs pg_locks to see the sweep waiting; SQLite serialises writers at BEGIN")
    run = _run("RUN_STARTING")
    services.run_worker_claim(run_id=run.run_id, pid=4242, hostname="another-machine")
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START")])
    before = len(_events(run.run_id))
    results = []

    def sweep():
        from django.db import connections

        try:
            results.append(run_monitoring_sweep(policy=POLICY, now=_later(31)))
        finally:
            connections.close_all()

    with transaction.atomic():  # the "run worker": holds the run's row lock while finishing
        Run.objects.select_for_update().get(pk=run.pk)
        thread = threading.Thread(target=sweep)
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(  # waits in this test's database (the cluster is shared)
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE NOT l.granted AND a.datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the sweep never waited for the run's lock")
        services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_SUCCESS")])
    thread.join()
    [result] = results
    assert result.failed == [] and result.errors == []
    assert Run.objects.get(pk=run.pk).status == RunStatus.SUCCESS
    assert [e.event_type for e in _events(run.run_id)][before:] == ["RUN_SUCCESS"]
