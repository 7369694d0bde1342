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
