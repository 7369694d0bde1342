"""The run worker: `orchestra api execute-run RUN_ID` in a real process against the test database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from runs import selectors, services
from runs.models import Run, RunStatus
from runs.services import EventInput
from runs.worker import Termination
from tests.conftest import REPO, child_env

DEFS = textwrap.dedent(
    """
    import os
    import time
    import orchestra as dg

    MARKS = os.environ["TEST_MARKS"]

    @dg.op
    def start():
        return 0

    @dg.op
    def add_one(value):
        return value + 1

    @dg.op
    def slow(value):
        try:
            time.sleep(60)
        finally:
            open(os.path.join(MARKS, "slow-stopped"), "w").close()
        return value

    @dg.op
    def boom(value):
        raise ValueError("boom went the op")

    @dg.job
    def chain():
        value = start()
        for _ in range(4):
            value = add_one(value)

    @dg.job
    def sleepy():
        slow(start())

    @dg.job
    def broken():
        boom(start())

    defs = dg.Definitions(jobs=[chain, sleepy, broken])
    """
)


@pytest.fixture
def code(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "marks").mkdir()
    (tmp_path / "code" / "defs.py").write_text(DEFS)
    return tmp_path


def _run(code, job_name, **kwargs):
    origin = {"python_file": str(code / "code" / "defs.py"), "attribute": "defs"}
    run = services.run_create(
        job_name=job_name, origin=origin, run_config={"execution": {"config": {"in_process": {}}}}, **kwargs
    )
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    return run


def _worker(home, code, run_id, **popen):
    env = child_env(home)
    env["TEST_MARKS"] = str(code / "marks")
    env["ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS"] = "0.2"
    return subprocess.Popen(
        [sys.executable, "-c", "from orchestra._cli import main; main()", "api", "execute-run", run_id],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )


def _finish(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _events(run_id):
    return selectors.events_after(run_id=run_id, limit=10_000)


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.mark.django_db(transaction=True)
def test_the_worker_executes_the_run_and_records_it_like_dagster(child_home, code):
    run = _run(code, "chain")
    proc = _worker(child_home, code, run.run_id)
    code_, out, err = _finish(proc)
    assert code_ == 0, err
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCESS
    assert run.launcher["worker"]["pid"] == proc.pid and run.heartbeat_at is not None
    events = _events(run.run_id)
    types = [e.event_type for e in events]
    assert types[:3] == ["RUN_STARTING", "ENGINE_EVENT", "RUN_START"]
    assert events[1].message == f"Started process for run (pid: {proc.pid})."
    assert types[-2:] == ["RUN_SUCCESS", "ENGINE_EVENT"]
    assert events[-1].message == f"Process for run exited (pid: {proc.pid})."
    assert types.count("STEP_SUCCESS") == 5
    assert run.started_at is not None and run.ended_at >= run.started_at


@pytest.mark.django_db(transaction=True)
def test_a_failing_op_fails_the_run_with_its_reason_and_error(child_home, code):
    run = _run(code, "broken")
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 1, err
    run.refresh_from_db()
    assert run.status == RunStatus.FAILURE
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert failure.step_key == "boom"
    assert "boom went the op" in failure.payload["error"]["cause"]["message"]
    [run_failure] = selectors.events_after(run_id=run.run_id, event_types=["RUN_FAILURE"])
    assert run_failure.payload["failure_reason"] == "STEP_FAILURE"
    assert _events(run.run_id)[-1].message.startswith("Process for run exited")


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_step_in_flight_and_cancels_the_run(child_home, code):
    run = _run(code, "sleepy")
    proc = _worker(child_home, code, run.run_id)
    # The heartbeat thread writes the long step's STEP_START while the step is still running.
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    first_beat = Run.objects.get(pk=run.pk).heartbeat_at
    _wait_for(lambda: Run.objects.get(pk=run.pk).heartbeat_at > first_beat)
    proc.send_signal(signal.SIGTERM)
    code_, out, err = _finish(proc)
    assert code_ == 1, err
    assert (code / "marks" / "slow-stopped").exists()  # the op was told to stop (its finally ran)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELED
    types = [(e.event_type, e.step_key) for e in _events(run.run_id)]
    # Everything written before the signal is kept.
    assert ("STEP_SUCCESS", "start") in types and ("STEP_START", "slow") in types
    assert types[-3:] == [("STEP_FAILURE", "slow"), ("RUN_CANCELED", None), ("ENGINE_EVENT", None)]
    [interrupted] = selectors.events_after(run_id=run.run_id, event_types=["STEP_FAILURE"])
    assert interrupted.payload["error_source"] == "INTERRUPT"
    assert "SIGTERM" in interrupted.payload["error"]["message"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("terminal", ["RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"])
def test_a_finished_run_is_refused_without_any_change(child_home, code, terminal):
    run = _run(code, "chain")
    services.event_store(run_id=run.run_id, events=[EventInput(event_type=terminal)])
    before = [e.id for e in _events(run.run_id)]
    status = Run.objects.get(pk=run.pk).status
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 2
    assert f"Refusing to execute run {run.run_id}" in err and status in err
    assert [e.id for e in _events(run.run_id)] == before
    fresh = Run.objects.get(pk=run.pk)
    assert fresh.status == status and fresh.heartbeat_at is None and fresh.launcher == {}


@pytest.mark.django_db(transaction=True)
def test_a_run_claimed_by_another_worker_is_refused(child_home, code):
    run = _run(code, "chain")
    services.run_worker_claim(run_id=run.run_id, pid=4242, hostname="elsewhere")
    before = len(_events(run.run_id))
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 2 and "pid 4242 on elsewhere" in err
    assert len(_events(run.run_id)) == before


@pytest.mark.django_db(transaction=True)
def test_an_unknown_run_is_refused(child_home, code):
    code_, out, err = _finish(_worker(child_home, code, "no-such-run"))
    assert code_ == 2 and "no-such-run" in err


@pytest.mark.django_db(transaction=True)
def test_a_job_that_cannot_be_loaded_fails_the_run_at_initialization(child_home, code):
    run = services.run_create(job_name="chain", origin={"python_file": str(code / "missing.py")})
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 1, err
    run.refresh_from_db()
    assert run.status == RunStatus.FAILURE
    [failure] = selectors.events_after(run_id=run.run_id, event_types=["RUN_FAILURE"])
    assert failure.payload["failure_reason"] == "JOB_INITIALIZATION_FAILURE"
    assert "missing.py" in failure.message and failure.payload["error"]["cls_name"] == "DefinitionsLoadError"


def test_a_signal_during_an_event_write_waits_for_the_write_to_finish():
    from orchestra._errors import DagsterExecutionInterruptedError

    termination = Termination()
    previous = termination.install()
    try:
        with pytest.raises(DagsterExecutionInterruptedError, match="SIGTERM"):
            with termination:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                written = True  # reached: the signal did not interrupt the guarded block
        assert written
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


ASSET_DEFS = textwrap.dedent(
    """
    import orchestra as dg

    @dg.asset
    def raw():
        return [1, 2, 3]

    @dg.asset
    def total(raw):
        return sum(raw)

    defs = dg.Definitions(assets=[raw, total], jobs=[dg.define_asset_job("everything")])
    """
)


@pytest.mark.django_db(transaction=True)
def test_an_asset_job_records_its_materializations_in_the_asset_index(child_home, code):
    (code / "code" / "assets.py").write_text(ASSET_DEFS)
    run = services.run_create(job_name="everything", origin={"python_file": str(code / "code" / "assets.py")})
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 0, err
    assert selectors.asset_keys_list() == ["raw", "total"]
    [latest] = selectors.asset_materializations(asset_key="total")
    assert latest.run_id == run.run_id


@pytest.mark.django_db(transaction=True)
def test_a_terminate_request_in_the_database_cancels_the_running_run(child_home, code):
    run = _run(code, "sleepy")
    proc = _worker(child_home, code, run.run_id)
    _wait_for(lambda: selectors.events_after(run_id=run.run_id, event_types=["STEP_INPUT"]))
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_CANCELING")])
    code_, out, err = _finish(proc, timeout=30)
    assert code_ == 1, err
    assert (code / "marks" / "slow-stopped").exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED


WEB_STACK_DEFS = textwrap.dedent(
    """
    import json
    import os
    import sys
    import orchestra as dg

    @dg.op
    def report():
        loaded = sorted({m.split(".")[0] for m in sys.modules} & {"graphene", "graphene_django", "ninja", "celery"})
        admin = "django.contrib.admin" in sys.modules
        runs = len(dg.DagsterInstance.get().get_runs())  # the storage-backed instance, in the worker's settings
        with open(os.path.join(os.environ["TEST_MARKS"], "modules.json"), "w") as f:
            json.dump({"loaded": loaded, "admin": admin, "runs": runs,
                       "settings": os.environ["DJANGO_SETTINGS_MODULE"]}, f)

    @dg.job
    def report_job():
        report()

    defs = dg.Definitions(jobs=[report_job])
    """
)


@pytest.mark.django_db(transaction=True)
def test_the_worker_starts_without_the_web_stack_or_celery(child_home, code):
    # What keeps a run's start short: the worker settings load the ORM and Orchestra's apps only.
    (code / "code" / "defs.py").write_text(WEB_STACK_DEFS)
    run = _run(code, "report_job")
    code_, out, err = _finish(_worker(child_home, code, run.run_id))
    assert code_ == 0, err
    report = json.loads((code / "marks" / "modules.json").read_text())
    assert report == {"loaded": [], "admin": False, "runs": report["runs"],
                      "settings": "orchestra_site.settings_worker"}
    assert report["runs"] >= 1
