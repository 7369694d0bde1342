"""Dagster's own GraphQL client against a real webserver process (uvicorn) on the test database."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from runs import services
from runs.services import EventInput
from tests.conftest import REPO, child_env
from tests.workspace.stored import DEFS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def webserver(child_home):
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "orchestra_site.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=child_env(child_home),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"webserver did not start: {proc.communicate(timeout=10)[1]}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::DeprecationWarning:gql")  # raised inside Dagster's client, not ours
def test_dagster_graphql_client_reads_run_status_from_a_real_webserver(webserver):
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    run = services.run_create(job_name="etl", tags={"owner": "data"})
    services.event_store(run_id=run.run_id, events=[EventInput("RUN_START"), EventInput("RUN_SUCCESS")])
    client = DagsterGraphQLClient("127.0.0.1", port_number=webserver)

    assert client.get_run_status(run.run_id) == DagsterRunStatus.SUCCESS
    with pytest.raises(DagsterGraphQLClientError) as excinfo:
        client.get_run_status("no-such-run")
    assert excinfo.value.args[0] == "RunNotFoundError"


# --- launching, terminating and reloading through a real webserver, run workers and code server -------

E2E_DEFS = DEFS + '''

@dg.op
def nap():
    import time

    time.sleep(60)


@dg.job
def slow():
    nap()


defs = dg.Definitions(assets=[raw, clean], jobs=[etl, plain, slow], schedules=[hourly], sensors=[watcher])
'''


@pytest.fixture
def served_location(tmp_path):
    """The location `data`, its code server run by a supervisor in this process (which serves reloads)."""
    from workspace.config import load_workspace_file
    from workspace.models import CodeLocation, LocationStatus
    from workspace.services import workspace_start

    workdir = tmp_path / "code"
    workdir.mkdir()
    (workdir / "defs.py").write_text(E2E_DEFS)
    (workdir / "workspace.yaml").write_text("load_from:\n  - python_file: {relative_path: defs.py, location_name: data}\n")
    supervisor = workspace_start(entries=load_workspace_file(workdir / "workspace.yaml"), startup_timeout=60)
    try:
        assert CodeLocation.objects.get(name="data").status == LocationStatus.LOADED
        yield supervisor
    finally:
        supervisor.stop()


def _wait_for_status(client, run_id: str, statuses: set, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while True:
        status = client.get_run_status(run_id)
        if status in statuses or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::DeprecationWarning:gql")
@pytest.mark.filterwarnings("ignore:Function `DagsterGraphQLClient.shutdown_repository_location` is deprecated")
def test_dagster_graphql_client_launches_terminates_and_reloads_against_orchestra(webserver, served_location):
    from dagster import DagsterRunStatus
    from dagster_graphql import (
        DagsterGraphQLClient,
        DagsterGraphQLClientError,
        ReloadRepositoryLocationStatus,
        ShutdownRepositoryLocationStatus,
    )

    from runs.models import Run

    finished = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    client = DagsterGraphQLClient("127.0.0.1", port_number=webserver)
    config = {"ops": {"emit": {"config": {"n": 21}}}}

    # The client finds the job's location itself (one location has it), then launches: a real run worker runs it.
    run_id = client.submit_job_execution("etl", run_config=config, tags={"owner": "e2e"})
    assert _wait_for_status(client, run_id, finished) == DagsterRunStatus.SUCCESS
    run = Run.objects.get(run_id=run_id)
    assert run.location_name == "data" and run.tags.get(key="owner").value == "e2e"

    subset = client.submit_job_execution("etl", repository_location_name="data", repository_name="__repository__",
                                         run_config=config, op_selection=["emit"])
    assert _wait_for_status(client, subset, finished) == DagsterRunStatus.SUCCESS
    assert Run.objects.get(run_id=subset).op_selection == ["emit"]

    assets = client.submit_job_execution("__ASSET_JOB", asset_selection=[["raw"]])
    assert _wait_for_status(client, assets, finished) == DagsterRunStatus.SUCCESS
    assert Run.objects.get(run_id=assets).asset_selection == [["raw"]]

    with pytest.raises(DagsterGraphQLClientError) as bad:
        client.submit_job_execution("etl", run_config={"ops": {"emit": {"config": {"n": "many"}}}})
    assert bad.value.args[0] == "RunConfigValidationInvalid"
    assert [e["reason"] for e in bad.value.args[1]] == ["RUNTIME_TYPE_MISMATCH"]
    with pytest.raises(DagsterGraphQLClientError):
        client.submit_job_execution("no_such_job")

    # Terminate reaches the run worker, which writes RUN_CANCELED.
    slow_id = client.submit_job_execution("slow")
    assert _wait_for_status(client, slow_id, {DagsterRunStatus.STARTED} | finished) == DagsterRunStatus.STARTED
    client.terminate_run(slow_id)
    assert _wait_for_status(client, slow_id, finished) == DagsterRunStatus.CANCELED
    with pytest.raises(DagsterGraphQLClientError) as gone:
        client.terminate_run("no-such-run")
    assert gone.value.args[0] == "RunNotFoundError"

    slow_ids = [client.submit_job_execution("slow") for _ in range(2)]
    client.terminate_runs(slow_ids)
    assert {_wait_for_status(client, r, finished) for r in slow_ids} == {DagsterRunStatus.CANCELED}
    with pytest.raises(DagsterGraphQLClientError) as partly:
        client.terminate_runs([run_id, "no-such-run"])  # one finished, one unknown: both fail
    assert partly.value.args[0] == "TerminateRunsError"

    # Reload restarts the code server (the supervisor here serves the request) and answers the new state.
    pid = served_location.servers["data"].process.pid
    reloaded = client.reload_repository_location("data")
    assert reloaded.status == ReloadRepositoryLocationStatus.SUCCESS, reloaded.message
    assert served_location.servers["data"].process.pid != pid
    missing = client.reload_repository_location("nope")
    assert missing.status == ReloadRepositoryLocationStatus.FAILURE and missing.failure_type == "RepositoryLocationNotFound"

    shutdown = client.shutdown_repository_location("data")
    assert shutdown.status == ShutdownRepositoryLocationStatus.SUCCESS
