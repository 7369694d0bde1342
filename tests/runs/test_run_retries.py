"""Run retries (`run_retries`, `dagster/max_retries`, `dagster/retry_strategy`): failed runs executed by
real run workers (SubprocessRunLauncher) are re-executed by `run_retries_consume`, as Dagster's
EVENT_LOG_CONSUMER daemon does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from core.instance_config import ResolvedInstance, RunRetriesConfig, parse_instance_config
from launchers.beat import daemon_beat_schedule
from runs import selectors
from runs.models import DaemonCursor, DaemonHeartbeat, Run, RunStatus
from runs.retries import CURSOR_KEY, run_retries_consume
from runs.services import run_submit, run_terminate
from tests.conftest import child_env, require_service
from tests.runs.locations import join_reapers, use_instance, wait_finished, wait_for
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)

DEFS = '''
import os
import time
import orchestra as dg

MARKS = {marks!r}


def _first_time(name):
    path = os.path.join(MARKS, name)
    if os.path.exists(path):
        return False
    open(path, "w").close()
    return True


@dg.op
def prepare():
    with open(os.path.join(MARKS, "prepare-runs"), "a") as handle:
        handle.write("x")
    return 1


@dg.op
def flaky(value):
    if _first_time("flaky-failed"):
        raise Exception("first attempt fails")
    return value + 1


@dg.op
def broken(value):
    raise Exception("always fails")


@dg.op
def hangs_once():
    if _first_time("hung"):
        time.sleep(60)
    return 1


@dg.op
def hangs():
    time.sleep(60)


@dg.job
def flaky_job():
    flaky(prepare())


@dg.job
def failing_job():
    broken(prepare())


@dg.job
def crashing_job():
    hangs_once()


@dg.job
def hanging_job():
    hangs()


defs = dg.Definitions(jobs=[flaky_job, failing_job, crashing_job, hanging_job])
'''

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


@pytest.fixture
def marks(tmp_path, settings, child_home, monkeypatch):
    settings.ORCHESTRA_HOME = child_home
    monkeypatch.setenv("ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS", "0.2")
    marks = tmp_path / "marks"
    marks.mkdir()
    store_location(tmp_path, name="retry_loc", source=DEFS.format(marks=str(marks)))
    yield marks
    join_reapers()


def _retries(settings, **config):
    use_instance(settings, run_retries=RunRetriesConfig(enabled=True, **config))
    run_retries_consume()  # the first pass sets the cursor at the newest event, as Dagster's daemon does


def _submit(job_name, tags=None):
    return run_submit(job_name=job_name, location_name="retry_loc", run_config=IN_PROCESS, tags=tags)


def _tags(run_id):
    return selectors.run_tags(Run.objects.get(run_id=run_id))


def _engine_messages(run_id):
    return [e.message for e in selectors.events_after(run_id=run_id, limit=10_000, event_types=["ENGINE_EVENT"])]


def _failed(job_name, tags=None):
    run = wait_finished(_submit(job_name, tags).run_id)
    assert run.status == RunStatus.FAILURE
    return run


def _retry_chain(first_run_id, settings_max):
    """Consume, wait for each retry, and consume again, until no new retry appears; the chain of runs."""
    chain = [Run.objects.get(run_id=first_run_id)]
    for _ in range(settings_max + 2):
        result = run_retries_consume()
        if not result.retried:
            break
        [(failed, new)] = result.retried
        assert failed == chain[-1].run_id
        chain.append(wait_finished(new))
    return chain


def test_a_run_failing_on_its_first_attempt_is_retried_from_failure_and_succeeds(settings, marks):
    _retries(settings, max_retries=1)
    failed = _failed("flaky_job", tags={"team": "data"})

    result = run_retries_consume()

    [(parent_id, retry_id)] = result.retried
    assert parent_id == failed.run_id
    retry = wait_finished(retry_id)
    assert retry.status == RunStatus.SUCCESS
    assert retry.parent_run_id == failed.run_id and retry.root_run_id == failed.run_id
    assert retry.step_keys_to_execute == ["flaky"]  # FROM_FAILURE: the upstream step is not run again
    assert (marks / "prepare-runs").read_text() == "x"
    tags = _tags(retry_id)
    assert tags["dagster/retry_number"] == "1"
    assert tags["dagster/parent_run_id"] == failed.run_id and tags["dagster/root_run_id"] == failed.run_id
    assert tags["dagster/is_resume_retry"] == "true"
    assert tags["team"] == "data"
    parent_tags = _tags(failed.run_id)
    assert parent_tags["dagster/will_retry"] == "true"
    assert parent_tags["dagster/auto_retry_run_id"] == retry_id
    assert "Retrying the run" in _engine_messages(failed.run_id)
    assert "Launched as an automatic retry" in _engine_messages(retry_id)
    # Consuming again (and even re-reading the same failure) creates nothing more.
    assert run_retries_consume().retried == []
    DaemonCursor.objects.filter(key=CURSOR_KEY).update(value="0")
    assert run_retries_consume().retried == []
    assert Run.objects.filter(root_run_id=failed.run_id).count() == 1


def test_the_retry_strategy_tag_all_steps_runs_every_step_again(settings, marks):
    _retries(settings, max_retries=1)
    failed = _failed("flaky_job", tags={"dagster/retry_strategy": "ALL_STEPS"})

    [(_, retry_id)] = run_retries_consume().retried

    retry = wait_finished(retry_id)
    assert retry.status == RunStatus.SUCCESS and retry.step_keys_to_execute is None
    assert (marks / "prepare-runs").read_text() == "xx"
    assert _tags(retry_id)["dagster/retry_strategy"] == "ALL_STEPS"
    assert "dagster/is_resume_retry" not in _tags(retry_id)
    assert failed.run_id == retry.parent_run_id


def test_max_retries_is_honoured_with_a_job_that_always_fails(settings, marks):
    _retries(settings, max_retries=2)
    failed = _failed("failing_job")

    chain = _retry_chain(failed.run_id, 2)

    assert len(chain) == 3  # the run and two retries, no third attempt
    assert all(run.status == RunStatus.FAILURE for run in chain)
    assert [_tags(run.run_id).get("dagster/retry_number") for run in chain] == [None, "1", "2"]
    assert [run.parent_run_id for run in chain] == [None, chain[0].run_id, chain[1].run_id]
    assert {run.root_run_id for run in chain[1:]} == {failed.run_id}
    assert [_tags(run.run_id)["dagster/will_retry"] for run in chain] == ["true", "true", "false"]
    assert Run.objects.count() == 3


def test_the_max_retries_tag_overrides_the_instance_default(settings, marks):
    _retries(settings, max_retries=0)
    not_tagged = _failed("failing_job")
    tagged = _failed("failing_job", tags={"dagster/max_retries": "1"})

    result = run_retries_consume()

    assert [failed for failed, _ in result.retried] == [tagged.run_id]
    assert _tags(not_tagged.run_id)["dagster/will_retry"] == "false"
    [(_, retry_id)] = result.retried
    retry = wait_finished(retry_id)
    assert _tags(retry_id)["dagster/max_retries"] == "1"  # inherited, so the retry is the last attempt
    assert run_retries_consume().retried == []
    assert _tags(retry.run_id)["dagster/will_retry"] == "false"


def test_step_failures_are_not_retried_without_retry_on_asset_or_op_failure_but_a_crash_is(settings, marks):
    _retries(settings, max_retries=1, retry_on_asset_or_op_failure=False)
    step_failed = _failed("failing_job")
    crashing = _submit("crashing_job")
    wait_for(lambda: (marks / "hung").exists(), what="the op hanging")
    wait_for(lambda: Run.objects.get(run_id=crashing.run_id).launcher.get("pid"), what="the worker's pid")
    os.kill(Run.objects.get(run_id=crashing.run_id).launcher["pid"], signal.SIGKILL)
    crashed = wait_finished(crashing.run_id)
    assert crashed.status == RunStatus.FAILURE

    result = run_retries_consume()

    [(parent_id, retry_id)] = result.retried
    assert parent_id == crashed.run_id
    assert wait_finished(retry_id).status == RunStatus.SUCCESS
    assert _tags(step_failed.run_id)["dagster/will_retry"] == "false"
    assert ("Not retrying run since it failed due to an asset or op failure and run retries are configured with "
            "retry_on_asset_or_op_failure set to false.") in _engine_messages(step_failed.run_id)
    # The run tag overrides the instance setting.
    tagged = _failed("failing_job", tags={"dagster/retry_on_asset_or_op_failure": "true"})
    assert [failed for failed, _ in run_retries_consume().retried] == [tagged.run_id]


def test_canceled_runs_are_not_retried(settings, marks):
    _retries(settings, max_retries=3)
    run = _submit("hanging_job")
    wait_for(lambda: Run.objects.get(run_id=run.run_id).status == RunStatus.STARTED, what="the run started")
    run_terminate(run_id=run.run_id)
    assert wait_finished(run.run_id).status == RunStatus.CANCELED

    assert run_retries_consume().retried == []
    assert Run.objects.count() == 1
    assert "dagster/will_retry" not in _tags(run.run_id)


def test_nothing_is_retried_when_run_retries_is_disabled_and_old_failures_are_not_retried_on_enabling(
        settings, marks):
    old = _failed("failing_job", tags={"dagster/max_retries": "2"})
    assert run_retries_consume().retried == []  # disabled (the default): no cursor, no retry
    assert not DaemonCursor.objects.exists()

    _retries(settings)

    assert run_retries_consume().retried == []
    assert "dagster/will_retry" not in _tags(old.run_id)


def test_two_concurrent_consumers_create_one_retry(settings, marks):
    _retries(settings, max_retries=1)
    failed = _failed("flaky_job")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def consume():
        try:
            barrier.wait(timeout=30)
            results.append(run_retries_consume())
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=consume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == [] and [r.errors for r in results] == [[], []]
    retried = [pair for result in results for pair in result.retried]
    assert len(retried) == 1 and retried[0][0] == failed.run_id
    assert Run.objects.filter(parent_run_id=failed.run_id).count() == 1
    assert _engine_messages(failed.run_id).count("Retrying the run") == 1
    assert wait_finished(retried[0][1]).status == RunStatus.SUCCESS


def test_beat_consumes_every_five_seconds_only_when_run_retries_is_enabled():
    def schedule(yaml):
        config = parse_instance_config(yaml, "t")
        return daemon_beat_schedule(ResolvedInstance(home=Path("/nonexistent"), config=config, source="t"))

    assert "orchestra run retries" not in schedule("")
    assert "orchestra run retries" not in schedule("run_retries: {enabled: false, max_retries: 3}\n")
    assert schedule("run_retries: {enabled: true, max_retries: 3}\n")["orchestra run retries"] == {
        "task": "runs.run_retries_consume", "schedule": 5.0, "options": {"queue": "daemon", "expires": 5.0}}


def _celery(home, cwd, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orchestra_site", *args, "-l", "warning"],
        env=child_env(home), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_the_daemon_retries_a_failed_run_by_itself(marks, child_home, tmp_path):
    """Beat and a daemon worker (real processes) with `run_retries` enabled in orchestra.yaml."""
    if django_settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    with (child_home / "orchestra.yaml").open("a") as config:
        config.write("run_retries:\n  enabled: true\n  max_retries: 1\n")
    worker = _celery(child_home, tmp_path, "worker", "-Q", "daemon", "-P", "solo", "-n", "retries-test@%h",
                     "--without-heartbeat", "--without-gossip", "--without-mingle")
    beat = _celery(child_home, tmp_path, "beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler")
    try:
        def wait(predicate, what):
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                assert worker.poll() is None, worker.stderr.read()
                assert beat.poll() is None, beat.stderr.read()
                value = predicate()
                if value:
                    return value
                time.sleep(0.2)
            raise AssertionError(f"{what} not reached")

        # The first pass sets the cursor; a failure before it would be (rightly) left alone.
        wait(lambda: DaemonHeartbeat.objects.filter(daemon_type="EVENT_LOG_CONSUMER").exists(), "a first pass")
        failed = _failed("flaky_job")
        retry = wait(lambda: Run.objects.filter(parent_run_id=failed.run_id, status=RunStatus.SUCCESS).first(),
                     "a successful retry")
    finally:
        _stop(beat)
        _stop(worker)
        join_reapers()
    assert _tags(retry.run_id)["dagster/retry_number"] == "1"
    assert _tags(failed.run_id)["dagster/auto_retry_run_id"] == retry.run_id
    assert Run.objects.count() == 2
