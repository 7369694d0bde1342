"""`orchestra run list|show|logs|delete|wipe|reexecute` in real processes against the test database."""

from __future__ import annotations

import getpass
import subprocess
import sys

import pytest

from core.models import AuditEntry
from runs import selectors, services
from runs.models import Run
from runs.services import EventInput
from tests.cli.test_job_cli import orchestra
from tests.conftest import REPO, child_env
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)

CHAIN = '''
import orchestra as dg


@dg.op
def a():
    return 1


@dg.op
def b(x):
    return x + 1


@dg.op
def c(y):
    return y * 10


@dg.job
def chain():
    c(b(a()))


defs = dg.Definitions(jobs=[chain])
'''


def _run(job_name="etl", events=("RUN_STARTING", "RUN_START", "RUN_SUCCESS"), **kwargs):
    run = services.run_create(job_name=job_name, **kwargs)
    services.event_store(run_id=run.run_id, events=[EventInput(event_type=t, message=f"{t} happened") for t in events])
    return run


@pytest.fixture
def holding_child_home(child_home):
    """The child processes' instance launches nothing (runs stay STARTING), so a test leaves no worker behind."""
    with open(child_home / "orchestra.yaml", "a") as file:
        file.write("run_launcher:\n  module: tests.runs.holding_launcher\n  class: HoldingLauncher\n")
    return child_home


def test_run_list_prints_runs_newest_first_as_dagster_does(child_home):
    first = _run("etl")
    second = _run("other", events=("RUN_STARTING", "RUN_START", "RUN_FAILURE"))
    result = orchestra(child_home, "run", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Run: {second.run_id}", "     Job: other", f"Run: {first.run_id}", "     Job: etl",
    ]
    assert orchestra(child_home, "run", "list", "--limit", "1").stdout.splitlines() == [
        f"Run: {second.run_id}", "     Job: other",
    ]
    assert orchestra(child_home, "run", "list", "--status", "success").stdout.split()[1] == first.run_id
    assert orchestra(child_home, "run", "list", "--job", "other").stdout.split()[1] == second.run_id
    bad = orchestra(child_home, "run", "list", "--status", "DONE")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_run_show_prints_the_run_and_unknown_runs_are_one_line(child_home):
    run = _run("etl", tags={"team": "data"}, run_config={"ops": {"a": {"config": {"n": 1}}}})
    result = orchestra(child_home, "run", "show", run.run_id)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"Run:            {run.run_id}", "Job:            etl", "Status:         SUCCESS"]
    assert "    team: data" in lines
    assert "    ops:" in lines
    unknown = orchestra(child_home, "run", "show", "nope")
    assert (unknown.returncode, unknown.stderr) == (1, "Error: No run found with id nope.\n")


def test_run_logs_prints_the_event_log_and_follow_stops_when_the_run_ends(child_home):
    done = _run("etl")
    result = orchestra(child_home, "run", "logs", done.run_id)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" - ")[3] for line in lines] == ["RUN_STARTING", "RUN_START", "RUN_SUCCESS"]
    assert lines[1].endswith(f"etl - {done.run_id} - RUN_START - RUN_START happened")

    running = _run("etl", events=("RUN_STARTING", "RUN_START"))
    env = child_env(child_home)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    follower = subprocess.Popen(
        [sys.executable, "-c", "from orchestra._cli import main; main()", "run", "logs", running.run_id, "--follow",
         "--interval", "0.1"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    first = follower.stdout.readline()  # it printed what is there and is waiting for more
    assert "RUN_STARTING" in first
    assert follower.poll() is None
    services.event_store(run_id=running.run_id, events=[EventInput(event_type="RUN_SUCCESS", message="done")])
    out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    assert out.splitlines()[-1].endswith("RUN_SUCCESS - done")


def test_run_delete_asks_for_confirmation_like_dagster(child_home):
    run = _run("etl")
    refused = orchestra(child_home, "run", "delete", run.run_id, stdin="no\n")
    assert refused.returncode == 1
    assert "Type DELETE." in refused.stdout
    assert refused.stderr == "Error: Exiting without deleting run.\n"
    assert Run.objects.filter(run_id=run.run_id).exists()
    confirmed = orchestra(child_home, "run", "delete", run.run_id, stdin="DELETE\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert confirmed.stdout.endswith(f"Type DELETE.: Deleted run {run.run_id} and its event log entries.\n")
    assert not Run.objects.filter(run_id=run.run_id).exists()
    # The audit log names the operating-system user who ran the command; the refused attempt left nothing.
    [entry] = AuditEntry.objects.filter(action="run.delete")
    assert (entry.actor_kind, entry.actor_name, entry.target_id) == ("user", getpass.getuser(), run.run_id)
    other = _run("etl")
    assert orchestra(child_home, "run", "delete", "-f", other.run_id).returncode == 0
    assert not Run.objects.exists()
    unknown = orchestra(child_home, "run", "delete", "-f", "nope")
    assert (unknown.returncode, unknown.stderr) == (1, "Error: No run found with id nope.\n")


def test_run_wipe_asks_then_deletes_every_run(child_home):
    _run("etl")
    _run("other")
    refused = orchestra(child_home, "run", "wipe", stdin="\n")
    assert refused.returncode == 1
    assert refused.stderr == "Error: Exiting without deleting all run history and event logs.\n"
    assert Run.objects.count() == 2
    wiped = orchestra(child_home, "run", "wipe", "--force")
    assert wiped.returncode == 0, wiped.stderr
    assert wiped.stdout == "Deleted all run history and event logs.\n"
    assert not Run.objects.exists()


def test_run_reexecute_from_failure_submits_the_failed_steps(holding_child_home, tmp_path):
    store_location(tmp_path, name="loc", source=CHAIN)
    parent = services.run_create(job_name="chain", location_name="loc", run_config={})
    services.event_store(run_id=parent.run_id, events=[
        EventInput(event_type="RUN_STARTING"), EventInput(event_type="RUN_START"),
        EventInput(event_type="STEP_START", step_key="a"), EventInput(event_type="STEP_SUCCESS", step_key="a"),
        EventInput(event_type="STEP_START", step_key="b"), EventInput(event_type="STEP_FAILURE", step_key="b"),
        EventInput(event_type="RUN_FAILURE"),
    ])
    result = orchestra(holding_child_home, "run", "reexecute", parent.run_id, "--from-failure", "--tags", '{"why": "retry"}')
    assert result.returncode == 0, result.stderr
    child = selectors.run_get(run_id=result.stdout.strip())
    assert child.step_keys_to_execute == ["b", "c"]
    tags = selectors.run_tags(child)
    assert (tags["dagster/parent_run_id"], tags["dagster/is_resume_retry"], tags["why"]) == (parent.run_id, "true", "retry")

    all_steps = orchestra(holding_child_home, "run", "reexecute", parent.run_id)
    assert all_steps.returncode == 0, all_steps.stderr
    assert selectors.run_get(run_id=all_steps.stdout.strip()).step_keys_to_execute is None

    succeeded = _run("chain", location_name="loc")
    nothing = orchestra(holding_child_home, "run", "reexecute", succeeded.run_id, "--from-failure")
    assert nothing.returncode == 2
    assert "only a failed or canceled run can be re-executed from failure" in nothing.stderr
    unknown = orchestra(holding_child_home, "run", "reexecute", "nope")
    assert (unknown.returncode, unknown.stderr) == (1, "Error: No run found with id nope.\n")
