"""`orchestra job list|execute|launch` as a user runs them: real processes against the test database."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from runs import selectors
from runs.models import Run, RunStatus
from tests.conftest import REPO, child_env
from tests.workspace.stored import store_location

DEFS = '''
import orchestra as dg


@dg.op(config_schema={"n": int})
def emit(context):
    return context.op_config["n"]


@dg.op
def double(value):
    if value < 0:
        raise Exception("negative")
    return 2 * value


@dg.job(description="Emit a number and double it.")
def etl():
    double(emit())


@dg.asset
def raw():
    return 1


defs = dg.Definitions(jobs=[etl], assets=[raw])
'''


def orchestra(home, *args, cwd=REPO, stdin=None):
    env = child_env(home)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-c", "from orchestra._cli import main; main()", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, input=stdin,
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "defs.py").write_text(DEFS)
    (tmp_path / "good.yaml").write_text("ops:\n  emit:\n    config:\n      n: 3\n")
    (tmp_path / "negative.yaml").write_text("ops:\n  emit:\n    config:\n      n: -3\n")
    (tmp_path / "broken.yaml").write_text("ops: [\n")
    (tmp_path / "workspace.yaml").write_text(f"load_from:\n  - python_file: {tmp_path / 'defs.py'}\n")
    return tmp_path


def test_job_list_prints_each_job_with_its_ops_as_dagster_does(tmp_path, project):
    result = orchestra(tmp_path, "job", "list", "-f", str(project / "defs.py"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Repository __repository__",
        "*************************",
        "Job: etl",
        "Description:",
        "    Emit a number and double it.",
        "Ops: (Execution Order)",
        "    emit",
        "    double",
        "****************",
        "Job: __ASSET_JOB",
        "Ops: (Execution Order)",
        "    raw",
    ]
    from_workspace = orchestra(tmp_path, "job", "list", "-w", str(project / "workspace.yaml"))
    assert from_workspace.returncode == 0, from_workspace.stderr
    assert from_workspace.stdout == result.stdout
    found_in_cwd = orchestra(tmp_path, "job", "list", cwd=project)
    assert found_in_cwd.stdout == result.stdout


@pytest.mark.django_db(transaction=True)
def test_job_execute_runs_in_process_records_the_run_and_prints_events(child_home, project):
    result = orchestra(child_home, "job", "execute", "-f", str(project / "defs.py"), "-j", "etl",
                       "-c", str(project / "good.yaml"), "--tags", '{"team": "data"}')
    assert result.returncode == 0, result.stderr
    assert "STEP_SUCCESS" in result.stderr and "RUN_SUCCESS" in result.stderr
    [run] = Run.objects.all()
    assert run.status == RunStatus.SUCCESS and run.job_name == "etl"
    assert run.run_config == {"ops": {"emit": {"config": {"n": 3}}}}
    assert selectors.run_tags(selectors.run_get(run_id=run.run_id))["team"] == "data"


@pytest.mark.django_db(transaction=True)
def test_job_execute_exits_1_when_the_run_fails(child_home, project):
    result = orchestra(child_home, "job", "execute", "-f", str(project / "defs.py"), "-j", "etl",
                       "-c", str(project / "negative.yaml"))
    assert result.returncode == 1
    [run] = Run.objects.all()
    assert run.status == RunStatus.FAILURE
    assert result.stderr.splitlines()[-1] == f"Error: Run {run.run_id} resulted in failure."


@pytest.mark.parametrize(("args", "message"), [
    (["-f", "{p}/missing.py", "-j", "etl"], "Error: python file '{p}/missing.py' not found"),
    (["-f", "{p}/defs.py", "-j", "nope"], "Error: Job \"nope\" not found. Found ['__ASSET_JOB', 'etl'] instead."),
    (["-f", "{p}/defs.py", "-j", "etl", "-c", "{p}/broken.yaml"],
     "Error: config file '{p}/broken.yaml' is not valid YAML (line 2, column 1): expected the node content, but found '<stream end>'"),
    (["-f", "{p}/defs.py", "-j", "etl", "-c", "{p}/none.yaml"], "Error: config file '{p}/none.yaml' not found"),
    (["-f", "{p}/defs.py", "-j", "etl"], "Error: invalid run config for job 'etl': Missing required config entry \"ops\""),
])
def test_bad_input_is_one_line_naming_it_and_exit_2(tmp_path, project, args, message):
    result = orchestra(tmp_path, "job", "execute", *[a.format(p=project) for a in args])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(message.format(p=project))


def test_bad_tags_are_a_usage_error(tmp_path, project):
    result = orchestra(tmp_path, "job", "execute", "-f", str(project / "defs.py"), "-j", "etl", "--tags", "{bad")
    assert result.returncode == 2
    assert "Invalid JSON-string given for `--tags`: {bad" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db(transaction=True)
def test_job_launch_submits_through_the_coordinator_and_launcher_and_prints_the_run_id(child_home, project):
    store_location(project, name="loc", source=DEFS)
    result = orchestra(child_home, "job", "launch", "-j", "etl", "-l", "loc", "-c", str(project / "good.yaml"),
                       "--tags", '{"who": "cli"}')
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip()
    run = selectors.run_get(run_id=run_id)
    assert run.location_name == "loc"
    assert selectors.run_tags(run)["who"] == "cli"
    deadline = time.monotonic() + 60  # the subprocess launcher's run worker finishes the run
    while run.status not in (RunStatus.SUCCESS, RunStatus.FAILURE) and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    assert run.status == RunStatus.SUCCESS


@pytest.mark.django_db(transaction=True)
def test_job_launch_refuses_bad_config_and_unknown_jobs_with_the_reason(child_home, project):
    store_location(project, name="loc", source=DEFS)
    bad = orchestra(child_home, "job", "launch", "-j", "etl", "-l", "loc", "--config-json", '{"ops": {"emit": {}}}')
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == "Error: invalid run config for job 'etl':"
    assert "ops.emit" in bad.stderr and "Traceback" not in bad.stderr
    unknown = orchestra(child_home, "job", "launch", "-j", "nope", "-l", "loc")
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr and "Traceback" not in unknown.stderr
    assert not Run.objects.exists()
