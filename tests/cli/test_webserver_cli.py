"""`orchestra webserver` replicas as real processes on one database: any replica serves any request."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO, child_env
from tests.e2e.test_dev_flow import free_port, graphql, health, wait_for_status

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gql")  # raised inside Dagster's client


def orchestra(home, *args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "orchestra", *args], env=child_env(home), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.stdout.read().decode(errors="replace")


def wait_healthy(proc: subprocess.Popen, port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while health(port) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"webserver on {port} did not start:\n{stop(proc)}")
        time.sleep(0.3)


@pytest.mark.django_db(transaction=True)
def test_two_replicas_serve_the_same_deployment(child_home, tmp_path):
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

    example = importlib.util.find_spec("orchestra._examples.quickstart").origin
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(f"load_from:\n  - python_file:\n      relative_path: {json.dumps(example)}\n"
                         "      location_name: quickstart\n")
    loaded = subprocess.run([sys.executable, "-m", "orchestra", "workspace", "load", "-w", str(workspace)],
                            env=child_env(child_home), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr

    port_a, port_b = free_port(), free_port()
    replica_a = orchestra(child_home, "webserver", "-p", str(port_a))
    replica_b = orchestra(child_home, "webserver", "--port", str(port_b), "--workers", "2")
    try:
        wait_healthy(replica_a, port_a)
        wait_healthy(replica_b, port_b)
        for port in (port_a, port_b):
            assert json.loads(health(port)) == {"status": "ok", "database": "ok"}
            assert graphql(port, "{ version }")["data"]["version"]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/admin/css/base.css", timeout=5) as css:
                assert css.status == 200 and b"body" in css.read()

        run_id = DagsterGraphQLClient("127.0.0.1", port_number=port_a).submit_job_execution(
            "hello_job", repository_location_name="quickstart", repository_name="__repository__")
        on_b = DagsterGraphQLClient("127.0.0.1", port_number=port_b)
        assert wait_for_status(on_b, run_id, {DagsterRunStatus.SUCCESS}) == DagsterRunStatus.SUCCESS
        runs = graphql(port_b, '{ runsOrError { ... on Runs { results { runId jobName status } } } }')
        assert {"runId": run_id, "jobName": "hello_job", "status": "SUCCESS"} in runs["data"]["runsOrError"]["results"]
    finally:
        out_a, out_b = stop(replica_a), stop(replica_b)
    assert "Orchestra webserver at" in out_a and "2 workers" in out_b
    # uvicorn ends a single-process server by re-raising the SIGTERM it handled, after a clean shutdown.
    assert replica_a.returncode in (0, -signal.SIGTERM) and replica_b.returncode == 0, out_a + out_b
    assert "Traceback" not in out_a + out_b and "StreamingHttpResponse" not in out_a + out_b


def test_webserver_refuses_a_database_that_needs_migrating(tmp_path):
    proc = orchestra(tmp_path / "new-home", "webserver", "-p", str(free_port()))
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 2
    assert "needs migrating: run `orchestra instance migrate` first" in output
    assert "Traceback" not in output


def test_the_default_worker_count_is_web_concurrency_else_one_per_cpu_up_to_four(monkeypatch):
    from orchestra._cli.webserver import default_workers

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert default_workers() == 3
    monkeypatch.delenv("WEB_CONCURRENCY")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert default_workers() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert default_workers() == 4
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_workers() == 1
