"""Fault scenario: a code location server is SIGKILLed (issue #12, invariant 6).

`orchestra workspace load --serve` runs as a real process (the supervisor) on the test database. Its
code server is killed; while it is down, launches still succeed — `run_submit` validates against
the stored snapshot and the run worker loads the code itself — and never answer
PipelineNotFoundError/JobNotFound. The supervisor restarts the server with no operator, and the
location is LOADED again with the new server's pid.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from django.utils import timezone

from runs import services
from runs.models import EventLogEntry, Run, RunStatus
from tests.faults.processes import Process, record_figure
from tests.runs.locations import DEFS, store_location, wait_finished, wait_for
from tests.runs.test_schema_mutations import LAUNCH_RUN, params
from workspace.models import CodeLocation, LocationStatus


def _server_pid() -> int | None:
    location = CodeLocation.objects.filter(name="faults").first()
    if location is None or location.status != LocationStatus.LOADED:
        return None
    return (location.server or {}).get("pid")


@pytest.mark.django_db(transaction=True)
def test_a_killed_code_server_is_restarted_and_launches_succeed_meanwhile(child_home, tmp_path, settings):
    settings.ORCHESTRA_HOME = child_home  # run workers started by the launcher here use the test database
    code = tmp_path / "code"
    code.mkdir()
    (code / "launch_defs.py").write_text(DEFS.read_text())
    (code / "workspace.yaml").write_text(
        "load_from:\n  - python_file: {relative_path: launch_defs.py, location_name: faults}\n")
    supervisor = Process(child_home, [sys.executable, "-m", "orchestra", "workspace", "load", "--serve",
                                      "-w", str(code / "workspace.yaml")], tmp_path / "supervisor.log").start()
    try:
        pid = wait_for(_server_pid, 90, "the location loaded")
        os.kill(pid, signal.SIGKILL)
        killed_at, killed_mono = timezone.now(), time.monotonic()

        # Down (or coming back): the stored snapshot still validates launches, and the run worker runs it.
        runs = [services.run_submit(job_name="chain", location_name="faults") for _ in range(3)]
        new_pid = wait_for(lambda: (p := _server_pid()) and p != pid and p, 30,
                           f"the location reloaded with a new server: {supervisor.output()}")
        reloaded = time.monotonic() - killed_mono  # polled every 50 ms
        assert new_pid != pid
        runs.append(services.run_submit(job_name="chain", location_name="faults"))
        for run in runs:
            assert wait_finished(run.run_id, 120).status == RunStatus.SUCCESS, list(
                EventLogEntry.objects.filter(run_id=run.run_id).values_list("event_type", "message"))
        location = CodeLocation.objects.get(name="faults")
        first_success = min(Run.objects.filter(status=RunStatus.SUCCESS).values_list("ended_at", flat=True))
        stored = Run.objects.count()
        record_figure("code server killed", runs=len(runs), lost=max(0, len(runs) - stored),
                      duplicated=max(0, stored - len(runs)), code_server_killed_to_loaded_s=reloaded,
                      code_server_killed_to_successful_launch_s=(first_success - killed_at).total_seconds())
        assert location.status == LocationStatus.LOADED and location.server["restarts"] >= 1
        assert Run.objects.count() == 4
    finally:
        supervisor.stop()


@pytest.mark.django_db(transaction=True)
def test_a_location_restarting_keeps_serving_launches_and_one_not_loaded_answers_unavailable(client, tmp_path):
    """While a location's servers restart (LOADING, its last snapshot kept) launches validate against the
    stored snapshot; a location with no snapshot (ERROR) answers "unavailable" — a GraphQL PythonError and
    REST 503 — never PipelineNotFoundError / 404, since its jobs may well exist."""
    store_location(tmp_path)
    CodeLocation.objects.filter(name="launch_defs").update(status=LocationStatus.LOADING)
    assert services.run_submit(job_name="chain", location_name="launch_defs").job_name == "chain"

    CodeLocation.objects.filter(name="launch_defs").update(status=LocationStatus.ERROR, snapshot=None, snapshot_id="")
    variables = params(job="chain", location="launch_defs", run_config={})
    result = client.post("/graphql", {"query": LAUNCH_RUN, "variables": variables},
                         content_type="application/json").json()["data"]["launchRun"]
    assert result["__typename"] == "PythonError" and "is unavailable" in result["message"], result
    response = client.post("/api/runs", {"job_name": "chain", "location_name": "launch_defs"},
                           content_type="application/json")
    assert response.status_code == 503 and "is unavailable" in response.json()["detail"], response.content
    assert Run.objects.count() == 1
