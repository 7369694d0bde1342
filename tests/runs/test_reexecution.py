"""`run_reexecute`: a new run from a finished one, executed by a real run worker (`orchestra api execute-run`)."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from core.exceptions import Conflict, InvalidInput, NotFound
from runs import selectors, services
from runs.models import RunStatus
from runs.reexecution import run_reexecute
from runs.services import EventInput
from tests.conftest import REPO, child_env, require_service
from tests.runs.holding_launcher import HoldingLauncher, use_holding_launcher
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)

DEFS = '''
import os
import orchestra as dg
from tests import reexecution_ops
from tests.reexecution_ops import chain_graph, dynamic_graph

MARKS = {marks!r}
reexecution_ops.MARKS[:] = [MARKS]

chain = chain_graph.to_job(name="chain", tags={{"team": "data"}})
chain_celery = chain_graph.to_job(name="chain_celery", executor_def=dg.celery_executor)
dynamic = dynamic_graph.to_job(name="dynamic")


@dg.asset
def up():
    return 1


@dg.asset
def down(up):
    if os.path.exists(os.path.join(MARKS, "fail_down")):
        raise Exception("down failed")
    return up + 1


assets_job = dg.define_asset_job("assets_job", selection=[up, down])

defs = dg.Definitions(jobs=[chain, chain_celery, dynamic, assets_job], assets=[up, down])
'''

IN_PROCESS = {"execution": {"config": {"in_process": {}}}}


@pytest.fixture
def code(tmp_path, settings):
    use_holding_launcher(settings)
    marks = tmp_path / "marks"
    marks.mkdir()
    store_location(tmp_path, name="loc", source=DEFS.format(marks=str(marks)))
    return marks


def _execute(home, run_id):
    """Run the stored run in a real run worker process, as the subprocess launcher would."""
    proc = subprocess.run(
        [sys.executable, "-c", "from orchestra._cli import main; main()", "api", "execute-run", run_id],
        env=child_env(home), cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    return proc


@pytest.fixture
def steps_worker(child_home, code):
    """A real Celery worker on the `steps` queue, in its own process group."""
    if settings.CELERY_BROKER_URL.startswith("redis"):
        require_service("Redis", "127.0.0.1", 6379)
    log = open(code / "steps-worker.log", "w")  # noqa: SIM115 - closed after the worker stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orchestra_site", "worker", "-Q", "steps", "-c", "1", "-l", "warning",
         "-n", f"steps-{uuid.uuid4().hex[:8]}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=child_env(child_home), cwd=REPO, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )
    yield proc
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    log.close()


def _started_steps(run_id):
    return [e.step_key for e in selectors.events_after(run_id=run_id, limit=10_000, event_types=["STEP_START"])]


def _failed_parent(home, marks, job="chain", mark="fail_b", run_config=None):
    (marks / mark).touch()
    parent = services.run_submit(job_name=job, location_name="loc", run_config=run_config, tags={"who": "me"})
    assert HoldingLauncher.launched[-1] == parent.run_id
    proc = _execute(home, parent.run_id)
    assert proc.returncode == 1, proc.stderr
    (marks / mark).unlink()
    parent.refresh_from_db()
    assert parent.status == RunStatus.FAILURE
    return parent


def test_from_failure_runs_the_failed_step_and_downstream_in_a_run_worker_loading_upstream_from_the_parent(child_home, code):
    parent = _failed_parent(child_home, code)  # the job's default executor: multiprocess, one child per step
    assert sorted(_started_steps(parent.run_id)) == ["a", "b", "d"]

    child = run_reexecute(parent_run_id=parent.run_id, strategy="FROM_FAILURE")

    assert child.step_keys_to_execute == ["b", "c"]
    assert (child.parent_run_id, child.root_run_id) == (parent.run_id, parent.run_id)
    tags = selectors.run_tags(selectors.run_get(run_id=child.run_id))
    assert tags["dagster/parent_run_id"] == parent.run_id
    assert tags["dagster/root_run_id"] == parent.run_id
    assert tags["dagster/is_resume_retry"] == "true"
    assert tags["who"] == "me" and tags["team"] == "data"  # the parent's tags are kept, as Dagster's UI does
    assert HoldingLauncher.launched[-1] == child.run_id

    proc = _execute(child_home, child.run_id)
    assert proc.returncode == 0, proc.stderr
    child.refresh_from_db()
    assert child.status == RunStatus.SUCCESS
    assert _started_steps(child.run_id) == ["b", "c"]
    [loaded] = selectors.events_after(run_id=child.run_id, event_types=["LOADED_INPUT"], limit=100)[:1]
    assert loaded.step_key == "b"
    assert loaded.message == 'Loaded input "x" using input manager "io_manager", from output "result" of step "a"'
    # fs_io_manager layout: <storage>/<run id>/<step>/<output>; `a` was read from the parent's directory
    storage = child_home / "storage"
    assert {"a", "d"} <= {p.name for p in (storage / parent.run_id).iterdir()}
    assert (storage / child.run_id / "c" / "result").exists()
    assert not (storage / child.run_id / "a").exists()
    assert pickle.loads((storage / child.run_id / "c" / "result").read_bytes()) == 20

    # a re-execution of the re-execution keeps the root
    again = run_reexecute(parent_run_id=child.run_id, strategy="ALL_STEPS")
    grandchild_tags = selectors.run_tags(selectors.run_get(run_id=again.run_id))
    assert (again.parent_run_id, again.root_run_id) == (child.run_id, parent.run_id)
    assert grandchild_tags["dagster/root_run_id"] == parent.run_id
    assert "dagster/is_resume_retry" not in grandchild_tags
    assert again.step_keys_to_execute is None


def test_from_failure_with_the_celery_executor_loads_upstream_from_the_parent_in_the_step_task(child_home, code, steps_worker):
    parent = _failed_parent(child_home, code, job="chain_celery")
    child = run_reexecute(parent_run_id=parent.run_id)
    assert child.step_keys_to_execute == ["b", "c"]
    proc = _execute(child_home, child.run_id)
    assert proc.returncode == 0, proc.stderr + (code / "steps-worker.log").read_text()
    assert _started_steps(child.run_id) == ["b", "c"]
    storage = child_home / "storage"
    assert pickle.loads((storage / child.run_id / "c" / "result").read_bytes()) == 20


def test_all_steps_runs_every_step(child_home, code):
    parent = _failed_parent(child_home, code, run_config=IN_PROCESS)
    child = run_reexecute(parent_run_id=parent.run_id, strategy="ALL_STEPS")
    assert child.step_keys_to_execute is None
    assert child.run_config == IN_PROCESS
    proc = _execute(child_home, child.run_id)
    assert proc.returncode == 0, proc.stderr
    assert sorted(_started_steps(child.run_id)) == ["a", "b", "c", "d"]


def test_dynamic_from_failure_reruns_only_the_failed_mapping_key_and_the_collector(child_home, code):
    parent = _failed_parent(child_home, code, job="dynamic", mark="fail_y", run_config=IN_PROCESS)
    child = run_reexecute(parent_run_id=parent.run_id)
    assert child.step_keys_to_execute == ["each[y]", "gather"]
    proc = _execute(child_home, child.run_id)
    assert proc.returncode == 0, proc.stderr
    assert _started_steps(child.run_id) == ["each[y]", "gather"]
    storage = child_home / "storage"
    assert pickle.loads((storage / child.run_id / "gather" / "result").read_bytes()) == "XYZ"


def test_from_asset_failure_selects_the_assets_not_materialized(child_home, code):
    parent = _failed_parent(child_home, code, job="assets_job", mark="fail_down", run_config=IN_PROCESS)
    child = run_reexecute(parent_run_id=parent.run_id, strategy="FROM_ASSET_FAILURE")
    assert child.asset_selection == [["down"]]
    tags = selectors.run_tags(selectors.run_get(run_id=child.run_id))
    assert tags["dagster/is_asset_resume_retry"] == "true"
    proc = _execute(child_home, child.run_id)
    assert proc.returncode == 0, proc.stderr
    assert _started_steps(child.run_id) == ["down"]


def test_nothing_to_reexecute_is_invalid_input(child_home, code):
    parent = services.run_submit(job_name="chain", location_name="loc", run_config=IN_PROCESS)
    assert _execute(child_home, parent.run_id).returncode == 0
    with pytest.raises(InvalidInput, match="only a failed or canceled run can be re-executed from failure"):
        run_reexecute(parent_run_id=parent.run_id, strategy="FROM_FAILURE")
    with pytest.raises(InvalidInput, match="no assets or asset checks"):
        run_reexecute(parent_run_id=parent.run_id, strategy="FROM_ASSET_FAILURE")
    with pytest.raises(InvalidInput, match="strategy must be one of"):
        run_reexecute(parent_run_id=parent.run_id, strategy="SOME_STEPS")


def test_unknown_run_is_not_found_and_an_unfinished_run_is_a_conflict(code):
    with pytest.raises(NotFound):
        run_reexecute(parent_run_id="no-such-run")
    running = services.run_submit(job_name="chain", location_name="loc")
    services.event_store(run_id=running.run_id, events=[EventInput(event_type="RUN_START")])
    with pytest.raises(Conflict, match="only a finished run"):
        run_reexecute(parent_run_id=running.run_id)


def _stored_failed_run(op_selection=None):
    """A failed run of `chain` whose `a` succeeded and `b` failed, recorded without executing it."""
    parent = services.run_create(job_name="chain", location_name="loc", op_selection=op_selection)
    services.event_store(run_id=parent.run_id, events=[
        EventInput(event_type="RUN_STARTING"), EventInput(event_type="RUN_START"),
        EventInput(event_type="STEP_START", step_key="a"), EventInput(event_type="STEP_SUCCESS", step_key="a"),
        EventInput(event_type="STEP_START", step_key="b"), EventInput(event_type="STEP_FAILURE", step_key="b"),
        EventInput(event_type="RUN_FAILURE"),
    ])
    return parent


def test_from_failure_includes_steps_that_never_ran_but_not_those_outside_the_op_selection(code):
    everything = run_reexecute(parent_run_id=_stored_failed_run().run_id)
    assert everything.step_keys_to_execute == ["d", "b", "c"]  # `d` never ran (plan order)
    selected = run_reexecute(parent_run_id=_stored_failed_run(op_selection=["*c"]).run_id)
    assert selected.step_keys_to_execute == ["b", "c"]
    assert selected.op_selection == ["*c"]
