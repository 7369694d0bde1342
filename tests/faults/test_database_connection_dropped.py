"""Fault scenario: the database drops a run worker's connections mid-run (issue #12, invariant 7).

PostgreSQL only (SQLite has no connection to drop): while a step of a real run worker runs, every
other backend on the test database is ended with `pg_terminate_backend`, as a database restart or a
proxy that cuts idle connections would. The worker reconnects and the run succeeds with every event
written exactly once: a write cut off by the drop is rolled back whole and written again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from core.faults import KILL_AT_ENV
from runs import selectors, services
from runs.models import Run, RunStatus
from runs.services import EventInput
from tests.conftest import REPO, child_env
from tests.runs.locations import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DEFS = textwrap.dedent(
    """
    import time
    import orchestra as dg

    @dg.op
    def first():
        return 1

    @dg.op
    def pause(value):
        time.sleep(3)
        return value + 1

    @dg.op
    def last(value):
        return value + 1

    @dg.job(executor_def=dg.in_process_executor)
    def paused():
        last(pause(first()))

    defs = dg.Definitions(jobs=[paused])
    """
)


def _terminate_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_run_worker_whose_connections_are_dropped_mid_step_reconnects_without_partial_writes(child_home, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a dropped database connection is a PostgreSQL fault (the PostgreSQL pass runs it)")
    (tmp_path / "defs.py").write_text(DEFS)
    run = services.run_create(job_name="paused", origin={"python_file": str(tmp_path / "defs.py"), "attribute": "defs"})
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    # An empty kill point kills nothing but makes the worker write each event at once, from its main
    # thread: the drop then hits the main thread's writes as well as the heartbeat thread's.
    env = {**child_env(child_home), "ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS": "0.2", KILL_AT_ENV: ""}
    worker = subprocess.Popen([sys.executable, "-m", "orchestra", "api", "execute-run", run.run_id], env=env,
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def pause_started() -> bool:
            starts = selectors.events_after(run_id=run.run_id, event_types=["STEP_START"])
            return worker.poll() is not None or (bool(starts) and starts[-1].step_key == "pause")

        wait_for(pause_started, 60, "the pause step started")
        assert worker.poll() is None, [e.message for e in selectors.events_after(run_id=run.run_id)]
        assert _terminate_other_backends() >= 1  # the worker's connections (main thread and heartbeat)
        dropped = timezone.now()
        output, _ = worker.communicate(timeout=120)
    finally:
        worker.kill()
    run = Run.objects.get(pk=run.pk)
    assert run.status == RunStatus.SUCCESS, output[-3000:]
    assert run.heartbeat_at > dropped, "the heartbeat did not come back (run monitoring would fail the run)"
    assert "lost while writing events; reconnected" in output  # the main thread's write was cut off
    events = selectors.events_after(run_id=run.run_id, limit=10_000)
    steps = Counter((e.event_type, e.step_key) for e in events if e.step_key)
    assert {key: n for key, n in steps.items() if n > 1 and key[0] is not None} == {}  # nothing written twice
    assert [steps[("STEP_SUCCESS", step)] for step in ("first", "pause", "last")] == [1, 1, 1]
    assert Counter(e.event_type for e in events)["RUN_SUCCESS"] == 1
